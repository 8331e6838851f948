//! PostgreSQL for broadcasts, reminders and the overdue digest (the `Store` methods delegate here).
//!
//! The same statements as `sqlite/outreach.rs`, in the same order, with PostgreSQL's numbered
//! placeholders; a repeated broadcast request, reminder or digest is told apart by the unique
//! index it would break (`broadcasts_request_key`, `reminders`, `digests`), so two processes
//! doing it at once record it once.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use super::*;

/// A member a broadcast can reach: bound to Telegram, active, not known to have blocked the bot.
const REACHABLE: &str = "m.status = 'active' AND m.telegram_chat_id IS NOT NULL AND m.unreachable_at IS NULL";

/// Suggestion states in which a department is still expected to answer.
const BEING_HANDLED: &str = "('assigned', 'in_progress', 'countersigning', 'reopened')";

/// Outbox rows per INSERT statement when queueing a broadcast (5 parameters each).
const INSERT_CHUNK: usize = 200;

/// The `WHERE` condition on `members m` for an audience (its one parameter is `$1`), and the value
/// it binds, if any.
enum Bound<'a> {
    None,
    Text(&'a str),
    Int(i64),
}

fn audience_condition(audience: &Audience) -> (&'static str, Bound<'_>) {
    match audience {
        Audience::All => ("TRUE", Bound::None),
        Audience::Level(level) => ("m.level = $1", Bound::Text(level.label())),
        Audience::Workstation(id) => ("m.workstation_id = $1", Bound::Int(*id)),
        Audience::Sector(sector) => ("m.sector = $1", Bound::Text(sector)),
    }
}

fn bind_audience<'q, O>(
    query: sqlx::query::QueryAs<'q, Postgres, O, sqlx::postgres::PgArguments>,
    bound: Bound<'q>,
) -> sqlx::query::QueryAs<'q, Postgres, O, sqlx::postgres::PgArguments> {
    match bound {
        Bound::None => query,
        Bound::Text(s) => query.bind(s),
        Bound::Int(n) => query.bind(n),
    }
}

pub(super) async fn audience_options(store: &PgStore, kind: AudienceKind) -> Result<Vec<AudienceOption>> {
    let pool = &store.pool;
    Ok(match kind {
        AudienceKind::All => {
            let reachable = audience_reach(store, &Audience::All).await?;
            vec![AudienceOption { audience: Audience::All, label: String::new(), reachable }]
        }
        AudienceKind::Level => {
            let sql = format!("SELECT m.level, COUNT(*) FROM members m WHERE {REACHABLE} GROUP BY m.level");
            let counts: HashMap<String, i64> = sqlx::query_as(&sql).fetch_all(pool).await?.into_iter().collect();
            MemberLevel::ALL
                .iter()
                .map(|l| AudienceOption {
                    audience: Audience::Level(*l),
                    label: l.label().to_string(),
                    reachable: counts.get(l.label()).copied().unwrap_or(0),
                })
                .collect()
        }
        AudienceKind::Workstation => {
            let sql = format!(
                "SELECT w.id, w.name, COUNT(m.id) FROM workstations w
                 LEFT JOIN members m ON m.workstation_id = w.id AND {REACHABLE}
                 GROUP BY w.id ORDER BY w.id"
            );
            let rows: Vec<(i64, String, i64)> = sqlx::query_as(&sql).fetch_all(pool).await?;
            rows.into_iter()
                .map(|(id, name, reachable)| AudienceOption {
                    audience: Audience::Workstation(id),
                    label: name,
                    reachable,
                })
                .collect()
        }
        AudienceKind::Sector => {
            // Every sector of an active member, even one nobody can be reached in yet; sorted by
            // code point (`COLLATE "C"`), as SQLite sorts, whatever the database's collation.
            let sql = format!(
                "SELECT m.sector, COUNT(*) FILTER (WHERE {REACHABLE}) FROM members m
                 WHERE m.status = 'active' AND m.sector <> '' GROUP BY m.sector ORDER BY m.sector COLLATE \"C\""
            );
            let rows: Vec<(String, i64)> = sqlx::query_as(&sql).fetch_all(pool).await?;
            rows.into_iter()
                .map(|(sector, reachable)| AudienceOption {
                    audience: Audience::Sector(sector.clone()),
                    label: sector,
                    reachable,
                })
                .collect()
        }
    })
}

pub(super) async fn audience_reach(store: &PgStore, audience: &Audience) -> Result<i64> {
    let (condition, bound) = audience_condition(audience);
    let sql = format!("SELECT COUNT(*) FROM members m WHERE {REACHABLE} AND {condition}");
    let (n,): (i64,) = bind_audience(sqlx::query_as(&sql), bound).fetch_one(&store.pool).await?;
    Ok(n)
}

pub(super) async fn create_broadcast(
    store: &PgStore,
    broadcast: NewBroadcast,
    render: RenderFn<'_>,
    now: DateTime<Utc>,
) -> Result<(i64, usize)> {
    let mut tx = store.write().await?;
    let created = create_broadcast_in(&mut tx, broadcast, render, now).await?;
    tx.commit().await?;
    Ok(created)
}

/// `create_broadcast` within a transaction (a confirmation's update, with the chat's state).
///
/// A request key already used gives the first broadcast back. Two requests with one key at once
/// both pass the first look; the second's insert then waits on the first's entry in the unique
/// index `broadcasts_request_key`, inserts nothing once the first commits (`ON CONFLICT DO
/// NOTHING`) and returns the first broadcast, as the SQLite store's one writer makes it do.
pub(super) async fn create_broadcast_in(
    tx: &mut PgTx,
    broadcast: NewBroadcast,
    render: RenderFn<'_>,
    now: DateTime<Utc>,
) -> Result<(i64, usize)> {
    if let Some(key) = &broadcast.request_key
        && let Some(existing) = broadcast_by_key(tx, key).await?
    {
        return Ok(existing);
    }
    let (condition, bound) = audience_condition(&broadcast.audience);
    let sql =
        format!("SELECT m.telegram_chat_id, m.language FROM members m WHERE {REACHABLE} AND {condition} ORDER BY m.id");
    let recipients: Vec<(i64, Option<String>)> =
        bind_audience(sqlx::query_as(&sql), bound).fetch_all(&mut **tx).await?;
    let audience_value = match &broadcast.audience {
        Audience::All => String::new(),
        Audience::Level(level) => level.label().to_string(),
        Audience::Sector(sector) => sector.clone(),
        Audience::Workstation(id) => sqlx::query_scalar("SELECT name FROM workstations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("workstation {id}")))?,
    };
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO broadcasts (topic_id, text, audience_kind, audience_value, staff_id, total, created_at, request_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (request_key) WHERE request_key IS NOT NULL DO NOTHING RETURNING id",
    )
    .bind(broadcast.topic_id)
    .bind(&broadcast.text)
    .bind(broadcast.audience.kind().as_str())
    .bind(&audience_value)
    .bind(broadcast.staff_id)
    .bind(recipients.len() as i64)
    .bind(now)
    .bind(&broadcast.request_key)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(id) = id else {
        // Only a request key can conflict: another request with it committed meanwhile.
        let key = broadcast.request_key.as_deref().unwrap_or_default();
        return broadcast_by_key(tx, key)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("broadcast request {key:?} conflicts but is not found")));
    };
    // One rendering per language, however many members share it; a text longer than one message
    // is queued as one row per part (each its own delivery state), in order for each member.
    let priority = Priority::Broadcast;
    let mut payloads: HashMap<Option<&str>, Vec<String>> = HashMap::new();
    for (_, language) in &recipients {
        payloads.entry(language.as_deref()).or_insert_with(|| {
            OutMessage { chat_id: 0, payload: render(language.as_deref()), priority, held: None }
                .into_parts()
                .into_iter()
                .map(|m| m.payload)
                .collect()
        });
    }
    let rows: Vec<(i64, &str)> = recipients
        .iter()
        .flat_map(|(chat_id, language)| {
            let parts = payloads.get(&language.as_deref()).map(Vec::as_slice).unwrap_or_default();
            parts.iter().map(move |p| (*chat_id, p.as_str()))
        })
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut query: QueryBuilder<Postgres> =
            QueryBuilder::new("INSERT INTO outbox (chat_id, payload, priority, broadcast_id, created_at) ");
        query.push_values(chunk, |mut row, (chat_id, payload)| {
            row.push_bind(*chat_id).push_bind(*payload).push_bind(priority as i64).push_bind(id).push_bind(now);
        });
        query.push(" RETURNING id, chat_id");
        let mut added: Vec<(i64, i64)> = query.build_query_as().fetch_all(&mut **tx).await?;
        added.sort_unstable();
        tx.added(added.into_iter().map(|(id, chat_id)| DueMessage {
            id,
            chat_id,
            priority: priority as i64,
            attempts: 0,
        }));
    }
    if let Some((chat_id, state)) = &broadcast.dialog {
        sqlx::query(
            "INSERT INTO dialogs (chat_id, state, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(chat_id)
        .bind(state)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok((id, recipients.len()))
}

/// The broadcast queued with this request key and its number of members, if any.
async fn broadcast_by_key(tx: &mut PgTx, key: &str) -> Result<Option<(i64, usize)>> {
    let existing: Option<(i64, i64)> = sqlx::query_as("SELECT id, total FROM broadcasts WHERE request_key = $1")
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(existing.map(|(id, total)| (id, total as usize)))
}

/// Counted per member, not per row: a text longer than one message is several rows for one
/// member, who counts as sent once all of them are.
const PROGRESS_SQL: &str = "SELECT b.id, b.topic_id, t.title AS topic_title, b.text, b.audience_kind, b.audience_value,
        b.total, b.status = 'cancelled' AS cancelled, b.created_at,
        COUNT(DISTINCT o.chat_id) - COUNT(DISTINCT CASE WHEN o.status <> 'sent' THEN o.chat_id END) AS sent,
        COUNT(DISTINCT CASE WHEN o.status = 'pending' THEN o.chat_id END) AS pending,
        COUNT(DISTINCT CASE WHEN o.status = 'failed' THEN o.chat_id END) AS failed,
        COUNT(DISTINCT CASE WHEN o.status = 'blocked' THEN o.chat_id END) AS blocked,
        COUNT(DISTINCT CASE WHEN o.status = 'uncertain' THEN o.chat_id END) AS uncertain,
        COUNT(DISTINCT CASE WHEN o.status = 'cancelled' THEN o.chat_id END) AS not_sent
    FROM broadcasts b
    LEFT JOIN topics t ON t.id = b.topic_id
    LEFT JOIN outbox o ON o.broadcast_id = b.id";

pub(super) async fn broadcast_progress(store: &PgStore, id: i64) -> Result<Option<BroadcastProgress>> {
    broadcast_progress_in(&mut *store.pool.acquire().await?, id).await
}

/// `broadcast_progress` as a transaction sees it (after stopping it in the same one).
pub(super) async fn broadcast_progress_in(conn: &mut PgConnection, id: i64) -> Result<Option<BroadcastProgress>> {
    let sql = format!("{PROGRESS_SQL} WHERE b.id = $1 GROUP BY b.id, t.title");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(read).transpose()
}

pub(super) async fn recent_broadcasts(store: &PgStore, limit: usize) -> Result<Vec<BroadcastProgress>> {
    let sql = format!(
        "{PROGRESS_SQL} WHERE b.id IN (SELECT id FROM broadcasts ORDER BY id DESC LIMIT $1)
         GROUP BY b.id, t.title ORDER BY b.id DESC"
    );
    let rows = sqlx::query(&sql).bind(limit as i64).fetch_all(&store.pool).await?;
    rows.iter().map(read).collect()
}

pub(super) async fn cancel_broadcast(store: &PgStore, id: i64) -> Result<Option<i64>> {
    let mut tx = store.write().await?;
    let stopped = cancel_broadcast_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(stopped)
}

/// `cancel_broadcast` within a transaction.
pub(super) async fn cancel_broadcast_in(tx: &mut PgTx, id: i64) -> Result<Option<i64>> {
    let found: Option<i64> =
        sqlx::query_scalar("UPDATE broadcasts SET status = 'cancelled' WHERE id = $1 RETURNING id")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    if found.is_none() {
        return Ok(None);
    }
    let stopped = sqlx::query(
        "UPDATE outbox SET status = 'cancelled', last_error = 'broadcast cancelled by staff'
         WHERE broadcast_id = $1 AND status = 'pending'",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(Some(stopped as i64))
}

pub(super) async fn due_reminders(
    store: &PgStore,
    now: DateTime<Utc>,
    before: chrono::Duration,
    key_before: chrono::Duration,
) -> Result<Vec<DueReminder>> {
    let sql = format!(
        "SELECT a.id, a.suggestion_id, s.reference_no, s.title, a.department_id, d.name AS department_name,
                a.role, a.deadline, s.key_leader,
                EXISTS (SELECT 1 FROM reminders r
                        WHERE r.assignment_id = a.id AND r.deadline = a.deadline AND r.kind = 'before') AS had_before,
                EXISTS (SELECT 1 FROM reminders r
                        WHERE r.assignment_id = a.id AND r.deadline = a.deadline AND r.kind = 'overdue') AS had_overdue
         FROM assignments a
         JOIN suggestions s ON s.id = a.suggestion_id
         JOIN departments d ON d.id = a.department_id
         WHERE a.status = 'active' AND s.state IN {BEING_HANDLED}
         ORDER BY a.id"
    );
    let rows = sqlx::query(&sql).fetch_all(&store.pool).await?;
    let mut due = Vec::new();
    for row in &rows {
        let deadline: DateTime<Utc> = row.try_get("deadline")?;
        let key_leader: Option<String> = row.try_get("key_leader")?;
        // Compared here, as the SQLite store does.
        let kind = if deadline <= now {
            if row.try_get::<bool, _>("had_overdue")? {
                continue;
            }
            ReminderKind::Overdue
        } else if deadline <= now + if key_leader.is_some() { key_before } else { before } {
            if row.try_get::<bool, _>("had_before")? {
                continue;
            }
            ReminderKind::Before
        } else {
            continue;
        };
        due.push(DueReminder {
            assignment_id: row.try_get("id")?,
            kind,
            suggestion_id: row.try_get("suggestion_id")?,
            reference_no: row.try_get("reference_no")?,
            title: row.try_get("title")?,
            department_id: row.try_get("department_id")?,
            department_name: row.try_get("department_name")?,
            role: row.try_get("role")?,
            deadline,
            key_leader,
        });
    }
    Ok(due)
}

pub(super) async fn record_reminder(
    store: &PgStore,
    assignment_id: i64,
    deadline: DateTime<Utc>,
    kind: ReminderKind,
    messages: Vec<OutMessage>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = store.write().await?;
    let inserted = sqlx::query(
        "INSERT INTO reminders (assignment_id, deadline, kind, sent_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (assignment_id, deadline, kind) DO NOTHING",
    )
    .bind(assignment_id)
    .bind(deadline)
    .bind(kind.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    insert_outbox(&mut tx, None, messages, now).await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn overdue_suggestions(store: &PgStore, now: DateTime<Utc>) -> Result<Vec<OverdueSuggestion>> {
    let sql = format!(
        "SELECT s.id AS suggestion_id, s.reference_no, s.title, d.name AS department_name, a.deadline
         FROM assignments a
         JOIN suggestions s ON s.id = a.suggestion_id
         JOIN departments d ON d.id = a.department_id
         WHERE a.status = 'active' AND a.role = 'lead' AND s.state IN {BEING_HANDLED} AND a.deadline <= $1
         ORDER BY a.deadline, s.id"
    );
    Ok(sqlx::query_as(&sql).bind(now).fetch_all(&store.pool).await?)
}

pub(super) async fn record_digest(
    store: &PgStore,
    day: &str,
    messages: Vec<OutMessage>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = store.write().await?;
    let inserted = sqlx::query("INSERT INTO digests (day, sent_at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
        .bind(day)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    insert_outbox(&mut tx, None, messages, now).await?;
    tx.commit().await?;
    Ok(true)
}

// The trait's methods delegate to the functions above, as `sqlite.rs` does for `SqliteStore`.
#[async_trait]
impl OutreachStore for PgStore {
    async fn audience_options(&self, kind: AudienceKind) -> Result<Vec<AudienceOption>> {
        audience_options(self, kind).await
    }

    async fn audience_reach(&self, audience: &Audience) -> Result<i64> {
        audience_reach(self, audience).await
    }

    async fn create_broadcast(
        &self,
        broadcast: NewBroadcast,
        render: RenderFn<'_>,
        now: DateTime<Utc>,
    ) -> Result<(i64, usize)> {
        create_broadcast(self, broadcast, render, now).await
    }

    async fn broadcast_progress(&self, id: i64) -> Result<Option<BroadcastProgress>> {
        broadcast_progress(self, id).await
    }

    async fn recent_broadcasts(&self, limit: usize) -> Result<Vec<BroadcastProgress>> {
        recent_broadcasts(self, limit).await
    }

    async fn cancel_broadcast(&self, id: i64) -> Result<Option<i64>> {
        cancel_broadcast(self, id).await
    }

    async fn due_reminders(
        &self,
        now: DateTime<Utc>,
        before: chrono::Duration,
        key_before: chrono::Duration,
    ) -> Result<Vec<DueReminder>> {
        due_reminders(self, now, before, key_before).await
    }

    async fn record_reminder(
        &self,
        assignment_id: i64,
        deadline: DateTime<Utc>,
        kind: ReminderKind,
        messages: Vec<OutMessage>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        record_reminder(self, assignment_id, deadline, kind, messages, now).await
    }

    async fn overdue_suggestions(&self, now: DateTime<Utc>) -> Result<Vec<OverdueSuggestion>> {
        overdue_suggestions(self, now).await
    }

    async fn record_digest(&self, day: &str, messages: Vec<OutMessage>, now: DateTime<Utc>) -> Result<bool> {
        record_digest(self, day, messages, now).await
    }
}
