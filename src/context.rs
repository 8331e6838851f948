//! What the dialog, the workflow and the adapters need from the outside world, passed in (no globals).

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::locale::Texts;
use crate::store::Store;

/// The store, the texts, the configuration and the current time, borrowed for one piece of work.
pub struct Ctx<'a> {
    pub store: &'a dyn Store,
    pub texts: &'a Texts,
    pub config: &'a Config,
    pub now: DateTime<Utc>,
}
