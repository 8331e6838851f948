//! A PostgreSQL write transaction that remembers the outbox rows it added, handed to the delivery
//! worker once committed.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::mpsc;

use crate::store::{DueMessage, Result};

/// Where rows committed to the outbox are handed over (`Store::subscribe_outbox`).
pub(crate) type Feed = std::sync::Mutex<Option<mpsc::UnboundedSender<Vec<DueMessage>>>>;

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

    /// Commits; the outbox rows added are handed over only after the commit succeeded.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        if !self.added.is_empty() {
            let feed = self.feed.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(feed) = feed.as_ref() {
                let _ = feed.send(self.added);
            }
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
