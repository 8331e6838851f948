//! Starts the real bot (`jianyan::bot::run`) on a fresh database (SQLite, or PostgreSQL when `JIANYAN_TEST_BACKEND=postgres`) against the fake Telegram server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use jianyan::app::{App, load_texts};
use jianyan::clock::ManualClock;
use jianyan::config::Config;
use jianyan::domain::{MemberLevel, MemberNo, TopicClass};
use jianyan::invite;
use jianyan::store::{InviteTarget, NewTopic, RosterRow, SqliteStore, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::db::{Backend, Place, TestDb};
use super::fake_telegram::{FakeConfig, FakeTelegram, SentMessage, TgUser};

pub const WAIT: Duration = Duration::from_secs(15);

pub struct TestBot {
    pub fake: FakeTelegram,
    /// The app's store, on the backend `JIANYAN_TEST_BACKEND` names.
    pub store: Arc<dyn Store>,
    /// Raw SQL on the same database.
    pub db: TestDb,
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub pinned_topic: i64,
    pub other_topic: i64,
    dir: Arc<tempfile::TempDir>,
    /// The database (a PostgreSQL one lives as long as this).
    place: Place,
    /// Settings given to `start_with` and those naming the database, kept for `restart`.
    settings: Vec<(String, String)>,
    shutdown: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

pub fn config_for(dir: &std::path::Path) -> Config {
    config_with(dir, &[])
}

/// The test settings with `extra` (environment-style keys, e.g. `JIANYAN_STAFF__GROUP_CHAT_ID`)
/// replacing or adding to them.
pub fn config_with(dir: &std::path::Path, extra: &[(String, String)]) -> Config {
    let mut env = vec![
        ("JIANYAN_DATABASE__PATH".to_string(), dir.join("jianyan.db").display().to_string()),
        ("JIANYAN_TELEGRAM__POLL_TIMEOUT_SECS".to_string(), "1".to_string()),
        ("JIANYAN_TELEGRAM__WORKERS".to_string(), "4".to_string()),
        ("JIANYAN_TELEGRAM__SHUTDOWN_GRACE_SECS".to_string(), "5".to_string()),
        // The fake server does not enforce Telegram's limits unless a test asks it to.
        ("JIANYAN_DELIVERY__GLOBAL_PER_SECOND".to_string(), "10000".to_string()),
        ("JIANYAN_DELIVERY__PER_CHAT_PER_SECOND".to_string(), "1000".to_string()),
        // Tests written before 督办 expect a reply to reach the member at once; the review's own
        // tests (tests/reply_review.rs) turn it on.
        ("JIANYAN_WORKFLOW__REVIEW_REPLIES".to_string(), "false".to_string()),
    ];
    env.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    env.extend(extra.iter().cloned());
    Config::from_layers(None, env).expect("test settings are valid")
}

fn member(no: &str, name: &str) -> RosterRow {
    RosterRow {
        member_no: MemberNo::parse(no).unwrap(),
        name: name.into(),
        level: MemberLevel::Street,
        workstation: Some("潍坊新村街道".into()),
        sector: "教育界".into(),
        phone: "13800138000".into(),
    }
}

impl TestBot {
    /// A fresh database with members PD001 张三 and PD002 李四 and two open topics (one pinned), and
    /// the bot running against a fresh fake Telegram server.
    pub async fn start() -> Self {
        Self::start_with(FakeConfig::default(), &[]).await
    }

    /// Like `start`, with a fake Telegram configured by `fake` (limits, faults) and the bot's
    /// settings changed by `settings` (environment-style keys, e.g. `JIANYAN_STAFF__GROUP_CHAT_ID`).
    pub async fn start_with(fake: FakeConfig, settings: &[(&str, &str)]) -> Self {
        Self::start_on(Backend::from_env(), fake, settings).await
    }

    /// Like `start_with`, on `backend` whatever `JIANYAN_TEST_BACKEND` says: for tests about one
    /// backend itself (a SQLite file's backups, locks).
    pub async fn start_on(backend: Backend, fake: FakeConfig, settings: &[(&str, &str)]) -> Self {
        let _ = tracing_subscriber::fmt().with_env_filter("warn,jianyan=info").with_test_writer().try_init();
        let fake = FakeTelegram::start_with(fake).await;
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let place = Place::create_on(backend).await;
        let mut all = place.settings(dir.path());
        all.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let settings = all;
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap()));
        let (store, db, app) = open_on(&place, dir.path(), clock.clone(), &settings).await;
        let now = clock.now_utc();
        store.import_members(&[member("PD001", "张三"), member("PD002", "李四")], now).await.unwrap();
        let topic = |title: &str, pinned| NewTopic {
            title: title.into(),
            description: "区政协2025年协商议题".into(),
            class: TopicClass::Plan,
            form: "议政性常委会".into(),
            closes_at: None,
            pinned,
        };
        let other_topic = store.add_topic(topic("建设现代化产业体系", false), now).await.unwrap().id;
        let pinned_topic = store.add_topic(topic("\"十五五\"总体发展规划编制", true), now).await.unwrap().id;
        let mut bot = Self {
            fake,
            store,
            db,
            app,
            clock,
            pinned_topic,
            other_topic,
            dir,
            place,
            settings,
            shutdown: None,
            task: None,
        };
        bot.spawn();
        bot
    }

    fn spawn(&mut self) {
        let (tx, rx) = watch::channel(false);
        let url = url::Url::parse(&self.fake.api_url()).unwrap();
        let client = jianyan::bot::client("123456:TEST-token", url);
        self.task = Some(tokio::spawn(jianyan::bot::run(self.app.clone(), client, rx)));
        self.shutdown = Some(tx);
    }

    /// Stops the bot the way SIGTERM does and waits for it; panics if it failed.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task)
                .await
                .expect("the bot stops in time")
                .expect("no panic")
                .expect("no error");
        }
    }

    /// Stops the bot and starts a new one on the same database and Telegram server.
    pub async fn restart(&mut self) {
        self.stop().await;
        let (store, db, app) = open_on(&self.place, self.dir.path(), self.clock.clone(), &self.settings).await;
        self.store = store;
        self.db = db;
        self.app = app;
        self.spawn();
    }

    pub async fn invite(&self, member_no: &str) -> String {
        let member = self.store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
        let code = invite::generate(&mut rand::thread_rng());
        let now = self.clock.now_utc();
        self.store.create_invite(member.id, &invite::hash(&code), now, now + chrono::Duration::days(14)).await.unwrap();
        code
    }

    /// Binds `user` to the roster member through a deep link and returns the greeting.
    pub async fn register(&self, user: &TgUser, member_no: &str) -> SentMessage {
        let code = self.invite(member_no).await;
        let replies = self.say(user, &format!("/start {code}")).await;
        replies.last().cloned().expect("a greeting")
    }

    /// Adds a staff member named `name` and binds `user` to them with `/start CODE`; returns the greeting.
    pub async fn register_staff(&self, user: &TgUser, name: &str) -> SentMessage {
        let now = self.clock.now_utc();
        let staff = self.store.add_staff(name, now).await.unwrap();
        self.redeem_role_invite(user, InviteTarget::Staff(staff.id)).await
    }

    /// Adds the department `department` (if it is new) and a liaison `name` for it, and binds
    /// `user` to the liaison with `/start CODE`; returns the greeting and the department's id.
    pub async fn register_liaison(&self, user: &TgUser, department: &str, name: &str) -> (SentMessage, i64) {
        let now = self.clock.now_utc();
        let department = self.store.add_department(department, None).await.unwrap();
        let liaison = self.store.add_liaison(department.id, name, now).await.unwrap();
        (self.redeem_role_invite(user, InviteTarget::Liaison(liaison.id)).await, department.id)
    }

    async fn redeem_role_invite(&self, user: &TgUser, target: InviteTarget) -> SentMessage {
        let now = self.clock.now_utc();
        let code = invite::generate(&mut rand::thread_rng());
        self.store
            .create_invite_for(target, &invite::hash(&code), now, now + chrono::Duration::days(14))
            .await
            .unwrap();
        let replies = self.say(user, &format!("/start {code}")).await;
        replies.last().cloned().expect("a greeting")
    }

    /// Waits until the update is processed and every message it caused was handed to Telegram.
    pub async fn settle(&self, update_id: i64) {
        let deadline = Instant::now() + WAIT;
        loop {
            // None: not stored yet; Some(false): stored, not processed; Some(true): processed.
            let processed: Option<bool> = self
                .db
                .column("SELECT processed_at IS NOT NULL FROM updates WHERE update_id = $1", &[update_id.into()])
                .await
                .first()
                .map(|v| v.truthy());
            let pending = self
                .db
                .count_with(
                    "SELECT COUNT(*) FROM outbox WHERE update_id = $1 AND status = 'pending'",
                    &[update_id.into()],
                )
                .await;
            // A button press is answered (its toast) just after its work is committed.
            if processed == Some(true) && pending == 0 {
                assert!(
                    self.fake.wait_for_callback_answer(update_id, WAIT).await,
                    "the button press of update {update_id} was not answered"
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "update {update_id} was not handled in time (processed: {processed:?}, pending: {pending})"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Pushes an update and returns the messages the bot sent the user because of it.
    pub async fn handle(&self, user: &TgUser, push: impl FnOnce(&FakeTelegram) -> i64) -> Vec<SentMessage> {
        let before = self.fake.sent_to(user.chat_id()).len();
        let update_id = push(&self.fake);
        self.settle(update_id).await;
        self.fake.sent_to(user.chat_id()).split_off(before)
    }

    pub async fn say(&self, user: &TgUser, text: &str) -> Vec<SentMessage> {
        self.handle(user, |f| f.push_text(user, text)).await
    }

    /// Presses the button labelled `label` (or containing it) on `message`.
    pub async fn tap(&self, user: &TgUser, message: &SentMessage, label: &str) -> Vec<SentMessage> {
        let text = message
            .button_texts()
            .into_iter()
            .find(|t| t.contains(label))
            .unwrap_or_else(|| panic!("no button «{label}» on: {} {:?}", message.text, message.button_texts()));
        self.handle(user, |f| f.click(user, message, &text)).await
    }

    /// The member walks the whole suggestion dialog: /new → the pinned topic → `kind` (its button
    /// label) → `title` → one message per point → 完成 → 提交. Returns the receipt.
    pub async fn submit(&self, user: &TgUser, kind: &str, title: &str, points: &[&str]) -> Vec<SentMessage> {
        let topics = self.say(user, "/new").await;
        let kinds = self.tap(user, last(&topics), "📌").await;
        self.tap(user, last(&kinds), kind).await;
        self.say(user, title).await;
        let mut noted = Vec::new();
        for point in points {
            noted = self.say(user, point).await;
        }
        let preview = self.tap(user, last(&noted), "完成").await;
        self.tap(user, last(&preview), "提交").await
    }

    /// A text as the bot renders it now (examples of the current year filled in, `Ctx::t`).
    pub fn t(&self, key: &str) -> String {
        let app = &self.app;
        let ctx = jianyan::context::Ctx {
            store: app.store.as_ref(),
            texts: &app.texts,
            config: &app.config,
            now: jianyan::clock::Clock::now(self.clock.as_ref()),
        };
        ctx.t(jianyan::locale::Lang::Zh, key, &[])
    }

    /// The integer `sql` returns (one row, one column) on either backend, e.g. `SELECT COUNT(*) …`.
    pub async fn count(&self, sql: &str) -> i64 {
        self.db.count(sql).await
    }

    /// Raw SQL on the bot's database (either backend; parameters as `$1`…).
    pub fn db(&self) -> &TestDb {
        &self.db
    }
}

impl Drop for TestBot {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
    }
}

/// Opens (migrating) the SQLite database in `dir` with the test settings and `settings`, and the app on it.
pub async fn open(dir: &std::path::Path, clock: Arc<ManualClock>, settings: &[(String, String)]) -> (SqliteStore, App) {
    let config = config_with(dir, settings);
    let store = SqliteStore::open(&config.database.path, Duration::from_secs(5), 4).await.unwrap();
    let app = app_on(&store, config, clock);
    (store, app)
}

/// Opens (migrating) the database at `place` (4 connections) with the test settings and
/// `settings` (which name the place: `Place::settings`), raw SQL on it, and the app on it.
pub async fn open_on(
    place: &Place,
    dir: &std::path::Path,
    clock: Arc<ManualClock>,
    settings: &[(String, String)],
) -> (Arc<dyn Store>, TestDb, App) {
    let config = config_with(dir, settings);
    let (store, db) = place.open(&config, 4).await;
    let app = app_with(store.clone(), config, clock);
    (store, db, app)
}

/// The app on the SQLite `store` with `config` (its texts loaded) and `clock`.
pub fn app_on(store: &SqliteStore, config: Config, clock: Arc<dyn jianyan::clock::Clock>) -> App {
    app_with(Arc::new(store.clone()), config, clock)
}

/// The app on `store` (either backend) with `config` (its texts loaded) and `clock`.
pub fn app_with(store: Arc<dyn Store>, config: Config, clock: Arc<dyn jianyan::clock::Clock>) -> App {
    let texts = load_texts(&config).unwrap();
    App { config: Arc::new(config), store, texts: Arc::new(texts), clock }
}

pub trait NowUtc {
    fn now_utc(&self) -> chrono::DateTime<Utc>;
}

impl NowUtc for ManualClock {
    fn now_utc(&self) -> chrono::DateTime<Utc> {
        jianyan::clock::Clock::now(self)
    }
}

/// The last message of a reply, where the buttons are.
pub fn last(messages: &[SentMessage]) -> &SentMessage {
    messages.last().expect("the bot replied")
}

pub fn joined(messages: &[SentMessage]) -> String {
    messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>().join("\n---\n")
}

/// Imports `n` members PD0001… and binds them to Telegram users `first_user_id`…; returns their chats.
pub async fn seed_bound_members(store: &dyn Store, n: i64, first_user_id: i64) -> Vec<i64> {
    let now = Utc::now();
    let rows: Vec<RosterRow> = (1..=n)
        .map(|i| RosterRow {
            member_no: MemberNo::parse(&format!("PD{i:04}")).unwrap(),
            name: format!("委员{i}"),
            level: MemberLevel::District,
            workstation: None,
            sector: String::new(),
            phone: String::new(),
        })
        .collect();
    store.import_members(&rows, now).await.unwrap();
    let mut chats = Vec::new();
    for i in 1..=n {
        let member = store.member_by_no(&MemberNo::parse(&format!("PD{i:04}")).unwrap()).await.unwrap().unwrap();
        let code = invite::generate(&mut rand::thread_rng());
        store.create_invite(member.id, &invite::hash(&code), now, now + chrono::Duration::days(1)).await.unwrap();
        let user = first_user_id + i - 1;
        let r = store.redeem_invite(&invite::hash(&code), user, user, None, now).await.unwrap();
        assert!(matches!(r, jianyan::store::Redeemed::Bound(_)), "{r:?}");
        chats.push(user);
    }
    chats
}
