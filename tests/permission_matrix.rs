//! Who may do what to one suggestion, written out as a table for every kind of actor — Telegram
//! members, staff and liaisons, console accounts and API tokens — through `workflow::permitted`.
//!
//! The rows are typed in by hand from shared/domain.md ("Permissions"), not computed: a change to
//! the rules has to change them here too. Console admins and staff act as staff, console
//! department accounts and API tokens as their department's liaison (`workflow::Actor::User`,
//! `Actor::Token`). Every `Act` must be a column (`every_act_is_a_column`), so a new act fails
//! here until someone decides who may do it.

use chrono::{DateTime, TimeZone, Utc};

use jianyan::domain::{MemberLevel, MemberNo, SuggestionState};
use jianyan::store::{
    ApiToken, AssignmentInfo, AssignmentRole, AssignmentStatus, CosignStatus, Cosigner, Facts, Liaison, Member, Role,
    Staff, User,
};
use jianyan::workflow::{Act, Actor, act_as, permitted};

const Y: bool = true;
const N: bool = false;

/// The columns of every row, in this order.
const COLUMNS: [Act; 24] = [
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
    Act::Cosign,
    Act::CoRate,
    Act::ApproveReply,
    Act::ReclassifyReply,
    Act::ReturnReply,
    Act::Countersign,
    Act::ProposeChanges,
    Act::SendOn,
    Act::RecordRating,
    Act::Key,
    Act::JoinCosign,
];

/// Department 10 leads, department 11 co-handles, department 12 has nothing to do with it.
const LEAD: i64 = 10;
const CO: i64 = 11;
const OTHER: i64 = 12;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
}

fn member(id: i64, active: bool) -> Member {
    Member {
        id,
        member_no: MemberNo::parse(&format!("PD{id:03}")).unwrap(),
        name: format!("委员{id}"),
        level: MemberLevel::District,
        workstation: None,
        sector: String::new(),
        phone: String::new(),
        telegram_user_id: Some(1000 + id),
        active,
    }
}

fn staff(active: bool) -> Staff {
    Staff { id: 1, name: "王工作人员".into(), telegram_user_id: Some(3001), active }
}

fn liaison(id: i64, department_id: i64, active: bool) -> Liaison {
    Liaison {
        id,
        name: format!("联络员{id}"),
        department_id,
        department_name: format!("单位{department_id}"),
        telegram_user_id: Some(2000 + id),
        active,
    }
}

fn console_user(id: i64, role: Role, department_id: Option<i64>, active: bool) -> User {
    User {
        id,
        username: format!("user{id}"),
        name: format!("账号{id}"),
        role,
        department_id,
        department_name: department_id.map(|d| format!("单位{d}")),
        active,
    }
}

fn token(id: i64, department_id: i64, revoked: bool) -> ApiToken {
    ApiToken {
        id,
        department_id,
        department_name: format!("单位{department_id}"),
        name: format!("系统{id}"),
        created_at: at(),
        last_used_at: None,
        revoked_at: revoked.then(at),
    }
}

fn assignment(id: i64, department_id: i64, role: AssignmentRole, status: AssignmentStatus) -> AssignmentInfo {
    AssignmentInfo {
        id,
        department_id,
        department_name: format!("单位{department_id}"),
        role,
        status,
        deadline: Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap(),
        acknowledged: false,
    }
}

/// Suggestion 1 of member 1, in progress, assigned to `LEAD` (lead) and `CO` (co).
fn assigned_facts() -> Facts {
    Facts {
        id: 1,
        reference_no: "PD-2025-0001".into(),
        member_id: 1,
        member: None,
        title: "标题".into(),
        state: SuggestionState::InProgress,
        deadline: None,
        adopted: false,
        replies: 0,
        assignments: vec![
            assignment(1, LEAD, AssignmentRole::Lead, AssignmentStatus::Active),
            assignment(2, CO, AssignmentRole::Co, AssignmentStatus::Active),
        ],
        once_keys: Vec::new(),
        cosigners: Vec::new(),
        draft: None,
        key_leader: None,
    }
}

fn invitation(member_id: i64, status: CosignStatus) -> Cosigner {
    Cosigner {
        member_id,
        name: format!("委员{member_id}"),
        status,
        invited_at: at(),
        expires_at: Utc.with_ymd_and_hms(2025, 3, 8, 9, 0, 0).unwrap(),
        answered_at: None,
        chat_id: None,
        language: None,
    }
}

/// The cells of a row that `permitted` answers differently, one line each.
fn mismatches(who: &str, actor: &Actor<'_>, facts: &Facts, expected: [bool; 24]) -> Vec<String> {
    COLUMNS
        .iter()
        .zip(expected)
        .filter(|(act, want)| permitted(actor, **act, facts) != *want)
        .map(|(act, want)| format!("{who} {act:?}: expected {}", if want { "allowed" } else { "refused" }))
        .collect()
}

fn check(facts: &Facts, table: &[(&str, Actor<'_>, [bool; 24])]) {
    let wrong: Vec<String> =
        table.iter().flat_map(|(who, actor, expected)| mismatches(who, actor, facts, *expected)).collect();
    assert!(wrong.is_empty(), "permissions differ from the table:\n{}", wrong.join("\n"));
}

#[test]
fn every_act_is_a_column() {
    let missing: Vec<Act> = Act::ALL.into_iter().filter(|act| !COLUMNS.contains(act)).collect();
    assert!(missing.is_empty(), "decide who may do {missing:?} and add a column for it");
    assert_eq!(COLUMNS.len(), Act::ALL.len(), "a column is listed twice");
}

#[test]
fn every_actor_and_every_act_on_an_assigned_suggestion() {
    let facts = assigned_facts();
    let (owner, other_member, inactive_owner) = (member(1, true), member(2, true), member(1, false));
    let (staff, inactive_staff) = (staff(true), staff(false));
    let (lead, co, other) = (liaison(1, LEAD, true), liaison(2, CO, true), liaison(3, OTHER, true));
    let inactive_lead = liaison(4, LEAD, false);
    let admin = console_user(1, Role::Admin, None, true);
    let console_staff = console_user(2, Role::Staff, None, true);
    let console_lead = console_user(3, Role::Department, Some(LEAD), true);
    let console_co = console_user(4, Role::Department, Some(CO), true);
    let console_other = console_user(5, Role::Department, Some(OTHER), true);
    let console_no_department = console_user(6, Role::Department, None, true);
    let inactive_admin = console_user(7, Role::Admin, None, false);
    let inactive_console_staff = console_user(8, Role::Staff, None, false);
    let inactive_console_lead = console_user(9, Role::Department, Some(LEAD), false);
    let (token_lead, token_co, token_other) = (token(1, LEAD, false), token(2, CO, false), token(3, OTHER, false));
    let revoked_token_lead = token(4, LEAD, true);
    #[rustfmt::skip]
    let table = [
        //                                                           View Acc Rej Mrg Asg Ins Adp Ack Ret Rep Coo Rat Wdr Cos CoR Apr Rcl RtR Csg Prp Snd Rec Key Jcs
        ("owner member",                 Actor::Member(&owner),                  [Y, N, N, N, N, N, N, N, N, N, N, Y, Y, N, N, N, N, N, N, N, N, N, N, N]),
        ("another member",               Actor::Member(&other_member),           [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, Y]),
        ("inactive owner",               Actor::Member(&inactive_owner),         [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("staff",                        Actor::Staff(&staff),                   [Y, Y, Y, Y, Y, Y, Y, N, N, N, N, N, N, N, N, Y, Y, Y, N, N, N, N, Y, N]),
        ("inactive staff",               Actor::Staff(&inactive_staff),          [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("liaison of the lead",          Actor::Liaison(&lead),                  [Y, N, N, N, N, N, N, Y, Y, Y, N, N, N, N, N, N, N, N, N, N, Y, N, N, N]),
        ("liaison of the co",            Actor::Liaison(&co),                    [Y, N, N, N, N, N, N, Y, Y, N, Y, N, N, N, N, N, N, N, Y, Y, N, N, N, N]),
        ("liaison of another",           Actor::Liaison(&other),                 [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("inactive liaison of the lead", Actor::Liaison(&inactive_lead),         [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("console admin",                Actor::User(&admin),                    [Y, Y, Y, Y, Y, Y, Y, N, N, N, N, N, N, N, N, Y, Y, Y, N, N, N, Y, Y, N]),
        ("console staff",                Actor::User(&console_staff),            [Y, Y, Y, Y, Y, Y, Y, N, N, N, N, N, N, N, N, Y, Y, Y, N, N, N, Y, Y, N]),
        ("console lead department",      Actor::User(&console_lead),             [Y, N, N, N, N, N, N, Y, Y, Y, N, N, N, N, N, N, N, N, N, N, Y, N, N, N]),
        ("console co department",        Actor::User(&console_co),               [Y, N, N, N, N, N, N, Y, Y, N, Y, N, N, N, N, N, N, N, Y, Y, N, N, N, N]),
        ("console other department",     Actor::User(&console_other),            [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("console department, none set", Actor::User(&console_no_department),    [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("inactive console admin",       Actor::User(&inactive_admin),           [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("inactive console staff",       Actor::User(&inactive_console_staff),   [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("inactive console lead dept",   Actor::User(&inactive_console_lead),    [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("API token of the lead",        Actor::Token(&token_lead),              [Y, N, N, N, N, N, N, Y, Y, Y, N, N, N, N, N, N, N, N, N, N, Y, N, N, N]),
        ("API token of the co",          Actor::Token(&token_co),                [Y, N, N, N, N, N, N, Y, Y, N, Y, N, N, N, N, N, N, N, Y, Y, N, N, N, N]),
        ("API token of another",         Actor::Token(&token_other),             [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("revoked API token of the lead", Actor::Token(&revoked_token_lead),     [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("unregistered",                 Actor::Unregistered,                    [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
    ];
    check(&facts, &table);
}

/// After the lead answered, the co returned its part and an earlier lead was replaced, the
/// console accounts and tokens of those departments keep only what their liaisons keep.
#[test]
fn console_accounts_and_tokens_follow_their_department_when_assignments_end() {
    let mut facts = assigned_facts();
    facts.assignments = vec![
        assignment(1, LEAD, AssignmentRole::Lead, AssignmentStatus::Answered),
        assignment(2, CO, AssignmentRole::Co, AssignmentStatus::Returned),
        assignment(3, OTHER, AssignmentRole::Lead, AssignmentStatus::Superseded),
    ];
    let (lead, co, replaced) = (liaison(1, LEAD, true), liaison(2, CO, true), liaison(3, OTHER, true));
    let console_lead = console_user(3, Role::Department, Some(LEAD), true);
    let console_co = console_user(4, Role::Department, Some(CO), true);
    let console_replaced = console_user(5, Role::Department, Some(OTHER), true);
    let (token_lead, token_co, token_replaced) = (token(1, LEAD, false), token(2, CO, false), token(3, OTHER, false));
    #[rustfmt::skip]
    let table = [
        //                                                        View Acc Rej Mrg Asg Ins Adp Ack Ret Rep Coo Rat Wdr Cos CoR Apr Rcl RtR Csg Prp Snd Rec Key Jcs
        ("liaison, lead answered",     Actor::Liaison(&lead),             [Y, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("console, lead answered",     Actor::User(&console_lead),        [Y, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("token, lead answered",       Actor::Token(&token_lead),         [Y, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("liaison, co returned",       Actor::Liaison(&co),               [Y, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("console, co returned",       Actor::User(&console_co),          [Y, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("token, co returned",         Actor::Token(&token_co),           [Y, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("liaison, lead replaced",     Actor::Liaison(&replaced),         [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("console, lead replaced",     Actor::User(&console_replaced),    [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
        ("token, lead replaced",       Actor::Token(&token_replaced),     [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
    ];
    check(&facts, &table);
}

/// 联名: member 1 leads; member 2 accepted the invitation to co-sign, 3 was invited and has not
/// answered, 4 declined, 5 was invited too late (closed), 6 was never invited. A co-signer may
/// view and rate (its own `CoRate`), nothing else; an invitee who has not accepted sees only the
/// invitation (answering it: `Cosign`, refused by the command once answered or closed). A member
/// not on it at all may ask to co-sign it instead of filing an alike draft (`JoinCosign`, refused by
/// the command on another topic or once staff accepted it).
#[test]
fn co_signers_view_and_rate_invitees_only_answer() {
    let mut facts = assigned_facts();
    facts.state = SuggestionState::Replied;
    facts.replies = 1;
    facts.cosigners = vec![
        invitation(2, CosignStatus::Accepted),
        invitation(3, CosignStatus::Invited),
        invitation(4, CosignStatus::Declined),
        invitation(5, CosignStatus::Expired),
    ];
    let (lead, accepted, invited, declined) = (member(1, true), member(2, true), member(3, true), member(4, true));
    let (closed, stranger, inactive_cosigner) = (member(5, true), member(6, true), member(2, false));
    #[rustfmt::skip]
    let table = [
        //                                                    View Acc Rej Mrg Asg Ins Adp Ack Ret Rep Coo Rat Wdr Cos CoR Apr Rcl RtR Csg Prp Snd Rec Key Jcs
        ("lead member",              Actor::Member(&lead),              [Y, N, N, N, N, N, N, N, N, N, N, Y, Y, N, N, N, N, N, N, N, N, N, N, N]),
        ("co-signer (accepted)",     Actor::Member(&accepted),          [Y, N, N, N, N, N, N, N, N, N, N, N, N, Y, Y, N, N, N, N, N, N, N, N, N]),
        ("invited, not answered",    Actor::Member(&invited),           [N, N, N, N, N, N, N, N, N, N, N, N, N, Y, N, N, N, N, N, N, N, N, N, N]),
        ("invited, declined",        Actor::Member(&declined),          [N, N, N, N, N, N, N, N, N, N, N, N, N, Y, N, N, N, N, N, N, N, N, N, N]),
        ("invited, closed",          Actor::Member(&closed),            [N, N, N, N, N, N, N, N, N, N, N, N, N, Y, N, N, N, N, N, N, N, N, N, N]),
        ("member never invited",     Actor::Member(&stranger),          [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, Y]),
        ("inactive co-signer",       Actor::Member(&inactive_cosigner), [N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N]),
    ];
    check(&facts, &table);
    // A co-signer's rating is its own act; the lead's stays `Rate`.
    assert_eq!(act_as(&Actor::Member(&accepted), Act::Rate, &facts), Act::CoRate);
    assert_eq!(act_as(&Actor::Member(&lead), Act::Rate, &facts), Act::Rate);
    assert_eq!(act_as(&Actor::Member(&stranger), Act::Rate, &facts), Act::Rate);
}
