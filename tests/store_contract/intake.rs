//! Durable intake: updates stored once, listed until processed, failures counted, abandoned ones kept.

use jianyan::store::{Committed, OutMessage};

use crate::backends::Backend;
use crate::fixtures::*;

pub async fn store_updates_returns_only_new_ids(b: &Backend) {
    let s = &*b.store;
    assert_eq!(s.store_updates(&[], t0()).await.unwrap(), Vec::<i64>::new());
    let first = s.store_updates(&[incoming(10, 1), incoming(11, 1), incoming(11, 1)], t0()).await.unwrap();
    assert_eq!(first, vec![10, 11], "a duplicate within one batch is new once");
    let again = s.store_updates(&[incoming(10, 1), incoming(11, 1)], t0()).await.unwrap();
    assert!(again.is_empty(), "storing the same updates twice stores them once: {again:?}");
    let mixed = s.store_updates(&[incoming(11, 1), incoming(12, 2)], t0()).await.unwrap();
    assert_eq!(mixed, vec![12]);
    let pending: Vec<i64> = s.pending_updates().await.unwrap().iter().map(|u| u.update_id).collect();
    assert_eq!(pending, vec![10, 11, 12], "each update is kept once");
    let mut odd = incoming(13, 3);
    odd.understood = false;
    s.store_updates(&[odd.clone(), odd], t0()).await.unwrap();
    assert_eq!(s.totals(t0()).await.unwrap().not_understood, 1, "counted once for staff");
}

pub async fn pending_updates_are_the_unprocessed_in_order(b: &Backend) {
    let s = &*b.store;
    s.store_updates(&[incoming(23, 2), incoming(21, 1), incoming(22, 1)], t0()).await.unwrap();
    let pending = s.pending_updates().await.unwrap();
    let ids: Vec<i64> = pending.iter().map(|u| u.update_id).collect();
    assert_eq!(ids, vec![21, 22, 23], "by update id");
    let u = &pending[0];
    assert_eq!((u.chat_id, u.payload.as_str(), u.attempts), (Some(1), r#"{"update_id":21}"#, 0));
    done(s.commit(commit(Some(22), 1)).await.unwrap());
    let ids: Vec<i64> = s.pending_updates().await.unwrap().iter().map(|u| u.update_id).collect();
    assert_eq!(ids, vec![21, 23], "a processed update is no longer pending");
}

pub async fn last_update_id_is_the_highest_stored(b: &Backend) {
    let s = &*b.store;
    assert_eq!(s.last_update_id().await.unwrap(), None, "an empty store");
    s.store_updates(&[incoming(105, 1), incoming(101, 1)], t0()).await.unwrap();
    assert_eq!(s.last_update_id().await.unwrap(), Some(105));
    done(s.commit(commit(Some(105), 1)).await.unwrap());
    assert_eq!(s.last_update_id().await.unwrap(), Some(105), "processing an update does not forget it");
    s.store_updates(&[incoming(103, 1)], t0()).await.unwrap();
    assert_eq!(s.last_update_id().await.unwrap(), Some(105));
}

pub async fn record_update_failure_counts_attempts(b: &Backend) {
    let s = &*b.store;
    s.store_updates(&[incoming(31, 1), incoming(32, 1)], t0()).await.unwrap();
    assert_eq!(s.record_update_failure(31, "boom").await.unwrap(), 1);
    assert_eq!(s.record_update_failure(31, "boom again").await.unwrap(), 2);
    assert_eq!(s.record_update_failure(32, "other").await.unwrap(), 1, "counted per update");
    let attempts: Vec<(i64, i64)> =
        s.pending_updates().await.unwrap().iter().map(|u| (u.update_id, u.attempts)).collect();
    assert_eq!(attempts, vec![(31, 2), (32, 1)], "a failed update stays pending with its attempts");
}

pub async fn abandon_update_gives_up_and_queues_its_messages(b: &Backend) {
    let s = &*b.store;
    s.store_updates(&[incoming(41, 7), incoming(42, 7)], t0()).await.unwrap();
    s.record_update_failure(41, "boom").await.unwrap();
    let rows = s.abandon_update(41, vec![OutMessage::reply(7, "sorry".into())], t0()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].chat_id, rows[0].payload.as_str()), (7, "sorry"));
    let ids: Vec<i64> = s.pending_updates().await.unwrap().iter().map(|u| u.update_id).collect();
    assert_eq!(ids, vec![42], "an abandoned update is no longer pending");
    assert_eq!(due_in(s, 7, LATER_MS).await, vec![rows[0].id], "its messages are queued");
    // Given up means processed: the work cannot be committed for it afterwards.
    assert!(matches!(s.commit(commit(Some(41), 7)).await.unwrap(), Committed::AlreadyProcessed));
}
