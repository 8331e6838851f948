//! Broadcasts, reminders, the overdue digest and chats Telegram moved.

use chrono::Duration;
use jianyan::domain::SuggestionState;
use jianyan::store::{Audience, ChangeOp, DeliveryResult, NewBroadcast, OutMessage, ReminderKind};

use crate::backends::Backend;
use crate::fixtures::*;

fn to_all(request_key: Option<&str>) -> NewBroadcast {
    NewBroadcast {
        topic_id: None,
        text: "请提交建议".into(),
        audience: Audience::All,
        staff_id: None,
        dialog: Some((5, "sent".into())),
        request_key: request_key.map(str::to_string),
    }
}

pub async fn broadcast_queues_one_message_per_reachable_member(b: &Backend) {
    let s = &*b.store;
    bound_member(s, "B001", 1101, Some("en")).await;
    bound_member(s, "B002", 1102, None).await;
    bound_member(s, "B003", 1103, None).await;
    member(s, "B004").await; // never bound
    s.set_reachable(1103, false, t0()).await.unwrap(); // blocked the bot
    assert_eq!(s.audience_reach(&Audience::All).await.unwrap(), 2);
    let render = |lang: Option<&str>| format!("copy-{}", lang.unwrap_or("default"));
    let (id, n) = s.create_broadcast(to_all(Some("k1")), &render, t0()).await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(s.dialog_state(5).await.unwrap().as_deref(), Some("sent"), "the composing chat's state");
    let due = due(s, ms(t0())).await;
    let mut chats: Vec<(i64, i64)> = due.iter().map(|d| (d.chat_id, d.priority)).collect();
    chats.sort();
    assert_eq!(chats, vec![(1101, 2), (1102, 2)], "one broadcast message per reachable member");
    let payload = |chat| {
        let id = due.iter().find(|d| d.chat_id == chat).unwrap().id;
        async move { s.pending_payload(id).await.unwrap().unwrap().payload }
    };
    assert_eq!(payload(1101).await, "copy-en", "rendered in the member's language");
    assert_eq!(payload(1102).await, "copy-default");
    let p = s.broadcast_progress(id).await.unwrap().unwrap();
    assert_eq!((p.total, p.pending, p.sent, p.cancelled), (2, 2, 0, false));
    // The same request again gives the first broadcast back.
    assert_eq!(s.create_broadcast(to_all(Some("k1")), &render, t0()).await.unwrap(), (id, 2));
    assert_eq!(s.recent_broadcasts(10).await.unwrap().len(), 1);
    assert_eq!(drain(s, 1101).await, vec!["copy-en"], "queued once");
    let p = s.broadcast_progress(id).await.unwrap().unwrap();
    assert_eq!((p.sent, p.pending), (1, 1));
    assert_eq!(s.broadcast_progress(987_654).await.unwrap(), None);
    // Newest first.
    let (id2, _) = s.create_broadcast(to_all(None), &render, t0()).await.unwrap();
    assert_eq!(s.recent_broadcasts(10).await.unwrap().iter().map(|p| p.id).collect::<Vec<_>>(), vec![id2, id]);
}

pub async fn cancel_broadcast_stops_only_pending_messages(b: &Backend) {
    let s = &*b.store;
    for (i, chat) in [1201, 1202, 1203].into_iter().enumerate() {
        bound_member(s, &format!("C00{i}"), chat, None).await;
    }
    let (id, n) = s.create_broadcast(to_all(None), &|_| "copy".to_string(), t0()).await.unwrap();
    assert_eq!(n, 3);
    let sent = due_in(s, 1201, ms(t0())).await[0];
    let failed = due_in(s, 1202, ms(t0())).await[0];
    s.outbox_result(sent, DeliveryResult::Sent, None, t0()).await.unwrap();
    s.outbox_result(failed, DeliveryResult::Failed, Some("400"), t0()).await.unwrap();
    let other = queue(s, vec![OutMessage::notification(1203, "not the broadcast".into())]).await[0].id;
    assert_eq!(s.cancel_broadcast(id).await.unwrap(), Some(1), "only the one still pending");
    assert_eq!(s.cancel_broadcast(id).await.unwrap(), Some(0), "nothing left to stop");
    assert_eq!(s.cancel_broadcast(987_654).await.unwrap(), None, "no such broadcast");
    let p = s.broadcast_progress(id).await.unwrap().unwrap();
    assert!(p.cancelled);
    assert_eq!((p.total, p.sent, p.failed, p.pending, p.not_sent), (3, 1, 1, 0, 1));
    assert_eq!(due(s, LATER_MS).await.iter().map(|d| d.id).collect::<Vec<_>>(), vec![other], "other messages go on");
}

pub async fn reminder_is_recorded_once(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "M001").await;
    let dept = s.add_department("区教育局", None).await.unwrap();
    let deadline = t0() + Duration::days(1);
    let (sid, aid) = assigned(s, m.id, dept.id, deadline).await;
    assert!(
        s.due_reminders(t0(), Duration::hours(12), Duration::hours(12)).await.unwrap().is_empty(),
        "not yet within `before`"
    );
    let due_now = s.due_reminders(t0(), Duration::days(2), Duration::days(2)).await.unwrap();
    assert_eq!(due_now.len(), 1);
    let r = &due_now[0];
    assert_eq!(
        (r.assignment_id, r.suggestion_id, r.kind, r.deadline, r.department_id),
        (aid, sid, ReminderKind::Before, deadline, dept.id)
    );
    let msg = |chat| vec![OutMessage::notification(chat, "催办".into())];
    assert!(s.record_reminder(aid, deadline, ReminderKind::Before, msg(1301), t0()).await.unwrap());
    assert!(!s.record_reminder(aid, deadline, ReminderKind::Before, msg(1302), t0()).await.unwrap(), "recorded before");
    assert_eq!(due_in(s, 1301, ms(t0())).await.len(), 1);
    assert!(due_in(s, 1302, ms(t0())).await.is_empty(), "the second queues nothing");
    assert!(s.due_reminders(t0(), Duration::days(2), Duration::days(2)).await.unwrap().is_empty(), "no longer due");
    // Past the deadline, the overdue reminder is due, once.
    let later = deadline + Duration::hours(1);
    let overdue = s.due_reminders(later, Duration::days(2), Duration::days(2)).await.unwrap();
    assert_eq!(
        overdue.iter().map(|r| (r.assignment_id, r.kind)).collect::<Vec<_>>(),
        vec![(aid, ReminderKind::Overdue)]
    );
    assert!(s.record_reminder(aid, deadline, ReminderKind::Overdue, msg(1303), later).await.unwrap());
    assert!(s.due_reminders(later, Duration::days(2), Duration::days(2)).await.unwrap().is_empty());
    // Reopened with a new deadline: reminders are due again, for it.
    let new_deadline = later + Duration::days(1);
    let mut reopen = change(sid, SuggestionState::Assigned, SuggestionState::Reopened, "reopened");
    reopen.ops = vec![ChangeOp::ReactivateLead { assignment_id: aid, deadline: new_deadline }];
    done(s.apply_change(reopen, later).await.unwrap());
    let again = s.due_reminders(later, Duration::days(2), Duration::days(2)).await.unwrap();
    assert_eq!(
        again.iter().map(|r| (r.kind, r.deadline)).collect::<Vec<_>>(),
        vec![(ReminderKind::Before, new_deadline)]
    );
}

pub async fn digest_is_recorded_once(b: &Backend) {
    let s = &*b.store;
    let msg = |chat| vec![OutMessage::notification(chat, "超期汇总".into())];
    assert!(s.record_digest("2026-03-02", msg(1401), t0()).await.unwrap());
    assert!(!s.record_digest("2026-03-02", msg(1402), t0()).await.unwrap());
    assert_eq!(due_in(s, 1401, ms(t0())).await.len(), 1);
    assert!(due_in(s, 1402, ms(t0())).await.is_empty(), "the second queues nothing");
    assert!(s.record_digest("2026-03-03", msg(1403), t0()).await.unwrap(), "another day's is its own");
}

pub async fn overdue_suggestions_longest_overdue_first(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "M002").await;
    let dept = s.add_department("区民政局", None).await.unwrap();
    let (late, _) = assigned(s, m.id, dept.id, t0() - Duration::days(1)).await;
    let (later, _) = assigned(s, m.id, dept.id, t0() - Duration::days(5)).await;
    assigned(s, m.id, dept.id, t0() + Duration::days(5)).await;
    let overdue = s.overdue_suggestions(t0()).await.unwrap();
    assert_eq!(overdue.iter().map(|o| o.suggestion_id).collect::<Vec<_>>(), vec![later, late]);
    assert_eq!(overdue[0].department_name, "区民政局");
    assert_eq!(s.totals(t0()).await.unwrap().overdue, 2, "still with a department past the deadline");
}

pub async fn migrate_chat_is_idempotent_and_keeps_order(b: &Backend) {
    let s = &*b.store;
    let (old, new) = (-100, -1_000_000_000_100);
    let sent = queue(s, vec![OutMessage::reply(old, "s0".into())]).await[0].id;
    s.outbox_result(sent, DeliveryResult::Sent, None, t0()).await.unwrap();
    queue(
        s,
        vec![
            OutMessage::reply(old, "r1".into()),
            OutMessage::notification(old, "n1".into()),
            OutMessage::reply(old, "r2".into()),
        ],
    )
    .await;
    let notice = |chat| vec![OutMessage::notification(chat, "群已升级".into())];
    assert!(s.migrate_chat(old, new, notice(1501), t0()).await.unwrap(), "a new move");
    assert!(due_in(s, old, LATER_MS).await.is_empty(), "nothing left for the old chat");
    assert_eq!(due_in(s, 1501, LATER_MS).await.len(), 1, "the notice is queued");
    assert!(!s.migrate_chat(old, new, notice(1502), t0()).await.unwrap(), "known already");
    assert!(due_in(s, 1502, LATER_MS).await.is_empty(), "no second notice");
    // A message queued for the old chat afterwards is re-addressed by the next report of the move.
    queue(s, vec![OutMessage::reply(old, "r3".into())]).await;
    assert!(!s.migrate_chat(old, new, notice(1503), t0()).await.unwrap());
    assert!(due_in(s, old, LATER_MS).await.is_empty());
    assert_eq!(drain(s, new).await, vec!["r1", "r2", "r3", "n1"], "in their order");
    assert!(!s.migrate_chat(-7, -7, notice(1504), t0()).await.unwrap(), "a chat does not move to itself");
    assert!(due_in(s, 1504, LATER_MS).await.is_empty());
    assert_eq!(s.current_chat(old).await.unwrap(), new);
    let newer = -1_000_000_000_200;
    assert!(s.migrate_chat(new, newer, Vec::new(), t0()).await.unwrap());
    assert_eq!(s.current_chat(old).await.unwrap(), newer, "followed through every move");
    assert_eq!(s.current_chat(-42).await.unwrap(), -42);
    assert_eq!(s.current_chat(0).await.unwrap(), 0);
}
