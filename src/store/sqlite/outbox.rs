//! SQLite for the delivery worker's view of the outbox: pages of the pending queue and the rows written since.

use super::*;

impl SqliteStore {
    /// `Store::pending_outbox`: one range of the partial index `outbox_pending(priority, id)`.
    pub(super) async fn pending_outbox_page(&self, from: (i64, i64), limit: usize) -> Result<Vec<QueuedMessage>> {
        let rows = sqlx::query_as(
            "SELECT id, chat_id, priority, attempts, next_attempt_ms, 1 AS pending FROM outbox
             WHERE status = 'pending' AND (priority, id) >= (?, ?)
             ORDER BY priority, id LIMIT ?",
        )
        .bind(from.0)
        .bind(from.1)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// `Store::outbox_since`: one range of the primary key.
    pub(super) async fn outbox_rows_since(&self, after_id: i64, limit: usize) -> Result<Vec<QueuedMessage>> {
        let rows = sqlx::query_as(
            "SELECT id, chat_id, priority, attempts, next_attempt_ms, status = 'pending' AS pending FROM outbox
             WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after_id)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// `Store::outbox_last_id`.
    pub(super) async fn outbox_max_id(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM outbox").fetch_one(&self.pool).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Commit, OutMessage, Priority};

    async fn queue(store: &SqliteStore, messages: &[(i64, Priority)]) {
        let messages = messages
            .iter()
            .map(|(chat_id, priority)| OutMessage {
                chat_id: *chat_id,
                payload: "{}".to_string(),
                priority: *priority,
                held: None,
            })
            .collect();
        let now = Utc::now();
        let commit =
            Commit { update_id: None, chat_id: 0, dialog: None, messages, submission: None, change: None, now };
        store.commit(commit).await.unwrap();
    }

    #[tokio::test]
    async fn the_queue_pages_in_sending_order_and_new_rows_are_read_from_the_last_id_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db"), Duration::from_secs(5), 4).await.unwrap();
        assert_eq!(store.outbox_last_id().await.unwrap(), 0);
        queue(&store, &[(1, Priority::Broadcast), (2, Priority::Broadcast), (1, Priority::Reply)]).await;
        queue(&store, &[(3, Priority::Notification)]).await;
        let last = store.outbox_last_id().await.unwrap();
        assert_eq!(last, 4);
        // Replies, then notifications, then broadcasts, each oldest first; paged by key.
        let keys = |rows: Vec<QueuedMessage>| rows.iter().map(|r| (r.priority, r.id)).collect::<Vec<_>>();
        let first = store.pending_outbox((i64::MIN, i64::MIN), 2).await.unwrap();
        assert_eq!(keys(first), [(0, 3), (1, 4)]);
        let rest = store.pending_outbox((1, 5), 2).await.unwrap();
        assert_eq!(keys(rest), [(2, 1), (2, 2)]);
        // A retry keeps its time; a sent row leaves the queue but is still among the new rows.
        store.outbox_result(1, DeliveryResult::Retry { at_ms: 123 }, Some("502"), Utc::now()).await.unwrap();
        store.outbox_result(2, DeliveryResult::Sent, None, Utc::now()).await.unwrap();
        let pending = store.pending_outbox((2, 0), 10).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!((pending[0].id, pending[0].attempts, pending[0].next_attempt_ms), (1, 1, Some(123)));
        let since = store.outbox_since(1, 10).await.unwrap();
        assert_eq!(since.iter().map(|r| (r.id, r.pending)).collect::<Vec<_>>(), [(2, false), (3, true), (4, true)]);
        assert!(store.outbox_since(last, 10).await.unwrap().is_empty());
    }
}
