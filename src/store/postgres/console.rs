//! PostgreSQL for the console's accounts, sessions, API tokens and audit log.
//!
//! The same statements as `sqlite/console.rs`, in the same order, with numbered placeholders and
//! real booleans; the audit log's filters are bound through a `QueryBuilder`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Row};

use super::*;
use crate::bounds::clip_visible;
use crate::store::console::*;

const USER_COLUMNS: &str =
    "u.id, u.username, u.name, u.role, u.department_id, d.name AS department_name, u.active, u.password_hash";

const TOKEN_COLUMNS: &str =
    "t.id, t.department_id, d.name AS department_name, t.name, t.created_at, t.last_used_at, t.revoked_at";

#[async_trait]
impl ConsoleStore for PgStore {
    async fn add_user(&self, user: NewUser, now: DateTime<Utc>) -> Result<Option<User>> {
        let mut tx = self.write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (username, name, role, department_id, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(username) DO NOTHING RETURNING id",
        )
        .bind(&user.username)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(user.department_id)
        .bind(&user.password_hash)
        .bind(now)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        match id {
            Some(id) => self.user(id).await,
            None => Ok(None),
        }
    }

    async fn users(&self) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN departments d ON d.id = u.department_id ORDER BY u.role, u.username COLLATE \"C\""
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter().map(read).collect()
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = $1"
        );
        let row = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await?;
        row.as_ref().map(read).transpose()
    }

    async fn user_for_login(&self, username: &str) -> Result<Option<(User, String)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN departments d ON d.id = u.department_id WHERE u.username = $1"
        );
        let row = sqlx::query(&sql).bind(username).fetch_optional(self.pool()).await?;
        row.map(|r| Ok((read(&r)?, r.try_get("password_hash")?))).transpose()
    }

    async fn set_user_active(&self, id: i64, active: bool, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.write().await?;
        let r = sqlx::query("UPDATE users SET active = $1, updated_at = $2 WHERE id = $3")
            .bind(active)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    async fn set_password(&self, id: i64, password_hash: &str, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.write().await?;
        let r = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    async fn count_admins(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active")
            .fetch_one(self.pool())
            .await?)
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        // Expired sessions are cleaned up as new ones are made.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let Some(row) = sqlx::query("SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let expires_at: DateTime<Utc> = row.try_get("expires_at")?;
        if expires_at <= now {
            return Ok(None);
        }
        let Some(user) = self.user(row.try_get("user_id")?).await?.filter(|u| u.active) else { return Ok(None) };
        Ok(Some(Session { user, csrf_token: row.try_get("csrf_token")?, expires_at }))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_sessions_of(&self, user_id: i64) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_api_token(
        &self,
        department_id: i64,
        name: &str,
        token_hash: &str,
        created_by: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<ApiToken> {
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (department_id, name, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(department_id)
        .bind(name)
        .bind(token_hash)
        .bind(created_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN departments d ON d.id = t.department_id WHERE t.id = $1"
        );
        let token = read(&sqlx::query(&sql).bind(id).fetch_one(&mut *tx).await?)?;
        tx.commit().await?;
        Ok(token)
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN departments d ON d.id = t.department_id ORDER BY t.id DESC"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter().map(read).collect()
    }

    async fn use_api_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<ApiToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN departments d ON d.id = t.department_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        );
        let Some(row) = sqlx::query(&sql).bind(token_hash).fetch_optional(self.pool()).await? else { return Ok(None) };
        let token: ApiToken = read(&row)?;
        // Recording the last use is best effort: a busy database must not refuse the request.
        let _ = sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(token.id)
            .execute(self.pool())
            .await;
        Ok(Some(token))
    }

    async fn revoke_api_token(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.write().await?;
        let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    async fn audit(&self, who: Auditor, action: &str, target: &str, detail: &str, now: DateTime<Utc>) -> Result<()> {
        let (user, token) = match who {
            Auditor::User(id) => (Some(id), None),
            Auditor::Token(id) => (None, Some(id)),
        };
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO audit_log (at, user_id, token_id, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now)
        .bind(user)
        .bind(token)
        .bind(clip_visible(action, AUDIT_ACTION_MAX_CHARS))
        .bind(clip_visible(target, AUDIT_TARGET_MAX_CHARS))
        .bind(clip_visible(detail, AUDIT_DETAIL_MAX_CHARS))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.audit_page(&AuditFilter::default(), None, limit).await
    }

    async fn audit_page(&self, filter: &AuditFilter, before: Option<i64>, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT a.id, a.at, COALESCE(u.username, 'token:' || t.name) AS who, a.action, a.target, a.detail
             FROM audit_log a LEFT JOIN users u ON u.id = a.user_id LEFT JOIN api_tokens t ON t.id = a.token_id
             WHERE a.id < ",
        );
        q.push_bind(before.unwrap_or(i64::MAX));
        if let Some(who) = &filter.who {
            q.push(" AND COALESCE(u.username, 'token:' || t.name) = ").push_bind(who);
        }
        if let Some(action) = &filter.action {
            q.push(" AND a.action = ").push_bind(action);
        }
        if let Some(from) = filter.from {
            q.push(" AND a.at >= ").push_bind(from);
        }
        if let Some(until) = filter.until {
            q.push(" AND a.at < ").push_bind(until);
        }
        q.push(" ORDER BY a.id DESC LIMIT ").push_bind(limit as i64);
        let rows = q.build().fetch_all(self.pool()).await?;
        rows.iter().map(read).collect()
    }

    // ---- The dialog preview (`web::preview`) ----

    async fn preview_member(&self, user_id: i64, name: &str, now: DateTime<Utc>) -> Result<Member> {
        let member_no = format!("TEST-{user_id}");
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO members (member_no, name, level, test, created_at, updated_at) VALUES ($1, $2, '区', TRUE, $3, $4)
             ON CONFLICT(member_no) DO NOTHING",
        )
        .bind(&member_no)
        .bind(name)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id
             WHERE m.member_no = $1 AND m.test"
        );
        let row = sqlx::query(&sql).bind(&member_no).fetch_optional(self.pool()).await?;
        // A real member numbered TEST-… (imported before this existed) is never played.
        let row =
            row.ok_or_else(|| StoreError::Corrupt(format!("member {member_no} exists and is not a test member")))?;
        read(&row)
    }

    async fn roster_rows(&self) -> Result<Vec<RosterRow>> {
        let rows: Vec<(String, String, String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT m.member_no, m.name, m.level, w.name, m.sector, m.phone
             FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(no, name, level, workstation, sector, phone)| {
                Some(RosterRow {
                    member_no: crate::domain::MemberNo::parse(&no)?,
                    name,
                    level: crate::domain::MemberLevel::parse(&level)?,
                    workstation,
                    sector,
                    phone,
                })
            })
            .collect())
    }

    async fn broadcast_by_request_key(&self, key: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM broadcasts WHERE request_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn discard_preview_outbox(&self, chat_id: i64, now: DateTime<Utc>) -> Result<u64> {
        if !is_preview_chat(chat_id) {
            return Ok(0);
        }
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE outbox SET status = 'cancelled', last_error = 'console preview: never sent to Telegram', sent_at = NULL
             WHERE chat_id = $1 AND chat_id <= $2 AND status = 'pending'",
        )
        .bind(chat_id)
        .bind(-PREVIEW_CHAT_BASE)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        tracing::debug!(chat_id, done, at = %now, "preview outbox discarded");
        Ok(done)
    }
}
