//! The delivery worker schedules from memory: a long queue is read from the table in pages, not
//! once per message sent; a chat's messages still go strictly in order; memory holds a bounded
//! number of rows however long the queue; and rows another process queues are found.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jianyan::bot::delivery::{self, Delivery};
use jianyan::clock::SystemClock;
use jianyan::config::Config;
use jianyan::reply::Action;
use jianyan::store::{Commit, OutMessage, Priority, SqliteStore, prelude::*};
use support::fake_telegram::{FakeConfig, FakeTelegram};
use tokio::sync::watch;

/// One at a time: they share two cores with the builds.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Telegram's pace raised, so that the tests are about reads of the table, not about waiting.
fn config(dir: &std::path::Path) -> Config {
    let env = [
        ("JIANYAN_DATABASE__PATH", dir.join("jianyan.db").display().to_string()),
        ("JIANYAN_DELIVERY__GLOBAL_PER_SECOND", "1000".to_string()),
        ("JIANYAN_DELIVERY__PER_CHAT_PER_SECOND", "100".to_string()),
    ];
    Config::from_layers(None, env.iter().map(|(k, v)| (k.to_string(), v.clone()))).unwrap()
}

struct Worker {
    delivery: Delivery,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts the real delivery worker (no intake) against the fake server.
fn start(fake: &FakeTelegram, store: &SqliteStore, config: Config) -> Worker {
    let app = support::harness::app_on(store, config, Arc::new(SystemClock));
    let (stop, rx) = watch::channel(false);
    let bot = jianyan::bot::client("123456:TEST-token", url::Url::parse(&fake.api_url()).unwrap());
    let (delivery, task) = delivery::start(app, bot, rx);
    Worker { delivery, stop, task }
}

impl Worker {
    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(20), self.task).await.unwrap().unwrap();
    }
}

fn message(chat_id: i64, text: String, priority: Priority) -> OutMessage {
    OutMessage { chat_id, payload: Action::text(text).encode(), priority, held: None }
}

/// Queues messages in one transaction, in the order given.
async fn queue(store: &SqliteStore, messages: Vec<OutMessage>) {
    let commit =
        Commit { update_id: None, chat_id: 0, dialog: None, messages, submission: None, change: None, now: Utc::now() };
    store.commit(commit).await.unwrap();
}

async fn pending(store: &SqliteStore) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetch_one(store.pool()).await.unwrap()
}

async fn wait_until_no_pending(store: &SqliteStore, limit: Duration) {
    let deadline = Instant::now() + limit;
    while pending(store).await > 0 {
        assert!(Instant::now() < deadline, "the outbox did not empty in {limit:?}: {} pending", pending(store).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Texts each chat received, in order.
fn received(fake: &FakeTelegram) -> HashMap<i64, Vec<String>> {
    let mut per_chat: HashMap<i64, Vec<String>> = HashMap::new();
    for call in fake.calls_of("sendMessage").into_iter().filter(|c| c.ok()) {
        let text = call.body["text"].as_str().unwrap_or_default().to_string();
        per_chat.entry(call.chat_id().unwrap()).or_default().push(text);
    }
    per_chat
}

async fn open(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(&dir.join("jianyan.db"), Duration::from_secs(5), 4).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_member_broadcast_reads_the_queue_once_not_once_per_message() {
    let _serial = SERIAL.lock().await;
    let fake = FakeTelegram::start_with(FakeConfig { http_200_on_error: true, ..FakeConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let chats: Vec<i64> = (1..=400).map(|i| 50_000 + i).collect();
    queue(&store, chats.iter().map(|c| message(*c, format!("广播 #{c}"), Priority::Broadcast)).collect()).await;
    // Two server errors: the retried messages wait in memory, not in a re-read of the table.
    fake.fail_next("sendMessage", 500, 2);

    let worker = start(&fake, &store, config(dir.path()));
    wait_until_no_pending(&store, Duration::from_secs(60)).await;
    let (scans, looks, sends) = (worker.delivery.scans(), worker.delivery.looks(), worker.delivery.sends());
    worker.stop().await;

    let got = received(&fake);
    for c in &chats {
        assert_eq!(got.get(c).map(Vec::len), Some(1), "chat {c}");
    }
    println!("400 messages, {sends} sends: {scans} page read(s) of the queue, {looks} look(s) at new rows");
    assert_eq!(sends, 402, "each message once, plus the two retried");
    // The old worker read the queue after every send (≥ 402 times).
    assert!(scans <= 2, "the queue was read {scans} times for 402 sends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_chats_messages_go_in_order_without_reading_the_queue_per_message() {
    let _serial = SERIAL.lock().await;
    let fake = FakeTelegram::start_with(FakeConfig { http_200_on_error: true, ..FakeConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    // 50 chats with 8 notifications each, interleaved across chats; one chat's 3rd message meets a
    // 429 and another's a 500: each holds its chat's later messages.
    let chats: Vec<i64> = (1..=50).map(|i| 60_000 + i).collect();
    let mut messages = Vec::new();
    for k in 1..=8 {
        for c in &chats {
            messages.push(message(*c, format!("通知 {k} #{c}"), Priority::Notification));
        }
    }
    queue(&store, messages).await;
    let worker = start(&fake, &store, config(dir.path()));
    // Let the first round go, then make Telegram refuse twice.
    while fake.delivered_count() < 100 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    fake.fail_next("sendMessage", 429, 1);
    fake.fail_next("sendMessage", 500, 1);
    wait_until_no_pending(&store, Duration::from_secs(60)).await;
    let scans = worker.delivery.scans();
    worker.stop().await;

    let got = received(&fake);
    for c in &chats {
        let expected: Vec<String> = (1..=8).map(|k| format!("通知 {k} #{c}")).collect();
        assert_eq!(got.get(c), Some(&expected), "chat {c}: each message once, in order");
    }
    println!("400 messages in 50 chats: {scans} page read(s) of the queue");
    assert!(scans <= 2, "the queue was read {scans} times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5000_member_broadcast_is_held_a_few_thousand_rows_at_a_time() {
    let _serial = SERIAL.lock().await;
    let fake = FakeTelegram::start_with(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let chats: Vec<i64> = (1..=5000).map(|i| 100_000 + i).collect();
    queue(&store, chats.iter().map(|c| message(*c, format!("广播 #{c}"), Priority::Broadcast)).collect()).await;

    let worker = start(&fake, &store, config(dir.path()));
    // A reply committed while the broadcast is under way goes before the rest of it.
    while fake.delivered_count() < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    queue(&store, vec![message(7, "回复".to_string(), Priority::Reply)]).await;
    wait_until_no_pending(&store, Duration::from_secs(120)).await;
    let (scans, peak) = (worker.delivery.scans(), worker.delivery.peak_held());
    worker.stop().await;

    let got = received(&fake);
    for c in &chats {
        assert_eq!(got.get(c).map(Vec::len), Some(1), "chat {c}");
    }
    let order: Vec<i64> =
        fake.calls_of("sendMessage").iter().filter(|c| c.ok()).map(|c| c.chat_id().unwrap()).collect();
    let reply_at = order.iter().position(|c| *c == 7).unwrap();
    println!("5000 messages: {scans} page read(s), at most {peak} rows held; the reply went out {reply_at}th");
    assert!(reply_at < 1000, "the reply waited behind {reply_at} broadcast messages");
    assert!(peak <= 2100, "{peak} rows held at once");
    // One read per few hundred sends: 5000 / 512 pages plus the first.
    assert!((2..=12).contains(&scans), "the queue was read {scans} times for 5000 messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_another_process_queues_are_found_without_a_wake() {
    let _serial = SERIAL.lock().await;
    let fake = FakeTelegram::start_with(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let worker = start(&fake, &store, config(dir.path()));
    // Another process (the CLI) has its own connection to the file, and hands nothing over.
    let other = open(dir.path()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    queue(&other, (1..=3).map(|k| message(70_001, format!("来自命令行 {k}"), Priority::Notification)).collect()).await;
    fake.wait_for_sent(70_001, 3, Duration::from_secs(20)).await;
    let scans = worker.delivery.scans();
    worker.stop().await;
    let got = received(&fake);
    assert_eq!(got[&70_001], ["来自命令行 1", "来自命令行 2", "来自命令行 3"]);
    assert_eq!(scans, 1, "found by its new rows, not by reading the queue again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_this_process_commits_are_handed_over_not_read_from_the_table() {
    let _serial = SERIAL.lock().await;
    let fake = FakeTelegram::start_with(FakeConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let worker = start(&fake, &store, config(dir.path()));
    while worker.delivery.scans() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // 20 commits, 4 to each of 5 chats, with no wake: the store hands each over as it commits.
    let chats: Vec<i64> = (1..=5).map(|i| 80_000 + i).collect();
    for k in 1..=4 {
        for c in &chats {
            queue(&store, vec![message(*c, format!("受理 {k} #{c}"), Priority::Notification)]).await;
        }
    }
    wait_until_no_pending(&store, Duration::from_secs(30)).await;
    let (scans, handed_over) = (worker.delivery.scans(), worker.delivery.handed_over());
    worker.stop().await;
    let got = received(&fake);
    for c in &chats {
        let expected: Vec<String> = (1..=4).map(|k| format!("受理 {k} #{c}")).collect();
        assert_eq!(got.get(c), Some(&expected), "chat {c}");
    }
    assert_eq!(handed_over, 20);
    assert_eq!(scans, 1, "the queue was read only at start-up");
}
