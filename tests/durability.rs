//! Kill -9 at any moment: the real `jianyan run` process is killed again and again while members
//! submit; nothing confirmed to Telegram is lost and no suggestion is filed twice. On the backend
//! `JIANYAN_TEST_BACKEND` names (SQLite by default, or PostgreSQL).

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use jianyan::domain::TopicClass;
use jianyan::store::{NewTopic, Store};
use support::db::Place;
use support::fake_telegram::{FakeTelegram, TgUser};
use support::harness::seed_bound_members;

const MEMBERS: i64 = 40;

fn spawn_bot(fake: &FakeTelegram, dir: &std::path::Path, place: &Place) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jianyan"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("JIANYAN_") || k.starts_with("TELOXIDE_")) {
        cmd.env_remove(key);
    }
    cmd.arg("run")
        .current_dir(dir)
        .env("JIANYAN_BOT_TOKEN", "123456:TEST-token")
        .env("TELOXIDE_API_URL", fake.api_url())
        .envs(place.settings(dir))
        .env("JIANYAN_TELEGRAM__POLL_TIMEOUT_SECS", "1")
        .env("JIANYAN_WEB__LISTEN", "127.0.0.1:0")
        // This test is about durability, not Telegram's pace.
        .env("JIANYAN_DELIVERY__GLOBAL_PER_SECOND", "10000")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("jianyan starts")
}

/// Seeds members bound to Telegram users 1001.. and a pinned topic; returns the topic id.
async fn seed(store: &dyn Store) -> i64 {
    seed_bound_members(store, MEMBERS, 1001).await;
    let topic = NewTopic {
        title: "世博水环建设".into(),
        description: String::new(),
        class: TopicClass::Livelihood,
        form: String::new(),
        closes_at: None,
        pinned: true,
    };
    store.add_topic(topic, Utc::now()).await.unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_and_duplicates_nothing() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let place = Place::create().await;
    let config = jianyan::config::Config::from_layers(None, place.settings(dir.path())).unwrap();
    let (store, db) = place.open(&config, 2).await;
    let topic = seed(store.as_ref()).await;

    // Every member's whole dialog is queued up front. The buttons' nonces are predictable: each
    // question asked bumps the chat's nonce by one, starting from 0 for a newly bound member:
    // topics (1), kinds (2), title (3), body (4), the first point's Done button (5), the preview (6).
    let users: Vec<TgUser> = (1..=MEMBERS).map(|i| TgUser::new(1000 + i, format!("委员{i}"))).collect();
    for user in &users {
        fake.push_text(user, "/new");
        fake.push_callback(user, 1, &format!("n:1:t:{topic}"));
        fake.push_callback(user, 2, "n:2:k:advice");
        fake.push_text(user, &format!("{}的标题", user.first_name));
        fake.push_text(user, "建议内容");
        fake.push_callback(user, 5, "n:5:done");
        fake.push_callback(user, 6, "n:6:p:submit");
    }
    let total = MEMBERS * 7;

    // Kill the process at varied moments while it works through the queue.
    let mut kills = 0;
    for delay_ms in [250u64, 120, 400, 60, 300, 180, 90, 500] {
        let mut child = spawn_bot(&fake, dir.path(), &place);
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        let done = db.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NOT NULL").await;
        if done == total {
            break;
        }
    }

    // A last run finishes the rest; then a graceful stop once it is polling.
    let polls = fake.calls_of("getUpdates").len();
    let mut child = spawn_bot(&fake, dir.path(), &place);
    fake.wait_for_call("getUpdates", polls + 1, Duration::from_secs(30)).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = db.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NOT NULL").await;
        let pending = db.count("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").await;
        if done == total && pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "not finished after the kills: {done}/{total} processed, {pending} unsent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = wait_with_timeout(&mut child, Duration::from_secs(15));
    assert!(exit.success(), "SIGTERM stops jianyan cleanly: {exit:?}");

    // Every member filed exactly one suggestion and got a receipt with its number.
    let per_member: Vec<(i64, i64)> = db
        .rows("SELECT member_id, COUNT(*) FROM suggestions GROUP BY member_id", &[])
        .await
        .iter()
        .map(|r| (r[0].int(), r[1].int()))
        .collect();
    assert_eq!(per_member.len() as i64, MEMBERS, "every member's suggestion was filed:\n{}", fake.transcript(1001));
    assert!(per_member.iter().all(|(_, n)| *n == 1), "no duplicates: {per_member:?}");
    let failed = db.count("SELECT COUNT(*) FROM updates WHERE error IS NOT NULL").await;
    assert_eq!(failed, 0);
    let mut duplicated_receipts = 0;
    for user in &users {
        let receipts = fake.sent_to(user.chat_id()).into_iter().filter(|m| m.text.contains("提交成功")).count();
        assert!(receipts >= 1, "{} got no receipt:\n{}", user.first_name, fake.transcript(user.chat_id()));
        duplicated_receipts += receipts - 1;
        assert!(
            !fake.sent_to(user.chat_id()).iter().any(|m| m.text.contains("过期")),
            "no step was lost or reordered:\n{}",
            fake.transcript(user.chat_id())
        );
    }
    // Every update was confirmed to Telegram and nothing is left in its queue.
    assert_eq!(fake.pending_update_count(), 0);
    println!("{kills} kill -9s; {duplicated_receipts} receipt(s) sent twice (killed between sending and recording)");
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("jianyan did not stop within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
