//! Who may do what to a suggestion, and in which states: the permission rules of
//! shared/domain.md in one place, deny by default.

use crate::domain::SuggestionState::{self, *};
use crate::store::{
    ApiToken, AssignmentRole, AssignmentStatus, CosignStatus, Facts, Liaison, Member, Role, Staff, User,
};

/// Who asks.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Member(&'a Member),
    Staff(&'a Staff),
    Liaison(&'a Liaison),
    /// Someone logged in to the web console: admins and staff act as staff, department accounts
    /// as their department's liaison.
    User(&'a User),
    /// A department's system calling the HTTP API with the department's token.
    Token(&'a ApiToken),
    Unregistered,
}

/// In what capacity an actor acts; the rules below are written once per capacity.
enum Capacity {
    Staff,
    Member(i64),
    Department(i64),
    None,
}

impl Actor<'_> {
    fn capacity(&self) -> Capacity {
        match self {
            Actor::Staff(s) if s.active => Capacity::Staff,
            Actor::Member(m) if m.active => Capacity::Member(m.id),
            Actor::Liaison(l) if l.active => Capacity::Department(l.department_id),
            Actor::User(u) if u.active => match (u.role, u.department_id) {
                (Role::Admin | Role::Staff, _) => Capacity::Staff,
                (Role::Department, Some(d)) => Capacity::Department(d),
                (Role::Department, None) => Capacity::None,
            },
            Actor::Token(t) if t.revoked_at.is_none() => Capacity::Department(t.department_id),
            _ => Capacity::None,
        }
    }

    /// The department an actor answers for, if any.
    pub fn department_id(&self) -> Option<i64> {
        match self.capacity() {
            Capacity::Department(d) => Some(d),
            _ => None,
        }
    }

    /// How the timeline names the actor: a kind and an id.
    pub(super) fn timeline_name(&self) -> (&'static str, Option<i64>) {
        match self {
            Actor::Member(m) => ("member", Some(m.id)),
            Actor::Staff(s) => ("staff", Some(s.id)),
            Actor::Liaison(l) => ("department", Some(l.id)),
            Actor::User(u) if u.role == Role::Department => ("console_department", Some(u.id)),
            Actor::User(u) => ("console_staff", Some(u.id)),
            Actor::Token(t) => ("api_token", Some(t.id)),
            Actor::Unregistered => ("system", None),
        }
    }
}

pub use crate::domain::Act;

impl Act {
    pub const ALL: [Act; 24] = [
        Act::View,
        Act::Accept,
        Act::Reject,
        Act::Merge,
        Act::Assign,
        Act::Instruct,
        Act::Adopt,
        Act::Acknowledge,
        Act::Return,
        Act::Reply,
        Act::CoOpinion,
        Act::Rate,
        Act::Withdraw,
        Act::RecordRating,
        Act::ApproveReply,
        Act::ReclassifyReply,
        Act::ReturnReply,
        Act::Countersign,
        Act::ProposeChanges,
        Act::SendOn,
        Act::Cosign,
        Act::CoRate,
        Act::JoinCosign,
        Act::Key,
    ];
}

/// The permission rules of shared/domain.md. Everything not listed is refused.
pub fn permitted(actor: &Actor<'_>, act: Act, facts: &Facts) -> bool {
    // Acting for a member is done in the console, where the account that took it down is named.
    if act == Act::RecordRating && !matches!(actor, Actor::User(_)) {
        return false;
    }
    match actor.capacity() {
        Capacity::None => false,
        Capacity::Staff => {
            matches!(
                act,
                Act::View
                    | Act::Accept
                    | Act::Reject
                    | Act::Merge
                    | Act::Assign
                    | Act::Instruct
                    | Act::Adopt
                    | Act::RecordRating
                    | Act::ApproveReply
                    | Act::ReclassifyReply
                    | Act::ReturnReply
                    | Act::Key
            )
        }
        Capacity::Member(member_id) if member_id == facts.member_id => {
            matches!(act, Act::View | Act::Rate | Act::Withdraw)
        }
        // Someone invited to co-sign (联名): answers the invitation (the command refuses a second
        // answer or a closed invitation politely); once accepted, views and rates, nothing else.
        // Until then they see only the invitation.
        // Any other active member may ask to co-sign it instead of filing their own draft
        // (`JoinCosign`; the command checks the topic and that staff have not accepted it yet).
        Capacity::Member(member_id) => match facts.cosigner(member_id) {
            None => act == Act::JoinCosign,
            Some(c) => match act {
                Act::Cosign => true,
                Act::View | Act::CoRate => c.status == CosignStatus::Accepted,
                _ => false,
            },
        },
        Capacity::Department(department_id) => {
            let active = facts.active_assignment(department_id);
            match act {
                Act::View => facts
                    .assignments
                    .iter()
                    .any(|a| a.department_id == department_id && a.status != AssignmentStatus::Superseded),
                Act::Acknowledge | Act::Return => active.is_some(),
                Act::Reply | Act::SendOn => active.is_some_and(|a| a.role == AssignmentRole::Lead),
                // 会签: a co-department that already sent its view (answered) still countersigns.
                Act::Countersign | Act::ProposeChanges => facts.assignments.iter().any(|a| {
                    a.department_id == department_id
                        && a.role == AssignmentRole::Co
                        && matches!(a.status, AssignmentStatus::Active | AssignmentStatus::Answered)
                }),
                Act::CoOpinion => active.is_some_and(|a| a.role == AssignmentRole::Co),
                _ => false,
            }
        }
    }
}

/// States in which an act makes sense (permission aside).
pub fn allowed_in(act: Act, state: SuggestionState) -> bool {
    match act {
        Act::View => true,
        Act::Accept | Act::Reject | Act::Withdraw => state == Submitted,
        Act::Merge => matches!(state, Submitted | Accepted),
        Act::Assign => state == Accepted,
        Act::Instruct | Act::Key => !matches!(state, NotAccepted | Merged | Withdrawn),
        Act::Adopt => {
            matches!(
                state,
                Accepted | Assigned | InProgress | Countersigning | ReplyReview | Replied | Reopened | Closed
            )
        }
        Act::Acknowledge | Act::Return | Act::CoOpinion => matches!(state, Assigned | InProgress | Reopened),
        Act::Reply => matches!(state, Assigned | InProgress | Reopened),
        Act::Rate | Act::RecordRating => state == Replied,
        Act::ApproveReply | Act::ReclassifyReply | Act::ReturnReply => state == ReplyReview,
        Act::Countersign | Act::ProposeChanges | Act::SendOn => state == Countersigning,
        // Invitations are answered while the suggestion awaits staff; a late answer is refused by
        // the command with its own words (the invitation closed), so every state is let through.
        Act::Cosign => true,
        // Likewise joining as a co-signer: refused by the command once staff accepted it.
        Act::JoinCosign => true,
        // A co-signer may rate the latest reply also after the lead member closed or reopened it.
        Act::CoRate => matches!(state, Replied | Reopened | Closed),
    }
}

/// The act a request really is for this actor: a rating by a co-signer (not the lead member) is
/// `CoRate`, recorded without moving the state; every other act is itself.
pub fn act_as(actor: &Actor<'_>, act: Act, facts: &Facts) -> Act {
    match (act, actor) {
        (Act::Rate, Actor::Member(m)) if m.id != facts.member_id && facts.cosigner(m.id).is_some() => Act::CoRate,
        (act, _) => act,
    }
}
