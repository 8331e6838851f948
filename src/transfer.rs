//! Moves an installation from its SQLite database into an empty PostgreSQL database
//! (`jianyan migrate-data --to postgres://…`), and checks that everything arrived.
//!
//! Every table is copied with its ids, in an order that satisfies the foreign keys, inside one
//! PostgreSQL transaction: either the whole installation arrives or nothing does. Values are read
//! by the type the PostgreSQL column has (times stored as text in SQLite become `timestamptz`,
//! 0/1 flags become booleans); the identity sequences then continue after the highest id, and
//! the reference-number counters and the outbox come along as tables like any other.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row, SqliteConnection};

use crate::backup::{LockError, RunLock};
use crate::config::{Config, is_postgres_url, redact_password};
use crate::store::{PgStore, SqliteStore};

/// The tables, parents before children. `suggestions.merged_into` points within its own table:
/// it is filled in after every suggestion is there.
pub const TABLES: &[&str] = &[
    "workstations",
    "departments",
    "members",
    "staff",
    "liaisons",
    // Before suggestions and ratings: they name the console account that entered them.
    "users",
    "invite_codes",
    "topics",
    "reference_counters",
    "suggestions",
    "suggestion_points",
    "attachments",
    "timeline_events",
    "dialogs",
    "updates",
    "outbox",
    "assignments",
    "opinions",
    "replies",
    "ratings",
    "reply_drafts",
    "countersigns",
    "cosigners",
    "cosigner_ratings",
    "reminders",
    "digests",
    "broadcasts",
    "sessions",
    "api_tokens",
    "audit_log",
    "chat_migrations",
    "held_notifications",
    "stored_files",
];

/// SQLite tables that are not data: the migrations' own record and the search index, which
/// PostgreSQL builds itself.
fn not_data(table: &str) -> bool {
    table == "_sqlx_migrations" || table.starts_with("suggestions_fts") || table.starts_with("sqlite_")
}

/// Rows sent per INSERT (PostgreSQL takes at most 65,535 parameters per statement).
const BATCH_ROWS: usize = 500;

/// Rows per INSERT of `table`: stored files (up to `web.api_max_upload_mb` each) one at a time,
/// so the copy never holds more than one in memory.
fn batch_rows(table: &str) -> usize {
    if table == "stored_files" { 1 } else { BATCH_ROWS }
}

/// What was copied: each table with its row count, the same on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub tables: Vec<(&'static str, i64)>,
}

/// Why nothing was moved; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(
        "this installation already uses PostgreSQL (database.url); migrate-data copies from the SQLite file at database.path"
    )]
    AlreadyPostgres,
    #[error("{0} is not a PostgreSQL URL (it must start with postgres://)")]
    NotPostgres(String),
    #[error("there is no database at {0} (setting database.path)")]
    NoDatabase(String),
    #[error(transparent)]
    Running(#[from] LockError),
    #[error("the PostgreSQL database {url} is not empty (table {table} has {rows} rows); use a new, empty database")]
    NotEmpty { url: String, table: String, rows: i64 },
    #[error(
        "the two schemas differ: {0}; this build's migrations for SQLite and PostgreSQL must describe the same tables"
    )]
    SchemaDiffers(String),
    #[error("cannot read {table} row {row}, column {column}: {error}")]
    Unreadable { table: String, row: i64, column: String, error: String },
    #[error(
        "after copying, {table} has {source_rows} rows in SQLite but {target_rows} in PostgreSQL; nothing was kept"
    )]
    CountsDiffer { table: String, source_rows: i64, target_rows: i64 },
    #[error("cannot open {what}: {error}")]
    Open { what: String, error: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Copies the SQLite database named by `config` into the empty PostgreSQL database at `to`.
///
/// Refused while `jianyan run` uses the SQLite file (what arrived meanwhile would be left
/// behind), when `to` already holds data, and when the schemas of the two backends disagree.
/// Both databases are first brought up to this version's schema.
pub async fn migrate_data(config: &Config, to: &str) -> Result<Moved, TransferError> {
    if config.database.postgres_url().is_some() {
        return Err(TransferError::AlreadyPostgres);
    }
    let to = to.trim();
    if !is_postgres_url(to) {
        return Err(TransferError::NotPostgres(redact_password(to)));
    }
    let path = &config.database.path;
    if !path.exists() {
        return Err(TransferError::NoDatabase(path.display().to_string()));
    }
    let _lock = RunLock::acquire(path)?;
    let source = open_sqlite(config, path).await?;
    let target = PgStore::open(to, 2)
        .await
        .map_err(|e| TransferError::Open { what: redact_password(to), error: e.to_string() })?;
    let mut from = source.pool().acquire().await?;
    // One read transaction: the copy is of one moment even if a command-line write slips in.
    sqlx::query("BEGIN").execute(&mut *from).await?;
    let mut tx = target.pool().begin().await?;
    for table in TABLES {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut *tx).await?;
        if rows > 0 {
            return Err(TransferError::NotEmpty { url: redact_password(to), table: table.to_string(), rows });
        }
    }
    same_tables(&mut from).await?;
    let mut moved = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let columns = columns(&mut tx, &mut from, table).await?;
        copy_table(&mut from, &mut tx, table, &columns).await?;
        moved.push((*table, 0));
    }
    link_merged(&mut from, &mut tx).await?;
    for (table, count) in &mut moved {
        let source_rows: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut *from).await?;
        let target_rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut *tx).await?;
        if source_rows != target_rows {
            return Err(TransferError::CountsDiffer { table: table.to_string(), source_rows, target_rows });
        }
        *count = target_rows;
        continue_identity(&mut tx, table).await?;
    }
    tx.commit().await?;
    sqlx::query("ROLLBACK").execute(&mut *from).await?;
    Ok(Moved { tables: moved })
}

async fn open_sqlite(config: &Config, path: &Path) -> Result<SqliteStore, TransferError> {
    SqliteStore::open(path, std::time::Duration::from_millis(config.database.busy_timeout_ms), 1)
        .await
        .map_err(|e| TransferError::Open { what: path.display().to_string(), error: e.to_string() })
}

/// Every SQLite data table is one this transfer knows.
async fn same_tables(from: &mut SqliteConnection) -> Result<(), TransferError> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(&mut *from).await?;
    let known: BTreeSet<&str> = TABLES.iter().copied().collect();
    let unknown: Vec<&String> = names.iter().filter(|n| !not_data(n) && !known.contains(n.as_str())).collect();
    if !unknown.is_empty() {
        return Err(TransferError::SchemaDiffers(format!(
            "SQLite has tables this transfer does not copy: {unknown:?}"
        )));
    }
    Ok(())
}

/// A column and the PostgreSQL type its values are read as.
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Integer,
    Boolean,
    Time,
    Text,
    Bytes,
}

/// The table's columns, in PostgreSQL's order, after checking that SQLite has the same ones.
async fn columns(
    to: &mut PgConnection,
    from: &mut SqliteConnection,
    table: &str,
) -> Result<Vec<Column>, TransferError> {
    let pg: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *to)
    .await?;
    let sqlite: BTreeSet<String> = sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .fetch_all(&mut *from)
        .await?
        .into_iter()
        .collect();
    let pg_names: BTreeSet<String> = pg.iter().map(|(n, _)| n.clone()).collect();
    if pg_names != sqlite {
        let only_sqlite: Vec<_> = sqlite.difference(&pg_names).collect();
        let only_pg: Vec<_> = pg_names.difference(&sqlite).collect();
        return Err(TransferError::SchemaDiffers(format!(
            "table {table}: only in SQLite {only_sqlite:?}, only in PostgreSQL {only_pg:?}"
        )));
    }
    pg.into_iter()
        .map(|(name, data_type)| {
            let kind = match data_type.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Integer,
                "boolean" => Kind::Boolean,
                "timestamp with time zone" => Kind::Time,
                "text" | "character varying" => Kind::Text,
                "bytea" => Kind::Bytes,
                other => {
                    return Err(TransferError::SchemaDiffers(format!(
                        "{table}.{name} has type {other}, which this transfer does not know"
                    )));
                }
            };
            Ok(Column { name, kind })
        })
        .collect()
}

/// One value read from SQLite, as the PostgreSQL column wants it.
enum Value {
    Integer(Option<i64>),
    Boolean(Option<bool>),
    Time(Option<DateTime<Utc>>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

async fn copy_table(
    from: &mut SqliteConnection,
    to: &mut PgConnection,
    table: &str,
    columns: &[Column],
) -> Result<(), TransferError> {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    // merged_into waits for every suggestion to exist (`link_merged`).
    let select: Vec<String> =
        names
            .iter()
            .map(|n| {
                if table == "suggestions" && *n == "merged_into" { "NULL AS merged_into".into() } else { n.to_string() }
            })
            .collect();
    let sql =
        format!("SELECT rowid AS _row, {} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?", select.join(", "));
    let mut after = i64::MIN;
    loop {
        let rows = sqlx::query(&sql).bind(after).bind(batch_rows(table) as i64).fetch_all(&mut *from).await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("_row")?;
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(rows.len());
        for row in &rows {
            let row_id: i64 = row.try_get("_row")?;
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                let at = i + 1;
                let unreadable = |e: sqlx::Error| TransferError::Unreadable {
                    table: table.to_string(),
                    row: row_id,
                    column: column.name.clone(),
                    error: e.to_string(),
                };
                values.push(match column.kind {
                    Kind::Integer => Value::Integer(row.try_get(at).map_err(unreadable)?),
                    Kind::Boolean => Value::Boolean(row.try_get(at).map_err(unreadable)?),
                    Kind::Time => Value::Time(row.try_get(at).map_err(unreadable)?),
                    Kind::Text => Value::Text(row.try_get(at).map_err(unreadable)?),
                    Kind::Bytes => Value::Bytes(row.try_get(at).map_err(unreadable)?),
                });
            }
            batch.push(values);
        }
        insert(to, table, &names, batch).await?;
    }
    Ok(())
}

async fn insert(
    to: &mut PgConnection,
    table: &str,
    names: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), TransferError> {
    let mut query: QueryBuilder<Postgres> =
        QueryBuilder::new(format!("INSERT INTO {table} ({}) OVERRIDING SYSTEM VALUE ", names.join(", ")));
    query.push_values(rows, |mut row, values| {
        for value in values {
            match value {
                Value::Integer(v) => row.push_bind(v),
                Value::Boolean(v) => row.push_bind(v),
                Value::Time(v) => row.push_bind(v),
                Value::Text(v) => row.push_bind(v),
                Value::Bytes(v) => row.push_bind(v),
            };
        }
    });
    query.build().execute(&mut *to).await?;
    Ok(())
}

/// Fills in which suggestion each merged one was merged into.
async fn link_merged(from: &mut SqliteConnection, to: &mut PgConnection) -> Result<(), TransferError> {
    let merged: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, merged_into FROM suggestions WHERE merged_into IS NOT NULL ORDER BY id")
            .fetch_all(&mut *from)
            .await?;
    for (id, into) in merged {
        sqlx::query("UPDATE suggestions SET merged_into = $1 WHERE id = $2")
            .bind(into)
            .bind(id)
            .execute(&mut *to)
            .await?;
    }
    Ok(())
}

/// New rows get ids after the highest copied one (tables whose key is an identity column).
async fn continue_identity(to: &mut PgConnection, table: &str) -> Result<(), TransferError> {
    let identity: Option<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'YES'",
    )
    .bind(table)
    .fetch_optional(&mut *to)
    .await?;
    if let Some(column) = identity {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), MAX({column})) FROM {table} HAVING MAX({column}) IS NOT NULL"
        ))
        .execute(&mut *to)
        .await?;
    }
    Ok(())
}
