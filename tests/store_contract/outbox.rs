//! The outbox: what is due and in which order, how each delivery result is recorded, cancellation,
//! and the in-memory hand-over of committed rows.

use std::time::Duration;

use jianyan::store::console::{PREVIEW_CHAT_BASE, is_preview_chat};
use jianyan::store::{Audience, DeliveryResult, NewBroadcast, OutMessage, PendingPayload, Priority};

use crate::backends::Backend;
use crate::fixtures::*;

fn broadcast_msg(chat_id: i64, payload: &str) -> OutMessage {
    OutMessage { chat_id, payload: payload.into(), priority: Priority::Broadcast, held: None }
}

pub async fn due_outbox_orders_replies_notifications_broadcasts_oldest_first(b: &Backend) {
    let s = &*b.store;
    let b1 = queue(s, vec![broadcast_msg(10, "b1")]).await[0].id;
    let n1 = queue(s, vec![OutMessage::notification(11, "n1".into())]).await[0].id;
    let r1 = queue(s, vec![OutMessage::reply(12, "r1".into())]).await[0].id;
    let b2 = queue(s, vec![broadcast_msg(13, "b2")]).await[0].id;
    let r2 = queue(s, vec![OutMessage::reply(14, "r2".into())]).await[0].id;
    let n2 = queue(s, vec![OutMessage::notification(15, "n2".into())]).await[0].id;
    let got: Vec<(i64, i64, i64, i64)> =
        due(s, ms(t0())).await.iter().map(|d| (d.id, d.chat_id, d.priority, d.attempts)).collect();
    assert_eq!(
        got,
        vec![(r1, 12, 0, 0), (r2, 14, 0, 0), (n1, 11, 1, 0), (n2, 15, 1, 0), (b1, 10, 2, 0), (b2, 13, 2, 0)]
    );
    let first_three: Vec<i64> = s.due_outbox(3, ms(t0())).await.unwrap().iter().map(|d| d.id).collect();
    assert_eq!(first_three, vec![r1, r2, n1], "`limit` keeps the first ones");
}

pub async fn due_outbox_gives_only_each_chats_first_pending_message(b: &Backend) {
    let s = &*b.store;
    // Chat 20: a broadcast queued first, then a reply: the reply goes first (priority, then id).
    let x = queue(s, vec![broadcast_msg(20, "x")]).await[0].id;
    let y = queue(s, vec![OutMessage::reply(20, "y".into())]).await[0].id;
    // Chat 21: two replies in one commit, then one more.
    let rows = queue(s, vec![OutMessage::reply(21, "p1".into()), OutMessage::reply(21, "p2".into())]).await;
    queue(s, vec![OutMessage::reply(21, "p3".into())]).await;
    assert_eq!(due_in(s, 20, ms(t0())).await, vec![y]);
    assert_eq!(due_in(s, 21, ms(t0())).await, vec![rows[0].id]);
    assert_eq!(due(s, ms(t0())).await.len(), 2, "one per chat");
    s.outbox_result(y, DeliveryResult::Sent, None, t0()).await.unwrap();
    assert_eq!(due_in(s, 20, ms(t0())).await, vec![x], "then the next one");
    assert_eq!(drain(s, 21).await, vec!["p1", "p2", "p3"], "a chat's messages in order");
    assert_eq!(drain(s, 20).await, vec!["x"]);
    assert!(due(s, LATER_MS).await.is_empty());
}

pub async fn due_outbox_respects_next_attempt(b: &Backend) {
    let s = &*b.store;
    let rows = queue(s, vec![OutMessage::reply(30, "a".into()), OutMessage::reply(30, "b".into())]).await;
    let (a, now) = (rows[0].id, ms(t0()));
    s.outbox_result(a, DeliveryResult::Retry { at_ms: now + 5_000 }, Some("502"), t0()).await.unwrap();
    assert!(due_in(s, 30, now).await.is_empty(), "neither the retried row nor the chat's next one is due before");
    assert!(due_in(s, 30, now + 4_999).await.is_empty());
    let at = due(s, now + 5_000).await;
    assert_eq!(at.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(), vec![(a, 1)], "due at `at_ms`, counted");
    s.outbox_result(a, DeliveryResult::Postpone { at_ms: now + 9_000 }, Some("429"), t0()).await.unwrap();
    assert!(due_in(s, 30, now + 8_999).await.is_empty());
    let at = due(s, now + 9_000).await;
    assert_eq!(at.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(), vec![(a, 1)], "a 429 is not an attempt");
    assert_eq!(s.pending_payload(a).await.unwrap().map(|p| p.payload), Some("a".into()), "still waiting");
    // Another chat is not held up by chat 30's wait.
    let other = queue(s, vec![OutMessage::reply(31, "c".into())]).await[0].id;
    assert_eq!(due(s, now).await.iter().map(|d| d.id).collect::<Vec<_>>(), vec![other]);
}

pub async fn outbox_result_records_each_delivery_result(b: &Backend) {
    let s = &*b.store;
    let blocked_member = bound_member(s, "O001", 601, None).await;
    let rows = queue(
        s,
        vec![
            OutMessage::notification(600, "sent".into()),
            OutMessage::notification(601, "blocked".into()),
            OutMessage::notification(602, "failed".into()),
            OutMessage::notification(603, "uncertain".into()),
        ],
    )
    .await;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    assert_eq!(s.pending_payload(ids[0]).await.unwrap(), Some(PendingPayload { payload: "sent".into(), part: 0 }));
    let before = s.totals(t0()).await.unwrap();
    assert_eq!((before.undelivered, before.unreachable_members), (0, 0));
    s.outbox_result(ids[0], DeliveryResult::Sent, None, t0()).await.unwrap();
    s.outbox_result(ids[1], DeliveryResult::Blocked, Some("403"), t0()).await.unwrap();
    s.outbox_result(ids[2], DeliveryResult::Failed, Some("400"), t0()).await.unwrap();
    s.outbox_result(ids[3], DeliveryResult::Uncertain, Some("timeout"), t0()).await.unwrap();
    for id in &ids {
        assert_eq!(s.pending_payload(*id).await.unwrap(), None, "row {id} is no longer waiting");
    }
    assert!(due(s, LATER_MS).await.is_empty(), "none is sent again");
    let after = s.totals(t0()).await.unwrap();
    assert_eq!(after.undelivered, 2, "failed and uncertain are undelivered");
    assert_eq!(after.unreachable_members, 1, "blocked marks the member");
    let unreachable: Vec<i64> = s.unreachable_members().await.unwrap().iter().map(|(m, _)| m.id).collect();
    assert_eq!(unreachable, vec![blocked_member.id]);
    // Recording a result for a row that does not exist is not an error.
    s.outbox_result(987_654, DeliveryResult::Sent, None, t0()).await.unwrap();
}

pub async fn part_sent_is_recorded_only_at_its_part(b: &Backend) {
    let s = &*b.store;
    let id = queue(s, vec![OutMessage::reply(40, "long".into())]).await[0].id;
    s.outbox_result(id, DeliveryResult::Retry { at_ms: ms(t0()) }, None, t0()).await.unwrap();
    assert_eq!(due(s, ms(t0())).await[0].attempts, 1);
    s.outbox_result(id, DeliveryResult::PartSent { part: 0 }, None, t0()).await.unwrap();
    assert_eq!(s.pending_payload(id).await.unwrap(), Some(PendingPayload { payload: "long".into(), part: 1 }));
    let d = due(s, ms(t0())).await;
    assert_eq!(d.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(), vec![(id, 0)], "pending, attempts afresh");
    // The same part reported again (a replay) changes nothing.
    s.outbox_result(id, DeliveryResult::PartSent { part: 0 }, None, t0()).await.unwrap();
    assert_eq!(s.pending_payload(id).await.unwrap().map(|p| p.part), Some(1));
}

pub async fn cancelled_message_stays_cancelled(b: &Backend) {
    let s = &*b.store;
    bound_member(s, "O002", 611, None).await;
    bound_member(s, "O003", 612, None).await;
    let broadcast = NewBroadcast {
        topic_id: None,
        text: "通知".into(),
        audience: Audience::All,
        staff_id: None,
        dialog: None,
        request_key: None,
    };
    let (bid, n) = s.create_broadcast(broadcast, &|_| "copy".to_string(), t0()).await.unwrap();
    assert_eq!(n, 2);
    let (a, c) = (due_in(s, 611, ms(t0())).await[0], due_in(s, 612, ms(t0())).await[0]);
    // Chat 612's message is being sent when staff cancel.
    assert_eq!(s.cancel_broadcast(bid).await.unwrap(), Some(2));
    assert_eq!(s.pending_payload(a).await.unwrap(), None, "cancelled: not waiting");
    for result in [DeliveryResult::Retry { at_ms: ms(t0()) }, DeliveryResult::Postpone { at_ms: ms(t0()) }] {
        s.outbox_result(c, result, Some("in flight"), t0()).await.unwrap();
        assert_eq!(s.pending_payload(c).await.unwrap(), None, "stays cancelled after {result:?}");
    }
    assert!(due(s, LATER_MS).await.is_empty());
    let p = s.broadcast_progress(bid).await.unwrap().unwrap();
    assert!(p.cancelled);
    assert_eq!((p.pending, p.not_sent), (0, 2));
}

pub async fn preview_discard_touches_only_preview_chats(b: &Backend) {
    let s = &*b.store;
    let preview = -PREVIEW_CHAT_BASE - 5;
    assert!(is_preview_chat(preview) && !is_preview_chat(-1_000_000_000_000));
    let rows = queue(
        s,
        vec![
            OutMessage::reply(preview, "p1".into()),
            OutMessage::reply(preview, "p2".into()),
            OutMessage::reply(42, "real".into()),
        ],
    )
    .await;
    assert_eq!(s.discard_preview_outbox(42, t0()).await.unwrap(), 0, "never a real chat");
    assert!(s.pending_payload(rows[2].id).await.unwrap().is_some());
    assert_eq!(s.discard_preview_outbox(preview, t0()).await.unwrap(), 2);
    assert_eq!(s.pending_payload(rows[0].id).await.unwrap(), None);
    assert_eq!(s.pending_payload(rows[1].id).await.unwrap(), None);
    assert_eq!(due(s, LATER_MS).await.iter().map(|d| d.id).collect::<Vec<_>>(), vec![rows[2].id]);
    assert_eq!(s.discard_preview_outbox(preview, t0()).await.unwrap(), 0, "nothing left to discard");
}

pub async fn subscribe_outbox_hands_over_rows_committed_after_subscribing(b: &Backend) {
    let s = &*b.store;
    let before = queue(s, vec![OutMessage::reply(50, "before".into())]).await;
    let mut rx = s.subscribe_outbox();
    s.store_updates(&[incoming(5000, 51)], t0()).await.unwrap();
    let mut c = commit(Some(5000), 51);
    c.messages = vec![OutMessage::reply(51, "a".into()), OutMessage::notification(52, "b".into())];
    let first = done(s.commit(c).await.unwrap()).0;
    // A replay commits nothing and hands nothing over; the next commit's rows come next.
    let mut replay = commit(Some(5000), 51);
    replay.messages = vec![OutMessage::reply(51, "again".into())];
    assert!(matches!(s.commit(replay).await.unwrap(), jianyan::store::Committed::AlreadyProcessed));
    let second = queue(s, vec![broadcast_msg(53, "c")]).await;
    // A guard against a hang, not a timing assertion: the rows are handed over when committed.
    let mut got = Vec::new();
    while got.len() < 3 {
        let batch = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("committed rows are handed over")
            .expect("the feed is open");
        got.extend(batch.into_iter().map(|d| (d.id, d.chat_id, d.priority)));
    }
    let want: Vec<(i64, i64, i64)> = first.iter().chain(&second).map(|r| (r.id, r.chat_id, r.priority)).collect();
    assert_eq!(got, want, "in commit order, nothing from before subscribing");
    assert!(!got.iter().any(|(id, ..)| *id == before[0].id));
    assert!(rx.try_recv().is_err(), "nothing else");
}

/// A message recorded sent is final: a late result for it (a second attempt that was under way, a
/// row handed to the worker twice — by the in-memory feed and by a scan) neither queues it again nor
/// counts it undelivered.
pub async fn sent_message_stays_sent(b: &Backend) {
    let s = &*b.store;
    let rows = queue(s, vec![OutMessage::reply(60, "once".into()), OutMessage::reply(61, "also once".into())]).await;
    let (a, c) = (rows[0].id, rows[1].id);
    s.outbox_result(a, DeliveryResult::Sent, None, t0()).await.unwrap();
    s.outbox_result(c, DeliveryResult::Sent, None, t0()).await.unwrap();
    let late = [
        DeliveryResult::Postpone { at_ms: ms(t0()) },
        DeliveryResult::Retry { at_ms: ms(t0()) },
        DeliveryResult::PartSent { part: 0 },
    ];
    for result in late {
        s.outbox_result(a, result, Some("a late result"), t0()).await.unwrap();
        assert_eq!(s.pending_payload(a).await.unwrap(), None, "still sent after {result:?}");
        assert!(due_in(s, 60, LATER_MS).await.is_empty(), "not queued again after {result:?}");
    }
    for result in [DeliveryResult::Failed, DeliveryResult::Uncertain] {
        s.outbox_result(c, result, Some("a late result"), t0()).await.unwrap();
    }
    assert_eq!(s.totals(t0()).await.unwrap().undelivered, 0, "a delivered message is not undelivered");
}

/// `pending_outbox` pages through every pending message, due or not, in `(priority, id)` order from
/// a key on (inclusive); sent, failed and cancelled messages are not in it.
pub async fn pending_outbox_pages_every_pending_message_in_sending_order(b: &Backend) {
    let s = &*b.store;
    let b1 = queue(s, vec![broadcast_msg(70, "b1")]).await[0].id;
    let rows = queue(s, vec![OutMessage::reply(71, "r1".into()), OutMessage::reply(71, "r2".into())]).await;
    let (r1, r2) = (rows[0].id, rows[1].id);
    let n1 = queue(s, vec![OutMessage::notification(72, "n1".into())]).await[0].id;
    let sent = queue(s, vec![OutMessage::reply(73, "gone".into())]).await[0].id;
    s.outbox_result(sent, DeliveryResult::Sent, None, t0()).await.unwrap();
    // Waiting for a retry: still pending, with its time.
    s.outbox_result(n1, DeliveryResult::Retry { at_ms: ms(t0()) + 5_000 }, Some("502"), t0()).await.unwrap();

    let all = s.pending_outbox((i64::MIN, i64::MIN), 100).await.unwrap();
    let keys: Vec<(i64, i64, i64)> = all.iter().map(|q| (q.priority, q.id, q.chat_id)).collect();
    assert_eq!(keys, vec![(0, r1, 71), (0, r2, 71), (1, n1, 72), (2, b1, 70)]);
    let retry = all.iter().find(|q| q.id == n1).unwrap();
    assert_eq!((retry.attempts, retry.next_attempt_ms), (1, Some(ms(t0()) + 5_000)));

    // Paging: `limit`, then on from the next key (inclusive).
    let first = s.pending_outbox((i64::MIN, i64::MIN), 2).await.unwrap();
    assert_eq!(first.iter().map(|q| q.id).collect::<Vec<_>>(), vec![r1, r2]);
    let next = s.pending_outbox((0, r2 + 1), 10).await.unwrap();
    assert_eq!(next.iter().map(|q| q.id).collect::<Vec<_>>(), vec![n1, b1]);
    let from_n1 = s.pending_outbox((1, n1), 10).await.unwrap();
    assert_eq!(from_n1.first().map(|q| q.id), Some(n1), "the key itself is included");
}

/// `outbox_since` reads the messages written after an id, whatever their status, in id order;
/// `outbox_last_id` is the highest id so far (0 when empty).
pub async fn outbox_since_reads_only_what_was_written_after_an_id(b: &Backend) {
    let s = &*b.store;
    assert_eq!(s.outbox_last_id().await.unwrap(), 0);
    let a = queue(s, vec![OutMessage::reply(80, "a".into())]).await[0].id;
    let mark = s.outbox_last_id().await.unwrap();
    assert_eq!(mark, a);
    let later = queue(s, vec![OutMessage::reply(81, "b".into()), broadcast_msg(82, "c")]).await;
    s.outbox_result(later[0].id, DeliveryResult::Sent, None, t0()).await.unwrap();
    let since: Vec<i64> = s.outbox_since(mark, 100).await.unwrap().iter().map(|q| q.id).collect();
    assert_eq!(since, vec![later[0].id, later[1].id], "sent or not, in id order, nothing before the mark");
    let one: Vec<i64> = s.outbox_since(mark, 1).await.unwrap().iter().map(|q| q.id).collect();
    assert_eq!(one, vec![later[0].id]);
    assert_eq!(s.outbox_last_id().await.unwrap(), later[1].id);
    assert!(s.outbox_since(later[1].id, 100).await.unwrap().is_empty());
}
