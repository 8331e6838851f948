//! What every part of jianyan is handed: settings, the store, the texts and the clock.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::locale::{Lang, Texts};
use crate::store::{PgStore, SqliteStore, Store};

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub texts: Arc<Texts>,
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// Opens the configured database (applying migrations) and loads the texts: PostgreSQL when
    /// `database.url` is set, else the SQLite file at `database.path`.
    pub async fn open(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let texts = load_texts(&config)?;
        let store = open_store(&config).await?;
        Ok(Self { config: Arc::new(config), store, texts: Arc::new(texts), clock })
    }
}

/// The store the settings name. Errors say which setting to check, never with a password.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let db = &config.database;
    Ok(match db.postgres_url() {
        Some(url) => {
            Arc::new(PgStore::open(url, db.max_connections).await.map_err(|e| {
                anyhow::anyhow!("cannot open the database {} (setting database.url): {e}", db.describe())
            })?)
        }
        None => Arc::new(
            SqliteStore::open(&db.path, std::time::Duration::from_millis(db.busy_timeout_ms), db.max_connections)
                .await
                .map_err(|e| {
                    anyhow::anyhow!("cannot open the database {} (setting database.path): {e}", db.path.display())
                })?,
        ),
    })
}

pub fn load_texts(config: &Config) -> anyhow::Result<Texts> {
    let default = Lang::parse(&config.locale.default).unwrap_or(Lang::Zh);
    let dir = (!config.locale.dir.is_empty()).then(|| std::path::Path::new(&config.locale.dir));
    Texts::load(dir, default, config.locale.follow_telegram_language)
}
