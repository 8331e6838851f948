//! The embedded SQLite store: WAL, a busy timeout, and every write in a `BEGIN IMMEDIATE` transaction.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::*;

mod console;
mod cosign;
mod files;
mod inbox;
mod outbox;
mod outreach;
mod reports;
mod rows;
mod writer;

use rows::read;
pub(crate) use writer::WriteTx;
use writer::Writer;
pub use writer::WriterStats;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Clone)]
pub struct SqliteStore {
    /// Connections for reading (WAL: readers never wait for the writer).
    pool: SqlitePool,
    /// The one connection that writes, shared by every writer of this process (group commit).
    writer: Writer,
    /// Where committed outbox rows are handed (`Store::subscribe_outbox`).
    feed: std::sync::Arc<writer::Feed>,
    /// Counts batches of new updates stored (`ClusterStore::updates_stored`).
    stored: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl SqliteStore {
    /// The suggestion's reply draft being countersigned or reviewed, with its countersigns.
    async fn open_draft(&self, suggestion_id: i64) -> Result<Option<ReplyDraft>> {
        let Some(row) = sqlx::query(
            "SELECT id, department_id, reply_class, text, document, status, countersign_deadline, created_at, letter
             FROM reply_drafts WHERE suggestion_id = ? AND status IN ('countersign', 'review') ORDER BY id DESC LIMIT 1",
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
             FROM countersigns c JOIN departments d ON d.id = c.department_id WHERE c.draft_id = ? ORDER BY c.id",
        )
        .bind(draft.id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(read)
        .collect::<Result<Vec<Countersign>>>()?;
        Ok(Some(draft))
    }

    /// Opens (creating if needed) the database file and applies pending migrations.
    ///
    /// Reads use a pool of up to `max_connections`; writes go through one more connection owned by
    /// the store's writer (`writer.rs`), which commits with `synchronous = FULL`: a write this
    /// store reports done survives a power cut, not only a crash of the process
    /// (<https://www.sqlite.org/pragma.html#pragma_synchronous>, WAL mode).
    pub async fn open(path: &Path, busy_timeout: Duration, max_connections: u32) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Io(format!("cannot create folder {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(busy_timeout)
            .foreign_keys(true);
        // No ping before each use: a file database does not go away under a pooled connection.
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let feed = std::sync::Arc::new(writer::Feed::default());
        let conn = sqlx::ConnectOptions::connect(&options).await?;
        let stored = std::sync::Arc::new(tokio::sync::watch::Sender::new(0));
        Ok(Self { pool, writer: Writer::new(conn, feed.clone()), feed, stored })
    }

    /// The newest schema version this build knows (its last migration's number).
    pub fn latest_migration() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// What the writer has committed since the store was opened (group sizes).
    pub fn writer_stats(&self) -> WriterStats {
        self.writer.stats()
    }

    /// Starts a write: the caller's statements run on the writer's connection inside the caller's
    /// savepoint; `WriteTx::commit` returns once they are durable, dropping it undoes them.
    pub(crate) async fn write(&self) -> Result<WriteTx> {
        self.writer.begin().await
    }
}

/// An import commits after this many rows or this long holding the write lock, whichever comes
/// first, then pauses for `IMPORT_PAUSE` so that a waiting writer (whose SQLite busy handler polls
/// every 1–25 ms in its first 100 ms of waiting) takes the lock. Measured in BENCHMARKS.md
/// ("a 100,000-member import and other writers"); the goal is that no console action waits more
/// than 200 ms.
const IMPORT_BATCH_ROWS: usize = 1000;
const IMPORT_BATCH_TIME: Duration = Duration::from_millis(50);
const IMPORT_PAUSE: Duration = Duration::from_millis(30);

/// The ids of test members (the dialog preview's), as an SQL subquery: their suggestions are left
/// out of statistics and exports.
pub(crate) const TEST_MEMBERS: &str = "(SELECT id FROM members WHERE test = 1)";

const MEMBER_COLUMNS: &str =
    "m.id, m.member_no, m.name, m.level, w.name AS workstation, m.sector, m.phone, m.telegram_user_id,
    m.status = 'active' AS active";

const STAFF_COLUMNS: &str = "id, name, telegram_user_id, status = 'active' AS active";
const LIAISON_COLUMNS: &str =
    "l.id, l.name, l.department_id, d.name AS department_name, l.telegram_user_id, l.status = 'active' AS active";

async fn identity_by_id(tx: &mut WriteTx, table: &str, id: i64) -> Result<Identity> {
    Ok(match table {
        "members" => {
            let sql = format!(
                "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id WHERE m.id = ?"
            );
            Identity::Member(read(&sqlx::query(&sql).bind(id).fetch_one(&mut **tx).await?)?)
        }
        "staff" => {
            let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = ?");
            Identity::Staff(read(&sqlx::query(&sql).bind(id).fetch_one(&mut **tx).await?)?)
        }
        _ => {
            let sql = format!(
                "SELECT {LIAISON_COLUMNS} FROM liaisons l JOIN departments d ON d.id = l.department_id WHERE l.id = ?"
            );
            Identity::Liaison(read(&sqlx::query(&sql).bind(id).fetch_one(&mut **tx).await?)?)
        }
    })
}

/// `Store::redeem_invite` within a transaction: nothing is written unless the code binds.
async fn redeem_invite_in(
    tx: &mut WriteTx,
    code_hash: &str,
    telegram_user_id: i64,
    chat_id: i64,
    language: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Redeemed> {
    let invite = sqlx::query(
        "SELECT id, member_id, staff_id, liaison_id, expires_at, used_at, used_by_telegram FROM invite_codes WHERE code_hash = ?",
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
    // One Telegram account is one person: it may not already be someone else.
    for other in ["members", "staff", "liaisons"] {
        let taken: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT id FROM {other} WHERE telegram_user_id = ? AND NOT ('{other}' = ? AND id = ?)"
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
    sqlx::query("UPDATE invite_codes SET used_at = ?, used_by_telegram = ? WHERE id = ?")
        .bind(now)
        .bind(telegram_user_id)
        .bind(invite.try_get::<i64, _>("id")?)
        .execute(&mut **tx)
        .await?;
    sqlx::query(&format!(
        "UPDATE {table} SET telegram_user_id = ?, telegram_chat_id = ?, language = ?, updated_at = ? WHERE id = ?"
    ))
    .bind(telegram_user_id)
    .bind(chat_id)
    .bind(language)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if table == "members" {
        sqlx::query("UPDATE members SET bound_at = ?, unreachable_at = NULL WHERE id = ?")
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    let identity = identity_by_id(tx, table, id).await?;
    Ok(Redeemed::Bound(identity))
}

/// Applies one effect of a conversation within the update's transaction; returns its reply.
async fn apply_effect_in(
    tx: &mut WriteTx,
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
async fn apply_change_in(tx: &mut WriteTx, change: &Change, now: DateTime<Utc>) -> Result<bool> {
    let moved = sqlx::query("UPDATE suggestions SET state = ?, updated_at = ? WHERE id = ? AND state = ?")
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
        "INSERT OR IGNORE INTO timeline_events (suggestion_id, at, actor_kind, actor_id, event, text, once_key)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
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
                    "INSERT INTO assignments (suggestion_id, department_id, role, deadline, assigned_at) VALUES (?, ?, ?, ?, ?)",
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
                sqlx::query("UPDATE assignments SET status = ? WHERE id = ? AND suggestion_id = ?")
                    .bind(status.as_str())
                    .bind(assignment_id)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::Acknowledge { assignment_id } => {
                sqlx::query(
                    "UPDATE assignments SET acknowledged_at = COALESCE(acknowledged_at, ?) WHERE id = ? AND suggestion_id = ?",
                )
                .bind(now)
                .bind(assignment_id)
                .bind(sid)
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::ReactivateLead { assignment_id, deadline } => {
                sqlx::query(
                    "UPDATE assignments SET status = 'active', deadline = ? WHERE id = ? AND suggestion_id = ?",
                )
                .bind(deadline)
                .bind(assignment_id)
                .bind(sid)
                .execute(&mut **tx)
                .await?;
            }
            ChangeOp::SetDeadline(deadline) => {
                sqlx::query("UPDATE suggestions SET deadline = ? WHERE id = ?")
                    .bind(deadline)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::MergeInto(target) => {
                sqlx::query("UPDATE suggestions SET merged_into = ? WHERE id = ?")
                    .bind(target)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::SetKey(leader) => {
                sqlx::query("UPDATE suggestions SET key_leader = ?, key_marked_at = ? WHERE id = ?")
                    .bind(leader)
                    .bind(leader.as_ref().map(|_| now))
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::Adopt => {
                sqlx::query("UPDATE suggestions SET adopted_at = COALESCE(adopted_at, ?) WHERE id = ?")
                    .bind(now)
                    .bind(sid)
                    .execute(&mut **tx)
                    .await?;
            }
            ChangeOp::Reply { department_id, reply_class, text, document, letter } => {
                sqlx::query(
                    "INSERT INTO replies (suggestion_id, department_id, reply_class, text, document, letter, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
                sqlx::query("INSERT INTO opinions (assignment_id, text, at) VALUES (?, ?, ?)")
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
                let reply_id: i64 = sqlx::query_scalar("SELECT MAX(id) FROM replies WHERE suggestion_id = ?")
                    .bind(sid)
                    .fetch_one(&mut **tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO ratings (suggestion_id, reply_id, rating, reason, at, entered_by, entered_via)
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
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
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    "UPDATE reply_drafts SET status = ?, note = ?, decided_at = ? WHERE id = ? AND suggestion_id = ?",
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
                    "INSERT INTO timeline_events (suggestion_id, at, actor_kind, actor_id, event, text) VALUES (?, ?, ?, ?, ?, ?)",
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
                    "INSERT INTO countersigns (draft_id, department_id, agreed, text, at) VALUES (?, ?, ?, ?, ?)",
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

async fn insert_outbox(
    tx: &mut WriteTx,
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
            "INSERT INTO outbox (chat_id, payload, priority, update_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
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
async fn hold(tx: &mut WriteTx, messages: Vec<OutMessage>, now: DateTime<Utc>) -> Result<()> {
    for m in messages {
        let Some(held) = m.held else { continue };
        let (recipient, recipient_id) = match held.to {
            Addressee::Member(id) => ("member", Some(id)),
            Addressee::Department(id) => ("department", Some(id)),
            Addressee::Staff => ("staff", None),
        };
        sqlx::query(
            "INSERT INTO held_notifications (recipient, recipient_id, suggestion_id, payload, priority, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
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
/// queued in this transaction.
async fn release_held(
    tx: &mut WriteTx,
    chat_id: i64,
    update_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxRow>> {
    let rows = sqlx::query(
        "SELECT h.id, h.payload, h.priority FROM held_notifications h
         WHERE h.released_at IS NULL AND (
            (h.recipient = 'member' AND h.recipient_id =
                (SELECT id FROM members WHERE telegram_user_id = ?1 AND status = 'active'))
            OR (h.recipient = 'department' AND h.recipient_id IN
                (SELECT department_id FROM liaisons WHERE telegram_user_id = ?1 AND status = 'active'))
            OR (h.recipient = 'staff' AND EXISTS
                (SELECT 1 FROM staff WHERE telegram_user_id = ?1 AND status = 'active')))
         ORDER BY h.id",
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
        sqlx::query("UPDATE held_notifications SET released_at = ?, released_to = ? WHERE id = ?")
            .bind(now)
            .bind(chat_id)
            .bind(row.try_get::<i64, _>("id")?)
            .execute(&mut **tx)
            .await?;
    }
    tracing::info!(chat_id, count = messages.len(), "kept notifications queued now that the person writes to the bot");
    insert_outbox(tx, update_id, messages, now).await
}

#[async_trait]
impl RosterStore for SqliteStore {
    async fn upsert_workstations(&self, rows: &[(String, String)]) -> Result<usize> {
        let mut tx = self.write().await?;
        let mut created = 0;
        for (name, kind) in rows {
            let r = sqlx::query("INSERT INTO workstations (name, kind) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET kind = excluded.kind")
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
        let mut batch_started = Instant::now();
        for (i, row) in rows.iter().enumerate() {
            // Other writers (console actions, the bot) get the database between batches.
            if i > 0 && (i % IMPORT_BATCH_ROWS == 0 || batch_started.elapsed() >= IMPORT_BATCH_TIME) {
                tx.commit().await?;
                tokio::time::sleep(IMPORT_PAUSE).await;
                tx = self.write().await?;
                batch_started = Instant::now();
            }
            let workstation_id: Option<i64> = match &row.workstation {
                None => None,
                Some(name) => match workstations.get(name) {
                    Some(id) => Some(*id),
                    None => {
                        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM workstations WHERE name = ?")
                            .bind(name)
                            .fetch_optional(&mut *tx)
                            .await?;
                        let id = match existing {
                            Some(id) => id,
                            None => {
                                summary.workstations_created += 1;
                                sqlx::query_scalar("INSERT INTO workstations (name) VALUES (?) RETURNING id")
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
            let existed: Option<i64> = sqlx::query_scalar("SELECT id FROM members WHERE member_no = ?")
                .bind(row.member_no.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO members (member_no, name, level, workstation_id, sector, phone, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT(member_no) DO UPDATE SET name = excluded.name, level = excluded.level,
                   workstation_id = excluded.workstation_id, sector = excluded.sector, phone = excluded.phone,
                   updated_at = excluded.updated_at",
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
            .await?;
            if existed.is_some() {
                summary.updated += 1;
            } else {
                summary.inserted += 1;
            }
        }
        tx.commit().await?;
        Ok(summary)
    }

    async fn member_by_no(&self, member_no: &MemberNo) -> Result<Option<Member>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id WHERE m.member_no = ?"
        );
        let row = sqlx::query(&sql).bind(member_no.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(read).transpose()
    }

    async fn member_by_telegram(&self, telegram_user_id: i64) -> Result<Option<Member>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id WHERE m.telegram_user_id = ?"
        );
        let row = sqlx::query(&sql).bind(telegram_user_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(read).transpose()
    }

    async fn members(&self) -> Result<Vec<Member>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id
             WHERE m.test = 0 ORDER BY m.member_no"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(read).collect()
    }

    async fn set_reachable(&self, telegram_user_id: i64, reachable: bool, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.write().await?;
        let sql = if reachable {
            "UPDATE members SET unreachable_at = NULL WHERE telegram_user_id = ? AND unreachable_at IS NOT NULL"
        } else {
            "UPDATE members SET unreachable_at = ?2 WHERE telegram_user_id = ?1 AND unreachable_at IS NULL"
        };
        sqlx::query(sql).bind(telegram_user_id).bind(now).execute(&mut *tx).await?;
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
        sqlx::query("INSERT INTO invite_codes (code_hash, member_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
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
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE telegram_user_id = ?");
        if let Some(row) = sqlx::query(&sql).bind(telegram_user_id).fetch_optional(&self.pool).await? {
            return Ok(Some(Identity::Staff(read(&row)?)));
        }
        let sql = format!(
            "SELECT {LIAISON_COLUMNS} FROM liaisons l JOIN departments d ON d.id = l.department_id WHERE l.telegram_user_id = ?"
        );
        if let Some(row) = sqlx::query(&sql).bind(telegram_user_id).fetch_optional(&self.pool).await? {
            return Ok(Some(Identity::Liaison(read(&row)?)));
        }
        Ok(None)
    }

    async fn add_staff(&self, name: &str, now: DateTime<Utc>) -> Result<Staff> {
        let mut tx = self.write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO staff (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING {STAFF_COLUMNS}"
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
            "INSERT INTO departments (name, short_name) VALUES (?, ?)
             ON CONFLICT(name) DO UPDATE SET short_name = COALESCE(excluded.short_name, short_name) RETURNING *",
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
        let row = sqlx::query("SELECT * FROM departments WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(read).transpose()
    }

    async fn department_by_name(&self, name: &str) -> Result<Option<Department>> {
        let row =
            sqlx::query("SELECT * FROM departments WHERE name = ? OR short_name = ? ORDER BY name = ? DESC LIMIT 1")
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
            "INSERT INTO liaisons (department_id, name, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id",
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
            "INSERT INTO invite_codes (code_hash, member_id, staff_id, liaison_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
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
             WHERE department_id = ? AND status = 'active' AND telegram_chat_id IS NOT NULL ORDER BY id",
        )
        .bind(department_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }
}

#[async_trait]
impl IntakeStore for SqliteStore {
    async fn dialog_state(&self, chat_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT state FROM dialogs WHERE chat_id = ?")
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn store_updates(&self, updates: &[IncomingUpdate], now: DateTime<Utc>) -> Result<Vec<i64>> {
        if updates.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write().await?;
        let mut new = Vec::with_capacity(updates.len());
        for u in updates {
            let r = sqlx::query("INSERT INTO updates (update_id, chat_id, payload, received_at, kind, understood) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(update_id) DO NOTHING")
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
        tx.commit().await?;
        if !new.is_empty() {
            self.stored.send_modify(|n| *n += 1);
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
            "UPDATE updates SET attempts = attempts + 1, error = ? WHERE update_id = ? RETURNING attempts",
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
        sqlx::query("UPDATE updates SET processed_at = ? WHERE update_id = ?")
            .bind(now)
            .bind(update_id)
            .execute(&mut *tx)
            .await?;
        let rows = insert_outbox(&mut tx, Some(update_id), messages, now).await?;
        tx.commit().await?;
        Ok(rows)
    }

    async fn commit_with(&self, commit: Commit, effects: Vec<Effect>) -> Result<Committed> {
        let Commit { update_id, chat_id, dialog, mut messages, submission, change, now } = commit;
        let mut tx = self.write().await?;
        if let Some(update_id) = update_id {
            let processed: Option<Option<DateTime<Utc>>> =
                sqlx::query_scalar("SELECT processed_at FROM updates WHERE update_id = ?")
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
                "INSERT INTO reference_counters (year, last_seq) VALUES (?, 1)
                 ON CONFLICT(year) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
            )
            .bind(s.year)
            .fetch_one(&mut *tx)
            .await?;
            let r = ReferenceNo::new(&s.prefix, s.year, seq);
            let body =
                s.points.iter().enumerate().map(|(i, p)| format!("{}. {p}", i + 1)).collect::<Vec<_>>().join("\n");
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO suggestions (reference_no, year, seq, member_id, topic_id, kind, title, body, state, source_update_id, created_at, updated_at, entered_by, entered_via)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(r.to_string())
            .bind(s.year)
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
                sqlx::query("INSERT INTO suggestion_points (suggestion_id, position, text) VALUES (?, ?, ?)")
                    .bind(id)
                    .bind(i as i64 + 1)
                    .bind(p)
                    .execute(&mut *tx)
                    .await?;
            }
            for (i, a) in s.attachments.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO attachments (suggestion_id, position, kind, file_id, file_unique_id, file_name, mime_type, file_size, width, height)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            sqlx::query("INSERT INTO timeline_events (suggestion_id, at, actor_kind, actor_id, event, text) VALUES (?, ?, ?, ?, ?, ?)")
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
            sqlx::query("INSERT INTO dialogs (chat_id, state, updated_at) VALUES (?, ?, ?) ON CONFLICT(chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at")
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
                "UPDATE members SET unreachable_at = NULL WHERE telegram_user_id = ? AND unreachable_at IS NOT NULL",
            )
            .bind(chat_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE updates SET processed_at = ?, error = NULL WHERE update_id = ?")
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
impl WorkflowStore for SqliteStore {
    async fn add_topic(&self, topic: NewTopic, now: DateTime<Utc>) -> Result<Topic> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "INSERT INTO topics (title, description, class, form, opens_at, closes_at, status, pinned, created_at, updated_at)
             VALUES (?, ?, ?, ?, NULL, ?, 'open', ?, ?, ?) RETURNING *",
        )
        .bind(&topic.title)
        .bind(&topic.description)
        .bind(topic.class.label())
        .bind(&topic.form)
        .bind(topic.closes_at)
        .bind(topic.pinned as i64)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let topic: Topic = read(&row)?;
        if topic.pinned {
            // One topic is the pinned one (第一协商议题): pinning a new one unpins the others.
            sqlx::query("UPDATE topics SET pinned = 0, updated_at = ? WHERE id <> ? AND pinned = 1")
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
        let row = sqlx::query("SELECT * FROM topics WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(read).transpose()
    }

    async fn close_topic(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "UPDATE topics SET status = 'closed', pinned = 0, updated_at = ? WHERE id = ? AND status <> 'closed'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    async fn suggestions_of_member(&self, member_id: i64, limit: usize) -> Result<Vec<SuggestionSummary>> {
        let rows = sqlx::query("SELECT id, reference_no, title, state, created_at FROM suggestions WHERE member_id = ? ORDER BY id DESC LIMIT ?")
            .bind(member_id)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(read).collect()
    }

    async fn suggestion(&self, id: i64) -> Result<Option<Suggestion>> {
        let Some(mut suggestion): Option<Suggestion> = sqlx::query_as(
            "SELECT s.*, t.title AS topic_title FROM suggestions s LEFT JOIN topics t ON t.id = s.topic_id WHERE s.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        suggestion.points =
            sqlx::query_scalar("SELECT text FROM suggestion_points WHERE suggestion_id = ? ORDER BY position")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        suggestion.attachments = sqlx::query_as("SELECT * FROM attachments WHERE suggestion_id = ? ORDER BY position")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        suggestion.timeline = sqlx::query_as(
            "SELECT at, actor_kind, event, text FROM timeline_events WHERE suggestion_id = ? ORDER BY id",
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
             FROM suggestions s JOIN members m ON m.id = s.member_id WHERE s.id = ?",
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
             FROM assignments a JOIN departments d ON d.id = a.department_id WHERE a.suggestion_id = ? ORDER BY a.id",
        )
        .bind(suggestion_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(read)
        .collect::<Result<Vec<AssignmentInfo>>>()?;
        let once_keys: Vec<String> = sqlx::query_scalar(
            "SELECT once_key FROM timeline_events WHERE suggestion_id = ? AND once_key IS NOT NULL ORDER BY id",
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
        Ok(sqlx::query_scalar("SELECT id FROM suggestions WHERE reference_no = ?")
            .bind(reference.to_string())
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn review_queue(&self, limit: usize) -> Result<Vec<SuggestionSummary>> {
        let rows = sqlx::query(
            "SELECT id, reference_no, title, state, created_at FROM suggestions WHERE state = 'submitted' ORDER BY id LIMIT ?",
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
             WHERE state = 'submitted' AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(after_id)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }

    async fn member_by_id(&self, id: i64) -> Result<Option<Member>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id WHERE m.id = ?"
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
             WHERE a.department_id = ? AND a.status = 'active' AND a.id > ? ORDER BY a.id LIMIT ?",
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
             WHERE a.suggestion_id = ? ORDER BY o.id",
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
             WHERE h.suggestion_id = ? ORDER BY h.id",
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
                    COALESCE(SUM(adopted_at IS NOT NULL), 0),
                    COALESCE(SUM(state IN ('assigned', 'in_progress', 'countersigning', 'reopened') AND deadline IS NOT NULL AND deadline < ?), 0)
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
            sqlx::query_scalar("SELECT COUNT(*) FROM updates WHERE understood = 0").fetch_one(&self.pool).await?;
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
        let mut tx = self.write().await?;
        if !apply_change_in(&mut tx, &change, now).await? {
            tx.rollback().await?;
            return Ok(Committed::Conflict);
        }
        let outbox = insert_outbox(&mut tx, None, change.messages, now).await?;
        tx.commit().await?;
        Ok(Committed::Done { outbox, reference: None })
    }
}

#[async_trait]
impl OutboxStore for SqliteStore {
    fn subscribe_outbox(&self) -> tokio::sync::mpsc::UnboundedReceiver<Vec<DueMessage>> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        *self.feed.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        rx
    }

    async fn due_outbox(&self, limit: usize, now_ms: i64) -> Result<Vec<DueMessage>> {
        // A row waits while an earlier pending row of its chat exists, due or not (a retry or a
        // 429 holds the rest of that chat, in order).
        let rows = sqlx::query(
            "SELECT o.id, o.chat_id, o.priority, o.attempts FROM outbox o
             WHERE o.status = 'pending' AND (o.next_attempt_ms IS NULL OR o.next_attempt_ms <= ?)
               AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.chat_id = o.chat_id AND e.status = 'pending'
                               AND (e.priority < o.priority OR (e.priority = o.priority AND e.id < o.id)))
             ORDER BY o.priority, o.id LIMIT ?",
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
            sqlx::query_as("SELECT payload, part FROM outbox WHERE id = ? AND status = 'pending'")
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
                 WHERE id = ? AND part = ?",
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
            "UPDATE outbox SET status = CASE WHEN status = 'cancelled' AND ? = 'pending' THEN 'cancelled' ELSE ? END,
                    sent_at = ?, next_attempt_ms = ?, attempts = attempts + ?, last_error = ?
             WHERE id = ? AND status <> 'sent' RETURNING chat_id",
        )
        .bind(status)
        .bind(status)
        .bind(sent_at)
        .bind(next)
        .bind(counted)
        .bind(error)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let (DeliveryResult::Blocked, Some(chat_id)) = (result, chat_id) {
            // Private chats have the user's id: the member who blocked the bot is unreachable.
            sqlx::query("UPDATE members SET unreachable_at = ? WHERE telegram_user_id = ? AND unreachable_at IS NULL")
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
            "INSERT INTO chat_migrations (old_chat_id, new_chat_id, migrated_at) VALUES (?, ?, ?)
             ON CONFLICT(old_chat_id) DO NOTHING",
        )
        .bind(old_chat_id)
        .bind(new_chat_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        // Ids stay, so the moved messages keep their order among the new chat's own.
        let moved = sqlx::query("UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND status = 'pending'")
            .bind(new_chat_id)
            .bind(old_chat_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        // A conversation under way in the old chat (a reason being typed) goes on in the new one.
        sqlx::query(
            "UPDATE dialogs SET chat_id = ? WHERE chat_id = ?
             AND NOT EXISTS (SELECT 1 FROM dialogs WHERE chat_id = ?)",
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
                 SELECT ?, 0
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
impl OutreachStore for SqliteStore {
    async fn audience_options(&self, kind: AudienceKind) -> Result<Vec<AudienceOption>> {
        outreach::audience_options(self, kind).await
    }

    async fn audience_reach(&self, audience: &Audience) -> Result<i64> {
        outreach::audience_reach(self, audience).await
    }

    async fn create_broadcast(
        &self,
        broadcast: NewBroadcast,
        render: RenderFn<'_>,
        now: DateTime<Utc>,
    ) -> Result<(i64, usize)> {
        outreach::create_broadcast(self, broadcast, render, now).await
    }

    async fn broadcast_progress(&self, id: i64) -> Result<Option<BroadcastProgress>> {
        outreach::broadcast_progress(self, id).await
    }

    async fn recent_broadcasts(&self, limit: usize) -> Result<Vec<BroadcastProgress>> {
        outreach::recent_broadcasts(self, limit).await
    }

    async fn cancel_broadcast(&self, id: i64) -> Result<Option<i64>> {
        outreach::cancel_broadcast(self, id).await
    }

    async fn due_reminders(
        &self,
        now: DateTime<Utc>,
        before: chrono::Duration,
        key_before: chrono::Duration,
    ) -> Result<Vec<DueReminder>> {
        outreach::due_reminders(self, now, before, key_before).await
    }

    async fn record_reminder(
        &self,
        assignment_id: i64,
        deadline: DateTime<Utc>,
        kind: ReminderKind,
        messages: Vec<OutMessage>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        outreach::record_reminder(self, assignment_id, deadline, kind, messages, now).await
    }

    async fn overdue_suggestions(&self, now: DateTime<Utc>) -> Result<Vec<OverdueSuggestion>> {
        outreach::overdue_suggestions(self, now).await
    }

    async fn record_digest(&self, day: &str, messages: Vec<OutMessage>, now: DateTime<Utc>) -> Result<bool> {
        outreach::record_digest(self, day, messages, now).await
    }
}

/// One process uses an SQLite file (`backup::RunLock`): it always leads.
#[async_trait]
impl ClusterStore for SqliteStore {
    async fn try_lead(&self) -> Result<Option<Box<dyn Lease>>> {
        Ok(Some(Box::new(cluster::SoleLease)))
    }

    fn updates_stored(&self) -> tokio::sync::watch::Receiver<u64> {
        self.stored.subscribe()
    }
}
