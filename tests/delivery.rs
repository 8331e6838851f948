//! Delivery at Telegram's pace, against a fake server that enforces Telegram's limits: broadcasts
//! reach everyone exactly once, 429 and 5xx are survived, blocked members are marked, notifications
//! overtake broadcasts, timeouts are not resent, and a kill -9 mid-broadcast skips and repeats no one.
//! On the backend `JIANYAN_TEST_BACKEND` names (SQLite by default, or PostgreSQL).

mod support;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jianyan::clock::SystemClock;
use jianyan::config::Config;
use jianyan::reply::Action;
use jianyan::store::{Commit, OutMessage, Priority, Store};
use support::db::{Place, TestDb};
use support::fake_telegram::{FakeConfig, FakeTelegram};
use support::harness::seed_bound_members;
use tokio::sync::watch;

/// These tests measure pace against wall-clock limits: they run one at a time, so that they do
/// not share two cores with each other.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The settings for the database at `place` (its SQLite file in `dir`), with `extra`.
fn config(dir: &std::path::Path, place: &Place, extra: &[(&str, &str)]) -> Config {
    let mut env = place.settings(dir);
    env.push(("JIANYAN_TELEGRAM__POLL_TIMEOUT_SECS".to_string(), "1".to_string()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_layers(None, env).unwrap()
}

/// A fresh database (on the test backend) with at most `max_connections` connections: where it
/// is, the store on it and raw SQL on it.
async fn open(dir: &std::path::Path, max_connections: u32) -> (Place, Arc<dyn Store>, TestDb) {
    let place = Place::create().await;
    let (store, db) = place.open(&config(dir, &place, &[]), max_connections).await;
    (place, store, db)
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start_bot(fake: &FakeTelegram, store: &Arc<dyn Store>, config: Config) -> Running {
    let app = support::harness::app_with(store.clone(), config, Arc::new(SystemClock));
    let (stop, rx) = watch::channel(false);
    let client = jianyan::bot::client("123456:TEST-token", url::Url::parse(&fake.api_url()).unwrap());
    let task = tokio::spawn(jianyan::bot::run(app, client, rx));
    Running { stop, task }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(20), self.task).await.unwrap().unwrap().unwrap();
    }
}

/// Queues one broadcast message per chat, the way a broadcast does (one transaction, priority 2).
async fn queue(store: &dyn Store, chats: &[i64], text: &str, priority: Priority) {
    let messages = chats
        .iter()
        .map(|c| OutMessage {
            chat_id: *c,
            payload: Action::text(format!("{text} #{c}")).encode(),
            priority,
            held: None,
        })
        .collect();
    let commit =
        Commit { update_id: None, chat_id: 0, dialog: None, messages, submission: None, change: None, now: Utc::now() };
    store.commit(commit).await.unwrap();
}

async fn wait_until_no_pending(db: &TestDb, limit: Duration) {
    let deadline = Instant::now() + limit;
    while db.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").await > 0 {
        assert!(Instant::now() < deadline, "the outbox did not empty in {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Messages each chat received (successful sendMessage calls).
fn received(fake: &FakeTelegram) -> HashMap<i64, usize> {
    let mut per_chat = HashMap::new();
    for call in fake.calls_of("sendMessage").into_iter().filter(|c| c.ok()) {
        *per_chat.entry(call.chat_id().unwrap()).or_insert(0) += 1;
    }
    per_chat
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_to_500_members_at_telegrams_pace() {
    let _serial = SERIAL.lock().await;
    let fake = FakeTelegram::start_with(FakeConfig {
        max_per_second_global: Some(30),
        max_per_second_per_chat: Some(1),
        http_200_on_error: true,
        ..FakeConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (place, store, db) = open(dir.path(), 4).await;
    let chats = seed_bound_members(store.as_ref(), 500, 10_001).await;
    let blocked: Vec<i64> = chats.iter().copied().step_by(50).collect(); // 10 members blocked the bot
    for c in &blocked {
        fake.block_chat(*c);
    }
    // Telegram says "slow down" three times and fails three times with 500.
    fake.fail_next("sendMessage", 429, 3);
    fake.fail_next("sendMessage", 500, 3);
    queue(store.as_ref(), &chats, "「十五五」规划征集意见开始了", Priority::Broadcast).await;

    let started = Instant::now();
    let bot = start_bot(&fake, &store, config(dir.path(), &place, &[])).await;
    wait_until_no_pending(&db, Duration::from_secs(90)).await;
    let took = started.elapsed();
    bot.stop().await;

    let got = received(&fake);
    for c in &chats {
        let expected = if blocked.contains(c) { 0 } else { 1 };
        assert_eq!(got.get(c).copied().unwrap_or(0), expected, "chat {c}");
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'").await, 490);
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox WHERE status = 'blocked'").await, 10);
    // Staff see who cannot be reached (the /stats count and the `members unreachable` list).
    let unreachable = store.unreachable_members().await.unwrap();
    let mut unreachable_chats: Vec<i64> = unreachable.iter().map(|(m, _)| m.telegram_user_id.unwrap()).collect();
    unreachable_chats.sort();
    assert_eq!(unreachable_chats, blocked);
    assert_eq!(store.totals(Utc::now()).await.unwrap().unreachable_members, 10);
    // Only the injected 429s: our own pace never exceeded Telegram's limits.
    assert_eq!(fake.count_429(), 3, "429s beyond the 3 injected ones mean the pace was too fast");
    let rate = 490.0 / took.as_secs_f64();
    println!("490 messages in {took:?}: {rate:.1}/s against a limit of 30/s");
    assert!(rate <= 30.5, "faster than the limit: {rate:.1}/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_overtake_a_running_broadcast() {
    let _serial = SERIAL.lock().await;
    let fake = FakeTelegram::start_with(FakeConfig { max_per_second_global: Some(30), ..FakeConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let (place, store, db) = open(dir.path(), 4).await;
    let chats = seed_bound_members(store.as_ref(), 150, 20_001).await;
    queue(store.as_ref(), &chats[..149], "广播", Priority::Broadcast).await;
    let bot = start_bot(&fake, &store, config(dir.path(), &place, &[])).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let notified = chats[149];
    queue(store.as_ref(), &[notified], "您的建言已受理", Priority::Notification).await;
    // Counted from when the notification was committed (how long the commit itself waited, or how
    // fast the bot started, is not what this test is about): at most the sends already under way
    // (`delivery.concurrency`) and those of one more pass go before it.
    let sent_when_queued = fake.calls_of("sendMessage").iter().filter(|c| c.ok()).count();
    fake.wait_for_sent(notified, 1, Duration::from_secs(10)).await;
    let sends: Vec<i64> =
        fake.calls_of("sendMessage").iter().filter(|c| c.ok()).map(|c| c.chat_id().unwrap()).collect();
    assert!(sent_when_queued < 140, "the broadcast was nearly over before the notification came: {sent_when_queued}");
    let position = sends.iter().position(|c| *c == notified).unwrap();
    let behind = position - sent_when_queued;
    assert!(behind <= 16, "the notification waited behind {behind} broadcast messages after it was queued");
    wait_until_no_pending(&db, Duration::from_secs(30)).await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_times_out_is_uncertain_and_not_repeated() {
    let _serial = SERIAL.lock().await;
    let fake =
        FakeTelegram::start_with(FakeConfig { latency: Duration::from_millis(1500), ..FakeConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let (place, store, db) = open(dir.path(), 4).await;
    let chats = seed_bound_members(store.as_ref(), 1, 30_001).await;
    queue(store.as_ref(), &chats, "通知", Priority::Notification).await;
    let bot =
        start_bot(&fake, &store, config(dir.path(), &place, &[("JIANYAN_DELIVERY__REQUEST_TIMEOUT_SECS", "1")])).await;
    wait_until_no_pending(&db, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    bot.stop().await;
    let row = db.rows("SELECT status, attempts FROM outbox", &[]).await;
    assert_eq!(row.len(), 1, "{row:?}");
    let (status, attempts) = (row[0][0].text(), row[0][1].int());
    assert_eq!((status.as_str(), attempts), ("uncertain", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_broadcast_skips_and_repeats_no_one() {
    let _serial = SERIAL.lock().await;
    let fake = FakeTelegram::start_with(FakeConfig {
        max_per_second_global: Some(30),
        max_per_second_per_chat: Some(1),
        ..FakeConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (place, store, db) = open(dir.path(), 2).await;
    let chats = seed_bound_members(store.as_ref(), 150, 40_001).await;
    queue(store.as_ref(), &chats, "广播", Priority::Broadcast).await;

    let spawn = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jianyan"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("JIANYAN_") || k.starts_with("TELOXIDE_")) {
            cmd.env_remove(key);
        }
        cmd.arg("run")
            .current_dir(dir.path())
            .env("JIANYAN_BOT_TOKEN", "123456:TEST-token")
            .env("TELOXIDE_API_URL", fake.api_url())
            .envs(place.settings(dir.path()))
            .env("JIANYAN_TELEGRAM__POLL_TIMEOUT_SECS", "1")
            .env("JIANYAN_WEB__LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = spawn();
    // Let it get going, then kill it hard in the middle.
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.delivered_count() < 40 {
        assert!(Instant::now() < deadline, "the broadcast did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let sent_before = db.ints("SELECT chat_id FROM outbox WHERE status = 'sent'", &[]).await;
    assert!(!sent_before.is_empty() && sent_before.len() < 150, "killed in the middle: {} sent", sent_before.len());

    let mut child = spawn();
    wait_until_no_pending(&db, Duration::from_secs(60)).await;
    child.kill().unwrap();
    child.wait().unwrap();

    let got = received(&fake);
    for c in &chats {
        let n = got.get(c).copied().unwrap_or(0);
        assert!(n >= 1, "chat {c} was skipped");
        if sent_before.contains(c) {
            assert_eq!(n, 1, "chat {c} was confirmed sent before the kill and got a second message");
        }
    }
    let repeated = got.values().filter(|n| **n > 1).count();
    println!("{} sent before the kill; {repeated} message(s) under way at the kill went out twice", sent_before.len());
    assert!(repeated <= 8, "at most the messages under way (delivery.concurrency) can repeat: {repeated}");
}
