//! SQLite for the kept files (`store::files`).

use async_trait::async_trait;

use super::*;
use crate::store::files::*;

#[async_trait]
impl FileStore for SqliteStore {
    async fn keep_file(&self, file: &StoredFile, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO stored_files (sha256, mime_type, size, bytes, at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&file.sha256)
        .bind(&file.mime_type)
        .bind(file.bytes.len() as i64)
        .bind(&file.bytes)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn stored_file(&self, sha256: &str) -> Result<Option<StoredFile>> {
        let row: Option<(String, String, Vec<u8>)> =
            sqlx::query_as("SELECT sha256, mime_type, bytes FROM stored_files WHERE sha256 = ?")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(sha256, mime_type, bytes)| StoredFile { sha256, mime_type, bytes }))
    }
}
