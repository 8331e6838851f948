//! Commits: once per update, all or nothing, conflicts on a stale plan, reference numbers without
//! gaps, kept notifications released in order.

use std::collections::HashSet;
use std::sync::Arc;

use jianyan::domain::{ReferenceNo, SuggestionState};
use jianyan::store::{
    Addressee, Attachment, AttachmentKind, Audience, ChangeOp, Committed, Effect, NewBroadcast, OutMessage, Store,
};

use crate::backends::Backend;
use crate::fixtures::*;

pub async fn commit_twice_for_one_update_is_already_processed(b: &Backend) {
    let s = &*b.store;
    let m = bound_member(s, "W001", 501, None).await;
    s.store_updates(&[incoming(900, 501)], t0()).await.unwrap();
    let make = || {
        let mut c = commit(Some(900), 501);
        c.dialog = Some(r#"{"step":"done"}"#.into());
        c.messages = vec![OutMessage::reply(501, "receipt".into())];
        c.submission = Some((new_suggestion(m.id, 2026), Box::new(|_: &ReferenceNo, _: i64| Vec::new())));
        c
    };
    let (rows, reference) = done(s.commit(make()).await.unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(reference.map(|r| r.seq), Some(1));
    assert!(matches!(s.commit(make()).await.unwrap(), Committed::AlreadyProcessed));
    assert!(matches!(s.commit_with(make(), Vec::new()).await.unwrap(), Committed::AlreadyProcessed));
    assert_eq!(s.suggestions_of_member(m.id, 10).await.unwrap().len(), 1, "filed once");
    assert_eq!(drain(s, 501).await, vec!["receipt".to_string()], "answered once");
    let (_, next) = submit(s, m.id, 2026).await;
    assert_eq!(next.seq, 2, "the replayed commit used no reference number");
}

pub async fn commit_writes_dialog_messages_and_marks_the_update(b: &Backend) {
    let s = &*b.store;
    s.store_updates(&[incoming(910, 77)], t0()).await.unwrap();
    let mut c = commit(Some(910), 77);
    c.dialog = Some("state-1".into());
    c.messages = vec![OutMessage::reply(77, "one".into()), OutMessage::notification(78, "two".into())];
    let (rows, reference) = done(s.commit(c).await.unwrap());
    assert_eq!(reference, None);
    let got: Vec<(i64, &str, i64, i64)> =
        rows.iter().map(|r| (r.chat_id, r.payload.as_str(), r.priority, r.attempts)).collect();
    assert_eq!(got, vec![(77, "one", 0, 0), (78, "two", 1, 0)], "the outbox rows, in order");
    assert_eq!(s.dialog_state(77).await.unwrap().as_deref(), Some("state-1"));
    assert!(s.pending_updates().await.unwrap().is_empty());
    // `dialog: None` leaves the state as it is.
    done(s.commit(commit(None, 77)).await.unwrap());
    assert_eq!(s.dialog_state(77).await.unwrap().as_deref(), Some("state-1"));
    assert_eq!(s.dialog_state(79).await.unwrap(), None);
}

pub async fn submission_is_stored_whole_with_its_receipt(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "W002").await;
    let mut c = commit(None, 0);
    let mut n = new_suggestion(m.id, 2026);
    n.as_typed = "1. 老旧小区加装电梯\n2. 简化审批".into();
    n.attachments = vec![Attachment {
        kind: AttachmentKind::Photo,
        file_id: "f1".into(),
        file_unique_id: "u1".into(),
        file_name: None,
        mime_type: Some("image/jpeg".into()),
        file_size: Some(1234),
        width: Some(800),
        height: Some(600),
    }];
    c.submission = Some((n, Box::new(|r: &ReferenceNo, id: i64| vec![OutMessage::reply(9, format!("{r} #{id}"))])));
    let (rows, reference) = done(s.commit(c).await.unwrap());
    let reference = reference.unwrap();
    assert_eq!(reference.to_string(), "PD-2026-0001");
    let id = s.suggestion_id_by_reference("PD-2026-0001").await.unwrap().expect("found by its number");
    assert_eq!(rows.iter().map(|r| r.payload.as_str()).collect::<Vec<_>>(), vec![format!("PD-2026-0001 #{id}")]);
    let got = s.suggestion(id).await.unwrap().unwrap();
    assert_eq!(
        (got.reference_no.as_str(), got.member_id, got.state),
        ("PD-2026-0001", m.id, SuggestionState::Submitted)
    );
    assert_eq!(got.points, vec!["老旧小区加装电梯".to_string(), "简化审批".to_string()]);
    assert_eq!(got.attachments.len(), 1);
    assert_eq!(got.attachments[0].file_size, Some(1234));
    assert_eq!(got.timeline.len(), 1);
    assert_eq!(
        (got.timeline[0].event.as_str(), got.timeline[0].text.as_str()),
        ("submitted", "1. 老旧小区加装电梯\n2. 简化审批")
    );
    assert_eq!(s.review_queue(10).await.unwrap().iter().map(|x| x.id).collect::<Vec<_>>(), vec![id]);
    // Read as people type it.
    for typed in ["pd-2026-0001", "ＰＤ－２０２６－０００１", "PD 2026 0001", "PD20260001"] {
        assert_eq!(s.suggestion_id_by_reference(typed).await.unwrap(), Some(id), "{typed}");
    }
    for other in ["PD-2026-0002", "hello", ""] {
        assert_eq!(s.suggestion_id_by_reference(other).await.unwrap(), None, "{other}");
    }
}

pub async fn change_planned_on_a_stale_state_conflicts_and_writes_nothing(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "W003").await;
    let dept = s.add_department("住建委", None).await.unwrap();
    let (id, _) = submit(s, m.id, 2026).await;
    s.store_updates(&[incoming(800, 80)], t0()).await.unwrap();
    // Planned as if it were accepted; it is still submitted.
    let mut stale = change(id, SuggestionState::Accepted, SuggestionState::Assigned, "assigned");
    stale.ops.push(ChangeOp::Assign {
        department_id: dept.id,
        role: jianyan::store::AssignmentRole::Lead,
        deadline: t0() + chrono::Duration::days(30),
    });
    stale.messages = vec![OutMessage::notification(81, "assigned".into())];
    let mut c = commit(Some(800), 80);
    c.dialog = Some("after".into());
    c.messages = vec![OutMessage::reply(80, "ok".into())];
    c.change = Some(stale.clone());
    assert!(matches!(s.commit(c).await.unwrap(), Committed::Conflict));
    assert!(matches!(s.apply_change(stale, t0()).await.unwrap(), Committed::Conflict));
    let facts = s.facts(id).await.unwrap().unwrap();
    assert_eq!(facts.state, SuggestionState::Submitted);
    assert!(facts.assignments.is_empty(), "no assignment written");
    assert_eq!(s.suggestion(id).await.unwrap().unwrap().timeline.len(), 1, "no event written");
    assert_eq!(s.dialog_state(80).await.unwrap(), None, "no dialog state written");
    assert!(due_in(s, 80, LATER_MS).await.is_empty() && due_in(s, 81, LATER_MS).await.is_empty(), "nothing queued");
    assert_eq!(s.pending_updates().await.unwrap().len(), 1, "the update is not marked processed");
    // Planned again on the real state, the same update commits.
    let mut c = commit(Some(800), 80);
    c.change = Some(change(id, SuggestionState::Submitted, SuggestionState::Accepted, "accepted"));
    done(s.commit(c).await.unwrap());
    assert_eq!(s.facts(id).await.unwrap().unwrap().state, SuggestionState::Accepted);
}

pub async fn once_only_action_done_twice_conflicts(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "W004").await;
    let (id, _) = submit(s, m.id, 2026).await;
    done(
        s.apply_change(change(id, SuggestionState::Submitted, SuggestionState::Accepted, "accepted"), t0())
            .await
            .unwrap(),
    );
    let adopt = || {
        let mut c = change(id, SuggestionState::Accepted, SuggestionState::Accepted, "adopted");
        c.ops.push(ChangeOp::Adopt);
        c.once_key = Some("adopted".into());
        c.messages = vec![OutMessage::notification(90, "adopted".into())];
        c
    };
    done(s.apply_change(adopt(), t0()).await.unwrap());
    assert!(matches!(s.apply_change(adopt(), t0()).await.unwrap(), Committed::Conflict));
    let mut c = commit(None, 0);
    c.change = Some(adopt());
    assert!(matches!(s.commit(c).await.unwrap(), Committed::Conflict), "through commit as well");
    let facts = s.facts(id).await.unwrap().unwrap();
    assert!(facts.adopted && facts.done("adopted"));
    assert_eq!(facts.once_keys, vec!["adopted".to_string()]);
    let events: Vec<String> = s.suggestion(id).await.unwrap().unwrap().timeline.into_iter().map(|e| e.event).collect();
    assert_eq!(events, vec!["submitted", "accepted", "adopted"], "recorded once");
    assert_eq!(drain(s, 90).await, vec!["adopted".to_string()], "notified once");
    // Another suggestion's key of the same name is its own.
    let (other, _) = submit(s, m.id, 2026).await;
    done(
        s.apply_change(change(other, SuggestionState::Submitted, SuggestionState::Accepted, "accepted"), t0())
            .await
            .unwrap(),
    );
    let mut c = change(other, SuggestionState::Accepted, SuggestionState::Accepted, "adopted");
    c.once_key = Some("adopted".into());
    done(s.apply_change(c, t0()).await.unwrap());
}

pub async fn failed_commit_leaves_nothing(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "W005").await;
    s.store_updates(&[incoming(700, 70)], t0()).await.unwrap();
    let mut c = commit(Some(700), 70);
    c.dialog = Some("after".into());
    c.messages = vec![OutMessage::reply(70, "ok".into())];
    c.submission = Some((new_suggestion(m.id, 2026), Box::new(|_: &ReferenceNo, _: i64| Vec::new())));
    // The last step fails: a broadcast to a workstation that does not exist.
    let effect = Effect::CreateBroadcast {
        broadcast: NewBroadcast {
            topic_id: None,
            text: "hi".into(),
            audience: Audience::Workstation(987_654),
            staff_id: None,
            dialog: Some((71, "composed".into())),
            request_key: None,
        },
        render: Box::new(|_| "copy".into()),
        reply: Box::new(|_, _| vec![OutMessage::reply(70, "queued".into())]),
    };
    assert!(s.commit_with(c, vec![effect]).await.is_err(), "the commit fails");
    assert!(s.suggestions_of_member(m.id, 10).await.unwrap().is_empty(), "no suggestion filed");
    assert_eq!(s.suggestion_id_by_reference("PD-2026-0001").await.unwrap(), None);
    assert_eq!(s.dialog_state(70).await.unwrap(), None, "no dialog state");
    assert_eq!(s.dialog_state(71).await.unwrap(), None);
    assert!(due(s, LATER_MS).await.is_empty(), "nothing queued");
    assert!(s.recent_broadcasts(10).await.unwrap().is_empty(), "no broadcast");
    let pending: Vec<i64> = s.pending_updates().await.unwrap().iter().map(|u| u.update_id).collect();
    assert_eq!(pending, vec![700], "the update is still to be processed");
    let (_, reference) = submit(s, m.id, 2026).await;
    assert_eq!(reference.seq, 1, "the failed commit used no reference number");
}

pub async fn reference_numbers_are_sequential_per_year(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "W006").await;
    let mut seqs = Vec::new();
    for year in [2026, 2026, 2027, 2026, 2027] {
        let (_, r) = submit(s, m.id, year).await;
        assert_eq!(r.year, year);
        seqs.push((year, r.seq));
    }
    assert_eq!(seqs, vec![(2026, 1), (2026, 2), (2027, 1), (2026, 3), (2027, 2)]);
}

pub async fn reference_numbers_have_no_gaps_under_concurrency(b: &Backend) {
    const TASKS: i64 = 50;
    let m = member(&*b.store, "W007").await;
    let updates: Vec<_> = (0..TASKS).map(|i| incoming(1000 + i, 2000 + i)).collect();
    b.store.store_updates(&updates, t0()).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let store: Arc<dyn Store> = b.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = commit(Some(1000 + i), 2000 + i);
            c.submission = Some((new_suggestion(m.id, 2026), Box::new(|_: &ReferenceNo, _: i64| Vec::new())));
            let (_, reference) = done(store.commit(c).await.unwrap());
            reference.unwrap()
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap().seq);
    }
    seqs.sort();
    assert_eq!(seqs, (1..=TASKS).collect::<Vec<_>>(), "1..={TASKS}, no gap, no duplicate");
    let mut ids = HashSet::new();
    for seq in 1..=TASKS {
        let id = b.store.suggestion_id_by_reference(&ReferenceNo::new("PD", 2026, seq).to_string()).await.unwrap();
        assert!(ids.insert(id.expect("each number names a suggestion")));
    }
    assert!(b.store.pending_updates().await.unwrap().is_empty(), "every update processed");
    assert_eq!(b.store.suggestions_of_member(m.id, 100).await.unwrap().len(), TASKS as usize);
}

pub async fn held_notifications_are_queued_once_the_person_writes(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "W008").await;
    let (id, _) = submit(s, m.id, 2026).await;
    let rows = queue(
        s,
        vec![
            OutMessage::held(Addressee::Member(m.id), Some(id), "held-1".into()),
            OutMessage::held(Addressee::Member(m.id), Some(id), "held-2".into()),
        ],
    )
    .await;
    assert!(rows.is_empty(), "kept, not queued");
    let held = s.held_notifications(id).await.unwrap();
    assert_eq!(held.iter().map(|h| h.payload.as_str()).collect::<Vec<_>>(), vec!["held-1", "held-2"]);
    assert!(held.iter().all(|h| h.to == Addressee::Member(m.id) && h.released_at.is_none()));
    assert_eq!(s.totals(t0()).await.unwrap().held, 2);
    // The member binds Telegram and writes to the bot: the kept ones follow the reply, in order.
    let code = "code-W008";
    s.create_invite(m.id, code, t0(), t0() + chrono::Duration::days(1)).await.unwrap();
    s.redeem_invite(code, 508, 508, None, t0()).await.unwrap();
    s.store_updates(&[incoming(1508, 508)], t0()).await.unwrap();
    let mut c = commit(Some(1508), 508);
    c.messages = vec![OutMessage::reply(508, "hello".into())];
    let (rows, _) = done(s.commit(c).await.unwrap());
    let got: Vec<(i64, &str)> = rows.iter().map(|r| (r.chat_id, r.payload.as_str())).collect();
    assert_eq!(got, vec![(508, "hello"), (508, "held-1"), (508, "held-2")]);
    assert!(s.held_notifications(id).await.unwrap().iter().all(|h| h.released_at.is_some()));
    assert_eq!(s.totals(t0()).await.unwrap().held, 0);
    assert_eq!(drain(s, 508).await, vec!["hello", "held-1", "held-2"]);
    // Kept for a department until one of its liaisons writes, and for staff until one of them does.
    let dept = s.add_department("区环保局", None).await.unwrap();
    let liaison = s.add_liaison(dept.id, "钱联络", t0()).await.unwrap();
    let staff = s.add_staff("孙秘书", t0()).await.unwrap();
    queue(
        s,
        vec![
            OutMessage::held(Addressee::Department(dept.id), Some(id), "for the department".into()),
            OutMessage::held(Addressee::Staff, Some(id), "for staff".into()),
        ],
    )
    .await;
    let names: Vec<(String, Addressee)> =
        s.held_notifications(id).await.unwrap().into_iter().skip(2).map(|h| (h.name, h.to)).collect();
    assert_eq!(names, vec![("区环保局".into(), Addressee::Department(dept.id)), (String::new(), Addressee::Staff)]);
    for (target, code, account) in [
        (jianyan::store::InviteTarget::Liaison(liaison.id), "code-l", 1509),
        (jianyan::store::InviteTarget::Staff(staff.id), "code-s", 1510),
    ] {
        s.create_invite_for(target, code, t0(), t0() + chrono::Duration::days(1)).await.unwrap();
        s.redeem_invite(code, account, account, None, t0()).await.unwrap();
        s.store_updates(&[incoming(account + 10_000, account)], t0()).await.unwrap();
        done(s.commit(commit(Some(account + 10_000), account)).await.unwrap());
    }
    assert_eq!(drain(s, 1509).await, vec!["for the department"]);
    assert_eq!(drain(s, 1510).await, vec!["for staff"]);
    assert_eq!(s.totals(t0()).await.unwrap().held, 0);
}

pub async fn effects_apply_in_order_after_the_submission(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "W009").await;
    let existing = bound_member(s, "W010", 1601, None).await;
    s.create_invite(m.id, "code-W009", t0(), t0() + chrono::Duration::days(1)).await.unwrap();
    s.store_updates(&[incoming(1600, 1600)], t0()).await.unwrap();
    let make = || {
        let mut c = commit(Some(1600), 1600);
        c.messages = vec![OutMessage::reply(1600, "first".into())];
        c.submission = Some((
            new_suggestion(existing.id, 2026),
            Box::new(|r: &ReferenceNo, _: i64| vec![OutMessage::reply(1600, format!("receipt {r}"))]),
        ));
        let effects = vec![
            Effect::RedeemInvite {
                code_hash: "code-W009".into(),
                telegram_user_id: 1602,
                chat_id: 1602,
                language: None,
                reply: Box::new(|r| {
                    vec![OutMessage::reply(
                        1600,
                        format!("redeemed {}", matches!(r, jianyan::store::Redeemed::Bound(_))),
                    )]
                }),
            },
            // Applied after the binding, in the same transaction: it reaches the member just bound.
            Effect::CreateBroadcast {
                broadcast: NewBroadcast {
                    topic_id: None,
                    text: "hi".into(),
                    audience: Audience::All,
                    staff_id: None,
                    dialog: None,
                    request_key: None,
                },
                render: Box::new(|_| "copy".into()),
                reply: Box::new(|_, n| vec![OutMessage::reply(1600, format!("queued {n}"))]),
            },
        ];
        (c, effects)
    };
    let (c, effects) = make();
    let (rows, _) = done(s.commit_with(c, effects).await.unwrap());
    let replies: Vec<&str> = rows.iter().filter(|r| r.chat_id == 1600).map(|r| r.payload.as_str()).collect();
    assert_eq!(replies, vec!["first", "receipt PD-2026-0001", "redeemed true", "queued 2"]);
    assert_eq!(s.member_by_telegram(1602).await.unwrap().map(|x| x.id), Some(m.id));
    assert_eq!(drain(s, 1602).await, vec!["copy"]);
    let (c, effects) = make();
    assert!(matches!(s.commit_with(c, effects).await.unwrap(), Committed::AlreadyProcessed));
    assert_eq!(s.recent_broadcasts(10).await.unwrap().len(), 1, "the effects are not applied again");
}

/// A reply kept as a draft (会签, 督办): `Facts::draft` holds the open one with the countersigns in
/// the order given; once it moves on (delivered, returned) there is no open draft, and the reply
/// the member reads is a row of `replies` only when delivered. A co-department countersigns once.
pub async fn reply_drafts_and_countersigns_round_trip(b: &Backend) {
    use jianyan::store::DraftStatus;
    let s = &*b.store;
    let m = member(s, "W090").await;
    let lead = s.add_department("会签主办局", None).await.unwrap().id;
    let co = s.add_department("会签协办局", None).await.unwrap().id;
    let deadline = t0() + chrono::Duration::days(90);
    let (id, _) = assigned(s, m.id, lead, deadline).await;
    let mut draft = change(id, SuggestionState::Assigned, SuggestionState::Countersigning, "countersign_requested");
    draft.ops.push(ChangeOp::DraftReply {
        department_id: lead,
        reply_class: "B".into(),
        text: "拟列入明年计划。".into(),
        document: None,
        status: DraftStatus::Countersign,
        countersign_deadline: Some(t0() + chrono::Duration::days(5)),
        letter: Some(r#"{"number":"浦教函〔2025〕3号"}"#.into()),
    });
    done(s.apply_change(draft, t0()).await.unwrap());
    let open = s.facts(id).await.unwrap().unwrap().draft.expect("the open draft");
    assert_eq!(
        (open.status, open.reply_class.as_str(), open.text.as_str()),
        (DraftStatus::Countersign, "B", "拟列入明年计划。")
    );
    assert_eq!(open.countersign_deadline, Some(t0() + chrono::Duration::days(5)));
    assert!(open.countersigns.is_empty());
    assert_eq!(open.letter.as_deref(), Some(r#"{"number":"浦教函〔2025〕3号"}"#), "the letter waits with the draft");

    let countersign = |agreed: bool, key: &str| {
        let mut c = change(id, SuggestionState::Countersigning, SuggestionState::Countersigning, "countersigned");
        c.ops.push(ChangeOp::Countersign {
            draft_id: open.id, department_id: co, agreed, text: "补充绿化要求".into()
        });
        c.once_key = Some(key.to_string());
        c
    };
    done(s.apply_change(countersign(false, "countersigned:1"), t0()).await.unwrap());
    assert!(matches!(s.apply_change(countersign(true, "countersigned:1"), t0()).await.unwrap(), Committed::Conflict));
    let open = s.facts(id).await.unwrap().unwrap().draft.expect("still open");
    assert_eq!(open.countersigns.len(), 1);
    let c = &open.countersigns[0];
    assert_eq!(
        (c.department_id, c.department_name.as_str(), c.agreed, c.text.as_str()),
        (co, "会签协办局", false, "补充绿化要求")
    );

    let mut review = change(id, SuggestionState::Countersigning, SuggestionState::ReplyReview, "countersign_done");
    review.ops.push(ChangeOp::SetDraftStatus { draft_id: open.id, status: DraftStatus::Review, note: String::new() });
    done(s.apply_change(review, t0()).await.unwrap());
    assert_eq!(s.facts(id).await.unwrap().unwrap().draft.map(|d| d.status), Some(DraftStatus::Review));

    let mut back = change(id, SuggestionState::ReplyReview, SuggestionState::InProgress, "reply_returned");
    back.ops
        .push(ChangeOp::SetDraftStatus { draft_id: open.id, status: DraftStatus::Returned, note: "请修改".into() });
    done(s.apply_change(back, t0()).await.unwrap());
    let facts = s.facts(id).await.unwrap().unwrap();
    assert_eq!((facts.state, facts.draft, facts.replies), (SuggestionState::InProgress, None, 0));
}
