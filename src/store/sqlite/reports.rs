//! SQLite for the dashboard and the console's topic, department and roster pages.

use async_trait::async_trait;

use super::*;
use crate::store::reports::*;

/// Suggestion states in which a department is still expected to answer.
const BEING_HANDLED: &str = "('assigned', 'in_progress', 'countersigning', 'reopened')";
/// States of a suggestion that was accepted, whatever happened after.
const ACCEPTED_OR_LATER: &str =
    "('accepted', 'assigned', 'in_progress', 'countersigning', 'reply_review', 'replied', 'reopened', 'closed')";

/// The condition on `suggestions s` for a scope, and the department it binds, if any.
/// Test members' suggestions (the dialog preview's) are never counted.
fn scope_sql(scope: Scope) -> (&'static str, Option<i64>) {
    match scope {
        Scope::All => ("s.member_id NOT IN (SELECT id FROM members WHERE test = 1)", None),
        Scope::Department(d) => (
            "s.member_id NOT IN (SELECT id FROM members WHERE test = 1)
             AND EXISTS (SELECT 1 FROM assignments x WHERE x.suggestion_id = s.id AND x.department_id = ? AND x.status <> 'superseded')",
            Some(d),
        ),
    }
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn dashboard(&self, scope: Scope, now: DateTime<Utc>) -> Result<DashboardData> {
        let (cond, dept) = scope_sql(scope);
        let pool = &self.pool;

        let sql = format!("SELECT s.state, COUNT(*) FROM suggestions s WHERE {cond} GROUP BY s.state");
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        if let Some(d) = dept {
            q = q.bind(d);
        }
        let rows = q.fetch_all(pool).await?;
        let mut by_state = Vec::new();
        for state in SuggestionState::ALL {
            if let Some((_, n)) = rows.iter().find(|(s, _)| s == state.code()) {
                by_state.push((*state, *n));
            }
        }
        if let Some((s, _)) = rows.iter().find(|(s, _)| SuggestionState::parse(s).is_none()) {
            return Err(StoreError::Corrupt(format!("suggestion state {s:?}")));
        }

        let sql = format!(
            "SELECT t.title, COUNT(*) FROM suggestions s LEFT JOIN topics t ON t.id = s.topic_id
             WHERE s.state <> 'withdrawn' AND {cond} GROUP BY s.topic_id ORDER BY 2 DESC, s.topic_id"
        );
        let mut q = sqlx::query_as::<_, (Option<String>, i64)>(&sql);
        if let Some(d) = dept {
            q = q.bind(d);
        }
        let by_topic = q.fetch_all(pool).await?;

        let sql = format!(
            "SELECT s.kind, COUNT(*) FROM suggestions s WHERE s.state <> 'withdrawn' AND {cond} GROUP BY s.kind"
        );
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        if let Some(d) = dept {
            q = q.bind(d);
        }
        let mut by_kind = Vec::new();
        for (kind, n) in q.fetch_all(pool).await? {
            let kind = SuggestionKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind:?}")))?;
            by_kind.push((kind, n));
        }
        by_kind.sort_by_key(|(k, _)| SuggestionKind::ALL.iter().position(|x| x == k));

        let sql = format!(
            "SELECT w.name, COUNT(*) FROM suggestions s JOIN members m ON m.id = s.member_id
             LEFT JOIN workstations w ON w.id = m.workstation_id
             WHERE s.state <> 'withdrawn' AND {cond} GROUP BY m.workstation_id ORDER BY 2 DESC, w.id"
        );
        let mut q = sqlx::query_as::<_, (Option<String>, i64)>(&sql);
        if let Some(d) = dept {
            q = q.bind(d);
        }
        let by_workstation = q.fetch_all(pool).await?;

        // The first reply to each suggestion, and when the replying (lead) department got it.
        let reply_cond = if dept.is_some() { "r.department_id = ?" } else { "1 = 1" };
        let sql = format!(
            "SELECT (SELECT MAX(a.assigned_at) FROM assignments a
                     WHERE a.suggestion_id = r.suggestion_id AND a.department_id = r.department_id
                       AND a.role = 'lead' AND a.assigned_at <= r.at) AS assigned_at,
                    r.at
             FROM replies r
             WHERE r.id IN (SELECT MIN(id) FROM replies GROUP BY suggestion_id) AND {reply_cond}
               AND r.suggestion_id NOT IN (SELECT id FROM suggestions WHERE member_id IN {TEST_MEMBERS})"
        );
        let mut q = sqlx::query_as::<_, (Option<DateTime<Utc>>, DateTime<Utc>)>(&sql);
        if let Some(d) = dept {
            q = q.bind(d);
        }
        let answer_times =
            q.fetch_all(pool).await?.into_iter().filter_map(|(assigned, at)| assigned.map(|a| (a, at))).collect();

        let dept_cond = if dept.is_some() { "a.department_id = ?" } else { "1 = 1" };
        let sql = format!(
            "SELECT s.id, s.reference_no, s.title, d.name, a.role, a.deadline
             FROM assignments a JOIN suggestions s ON s.id = a.suggestion_id JOIN departments d ON d.id = a.department_id
             WHERE a.status = 'active' AND s.state IN {BEING_HANDLED} AND a.deadline < ? AND {dept_cond}
               AND s.member_id NOT IN {TEST_MEMBERS}
             ORDER BY a.deadline, a.id"
        );
        let mut q = sqlx::query_as::<_, (i64, String, String, String, String, DateTime<Utc>)>(&sql).bind(now);
        if let Some(d) = dept {
            q = q.bind(d);
        }
        let overdue = q
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(suggestion_id, reference_no, title, department_name, role, deadline)| OverdueAssignment {
                suggestion_id,
                reference_no,
                title,
                department_name,
                lead: role == "lead",
                deadline,
            })
            .collect();

        let sql = format!(
            "SELECT COALESCE(SUM(s.adopted_at IS NOT NULL), 0), COUNT(*) FROM suggestions s
             WHERE s.state IN {ACCEPTED_OR_LATER} AND {cond}"
        );
        let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
        if let Some(d) = dept {
            q = q.bind(d);
        }
        let (adopted, accepted_or_later) = q.fetch_one(pool).await?;

        let sql = format!(
            "SELECT s.id, s.reference_no, s.title, s.key_leader, s.state, s.deadline,
                    (SELECT d.name FROM assignments a JOIN departments d ON d.id = a.department_id
                     WHERE a.suggestion_id = s.id AND a.role = 'lead' AND a.status <> 'superseded'
                     ORDER BY a.id DESC LIMIT 1) AS lead_department
             FROM suggestions s WHERE s.key_leader IS NOT NULL AND {cond}"
        );
        let mut q =
            sqlx::query_as::<_, (i64, String, String, String, String, Option<DateTime<Utc>>, Option<String>)>(&sql);
        if let Some(d) = dept {
            q = q.bind(d);
        }
        let mut key = Vec::new();
        for (suggestion_id, reference_no, title, leader, state, deadline, lead_department) in q.fetch_all(pool).await? {
            let state = SuggestionState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("suggestion state {state:?}")))?;
            key.push(KeySuggestion { suggestion_id, reference_no, title, leader, state, lead_department, deadline });
        }
        key.sort_by_key(|k| (!k.being_handled(), k.being_handled().then_some(k.deadline).flatten(), -k.suggestion_id));

        Ok(DashboardData {
            by_state,
            by_topic,
            by_kind,
            by_workstation,
            answer_times,
            overdue,
            adopted,
            accepted_or_later,
            key,
        })
    }

    async fn figure_rows(&self, filter: &FiguresFilter) -> Result<Vec<FigureRow>> {
        // The first reply by id (ids grow with time), so no time is compared in SQL.
        let mut conds = vec![format!("s.year = {}", "?")];
        if filter.topic_id.is_some() {
            conds.push(format!("s.topic_id = {}", "?"));
        }
        if filter.department_id.is_some() {
            conds.push(format!(
                "EXISTS (SELECT 1 FROM assignments x WHERE x.suggestion_id = s.id AND x.department_id = {} AND x.status <> 'superseded')",
                "?"
            ));
        }
        let sql = format!(
            "SELECT s.id, s.state, s.adopted_at IS NOT NULL AS adopted,
                    (SELECT COUNT(*) FROM suggestion_points p WHERE p.suggestion_id = s.id) AS points,
                    EXISTS (SELECT 1 FROM assignments a WHERE a.suggestion_id = s.id AND a.role = 'lead'
                            AND a.status <> 'superseded') AS assigned,
                    (SELECT r.at FROM replies r WHERE r.suggestion_id = s.id ORDER BY r.id LIMIT 1) AS first_reply_at,
                    (SELECT a.deadline FROM assignments a WHERE a.suggestion_id = s.id AND a.role = 'lead'
                       AND a.department_id = (SELECT r.department_id FROM replies r WHERE r.suggestion_id = s.id
                                              ORDER BY r.id LIMIT 1)
                     ORDER BY a.id LIMIT 1) AS first_reply_due,
                    (SELECT r.reply_class FROM replies r WHERE r.suggestion_id = s.id ORDER BY r.id DESC LIMIT 1) AS reply_class,
                    (SELECT g.rating FROM ratings g WHERE g.suggestion_id = s.id ORDER BY g.id DESC LIMIT 1) AS rating
             FROM suggestions s
             WHERE s.state <> 'withdrawn' AND s.member_id NOT IN {TEST_MEMBERS} AND {}
             ORDER BY s.id",
            conds.join(" AND ")
        );
        let mut q = sqlx::query(&sql).bind(i64::from(filter.year));
        if let Some(t) = filter.topic_id {
            q = q.bind(t);
        }
        if let Some(d) = filter.department_id {
            q = q.bind(d);
        }
        let mut out = Vec::new();
        for row in q.fetch_all(&self.pool).await? {
            let state: String = row.try_get("state")?;
            let state = SuggestionState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("suggestion state {state:?}")))?;
            out.push(FigureRow {
                suggestion_id: row.try_get("id")?,
                state,
                points: row.try_get("points")?,
                adopted: row.try_get("adopted")?,
                assigned: row.try_get("assigned")?,
                first_reply_at: row.try_get("first_reply_at")?,
                first_reply_due: row.try_get("first_reply_due")?,
                reply_class: row.try_get("reply_class")?,
                rating: row.try_get("rating")?,
            });
        }
        Ok(out)
    }

    async fn figure_years(&self) -> Result<Vec<i32>> {
        let sql = format!(
            "SELECT DISTINCT s.year FROM suggestions s WHERE s.member_id NOT IN {TEST_MEMBERS} ORDER BY s.year DESC"
        );
        let years: Vec<i64> = sqlx::query_scalar(&sql).fetch_all(&self.pool).await?;
        Ok(years.into_iter().filter_map(|y| i32::try_from(y).ok()).collect())
    }

    async fn topic_by_workstation(&self, topic_id: i64) -> Result<Vec<WorkstationAnswer>> {
        let rows: Vec<(i64, String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT w.id, w.name, COUNT(DISTINCT s.member_id), COUNT(s.id), COALESCE(SUM(p.n), 0),
                    COALESCE(SUM(s.adopted_at IS NOT NULL), 0)
             FROM workstations w
             LEFT JOIN members m ON m.workstation_id = w.id
             LEFT JOIN suggestions s ON s.member_id = m.id AND s.topic_id = ? AND s.state <> 'withdrawn'
             LEFT JOIN (SELECT suggestion_id, COUNT(*) AS n FROM suggestion_points GROUP BY suggestion_id) p
                    ON p.suggestion_id = s.id
             GROUP BY w.id ORDER BY w.id",
        )
        .bind(topic_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(workstation_id, name, members, suggestions, points, adopted)| WorkstationAnswer {
                workstation_id,
                name,
                members,
                suggestions,
                points,
                adopted,
            })
            .collect())
    }

    async fn update_topic(&self, id: i64, topic: NewTopic, now: DateTime<Utc>) -> Result<Option<Topic>> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "UPDATE topics SET title = ?, description = ?, class = ?, form = ?, closes_at = ?, pinned = ?, updated_at = ?
             WHERE id = ? RETURNING *",
        )
        .bind(&topic.title)
        .bind(&topic.description)
        .bind(topic.class.label())
        .bind(&topic.form)
        .bind(topic.closes_at)
        .bind(topic.pinned as i64)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let topic: Topic = read(&row)?;
        if topic.pinned {
            // One topic is the pinned one (第一协商议题), as when adding one.
            sqlx::query("UPDATE topics SET pinned = 0, updated_at = ? WHERE id <> ? AND pinned = 1")
                .bind(now)
                .bind(topic.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(topic))
    }

    async fn set_topic_status(&self, id: i64, status: TopicStatus, now: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.write().await?;
        let closing = status == TopicStatus::Closed;
        let r = sqlx::query(
            "UPDATE topics SET status = ?, pinned = CASE WHEN ? THEN 0 ELSE pinned END, updated_at = ?
             WHERE id = ? AND status <> ?",
        )
        .bind(status.code())
        .bind(closing)
        .bind(now)
        .bind(id)
        .bind(status.code())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    async fn liaisons(&self) -> Result<Vec<Liaison>> {
        let sql = format!(
            "SELECT {LIAISON_COLUMNS} FROM liaisons l JOIN departments d ON d.id = l.department_id ORDER BY d.id, l.id"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(read).collect()
    }

    async fn members_page(&self, filter: &MemberFilter, after: Option<&str>, limit: usize) -> Result<Vec<Member>> {
        let (cond, args) = member_conditions(filter);
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id
             WHERE {cond} AND m.member_no > ? ORDER BY m.member_no LIMIT ?"
        );
        let mut q = sqlx::query(&sql);
        for a in &args {
            q = q.bind(a);
        }
        let rows = q.bind(after.unwrap_or("")).bind(limit as i64).fetch_all(&self.pool).await?;
        rows.iter().map(read).collect()
    }

    async fn count_members(&self, filter: &MemberFilter) -> Result<i64> {
        let (cond, args) = member_conditions(filter);
        let sql =
            format!("SELECT COUNT(*) FROM members m LEFT JOIN workstations w ON w.id = m.workstation_id WHERE {cond}");
        let mut q = sqlx::query_scalar(&sql);
        for a in &args {
            q = q.bind(a);
        }
        Ok(q.fetch_one(&self.pool).await?)
    }

    async fn member_counts(&self) -> Result<MemberCounts> {
        let (total, bound, unreachable): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(telegram_user_id IS NOT NULL), 0),
                    COALESCE(SUM(unreachable_at IS NOT NULL AND status = 'active'), 0)
             FROM members WHERE test = 0",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(MemberCounts { total, bound, unreachable })
    }

    async fn roster_facets(&self) -> Result<(Vec<String>, Vec<String>)> {
        let workstations = sqlx::query_scalar(
            "SELECT w.name FROM workstations w WHERE EXISTS (SELECT 1 FROM members m WHERE m.workstation_id = w.id)
             ORDER BY w.name",
        )
        .fetch_all(&self.pool)
        .await?;
        let sectors =
            sqlx::query_scalar("SELECT DISTINCT sector FROM members WHERE sector <> '' AND test = 0 ORDER BY sector")
                .fetch_all(&self.pool)
                .await?;
        Ok((workstations, sectors))
    }
}

/// The SQL condition on `members m` (joined with `workstations w`) for a roster filter, and the
/// text values it binds, in order.
fn member_conditions(filter: &MemberFilter) -> (String, Vec<String>) {
    let mut conds = vec!["m.test = 0".to_string()];
    let mut args = Vec::new();
    let search = filter.search.trim();
    if !search.is_empty() {
        let like = format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        conds
            .push("(m.name LIKE ? ESCAPE '\\' OR m.member_no LIKE ? ESCAPE '\\' OR m.phone LIKE ? ESCAPE '\\')".into());
        args.extend([like.clone(), like.clone(), like]);
    }
    if let Some(w) = &filter.workstation {
        conds.push("w.name = ?".into());
        args.push(w.clone());
    }
    if let Some(l) = filter.level {
        conds.push("m.level = ?".into());
        args.push(l.label().to_string());
    }
    if let Some(s) = &filter.sector {
        conds.push("m.sector = ?".into());
        args.push(s.clone());
    }
    match filter.bound {
        Some(true) => conds.push("m.telegram_user_id IS NOT NULL".into()),
        Some(false) => conds.push("m.telegram_user_id IS NULL".into()),
        None => {}
    }
    if filter.unreachable_only {
        conds.push("m.unreachable_at IS NOT NULL".into());
    }
    (conds.join(" AND "), args)
}
