//! Backups of the SQLite database while the service runs, restoring one, and the run lock that
//! tells whether the service is running on a database file.
//!
//! A backup is SQLite's `VACUUM INTO` (<https://www.sqlite.org/lang_vacuum.html#vacuuminto>): it
//! reads the database in one read transaction, so the copy is consistent as of one moment, and in
//! WAL mode the service keeps writing meanwhile. PostgreSQL installations use `pg_dump` (README,
//! "Backups").

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::config::Config;

/// Held by `jianyan run` for as long as it runs on an SQLite database: an exclusive lock
/// (`flock`) on `<database>.lock`, released by the operating system when the process ends, even
/// by `kill -9`. A second `jianyan run` on the same file, and `jianyan restore`, are refused while
/// it is held.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Why the run lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another jianyan is running on {database} (process {pid}); stop it first")]
    Running { database: String, pid: String },
    #[error("cannot lock {path}: {error}")]
    Io { path: String, error: std::io::Error },
}

impl RunLock {
    /// Takes the lock for the SQLite database at `database`, writing this process's id in the
    /// lock file for the message another process shows.
    pub fn acquire(database: &Path) -> Result<Self, LockError> {
        let path = with_suffix(database, ".lock");
        let io = |error| LockError::Io { path: path.display().to_string(), error };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path).unwrap_or_default().trim().to_string();
                let pid = if pid.is_empty() { "?".to_string() } else { pid };
                return Err(LockError::Running { database: database.display().to_string(), pid });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Self { _file: file })
    }
}

/// What a finished backup or restore reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub path: PathBuf,
    pub bytes: u64,
    pub members: i64,
    pub suggestions: i64,
}

/// Why a backup or a restore did not happen; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("this installation uses PostgreSQL (database.url): back it up with pg_dump, see README \"Backups\"")]
    Postgres,
    #[error("there is no database at {0} (setting database.path)")]
    NoDatabase(String),
    #[error("{0} already exists; choose a new file name, a backup never overwrites a file")]
    Exists(String),
    #[error("{file} is not a usable jianyan database: {why}")]
    NotADatabase { file: String, why: String },
    #[error("{file} was made by a newer jianyan (schema {found}, this one knows up to {known}); upgrade jianyan first")]
    Newer { file: String, found: i64, known: i64 },
    #[error(transparent)]
    Running(#[from] LockError),
    #[error("{0}")]
    Io(String),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Io(format!("database error: {e}"))
    }
}

fn io(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = format!("{what} {}", path.display());
    move |e| BackupError::Io(format!("cannot {what}: {e}"))
}

async fn connect(path: &Path, read_only: bool) -> Result<SqliteConnection, sqlx::Error> {
    SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
}

/// Writes a consistent copy of the live SQLite database to `target` (which must not exist yet),
/// then checks the copy (`PRAGMA integrity_check`) and counts what it holds.
///
/// The copy is written beside `target` under a temporary name and renamed when complete, so a
/// file named `target` is always a whole backup.
pub async fn backup(config: &Config, target: &Path) -> Result<Copied, BackupError> {
    if config.database.postgres_url().is_some() {
        return Err(BackupError::Postgres);
    }
    let source = &config.database.path;
    if !source.exists() {
        return Err(BackupError::NoDatabase(source.display().to_string()));
    }
    if target.exists() {
        return Err(BackupError::Exists(target.display().to_string()));
    }
    let partial = with_suffix(target, ".partial");
    let _ = std::fs::remove_file(&partial);
    let mut conn = connect(source, true).await?;
    let into = partial.to_str().ok_or_else(|| BackupError::Io(format!("{} is not a UTF-8 path", partial.display())))?;
    if let Err(e) = sqlx::query("VACUUM INTO ?").bind(into).execute(&mut conn).await {
        let _ = std::fs::remove_file(&partial);
        return Err(BackupError::Io(format!("cannot write the backup to {}: {e}", target.display())));
    }
    conn.close().await?;
    let checked = check(&partial).await;
    let counts = match checked {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, target).map_err(io("rename the backup to", target))?;
    Ok(copied(target, counts))
}

/// Replaces the SQLite database with the backup `file`, refusing while `jianyan run` uses it.
///
/// The backup is checked first (integrity, a jianyan schema no newer than this version's); the
/// database it replaces is kept beside it as `<database>.before-restore-<UTC time>`; the restored
/// database is brought up to this version's schema. Returns where the replaced database was kept
/// (if there was one) and what the restored one holds.
pub async fn restore(
    config: &Config,
    file: &Path,
    now: DateTime<Utc>,
) -> Result<(Option<PathBuf>, Copied), BackupError> {
    if config.database.postgres_url().is_some() {
        return Err(BackupError::Postgres);
    }
    let database = &config.database.path;
    // Held until the restore is done, so the service cannot start halfway through.
    let _lock = RunLock::acquire(database)?;
    if !file.exists() {
        return Err(BackupError::NotADatabase { file: file.display().to_string(), why: "no such file".into() });
    }
    check(file).await?;
    let kept = if database.exists() {
        let kept = with_suffix(database, &format!(".before-restore-{}", now.format("%Y%m%d-%H%M%S")));
        // A complete copy first (the database may have a write-ahead log beside it).
        let mut conn = connect(database, false).await?;
        let into = kept.to_str().ok_or_else(|| BackupError::Io(format!("{} is not a UTF-8 path", kept.display())))?;
        sqlx::query("VACUUM INTO ?").bind(into).execute(&mut conn).await?;
        conn.close().await?;
        Some(kept)
    } else {
        None
    };
    let partial = with_suffix(database, ".restoring");
    std::fs::copy(file, &partial).map_err(io("copy the backup to", &partial))?;
    for suffix in ["-wal", "-shm"] {
        let side = with_suffix(database, suffix);
        if side.exists() {
            std::fs::remove_file(&side).map_err(io("remove", &side))?;
        }
    }
    std::fs::rename(&partial, database).map_err(io("put the backup in place at", database))?;
    // Bring it up to this version's schema now rather than at the next start.
    let store =
        crate::store::SqliteStore::open(database, std::time::Duration::from_millis(config.database.busy_timeout_ms), 1)
            .await
            .map_err(|e| BackupError::Io(format!("the restored database does not open: {e}")))?;
    store.pool().close().await;
    let counts = check(database).await?;
    Ok((kept, copied(database, counts)))
}

fn copied(path: &Path, (members, suggestions): (i64, i64)) -> Copied {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Copied { path: path.to_path_buf(), bytes, members, suggestions }
}

/// Checks that `file` is a sound jianyan database this version can use; returns its member and
/// suggestion counts.
async fn check(file: &Path) -> Result<(i64, i64), BackupError> {
    let not = |why: String| BackupError::NotADatabase { file: file.display().to_string(), why };
    let mut conn = connect(file, true).await.map_err(|e| not(e.to_string()))?;
    let integrity: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.map_err(|e| not(e.to_string()))?;
    if integrity != "ok" {
        return Err(not(format!("integrity check: {integrity}")));
    }
    let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| not("it has no jianyan schema".into()))?;
    let known = crate::store::SqliteStore::latest_migration();
    match found {
        None => return Err(not("it has no jianyan schema".into())),
        Some(found) if found > known => {
            return Err(BackupError::Newer { file: file.display().to_string(), found, known });
        }
        Some(_) => {}
    }
    let count = |table: &'static str| format!("SELECT COUNT(*) FROM {table}");
    let members: i64 =
        sqlx::query_scalar(&count("members")).fetch_one(&mut conn).await.map_err(|e| not(e.to_string()))?;
    let suggestions: i64 =
        sqlx::query_scalar(&count("suggestions")).fetch_one(&mut conn).await.map_err(|e| not(e.to_string()))?;
    conn.close().await?;
    Ok((members, suggestions))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
