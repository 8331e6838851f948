//! Load benchmark: N committee members walk a complete one-point suggestion at the same time.
//!
//! ```text
//! cargo bench --bench dialog_load                      # 200 members
//! BENCH_MEMBERS=20 BENCH_PHASES=burst cargo bench --bench dialog_load   # quick smoke
//! ```
//!
//! Three processes: this one (a loopback Bot API server plus the simulated members), the real
//! `jianyan run` binary, and — as the framework's floor — a minimal teloxide echo bot (this
//! same executable started again with `DIALOG_LOAD_ROLE=echo-bot`). Each bot gets a fresh fake
//! server. Per system and phase it reports updates handled per second, the latency from pushing
//! an update into the fake server to the bot's first reply to that chat (sendMessage or
//! editMessage*) reaching the server, and the bot process's peak memory (VmHWM).
//!
//! Phases: `burst` — every member goes on to the next step as soon as the step's answer
//! arrives (a closed loop with no think time: the throughput figure); `paced` — members pause a
//! random 0–2×`BENCH_THINK_MS` before each step (latency at a load below saturation).
//!
//! Settings (environment): `BENCH_MEMBERS` (200), `BENCH_ROUNDS` (1: submissions per member per
//! phase; more gives steadier numbers), `BENCH_PHASES` (`burst,paced`), `BENCH_THINK_MS` (500),
//! `BENCH_STEP_TIMEOUT_SECS` (60), `BENCH_SYSTEMS` (`jianyan,echo`; `echo-calls` adds the echo
//! bot making jianyan's calls for a button: answerCallbackQuery + editMessageReplyMarkup +
//! sendMessage; `jianyan-pg` is jianyan on PostgreSQL, `jianyan-pg2` two jianyan instances on
//! one PostgreSQL database, the second started once the first leads, both stopped at the end),
//! `BENCH_POSTGRES` (`postgres://postgres@127.0.0.1:5432/postgres`: the server the `jianyan-pg*`
//! systems make a fresh database on, `jianyan_bench_…`, dropped at the end, failed run or not),
//! `BENCH_JIANYAN_BIN` (default: the `jianyan` binary cargo built for this bench),
//! `BENCH_KEEP_DIR=1` keeps the temporary folder (SQLite database and bot logs). `JIANYAN_…`
//! settings in the environment are passed on to the bot (e.g. `JIANYAN_TELEGRAM__WORKERS=64`),
//! except the database path and URL, the token and `JIANYAN_CONFIG`.
//!
//! ```text
//! BENCH_SYSTEMS=jianyan,jianyan-pg,jianyan-pg2 cargo bench --bench dialog_load   # issue 11
//! ```
//!
//! Checked at the end (exit code 1 if not): every member finished, exactly one suggestion per
//! member and round, every update stored and processed, every outbox message recorded as sent,
//! and every bot instance stopped cleanly on SIGTERM. Timings are reported, never asserted.
//!
//! The fake server here is a lean one written for load: `tests/support/fake_telegram.rs`
//! records every call in one list and re-scans it for every waiter on every change, which is
//! quadratic at 200 concurrent members and would measure the fake instead of the bot. This one
//! routes each reply to its member's channel in O(1). It reuses that file's user and bot JSON
//! so the updates look the same.

#[path = "support/bench_database.rs"]
mod bench_database;
#[path = "../tests/support/fake_telegram.rs"]
mod fake_telegram;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bench_database::BenchDatabase;
use chrono::Utc;
use fake_telegram::{FakeTelegram, TgUser};
use jianyan::config::Config;
use jianyan::domain::{MemberLevel, MemberNo, TopicClass};
use jianyan::locale::{Lang, Texts};
use jianyan::store::{NewTopic, PgStore, RosterRow, SqliteStore, prelude::*};
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::{Barrier, mpsc};

const ROLE_ENV: &str = "DIALOG_LOAD_ROLE";
const ECHO_URL_ENV: &str = "DIALOG_LOAD_API_URL";
const ECHO_MODE_ENV: &str = "DIALOG_LOAD_ECHO_MODE";
const TOKEN: &str = "123:TEST";
const FIRST_USER_ID: i64 = 500_000_000;
const STEPS: usize = 7;
const GOAL_RATIO: f64 = 0.5;
const GOAL_P99_MS: f64 = 50.0;
const GOAL_MEMBERS: usize = 200;
/// PostgreSQL with one instance against SQLite, burst throughput (issue 11).
const GOAL_PG_RATIO: f64 = 0.8;

const TITLE: &str = "关于加快人工智能产业布局的建议";
const POINT: &str = "建议设立产业引导基金，支持本区人工智能企业发展。";
const PINNED_TOPIC: &str = "“十五五”规划编制";

fn main() -> ExitCode {
    if std::env::var(ROLE_ENV).as_deref() == Ok("echo-bot") {
        return echo_bot::main();
    }
    let params = match Params::from_env() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("dialog_load: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(params)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("dialog_load failed: {e:#}");
            ExitCode::from(1)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Burst,
    Paced,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Burst => "burst",
            Phase::Paced => "paced",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum System {
    Jianyan,
    /// `jianyan run` on a fresh PostgreSQL database (`BENCH_POSTGRES`).
    JianyanPg,
    /// Two `jianyan run` on one fresh PostgreSQL database: the first leads, the second waits.
    JianyanPg2,
    Echo,
    /// The echo bot making jianyan's calls for a button (answerCallbackQuery, editMessageReplyMarkup,
    /// sendMessage): the floor for the same Bot API traffic, without storage or dialog.
    EchoCalls,
}

impl System {
    /// The real bot (on either database), as opposed to an echo bot.
    fn is_jianyan(self) -> bool {
        matches!(self, System::Jianyan | System::JianyanPg | System::JianyanPg2)
    }

    fn name(self) -> &'static str {
        match self {
            System::Jianyan => "jianyan",
            System::JianyanPg => "jianyan-pg",
            System::JianyanPg2 => "jianyan-pg2",
            System::Echo => "echo",
            System::EchoCalls => "echo-calls",
        }
    }
}

#[derive(Clone, Debug)]
struct Params {
    members: usize,
    phases: Vec<Phase>,
    systems: Vec<System>,
    think: Duration,
    /// Submissions per member per phase.
    rounds: usize,
    step_timeout: Duration,
    jianyan_bin: PathBuf,
    keep_dir: bool,
    /// The PostgreSQL server the `jianyan-pg*` systems make their database on
    /// (`postgres://user@host:port/database`, a database to connect to for CREATE/DROP DATABASE).
    postgres: String,
}

impl Params {
    fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let num = |name: &str, default: u64| -> anyhow::Result<u64> {
            match var(name) {
                Some(v) => v.trim().parse().map_err(|_| anyhow::anyhow!("{name}={v} is not a whole number")),
                None => Ok(default),
            }
        };
        let members = num("BENCH_MEMBERS", GOAL_MEMBERS as u64)? as usize;
        anyhow::ensure!((1..=100_000).contains(&members), "BENCH_MEMBERS must be 1..=100000");
        let phases = var("BENCH_PHASES")
            .unwrap_or_else(|| "burst,paced".into())
            .split(',')
            .map(|p| match p.trim() {
                "burst" => Ok(Phase::Burst),
                "paced" => Ok(Phase::Paced),
                other => Err(anyhow::anyhow!("BENCH_PHASES: unknown phase {other:?} (burst, paced)")),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let systems = var("BENCH_SYSTEMS")
            .unwrap_or_else(|| "jianyan,echo".into())
            .split(',')
            .map(|p| match p.trim() {
                "jianyan" => Ok(System::Jianyan),
                "jianyan-pg" => Ok(System::JianyanPg),
                "jianyan-pg2" => Ok(System::JianyanPg2),
                "echo" => Ok(System::Echo),
                "echo-calls" => Ok(System::EchoCalls),
                other => Err(anyhow::anyhow!(
                    "BENCH_SYSTEMS: unknown system {other:?} (jianyan, jianyan-pg, jianyan-pg2, echo, echo-calls)"
                )),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let jianyan_bin =
            var("BENCH_JIANYAN_BIN").map(PathBuf::from).unwrap_or_else(|| env!("CARGO_BIN_EXE_jianyan").into());
        Ok(Self {
            members,
            phases,
            systems,
            think: Duration::from_millis(num("BENCH_THINK_MS", 500)?),
            rounds: num("BENCH_ROUNDS", 1)?.max(1) as usize,
            step_timeout: Duration::from_secs(num("BENCH_STEP_TIMEOUT_SECS", 60)?.max(1)),
            jianyan_bin,
            keep_dir: var("BENCH_KEEP_DIR").is_some_and(|v| v != "0"),
            postgres: var("BENCH_POSTGRES").unwrap_or_else(|| bench_database::DEFAULT_SERVER.into()),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/// One system's measured phase.
struct PhaseResult {
    system: System,
    phase: Phase,
    updates: usize,
    failed_members: usize,
    secs: f64,
    first_ms: Vec<f64>,
    done_ms: Vec<f64>,
    /// Samples per step (0-based), first-reply latency.
    per_step_ms: Vec<Vec<f64>>,
    bot_cpu_secs: f64,
    driver_cpu_secs: f64,
    fake: FakeStats,
    late_replies: u64,
}

impl PhaseResult {
    fn throughput(&self) -> f64 {
        if self.secs > 0.0 { self.updates as f64 / self.secs } else { 0.0 }
    }
}

struct SystemResult {
    phases: Vec<PhaseResult>,
    peak_mb: Option<f64>,
    verification: Vec<String>,
    ok: bool,
}

async fn run(params: Params) -> anyhow::Result<bool> {
    let tmp = tempfile::Builder::new().prefix("jianyan-bench-").tempdir()?;
    // With BENCH_KEEP_DIR the folder (database, bot logs) outlives the run, failed or not.
    let (_cleanup, dir) = if params.keep_dir {
        (None, tmp.keep())
    } else {
        let path = tmp.path().to_path_buf();
        (Some(tmp), path)
    };
    println!(
        "dialog_load: {} members × {} submission(s), phases {:?}, think 0–{} ms (paced), step timeout {:?}, \
         folder {}{}",
        params.members,
        params.rounds,
        params.phases.iter().map(|p| p.name()).collect::<Vec<_>>(),
        2 * params.think.as_millis(),
        params.step_timeout,
        dir.display(),
        if params.keep_dir { " (kept)" } else { "" }
    );
    println!("machine: {}", machine_summary());
    let mut results: Vec<SystemResult> = Vec::new();
    for system in params.systems.clone() {
        let result = match system {
            System::Jianyan | System::JianyanPg | System::JianyanPg2 => run_jianyan(&params, &dir, system).await?,
            System::Echo | System::EchoCalls => run_echo(&params, &dir, system).await?,
        };
        results.push(result);
    }
    let ok = report(&params, &results);
    Ok(ok)
}

/// What a member does in one step, and which reply ends the step.
#[derive(Clone, Debug)]
enum Act {
    Text(String),
    /// Press the button whose label contains this (empty: any callback on the last message).
    Click(String),
}

#[derive(Clone, Debug)]
enum Until {
    /// The first sendMessage.
    AnySend,
    /// A sendMessage with an inline button whose label contains this.
    SendWithButton(String),
    /// A sendMessage whose text contains this.
    SendContaining(String),
}

impl Until {
    fn matches(&self, reply: &Reply) -> bool {
        if reply.kind != ReplyKind::Send {
            return false;
        }
        match self {
            Until::AnySend => true,
            Until::SendWithButton(label) => reply.buttons.iter().any(|(t, _)| t.contains(label.as_str())),
            Until::SendContaining(s) => reply.text.contains(s.as_str()),
        }
    }
}

#[derive(Clone, Debug)]
struct Step {
    act: Act,
    until: Until,
}

fn jianyan_steps(texts: &Texts, prefix: &str) -> Vec<Step> {
    let t = |key: &str| texts.t(Lang::Zh, key, &[]);
    let kind = t("kind.advice");
    let done = t("dialog.done_button");
    let submit = t("preview.submit");
    vec![
        // 1: the menu key, which the bot reads as /new → the topic buttons.
        Step { act: Act::Text(t("menu.new")), until: Until::SendWithButton(PINNED_TOPIC.into()) },
        // 2: the pinned topic → "topic chosen" + the kind buttons.
        Step { act: Act::Click(PINNED_TOPIC.into()), until: Until::SendWithButton(kind.clone()) },
        // 3: a kind → the title question.
        Step { act: Act::Click(kind), until: Until::AnySend },
        // 4: the title → the body question.
        Step { act: Act::Text(TITLE.into()), until: Until::AnySend },
        // 5: one point → "point 1 added" with the done button.
        Step { act: Act::Text(POINT.into()), until: Until::SendWithButton(done.clone()) },
        // 6: done → the preview with the submit button.
        Step { act: Act::Click(done), until: Until::SendWithButton(submit.clone()) },
        // 7: submit → the receipt with the reference number.
        Step { act: Act::Click(submit), until: Until::SendContaining(format!("{prefix}-")) },
    ]
}

/// Same shape as the suggestion walk (text, button, button, text, text, button, button), each
/// answered by one sendMessage.
fn echo_steps() -> Vec<Step> {
    let text = |s: &str| Step { act: Act::Text(s.into()), until: Until::AnySend };
    let click = || Step { act: Act::Click(String::new()), until: Until::AnySend };
    vec![text("/new"), click(), click(), text(TITLE), text(POINT), click(), click()]
}

struct Member {
    user: TgUser,
    name: String,
    code: String,
    rx: mpsc::UnboundedReceiver<Reply>,
}

/// Latencies of one member's walk.
#[derive(Default)]
struct Walk {
    first_ms: Vec<f64>,
    done_ms: Vec<f64>,
    steps_done: usize,
    late: u64,
    error: Option<String>,
}

async fn walk(
    fake: &LoadFake,
    member: &mut Member,
    steps: &[Step],
    think: Option<Duration>,
    timeout: Duration,
) -> Walk {
    let mut out = Walk::default();
    let mut last: Option<Reply> = None;
    for (i, step) in steps.iter().enumerate() {
        if let Some(think) = think {
            let pause = rand::thread_rng().gen_range(0..=2 * think.as_millis() as u64);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        // Anything that came in since the last step's answer belongs to an earlier step.
        while member.rx.try_recv().is_ok() {
            out.late += 1;
        }
        let pushed_at = match &step.act {
            Act::Text(text) => fake.push_text(&member.user, text),
            Act::Click(label) => {
                let Some(msg) = &last else {
                    out.error = Some(format!("step {}: no message to press a button on", i + 1));
                    return out;
                };
                let data = if label.is_empty() {
                    Some(format!("echo:{}", i + 1))
                } else {
                    msg.buttons.iter().find(|(t, _)| t.contains(label.as_str())).map(|(_, d)| d.clone())
                };
                let Some(data) = data else {
                    out.error = Some(format!("step {}: no button {label:?} on {:?}", i + 1, msg.text));
                    return out;
                };
                fake.push_callback(&member.user, msg.message_id, &data)
            }
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut first: Option<Instant> = None;
        loop {
            let reply = match tokio::time::timeout_at(deadline, member.rx.recv()).await {
                Ok(Some(r)) => r,
                Ok(None) => {
                    out.error = Some(format!("step {}: reply channel closed", i + 1));
                    return out;
                }
                Err(_) => {
                    out.error = Some(format!("step {}: no answer ({:?}) within {timeout:?}", i + 1, step.until));
                    return out;
                }
            };
            if reply.at < pushed_at {
                out.late += 1;
                continue;
            }
            first.get_or_insert(reply.at);
            if step.until.matches(&reply) {
                let ms = |at: Instant| at.duration_since(pushed_at).as_secs_f64() * 1000.0;
                out.first_ms.push(ms(first.unwrap_or(reply.at)));
                out.done_ms.push(ms(reply.at));
                out.steps_done += 1;
                last = Some(reply);
                break;
            }
        }
    }
    out
}

/// Runs every member through `steps` at once; returns the phase's numbers (without CPU figures).
async fn drive(
    fake: &LoadFake,
    members: &mut Vec<Member>,
    steps: &[Step],
    think: Option<Duration>,
    timeout: Duration,
) -> (f64, Vec<Walk>) {
    let barrier = Arc::new(Barrier::new(members.len() + 1));
    let mut tasks = Vec::with_capacity(members.len());
    for mut member in members.drain(..) {
        let (fake, barrier, steps) = (fake.clone(), barrier.clone(), steps.to_vec());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let walk = walk(&fake, &mut member, &steps, think, timeout).await;
            (member, walk)
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut walks = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (member, walk) = task.await.expect("member task panicked");
        members.push(member);
        walks.push(walk);
    }
    (start.elapsed().as_secs_f64(), walks)
}

/// Measures one phase: CPU before and after, the walk, the fake server's counters.
async fn measure(
    system: System,
    phase: Phase,
    fake: &LoadFake,
    bot_pids: &[u32],
    members: &mut Vec<Member>,
    steps: &[Step],
    params: &Params,
) -> PhaseResult {
    let think = (phase == Phase::Paced).then_some(params.think);
    let cpu_before = (cpu_secs_all(bot_pids), cpu_secs_self());
    let stats_before = fake.stats();
    // Each member submits `rounds` suggestions one after the other.
    let walk: Vec<Step> = steps.iter().cycle().take(steps.len() * params.rounds).cloned().collect();
    let (secs, walks) = drive(fake, members, &walk, think, params.step_timeout).await;
    let cpu_after = (cpu_secs_all(bot_pids), cpu_secs_self());
    let mut result = PhaseResult {
        system,
        phase,
        updates: walks.iter().map(|w| w.steps_done).sum(),
        failed_members: walks.iter().filter(|w| w.error.is_some()).count(),
        secs,
        first_ms: walks.iter().flat_map(|w| w.first_ms.iter().copied()).collect(),
        done_ms: walks.iter().flat_map(|w| w.done_ms.iter().copied()).collect(),
        per_step_ms: (0..steps.len())
            .map(|i| walks.iter().flat_map(|w| w.first_ms.iter().skip(i).step_by(steps.len()).copied()).collect())
            .collect(),
        bot_cpu_secs: cpu_after.0.zip(cpu_before.0).map_or(f64::NAN, |(a, b)| a - b),
        driver_cpu_secs: cpu_after.1.zip(cpu_before.1).map_or(f64::NAN, |(a, b)| a - b),
        fake: fake.stats().minus(&stats_before),
        late_replies: walks.iter().map(|w| w.late).sum(),
    };
    result.first_ms.sort_by(f64::total_cmp);
    result.done_ms.sort_by(f64::total_cmp);
    for samples in &mut result.per_step_ms {
        samples.sort_by(f64::total_cmp);
    }
    for (i, w) in walks.iter().enumerate().filter(|(_, w)| w.error.is_some()).take(5) {
        eprintln!("  member {}: {}", i + 1, w.error.as_deref().unwrap_or_default());
    }
    println!(
        "  {} {}: {} updates in {:.2} s = {:.0} updates/s, first reply p50 {:.1} ms p99 {:.1} ms{}",
        system.name(),
        phase.name(),
        result.updates,
        result.secs,
        result.throughput(),
        percentile(&result.first_ms, 50.0),
        percentile(&result.first_ms, 99.0),
        if result.failed_members > 0 { format!(", {} members FAILED", result.failed_members) } else { String::new() },
    );
    result
}

/// Sends one message per member at once and waits for each answer (not measured).
async fn warm_up(
    fake: &LoadFake,
    members: &mut [Member],
    text: impl Fn(&Member) -> String,
    timeout: Duration,
) -> Vec<String> {
    let mut problems = Vec::new();
    for m in members.iter() {
        fake.push_text(&m.user, &text(m));
    }
    for m in members.iter_mut() {
        loop {
            match tokio::time::timeout(timeout, m.rx.recv()).await {
                Ok(Some(r)) if r.kind == ReplyKind::Send => {
                    if !r.text.contains(m.name.as_str()) {
                        problems.push(format!("{}: unexpected warm-up answer {:?}", m.name, r.text));
                    }
                    break;
                }
                Ok(Some(_)) => continue,
                _ => {
                    problems.push(format!("{}: no warm-up answer within {timeout:?}", m.name));
                    break;
                }
            }
        }
    }
    problems
}

fn make_members(fake: &LoadFake, n: usize) -> Vec<Member> {
    (0..n)
        .map(|i| {
            let name = format!("测试委员{:04}", i + 1);
            let user = TgUser::new(FIRST_USER_ID + i as i64, name.clone());
            let rx = fake.register(user.chat_id());
            Member { user, name, code: String::new(), rx }
        })
        .collect()
}

/// Where a jianyan system keeps its data: an SQLite file in the run's folder, or a fresh
/// PostgreSQL database (dropped when this is dropped).
enum Backend {
    Sqlite(PathBuf),
    Postgres(BenchDatabase),
}

/// The store the benchmark seeds and checks, with its pool for the counting queries.
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

    async fn close(&self) {
        match self {
            Db::Sqlite(s) => s.pool().close().await,
            Db::Postgres(s) => s.pool().close().await,
        }
    }
}

async fn run_jianyan(params: &Params, dir: &Path, system: System) -> anyhow::Result<SystemResult> {
    let instances = if system == System::JianyanPg2 { 2 } else { 1 };
    println!("\n== {} ({}, {instances} instance(s))", system.name(), params.jianyan_bin.display());
    anyhow::ensure!(
        params.jianyan_bin.exists(),
        "{} does not exist; build it with `cargo build --release` or set BENCH_JIANYAN_BIN",
        params.jianyan_bin.display()
    );
    // The database outlives every use below and is dropped on every way out (`BenchDatabase`'s Drop).
    let backend = if system == System::Jianyan {
        Backend::Sqlite(dir.join("jianyan.db"))
    } else {
        let db = BenchDatabase::create(&params.postgres).await?;
        println!("  database {} on {}", db.name, params.postgres);
        Backend::Postgres(db)
    };
    let result = run_jianyan_on(params, dir, system, &backend, instances).await;
    drop(backend);
    result
}

async fn run_jianyan_on(
    params: &Params,
    dir: &Path,
    system: System,
    backend: &Backend,
    instances: usize,
) -> anyhow::Result<SystemResult> {
    let db_env: (&str, String) = match backend {
        Backend::Sqlite(path) => ("JIANYAN_DATABASE__PATH", path.display().to_string()),
        Backend::Postgres(db) => ("JIANYAN_DATABASE__URL", db.url.clone()),
    };
    let config =
        Config::from_layers(None, [(db_env.0.to_string(), db_env.1.clone())]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let texts = jianyan::app::load_texts(&config)?;
    let db = match backend {
        Backend::Sqlite(path) => Db::Sqlite(SqliteStore::open(path, Duration::from_secs(5), 2).await?),
        Backend::Postgres(bench_db) => Db::Postgres(PgStore::open(&bench_db.url, 2).await?),
    };
    let store = db.store();

    // The roster, a pinned open topic (and another), one invite code per member.
    let fake = LoadFake::start().await;
    let mut members = make_members(&fake, params.members);
    let now = Utc::now();
    let rows: Vec<RosterRow> = members
        .iter()
        .enumerate()
        .map(|(i, m)| RosterRow {
            member_no: MemberNo::parse(&format!("B{:05}", i + 1)).expect("valid member number"),
            name: m.name.clone(),
            level: MemberLevel::District,
            workstation: None,
            sector: "经济界".into(),
            phone: String::new(),
        })
        .collect();
    store.import_members(&rows, now).await?;
    let topic = |title: &str, pinned| NewTopic {
        title: title.into(),
        description: "区政协2025年协商议题".into(),
        class: TopicClass::Plan,
        form: "专题协商会".into(),
        closes_at: None,
        pinned,
    };
    store.add_topic(topic("建设现代化产业体系", false), now).await?;
    store.add_topic(topic(PINNED_TOPIC, true), now).await?;
    let by_name: HashMap<String, i64> = store.members().await?.into_iter().map(|m| (m.name, m.id)).collect();
    for m in &mut members {
        let id = *by_name.get(&m.name).ok_or_else(|| anyhow::anyhow!("member {} was not imported", m.name))?;
        m.code = jianyan::invite::generate(&mut rand::thread_rng());
        store.create_invite(id, &jianyan::invite::hash(&m.code), now, now + chrono::Duration::days(14)).await?;
    }

    // The first instance leads: it is the one that polls. A second one is started only then, and
    // must say that it waits.
    let mut bots: Vec<BotProcess> = Vec::new();
    for i in 0..instances {
        let log_path = dir.join(format!("{}-{}.log", system.name(), i + 1));
        let command = jianyan_command(params, dir, &fake, &db_env, &log_path)?;
        let mut bot = BotProcess::spawn(command, log_path)?;
        if i == 0 {
            bot.wait_until_polling(&fake, Duration::from_secs(30)).await?;
        } else {
            bot.wait_until_log("another instance runs the bot", Duration::from_secs(30)).await?;
            println!("  instance {} started and waits (instance 1 leads)", i + 1);
        }
        bots.push(bot);
    }
    let pids: Vec<u32> = bots.iter().map(BotProcess::pid).collect();

    let problems = warm_up(&fake, &mut members, |m| format!("/start {}", m.code), params.step_timeout).await;
    if !problems.is_empty() {
        anyhow::bail!(
            "warm-up (/start CODE) failed for {} members, e.g. {}\n{}",
            problems.len(),
            problems[0],
            bots[0].log_tail()
        );
    }
    println!("  warm-up: {} members registered with /start CODE", members.len());

    let prefix = config.references.prefix.clone();
    let steps = jianyan_steps(&texts, &prefix);
    let mut result = SystemResult { phases: Vec::new(), peak_mb: None, verification: Vec::new(), ok: true };
    for (round, phase) in params.phases.iter().enumerate() {
        let r = measure(system, *phase, &fake, &pids, &mut members, &steps, params).await;
        result.ok &= r.failed_members == 0;
        result.phases.push(r);
        let (line, ok) = verify_suggestions(&db, params.members, (round + 1) * params.rounds).await;
        result.verification.push(format!("{} after {}: {line}", system.name(), phase.name()));
        result.ok &= ok;
        for (i, bot) in bots.iter_mut().enumerate() {
            if bot.exited() {
                anyhow::bail!("jianyan instance {} exited during the run\n{}", i + 1, bot.log_tail());
            }
        }
    }
    // The leader's peak: it does the work (a waiting instance's is printed for information).
    result.peak_mb = peak_mb(pids[0]);
    for (i, &pid) in pids.iter().enumerate().skip(1) {
        let peak = peak_mb(pid).map_or("n/a".into(), |m| format!("{m:.1} MB"));
        result.verification.push(format!("{} instance {} (waiting) peak memory: {peak}", system.name(), i + 1));
    }
    let expected_updates = params.members * (1 + STEPS * params.rounds * params.phases.len());
    let (line, ok) = verify_intake(&db, expected_updates).await;
    result.verification.push(format!("{}: {line}", system.name()));
    result.ok &= ok;
    // The waiting instances first, so none takes over while the leader stops.
    for (i, bot) in bots.iter_mut().enumerate().rev() {
        let stopped = bot.stop(Duration::from_secs(15)).await;
        result.verification.push(format!("{} instance {}: {}", system.name(), i + 1, stopped.0));
        result.ok &= stopped.1;
    }
    db.close().await;
    Ok(result)
}

/// `jianyan run` against the fake server and the given database setting (name, value).
fn jianyan_command(
    params: &Params,
    dir: &Path,
    fake: &LoadFake,
    db_env: &(&str, String),
    log_path: &Path,
) -> anyhow::Result<Command> {
    let mut command = Command::new(&params.jianyan_bin);
    command
        .arg("run")
        .current_dir(dir)
        .env_remove("JIANYAN_CONFIG")
        .env_remove("JIANYAN_DATABASE__PATH")
        .env_remove("JIANYAN_DATABASE__URL")
        .env("JIANYAN_BOT_TOKEN", TOKEN)
        .env(db_env.0, &db_env.1)
        // The console is not measured here: a free port, so it never collides with one in use.
        .env("JIANYAN_WEB__LISTEN", "127.0.0.1:0")
        .env("TELOXIDE_API_URL", fake.api_url())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log_path)?);
    // The fake server does not enforce Telegram's 30 messages/s, and this benchmark measures the
    // bot's own cost: lift the delivery worker's pacing unless the caller sets it.
    for (key, value) in
        [("JIANYAN_DELIVERY__GLOBAL_PER_SECOND", "1000000"), ("JIANYAN_DELIVERY__PER_CHAT_PER_SECOND", "1000")]
    {
        if std::env::var_os(key).is_none() {
            command.env(key, value);
        }
    }
    Ok(command)
}

async fn run_echo(params: &Params, dir: &Path, system: System) -> anyhow::Result<SystemResult> {
    let calls = system == System::EchoCalls;
    if calls {
        println!(
            "\n== echo-calls (the echo bot answering a button with answerCallbackQuery + editMessageReplyMarkup + \
             sendMessage, like jianyan)"
        );
    } else {
        println!("\n== echo (minimal teloxide Dispatcher echo bot, long polling, one sendMessage per update)");
    }
    let fake = LoadFake::start().await;
    let mut members = make_members(&fake, params.members);
    let log_path = dir.join(format!("{}.log", system.name()));
    let mut command = Command::new(std::env::current_exe()?);
    command
        .env(ROLE_ENV, "echo-bot")
        .env(ECHO_URL_ENV, fake.api_url())
        .env(ECHO_MODE_ENV, if calls { "calls" } else { "plain" })
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path)?);
    let mut bot = BotProcess::spawn(command, log_path)?;
    bot.wait_until_polling(&fake, Duration::from_secs(30)).await?;
    let problems = warm_up(&fake, &mut members, |m| format!("你好 {}", m.name), params.step_timeout).await;
    if !problems.is_empty() {
        anyhow::bail!("echo warm-up failed for {} members, e.g. {}\n{}", problems.len(), problems[0], bot.log_tail());
    }
    let steps = echo_steps();
    let mut result = SystemResult { phases: Vec::new(), peak_mb: None, verification: Vec::new(), ok: true };
    for phase in &params.phases {
        let r = measure(system, *phase, &fake, &[bot.pid()], &mut members, &steps, params).await;
        result.ok &= r.failed_members == 0;
        result.phases.push(r);
    }
    result.peak_mb = peak_mb(bot.pid());
    let stopped = bot.stop(Duration::from_secs(1)).await;
    result.ok &= bot.exited() || stopped.1;
    Ok(result)
}

/// Exactly `rounds` suggestions per member: none lost, none twice.
async fn verify_suggestions(db: &Db, members: usize, rounds: usize) -> (String, bool) {
    let expected = members * rounds;
    let row: Result<(i64, i64, i64), _> = match db {
        Db::Sqlite(store) => {
            sqlx::query_as(
                "SELECT COUNT(*), COUNT(DISTINCT member_id), \
                 (SELECT COUNT(*) FROM (SELECT member_id FROM suggestions GROUP BY member_id HAVING COUNT(*) <> ?)) \
                 FROM suggestions",
            )
            .bind(rounds as i64)
            .fetch_one(store.pool())
            .await
        }
        Db::Postgres(store) => {
            sqlx::query_as(
                "SELECT COUNT(*), COUNT(DISTINCT member_id), \
                 (SELECT COUNT(*) FROM (SELECT member_id FROM suggestions GROUP BY member_id \
                  HAVING COUNT(*) <> $1) AS wrong) \
                 FROM suggestions",
            )
            .bind(rounds as i64)
            .fetch_one(store.pool())
            .await
        }
    };
    match row {
        Ok((total, distinct, wrong)) => {
            let ok = total as usize == expected && distinct as usize == members && wrong == 0;
            let verdict = if ok { "OK" } else { "MISMATCH" };
            (
                format!(
                    "{total} suggestions stored (expected {expected}), from {distinct} members, \
                     {wrong} members without exactly {rounds}: {verdict}"
                ),
                ok,
            )
        }
        Err(e) => (format!("cannot count suggestions: {e}"), false),
    }
}

/// Every update stored and processed; every reply recorded as sent.
async fn verify_intake(db: &Db, expected_updates: usize) -> (String, bool) {
    // The last receipts' delivery results are written just after they were sent.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // The same SQL on both backends (no parameters).
        const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM updates), \
                    (SELECT COUNT(*) FROM updates WHERE processed_at IS NULL), \
                    (SELECT COUNT(*) FROM outbox), \
                    (SELECT COUNT(*) FROM outbox WHERE status <> 'sent')";
        let counts: Result<(i64, i64, i64, i64), _> = match db {
            Db::Sqlite(store) => sqlx::query_as(COUNTS).fetch_one(store.pool()).await,
            Db::Postgres(store) => sqlx::query_as(COUNTS).fetch_one(store.pool()).await,
        };
        match counts {
            Ok((updates, unprocessed, outbox, unsent)) => {
                if (unsent > 0 || unprocessed > 0) && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                let ok = updates as usize == expected_updates && unprocessed == 0 && unsent == 0;
                let verdict = if ok { "OK" } else { "MISMATCH" };
                return (
                    format!(
                        "{updates} updates stored (expected {expected_updates}), {unprocessed} unprocessed; \
                         {outbox} outbox messages, {unsent} not marked sent: {verdict}"
                    ),
                    ok,
                );
            }
            Err(e) => return (format!("cannot count updates/outbox: {e}"), false),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(params: &Params, results: &[SystemResult]) -> bool {
    println!(
        "\n== results ({} members, {} submission(s) of {} steps each; latency: push → first reply reaching the \
         fake server)",
        params.members, params.rounds, STEPS
    );
    println!(
        "{:<12} {:<6} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8}",
        "system",
        "phase",
        "members",
        "updates",
        "secs",
        "updates/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "done p99",
        "peak MB",
        "bot CPU"
    );
    for s in results {
        for r in &s.phases {
            println!(
                "{:<12} {:<6} {:>7} {:>7} {:>7.2} {:>9.0} {:>7.1} {:>7.1} {:>7.1} {:>8.1} {:>8} {:>7.2}s",
                r.system.name(),
                r.phase.name(),
                params.members,
                r.updates,
                r.secs,
                r.throughput(),
                percentile(&r.first_ms, 50.0),
                percentile(&r.first_ms, 99.0),
                r.first_ms.last().copied().unwrap_or(f64::NAN),
                percentile(&r.done_ms, 99.0),
                s.peak_mb.map_or("n/a".into(), |m| format!("{m:.1}")),
                r.bot_cpu_secs,
            );
        }
    }

    println!("\n-- per phase details");
    for s in results {
        for r in &s.phases {
            let per_update = |secs: f64| if r.updates > 0 { secs * 1000.0 / r.updates as f64 } else { f64::NAN };
            println!(
                "{} {}: bot CPU {:.2} ms/update, driver+fake CPU {:.2} ms/update; getUpdates {} calls ({} non-empty, \
                 {:.1} updates per batch); sendMessage {}, edits {}, answerCallbackQuery {}, other {}; late replies {}",
                r.system.name(),
                r.phase.name(),
                per_update(r.bot_cpu_secs),
                per_update(r.driver_cpu_secs),
                r.fake.get_updates,
                r.fake.get_updates_nonempty,
                if r.fake.get_updates_nonempty > 0 {
                    r.fake.updates_handed_out as f64 / r.fake.get_updates_nonempty as f64
                } else {
                    0.0
                },
                r.fake.sends,
                r.fake.edits,
                r.fake.answers,
                r.fake.other,
                r.late_replies,
            );
            if r.system.is_jianyan() {
                let steps: Vec<String> = r
                    .per_step_ms
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!("{}: {:.1}/{:.1}", i + 1, percentile(s, 50.0), percentile(s, 99.0)))
                    .collect();
                println!("  first-reply p50/p99 ms by step: {}", steps.join(", "));
            }
        }
    }
    println!("driver+fake process peak memory: {}", peak_mb_self().map_or("n/a".into(), |m| format!("{m:.1} MB")));

    println!("\n-- verification");
    let mut ok = true;
    for s in results {
        ok &= s.ok;
        for line in &s.verification {
            println!("{line}");
        }
        for r in &s.phases {
            if r.failed_members > 0 {
                println!("{} {}: {} members did not finish", r.system.name(), r.phase.name(), r.failed_members);
            }
        }
    }

    let find = |system: System, phase: Phase| {
        results.iter().flat_map(|s| s.phases.iter()).find(|r| r.system == system && r.phase == phase)
    };
    println!("\n-- goals");
    if let (Some(j), Some(e)) = (find(System::Jianyan, Phase::Burst), find(System::Echo, Phase::Burst)) {
        let ratio = j.throughput() / e.throughput();
        println!(
            "throughput jianyan/echo (burst): {:.0}/{:.0} = {:.2} — goal ≥ {GOAL_RATIO}: {}",
            j.throughput(),
            e.throughput(),
            ratio,
            yes_no(ratio >= GOAL_RATIO)
        );
    }
    if let (Some(j), Some(e)) = (find(System::Jianyan, Phase::Burst), find(System::EchoCalls, Phase::Burst)) {
        println!(
            "(for information) jianyan/echo-calls (burst, same Bot API calls): {:.0}/{:.0} = {:.2}",
            j.throughput(),
            e.throughput(),
            j.throughput() / e.throughput()
        );
    }
    for (system, goal) in [(System::JianyanPg, Some(GOAL_PG_RATIO)), (System::JianyanPg2, None)] {
        if let (Some(p), Some(j)) = (find(system, Phase::Burst), find(System::Jianyan, Phase::Burst)) {
            let ratio = p.throughput() / j.throughput();
            let verdict =
                goal.map_or(" (for information)".to_string(), |g| format!(" — goal ≥ {g}: {}", yes_no(ratio >= g)));
            println!(
                "throughput {}/jianyan (burst): {:.0}/{:.0} = {:.2}{verdict}",
                system.name(),
                p.throughput(),
                j.throughput(),
                ratio
            );
        }
    }
    for phase in [Phase::Burst, Phase::Paced] {
        if let Some(j) = find(System::Jianyan, phase) {
            let p99 = percentile(&j.first_ms, 99.0);
            let note = if params.members == GOAL_MEMBERS { "" } else { " (the goal is stated for 200 members)" };
            println!(
                "jianyan p99 at {} members ({}): {:.1} ms — goal < {GOAL_P99_MS} ms: {}{note}",
                params.members,
                phase.name(),
                p99,
                yes_no(p99 < GOAL_P99_MS)
            );
        }
    }
    println!("every update durably stored, no suggestion lost or doubled: {}", yes_no(ok));
    ok
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

// ---------------------------------------------------------------------------------------------
// Processes: the bot under test, its memory and CPU
// ---------------------------------------------------------------------------------------------

/// A bot child process; killed if still running when dropped.
struct BotProcess {
    child: Child,
    log: PathBuf,
}

impl BotProcess {
    fn spawn(mut command: Command, log: PathBuf) -> anyhow::Result<Self> {
        let child = command.spawn().map_err(|e| anyhow::anyhow!("cannot start {:?}: {e}", command.get_program()))?;
        Ok(Self { child, log })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    async fn wait_until_polling(&mut self, fake: &LoadFake, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        while fake.stats().get_updates == 0 {
            if self.exited() {
                anyhow::bail!("the bot exited before polling\n{}", self.log_tail());
            }
            if Instant::now() > deadline {
                anyhow::bail!("the bot did not call getUpdates within {timeout:?}\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Waits until the process's log contains `needle` (e.g. that it waits to lead).
    async fn wait_until_log(&mut self, needle: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        while !std::fs::read_to_string(&self.log).unwrap_or_default().contains(needle) {
            if self.exited() {
                anyhow::bail!("the bot exited before logging {needle:?}\n{}", self.log_tail());
            }
            if Instant::now() > deadline {
                anyhow::bail!("the bot did not log {needle:?} within {timeout:?}\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// SIGTERM, then waits; SIGKILL after `grace`. Says how it stopped.
    async fn stop(&mut self, grace: Duration) -> (String, bool) {
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let deadline = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return (format!("bot stopped on SIGTERM: {status}"), status.success()),
                Ok(None) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return (format!("bot did not stop within {grace:?} of SIGTERM; killed"), false);
                }
            }
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!("--- last lines of {} ---\n{}", self.log.display(), lines[lines.len().saturating_sub(30)..].join("\n"))
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn status_kb(pid: &str, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident set (VmHWM) of a running process, in MB.
fn peak_mb(pid: u32) -> Option<f64> {
    status_kb(&pid.to_string(), "VmHWM:").map(|kb| kb / 1024.0)
}

fn peak_mb_self() -> Option<f64> {
    status_kb("self", "VmHWM:").map(|kb| kb / 1024.0)
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// User + system CPU seconds of a process so far.
fn cpu_of(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn cpu_secs(pid: u32) -> Option<f64> {
    cpu_of(&pid.to_string())
}

/// CPU seconds of several processes together (`None` if any cannot be read).
fn cpu_secs_all(pids: &[u32]) -> Option<f64> {
    pids.iter().map(|&pid| cpu_secs(pid)).sum()
}

fn cpu_secs_self() -> Option<f64> {
    cpu_of("self")
}

fn machine_summary() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_string(), |(_, m)| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = status_kb_meminfo().map_or("?".into(), |kb| format!("{:.1} GB", kb / 1024.0 / 1024.0));
    format!("{model}, {cores} cores available, {mem} RAM, {}", std::env::consts::OS)
}

fn status_kb_meminfo() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    info.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// The lean fake Bot API server
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReplyKind {
    Send,
    Edit,
}

/// A message the bot sent or edited, as its member sees it.
#[derive(Clone, Debug)]
struct Reply {
    kind: ReplyKind,
    /// When the request reached the server.
    at: Instant,
    message_id: i64,
    text: String,
    /// Inline buttons: (label, callback data).
    buttons: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, Default)]
struct FakeStats {
    get_updates: u64,
    get_updates_nonempty: u64,
    updates_handed_out: u64,
    sends: u64,
    edits: u64,
    answers: u64,
    other: u64,
}

impl FakeStats {
    fn minus(&self, before: &FakeStats) -> FakeStats {
        FakeStats {
            get_updates: self.get_updates - before.get_updates,
            get_updates_nonempty: self.get_updates_nonempty - before.get_updates_nonempty,
            updates_handed_out: self.updates_handed_out - before.updates_handed_out,
            sends: self.sends - before.sends,
            edits: self.edits - before.edits,
            answers: self.answers - before.answers,
            other: self.other - before.other,
        }
    }
}

#[derive(Default)]
struct Counters {
    get_updates: AtomicU64,
    get_updates_nonempty: AtomicU64,
    updates_handed_out: AtomicU64,
    sends: AtomicU64,
    edits: AtomicU64,
    answers: AtomicU64,
    other: AtomicU64,
}

struct FakeInner {
    addr: std::net::SocketAddr,
    next_update_id: AtomicI64,
    next_message_id: AtomicI64,
    next_callback_id: AtomicI64,
    /// Updates not yet confirmed by a later getUpdates offset: (update_id, JSON).
    queue: std::sync::Mutex<std::collections::VecDeque<(i64, String)>>,
    queued: tokio::sync::Notify,
    routes: std::sync::Mutex<HashMap<i64, mpsc::UnboundedSender<Reply>>>,
    counters: Counters,
    bot_user: Value,
}

/// A Bot API server on loopback that keeps updates until confirmed, long-polls, answers the
/// methods the two bots use, and hands every sent/edited message to its chat's receiver.
#[derive(Clone)]
struct LoadFake {
    inner: Arc<FakeInner>,
    _server: Arc<ServerGuard>,
}

struct ServerGuard(tokio::task::AbortHandle);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LoadFake {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let inner = Arc::new(FakeInner {
            addr,
            next_update_id: AtomicI64::new(1),
            next_message_id: AtomicI64::new(fake_telegram::FIRST_MESSAGE_ID),
            next_callback_id: AtomicI64::new(1),
            queue: Default::default(),
            queued: tokio::sync::Notify::new(),
            routes: Default::default(),
            counters: Counters::default(),
            bot_user: FakeTelegram::bot_user(),
        });
        let app = axum::Router::new().route("/{token}/{method}", axum::routing::any(handle)).with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { inner, _server: Arc::new(ServerGuard(task.abort_handle())) }
    }

    fn api_url(&self) -> String {
        format!("http://{}/", self.inner.addr)
    }

    /// Replies to `chat_id` go to the returned receiver from now on.
    fn register(&self, chat_id: i64) -> mpsc::UnboundedReceiver<Reply> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.inner.routes).insert(chat_id, tx);
        rx
    }

    fn stats(&self) -> FakeStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FakeStats {
            get_updates: get(&c.get_updates),
            get_updates_nonempty: get(&c.get_updates_nonempty),
            updates_handed_out: get(&c.updates_handed_out),
            sends: get(&c.sends),
            edits: get(&c.edits),
            answers: get(&c.answers),
            other: get(&c.other),
        }
    }

    /// Queues an update; returns the moment it became available to getUpdates.
    fn push(&self, update: Value) -> Instant {
        // The id is given under the queue lock, so the queue is always in id order (as Telegram's
        // is): otherwise a confirmed offset could skip an update queued a moment late.
        let body = update.to_string();
        let fields = body.strip_prefix('{').unwrap_or(&body);
        let mut queue = lock(&self.inner.queue);
        let id = self.inner.next_update_id.fetch_add(1, Ordering::Relaxed);
        let at = Instant::now();
        queue.push_back((id, format!("{{\"update_id\":{id},{fields}")));
        drop(queue);
        self.inner.queued.notify_waiters();
        at
    }

    fn private_chat(user: &TgUser) -> Value {
        json!({"id": user.id, "type": "private", "first_name": user.first_name})
    }

    fn push_text(&self, user: &TgUser, text: &str) -> Instant {
        let mut message = json!({
            "message_id": self.inner.next_message_id.fetch_add(1, Ordering::Relaxed),
            "date": unix_now(),
            "chat": Self::private_chat(user),
            "from": user.to_json(),
            "text": text,
        });
        if text.starts_with('/') {
            let word = text.split(char::is_whitespace).next().unwrap_or(text);
            message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": word.encode_utf16().count()}]);
        }
        self.push(json!({ "message": message }))
    }

    fn push_callback(&self, user: &TgUser, message_id: i64, data: &str) -> Instant {
        let n = self.inner.next_callback_id.fetch_add(1, Ordering::Relaxed);
        self.push(json!({
            "callback_query": {
                "id": format!("{}{:06}", user.id.unsigned_abs() % 1_000_000_000, n),
                "from": user.to_json(),
                "message": {
                    "message_id": message_id,
                    "date": unix_now(),
                    "chat": Self::private_chat(user),
                    "from": self.inner.bot_user,
                    "text": "…",
                },
                "chat_instance": format!("ci{}", user.id),
                "data": data,
            }
        }))
    }
}

fn chat_id_of(params: &Value) -> Option<i64> {
    let v = params.get("chat_id")?;
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

fn ok_json(result: Value) -> String {
    json!({"ok": true, "result": result}).to_string()
}

async fn handle(
    axum::extract::State(inner): axum::extract::State<Arc<FakeInner>>,
    axum::extract::Path((_token, method)): axum::extract::Path<(String, String)>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let at = Instant::now();
    let method = method.to_ascii_lowercase();
    let params: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body).unwrap_or_else(|_| json!({}))
    };
    let c = &inner.counters;
    let answer: Result<String, (u16, String)> = match method.as_str() {
        "getupdates" => Ok(get_updates(&inner, &params).await),
        "sendmessage" => {
            c.sends.fetch_add(1, Ordering::Relaxed);
            message_reply(&inner, &params, at, ReplyKind::Send)
        }
        "editmessagetext" | "editmessagereplymarkup" => {
            c.edits.fetch_add(1, Ordering::Relaxed);
            message_reply(&inner, &params, at, ReplyKind::Edit)
        }
        "answercallbackquery" => {
            c.answers.fetch_add(1, Ordering::Relaxed);
            Ok(ok_json(json!(true)))
        }
        "getme" => {
            c.other.fetch_add(1, Ordering::Relaxed);
            let mut me = inner.bot_user.clone();
            me["can_join_groups"] = json!(true);
            me["can_read_all_group_messages"] = json!(false);
            me["supports_inline_queries"] = json!(false);
            me["can_connect_to_business"] = json!(false);
            me["has_main_web_app"] = json!(false);
            Ok(ok_json(me))
        }
        "getwebhookinfo" => {
            c.other.fetch_add(1, Ordering::Relaxed);
            Ok(ok_json(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0})))
        }
        "setmycommands" | "deletewebhook" | "deletemycommands" | "sendchataction" => {
            c.other.fetch_add(1, Ordering::Relaxed);
            Ok(ok_json(json!(true)))
        }
        _ => {
            c.other.fetch_add(1, Ordering::Relaxed);
            Err((404, "Not Found: method not found".into()))
        }
    };
    let (status, body) = match answer {
        Ok(body) => (200, body),
        Err((code, description)) => {
            (code, json!({"ok": false, "error_code": code, "description": description}).to_string())
        }
    };
    let status = axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn message_reply(inner: &FakeInner, params: &Value, at: Instant, kind: ReplyKind) -> Result<String, (u16, String)> {
    let chat_id = chat_id_of(params).ok_or((400, "Bad Request: chat_id is empty".to_string()))?;
    let message_id = match kind {
        ReplyKind::Send => inner.next_message_id.fetch_add(1, Ordering::Relaxed),
        ReplyKind::Edit => params
            .get("message_id")
            .and_then(Value::as_i64)
            .ok_or((400, "Bad Request: message identifier is not specified".to_string()))?,
    };
    let text = params.get("text").and_then(Value::as_str).unwrap_or("…").to_string();
    let markup = params.get("reply_markup").filter(|m| m.get("inline_keyboard").is_some());
    let buttons: Vec<(String, String)> = markup
        .and_then(|m| m["inline_keyboard"].as_array())
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .map(|b| {
            (
                b["text"].as_str().unwrap_or_default().to_string(),
                b["callback_data"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut message = json!({
        "message_id": message_id,
        "date": unix_now(),
        "chat": {"id": chat_id, "type": "private", "first_name": "委员"},
        "from": inner.bot_user,
        "text": text,
    });
    if let Some(markup) = markup {
        message["reply_markup"] = markup.clone();
    }
    if kind == ReplyKind::Edit {
        message["edit_date"] = json!(unix_now());
    }
    let body = ok_json(message);
    if let Some(tx) = lock(&inner.routes).get(&chat_id) {
        let _ = tx.send(Reply { kind, at, message_id, text, buttons });
    }
    Ok(body)
}

/// getUpdates: confirm by offset, then hand out what is queued or wait for something (long poll).
async fn get_updates(inner: &FakeInner, params: &Value) -> String {
    let c = &inner.counters;
    c.get_updates.fetch_add(1, Ordering::Relaxed);
    let offset = params.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let limit = params.get("limit").and_then(Value::as_i64).map_or(100, |l| l.clamp(1, 100)) as usize;
    let timeout = Duration::from_secs(params.get("timeout").and_then(Value::as_u64).unwrap_or(0).min(50));
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = inner.queued.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut queue = lock(&inner.queue);
            if offset > 0 {
                while queue.front().is_some_and(|(id, _)| *id < offset) {
                    queue.pop_front();
                }
            }
            if !queue.is_empty() || tokio::time::Instant::now() >= deadline {
                let batch: Vec<&str> = queue.iter().take(limit).map(|(_, u)| u.as_str()).collect();
                if !batch.is_empty() {
                    c.get_updates_nonempty.fetch_add(1, Ordering::Relaxed);
                    c.updates_handed_out.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                return format!("{{\"ok\":true,\"result\":[{}]}}", batch.join(","));
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The floor: a minimal teloxide echo bot (run as a child process of this bench)
// ---------------------------------------------------------------------------------------------

mod echo_bot {
    use std::process::ExitCode;

    use teloxide::prelude::*;
    use teloxide::types::{ChatId, MaybeInaccessibleMessage};

    /// Long-polls with teloxide's Dispatcher and answers every message and button press with one
    /// sendMessage (with `DIALOG_LOAD_ECHO_MODE=calls`, a button press first gets
    /// answerCallbackQuery and editMessageReplyMarkup, as in jianyan).
    pub fn main() -> ExitCode {
        let calls = std::env::var(super::ECHO_MODE_ENV).as_deref() == Ok("calls");
        let Some(url) = std::env::var(super::ECHO_URL_ENV).ok().and_then(|u| url::Url::parse(&u).ok()) else {
            eprintln!("echo bot: {} is not set to a URL", super::ECHO_URL_ENV);
            return ExitCode::from(2);
        };
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
        runtime.block_on(async move {
            let bot = Bot::new(super::TOKEN).set_api_url(url);
            let handler = dptree::entry()
                .branch(Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
                    bot.send_message(msg.chat.id, msg.text().unwrap_or("…").to_string()).await?;
                    Ok::<(), teloxide::RequestError>(())
                }))
                .branch(Update::filter_callback_query().endpoint(move |bot: Bot, q: CallbackQuery| async move {
                    let chat = ChatId(q.from.id.0 as i64);
                    if calls {
                        bot.answer_callback_query(q.id.clone()).await?;
                        if let Some(MaybeInaccessibleMessage::Regular(m)) = &q.message {
                            bot.edit_message_reply_markup(chat, m.id).await?;
                        }
                    }
                    let text = q.data.clone().unwrap_or_default();
                    bot.send_message(chat, text).await?;
                    Ok::<(), teloxide::RequestError>(())
                }));
            Dispatcher::builder(bot, handler).build().dispatch().await;
        });
        ExitCode::SUCCESS
    }
}
