//! SQLite for the console's inbox, suggestion pages and exports.
//!
//! A page is found in two steps: the ids (only the `suggestions` table, its indexes and the FTS
//! index, ordered by a key and cut with keyset conditions — no OFFSET, no COUNT), then the
//! columns people read for those ids.

use std::collections::HashMap;

use async_trait::async_trait;

use super::*;
use crate::store::inbox::*;

enum Arg {
    Int(i64),
    Text(String),
}

/// A search term as an FTS5 string (trigram: three or more characters).
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// A search term as a LIKE pattern, with `\` escaping the wildcards.
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

const ROW_COLUMNS: &str = "s.id, s.reference_no, s.title, s.body, s.kind, s.state, s.created_at, s.deadline, s.key_leader,
    m.name AS member_name, m.member_no, w.name AS workstation, t.title AS topic_title,
    (SELECT COUNT(*) FROM suggestion_points p WHERE p.suggestion_id = s.id) AS points,
    COALESCE((SELECT group_concat(name, '、') FROM (SELECT d.name FROM assignments a JOIN departments d
        ON d.id = a.department_id WHERE a.suggestion_id = s.id AND a.status != 'superseded' ORDER BY a.role = 'co', a.id)),
        '') AS departments,
    (SELECT name FROM users WHERE id = s.entered_by) AS entered_by_name, s.entered_via,
    (SELECT g.rating FROM ratings g WHERE g.suggestion_id = s.id ORDER BY g.id DESC LIMIT 1) AS rating,
    (SELECT g.entered_via FROM ratings g WHERE g.suggestion_id = s.id ORDER BY g.id DESC LIMIT 1) AS rating_via";

#[async_trait]
impl InboxStore for SqliteStore {
    async fn inbox(
        &self,
        filter: &InboxFilter,
        sort: InboxSort,
        cursor: &PageCursor,
        limit: usize,
    ) -> Result<InboxPage> {
        let limit = limit.clamp(1, 10_000);
        let mut conds: Vec<String> = Vec::new();
        let mut args: Vec<Arg> = Vec::new();
        // A reference number typed into the search box (`pd－2026－0001`) finds that suggestion.
        let reference = crate::domain::ReferenceNo::parse(&filter.search);
        let search = if reference.is_some() { "" } else { filter.search.as_str() };
        let (fts, like): (Vec<&str>, Vec<&str>) = search.split_whitespace().partition(|t| t.chars().count() >= 3);
        let fts_query = fts.iter().map(|t| fts_phrase(t)).collect::<Vec<_>>().join(" ");
        // With a search in id order, the FTS index drives (it yields rowids in order, so the
        // first page stops early); in deadline order it only narrows.
        let fts_drives = !fts.is_empty() && sort != InboxSort::Deadline;
        // A department's suggestions in id order: its assignments drive (in suggestion order), so
        // the first page stops early however few or many it has.
        let department = filter.visible_to_department.or(filter.department_id);
        let assignments_drive = !fts_drives && sort != InboxSort::Deadline && department.is_some();
        let (from, id_col) = if fts_drives {
            conds.push("suggestions_fts MATCH ?".into());
            args.push(Arg::Text(fts_query.clone()));
            ("suggestions_fts JOIN suggestions s ON s.id = suggestions_fts.rowid", "suggestions_fts.rowid")
        } else if assignments_drive {
            conds.push("a.department_id = ? AND a.status != 'superseded'".into());
            args.push(Arg::Int(department.unwrap_or_default()));
            if !fts.is_empty() {
                conds.push("s.id IN (SELECT rowid FROM suggestions_fts WHERE suggestions_fts MATCH ?)".into());
                args.push(Arg::Text(fts_query.clone()));
            }
            ("assignments a JOIN suggestions s ON s.id = a.suggestion_id", "a.suggestion_id")
        } else {
            if !fts.is_empty() {
                conds.push("s.id IN (SELECT rowid FROM suggestions_fts WHERE suggestions_fts MATCH ?)".into());
                args.push(Arg::Text(fts_query.clone()));
            }
            ("suggestions s", "s.id")
        };
        for term in like {
            conds.push("(s.title LIKE ? ESCAPE '\\' OR s.body LIKE ? ESCAPE '\\')".into());
            args.push(Arg::Text(like_pattern(term)));
            args.push(Arg::Text(like_pattern(term)));
        }
        if let Some(d) = filter.visible_to_department.filter(|d| !(assignments_drive && department == Some(*d))) {
            conds.push(
                "s.id IN (SELECT a.suggestion_id FROM assignments a WHERE a.department_id = ? AND a.status != 'superseded')"
                    .into(),
            );
            args.push(Arg::Int(d));
        }
        if let Some(d) = filter.department_id.filter(|d| !(assignments_drive && department == Some(*d))) {
            conds.push(
                "s.id IN (SELECT a.suggestion_id FROM assignments a WHERE a.department_id = ? AND a.status != 'superseded')"
                    .into(),
            );
            args.push(Arg::Int(d));
        }
        if let Some(r) = &reference {
            conds.push("s.reference_no = ?".into());
            args.push(Arg::Text(r.to_string()));
        }
        if filter.exclude_test {
            conds.push(format!("s.member_id NOT IN {TEST_MEMBERS}"));
        }
        if filter.key_only {
            conds.push("s.key_leader IS NOT NULL".into());
        }
        if let Some(t) = filter.topic_id {
            conds.push("s.topic_id = ?".into());
            args.push(Arg::Int(t));
        }
        if let Some(st) = filter.state {
            conds.push("s.state = ?".into());
            args.push(Arg::Text(st.code().into()));
        }
        if let Some(k) = filter.kind {
            conds.push("s.kind = ?".into());
            args.push(Arg::Text(k.label().into()));
        }
        if let Some(w) = filter.workstation_id {
            conds.push("s.member_id IN (SELECT id FROM members WHERE workstation_id = ?)".into());
            args.push(Arg::Int(w));
        }
        let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
        if let Some(t) = filter.submitted_from {
            conds.push("s.created_at >= ?".into());
            args.push(Arg::Text(ts(t)));
        }
        if let Some(t) = filter.submitted_before {
            conds.push("s.created_at < ?".into());
            args.push(Arg::Text(ts(t)));
        }

        let deadline_key = format!("COALESCE(s.deadline, '{NO_DEADLINE_KEY}')");
        let backwards = matches!(cursor, PageCursor::Before(_));
        let order = match (sort, backwards) {
            (InboxSort::Newest, false) | (InboxSort::Oldest, true) => format!("{id_col} DESC"),
            (InboxSort::Newest, true) | (InboxSort::Oldest, false) => format!("{id_col} ASC"),
            (InboxSort::Deadline, false) => format!("{deadline_key} ASC, s.id ASC"),
            (InboxSort::Deadline, true) => format!("{deadline_key} DESC, s.id DESC"),
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
                        conds.push(format!("{id_col} {op} ?"));
                        args.push(Arg::Int(id));
                    }
                }
                InboxSort::Deadline => {
                    if let Some((d, id)) = parse_deadline_cursor(key) {
                        let op = if backwards { "<" } else { ">" };
                        conds.push(format!("({deadline_key}, s.id) {op} (?, ?)"));
                        args.push(Arg::Text(d));
                        args.push(Arg::Int(id));
                    }
                }
            }
        }
        let where_ = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let sql = format!("SELECT s.id FROM {from} {where_} ORDER BY {order} LIMIT ?");
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for a in &args {
            q = match a {
                Arg::Int(i) => q.bind(*i),
                Arg::Text(t) => q.bind(t.as_str()),
            };
        }
        let mut ids = q.bind(limit as i64 + 1).fetch_all(&self.pool).await?;
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
        let placeholders = vec!["?"; ids.len()].join(",");
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM suggestions s JOIN members m ON m.id = s.member_id
             LEFT JOIN workstations w ON w.id = m.workstation_id LEFT JOIN topics t ON t.id = s.topic_id
             WHERE s.id IN ({placeholders})"
        );
        let mut q = sqlx::query(&sql);
        for id in &ids {
            q = q.bind(*id);
        }
        let mut by_id: HashMap<i64, InboxRow> = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| read(r).map(|row: InboxRow| (row.id, row)))
            .collect::<Result<_>>()?;
        let rows = ids.iter().filter_map(|id| by_id.remove(id)).collect();
        Ok(InboxPage { rows, has_prev, has_next })
    }

    async fn workstations(&self) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT id, name FROM workstations ORDER BY name").fetch_all(&self.pool).await?)
    }

    async fn replies_of(&self, suggestion_id: i64) -> Result<Vec<ReplyRecord>> {
        let rows = sqlx::query(
            "SELECT r.id, r.department_id, d.name AS department_name, r.reply_class, r.text, r.document, r.letter, r.at,
                    g.rating, g.reason, g.at AS rated_at
             FROM replies r JOIN departments d ON d.id = r.department_id LEFT JOIN ratings g ON g.reply_id = r.id
             WHERE r.suggestion_id = ? ORDER BY r.id",
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
        let topic = if topic_id.is_some() { "s.topic_id = ?" } else { "s.topic_id IS NULL" };
        let sql = format!(
            "SELECT s.id, s.reference_no, s.title, s.state, s.body FROM suggestions s
             WHERE {topic} AND s.id <> ? AND s.state NOT IN ('withdrawn', 'merged', 'not_accepted')
               AND s.member_id NOT IN {TEST_MEMBERS}
             ORDER BY s.id DESC LIMIT ?"
        );
        let mut q = sqlx::query_as::<_, SimilarCandidate>(&sql);
        if let Some(t) = topic_id {
            q = q.bind(t);
        }
        Ok(q.bind(except.unwrap_or(0)).bind(limit.min(10_000) as i64).fetch_all(&self.pool).await?)
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
             FROM timeline_events e WHERE e.suggestion_id = ? ORDER BY e.id",
        )
        .bind(suggestion_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read).collect()
    }
}
