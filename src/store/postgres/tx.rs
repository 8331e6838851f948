//! A PostgreSQL write transaction that remembers the outbox rows it added, handed to the delivery
//! worker once committed.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::mpsc;

use crate::store::{DueMessage, Result};

/// The channel a transaction that added outbox rows notifies on commit, with the payload
/// `<instance>:<first id>:<last id>`: the leading instance's delivery worker takes them from there
/// (`cluster::listen_outbox`).
pub(super) const OUTBOX_CHANNEL: &str = "jianyan_outbox";

/// Where rows committed to the outbox are handed over (`Store::subscribe_outbox`): this process's
/// own in memory, other instances' through `OUTBOX_CHANNEL`.
pub(crate) struct Feed {
    /// This process's name in notifications, to tell its own (already handed over) from others'.
    pub(super) instance: String,
    sender: std::sync::Mutex<Option<mpsc::UnboundedSender<Vec<DueMessage>>>>,
    listening: std::sync::Once,
}

impl Default for Feed {
    fn default() -> Self {
        let instance = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        Self { instance, sender: std::sync::Mutex::new(None), listening: std::sync::Once::new() }
    }
}

impl Feed {
    /// A new receiver, replacing the previous one; the first call starts listening for other
    /// instances' rows.
    pub(super) fn subscribe(self: &Arc<Self>, pool: &PgPool) -> mpsc::UnboundedReceiver<Vec<DueMessage>> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.sender.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        self.listening.call_once(|| {
            tokio::spawn(super::cluster::listen_outbox(pool.clone(), self.clone()));
        });
        rx
    }

    /// Hands rows to the subscriber, if there is one. An empty batch means rows may have been
    /// missed (`OutboxStore::subscribe_outbox`).
    pub(super) fn send(&self, rows: Vec<DueMessage>) {
        let sender = self.sender.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = sender.as_ref() {
            let _ = sender.send(rows);
        }
    }
}

pub(crate) struct PgTx {
    tx: Transaction<'static, Postgres>,
    feed: Arc<Feed>,
    added: Vec<DueMessage>,
}

impl PgTx {
    pub(super) async fn begin(pool: &PgPool, feed: Arc<Feed>) -> Result<Self> {
        Ok(Self { tx: pool.begin().await?, feed, added: Vec::new() })
    }

    /// Records outbox rows inserted by this transaction, to be handed to the delivery worker once
    /// committed.
    pub(crate) fn added(&mut self, rows: impl IntoIterator<Item = DueMessage>) {
        self.added.extend(rows);
    }

    /// Commits; the outbox rows added are handed over only after the commit succeeded: in memory
    /// to this process's delivery worker, and by a notification (delivered by PostgreSQL on
    /// commit) to the leading instance's, if that is another process.
    pub async fn commit(mut self) -> Result<()> {
        let range = self.added.iter().map(|r| r.id).min().zip(self.added.iter().map(|r| r.id).max());
        if let Some((first, last)) = range {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(OUTBOX_CHANNEL)
                .bind(format!("{}:{first}:{last}", self.feed.instance))
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await?;
        if !self.added.is_empty() {
            self.feed.send(std::mem::take(&mut self.added));
        }
        Ok(())
    }

    /// Undoes everything (dropping a `PgTx` does too, when its connection is next used).
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl Deref for PgTx {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for PgTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}
