//! A fresh, empty PostgreSQL database for one test, dropped when the test is done (even if it panics).
//!
//! Made on the server named by `JIANYAN_TEST_POSTGRES` (a URL; default
//! `postgres://postgres@127.0.0.1:5432/postgres`), whose user may create databases. Each database
//! has its own name, `jianyan_t_<pid>_<counter>_<random>`, so tests and test runs at once never
//! meet.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, Executor, PgConnection};

/// The server tests use when `JIANYAN_TEST_POSTGRES` is not set.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Databases made by this process so far: part of each name.
static MADE: AtomicU64 = AtomicU64::new(0);

/// A database created for a test; `DROP DATABASE … WITH (FORCE)` when dropped (closing any
/// connection still open to it).
pub struct TestDatabase {
    /// The server's URL, to connect to for dropping it.
    server: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates the database (`TEMPLATE template0 ENCODING 'UTF8'`). Panics if the server cannot
    /// be reached or refuses: a test that needs PostgreSQL cannot run without it.
    pub async fn create() -> Self {
        let server = std::env::var("JIANYAN_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_SERVER.to_string());
        let name = format!(
            "jianyan_t_{}_{}_{:08x}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut url = url::Url::parse(&server).expect("JIANYAN_TEST_POSTGRES is a postgres:// URL");
        url.set_path(&format!("/{name}"));
        let mut conn = PgConnection::connect(&server).await.unwrap_or_else(|e| {
            panic!("cannot reach the test PostgreSQL server {server} (JIANYAN_TEST_POSTGRES): {e}")
        });
        conn.execute(format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        let _ = conn.close().await;
        Self { server, name, url: url.to_string() }
    }

    /// The database's URL (`postgres://…/jianyan_t_…`), for `PgStore::open`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    /// Drops the database from a thread of its own with its own small runtime: `Drop` cannot
    /// await, and it may run inside the test's runtime (which must not be blocked on from within).
    /// A failure is reported on stderr, not panicked on (it may run while a test panics).
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&server).await?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
                conn.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database {}: {e}", self.name),
            Err(_) => eprintln!("could not drop the test database {}: the dropping thread panicked", self.name),
        }
    }
}
