//! The PostgreSQL store, the scale-out backend: several jianyan processes share one database.
//!
//! Selected by `database.url = "postgres://…"`. Where the SQLite store serialises writers with its
//! one write connection, this store uses PostgreSQL's own means: row locks (`SELECT … FOR UPDATE`,
//! `UPDATE … RETURNING`), unique constraints with `ON CONFLICT`, and `FOR UPDATE SKIP LOCKED` where
//! several processes take work from one table.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::*;

mod cluster;
mod console;
mod inbox;
mod outreach;
mod reports;
mod rows;
mod tx;

pub(crate) use rows::read;
pub(crate) use tx::PgTx;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Where committed outbox rows are handed (`Store::subscribe_outbox`).
    feed: Arc<tx::Feed>,
    /// Signals from other instances (`ClusterStore`).
    signals: Arc<cluster::Signals>,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) with a pool
    /// of up to `max_connections`, and applies pending migrations (`migrations/postgres/`).
    ///
    /// Errors: the server cannot be reached, refuses the login, or a migration fails (the database
    /// user must be allowed to create tables and the `pg_trgm` extension, which PostgreSQL 13 and
    /// later let a database's owner create).
    pub async fn open(url: &str, max_connections: u32) -> Result<Self> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.application_name("jianyan"))
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, feed: Arc::new(tx::Feed::default()), signals: Arc::default() })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Starts a write transaction (READ COMMITTED; statements that must not interleave lock their
    /// rows). `PgTx::commit` returns once PostgreSQL has committed it (durable with the server's
    /// `synchronous_commit`, on by default).
    pub(crate) async fn write(&self) -> Result<PgTx> {
        PgTx::begin(&self.pool, self.feed.clone()).await
    }
}

#[async_trait::async_trait]
impl ClusterStore for PgStore {
    async fn try_lead(&self) -> Result<Option<Box<dyn Lease>>> {
        cluster::try_lead(&self.pool.connect_options()).await
    }

    fn updates_stored(&self) -> tokio::sync::watch::Receiver<u64> {
        self.signals.updates(&self.pool)
    }
}
