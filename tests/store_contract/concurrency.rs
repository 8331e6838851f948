//! What may happen once happens once when the same request arrives many times at the same moment
//! (two instances, a retried request): the store decides, not the caller.

use std::future::Future;
use std::sync::Arc;

use chrono::Duration;
use jianyan::domain::SuggestionState;
use jianyan::store::{Audience, ChangeOp, Committed, NewBroadcast, OutMessage, Redeemed, ReminderKind, Store};

use crate::backends::Backend;
use crate::fixtures::*;

const RACERS: usize = 12;

/// Runs `RACERS` copies of `f` at once and returns their results.
async fn race<T, F, Fut>(store: &Arc<dyn Store>, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>, usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..RACERS).map(|i| tokio::spawn(f(store.clone(), i))).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("a racer"));
    }
    out
}

pub async fn store_updates_at_once_are_new_once(b: &Backend) {
    let new = race(&b.store, |s, _| async move {
        s.store_updates(&[incoming(1, 1), incoming(2, 1), incoming(3, 2)], t0()).await.unwrap()
    })
    .await;
    let mut all: Vec<i64> = new.into_iter().flatten().collect();
    all.sort();
    assert_eq!(all, vec![1, 2, 3], "each id reported new by exactly one caller");
}

pub async fn one_update_committed_at_once_is_applied_once(b: &Backend) {
    let m = member(&*b.store, "K001").await;
    let member_id = m.id;
    b.store.store_updates(&[incoming(77, 7)], t0()).await.unwrap();
    let results = race(&b.store, move |s, i| async move {
        let mut c = commit(Some(77), 7);
        c.messages = vec![OutMessage::reply(7, format!("reply {i}"))];
        c.submission =
            Some((new_suggestion(member_id, 2026), Box::new(|_: &jianyan::domain::ReferenceNo, _: i64| Vec::new())));
        s.commit(c).await.unwrap()
    })
    .await;
    let applied = results.iter().filter(|r| matches!(r, Committed::Done { .. })).count();
    let replayed = results.iter().filter(|r| matches!(r, Committed::AlreadyProcessed)).count();
    assert_eq!((applied, replayed), (1, RACERS - 1));
    assert_eq!(b.store.suggestions_of_member(m.id, 100).await.unwrap().len(), 1, "filed once");
    assert_eq!(drain(&*b.store, 7).await.len(), 1, "answered once");
}

pub async fn one_change_applied_at_once_is_applied_once(b: &Backend) {
    let m = member(&*b.store, "K002").await;
    let (id, _) = submit(&*b.store, m.id, 2026).await;
    let accepted = race(&b.store, move |s, _| async move {
        s.apply_change(change(id, SuggestionState::Submitted, SuggestionState::Accepted, "accepted"), t0())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(accepted.iter().filter(|r| matches!(r, Committed::Done { .. })).count(), 1, "one state change wins");
    let adopted = race(&b.store, move |s, _| async move {
        let mut c = change(id, SuggestionState::Accepted, SuggestionState::Accepted, "adopted");
        c.ops.push(ChangeOp::Adopt);
        c.once_key = Some("adopted".into());
        s.apply_change(c, t0()).await.unwrap()
    })
    .await;
    assert_eq!(adopted.iter().filter(|r| matches!(r, Committed::Done { .. })).count(), 1, "one once-only action wins");
    let events: Vec<String> =
        b.store.suggestion(id).await.unwrap().unwrap().timeline.into_iter().map(|e| e.event).collect();
    assert_eq!(events, vec!["submitted", "accepted", "adopted"]);
}

pub async fn one_invite_redeemed_at_once_binds_once(b: &Backend) {
    let m = member(&*b.store, "K003").await;
    b.store.create_invite(m.id, "race-code", t0(), t0() + Duration::days(1)).await.unwrap();
    let results = race(&b.store, |s, i| async move {
        let account = 3000 + i as i64;
        s.redeem_invite("race-code", account, account, None, t0()).await.unwrap()
    })
    .await;
    let bound: Vec<i64> = results
        .iter()
        .filter_map(|r| match r {
            Redeemed::Bound(jianyan::store::Identity::Member(m)) => m.telegram_user_id,
            _ => None,
        })
        .collect();
    assert_eq!(bound.len(), 1, "one account binds: {results:?}");
    assert!(results.iter().filter(|r| !matches!(r, Redeemed::Bound(_))).all(|r| *r == Redeemed::Used));
    assert_eq!(b.store.member_by_id(m.id).await.unwrap().unwrap().telegram_user_id, Some(bound[0]));
}

pub async fn one_broadcast_request_at_once_queues_once(b: &Backend) {
    bound_member(&*b.store, "K004", 4001, None).await;
    bound_member(&*b.store, "K005", 4002, None).await;
    let results = race(&b.store, |s, _| async move {
        let broadcast = NewBroadcast {
            topic_id: None,
            text: "通知".into(),
            audience: Audience::All,
            staff_id: None,
            dialog: None,
            request_key: Some("confirm-1".into()),
        };
        s.create_broadcast(broadcast, &|_| "copy".to_string(), t0()).await.unwrap()
    })
    .await;
    assert!(results.windows(2).all(|w| w[0] == w[1]), "every caller gets the same broadcast: {results:?}");
    assert_eq!(b.store.recent_broadcasts(100).await.unwrap().len(), 1);
    assert_eq!(drain(&*b.store, 4001).await, vec!["copy"], "queued once");
}

pub async fn reminder_and_digest_recorded_at_once_are_recorded_once(b: &Backend) {
    let m = member(&*b.store, "K006").await;
    let dept = b.store.add_department("区水务局", None).await.unwrap();
    let deadline = t0() - Duration::hours(1);
    let (_, aid) = assigned(&*b.store, m.id, dept.id, deadline).await;
    let reminded = race(&b.store, move |s, i| async move {
        let msg = vec![OutMessage::notification(5000 + i as i64, "催办".into())];
        s.record_reminder(aid, deadline, ReminderKind::Overdue, msg, t0()).await.unwrap()
    })
    .await;
    assert_eq!(reminded.iter().filter(|r| **r).count(), 1);
    let digested = race(&b.store, |s, i| async move {
        let msg = vec![OutMessage::notification(6000 + i as i64, "汇总".into())];
        s.record_digest("2026-03-02", msg, t0()).await.unwrap()
    })
    .await;
    assert_eq!(digested.iter().filter(|r| **r).count(), 1);
    assert_eq!(due(&*b.store, LATER_MS).await.len(), 2, "one reminder and one digest queued");
}
