//! Who may do what to a suggestion, and in which states: the permission rules of
//! shared/domain.md in one place, deny by default.

use crate::domain::SuggestionState::{self, *};
use crate::store::{ApiToken, AssignmentRole, AssignmentStatus, Facts, Liaison, Member, Role, Staff, User};

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
    pub const ALL: [Act; 14] = [
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
        Act::Key,
    ];
}

/// The permission rules of shared/domain.md. Everything not listed is refused.
pub fn permitted(actor: &Actor<'_>, act: Act, facts: &Facts) -> bool {
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
                    | Act::Key
            )
        }
        Capacity::Member(member_id) => {
            member_id == facts.member_id && matches!(act, Act::View | Act::Rate | Act::Withdraw)
        }
        Capacity::Department(department_id) => {
            let active = facts.active_assignment(department_id);
            match act {
                Act::View => facts
                    .assignments
                    .iter()
                    .any(|a| a.department_id == department_id && a.status != AssignmentStatus::Superseded),
                Act::Acknowledge | Act::Return => active.is_some(),
                Act::Reply => active.is_some_and(|a| a.role == AssignmentRole::Lead),
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
        Act::Adopt => matches!(state, Accepted | Assigned | InProgress | Replied | Reopened | Closed),
        Act::Acknowledge | Act::Return | Act::CoOpinion => matches!(state, Assigned | InProgress | Reopened),
        Act::Reply => matches!(state, Assigned | InProgress | Reopened),
        Act::Rate => state == Replied,
    }
}
