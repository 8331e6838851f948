//! Broadcast benchmark: one broadcast to many members through the real `jianyan run` process,
//! against a fake Bot API server that enforces Telegram's limits (global and 1/s per chat, 429
//! beyond them), while staff accept suggestions and their members' notifications must still
//! arrive quickly.
//!
//! ```text
//! cargo bench --bench broadcast_load                                  # 10,000 members at 300/s
//! BENCH_RECIPIENTS=1000 BENCH_RATE=30 cargo bench --bench broadcast_load   # Telegram's real 30/s
//! BENCH_DATABASE=postgres BENCH_INSTANCES=2 cargo bench --bench broadcast_load   # issue 11
//! ```
//!
//! `BENCH_DATABASE` (`sqlite`, or `postgres`: a fresh database on `BENCH_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, dropped at the end), `BENCH_INSTANCES` (1; 2
//! needs PostgreSQL: the second `jianyan run` starts once the first polls, and waits to take over).
//!
//! Reports: achieved broadcast rate ÷ the configured limit (goal ≥ 0.95), 429s received (goal 0),
//! the bot process's peak memory (VmHWM; goal under 64 MB, flat), and the latency from a staff
//! member's button press to the member's notification arriving while the broadcast runs (goal p95
//! under 2 s). The limit is scaled up from Telegram's 30/s to keep the run short; the ratio is what
//! carries over.

#[path = "support/bench_database.rs"]
mod bench_database;
#[path = "../tests/support/fake_telegram.rs"]
mod fake_telegram;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bench_database::BenchDatabase;
use chrono::Utc;
use fake_telegram::{FakeConfig, FakeTelegram, TgUser};
use jianyan::domain::{MemberLevel, MemberNo, SuggestionKind};
use jianyan::reply::{Action, Button, Keyboard};
use jianyan::store::{
    Audience, Commit, Committed, NewBroadcast, NewSuggestion, PgStore, RosterRow, SqliteStore, prelude::*,
};

const FIRST_USER: i64 = 600_000_000;
const STAFF_USER: i64 = 599_999_999;
const NOTIFICATIONS: usize = 20;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn peak_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// The store under test, with its pool for the few raw queries (written per backend).
enum Db {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Db {
    fn store(&self) -> &dyn Store {
        match self {
            Db::Sqlite(s) => s,
            Db::Postgres(s) => s,
        }
    }

    /// Outbox messages still waiting to be sent.
    async fn pending(&self) -> sqlx::Result<i64> {
        const PENDING: &str = "SELECT COUNT(*) FROM outbox WHERE status = 'pending'";
        match self {
            Db::Sqlite(s) => sqlx::query_scalar(PENDING).fetch_one(s.pool()).await,
            Db::Postgres(s) => sqlx::query_scalar(PENDING).fetch_one(s.pool()).await,
        }
    }
}

/// Members bound to Telegram users FIRST_USER…, and a staff member, written directly (fast).
async fn seed(db: &Db, n: usize) -> anyhow::Result<()> {
    let store = db.store();
    let rows: Vec<RosterRow> = (1..=n)
        .map(|i| RosterRow {
            member_no: MemberNo::parse(&format!("PD{i:06}")).unwrap(),
            name: format!("委员{i}"),
            level: MemberLevel::Street,
            workstation: None,
            sector: String::new(),
            phone: String::new(),
        })
        .collect();
    store.import_members(&rows, Utc::now()).await?;
    let staff = store.add_staff("王工作人员", Utc::now()).await?;
    match db {
        Db::Sqlite(s) => {
            sqlx::query(
                "UPDATE members SET telegram_user_id = ? + id - 1, telegram_chat_id = ? + id - 1, language = 'zh-hans'",
            )
            .bind(FIRST_USER)
            .bind(FIRST_USER)
            .execute(s.pool())
            .await?;
            sqlx::query("UPDATE staff SET telegram_user_id = ?, telegram_chat_id = ? WHERE id = ?")
                .bind(STAFF_USER)
                .bind(STAFF_USER)
                .bind(staff.id)
                .execute(s.pool())
                .await?;
        }
        Db::Postgres(s) => {
            sqlx::query(
                "UPDATE members SET telegram_user_id = $1 + id - 1, telegram_chat_id = $1 + id - 1, \
                 language = 'zh-hans'",
            )
            .bind(FIRST_USER)
            .execute(s.pool())
            .await?;
            sqlx::query("UPDATE staff SET telegram_user_id = $1, telegram_chat_id = $1 WHERE id = $2")
                .bind(STAFF_USER)
                .bind(staff.id)
                .execute(s.pool())
                .await?;
        }
    }
    Ok(())
}

/// Suggestions by the first NOTIFICATIONS members, waiting for staff to accept them.
async fn submit_suggestions(store: &dyn Store) -> anyhow::Result<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for i in 0..NOTIFICATIONS as i64 {
        let member = store.member_by_telegram(FIRST_USER + i).await?.expect("seeded");
        let s = NewSuggestion {
            member_id: member.id,
            topic_id: None,
            kind: SuggestionKind::PublicOpinion,
            title: format!("第{i}条社情民意"),
            points: vec!["建议内容".into()],
            as_typed: String::new(),
            attachments: vec![],
            year: 2025,
            prefix: "PD".into(),
            entered_by: None,
        };
        let commit = Commit {
            update_id: None,
            chat_id: 0,
            dialog: None,
            messages: vec![],
            submission: Some((s, Box::new(|_, _| Vec::new()))),
            change: None,
            now: Utc::now(),
        };
        let Committed::Done { reference: Some(r), .. } = store.commit(commit).await? else {
            anyhow::bail!("not filed")
        };
        let id = store.suggestion_id_by_reference(&r.to_string()).await?.expect("filed");
        out.push((id, FIRST_USER + i));
    }
    Ok(out)
}

/// `jianyan run` on the given database setting (name, value), logging to `log` at `rust_log`.
fn spawn_bot(
    fake: &FakeTelegram,
    dir: &std::path::Path,
    rate: u32,
    db_env: &(&str, String),
    log: &str,
    rust_log: &str,
) -> anyhow::Result<Bot> {
    let mut cmd =
        Command::new(std::env::var("BENCH_JIANYAN_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_jianyan").into()));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("JIANYAN_") || k.starts_with("TELOXIDE_")) {
        cmd.env_remove(key);
    }
    let log = dir.join(log);
    let child = cmd
        .arg("run")
        .current_dir(dir)
        .env("JIANYAN_BOT_TOKEN", "123456:BENCH")
        .env("TELOXIDE_API_URL", fake.api_url())
        .env(db_env.0, &db_env.1)
        .env("JIANYAN_TELEGRAM__POLL_TIMEOUT_SECS", "1")
        .env("JIANYAN_WEB__LISTEN", "127.0.0.1:0")
        .env("JIANYAN_DELIVERY__GLOBAL_PER_SECOND", rate.to_string())
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()?;
    Ok(Bot { child, log })
}

/// A `jianyan run` process; killed if still running when dropped (a failed run leaves none).
struct Bot {
    child: Child,
    log: std::path::PathBuf,
}

impl Bot {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM and wait.
    fn stop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        let _ = self.child.wait();
    }

    /// Waits until `ready` holds; fails if the process exits or `timeout` passes first.
    async fn wait_for(&mut self, what: &str, timeout: Duration, ready: impl Fn(&Self) -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        while !ready(self) {
            let log = || std::fs::read_to_string(&self.log).unwrap_or_default();
            if !matches!(self.child.try_wait(), Ok(None)) {
                anyhow::bail!("jianyan exited before {what}\n{}", log());
            }
            if Instant::now() > deadline {
                anyhow::bail!("jianyan did not {what} within {timeout:?}\n{}", log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; nothing else is taken from the command line.
    let n: usize = env_or("BENCH_RECIPIENTS", 10_000);
    let rate: u32 = env_or("BENCH_RATE", 300);
    let instances: usize = env_or("BENCH_INSTANCES", 1);
    let postgres = match std::env::var("BENCH_DATABASE").as_deref() {
        Ok("sqlite") | Err(_) => false,
        Ok("postgres") => true,
        Ok(other) => anyhow::bail!("BENCH_DATABASE={other}: sqlite or postgres"),
    };
    anyhow::ensure!(
        instances == 1 || (postgres && instances == 2),
        "BENCH_INSTANCES is 1, or 2 with BENCH_DATABASE=postgres (one process per SQLite file)"
    );
    let dir = tempfile::tempdir()?;
    // Dropped (the database too) on every way out, after the bots below.
    let pg_db = if postgres {
        let server = std::env::var("BENCH_POSTGRES").unwrap_or_else(|_| bench_database::DEFAULT_SERVER.into());
        Some(BenchDatabase::create(&server).await?)
    } else {
        None
    };
    let (db, db_env) = match &pg_db {
        Some(pg) => (Db::Postgres(PgStore::open(&pg.url, 4).await?), ("JIANYAN_DATABASE__URL", pg.url.clone())),
        None => {
            let path = dir.path().join("jianyan.db");
            (
                Db::Sqlite(SqliteStore::open(&path, Duration::from_secs(5), 4).await?),
                ("JIANYAN_DATABASE__PATH", path.display().to_string()),
            )
        }
    };
    let store = db.store();
    seed(&db, n).await?;
    let suggestions = submit_suggestions(store).await?;

    let text = "【区政协】「十五五」规划编制征集意见开始了，欢迎各位委员建言献策。".to_string();
    let render = |_: Option<&str>| {
        Action::with_keyboard(text.clone(), Keyboard::Inline(vec![vec![Button::new("📝 就此议题建言", "new")]]))
            .encode()
    };
    let broadcast = NewBroadcast {
        topic_id: None,
        text: text.clone(),
        audience: Audience::All,
        staff_id: None,
        dialog: None,
        request_key: None,
    };
    let queued_at = Instant::now();
    let (_, count) = store.create_broadcast(broadcast, &render, Utc::now()).await?;
    let queue_ms = queued_at.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(count, n);

    let fake = FakeTelegram::start_with(FakeConfig {
        max_per_second_global: Some(rate),
        max_per_second_per_chat: Some(1),
        ..FakeConfig::default()
    })
    .await;
    let mut bots = vec![spawn_bot(&fake, dir.path(), rate, &db_env, "bot-1.log", "warn")?];
    let pid = bots[0].pid();
    let started = Instant::now();
    if instances == 2 {
        // The first leads once it polls; the second then starts, and says that it waits.
        bots[0].wait_for("poll", Duration::from_secs(30), |_| !fake.calls_of("getUpdates").is_empty()).await?;
        let mut second = spawn_bot(&fake, dir.path(), rate, &db_env, "bot-2.log", "warn,jianyan::bot=info")?;
        second
            .wait_for("wait for the leader", Duration::from_secs(30), |b| {
                std::fs::read_to_string(&b.log).unwrap_or_default().contains("another instance runs the bot")
            })
            .await?;
        bots.push(second);
    }

    // While it runs: staff accept a suggestion every 1.2 s; time each member's notification.
    let staff = TgUser::new(STAFF_USER, "王工作人员");
    let mut latencies = Vec::new();
    let mut rss_samples = Vec::new();
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (sid, member_chat) in &suggestions {
        let pushed = Instant::now();
        fake.push_callback(&staff, 1, &format!("r:a:{sid}"));
        let deadline = pushed + Duration::from_secs(30);
        let arrived = loop {
            let hit = fake.calls_of("sendMessage").into_iter().rev().find(|c| {
                c.ok()
                    && c.chat_id() == Some(*member_chat)
                    && c.body["text"].as_str().is_some_and(|t| t.contains("已受理"))
            });
            if let Some(call) = hit {
                break Some(call.at);
            }
            if Instant::now() > deadline {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        match arrived {
            Some(at) => latencies.push(at.duration_since(pushed).as_secs_f64()),
            None => eprintln!("no notification for suggestion {sid} within 30 s"),
        }
        rss_samples.push(rss_mb(pid).unwrap_or(f64::NAN));
        // A person presses a button about once a second at most.
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }

    // Wait for the broadcast to finish.
    let broadcast_sends = |fake: &FakeTelegram| -> Vec<Instant> {
        fake.calls_of("sendMessage")
            .into_iter()
            .filter(|c| c.ok() && c.body["text"].as_str() == Some(text.as_str()))
            .map(|c| c.at)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs((n as u64 / rate.max(1) as u64) * 3 + 60);
    loop {
        let done = db.pending().await?;
        if done == 0 {
            break;
        }
        if Instant::now() > deadline {
            eprintln!("the broadcast did not finish in time ({done} pending)");
            break;
        }
        rss_samples.push(rss_mb(pid).unwrap_or(f64::NAN));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let peak = peak_mb(pid);
    let peak_second = bots.get(1).and_then(|b| peak_mb(b.pid()));
    // The waiting instance first, so it does not take over while the leader stops.
    for bot in bots.iter_mut().rev() {
        bot.stop();
    }
    let total_secs = started.elapsed().as_secs_f64();

    let sends = broadcast_sends(&fake);
    let first = sends.iter().min().copied();
    let last = sends.iter().max().copied();
    let span = match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => f64::NAN,
    };
    // n messages in a span from the first to the last is n-1 intervals.
    let achieved = (sends.len().saturating_sub(1)) as f64 / span;
    latencies.sort_by(|a, b| a.total_cmp(b));
    let per_member: std::collections::HashMap<i64, usize> = fake
        .calls_of("sendMessage")
        .iter()
        .filter(|c| c.ok() && c.body["text"].as_str() == Some(text.as_str()))
        .fold(Default::default(), |mut m, c| {
            *m.entry(c.chat_id().unwrap_or(0)).or_default() += 1;
            m
        });
    let twice = per_member.values().filter(|v| **v > 1).count();
    let rss_max = rss_samples.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
    let rss_min = rss_samples.iter().copied().filter(|v| v.is_finite()).fold(f64::INFINITY, f64::min);

    println!();
    println!(
        "broadcast benchmark — {n} recipients, limit {rate}/s overall and 1/s per chat; {} with {instances} \
         instance(s)",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    println!("  queueing the broadcast (one transaction):    {queue_ms:.0} ms");
    println!(
        "  broadcast messages delivered:                {} (members reached: {}, twice: {twice})",
        sends.len(),
        per_member.len()
    );
    println!("  broadcast span (first to last message):      {span:.1} s (whole run {total_secs:.1} s)");
    println!(
        "  achieved rate:                               {achieved:.1}/s = {:.3} of the limit (goal ≥ 0.95)",
        achieved / rate as f64
    );
    let staff_429 = fake.calls().iter().filter(|c| c.status == 429 && c.chat_id() == Some(STAFF_USER)).count();
    println!(
        "  429 answers received:                        {} (goal 0); {staff_429} of them on the staff member's own chat",
        fake.count_429()
    );
    println!(
        "  bot process memory: peak (VmHWM) {} MB; RSS sampled {rss_min:.1}–{rss_max:.1} MB (goal < 64 MB, flat)",
        peak.map(|p| format!("{p:.1}")).unwrap_or_else(|| "?".into())
    );
    if instances == 2 {
        println!(
            "  second (waiting) instance's peak memory:     {} MB",
            peak_second.map(|p| format!("{p:.1}")).unwrap_or_else(|| "?".into())
        );
    }
    println!(
        "  notification latency during the broadcast:   p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms over {} notifications (goal p95 < 2 s)",
        percentile(&latencies, 0.5) * 1000.0,
        percentile(&latencies, 0.95) * 1000.0,
        latencies.last().copied().unwrap_or(f64::NAN) * 1000.0,
        latencies.len()
    );
    Ok(())
}
