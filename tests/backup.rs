//! Backups of a live SQLite database and restoring them: a backup taken while members submit is a
//! sound database holding whole suggestions; a restore is refused while the service runs, keeps
//! the database it replaces, and never takes a damaged or foreign file.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jianyan::backup::{self, BackupError, LockError, RunLock};
use sqlx::{Connection, SqliteConnection};
use support::db::Backend;
use support::fake_telegram::{FakeConfig, TgUser};
use support::harness::TestBot;

async fn open(path: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await.unwrap()
}

async fn scalar(conn: &mut SqliteConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_members_submit_is_whole_and_sound() {
    // About the SQLite file itself: on SQLite whatever JIANYAN_TEST_BACKEND says.
    let bot = TestBot::start_on(Backend::Sqlite, FakeConfig::default(), &[]).await;
    let members = [TgUser::new(91001, "三"), TgUser::new(91002, "四")];
    bot.register(&members[0], "PD001").await;
    bot.register(&members[1], "PD002").await;
    let dir = tempfile::tempdir().unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let submitting = async {
        for round in 0..4 {
            let title = format!("关于第{round}批社区养老服务的建议");
            let points = ["增加日间照料中心", "完善助餐服务"];
            tokio::join!(
                bot.submit(&members[0], "建言资政", &title, &points),
                bot.submit(&members[1], "建言资政", &title, &points)
            );
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    };
    let backing_up = async {
        let mut taken = Vec::new();
        for i in 0.. {
            if done.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            let path = dir.path().join(format!("backup-{i}.db"));
            let copied = backup::backup(&bot.app.config, &path).await.expect("a backup while members submit");
            assert_eq!(copied.path, path);
            taken.push(path);
        }
        taken
    };
    let ((), taken) = tokio::join!(submitting, backing_up);
    let mut seen = Vec::new();
    for path in taken {
        let mut conn = open(&path).await;
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.unwrap();
        assert_eq!(integrity, "ok", "{}", path.display());
        // One moment's copy: every suggestion in it has both its points and its submitted event.
        let suggestions = scalar(&mut conn, "SELECT COUNT(*) FROM suggestions").await;
        assert_eq!(scalar(&mut conn, "SELECT COUNT(*) FROM suggestion_points").await, suggestions * 2);
        assert_eq!(
            scalar(&mut conn, "SELECT COUNT(*) FROM timeline_events WHERE event = 'submitted'").await,
            suggestions
        );
        seen.push(suggestions);
    }
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "later backups hold no fewer suggestions: {seen:?}");
    assert!(seen.iter().any(|n| (1..8).contains(n)), "no backup was taken while members submitted: {seen:?}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions").await, 8);
    // A backup never overwrites a file.
    let first = dir.path().join("backup-0.db");
    assert!(matches!(backup::backup(&bot.app.config, &first).await, Err(BackupError::Exists(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_is_refused_while_the_service_runs_and_keeps_what_it_replaces() {
    // About the SQLite file itself: on SQLite whatever JIANYAN_TEST_BACKEND says.
    let bot = TestBot::start_on(Backend::Sqlite, FakeConfig::default(), &[]).await;
    let user = TgUser::new(91003, "三");
    bot.register(&user, "PD001").await;
    bot.submit(&user, "建言资政", "关于加强垃圾分类的建议", &["增加回收点"]).await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.db");
    backup::backup(&bot.app.config, &saved).await.unwrap();

    // The service holds the run lock (as `jianyan run` does): a restore is refused.
    let running = RunLock::acquire(&bot.app.config.database.path).unwrap();
    match backup::restore(&bot.app.config, &saved, chrono::Utc::now()).await {
        Err(BackupError::Running(LockError::Running { pid, .. })) => assert_eq!(pid, std::process::id().to_string()),
        other => panic!("restore while running: {other:?}"),
    }
    // So is a second service on the same file.
    assert!(matches!(RunLock::acquire(&bot.app.config.database.path), Err(LockError::Running { .. })));
    drop(running);

    // A second suggestion after the backup; the restore takes the database back to one.
    bot.submit(&user, "建言资政", "关于增设公交线路的建议", &["连通地铁站"]).await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions").await, 2);
    let mut bot = bot;
    bot.stop().await;
    let (kept, restored) = backup::restore(&bot.app.config, &saved, chrono::Utc::now()).await.unwrap();
    assert_eq!(restored.suggestions, 1);
    let kept = kept.expect("the replaced database is kept");
    let mut conn = open(&kept).await;
    assert_eq!(
        scalar(&mut conn, "SELECT COUNT(*) FROM suggestions").await,
        2,
        "the kept copy is the database as it was"
    );
    let mut conn = open(&bot.app.config.database.path).await;
    assert_eq!(scalar(&mut conn, "SELECT COUNT(*) FROM suggestions").await, 1);

    // A file that is not a jianyan database is refused and changes nothing.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    assert!(matches!(
        backup::restore(&bot.app.config, &junk, chrono::Utc::now()).await,
        Err(BackupError::NotADatabase { .. })
    ));
    let other = dir.path().join("other.db");
    let mut plain = SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", other.display())).await.unwrap();
    sqlx::query("CREATE TABLE t (x)").execute(&mut plain).await.unwrap();
    plain.close().await.unwrap();
    assert!(matches!(
        backup::restore(&bot.app.config, &other, chrono::Utc::now()).await,
        Err(BackupError::NotADatabase { .. })
    ));
    assert_eq!(scalar(&mut conn, "SELECT COUNT(*) FROM suggestions").await, 1);
}

/// The binary: `jianyan run` holds the lock, so a second `run` and `restore` are refused with a
/// message naming the running process; `backup` works meanwhile.
#[test]
fn the_command_line_refuses_a_restore_while_the_service_runs() {
    let dir = tempfile::tempdir().unwrap();
    let jianyan = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jianyan"));
        command.args(args).current_dir(dir.path()).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
        command.env("JIANYAN_WEB__LISTEN", "127.0.0.1:0").env("JIANYAN_LOCALE__DEFAULT", "zh-CN");
        command
    };
    let out = jianyan(&["migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut service = jianyan(&["run"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let lock = dir.path().join("data/jianyan.db.lock");
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::fs::read_to_string(&lock).unwrap_or_default().trim() != service.id().to_string() {
        assert!(Instant::now() < deadline, "the service did not take its lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    let backup = jianyan(&["backup", "copy.db"]).output().unwrap();
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    assert!(String::from_utf8_lossy(&backup.stdout).contains("备份完成"));
    let restore = jianyan(&["restore", "copy.db"]).output().unwrap();
    assert_eq!(restore.status.code(), Some(1));
    let said = String::from_utf8_lossy(&restore.stderr);
    assert!(said.contains("正在使用数据库") && said.contains(&service.id().to_string()), "{said}");
    let second = jianyan(&["run"]).output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another jianyan is running"));
    service.kill().unwrap();
    service.wait().unwrap();
    // Killed (as by kill -9): the lock went with the process.
    let restore = jianyan(&["restore", "copy.db"]).output().unwrap();
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    assert!(String::from_utf8_lossy(&restore.stdout).contains("已从备份恢复"));
}
