//! The PostgreSQL store, the scale-out backend: several jianyan processes share one database.
//!
//! Selected by `database.url = "postgres://…"`. Where the SQLite store serialises writers with its
//! one write connection, this store uses PostgreSQL's own means: row locks (`SELECT … FOR UPDATE`,
//! `UPDATE … RETURNING`), unique constraints with `ON CONFLICT`, a transaction-level advisory lock
//! per Telegram account while an invite binds it, and one place (`retrying`) that runs a
//! transaction again when PostgreSQL aborted it for a deadlock or a serialization failure. Only the
//! leading instance sends the outbox (`store::cluster`), so its rows are not claimed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

use super::*;

mod cluster;
mod console;
mod cosign;
mod files;
mod inbox;
mod outbox;
mod outreach;
mod reports;
mod rows;
mod tx;

pub(crate) use rows::read;
pub(crate) use tx::PgTx;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Where committed outbox rows are handed (`Store::subscribe_outbox`).
    feed: Arc<tx::Feed>,
    /// Signals from other instances (`ClusterStore`).
    signals: Arc<cluster::Signals>,
}

impl PgStore {
    /// The suggestion's reply draft being countersigned or reviewed, with its countersigns.
    async fn open_draft(&self, suggestion_id: i64) -> Result<Option<ReplyDraft>> {
        let Some(row) = sqlx::query(
            "SELECT id, department_id, reply_class, text, document, status, countersign_deadline, created_at, letter
             FROM reply_drafts WHERE suggestion_id = $1 AND status IN ('countersign', 'review') ORDER BY id DESC LIMIT 1",
        )
        .bind(suggestion_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let mut draft: ReplyDraft = read(&row)?;
        draft.countersigns = sqlx::query(
            "SELECT c.department_id, d.name AS department_name, c.agreed, c.text, c.at
             FROM countersigns c JOIN departments d ON d.id = c.department_id WHERE c.draft_id = $1 ORDER BY c.id",
        )
        .bind(draft.id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(read)
        .collect::<Result<Vec<Countersign>>>()?;
        Ok(Some(draft))
    }

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) with a pool
    /// of up to `max_connections`, and applies pending migrations (`migrations/postgres/`).
    ///
    /// Errors: the server cannot be reached, refuses the login, or a migration fails (the database
    /// user must be allowed to create tables and the `pg_trgm` extension, which PostgreSQL 13 and
    /// later let a database's owner create).
    pub async fn open(url: &str, max_connections: u32) -> Result<Self> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.application_name("jianyan"))
            .await?;
        MIGRATOR.run(&pool).await?;
        // pg_trgm takes its trigrams from the characters the database's LC_CTYPE calls letters:
        // under "C" that excludes Chinese, and every search then scans (with the same results).
        let ctype: String = sqlx::query_scalar("SHOW lc_ctype").fetch_one(&pool).await?;
        if matches!(ctype.as_str(), "C" | "POSIX") {
            tracing::warn!(
                lc_ctype = %ctype,
                "this database's LC_CTYPE is {ctype}: Chinese search cannot use its index and will scan; create the database with LC_CTYPE 'C.UTF-8' (or another UTF-8 locale) for large installations"
            );
        }
        Ok(Self { pool, feed: Arc::new(tx::Feed::default()), signals: Arc::default() })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Starts a write transaction (READ COMMITTED; statements that must not interleave lock their
    /// rows). `PgTx::commit` returns once PostgreSQL has committed it (durable with the server's
    /// `synchronous_commit`, on by default).
    pub(crate) async fn write(&self) -> Result<PgTx> {
        PgTx::begin(&self.pool, self.feed.clone()).await
    }
}

/// How many times in all a transaction that PostgreSQL aborted to resolve a conflict is run.
const ATTEMPTS: u32 = 4;

/// Runs `attempt` (one whole transaction, from `write()` to its commit) again when PostgreSQL
/// aborted it with a serialization failure (SQLSTATE 40001) or a deadlock (40P01): where the SQLite
/// store's writer would have waited its turn, PostgreSQL lets one side fail, and the transaction
/// can simply run again. Up to `ATTEMPTS` times, a few milliseconds apart; any other error, or the
/// last attempt's, is returned.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut tried = 1;
    loop {
        match attempt().await {
            Err(StoreError::Database(sqlx::Error::Database(e)))
                if tried < ATTEMPTS && matches!(e.code().as_deref(), Some("40001" | "40P01")) =>
            {
                tracing::debug!(error = %e, tried, "transaction aborted by a conflict; running it again");
                tokio::time::sleep(Duration::from_millis(5 * u64::from(tried))).await;
                tried += 1;
            }
            other => return other,
        }
    }
}

/// An import commits after this many rows. Other writers do not wait for it (it locks only the
/// members it writes), so unlike the SQLite store's it needs no time limit or pause; batches keep
/// a failed import's finished rows, as `RosterStore::import_members` promises.
const IMPORT_BATCH_ROWS: usize = 1000;

/// The ids of test members (the dialog preview's), as an SQL subquery: their suggestions are left
/// out of statistics and exports.
pub(crate) const TEST_MEMBERS: &str = "(SELECT id FROM members WHERE test)";

const MEMBER_COLUMNS: &str =
    "m.id, m.member_no, m.name, m.level, w.name AS workstation, m.sector, m.phone, m.telegram_user_id,
    m.status = 'active' AS active";

const STAFF_COLUMNS: &str = "id, name, telegram_user_id, status = 'active' AS active";
const LIAISON_COLUMNS: &str =
    "l.id, l.name, l.department_id, d.name AS department_name, l.telegram_user_id, l.status = 'active' AS active";

async fn identity_by_id(tx: &mut PgTx, table: &str, id: i64) -> Result<Identity> {
    Ok(match table {
        "members" => {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id WHERE m.id = $1"
            );
            Identity::Member(read(&sqlx::query(&sql).bind(id).fetch_one(&mut **tx).await?)?)
        }
        "staff" => {
            let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = $1");
            Identity::Staff(read(&sqlx::query(&sql).bind(id).fetch_one(&mut **tx).await?)?)
        }
        _ => {
            let sql = format!(
                "SELECT {LIAISON_COLUMNS} FROM liaisons l JOIN departments d ON d.id = l.department_id WHERE l.id = $1"
            );
            Identity::Liaison(read(&sqlx::query(&sql).bind(id).fetch_one(&mut **tx).await?)?)
        }
    })
}

/// `Store::redeem_invite` within a transaction: nothing is written unless the code binds.
///
/// Decided one at a time per code and per account: the code's row is locked (`FOR UPDATE`), so a
/// code redeemed twice at once binds once and the other sees it used; and the account's
/// transaction-level advisory lock (keyed by the Telegram user id) makes two codes redeemed by
/// one account at once see each other's binding, so one account never becomes two people.
pub(crate) async fn redeem_invite_in(
    tx: &mut PgTx,
    code_hash: &str,
    telegram_user_id: i64,
    chat_id: i64,
    language: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Redeemed> {
    let invite = sqlx::query(
        "SELECT id, member_id, staff_id, liaison_id, expires_at, used_at, used_by_telegram FROM invite_codes
         WHERE code_hash = $1 FOR UPDATE",
    )
    .bind(code_hash)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(invite) = invite else { return Ok(Redeemed::Unknown) };
    let (table, id): (&str, i64) = match (
        invite.try_get::<Option<i64>, _>("member_id")?,
        invite.try_get::<Option<i64>, _>("staff_id")?,
        invite.try_get::<Option<i64>, _>("liaison_id")?,
    ) {
        (Some(id), _, _) => ("members", id),
        (_, Some(id), _) => ("staff", id),
        (_, _, Some(id)) => ("liaisons", id),
        _ => return Err(StoreError::Corrupt("an invite code for nobody".into())),
    };
    let identity = identity_by_id(tx, table, id).await?;
    let (bound_to, active) = match &identity {
        Identity::Member(m) => (m.telegram_user_id, m.active),
        Identity::Staff(s) => (s.telegram_user_id, s.active),
        Identity::Liaison(l) => (l.telegram_user_id, l.active),
    };
    let used_at: Option<DateTime<Utc>> = invite.try_get("used_at")?;
    if used_at.is_some() {
        let used_by: Option<i64> = invite.try_get("used_by_telegram")?;
        return Ok(if used_by == Some(telegram_user_id) && bound_to == Some(telegram_user_id) {
            Redeemed::AlreadyBound(identity)
        } else {
            Redeemed::Used
        });
    }
    let expires_at: DateTime<Utc> = invite.try_get("expires_at")?;
    if expires_at <= now {
        return Ok(Redeemed::Expired);
    }
    if !active {
        return Ok(Redeemed::Inactive);
    }
    // Keyed by the account's id: Telegram's user ids have at most 52 significant bits, so they
    // never meet the leader's lock key (`cluster::LEADER_LOCK`, above 2^54).
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(telegram_user_id).execute(&mut **tx).await?;
    // One Telegram account is one person: it may not already be someone else.
    for other in ["members", "staff", "liaisons"] {
        let taken: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM {other} WHERE telegram_user_id = $1 AND NOT ('{other}' = $2::text AND id = $3)"
        ))
        .bind(telegram_user_id)
        .bind(table)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        if taken.is_some() {
            return Ok(Redeemed::AccountTaken);
        }
    }
    sqlx::query("UPDATE invite_codes SET used_at = $1, used_by_telegram = $2 WHERE id = $3")
        .bind(now)
        .bind(telegram_user_id)
        .bind(invite.try_get::<i64, _>("id")?)
        .execute(&mut **tx)
        .await?;
    sqlx::query(&format!(
        "UPDATE {table} SET telegram_user_id = $1, telegram_chat_id = $2, language = $3, updated_at = $4 WHERE id = $5"
    ))
    .bind(telegram_user_id)
    .bind(chat_id)
    .bind(language)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if table == "members" {
        sqlx::query("UPDATE members SET bound_at = $1, unreachable_at = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    let identity = identity_by_id(tx, table, id).await?;
    Ok(Redeemed::Bound(identity))
}

/// Applies one effect of a conversation within the update's transaction; returns its reply.
pub(crate) async fn apply_effect_in(
    tx: &mut PgTx,
    effect: Effect,
    submitted: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<OutMessage>> {
    Ok(match effect {
        Effect::InviteCosigners { member_ids, expires_at } => {
            if let Some(suggestion_id) = submitted {
                cosign::invite_in(tx, suggestion_id, &member_ids, expires_at, now).await?;
            }
            Vec::new()
        }
        Effect::RedeemInvite { code_hash, telegram_user_id, chat_id, language, reply } => {
            let redeemed =
                redeem_invite_in(tx, &code_hash, telegram_user_id, chat_id, language.as_deref(), now).await?;
            reply(&redeemed)
        }
        Effect::CreateBroadcast { broadcast, render, reply } => {
            let (id, count) = outreach::create_broadcast_in(tx, broadcast, &*render, now).await?;
            tracing::info!(broadcast_id = id, recipients = count, "broadcast queued");
            reply(id, count)
        }
        Effect::CancelBroadcast { id, reply } => {
            let stopped = match outreach::cancel_broadcast_in(tx, id).await? {
                Some(stopped) => outreach::broadcast_progress_in(tx, id).await?.map(|p| (stopped, p)),
                None => None,
            };
            reply(stopped)
        }
    })
}

/// Applies a change inside `tx`; `false` if the suggestion is no longer in the expected state or
/// its once-only action (`Change::once_key`) is recorded already. On `false` the caller must not
/// commit `tx`.
///
/// Its first statement locks the suggestion's row until `tx` ends, so changes to one suggestion
/// are applied one after the other: a second change planned on the same state then finds the state
/// moved on, or its once-only key recorded (`ON CONFLICT DO NOTHING` on the unique key), and is a
/// conflict, as on SQLite.
pub(crate) async fn apply_change_in(tx: &mut PgTx, change: &Change, now: DateTime<Utc>) -> Result<bool> {
    let moved = sqlx::query("UPDATE suggestions SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
        .bind(change.new_state.code())
        .bind(now)
        .bind(change.suggestion_id)
        .bind(change.expect_state.code())
        .execute(&mut **tx)
        .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    let sid = change.suggestion_id;
    // The event first: a once-only action already recorded (the same request in parallel) stops
    // here, before any of its effects, and the caller drops the transaction.
    let recorded = sqlx::query(
        "INSERT INTO timeline_events (suggestion_id, at, actor_kind, actor_id, event, text, once_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(sid)
    .bind(now)
    .bind(change.actor_kind)
    .bind(change.actor_id)
    .bind(change.event)
    .bind(&change.text)
    .bind(change.once_key.as_deref())
    .execute(&mut **tx)
    .await?;
    if recorded.rows_affected() != 1 {
        return Ok(false);
    }
    for op in &change.ops {
        match op {
            ChangeOp::Assign { department_id, role, deadline } => {
                sqlx::query(
                    "INSERT INTO assignments (suggestion_id, department_id, role, deadline, assigned_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(sid)
                .bind(department_id)
                .bind(role.as_str())
                .bind(deadline)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::SetAssignmentStatus { assignment_id, status } => {
                sqlx::query("UPDATE assignments SET status = $1 WHERE id = $2 AND suggestion_id = $3")
                    .bind(status.as_str())
                    .bind(assignment_id)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::Acknowledge { assignment_id } => {
                sqlx::query(
                    "UPDATE assignments SET acknowledged_at = COALESCE(acknowledged_at, $1) WHERE id = $2 AND suggestion_id = $3",
                )
                .bind(now)
                .bind(assignment_id)
                .bind(sid)
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::ReactivateLead { assignment_id, deadline } => {
                sqlx::query(
                    "UPDATE assignments SET status = 'active', deadline = $1 WHERE id = $2 AND suggestion_id = $3",
                )
                .bind(deadline)
                .bind(assignment_id)
                .bind(sid)
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::SetDeadline(deadline) => {
                sqlx::query("UPDATE suggestions SET deadline = $1 WHERE id = $2")
                    .bind(deadline)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::MergeInto(target) => {
                sqlx::query("UPDATE suggestions SET merged_into = $1 WHERE id = $2")
                    .bind(target)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::SetKey(leader) => {
                sqlx::query("UPDATE suggestions SET key_leader = $1, key_marked_at = $2 WHERE id = $3")
                    .bind(leader)
                    .bind(leader.as_ref().map(|_| now))
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::Adopt => {
                sqlx::query("UPDATE suggestions SET adopted_at = COALESCE(adopted_at, $1) WHERE id = $2")
                    .bind(now)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::Reply { department_id, reply_class, text, document, letter } => {
                sqlx::query(
                    "INSERT INTO replies (suggestion_id, department_id, reply_class, text, document, letter, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(sid)
                .bind(department_id)
                .bind(reply_class)
                .bind(text)
                .bind(document)
                .bind(letter)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::Opinion { assignment_id, text } => {
                sqlx::query("INSERT INTO opinions (assignment_id, text, at) VALUES ($1, $2, $3)")
                    .bind(assignment_id)
                    .bind(text)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::AnswerInvitation { .. }
            | ChangeOp::JoinCosigners { .. }
            | ChangeOp::CloseInvitations
            | ChangeOp::CosignerRate { .. } => {
                cosign::apply_in(tx, sid, op, now).await?;
            }
            ChangeOp::Rate { rating, reason, entered_by } => {
                let reply_id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM replies WHERE suggestion_id = $1")
                    .bind(sid)
                    .fetch_one(&mut **tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO ratings (suggestion_id, reply_id, rating, reason, at, entered_by, entered_via)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(sid)
                .bind(reply_id)
                .bind(rating.as_str())
                .bind(reason)
                .bind(now)
                .bind(entered_by.map(|e| e.user_id))
                .bind(entered_by.map(|e| e.channel.code()))
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::DraftReply {
                department_id,
                reply_class,
                text,
                document,
                status,
                countersign_deadline,
                letter,
            } => {
                sqlx::query(
                    "INSERT INTO reply_drafts (suggestion_id, department_id, reply_class, text, document, status,
                                               countersign_deadline, created_at, letter)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(sid)
                .bind(department_id)
                .bind(reply_class)
                .bind(text)
                .bind(document)
                .bind(status.as_str())
                .bind(countersign_deadline)
                .bind(now)
                .bind(letter)
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::SetDraftStatus { draft_id, status, note } => {
                sqlx::query(
                    "UPDATE reply_drafts SET status = $1, note = $2, decided_at = $3 WHERE id = $4 AND suggestion_id = $5",
                )
                .bind(status.as_str())
                .bind(note)
                .bind(now)
                .bind(draft_id)
                .bind(sid)
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::Event { event, text } => {
                sqlx::query(
                    "INSERT INTO timeline_events (suggestion_id, at, actor_kind, actor_id, event, text) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(sid)
                .bind(now)
                .bind(change.actor_kind)
                .bind(change.actor_id)
                .bind(*event)
                .bind(text)
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::Countersign { draft_id, department_id, agreed, text } => {
                sqlx::query(
                    "INSERT INTO countersigns (draft_id, department_id, agreed, text, at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(draft_id)
                .bind(department_id)
                .bind(agreed)
                .bind(text)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    Ok(true)
}

pub(crate) async fn insert_outbox(
    tx: &mut PgTx,
    update_id: Option<i64>,
    messages: Vec<OutMessage>,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxRow>> {
    // Notifications for someone who cannot be written to yet are kept, not queued.
    let (held, messages): (Vec<_>, Vec<_>) = messages.into_iter().partition(|m| m.held.is_some());
    hold(tx, held, now).await?;
    let mut rows = Vec::with_capacity(messages.len());
    for m in messages.into_iter().flat_map(OutMessage::into_parts) {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (chat_id, payload, priority, update_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(m.chat_id)
        .bind(&m.payload)
        .bind(m.priority as i64)
        .bind(update_id)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        rows.push(OutboxRow { id, chat_id: m.chat_id, payload: m.payload, priority: m.priority as i64, attempts: 0 });
    }
    tx.added(rows.iter().map(|r| DueMessage { id: r.id, chat_id: r.chat_id, priority: r.priority, attempts: 0 }));
    Ok(rows)
}

/// Keeps notifications for people the bot cannot write to yet (`OutMessage::held`).
pub(crate) async fn hold(tx: &mut PgTx, messages: Vec<OutMessage>, now: DateTime<Utc>) -> Result<()> {
    for m in messages {
        let Some(held) = m.held else { continue };
        let (recipient, recipient_id) = match held.to {
            Addressee::Member(id) => ("member", Some(id)),
            Addressee::Department(id) => ("department", Some(id)),
            Addressee::Staff => ("staff", None),
        };
        sqlx::query(
            "INSERT INTO held_notifications (recipient, recipient_id, suggestion_id, payload, priority, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(recipient)
        .bind(recipient_id)
        .bind(held.suggestion_id)
        .bind(&m.payload)
        .bind(m.priority as i64)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Queues, for private chat `chat_id`, the notifications kept for whoever that Telegram account
/// is (a member, a liaison's department, a staff member), oldest first, after what is already
/// queued in this transaction. The rows are locked (`FOR UPDATE`), so two transactions at once
/// release each notification once.
pub(crate) async fn release_held(
    tx: &mut PgTx,
    chat_id: i64,
    update_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxRow>> {
    let rows = sqlx::query(
        "SELECT h.id, h.payload, h.priority FROM held_notifications h
         WHERE h.released_at IS NULL AND (
            (h.recipient = 'member' AND h.recipient_id =
                (SELECT id FROM members WHERE telegram_user_id = $1 AND status = 'active'))
            OR (h.recipient = 'department' AND h.recipient_id IN
                (SELECT department_id FROM liaisons WHERE telegram_user_id = $1 AND status = 'active'))
            OR (h.recipient = 'staff' AND EXISTS
                (SELECT 1 FROM staff WHERE telegram_user_id = $1 AND status = 'active')))
         ORDER BY h.id FOR UPDATE OF h",
    )
    .bind(chat_id)
    .fetch_all(&mut **tx)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut messages = Vec::with_capacity(rows.len());
    for row in &rows {
        let priority = if row.try_get::<i64, _>("priority")? == Priority::Reply as i64 {
            Priority::Reply
        } else {
            Priority::Notification
        };
        messages.push(OutMessage { chat_id, payload: row.try_get("payload")?, priority, held: None });
        sqlx::query("UPDATE held_notifications SET released_at = $1, released_to = $2 WHERE id = $3")
            .bind(now)
            .bind(chat_id)
            .bind(row.try_get::<i64, _>("id")?)
            .execute(&mut **tx)
            .await?;
    }
    tracing::info!(chat_id, count = messages.len(), "kept notifications queued now that the person writes to the bot");
    insert_outbox(tx, update_id, messages, now).await
}

/// Makes pinning a topic one at a time, until `tx` ends; to be taken before `tx` writes to
/// `topics`. Two topics pinned at once would otherwise each unpin the others but not each other
/// (neither sees the other's uncommitted row), and both stay pinned. The lock lets readers through.
pub(crate) async fn lock_pinning(tx: &mut PgTx) -> Result<()> {
    sqlx::query("LOCK TABLE topics IN SHARE ROW EXCLUSIVE MODE").execute(&mut **tx).await?;
    Ok(())
}

#[async_trait]
impl RosterStore for PgStore {
    async fn upsert_workstations(&self, rows: &[(String, String)]) -> Result<usize> {
        let mut tx = self.write().await?;
        let mut created = 0;
        for (name, kind) in rows {
            let r = sqlx::query("INSERT INTO workstations (name, kind) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind")
                .bind(name)
                .bind(kind)
                .execute(&mut *tx)
                .await?;
            created += r.rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(created)
    }

    async fn import_members(&self, rows: &[RosterRow], now: DateTime<Utc>) -> Result<ImportSummary> {
        let mut summary = ImportSummary::default();
        let mut workstations: HashMap<String, i64> = HashMap::new();
        let mut tx = self.write().await?;
        for (i, row) in rows.iter().enumerate() {
            if i > 0 && i % IMPORT_BATCH_ROWS == 0 {
                tx.commit().await?;
                tx = self.write().await?;
            }
            let workstation_id: Option<i64> = match &row.workstation {
                None => None,
                Some(name) => match workstations.get(name) {
                    Some(id) => Some(*id),
                    None => {
                        // One statement, so an import at the same moment that creates it first makes
                        // this one read it instead of failing on the unique name.
                        let created: Option<i64> = sqlx::query_scalar(
                            "INSERT INTO workstations (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id",
                        )
                        .bind(name)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let id = match created {
                            Some(id) => {
                                summary.workstations_created += 1;
                                id
                            }
                            None => {
                                sqlx::query_scalar("SELECT id FROM workstations WHERE name = $1")
                                    .bind(name)
                                    .fetch_one(&mut *tx)
                                    .await?
                            }
                        };
                        workstations.insert(name.clone(), id);
                        Some(id)
                    }
                },
            };
            // Inserted if new, else updated: each its own statement, so that when an import at the
            // same moment inserts the member first, this one waits for it and then counts an update.
            let inserted = sqlx::query(
                "INSERT INTO members (member_no, name, level, workstation_id, sector, phone, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (member_no) DO NOTHING",
            )
            .bind(row.member_no.as_str())
            .bind(&row.name)
            .bind(row.level.label())
            .bind(workstation_id)
            .bind(&row.sector)
            .bind(&row.phone)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                summary.inserted += 1;
            } else {
                sqlx::query(
                    "UPDATE members SET name = $2, level = $3, workstation_id = $4, sector = $5, phone = $6, updated_at = $7
                     WHERE member_no = $1",
                )
                .bind(row.member_no.as_str())
                .bind(&row.name)
                .bind(row.level.label())
                .bind(workstation_id)
                .bind(&row.sector)
                .bind(&row.phone)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                summary.updated += 1;
            }
        }
        tx.commit().await?;
        Ok(summary)
    }

    async fn member_by_no(&self, member_no: &MemberNo) -> Result<Option<Member>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id WHERE m.member_no = $1"
        );
        let row = sqlx::query(&sql).bind(member_no.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(read).transpose()
    }

    async fn member_by_telegram(&self, telegram_user_id: i64) -> Result<Option<Member>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id WHERE m.telegram_user_id = $1"
        );
        let row = sqlx::query(&sql).bind(telegram_user_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(read).transpose()
    }

    async fn members(&self) -> Result<Vec<Member>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id
             WHERE NOT m.test ORDER BY m.member_no"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(read).collect()
    }

    async fn set_reachable(&self, telegram_user_id: i64, reachable: bool, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        // PostgreSQL refuses more values than the statement has placeholders: `now` only to mark.
        let query = if reachable {
            sqlx::query(
                "UPDATE members SET unreachable_at = NULL WHERE telegram_user_id = $1 AND unreachable_at IS NOT NULL",
            )
            .bind(telegram_user_id)
        } else {
            sqlx::query("UPDATE members SET unreachable_at = $2 WHERE telegram_user_id = $1 AND unreachable_at IS NULL")
                .bind(telegram_user_id)
                .bind(now)
        };
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unreachable_members(&self) -> Result<Vec<(Member, DateTime<Utc>)>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS}, m.unreachable_at FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id
             WHERE m.unreachable_at IS NOT NULL ORDER BY m.unreachable_at, m.member_no"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((read(r)?, r.try_get("unreachable_at")?))).collect()
    }

    async fn create_invite(
        &self,
        member_id: i64,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO invite_codes (code_hash, member_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(code_hash)
            .bind(member_id)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn redeem_invite(
        &self,
        code_hash: &str,
        telegram_user_id: i64,
        chat_id: i64,
        language: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Redeemed> {
        let mut tx = self.write().await?;
        let redeemed = redeem_invite_in(&mut tx, code_hash, telegram_user_id, chat_id, language, now).await?;
        tx.commit().await?;
        Ok(redeemed)
    }

    async fn identity_by_telegram(&self, telegram_user_id: i64) -> Result<Option<Identity>> {
        if let Some(member) = self.member_by_telegram(telegram_user_id).await? {
            return Ok(Some(Identity::Member(member)));
        }
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE telegram_user_id = $1");
        if let Some(row) = sqlx::query(&sql).bind(telegram_user_id).fetch_optional(&self.pool).await? {
            return Ok(Some(Identity::Staff(read(&row)?)));
        }
        let sql = format!(
            "SELECT {LIAISON_COLUMNS} FROM liaisons l JOIN departments d ON d.id = l.department_id WHERE l.telegram_user_id = $1"
        );
        if let Some(row) = sqlx::query(&sql).bind(telegram_user_id).fetch_optional(&self.pool).await? {
            return Ok(Some(Identity::Liaison(read(&row)?)));
        }
        Ok(None)
    }

    async fn add_staff(&self, name: &str, now: DateTime<Utc>) -> Result<Staff> {
        let mut tx = self.write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO staff (name, created_at, updated_at) VALUES ($1, $2, $3) RETURNING {STAFF_COLUMNS}"
        ))
        .bind(name)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let staff = read(&row)?;
        tx.commit().await?;
        Ok(staff)
    }

    async fn add_department(&self, name: &str, short_name: Option<&str>) -> Result<Department> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "INSERT INTO departments (name, short_name) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET short_name = COALESCE(EXCLUDED.short_name, departments.short_name) RETURNING *",
        )
        .bind(name)
        .bind(short_name)
        .fetch_one(&mut *tx)
        .await?;
        let department = read(&row)?;
        tx.commit().await?;
        Ok(department)
    }

    async fn departments(&self) -> Result<Vec<Department>> {
        let rows = sqlx::query("SELECT * FROM departments ORDER BY name").fetch_all(&self.pool).await?;
        rows.iter().map(read).collect()
    }

    async fn department(&self, id: i64) -> Result<Option<Department>> {
        let row = sqlx::query("SELECT * FROM departments WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(read).transpose()
    }

    async fn department_by_name(&self, name: &str) -> Result<Option<Department>> {
        let row =
            sqlx::query("SELECT * FROM departments WHERE name = $1 OR short_name = $2 ORDER BY name = $3 DESC LIMIT 1")
                .bind(name)
                .bind(name)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(read).transpose()
    }

    async fn add_liaison(&self, department_id: i64, name: &str, now: DateTime<Utc>) -> Result<Liaison> {
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO liaisons (department_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(department_id)
        .bind(name)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let Identity::Liaison(liaison) = identity_by_id(&mut tx, "liaisons", id).await? else {
            return Err(StoreError::Corrupt("a liaison that is not one".into()));
        };
        tx.commit().await?;
        Ok(liaison)
    }

    async fn create_invite_for(
        &self,
        target: InviteTarget,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let (member, staff, liaison) = match target {
            InviteTarget::Member(id) => (Some(id), None, None),
            InviteTarget::Staff(id) => (None, Some(id), None),
            InviteTarget::Liaison(id) => (None, None, Some(id)),
        };
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO invite_codes (code_hash, member_id, staff_id, liaison_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(code_hash)
        .bind(member)
        .bind(staff)
        .bind(liaison)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn staff_recipients(&self) -> Result<Vec<Recipient>> {
        let rows = sqlx::query(
            "SELECT telegram_chat_id, language FROM staff WHERE status = 'active' AND telegram_chat_id IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }

    async fn liaison_recipients(&self, department_id: i64) -> Result<Vec<Recipient>> {
        let rows = sqlx::query(
            "SELECT telegram_chat_id, language FROM liaisons
             WHERE department_id = $1 AND status = 'active' AND telegram_chat_id IS NOT NULL ORDER BY id",
        )
        .bind(department_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }
}

#[async_trait]
impl IntakeStore for PgStore {
    async fn dialog_state(&self, chat_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT state FROM dialogs WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn store_updates(&self, updates: &[IncomingUpdate], now: DateTime<Utc>) -> Result<Vec<i64>> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        // An update another process is storing at the same moment waits for it and is then not
        // new here (`ON CONFLICT DO NOTHING`). Two overlapping batches in different orders can
        // deadlock on the key: PostgreSQL aborts one, and it runs again.
        let new = retrying(|| async move {
            let mut tx = self.write().await?;
            let mut new = Vec::with_capacity(updates.len());
            for u in updates {
                let r = sqlx::query(
                    "INSERT INTO updates (update_id, chat_id, payload, received_at, kind, understood)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (update_id) DO NOTHING",
                )
                .bind(u.update_id)
                .bind(u.chat_id)
                .bind(&u.payload)
                .bind(now)
                .bind(&u.kind)
                .bind(u.understood)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() == 1 {
                    new.push(u.update_id);
                }
            }
            if !new.is_empty() {
                // Delivered to every instance's listener when (and only if) this commits.
                sqlx::query("SELECT pg_notify($1, '')").bind(cluster::UPDATES_CHANNEL).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(new)
        })
        .await?;
        if !new.is_empty() {
            self.signals.updates_stored_here();
        }
        Ok(new)
    }

    async fn last_update_id(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MAX(update_id) FROM updates").fetch_one(&self.pool).await?)
    }

    async fn pending_updates(&self) -> Result<Vec<StoredUpdate>> {
        let rows = sqlx::query(
            "SELECT update_id, chat_id, payload, attempts FROM updates WHERE processed_at IS NULL ORDER BY update_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }

    async fn record_update_failure(&self, update_id: i64, error: &str) -> Result<i64> {
        let mut tx = self.write().await?;
        let attempts: i64 = sqlx::query_scalar(
            "UPDATE updates SET attempts = attempts + 1, error = $1 WHERE update_id = $2 RETURNING attempts",
        )
        .bind(error)
        .bind(update_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(attempts)
    }

    async fn abandon_update(
        &self,
        update_id: i64,
        messages: Vec<OutMessage>,
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxRow>> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE updates SET processed_at = $1 WHERE update_id = $2")
            .bind(now)
            .bind(update_id)
            .execute(&mut *tx)
            .await?;
        let rows = insert_outbox(&mut tx, Some(update_id), messages, now).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Not run again after a deadlock (`retrying`): its receipt and effects answer once. Its locks
    /// are taken in one order (the update, the suggestion, the year's reference counter, an
    /// invite and its account, kept notifications), so commits do not deadlock one another.
    async fn commit_with(&self, commit: Commit, effects: Vec<Effect>) -> Result<Committed> {
        let Commit { update_id, chat_id, dialog, mut messages, submission, change, now } = commit;
        let mut tx = self.write().await?;
        if let Some(update_id) = update_id {
            // Locked until this transaction ends: the same update committed twice at once (two
            // processes, a retry) is applied by the first, and the second then finds it processed.
            let processed: Option<Option<DateTime<Utc>>> =
                sqlx::query_scalar("SELECT processed_at FROM updates WHERE update_id = $1 FOR UPDATE")
                    .bind(update_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if matches!(processed, Some(Some(_))) {
                tx.rollback().await?;
                return Ok(Committed::AlreadyProcessed);
            }
        }
        if let Some(change) = change {
            if !apply_change_in(&mut tx, &change, now).await? {
                tx.rollback().await?;
                return Ok(Committed::Conflict);
            }
            messages.extend(change.messages);
        }
        let mut reference = None;
        let mut submitted = None;
        if let Some((s, receipt)) = submission {
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO reference_counters (year, last_seq) VALUES ($1, 1)
                 ON CONFLICT (year) DO UPDATE SET last_seq = reference_counters.last_seq + 1 RETURNING last_seq",
            )
            .bind(i64::from(s.year))
            .fetch_one(&mut *tx)
            .await?;
            let r = ReferenceNo::new(&s.prefix, s.year, seq);
            let body =
                s.points.iter().enumerate().map(|(i, p)| format!("{}. {p}", i + 1)).collect::<Vec<_>>().join("\n");
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO suggestions (reference_no, year, seq, member_id, topic_id, kind, title, body, state, source_update_id, created_at, updated_at, entered_by, entered_via)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
            )
            .bind(r.to_string())
            .bind(i64::from(s.year))
            .bind(seq)
            .bind(s.member_id)
            .bind(s.topic_id)
            .bind(s.kind.label())
            .bind(&s.title)
            .bind(&body)
            .bind(SuggestionState::Submitted.code())
            .bind(update_id)
            .bind(now)
            .bind(now)
            .bind(s.entered_by.map(|e| e.user_id))
            .bind(s.entered_by.map(|e| e.channel.code()))
            .fetch_one(&mut *tx)
            .await?;
            for (i, p) in s.points.iter().enumerate() {
                sqlx::query("INSERT INTO suggestion_points (suggestion_id, position, text) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(i as i64 + 1)
                    .bind(p)
                    .execute(&mut *tx)
                    .await?;
            }
            for (i, a) in s.attachments.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO attachments (suggestion_id, position, kind, file_id, file_unique_id, file_name, mime_type, file_size, width, height)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(id)
                .bind(i as i64 + 1)
                .bind(a.kind.as_str())
                .bind(&a.file_id)
                .bind(&a.file_unique_id)
                .bind(&a.file_name)
                .bind(&a.mime_type)
                .bind(a.file_size)
                .bind(a.width)
                .bind(a.height)
                .execute(&mut *tx)
                .await?;
            }
            // Entered by staff for the member (代为提交): the timeline names the console account.
            let submitted_by = match s.entered_by {
                Some(e) => ("console_staff", e.user_id, "entered"),
                None => ("member", s.member_id, "submitted"),
            };
            sqlx::query("INSERT INTO timeline_events (suggestion_id, at, actor_kind, actor_id, event, text) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id)
                .bind(now)
                .bind(submitted_by.0)
                .bind(submitted_by.1)
                .bind(submitted_by.2)
                .bind(&s.as_typed)
                .execute(&mut *tx)
                .await?;
            messages.extend(receipt(&r, id));
            reference = Some(r);
            submitted = Some(id);
        }
        for effect in effects {
            messages.extend(apply_effect_in(&mut tx, effect, submitted, now).await?);
        }
        if let Some(state) = dialog {
            sqlx::query("INSERT INTO dialogs (chat_id, state, updated_at) VALUES ($1, $2, $3) ON CONFLICT (chat_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at")
                .bind(chat_id)
                .bind(&state)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        let mut outbox = insert_outbox(&mut tx, update_id, messages, now).await?;
        if let Some(update_id) = update_id {
            // Whoever writes to the bot can be written to: what was kept for them follows the reply.
            if chat_id > 0 {
                outbox.extend(release_held(&mut tx, chat_id, Some(update_id), now).await?);
            }
            // Someone who writes to the bot has not (or no longer) blocked it.
            sqlx::query(
                "UPDATE members SET unreachable_at = NULL WHERE telegram_user_id = $1 AND unreachable_at IS NOT NULL",
            )
            .bind(chat_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE updates SET processed_at = $1, error = NULL WHERE update_id = $2")
                .bind(now)
                .bind(update_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Committed::Done { outbox, reference })
    }
}

#[async_trait]
impl WorkflowStore for PgStore {
    async fn add_topic(&self, topic: NewTopic, now: DateTime<Utc>) -> Result<Topic> {
        let mut tx = self.write().await?;
        if topic.pinned {
            lock_pinning(&mut tx).await?;
        }
        let row = sqlx::query(
            "INSERT INTO topics (title, description, class, form, opens_at, closes_at, status, pinned, created_at, updated_at)
             VALUES ($1, $2, $3, $4, NULL, $5, 'open', $6, $7, $8) RETURNING *",
        )
        .bind(&topic.title)
        .bind(&topic.description)
        .bind(topic.class.label())
        .bind(&topic.form)
        .bind(topic.closes_at)
        .bind(topic.pinned)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let topic: Topic = read(&row)?;
        if topic.pinned {
            // One topic is the pinned one (第一协商议题): pinning a new one unpins the others.
            sqlx::query("UPDATE topics SET pinned = FALSE, updated_at = $1 WHERE id <> $2 AND pinned")
                .bind(now)
                .bind(topic.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(topic)
    }

    async fn topics(&self) -> Result<Vec<Topic>> {
        let rows = sqlx::query("SELECT * FROM topics ORDER BY pinned DESC, id DESC").fetch_all(&self.pool).await?;
        rows.iter().map(read).collect()
    }

    async fn open_topics(&self, now: DateTime<Utc>) -> Result<Vec<Topic>> {
        let rows = sqlx::query("SELECT * FROM topics WHERE status = 'open' ORDER BY pinned DESC, id DESC")
            .fetch_all(&self.pool)
            .await?;
        let topics: Vec<Topic> = rows.iter().map(read).collect::<Result<_>>()?;
        Ok(topics.into_iter().filter(|t| t.is_open(now)).collect())
    }

    async fn topic(&self, id: i64) -> Result<Option<Topic>> {
        let row = sqlx::query("SELECT * FROM topics WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(read).transpose()
    }

    async fn close_topic(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "UPDATE topics SET status = 'closed', pinned = FALSE, updated_at = $1 WHERE id = $2 AND status <> 'closed'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    async fn suggestions_of_member(&self, member_id: i64, limit: usize) -> Result<Vec<SuggestionSummary>> {
        let rows = sqlx::query("SELECT id, reference_no, title, state, created_at FROM suggestions WHERE member_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(member_id)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(read).collect()
    }

    async fn suggestion(&self, id: i64) -> Result<Option<Suggestion>> {
        let Some(mut suggestion): Option<Suggestion> = sqlx::query_as(
            "SELECT s.*, t.title AS topic_title FROM suggestions s LEFT JOIN topics t ON t.id = s.topic_id WHERE s.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        suggestion.points =
            sqlx::query_scalar("SELECT text FROM suggestion_points WHERE suggestion_id = $1 ORDER BY position")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        suggestion.attachments = sqlx::query_as("SELECT * FROM attachments WHERE suggestion_id = $1 ORDER BY position")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        suggestion.timeline = sqlx::query_as(
            "SELECT at, actor_kind, event, text FROM timeline_events WHERE suggestion_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(suggestion))
    }

    async fn facts(&self, suggestion_id: i64) -> Result<Option<Facts>> {
        let Some(row) = sqlx::query(
            "SELECT s.id, s.reference_no, s.member_id, s.title, s.state, s.deadline, s.adopted_at, s.key_leader,
                    m.telegram_chat_id, m.language, m.unreachable_at,
                    (SELECT COUNT(*) FROM replies r WHERE r.suggestion_id = s.id) AS replies
             FROM suggestions s JOIN members m ON m.id = s.member_id WHERE s.id = $1",
        )
        .bind(suggestion_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let assignments = sqlx::query(
            "SELECT a.id, a.department_id, d.name AS department_name, a.role, a.status, a.deadline,
                    a.acknowledged_at IS NOT NULL AS acknowledged
             FROM assignments a JOIN departments d ON d.id = a.department_id WHERE a.suggestion_id = $1 ORDER BY a.id",
        )
        .bind(suggestion_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(read)
        .collect::<Result<Vec<AssignmentInfo>>>()?;
        let once_keys: Vec<String> = sqlx::query_scalar(
            "SELECT once_key FROM timeline_events WHERE suggestion_id = $1 AND once_key IS NOT NULL ORDER BY id",
        )
        .bind(suggestion_id)
        .fetch_all(&self.pool)
        .await?;
        let draft = self.open_draft(suggestion_id).await?;
        let chat: Option<i64> = row.try_get("telegram_chat_id")?;
        let unreachable: Option<DateTime<Utc>> = row.try_get("unreachable_at")?;
        Ok(Some(Facts {
            id: row.try_get("id")?,
            reference_no: row.try_get("reference_no")?,
            member_id: row.try_get("member_id")?,
            member: chat
                .filter(|_| unreachable.is_none())
                .map(|chat_id| Ok::<_, StoreError>(Recipient { chat_id, language: row.try_get("language")? }))
                .transpose()?,
            title: row.try_get("title")?,
            state: row.try_get("state")?,
            deadline: row.try_get("deadline")?,
            adopted: row.try_get::<Option<DateTime<Utc>>, _>("adopted_at")?.is_some(),
            key_leader: row.try_get("key_leader")?,
            replies: row.try_get("replies")?,
            assignments,
            once_keys,
            draft,
            cosigners: self.cosigners(suggestion_id).await?,
        }))
    }

    async fn suggestion_id_by_reference(&self, reference_no: &str) -> Result<Option<i64>> {
        let Some(reference) = ReferenceNo::parse(reference_no) else { return Ok(None) };
        Ok(sqlx::query_scalar("SELECT id FROM suggestions WHERE reference_no = $1")
            .bind(reference.to_string())
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn review_queue(&self, limit: usize) -> Result<Vec<SuggestionSummary>> {
        let rows = sqlx::query(
            "SELECT id, reference_no, title, state, created_at FROM suggestions WHERE state = 'submitted' ORDER BY id LIMIT $1",
        )
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }

    async fn state_counts(&self) -> Result<Vec<(SuggestionState, i64)>> {
        let mut counts: Vec<(SuggestionState, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM suggestions GROUP BY state").fetch_all(&self.pool).await?;
        counts.sort_by_key(|(s, _)| SuggestionState::ALL.iter().position(|x| x == s));
        Ok(counts)
    }

    async fn review_queue_after(&self, after_id: i64, limit: usize) -> Result<Vec<SuggestionSummary>> {
        let rows = sqlx::query(
            "SELECT id, reference_no, title, state, created_at FROM suggestions
             WHERE state = 'submitted' AND id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }

    async fn member_by_id(&self, id: i64) -> Result<Option<Member>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id WHERE m.id = $1"
        );
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(read).transpose()
    }

    async fn department_assignments(
        &self,
        department_id: i64,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<DepartmentAssignment>> {
        let rows = sqlx::query(
            "SELECT a.id AS assignment_id, a.suggestion_id, s.reference_no, s.title, s.state, a.role, a.deadline,
                    a.acknowledged_at IS NOT NULL AS acknowledged
             FROM assignments a JOIN suggestions s ON s.id = a.suggestion_id
             WHERE a.department_id = $1 AND a.status = 'active' AND a.id > $2 ORDER BY a.id LIMIT $3",
        )
        .bind(department_id)
        .bind(after_id)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }

    async fn co_opinions(&self, suggestion_id: i64) -> Result<Vec<CoOpinion>> {
        let rows = sqlx::query(
            "SELECT d.name AS department_name, o.text, o.at
             FROM opinions o JOIN assignments a ON a.id = o.assignment_id JOIN departments d ON d.id = a.department_id
             WHERE a.suggestion_id = $1 ORDER BY o.id",
        )
        .bind(suggestion_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }

    async fn held_notifications(&self, suggestion_id: i64) -> Result<Vec<HeldNotification>> {
        let rows = sqlx::query(
            "SELECT h.id, h.recipient, h.recipient_id, h.payload, h.created_at, h.released_at,
                    COALESCE(m.name, d.name, '') AS name
             FROM held_notifications h
             LEFT JOIN members m ON h.recipient = 'member' AND m.id = h.recipient_id
             LEFT JOIN departments d ON h.recipient = 'department' AND d.id = h.recipient_id
             WHERE h.suggestion_id = $1 ORDER BY h.id",
        )
        .bind(suggestion_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let recipient: String = r.try_get("recipient")?;
                let id: Option<i64> = r.try_get("recipient_id")?;
                let to = match (recipient.as_str(), id) {
                    ("member", Some(id)) => Addressee::Member(id),
                    ("department", Some(id)) => Addressee::Department(id),
                    ("staff", _) => Addressee::Staff,
                    _ => return Err(StoreError::Corrupt(format!("a kept notification for {recipient} {id:?}"))),
                };
                Ok(HeldNotification {
                    id: r.try_get("id")?,
                    to,
                    name: r.try_get("name")?,
                    payload: r.try_get("payload")?,
                    created_at: r.try_get("created_at")?,
                    released_at: r.try_get("released_at")?,
                })
            })
            .collect()
    }

    async fn totals(&self, now: DateTime<Utc>) -> Result<Totals> {
        let sql = format!(
            "SELECT COUNT(*),
                    COUNT(*) FILTER (WHERE adopted_at IS NOT NULL),
                    COUNT(*) FILTER (WHERE state IN ('assigned', 'in_progress', 'countersigning', 'reopened') AND deadline IS NOT NULL AND deadline < $1)
             FROM suggestions WHERE member_id NOT IN {TEST_MEMBERS}"
        );
        let (suggestions, adopted, overdue): (i64, i64, i64) =
            sqlx::query_as(&sql).bind(now).fetch_one(&self.pool).await?;
        let sql = format!(
            "SELECT COUNT(*) FROM suggestion_points WHERE suggestion_id NOT IN
             (SELECT id FROM suggestions WHERE member_id IN {TEST_MEMBERS})"
        );
        let points: i64 = sqlx::query_scalar(&sql).fetch_one(&self.pool).await?;
        let unreachable_members: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE unreachable_at IS NOT NULL AND status = 'active'")
                .fetch_one(&self.pool)
                .await?;
        let undelivered: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status IN ('failed', 'uncertain')")
                .fetch_one(&self.pool)
                .await?;
        let not_understood: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM updates WHERE NOT understood").fetch_one(&self.pool).await?;
        // What the preview's test members caused is not counted (it is a sandbox).
        let held: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM held_notifications WHERE released_at IS NULL
               AND (suggestion_id IS NULL OR suggestion_id NOT IN (SELECT id FROM suggestions WHERE member_id IN {TEST_MEMBERS}))"
        ))
        .fetch_one(&self.pool)
        .await?;
        Ok(Totals { suggestions, points, adopted, overdue, unreachable_members, undelivered, not_understood, held })
    }

    async fn apply_change(&self, change: Change, now: DateTime<Utc>) -> Result<Committed> {
        let change = &change;
        retrying(|| async move {
            let mut tx = self.write().await?;
            if !apply_change_in(&mut tx, change, now).await? {
                tx.rollback().await?;
                return Ok(Committed::Conflict);
            }
            let outbox = insert_outbox(&mut tx, None, change.messages.clone(), now).await?;
            tx.commit().await?;
            Ok(Committed::Done { outbox, reference: None })
        })
        .await
    }
}

#[async_trait]
impl OutboxStore for PgStore {
    fn subscribe_outbox(&self) -> tokio::sync::mpsc::UnboundedReceiver<Vec<DueMessage>> {
        self.feed.subscribe(&self.pool)
    }

    async fn due_outbox(&self, limit: usize, now_ms: i64) -> Result<Vec<DueMessage>> {
        // A row waits while an earlier pending row of its chat exists, due or not (a retry or a
        // 429 holds the rest of that chat, in order).
        let rows = sqlx::query(
            "SELECT o.id, o.chat_id, o.priority, o.attempts FROM outbox o
             WHERE o.status = 'pending' AND (o.next_attempt_ms IS NULL OR o.next_attempt_ms <= $1)
               AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.chat_id = o.chat_id AND e.status = 'pending'
                               AND (e.priority < o.priority OR (e.priority = o.priority AND e.id < o.id)))
             ORDER BY o.priority, o.id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }

    async fn pending_outbox(&self, from: (i64, i64), limit: usize) -> Result<Vec<QueuedMessage>> {
        self.pending_outbox_page(from, limit).await
    }

    async fn outbox_since(&self, after_id: i64, limit: usize) -> Result<Vec<QueuedMessage>> {
        self.outbox_rows_since(after_id, limit).await
    }

    async fn outbox_last_id(&self) -> Result<i64> {
        self.outbox_max_id().await
    }

    async fn pending_payload(&self, id: i64) -> Result<Option<PendingPayload>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT payload, part FROM outbox WHERE id = $1 AND status = 'pending'")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(payload, part)| PendingPayload { payload, part }))
    }

    async fn outbox_result(
        &self,
        id: i64,
        result: DeliveryResult,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        if let DeliveryResult::PartSent { part } = result {
            // One part of an older multi-part row arrived: the next attempt sends the next part.
            sqlx::query(
                "UPDATE outbox SET part = part + 1, attempts = 0, next_attempt_ms = NULL, last_error = NULL
                 WHERE id = $1 AND part = $2",
            )
            .bind(id)
            .bind(part)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(());
        }
        let (status, sent_at, next, counted) = match result {
            DeliveryResult::Sent => ("sent", Some(now), None, 1),
            DeliveryResult::Failed => ("failed", None, None, 1),
            DeliveryResult::Blocked => ("blocked", None, None, 1),
            DeliveryResult::Uncertain => ("uncertain", None, None, 1),
            DeliveryResult::Retry { at_ms } => ("pending", None, Some(at_ms), 1),
            DeliveryResult::Postpone { at_ms } => ("pending", None, Some(at_ms), 0),
            DeliveryResult::PartSent { .. } => unreachable!("recorded above"),
        };
        // A cancelled message stays cancelled even if an attempt was under way, and a message
        // recorded sent stays sent whatever result comes after (a late retry, a second delivery).
        let chat_id: Option<i64> = sqlx::query_scalar(
            "UPDATE outbox SET status = CASE WHEN status = 'cancelled' AND $1 = 'pending' THEN 'cancelled' ELSE $2 END,
                    sent_at = $3, next_attempt_ms = $4, attempts = attempts + $5, last_error = $6
             WHERE id = $7 AND status <> 'sent' RETURNING chat_id",
        )
        .bind(status)
        .bind(status)
        .bind(sent_at)
        .bind(next)
        .bind(counted as i64)
        .bind(error)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let (DeliveryResult::Blocked, Some(chat_id)) = (result, chat_id) {
            // Private chats have the user's id: the member who blocked the bot is unreachable.
            sqlx::query(
                "UPDATE members SET unreachable_at = $1 WHERE telegram_user_id = $2 AND unreachable_at IS NULL",
            )
            .bind(now)
            .bind(chat_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn migrate_chat(
        &self,
        old_chat_id: i64,
        new_chat_id: i64,
        notice: Vec<OutMessage>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if old_chat_id == new_chat_id {
            return Ok(false);
        }
        let mut tx = self.write().await?;
        let recorded = sqlx::query(
            "INSERT INTO chat_migrations (old_chat_id, new_chat_id, migrated_at) VALUES ($1, $2, $3)
             ON CONFLICT (old_chat_id) DO NOTHING",
        )
        .bind(old_chat_id)
        .bind(new_chat_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        // Ids stay, so the moved messages keep their order among the new chat's own.
        let moved = sqlx::query("UPDATE outbox SET chat_id = $1 WHERE chat_id = $2 AND status = 'pending'")
            .bind(new_chat_id)
            .bind(old_chat_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // A conversation under way in the old chat (a reason being typed) goes on in the new one.
        sqlx::query(
            "UPDATE dialogs SET chat_id = $1 WHERE chat_id = $2
             AND NOT EXISTS (SELECT 1 FROM dialogs WHERE chat_id = $3)",
        )
        .bind(new_chat_id)
        .bind(old_chat_id)
        .bind(new_chat_id)
        .execute(&mut *tx)
        .await?;
        if recorded {
            insert_outbox(&mut tx, None, notice, now).await?;
        }
        tx.commit().await?;
        if recorded || moved > 0 {
            tracing::info!(
                old_chat_id,
                new_chat_id,
                moved,
                new = recorded,
                "chat moved by Telegram; messages re-addressed"
            );
        }
        Ok(recorded)
    }

    async fn current_chat(&self, configured: i64) -> Result<i64> {
        if configured == 0 {
            return Ok(0);
        }
        // Followed move by move; a cycle (impossible from Telegram) stops after 16 steps.
        let current: Option<i64> = sqlx::query_scalar(
            "WITH RECURSIVE chain(chat_id, depth) AS (
                 SELECT $1::bigint, 0
                 UNION ALL
                 SELECT m.new_chat_id, chain.depth + 1 FROM chain
                 JOIN chat_migrations m ON m.old_chat_id = chain.chat_id WHERE chain.depth < 16
             )
             SELECT chat_id FROM chain ORDER BY depth DESC LIMIT 1",
        )
        .bind(configured)
        .fetch_optional(&self.pool)
        .await?;
        Ok(current.unwrap_or(configured))
    }

    // Broadcasts and reminders: see `outreach`.
}

#[async_trait]
impl ClusterStore for PgStore {
    async fn try_lead(&self) -> Result<Option<Box<dyn Lease>>> {
        cluster::try_lead(&self.pool.connect_options()).await
    }

    fn updates_stored(&self) -> tokio::sync::watch::Receiver<u64> {
        self.signals.updates(&self.pool)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::atomic::{AtomicU32, Ordering};

    use sqlx::error::{DatabaseError, ErrorKind};

    use super::*;

    /// An error as PostgreSQL reports it, with its SQLSTATE.
    #[derive(Debug)]
    struct Sqlstate(&'static str);

    impl std::fmt::Display for Sqlstate {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl std::error::Error for Sqlstate {}

    impl DatabaseError for Sqlstate {
        fn message(&self) -> &str {
            self.0
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn failed(code: &'static str) -> StoreError {
        StoreError::Database(sqlx::Error::Database(Box::new(Sqlstate(code))))
    }

    /// Runs `retrying` on an attempt that fails with `code` the first `failures` times; returns
    /// the outcome and how many attempts were made.
    async fn run(code: &'static str, failures: u32) -> (Result<u32>, u32) {
        let tried = AtomicU32::new(0);
        let outcome = retrying(|| {
            let n = tried.fetch_add(1, Ordering::SeqCst) + 1;
            async move { if n <= failures { Err(failed(code)) } else { Ok(n) } }
        })
        .await;
        (outcome, tried.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn conflicts_run_again_up_to_the_limit_and_other_errors_do_not() {
        // A deadlock or a serialization failure runs the transaction again…
        assert_eq!(run("40P01", 1).await.0.unwrap(), 2);
        assert_eq!(run("40001", ATTEMPTS - 1).await.0.unwrap(), ATTEMPTS);
        // …at most ATTEMPTS times in all; then the conflict is the answer.
        let (outcome, tried) = run("40001", ATTEMPTS).await;
        assert!(matches!(outcome, Err(StoreError::Database(_))), "{outcome:?}");
        assert_eq!(tried, ATTEMPTS);
        // Any other failure (a unique violation) is answered at once.
        let (outcome, tried) = run("23505", 1).await;
        assert!(matches!(outcome, Err(StoreError::Database(_))), "{outcome:?}");
        assert_eq!(tried, 1);
    }
}
