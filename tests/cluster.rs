//! Several `jianyan run` processes on one PostgreSQL database against the fake Telegram, in polling
//! and in webhook mode, with the leading instance killed (`kill -9`) and restarted halfway:
//! nothing is lost or done twice, and Telegram's limits hold for all instances together.
//!
//! Each test makes its own database (`support::postgres::TestDatabase`) on the server named by
//! `JIANYAN_TEST_POSTGRES` (default: the local PostgreSQL) and drops it at the end.

mod support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use jianyan::domain::{MemberLevel, MemberNo, TopicClass};
use jianyan::store::{Audience, DueMessage, NewBroadcast, NewTopic, PgStore, RosterRow, prelude::*};
use sqlx::PgPool;
use support::fake_telegram::{FakeConfig, FakeTelegram, SentMessage, TgUser};
use support::postgres::TestDatabase;

const TOKEN: &str = "123456:TEST-token";
const SECRET: &str = "cluster-secret_0123456789";
/// How long one step of a member's dialog may take, a takeover included.
const STEP: Duration = Duration::from_secs(60);
/// The advisory lock the leader holds (`store/postgres/cluster.rs`).
const LEADER_LOCK: i64 = 0x006a_6961_6e79_616e;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Polling,
    Webhook,
}

/// One `jianyan run` process: its port, its log file, and the process while it runs.
struct Instance {
    port: u16,
    log: PathBuf,
    child: Option<Child>,
}

/// N instances on one fresh PostgreSQL database, and the driver that plays Telegram's users.
struct Cluster {
    driver: Driver,
    _db: TestDatabase,
    env: Vec<(String, String)>,
    instances: Vec<Instance>,
    dir: tempfile::TempDir,
}

/// The fake Telegram, the store and the database, shared by the tasks that play members.
#[derive(Clone)]
struct Driver {
    fake: FakeTelegram,
    store: PgStore,
    pool: PgPool,
    logs: Vec<PathBuf>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Cluster {
    async fn start(n: usize, mode: Mode, fake: FakeConfig, settings: &[(&str, &str)]) -> Self {
        let fake = FakeTelegram::start_with(fake).await;
        let db = TestDatabase::create().await;
        let store = PgStore::open(db.url(), 4).await.expect("open the test database");
        let pool = store.pool().clone();
        let mut env: Vec<(String, String)> = vec![
            ("JIANYAN_DATABASE__URL".into(), db.url().to_string()),
            ("JIANYAN_BOT_TOKEN".into(), TOKEN.into()),
            ("TELOXIDE_API_URL".into(), fake.api_url()),
            ("JIANYAN_TELEGRAM__POLL_TIMEOUT_SECS".into(), "1".into()),
            ("JIANYAN_TELEGRAM__WORKERS".into(), "8".into()),
            ("JIANYAN_TELEGRAM__SHUTDOWN_GRACE_SECS".into(), "3".into()),
            ("JIANYAN_REFERENCES__PREFIX".into(), "PD".into()),
        ];
        if mode == Mode::Webhook {
            env.push(("JIANYAN_TELEGRAM__MODE".into(), "webhook".into()));
            env.push(("JIANYAN_TELEGRAM__WEBHOOK_URL".into(), "https://jianyan.example.org/telegram/webhook".into()));
            env.push(("JIANYAN_TELEGRAM__WEBHOOK_SECRET".into(), SECRET.into()));
        }
        env.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let dir = tempfile::tempdir().unwrap();
        let instances: Vec<Instance> = (0..n)
            .map(|i| Instance { port: free_port(), log: dir.path().join(format!("instance-{i}.log")), child: None })
            .collect();
        if mode == Mode::Webhook {
            // The load balancer in front of the instances.
            let targets = instances.iter().map(|i| format!("http://127.0.0.1:{}/telegram/webhook", i.port)).collect();
            fake.webhook_targets(targets);
        }
        let logs = instances.iter().map(|i| i.log.clone()).collect();
        let driver = Driver { fake, store, pool, logs };
        let mut cluster = Self { driver, _db: db, env, instances, dir };
        for i in 0..n {
            cluster.spawn(i);
        }
        cluster
    }

    fn spawn(&mut self, i: usize) {
        let instance = &mut self.instances[i];
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&instance.log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_jianyan"));
        command
            .arg("run")
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("JIANYAN_WEB__LISTEN", format!("127.0.0.1:{}", instance.port))
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        instance.child = Some(command.spawn().expect("start jianyan run"));
    }

    /// The instance whose process holds the leader's lock, once one does.
    async fn leader(&self) -> usize {
        let deadline = Instant::now() + STEP;
        loop {
            let name: Option<String> = sqlx::query_scalar(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objid = ($1::bigint & 4294967295)::oid",
            )
            .bind(LEADER_LOCK)
            .fetch_optional(&self.driver.pool)
            .await
            .unwrap();
            let pid = name.and_then(|n| n.rsplit(' ').next().and_then(|p| p.parse::<u32>().ok()));
            if let Some(i) = pid.and_then(|pid| {
                self.instances.iter().position(|inst| inst.child.as_ref().is_some_and(|c| c.id() == pid))
            }) {
                return i;
            }
            assert!(Instant::now() < deadline, "no instance leads\n{}", self.driver.logs());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -9`: no shutdown, no goodbye to the database.
    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.instances[i].child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Driver {
    fn logs(&self) -> String {
        let mut all = String::new();
        for (i, log) in self.logs.iter().enumerate() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            all.push_str(&format!("--- instance {i} (last lines)\n"));
            for line in tail.into_iter().rev() {
                all.push_str(line);
                all.push('\n');
            }
        }
        all
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }

    /// Waits until the update is processed and the messages it queued were handed to Telegram.
    async fn settle(&self, update_id: i64) {
        let deadline = Instant::now() + STEP;
        loop {
            let done: Option<bool> =
                sqlx::query_scalar("SELECT processed_at IS NOT NULL FROM updates WHERE update_id = $1")
                    .bind(update_id)
                    .fetch_optional(&self.pool)
                    .await
                    .unwrap();
            let pending: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM outbox WHERE update_id = $1 AND status NOT IN ('sent', 'blocked', 'failed', 'cancelled')",
            )
            .bind(update_id)
            .fetch_one(&self.pool)
            .await
            .unwrap();
            if done == Some(true) && pending == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "update {update_id} was not handled in time\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn say(&self, user: &TgUser, text: &str) -> Vec<SentMessage> {
        let before = self.fake.sent_to(user.chat_id()).len();
        let id = self.fake.push_text(user, text);
        self.settle(id).await;
        self.fake.sent_to(user.chat_id()).split_off(before)
    }

    /// Presses the button whose label contains `label` on the latest message that has one.
    async fn tap(&self, user: &TgUser, label: &str) -> Vec<SentMessage> {
        let sent = self.fake.sent_to(user.chat_id());
        let message = sent
            .iter()
            .rev()
            .find(|m| m.button_texts().iter().any(|t| t.contains(label)))
            .unwrap_or_else(|| panic!("no button «{label}» sent to {}", user.chat_id()))
            .clone();
        let text = message.button_texts().into_iter().find(|t| t.contains(label)).unwrap();
        let before = sent.len();
        let id = self.fake.click(user, &message, &text);
        self.settle(id).await;
        self.fake.sent_to(user.chat_id()).split_off(before)
    }

    /// A member registers with a fresh invite and walks the whole suggestion dialog.
    async fn member_submits(&self, user: &TgUser, member_no: &str) {
        let code = invite(&self.store, member_no).await;
        self.say(user, &format!("/start {code}")).await;
        self.say(user, "/new").await;
        self.tap(user, "📌").await;
        self.tap(user, "建言资政").await;
        self.say(user, &format!("关于{member_no}所在社区养老服务的建议")).await;
        self.say(user, "增加日间照料中心的床位").await;
        self.tap(user, "完成").await;
        self.tap(user, "提交").await;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.instances.len() {
            self.kill(i);
        }
    }
}

async fn invite(store: &PgStore, member_no: &str) -> String {
    let member = store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
    let code = jianyan::invite::generate(&mut rand::thread_rng());
    let now = Utc::now();
    store.create_invite(member.id, &jianyan::invite::hash(&code), now, now + chrono::Duration::days(1)).await.unwrap();
    code
}

fn roster(n: usize) -> Vec<RosterRow> {
    (1..=n)
        .map(|i| RosterRow {
            member_no: MemberNo::parse(&format!("PD{i:04}")).unwrap(),
            name: format!("委员{i}"),
            level: MemberLevel::District,
            workstation: None,
            sector: "教育界".into(),
            phone: String::new(),
        })
        .collect()
}

async fn seed_topic(store: &PgStore) -> i64 {
    let topic = NewTopic {
        title: "\"十五五\"总体发展规划编制".into(),
        description: "区政协协商议题".into(),
        class: TopicClass::Plan,
        form: "议政性常委会".into(),
        closes_at: None,
        pinned: true,
    };
    store.add_topic(topic, Utc::now()).await.unwrap().id
}

/// 100 members register and submit at once; halfway the leader is killed and later restarted.
async fn hundred_members_submit_while_the_leader_dies(instances: usize, mode: Mode) {
    let mut cluster = Cluster::start(
        instances,
        mode,
        FakeConfig::default(),
        // The fake does not enforce Telegram's limits here; the broadcast test checks them.
        &[("JIANYAN_DELIVERY__GLOBAL_PER_SECOND", "1000"), ("JIANYAN_DELIVERY__PER_CHAT_PER_SECOND", "100")],
    )
    .await;
    let d = cluster.driver.clone();
    d.store.import_members(&roster(100), Utc::now()).await.unwrap();
    seed_topic(&d.store).await;
    let first_leader = cluster.leader().await;
    let members: Vec<_> = (1..=100)
        .map(|i| {
            let d = d.clone();
            tokio::spawn(async move {
                let user = TgUser::new(700_000 + i, format!("委员{i}"));
                // Members start a little apart, as people do.
                tokio::time::sleep(Duration::from_millis(20 * i as u64)).await;
                d.member_submits(&user, &format!("PD{i:04}")).await;
            })
        })
        .collect();
    // Halfway through, the leader is killed; another instance takes over; the killed one is
    // started again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    cluster.kill(first_leader);
    let next_leader = cluster.leader().await;
    assert_ne!(next_leader, first_leader);
    cluster.spawn(first_leader);
    for m in members {
        m.await.expect("a member's dialog finished");
    }
    // Every member has exactly one suggestion, and a receipt naming its reference number.
    let per_member: Vec<(i64, i64)> =
        sqlx::query_as("SELECT member_id, COUNT(*) FROM suggestions GROUP BY member_id ORDER BY member_id")
            .fetch_all(&d.pool)
            .await
            .unwrap();
    assert_eq!(per_member.len(), 100, "members with a suggestion");
    assert!(per_member.iter().all(|(_, n)| *n == 1), "a member has two suggestions: {per_member:?}");
    let references: Vec<(i64, String)> = sqlx::query_as(
        "SELECT m.telegram_user_id, s.reference_no FROM suggestions s JOIN members m ON m.id = s.member_id",
    )
    .fetch_all(&d.pool)
    .await
    .unwrap();
    for (chat, reference) in &references {
        assert!(
            d.fake.sent_to(*chat).iter().any(|m| m.text.contains(reference.as_str())),
            "member {chat} got no receipt for {reference}"
        );
    }
    // Numbers without gaps or duplicates.
    let seqs: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM suggestions ORDER BY seq").fetch_all(&d.pool).await.unwrap();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>());
    // Every update stored once and processed once: nothing pending, one submitted event each.
    assert_eq!(d.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NULL").await, 0);
    assert_eq!(d.count("SELECT COUNT(*) FROM timeline_events WHERE event = 'submitted'").await, 100);
    let pushed = d.fake.pushed_ids();
    assert_eq!(d.count("SELECT COUNT(*) FROM updates").await, pushed.len() as i64, "every update stored once");
    if mode == Mode::Webhook {
        // Telegram got a 2xx for every update (some only on a retry to another instance).
        let ok: HashSet<i64> =
            d.fake.webhook_posts().into_iter().filter(|(_, _, s)| *s == 200).map(|(_, id, _)| id).collect();
        assert_eq!(ok, pushed.into_iter().collect::<HashSet<_>>());
    } else {
        assert!(d.fake.calls_of("setWebhook").is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_polling_a_hundred_members_and_a_killed_leader() {
    hundred_members_submit_while_the_leader_dies(2, Mode::Polling).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_polling_a_hundred_members_and_a_killed_leader() {
    hundred_members_submit_while_the_leader_dies(3, Mode::Polling).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_by_webhook_a_hundred_members_and_a_killed_leader() {
    hundred_members_submit_while_the_leader_dies(2, Mode::Webhook).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_by_webhook_a_hundred_members_and_a_killed_leader() {
    hundred_members_submit_while_the_leader_dies(3, Mode::Webhook).await;
}

/// A broadcast to 2,000 members from two instances, the leader killed while it sends: nobody is
/// skipped, nobody whose message was recorded as sent gets it again, and Telegram (the fake,
/// enforcing 30 a second and 1 a second per chat) never saw more than that from the two together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broadcast_to_two_thousand_from_two_instances_survives_a_killed_leader() {
    const MEMBERS: usize = 2000;
    let fake =
        FakeConfig { max_per_second_global: Some(30), max_per_second_per_chat: Some(1), ..FakeConfig::default() };
    let mut cluster = Cluster::start(2, Mode::Polling, fake, &[]).await;
    let d = cluster.driver.clone();
    d.store.import_members(&roster(MEMBERS), Utc::now()).await.unwrap();
    sqlx::query("UPDATE members SET telegram_user_id = 800000 + id, telegram_chat_id = 800000 + id, bound_at = now()")
        .execute(&d.pool)
        .await
        .unwrap();
    let topic = seed_topic(&d.store).await;
    let first_leader = cluster.leader().await;
    // Queued the way the console does, by a process that does not lead (this test).
    let texts = jianyan::app::load_texts(&support::harness::config_for(cluster.dir.path())).unwrap();
    let topic_row = d.store.topic(topic).await.unwrap();
    let render = move |language: Option<&str>| {
        jianyan::dialog::broadcast::member_copy(
            &texts,
            texts.lang_for(language),
            "请就规划编制提出建言",
            topic_row.as_ref(),
        )
        .encode()
    };
    let new = NewBroadcast {
        topic_id: Some(topic),
        text: "请就规划编制提出建言".into(),
        audience: Audience::All,
        staff_id: None,
        dialog: None,
        request_key: None,
    };
    let (_, queued) = d.store.create_broadcast(new, &render, Utc::now()).await.unwrap();
    assert_eq!(queued, MEMBERS);
    // A third of the way, the leader is killed; what it had recorded as sent is noted.
    let deadline = Instant::now() + Duration::from_secs(120);
    while d.count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'").await < (MEMBERS / 3) as i64 {
        assert!(Instant::now() < deadline, "the broadcast does not progress\n{}", d.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.kill(first_leader);
    let sent_before: Vec<i64> =
        sqlx::query_scalar("SELECT chat_id FROM outbox WHERE status = 'sent'").fetch_all(&d.pool).await.unwrap();
    assert_ne!(cluster.leader().await, first_leader);
    cluster.spawn(first_leader);
    let deadline = Instant::now() + Duration::from_secs(240);
    while d.count("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'").await > 0 {
        assert!(Instant::now() < deadline, "the broadcast did not finish\n{}", d.logs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let calls: Vec<_> = d.fake.calls().into_iter().filter(|c| c.method == "sendmessage").collect();
    let mut per_chat: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for c in calls.iter().filter(|c| c.ok()) {
        *per_chat.entry(c.chat_id().unwrap()).or_default() += 1;
    }
    // Nobody skipped.
    assert_eq!(per_chat.len(), MEMBERS, "members who got the broadcast");
    // Nobody recorded as sent before the kill got it twice (a message under way at the kill may).
    for chat in &sent_before {
        assert_eq!(per_chat[chat], 1, "member chat {chat} was recorded as sent and got the broadcast again");
    }
    let twice = per_chat.values().filter(|n| **n > 1).count();
    assert!(twice <= 30, "{twice} members got the broadcast twice");
    // Telegram's limits held across both instances: no 429, and no window over them.
    assert_eq!(d.fake.count_429(), 0, "Telegram refused sends (429)");
    let times: Vec<Instant> = calls.iter().map(|c| c.at).collect();
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..].iter().take_while(|u| u.duration_since(*t) < Duration::from_secs(1)).count();
        assert!(in_window <= 30, "{in_window} messages within one second");
    }
}

/// Outbox rows another instance commits reach the leader's delivery worker at once, by
/// notification, each once; its own rows come from memory only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_rows_committed_by_another_instance_are_handed_to_the_leader() {
    let db = TestDatabase::create().await;
    let leader = PgStore::open(db.url(), 2).await.unwrap();
    let other = PgStore::open(db.url(), 2).await.unwrap();
    let mut feed = leader.subscribe_outbox();
    // The first batch says "read the queue" (nothing can have been missed before listening).
    let first = tokio::time::timeout(Duration::from_secs(10), feed.recv()).await.unwrap().unwrap();
    assert!(first.is_empty());
    other.import_members(&roster(3), Utc::now()).await.unwrap();
    sqlx::query("UPDATE members SET telegram_user_id = 810000 + id, telegram_chat_id = 810000 + id")
        .execute(other.pool())
        .await
        .unwrap();
    let render = |_: Option<&str>| "{\"Send\":{\"text\":\"hi\"}}".to_string();
    let new = NewBroadcast {
        topic_id: None,
        text: "hi".into(),
        audience: Audience::All,
        staff_id: None,
        dialog: None,
        request_key: None,
    };
    other.create_broadcast(new.clone(), &render, Utc::now()).await.unwrap();
    let handed: Vec<DueMessage> = tokio::time::timeout(Duration::from_secs(5), feed.recv()).await.unwrap().unwrap();
    let chats: HashSet<i64> = handed.iter().map(|m| m.chat_id).collect();
    assert_eq!(chats, (1..=3).map(|i| 810000 + i).collect::<HashSet<_>>());
    // The leader's own rows: from memory, not a second time by notification.
    leader.create_broadcast(new, &render, Utc::now()).await.unwrap();
    let own = tokio::time::timeout(Duration::from_secs(5), feed.recv()).await.unwrap().unwrap();
    assert_eq!(own.len(), 3);
    assert!(own.iter().all(|m| !handed.iter().any(|h| h.id == m.id)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(feed.try_recv().is_err(), "a row was handed over twice");
}
