//! PostgreSQL for the delivery worker's view of the outbox: pages of the pending queue and the rows written since.

use super::*;

impl PgStore {
    /// `Store::pending_outbox`: one range of the partial index `outbox_pending(priority, id)`.
    pub(super) async fn pending_outbox_page(&self, from: (i64, i64), limit: usize) -> Result<Vec<QueuedMessage>> {
        let rows = sqlx::query_as(
            "SELECT id, chat_id, priority, attempts, next_attempt_ms, TRUE AS pending FROM outbox
             WHERE status = 'pending' AND (priority, id) >= ($1, $2)
             ORDER BY priority, id LIMIT $3",
        )
        .bind(from.0)
        .bind(from.1)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// `Store::outbox_since`: one range of the primary key.
    ///
    /// Unlike SQLite's single writer, transactions here commit in any order, so a row with a lower
    /// id than one already read can become visible later (another process's transaction that took
    /// its id first and committed second). Read past, it is found by the worker's next full read
    /// of the queue (`pending_outbox`), not by this.
    pub(super) async fn outbox_rows_since(&self, after_id: i64, limit: usize) -> Result<Vec<QueuedMessage>> {
        let rows = sqlx::query_as(
            "SELECT id, chat_id, priority, attempts, next_attempt_ms, status = 'pending' AS pending FROM outbox
             WHERE id > $1 ORDER BY id LIMIT $2",
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
