//! How long a 100,000-member roster import blocks other writers: the import runs through
//! `Store::import_members` (the path of `jianyan members import` and the console's import page)
//! while a console writer makes one small write (an audit entry, as every console action ends
//! with) every 20 ms on the same database, and each write's wait is measured.
//!
//! ```text
//! cargo bench --bench import_blocking                       # 100,000 members, batched import
//! BENCH_MODE=single cargo bench --bench import_blocking     # the same rows in one transaction (before)
//! BENCH_MEMBERS=20000 cargo bench --bench import_blocking   # quick smoke
//! ```
//!
//! Goal: no console write waits more than 200 ms, and none fails with "database is locked". The
//! pool and busy timeout are the defaults of config/default.toml (8 connections, 5,000 ms).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use jianyan::domain::{MemberLevel, MemberNo};
use jianyan::store::{Auditor, ConsoleStore, NewUser, Role, RosterRow, SqliteStore, prelude::*};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rows(n: usize) -> Vec<RosterRow> {
    (0..n)
        .map(|i| RosterRow {
            member_no: MemberNo::parse(&format!("PD{i:07}")).expect("member number"),
            name: format!("委员{i}"),
            level: [MemberLevel::City, MemberLevel::District, MemberLevel::Street][i % 3],
            workstation: Some(format!("第{}委员工作站", i % 36)),
            sector: "经济界".to_string(),
            phone: format!("138{i:08}"),
        })
        .collect()
}

/// The import as it was before batching: every row in one transaction (the same statements).
async fn import_single(store: &SqliteStore, rows: &[RosterRow]) -> anyhow::Result<()> {
    let now = Utc::now();
    let mut tx = store.pool().begin_with("BEGIN IMMEDIATE").await?;
    for row in rows {
        let name = row.workstation.as_deref().unwrap_or_default();
        let ws: Option<i64> = sqlx::query_scalar("SELECT id FROM workstations WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let ws = match ws {
            Some(id) => id,
            None => {
                sqlx::query_scalar("INSERT INTO workstations (name) VALUES (?) RETURNING id")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        let _: Option<i64> = sqlx::query_scalar("SELECT id FROM members WHERE member_no = ?")
            .bind(row.member_no.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO members (member_no, name, level, workstation_id, sector, phone, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(member_no) DO UPDATE SET name = excluded.name, level = excluded.level,
               workstation_id = excluded.workstation_id, sector = excluded.sector, phone = excluded.phone,
               updated_at = excluded.updated_at",
        )
        .bind(row.member_no.as_str())
        .bind(&row.name)
        .bind(row.level.label())
        .bind(ws)
        .bind(&row.sector)
        .bind(&row.phone)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let members = env_usize("BENCH_MEMBERS", 100_000);
    let single = std::env::var("BENCH_MODE").is_ok_and(|m| m == "single");
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("bench.db"), Duration::from_millis(5000), 8).await?;
    let user = NewUser {
        username: "staff".into(),
        name: "工作人员".into(),
        role: Role::Staff,
        department_id: None,
        password_hash: "x".into(),
    };
    let user_id = store.add_user(user, Utc::now()).await?.expect("a new user").id;
    let rows = rows(members);
    println!("import_blocking: {members} members, {} import", if single { "single-transaction" } else { "batched" });

    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut waits = Vec::new();
            let mut failures = 0usize;
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                match store.audit(Auditor::User(user_id), "topic.update", "topic:1", "", Utc::now()).await {
                    Ok(()) => waits.push(started.elapsed()),
                    Err(e) => {
                        failures += 1;
                        eprintln!("console write failed after {:?}: {e}", started.elapsed());
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (waits, failures)
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    if single {
        import_single(&store, &rows).await?;
    } else {
        store.import_members(&rows, Utc::now()).await?;
    }
    let import_time = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let (mut waits, failures) = writer.await?;
    waits.sort();
    let over = waits.iter().filter(|w| **w > Duration::from_millis(200)).count();
    println!("import: {:.2} s", import_time.as_secs_f64());
    println!(
        "console writes during the import: {} ok, {failures} failed; wait p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; {over} over 200 ms",
        waits.len(),
        percentile(&waits, 0.5).as_secs_f64() * 1000.0,
        percentile(&waits, 0.95).as_secs_f64() * 1000.0,
        waits.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members").fetch_one(store.pool()).await?;
    assert_eq!(n as usize, members, "every member imported");
    Ok(())
}
