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

/// One Telegram account redeeming two people's codes at once (a member's and a staff member's)
/// becomes one of them, never both.
pub async fn one_account_redeeming_two_codes_at_once_is_one_person(b: &Backend) {
    let m = member(&*b.store, "K009").await;
    let staff = b.store.add_staff("王秘书", t0()).await.unwrap();
    b.store.create_invite(m.id, "code-member", t0(), t0() + Duration::days(1)).await.unwrap();
    let target = jianyan::store::InviteTarget::Staff(staff.id);
    b.store.create_invite_for(target, "code-staff", t0(), t0() + Duration::days(1)).await.unwrap();
    let results = race(&b.store, |s, i| async move {
        let code = if i % 2 == 0 { "code-member" } else { "code-staff" };
        s.redeem_invite(code, 9100, 9100, None, t0()).await.unwrap()
    })
    .await;
    let bound: Vec<&Redeemed> = results.iter().filter(|r| matches!(r, Redeemed::Bound(_))).collect();
    assert_eq!(bound.len(), 1, "the account binds once: {results:?}");
    assert!(
        results.iter().all(|r| matches!(r, Redeemed::Bound(_) | Redeemed::AlreadyBound(_) | Redeemed::AccountTaken)),
        "the others find it bound: {results:?}"
    );
    let as_member = b.store.member_by_telegram(9100).await.unwrap().is_some();
    let is_member = matches!(bound[0], Redeemed::Bound(jianyan::store::Identity::Member(_)));
    assert_eq!(as_member, is_member, "bound to the one the winning code is for");
}

/// Topics pinned at the same moment leave one pinned (第一协商议题), as one after the other would.
pub async fn topics_pinned_at_once_leave_one_pinned(b: &Backend) {
    race(&b.store, |s, i| async move {
        let topic = jianyan::store::NewTopic {
            title: format!("议题{i}"),
            description: String::new(),
            class: jianyan::domain::TopicClass::Legislation,
            form: String::new(),
            closes_at: None,
            pinned: true,
        };
        s.add_topic(topic, t0()).await.unwrap()
    })
    .await;
    let topics = b.store.topics().await.unwrap();
    assert_eq!(topics.len(), RACERS);
    assert_eq!(topics.iter().filter(|t| t.pinned).count(), 1, "one pinned: {topics:?}");
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

/// Commits that arrive together and fail (an error, a conflict) undo only their own work: the
/// others' work, committed at the same moment, stays, and nothing of the failed ones is kept.
pub async fn failures_among_commits_at_once_undo_only_their_own(b: &Backend) {
    let m = member(&*b.store, "K008").await;
    let member_id = m.id;
    let (stale_id, _) = submit(&*b.store, member_id, 2026).await;
    let updates: Vec<_> = (0..RACERS as i64).map(|i| incoming(8000 + i, 8000 + i)).collect();
    b.store.store_updates(&updates, t0()).await.unwrap();
    let results = race(&b.store, move |s, i| async move {
        let i = i as i64;
        let mut c = commit(Some(8000 + i), 8000 + i);
        c.dialog = Some(format!("state {i}"));
        c.messages = vec![OutMessage::reply(8000 + i, format!("reply {i}"))];
        c.submission =
            Some((new_suggestion(member_id, 2026), Box::new(|_: &jianyan::domain::ReferenceNo, _: i64| Vec::new())));
        match i % 3 {
            // Fails at its last step: a broadcast to a workstation that does not exist.
            1 => {
                let effect = jianyan::store::Effect::CreateBroadcast {
                    broadcast: NewBroadcast {
                        topic_id: None,
                        text: "x".into(),
                        audience: Audience::Workstation(987_654),
                        staff_id: None,
                        dialog: None,
                        request_key: None,
                    },
                    render: Box::new(|_| "copy".into()),
                    reply: Box::new(|_, _| Vec::new()),
                };
                s.commit_with(c, vec![effect]).await.map(|_| "failed?").unwrap_or("failed")
            }
            // Planned on a stale state.
            2 => {
                c.change = Some(change(stale_id, SuggestionState::Accepted, SuggestionState::Assigned, "assigned"));
                match s.commit(c).await.unwrap() {
                    Committed::Conflict => "conflict",
                    _ => "conflict?",
                }
            }
            _ => match s.commit(c).await.unwrap() {
                Committed::Done { .. } => "done",
                _ => "done?",
            },
        }
    })
    .await;
    for (i, r) in results.iter().enumerate() {
        let want = ["done", "failed", "conflict"][i % 3];
        assert_eq!(*r, want, "commit {i}");
    }
    let pending: Vec<i64> = b.store.pending_updates().await.unwrap().iter().map(|u| u.update_id - 8000).collect();
    for i in 0..RACERS as i64 {
        let kept = i % 3 == 0;
        assert_eq!(!pending.contains(&i), kept, "update {i} processed only if its commit was done");
        let state = b.store.dialog_state(8000 + i).await.unwrap();
        assert_eq!(state, kept.then(|| format!("state {i}")), "dialog of {i}");
        assert_eq!(due_in(&*b.store, 8000 + i, LATER_MS).await.len(), kept as usize, "reply of {i}");
    }
    let filed = b.store.suggestions_of_member(member_id, 1000).await.unwrap();
    assert_eq!(filed.len(), 1 + RACERS.div_ceil(3), "the done ones' suggestions, and the first");
    let mut seqs: Vec<i64> =
        filed.iter().map(|x| jianyan::domain::ReferenceNo::parse(&x.reference_no).unwrap().seq).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no number lost to a failed commit");
    assert_eq!(b.store.facts(stale_id).await.unwrap().unwrap().state, SuggestionState::Submitted);
    assert!(b.store.recent_broadcasts(10).await.unwrap().is_empty());
}

/// A write whose caller goes away (its future dropped: a web client that disconnects, a timeout, an
/// aborted task) blocks no later write.
pub async fn a_write_whose_caller_goes_away_blocks_no_later_write(b: &Backend) {
    // Rounds of writes dropped after a different while each (0 to 3 ms): some before they start,
    // some waiting for the writer, some under way, some done.
    for round in 0..30u64 {
        let writes: Vec<_> = (0..8)
            .map(|i| {
                let s = b.store.clone();
                tokio::spawn(async move {
                    let mut c = commit(None, 100 + i);
                    c.dialog = Some("x".into());
                    c.messages = vec![OutMessage::reply(100 + i, "x".into())];
                    s.commit(c).await
                })
            })
            .collect();
        pause(std::time::Duration::from_micros(100 * round)).await;
        for w in &writes {
            w.abort();
        }
        for w in writes {
            let _ = w.await;
        }
        let probe = probe_write(&*b.store, round as i64).await;
        assert!(probe.is_ok(), "a write after others were dropped (round {round}): {probe:?}");
    }
}

/// A commit cut off at any point (its future dropped: a web client that disconnects, a timeout, an
/// aborted task, a stop) leaves all of its work or none of it, and blocks no later write.
pub async fn cut_off_commits_leave_all_or_nothing_and_block_nothing(b: &Backend) {
    const N: i64 = 80;
    const BURST: i64 = 20;
    let m = member(&*b.store, "K007").await;
    let member_id = m.id;
    let updates: Vec<_> = (0..N + BURST).map(|i| incoming(7000 + i, 7000 + i)).collect();
    b.store.store_updates(&updates, t0()).await.unwrap();
    let make = move |i: i64| {
        let mut c = commit(Some(7000 + i), 7000 + i);
        c.dialog = Some(format!("state {i}"));
        c.messages = vec![OutMessage::reply(7000 + i, format!("reply {i}"))];
        c.submission =
            Some((new_suggestion(member_id, 2026), Box::new(|_: &jianyan::domain::ReferenceNo, _: i64| Vec::new())));
        c
    };
    // How long one such commit takes here, so that the cuts below fall before, inside and after one.
    b.store.store_updates(&[incoming(6999, 6999)], t0()).await.unwrap();
    let started = std::time::Instant::now();
    let mut warm = make(0);
    warm.update_id = Some(6999);
    warm.chat_id = 6999;
    warm.messages = vec![OutMessage::reply(6999, "warm".into())];
    done(b.store.commit(warm).await.unwrap());
    let took = started.elapsed();
    // A burst of commits, cut off together while most of them wait for their turn to write.
    let burst: Vec<_> = (N..N + BURST)
        .map(|i| {
            let s = b.store.clone();
            tokio::spawn(async move { s.commit(make(i)).await })
        })
        .collect();
    pause(took * 2).await;
    for task in &burst {
        task.abort();
    }
    for task in burst {
        let _ = task.await;
    }
    let probe = probe_write(&*b.store, 89_999).await;
    assert!(probe.is_ok(), "a write after a burst of commits was cut off: {probe:?}");
    // Each commit is cut off after a different share of that time (0 to 2×, most of them early,
    // where it begins its transaction), one after the other; after each cut, the store must still
    // take a write.
    for i in 0..N {
        let s = b.store.clone();
        let task = tokio::spawn(async move { s.commit(make(i)).await });
        pause(took * (i * i) as u32 / ((N * N) as u32 / 2)).await;
        task.abort();
        let _ = task.await;
        let probe = probe_write(&*b.store, 90_000 + i).await;
        assert!(probe.is_ok(), "a write after commit {i} was cut off: {probe:?}");
    }
    let pending: Vec<i64> = b
        .store
        .pending_updates()
        .await
        .unwrap()
        .iter()
        .map(|u| u.update_id - 7000)
        .filter(|i| *i < N + BURST)
        .collect();
    for i in 0..N + BURST {
        let chat = 7000 + i;
        let state = b.store.dialog_state(chat).await.unwrap();
        let queued = due_in(&*b.store, chat, LATER_MS).await;
        if pending.contains(&i) {
            assert_eq!((state, queued.len()), (None, 0), "update {i} not committed: none of its work");
        } else {
            assert_eq!((state, queued.len()), (Some(format!("state {i}")), 1), "update {i} committed: all of it");
        }
    }
    let filed = b.store.suggestions_of_member(member_id, 1000).await.unwrap().len() as i64;
    assert_eq!(filed, 1 + N + BURST - pending.len() as i64, "one suggestion per committed update");
    // The rest commits now, and the numbers have no gap.
    for i in &pending {
        done(b.store.commit(make(*i)).await.unwrap());
    }
    let mut seqs: Vec<i64> = Vec::new();
    for x in b.store.suggestions_of_member(member_id, 1000).await.unwrap() {
        seqs.push(jianyan::domain::ReferenceNo::parse(&x.reference_no).unwrap().seq);
    }
    seqs.sort();
    assert_eq!(seqs, (1..=N + BURST + 1).collect::<Vec<_>>());
    assert!(b.store.pending_updates().await.unwrap().iter().all(|u| u.update_id >= 89_999), "only the probes");
}

/// Lets other tasks run for `d`, finer than the timer's millisecond (the cuts above need it).
async fn pause(d: std::time::Duration) {
    let until = std::time::Instant::now() + d;
    while std::time::Instant::now() < until {
        tokio::task::yield_now().await;
    }
}

/// Things named uniquely (a member number, a department, a username, the preview's test member)
/// exist once however many callers create them at the same moment.
pub async fn named_things_created_at_once_exist_once(b: &Backend) {
    let rows = vec![row("N001", "甲", Some("塘桥"), "经济界"), row("N002", "乙", Some("塘桥"), "")];
    let imported = race(&b.store, move |s, _| {
        let rows = rows.clone();
        async move { s.import_members(&rows, t0()).await.unwrap() }
    })
    .await;
    assert_eq!(imported.iter().map(|x| x.inserted).sum::<usize>(), 2, "each member inserted by one caller");
    assert_eq!(imported.iter().map(|x| x.workstations_created).sum::<usize>(), 1);
    assert_eq!(b.store.members().await.unwrap().len(), 2);
    assert_eq!(b.store.workstations().await.unwrap().len(), 1);
    let departments = race(&b.store, |s, _| async move { s.add_department("区档案局", None).await.unwrap().id }).await;
    assert!(departments.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(b.store.departments().await.unwrap().len(), 1);
    let users = race(&b.store, |s, i| async move {
        let user = jianyan::store::NewUser {
            username: "same".into(),
            name: format!("caller {i}"),
            role: jianyan::store::Role::Staff,
            department_id: None,
            password_hash: "x".into(),
        };
        s.add_user(user, t0()).await.unwrap()
    })
    .await;
    assert_eq!(users.iter().filter(|u| u.is_some()).count(), 1, "one caller gets the username");
    let previews = race(&b.store, |s, _| async move { s.preview_member(3, "预览", t0()).await.unwrap().id }).await;
    assert!(previews.windows(2).all(|w| w[0] == w[1]), "one test member");
}

/// Stores one update; an error, or no answer within a minute (a guard against a hang, far above
/// any busy timeout), is a write the store no longer takes.
async fn probe_write(s: &dyn Store, update_id: i64) -> Result<(), String> {
    match tokio::time::timeout(std::time::Duration::from_secs(60), s.store_updates(&[incoming(update_id, 1)], t0()))
        .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within a minute".into()),
    }
}
