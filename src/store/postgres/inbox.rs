//! PostgreSQL for the console's inbox, suggestion pages and exports.
//!
//! A page is found in two steps, as in `sqlite/inbox.rs`: the ids (only the `suggestions` table
//! and its indexes, ordered by a key and cut with keyset conditions — no OFFSET, no COUNT), then
//! the columns people read for those ids.
//!
//! Search. Each whitespace-separated term must occur in the title or the points:
//! `(s.title || ' ' || s.body) ILIKE '%term%' ESCAPE '\'`, with `%`, `_` and `\` in the term
//! escaped so that they are searched as themselves. A term holds no whitespace, so it never
//! matches across the space that joins title and body: it is found exactly where the SQLite
//! store's FTS5 trigram table (one column each) finds it.
//!
//! The expression is the one the pg_trgm GIN index `suggestions_search` is built on, so for a
//! term of three or more characters PostgreSQL narrows the rows by the index's trigrams and
//! rechecks them. A term of one or two characters (two-character words such as 电梯 are common)
//! has no trigram to look up: it is still found correctly, by scanning the rows the other
//! conditions leave (in id order the scan walks the primary key and stops at the page's end), as
//! the SQLite store's `LIKE` does for such terms. The database needs a UTF-8 character type
//! (`LC_CTYPE` such as `C.UTF-8` or `zh_CN.UTF-8`): with `LC_CTYPE = C` pg_trgm takes Chinese
//! characters for separators and extracts no trigrams from them, so every search scans (the
//! results stay the same).
//!
//! Case is ignored as `ILIKE` ignores it: ASCII letters as SQLite's `LIKE` and FTS5 do; other
//! letters with case (Ä/ä, Ａ/ａ) by the database's character type, which SQLite's FTS5 folds as
//! well but its `LIKE` (terms of one or two characters) does not.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder, Row};

use super::*;
use crate::store::inbox::*;

/// A search term as an `ILIKE` pattern, with `\` escaping the wildcards.
fn like_pattern(term: &str) -> String {
    let mut p = String::from("%");
    for c in term.chars() {
        if matches!(c, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The deadline-order key: suggestions without a deadline after every real one.
const DEADLINE_KEY: &str = "COALESCE(s.deadline, 'infinity'::timestamptz)";

const ROW_COLUMNS: &str =
    "s.id, s.reference_no, s.title, s.body, s.kind, s.state, s.created_at, s.deadline, s.key_leader,
    m.name AS member_name, m.member_no, w.name AS workstation, t.title AS topic_title,
    (SELECT COUNT(*) FROM suggestion_points p WHERE p.suggestion_id = s.id) AS points,
    COALESCE((SELECT string_agg(d.name, '、' ORDER BY a.role = 'co', a.id) FROM assignments a JOIN departments d
        ON d.id = a.department_id WHERE a.suggestion_id = s.id AND a.status != 'superseded'),
        '') AS departments,
    (SELECT name FROM users WHERE id = s.entered_by) AS entered_by_name, s.entered_via,
    (SELECT g.rating FROM ratings g WHERE g.suggestion_id = s.id ORDER BY g.id DESC LIMIT 1) AS rating,
    (SELECT g.entered_via FROM ratings g WHERE g.suggestion_id = s.id ORDER BY g.id DESC LIMIT 1) AS rating_via";

#[async_trait]
impl InboxStore for PgStore {
    async fn inbox(
        &self,
        filter: &InboxFilter,
        sort: InboxSort,
        cursor: &PageCursor,
        limit: usize,
    ) -> Result<InboxPage> {
        let limit = limit.clamp(1, 10_000);
        // A reference number typed into the search box (`pd－2026－0001`) finds that suggestion.
        let reference = crate::domain::ReferenceNo::parse(&filter.search);
        let search = if reference.is_some() { "" } else { filter.search.as_str() };
        // A department's suggestions in id order: its assignments drive (in suggestion order), so
        // the first page stops early however few or many it has.
        let department = filter.visible_to_department.or(filter.department_id);
        let assignments_drive = sort != InboxSort::Deadline && department.is_some();
        let (from, id_col) = if assignments_drive {
            ("assignments a JOIN suggestions s ON s.id = a.suggestion_id", "a.suggestion_id")
        } else {
            ("suggestions s", "s.id")
        };
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!("SELECT s.id FROM {from} WHERE TRUE"));
        if assignments_drive {
            q.push(" AND a.department_id = ").push_bind(department.unwrap_or_default());
            q.push(" AND a.status != 'superseded'");
        }
        for term in search.split_whitespace() {
            q.push(" AND (s.title || ' ' || s.body) ILIKE ").push_bind(like_pattern(term)).push(" ESCAPE '\\'");
        }
        if let Some(d) = filter.visible_to_department.filter(|d| !(assignments_drive && department == Some(*d))) {
            q.push(" AND s.id IN (SELECT a.suggestion_id FROM assignments a WHERE a.department_id = ")
                .push_bind(d)
                .push(" AND a.status != 'superseded')");
        }
        if let Some(d) = filter.department_id.filter(|d| !(assignments_drive && department == Some(*d))) {
            q.push(" AND s.id IN (SELECT a.suggestion_id FROM assignments a WHERE a.department_id = ")
                .push_bind(d)
                .push(" AND a.status != 'superseded')");
        }
        if let Some(r) = &reference {
            q.push(" AND s.reference_no = ").push_bind(r.to_string());
        }
        if filter.exclude_test {
            q.push(format!(" AND s.member_id NOT IN {TEST_MEMBERS}"));
        }
        if filter.key_only {
            q.push(" AND s.key_leader IS NOT NULL");
        }
        if let Some(t) = filter.topic_id {
            q.push(" AND s.topic_id = ").push_bind(t);
        }
        if let Some(st) = filter.state {
            q.push(" AND s.state = ").push_bind(st.code());
        }
        if let Some(k) = filter.kind {
            q.push(" AND s.kind = ").push_bind(k.label());
        }
        if let Some(w) = filter.workstation_id {
            q.push(" AND s.member_id IN (SELECT id FROM members WHERE workstation_id = ").push_bind(w).push(")");
        }
        if let Some(t) = filter.submitted_from {
            q.push(" AND s.created_at >= ").push_bind(t);
        }
        if let Some(t) = filter.submitted_before {
            q.push(" AND s.created_at < ").push_bind(t);
        }

        let backwards = matches!(cursor, PageCursor::Before(_));
        let order = match (sort, backwards) {
            (InboxSort::Newest, false) | (InboxSort::Oldest, true) => format!("{id_col} DESC"),
            (InboxSort::Newest, true) | (InboxSort::Oldest, false) => format!("{id_col} ASC"),
            (InboxSort::Deadline, false) => format!("{DEADLINE_KEY} ASC, s.id ASC"),
            (InboxSort::Deadline, true) => format!("{DEADLINE_KEY} DESC, s.id DESC"),
        };
        let key = match cursor {
            PageCursor::First => None,
            PageCursor::After(k) | PageCursor::Before(k) => Some(k.as_str()),
        };
        if let Some(key) = key {
            match sort {
                InboxSort::Newest | InboxSort::Oldest => {
                    if let Ok(id) = key.parse::<i64>() {
                        let op = if (sort == InboxSort::Newest) != backwards { "<" } else { ">" };
                        q.push(format!(" AND {id_col} {op} ")).push_bind(id);
                    }
                }
                InboxSort::Deadline => {
                    // The key's deadline as the row gave it (RFC 3339), or `NO_DEADLINE_KEY`
                    // (NULL here, so `infinity`); a key that is neither is ignored, as a
                    // malformed id is.
                    if let Some((d, id)) = parse_deadline_cursor(key) {
                        let deadline = DateTime::parse_from_rfc3339(&d).map(|d| d.with_timezone(&Utc));
                        if d == NO_DEADLINE_KEY || deadline.is_ok() {
                            let op = if backwards { "<" } else { ">" };
                            q.push(format!(" AND ({DEADLINE_KEY}, s.id) {op} (COALESCE("))
                                .push_bind(deadline.ok())
                                .push("::timestamptz, 'infinity'::timestamptz), ")
                                .push_bind(id)
                                .push(")");
                        }
                    }
                }
            }
        }
        q.push(format!(" ORDER BY {order} LIMIT ")).push_bind(limit as i64 + 1);
        let mut ids: Vec<i64> = q.build_query_scalar().fetch_all(&self.pool).await?;
        // One department has at most one assignment per suggestion that is not superseded; should
        // there ever be two, the suggestion is still listed once.
        ids.dedup();
        let more = ids.len() > limit;
        ids.truncate(limit);
        if backwards {
            ids.reverse();
        }
        let (has_prev, has_next) = match cursor {
            PageCursor::First => (false, more),
            PageCursor::After(_) => (true, more),
            PageCursor::Before(_) => (more, true),
        };
        if ids.is_empty() {
            return Ok(InboxPage { rows: Vec::new(), has_prev, has_next });
        }
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM suggestions s JOIN members m ON m.id = s.member_id
             LEFT JOIN workstations w ON w.id = m.workstation_id LEFT JOIN topics t ON t.id = s.topic_id
             WHERE s.id = ANY($1)"
        );
        let mut by_id: HashMap<i64, InboxRow> = sqlx::query(&sql)
            .bind(&ids)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| read(r).map(|row: InboxRow| (row.id, row)))
            .collect::<Result<_>>()?;
        let rows = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        Ok(InboxPage { rows, has_prev, has_next })
    }

    async fn workstations(&self) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT id, name FROM workstations ORDER BY name COLLATE \"C\"")
            .fetch_all(&self.pool)
            .await?)
    }

    async fn replies_of(&self, suggestion_id: i64) -> Result<Vec<ReplyRecord>> {
        let rows = sqlx::query(
            "SELECT r.id, r.department_id, d.name AS department_name, r.reply_class, r.text, r.document, r.letter, r.at,
                    g.rating, g.reason, g.at AS rated_at
             FROM replies r JOIN departments d ON d.id = r.department_id LEFT JOIN ratings g ON g.reply_id = r.id
             WHERE r.suggestion_id = $1 ORDER BY r.id",
        )
        .bind(suggestion_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let document: Option<String> = r.try_get("document")?;
                let letter: Option<String> = r.try_get("letter")?;
                let rating: Option<String> = r.try_get("rating")?;
                Ok(ReplyRecord {
                    id: r.try_get("id")?,
                    department_id: r.try_get("department_id")?,
                    department_name: r.try_get("department_name")?,
                    reply_class: r.try_get("reply_class")?,
                    text: r.try_get("text")?,
                    document: document.and_then(|d| serde_json::from_str(&d).ok()),
                    letter: letter.and_then(|l| serde_json::from_str(&l).ok()).unwrap_or_default(),
                    at: r.try_get("at")?,
                    rating: match rating {
                        Some(code) => Some((code, r.try_get("reason")?, r.try_get("rated_at")?)),
                        None => None,
                    },
                })
            })
            .collect()
    }

    async fn similar_candidates(
        &self,
        topic_id: Option<i64>,
        except: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SimilarCandidate>> {
        let topic = if topic_id.is_some() { "s.topic_id = $3" } else { "s.topic_id IS NULL AND $3::bigint IS NULL" };
        let sql = format!(
            "SELECT s.id, s.reference_no, s.title, s.state, s.body FROM suggestions s
             WHERE {topic} AND s.id <> $1 AND s.state NOT IN ('withdrawn', 'merged', 'not_accepted')
               AND s.member_id NOT IN {TEST_MEMBERS}
             ORDER BY s.id DESC LIMIT $2"
        );
        Ok(sqlx::query_as::<_, SimilarCandidate>(&sql)
            .bind(except.unwrap_or(0))
            .bind(limit.min(10_000) as i64)
            .bind(topic_id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn timeline_of(&self, suggestion_id: i64) -> Result<Vec<TimelineEntry>> {
        let rows = sqlx::query(
            "SELECT e.at, e.actor_kind, e.event, e.text,
                    CASE e.actor_kind
                        WHEN 'member' THEN (SELECT name FROM members WHERE id = e.actor_id)
                        WHEN 'staff' THEN (SELECT name FROM staff WHERE id = e.actor_id)
                        WHEN 'department' THEN (SELECT l.name || '（' || d.name || '）' FROM liaisons l
                                                JOIN departments d ON d.id = l.department_id WHERE l.id = e.actor_id)
                        WHEN 'console_staff' THEN (SELECT name FROM users WHERE id = e.actor_id)
                        WHEN 'console_department' THEN (SELECT u.name || '（' || d.name || '）' FROM users u
                                                  JOIN departments d ON d.id = u.department_id WHERE u.id = e.actor_id)
                        WHEN 'api_token' THEN (SELECT d.name || ' · ' || t.name FROM api_tokens t
                                               JOIN departments d ON d.id = t.department_id WHERE t.id = e.actor_id)
                    END AS actor_name
             FROM timeline_events e WHERE e.suggestion_id = $1 ORDER BY e.id",
        )
        .bind(suggestion_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }
}
