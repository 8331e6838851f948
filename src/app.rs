//! What every part of jianyan is handed: settings, the store, the texts and the clock.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::locale::{Lang, Texts};
use crate::store::{SqliteStore, Store};

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub texts: Arc<Texts>,
    pub clock: Arc<dyn Clock>,
}

impl App {
    /// Opens the configured SQLite database (applying migrations) and loads the texts.
    pub async fn open(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let texts = load_texts(&config)?;
        let store = SqliteStore::open(
            &config.database.path,
            std::time::Duration::from_millis(config.database.busy_timeout_ms),
            config.database.max_connections,
        )
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot open the database {} (setting database.path): {e}", config.database.path.display())
        })?;
        Ok(Self { config: Arc::new(config), store: Arc::new(store), texts: Arc::new(texts), clock })
    }
}

pub fn load_texts(config: &Config) -> anyhow::Result<Texts> {
    let default = Lang::parse(&config.locale.default).unwrap_or(Lang::Zh);
    let dir = (!config.locale.dir.is_empty()).then(|| std::path::Path::new(&config.locale.dir));
    Texts::load(dir, default, config.locale.follow_telegram_language)
}
