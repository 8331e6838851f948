//! A fresh PostgreSQL database for one benchmark run, dropped at the end (failed run or not).

use sqlx::{Connection, Executor};

/// The server the benchmarks make their databases on unless `BENCH_POSTGRES` says otherwise.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A PostgreSQL database made for one benchmark run (`CREATE DATABASE … TEMPLATE template0
/// ENCODING 'UTF8'`) and dropped `WITH (FORCE)` when this is dropped, failed run or not.
pub struct BenchDatabase {
    /// The server URL to connect to for CREATE/DROP DATABASE.
    server: String,
    pub name: String,
    /// The new database's URL.
    pub url: String,
}

impl BenchDatabase {
    /// Creates `jianyan_bench_<pid>_<random>` on `server` (`postgres://user@host:port/database`).
    ///
    /// Errors: the server cannot be reached or refuses CREATE DATABASE.
    pub async fn create(server: &str) -> anyhow::Result<Self> {
        let name = format!("jianyan_bench_{}_{:08x}", std::process::id(), rand::random::<u32>());
        let mut url = url::Url::parse(server).map_err(|e| anyhow::anyhow!("BENCH_POSTGRES={server}: {e}"))?;
        url.set_path(&format!("/{name}"));
        let mut conn = sqlx::PgConnection::connect(server)
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach PostgreSQL at {server} (BENCH_POSTGRES): {e}"))?;
        conn.execute(format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'").as_str()).await?;
        let _ = conn.close().await;
        Ok(Self { server: server.to_string(), name, url: url.to_string() })
    }
}

impl Drop for BenchDatabase {
    /// From a thread with its own runtime: `Drop` cannot await and runs inside the bench's runtime.
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&server).await?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
                conn.close().await?;
                Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("benchmark: cannot drop the database {}: {e:#}", self.name),
            Err(_) => eprintln!("benchmark: dropping the database {} panicked", self.name),
        }
    }
}
