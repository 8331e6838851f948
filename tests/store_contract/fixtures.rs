//! Fixtures built through the store's own methods (never SQL), shared by the contracts.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jianyan::domain::{MemberLevel, MemberNo, ReferenceNo, SuggestionKind, SuggestionState};
use jianyan::store::{
    AssignmentRole, Change, ChangeOp, Commit, Committed, DueMessage, IncomingUpdate, Member, NewSuggestion, OutMessage,
    OutboxRow, Redeemed, RosterRow, Store,
};

/// The suite's "now": 2026-03-02 09:00 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Far enough in the future that every row waiting for a retry is due.
pub const LATER_MS: i64 = i64::MAX / 2;

pub fn row(no: &str, name: &str, workstation: Option<&str>, sector: &str) -> RosterRow {
    RosterRow {
        member_no: MemberNo::parse(no).expect("a member number"),
        name: name.to_string(),
        level: MemberLevel::District,
        workstation: workstation.map(str::to_string),
        sector: sector.to_string(),
        phone: "13800000000".to_string(),
    }
}

/// Imports one member and returns it.
pub async fn member(store: &dyn Store, no: &str) -> Member {
    store.import_members(&[row(no, &format!("委员{no}"), None, "经济界")], t0()).await.unwrap();
    store.member_by_no(&MemberNo::parse(no).unwrap()).await.unwrap().expect("the imported member")
}

/// Imports a member and binds Telegram account `telegram` (its private chat has the same id).
pub async fn bound_member(store: &dyn Store, no: &str, telegram: i64, language: Option<&str>) -> Member {
    let m = member(store, no).await;
    let code = format!("code-{no}");
    store.create_invite(m.id, &code, t0(), t0() + Duration::days(7)).await.unwrap();
    match store.redeem_invite(&code, telegram, telegram, language, t0()).await.unwrap() {
        Redeemed::Bound(_) => {}
        other => panic!("binding {no} gave {other:?}"),
    }
    store.member_by_no(&m.member_no).await.unwrap().unwrap()
}

pub fn incoming(update_id: i64, chat_id: i64) -> IncomingUpdate {
    IncomingUpdate {
        update_id,
        chat_id: Some(chat_id),
        payload: format!(r#"{{"update_id":{update_id}}}"#),
        kind: "message".to_string(),
        understood: true,
    }
}

/// A commit that changes nothing yet: fill in what the contract needs.
pub fn commit(update_id: Option<i64>, chat_id: i64) -> Commit {
    Commit { update_id, chat_id, dialog: None, messages: Vec::new(), submission: None, change: None, now: t0() }
}

pub fn new_suggestion(member_id: i64, year: i32) -> NewSuggestion {
    NewSuggestion {
        member_id,
        topic_id: None,
        kind: SuggestionKind::Advice,
        title: "加装电梯".to_string(),
        points: vec!["老旧小区加装电梯".to_string(), "简化审批".to_string()],
        as_typed: String::new(),
        attachments: Vec::new(),
        year,
        prefix: "PD".to_string(),
        entered_by: None,
    }
}

pub fn done(committed: Committed) -> (Vec<OutboxRow>, Option<ReferenceNo>) {
    match committed {
        Committed::Done { outbox, reference } => (outbox, reference),
        other => panic!("expected the commit to be done, got {other:?}"),
    }
}

/// Files a suggestion of `member_id` for `year` (no update); returns its id and reference number.
pub async fn submit(store: &dyn Store, member_id: i64, year: i32) -> (i64, ReferenceNo) {
    let mut c = commit(None, 0);
    let (tx, rx) = std::sync::mpsc::channel();
    c.submission = Some((
        new_suggestion(member_id, year),
        Box::new(move |_: &ReferenceNo, id: i64| {
            tx.send(id).unwrap();
            Vec::new()
        }),
    ));
    let (_, reference) = done(store.commit(c).await.unwrap());
    (rx.recv().unwrap(), reference.expect("a reference number"))
}

/// A state change by staff with no ops.
pub fn change(suggestion_id: i64, from: SuggestionState, to: SuggestionState, event: &'static str) -> Change {
    Change {
        suggestion_id,
        expect_state: from,
        new_state: to,
        ops: Vec::new(),
        actor_kind: "staff",
        actor_id: None,
        event,
        text: String::new(),
        once_key: None,
        messages: Vec::new(),
    }
}

/// A suggestion accepted and assigned to `department_id` as lead with `deadline` (as the workflow
/// assigns: the assignment's and the suggestion's deadline); returns the
/// suggestion's and the assignment's ids.
pub async fn assigned(store: &dyn Store, member_id: i64, department_id: i64, deadline: DateTime<Utc>) -> (i64, i64) {
    let (id, _) = submit(store, member_id, 2026).await;
    done(
        store
            .apply_change(change(id, SuggestionState::Submitted, SuggestionState::Accepted, "accepted"), t0())
            .await
            .unwrap(),
    );
    let mut assign = change(id, SuggestionState::Accepted, SuggestionState::Assigned, "assigned");
    assign.ops.push(ChangeOp::Assign { department_id, role: AssignmentRole::Lead, deadline });
    assign.ops.push(ChangeOp::SetDeadline(Some(deadline)));
    done(store.apply_change(assign, t0()).await.unwrap());
    let facts = store.facts(id).await.unwrap().unwrap();
    (id, facts.assignments.last().expect("the assignment").id)
}

/// Every message due at `now_ms` (the first pending one of each chat).
pub async fn due(store: &dyn Store, now_ms: i64) -> Vec<DueMessage> {
    store.due_outbox(10_000, now_ms).await.unwrap()
}

/// The ids due at `now_ms` for `chat_id` (at most one: a chat's first pending message).
pub async fn due_in(store: &dyn Store, chat_id: i64, now_ms: i64) -> Vec<i64> {
    due(store, now_ms).await.into_iter().filter(|d| d.chat_id == chat_id).map(|d| d.id).collect()
}

/// Queues `messages` in one commit (no update); returns their outbox rows.
pub async fn queue(store: &dyn Store, messages: Vec<OutMessage>) -> Vec<OutboxRow> {
    let mut c = commit(None, 0);
    c.messages = messages;
    done(store.commit(c).await.unwrap()).0
}

/// Sends a chat's messages one by one (recording each sent) and returns their payloads in the order
/// the store handed them over.
pub async fn drain(store: &dyn Store, chat_id: i64) -> Vec<String> {
    let mut sent = Vec::new();
    while let Some(&id) = due_in(store, chat_id, LATER_MS).await.first() {
        let payload = store.pending_payload(id).await.unwrap().expect("a due message's payload");
        sent.push(payload.payload);
        store.outbox_result(id, jianyan::store::DeliveryResult::Sent, None, t0()).await.unwrap();
    }
    sent
}

/// Files `suggestion` at `now` (no update); returns its id and reference number.
pub async fn submit_at(store: &dyn Store, suggestion: NewSuggestion, now: DateTime<Utc>) -> (i64, ReferenceNo) {
    let mut c = commit(None, 0);
    c.now = now;
    let (tx, rx) = std::sync::mpsc::channel();
    c.submission = Some((
        suggestion,
        Box::new(move |_: &ReferenceNo, id: i64| {
            tx.send(id).unwrap();
            Vec::new()
        }),
    ));
    let (_, reference) = done(store.commit(c).await.unwrap());
    (rx.recv().unwrap(), reference.expect("a reference number"))
}
