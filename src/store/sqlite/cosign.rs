//! SQLite for 联名: invitations written with the submission, answered and closed by workflow
//! changes, the co-signers' ratings, and the roster lookup.

use async_trait::async_trait;

use super::*;
use crate::store::cosign::{CosignStore, Cosigner, CosignerRating, lookup_keys};

const COSIGNER_COLUMNS: &str = "c.member_id, m.name, c.status, c.invited_at, c.expires_at, c.answered_at,
    CASE WHEN m.unreachable_at IS NULL THEN m.telegram_chat_id END AS chat_id, m.language";

/// Writes the invitations of a suggestion just filed (the lead and repeats skipped).
pub(super) async fn invite_in(
    tx: &mut WriteTx,
    suggestion_id: i64,
    member_ids: &[i64],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    for member_id in member_ids {
        sqlx::query(
            "INSERT INTO cosigners (suggestion_id, member_id, status, invited_at, expires_at)
             SELECT ?, ?, 'invited', ?, ? WHERE NOT EXISTS (SELECT 1 FROM suggestions WHERE id = ? AND member_id = ?)
             ON CONFLICT (suggestion_id, member_id) DO NOTHING",
        )
        .bind(suggestion_id)
        .bind(member_id)
        .bind(now)
        .bind(expires_at)
        .bind(suggestion_id)
        .bind(member_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Applies one of 联名's change ops to suggestion `sid`.
pub(super) async fn apply_in(tx: &mut WriteTx, sid: i64, op: &ChangeOp, now: DateTime<Utc>) -> Result<()> {
    match op {
        ChangeOp::AnswerInvitation { member_id, accept } => {
            sqlx::query(
                "UPDATE cosigners SET status = ?, answered_at = ?
                 WHERE suggestion_id = ? AND member_id = ? AND status = 'invited' AND expires_at > ?",
            )
            .bind(if *accept { "accepted" } else { "declined" })
            .bind(now)
            .bind(sid)
            .bind(member_id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        ChangeOp::JoinCosigners { member_id } => {
            sqlx::query(
                "INSERT INTO cosigners (suggestion_id, member_id, status, invited_at, expires_at, answered_at)
                 VALUES (?, ?, 'accepted', ?, ?, ?) ON CONFLICT (suggestion_id, member_id) DO NOTHING",
            )
            .bind(sid)
            .bind(member_id)
            .bind(now)
            .bind(now)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        ChangeOp::CloseInvitations => {
            sqlx::query("UPDATE cosigners SET status = 'expired' WHERE suggestion_id = ? AND status = 'invited'")
                .bind(sid)
                .execute(&mut **tx)
                .await?;
        }
        ChangeOp::CosignerRate { member_id, rating, reason } => {
            let reply_id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM replies WHERE suggestion_id = ?")
                .bind(sid)
                .fetch_one(&mut **tx)
                .await?;
            sqlx::query(
                "INSERT INTO cosigner_ratings (suggestion_id, reply_id, member_id, rating, reason, at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(sid)
            .bind(reply_id)
            .bind(member_id)
            .bind(rating.as_str())
            .bind(reason)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        _ => return Err(StoreError::Corrupt(format!("not a co-signing op: {op:?}"))),
    }
    Ok(())
}

#[async_trait]
impl CosignStore for SqliteStore {
    async fn cosign_candidates(&self, typed: &str, limit: usize) -> Result<Vec<Member>> {
        let (number, name) = lookup_keys(typed);
        if name.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id
             WHERE m.test = 0 AND m.status = 'active' AND (UPPER(m.member_no) = ? OR REPLACE(m.name, ' ', '') = ?)
             ORDER BY m.member_no LIMIT ?"
        );
        let rows = sqlx::query(&sql).bind(number).bind(name).bind(limit as i64).fetch_all(&self.pool).await?;
        rows.iter().map(read).collect()
    }

    async fn member_recipient(&self, member_id: i64) -> Result<Option<Recipient>> {
        let row = sqlx::query(
            "SELECT telegram_chat_id, language FROM members
             WHERE id = ? AND telegram_chat_id IS NOT NULL AND unreachable_at IS NULL",
        )
        .bind(member_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(read).transpose()
    }

    async fn cosigners(&self, suggestion_id: i64) -> Result<Vec<Cosigner>> {
        let sql = format!(
            "SELECT {COSIGNER_COLUMNS} FROM cosigners c JOIN members m ON m.id = c.member_id
             WHERE c.suggestion_id = ? ORDER BY c.id"
        );
        let rows = sqlx::query(&sql).bind(suggestion_id).fetch_all(&self.pool).await?;
        rows.iter().map(read).collect()
    }

    async fn cosigner_names(&self, suggestion_ids: &[i64]) -> Result<Vec<(i64, String)>> {
        let mut out = Vec::new();
        for ids in suggestion_ids.chunks(500) {
            let marks = vec!["?"; ids.len()].join(", ");
            let sql = format!(
                "SELECT c.suggestion_id, m.name FROM cosigners c JOIN members m ON m.id = c.member_id
                 WHERE c.status = 'accepted' AND c.suggestion_id IN ({marks}) ORDER BY c.suggestion_id, c.id"
            );
            let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
            for id in ids {
                query = query.bind(id);
            }
            out.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    async fn cosigned_suggestions(&self, member_id: i64, limit: usize) -> Result<Vec<SuggestionSummary>> {
        let rows = sqlx::query(
            "SELECT s.id, s.reference_no, s.title, s.state, s.created_at FROM suggestions s
             JOIN cosigners c ON c.suggestion_id = s.id AND c.member_id = ? AND c.status = 'accepted'
             ORDER BY s.id DESC LIMIT ?",
        )
        .bind(member_id)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }

    async fn cosigner_ratings(&self, suggestion_id: i64) -> Result<Vec<CosignerRating>> {
        let rows = sqlx::query(
            "SELECT r.member_id, m.name,
                    (SELECT COUNT(*) FROM replies p WHERE p.suggestion_id = r.suggestion_id AND p.id <= r.reply_id) AS reply_no,
                    r.rating, r.reason, r.at
             FROM cosigner_ratings r JOIN members m ON m.id = r.member_id
             WHERE r.suggestion_id = ? ORDER BY r.id",
        )
        .bind(suggestion_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }
}
