//! The test's database on the backend `JIANYAN_TEST_BACKEND` names (`sqlite`, the default, or `postgres`), and raw SQL on it.
//!
//! Test SQL is written once for both backends: parameters as `$1`, `$2`… (sqlx's SQLite driver
//! binds `$NNN` by number, as PostgreSQL does), no booleans or times compared as literals (SQLite
//! keeps them as 0/1 and text, PostgreSQL as `BOOLEAN` and `TIMESTAMPTZ`): bind them instead.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jianyan::config::Config;
use jianyan::store::{SqliteStore, Store};
use sqlx::{Column, PgPool, Row, SqlitePool};

use super::postgres::TestDatabase;

/// The store backend the tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `JIANYAN_TEST_BACKEND`: `sqlite` (or unset, or empty) or `postgres`. Panics on anything else,
    /// so a misspelt name never runs the suite on the wrong backend unnoticed.
    pub fn from_env() -> Self {
        match std::env::var("JIANYAN_TEST_BACKEND").unwrap_or_default().trim() {
            "" | "sqlite" => Self::Sqlite,
            "postgres" | "postgresql" => Self::Postgres,
            other => panic!("JIANYAN_TEST_BACKEND is {other:?}: use sqlite or postgres"),
        }
    }

    pub fn is_sqlite(self) -> bool {
        self == Self::Sqlite
    }
}

/// Where a test's database lives: the SQLite file `jianyan.db` in the test's directory, or a fresh
/// PostgreSQL database (dropped when the last clone of this value is dropped).
#[derive(Clone)]
pub struct Place {
    pub backend: Backend,
    postgres: Option<Arc<TestDatabase>>,
}

impl Place {
    /// A fresh place on the backend `JIANYAN_TEST_BACKEND` names.
    pub async fn create() -> Self {
        Self::create_on(Backend::from_env()).await
    }

    /// A fresh place on `backend` (for a PostgreSQL one, a new database on the test server).
    pub async fn create_on(backend: Backend) -> Self {
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(Arc::new(TestDatabase::create().await)),
        };
        Self { backend, postgres }
    }

    /// The settings (environment-style keys) that point the app at this place: the SQLite file in
    /// `dir`, and for PostgreSQL `JIANYAN_DATABASE__URL` too.
    pub fn settings(&self, dir: &Path) -> Vec<(String, String)> {
        let mut settings = vec![("JIANYAN_DATABASE__PATH".to_string(), dir.join("jianyan.db").display().to_string())];
        if let Some(pg) = &self.postgres {
            settings.push(("JIANYAN_DATABASE__URL".to_string(), pg.url().to_string()));
        }
        settings
    }

    /// Opens (migrating) the store `config` names with at most `max_connections` connections, and
    /// a raw connection pool on the same database for the test's own SQL.
    pub async fn open(&self, config: &Config, max_connections: u32) -> (Arc<dyn Store>, TestDb) {
        match self.backend {
            Backend::Sqlite => {
                let store =
                    SqliteStore::open(&config.database.path, Duration::from_secs(5), max_connections).await.unwrap();
                let db = TestDb { pool: Pool::Sqlite(store.pool().clone()), place: self.clone() };
                (Arc::new(store), db)
            }
            Backend::Postgres => {
                let url = config.database.postgres_url().expect("the test settings name the PostgreSQL database");
                let mut config = config.clone();
                config.database.max_connections = max_connections;
                let store = jianyan::app::open_store(&config).await.unwrap();
                let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect_lazy(url).unwrap();
                (store, TestDb { pool: Pool::Postgres(pool), place: self.clone() })
            }
        }
    }
}

/// `query` with `args` bound in order (the same code for either backend's query type).
macro_rules! bind {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a.clone() {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::Bool(v) => q.bind(v),
                Arg::Time(v) => q.bind(v),
                Arg::Null => q.bind(None::<i64>),
            };
        }
        q
    }};
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A value bound to a `$n` parameter of test SQL.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(i64),
    Text(String),
    Bool(bool),
    Time(DateTime<Utc>),
    Null,
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(v.to_string())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Self::Time(v)
    }
}

/// One column of a row read by test SQL: integers of any width as `Int`, text as `Text`, SQLite's
/// 0/1 stays `Int` (compare booleans with [`Value::truthy`]), PostgreSQL's `TIMESTAMPTZ` is `Time`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
    Time(DateTime<Utc>),
}

impl Value {
    /// The integer; panics on anything else.
    pub fn int(&self) -> i64 {
        match self {
            Self::Int(v) => *v,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    /// The integer, `None` for NULL; panics on anything else.
    pub fn opt_int(&self) -> Option<i64> {
        match self {
            Self::Null => None,
            other => Some(other.int()),
        }
    }

    /// The text; panics on anything else.
    pub fn text(&self) -> String {
        match self {
            Self::Text(v) => v.clone(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    /// The text, `None` for NULL; panics on anything else.
    pub fn opt_text(&self) -> Option<String> {
        match self {
            Self::Null => None,
            other => Some(other.text()),
        }
    }

    /// A boolean, stored as 0/1 (SQLite) or `BOOLEAN` (PostgreSQL); panics on anything else.
    pub fn truthy(&self) -> bool {
        match self {
            Self::Bool(v) => *v,
            Self::Int(0) => false,
            Self::Int(1) => true,
            other => panic!("expected a boolean, got {other:?}"),
        }
    }
}

/// Raw SQL on the test's database, whichever backend it is on. Panics on any database error: a
/// test's own SQL that fails is a broken test.
#[derive(Clone)]
pub struct TestDb {
    pool: Pool,
    /// Keeps a PostgreSQL database alive as long as SQL may run on it.
    place: Place,
}

impl TestDb {
    pub fn backend(&self) -> Backend {
        self.place.backend
    }

    /// The SQLite pool, for tests that are about SQLite itself; panics on PostgreSQL.
    pub fn sqlite(&self) -> &SqlitePool {
        match &self.pool {
            Pool::Sqlite(pool) => pool,
            Pool::Postgres(_) => panic!("this test reads SQLite directly and cannot run on PostgreSQL"),
        }
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&self, sql: &str, args: &[Arg]) -> u64 {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let q = bind!(sqlx::query(sql), args);
                q.execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}")).rows_affected()
            }
            Pool::Postgres(pool) => {
                let q = bind!(sqlx::query(sql), args);
                q.execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}")).rows_affected()
            }
        }
    }

    /// Every row the query returns, each as its columns in order.
    pub async fn rows(&self, sql: &str, args: &[Arg]) -> Vec<Vec<Value>> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let q = bind!(sqlx::query(sql), args);
                let rows = q.fetch_all(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter().map(|r| (0..r.columns().len()).map(|i| sqlite_value(r, i)).collect()).collect()
            }
            Pool::Postgres(pool) => {
                let q = bind!(sqlx::query(sql), args);
                let rows = q.fetch_all(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter().map(|r| (0..r.columns().len()).map(|i| postgres_value(r, i)).collect()).collect()
            }
        }
    }

    /// The first column of every row.
    pub async fn column(&self, sql: &str, args: &[Arg]) -> Vec<Value> {
        self.rows(sql, args).await.into_iter().map(|mut r| r.swap_remove(0)).collect()
    }

    /// The first column of the one row the query returns; panics unless there is exactly one.
    pub async fn scalar(&self, sql: &str, args: &[Arg]) -> Value {
        let mut column = self.column(sql, args).await;
        assert_eq!(column.len(), 1, "{sql} returned {} rows, not one", column.len());
        column.swap_remove(0)
    }

    /// The integer `sql` returns (one row, one column), e.g. `SELECT COUNT(*) …`.
    pub async fn count(&self, sql: &str) -> i64 {
        self.scalar(sql, &[]).await.int()
    }

    /// Like `count`, with parameters.
    pub async fn count_with(&self, sql: &str, args: &[Arg]) -> i64 {
        self.scalar(sql, args).await.int()
    }

    /// The first column of every row, as text (NULL is refused).
    pub async fn texts(&self, sql: &str, args: &[Arg]) -> Vec<String> {
        self.column(sql, args).await.iter().map(Value::text).collect()
    }

    /// The first column of every row, as integers (NULL is refused).
    pub async fn ints(&self, sql: &str, args: &[Arg]) -> Vec<i64> {
        self.column(sql, args).await.iter().map(Value::int).collect()
    }
}

fn sqlite_value(row: &sqlx::sqlite::SqliteRow, i: usize) -> Value {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or(Value::Null, Value::Int);
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map_or(Value::Null, Value::Real);
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.map_or(Value::Null, Value::Text);
    }
    panic!("column {} has a type the tests do not read", row.columns()[i].name())
}

fn postgres_value(row: &sqlx::postgres::PgRow, i: usize) -> Value {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or(Value::Null, Value::Int);
    }
    if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
        return v.map_or(Value::Null, |v| Value::Int(v.into()));
    }
    if let Ok(v) = row.try_get::<Option<i16>, _>(i) {
        return v.map_or(Value::Null, |v| Value::Int(v.into()));
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.map_or(Value::Null, Value::Text);
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return v.map_or(Value::Null, Value::Bool);
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map_or(Value::Null, Value::Real);
    }
    if let Ok(v) = row.try_get::<Option<DateTime<Utc>>, _>(i) {
        return v.map_or(Value::Null, Value::Time);
    }
    panic!("column {} has a type the tests do not read", row.columns()[i].name())
}
