//! Reminders (催办): departments before and after a deadline, and staff's daily overdue digest.
//!
//! `tick` does one pass at a given time; `run` repeats it every `reminders.check_interval_secs`.
//!
//! - Each department with an active assignment is reminded through its liaisons once when the
//!   deadline is within `reminders.before_days` ('before'; `reminders.key_before_days` for key
//!   suggestions, 重点建言, which also say so) and once when it has passed ('overdue').
//!   The reminder is recorded (`reminders`, unique per assignment, deadline and kind) in the same
//!   transaction as its messages are queued, so a crash neither loses nor doubles one. A reopened
//!   suggestion has a new deadline, hence new reminders. A department with no registered liaison is
//!   not marked reminded: it gets the reminder once a liaison registers.
//! - Once per local day (`general.utc_offset`), at the first pass at or after
//!   `reminders.digest_hour`, staff get the list of suggestions whose lead department is overdue.
//!   The day is recorded even when nothing is overdue (and then nothing is sent): the digest of a
//!   day is decided once, and something that falls overdue later that day is in the next one.
//!   The digest also lists the replies waiting for staff's review (督办, 答复待审); such a reply is
//!   not overdue for its department, which is neither reminded nor listed as overdue for it.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use tokio::sync::watch;

use crate::app::App;
use crate::context::Ctx;
use crate::domain::SuggestionState;
use crate::reply::Keyboard;
use crate::store::inbox::{InboxFilter, InboxSort, PageCursor};
use crate::store::{AssignmentRole, ReminderKind};
use crate::workflow::{self, notify};

/// Suggestions listed in one digest; the rest are counted.
const DIGEST_MAX_ITEMS: usize = 50;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// 'before' reminders recorded (one per assignment, whatever the number of liaisons).
    pub before: usize,
    /// 'overdue' reminders recorded.
    pub overdue: usize,
    /// Reminders due to departments with no registered liaison: tried again at the next pass.
    pub no_liaison: usize,
    /// The day's digest was decided in this pass, listing this many overdue suggestions.
    pub digest: Option<usize>,
    /// Messages queued in all.
    pub messages: usize,
}

/// Whole days in `d`, rounded up, at least 1 ("due in 1 day" an hour before, "1 day overdue" an
/// hour after).
fn days(d: chrono::Duration) -> i64 {
    ((d.num_seconds() + 86_399) / 86_400).max(1)
}

/// One pass at `now`: the reminders due, then the digest if it is time.
pub async fn tick(app: &App, now: DateTime<Utc>) -> anyhow::Result<TickReport> {
    let ctx = Ctx { store: app.store.as_ref(), texts: &app.texts, config: &app.config, now };
    let texts = &app.texts;
    let date = |at: DateTime<Utc>| notify::local_date(&app.config, at);
    let mut report = TickReport::default();

    let before = chrono::Duration::days(app.config.reminders.before_days);
    let key_before = chrono::Duration::days(app.config.reminders.key_before_days);
    for due in app.store.due_reminders(now, before, key_before).await? {
        let recipients = app.store.liaison_recipients(due.department_id).await?;
        if recipients.is_empty() {
            tracing::debug!(assignment_id = due.assignment_id, department = %due.department_name, "a reminder waits for a liaison to register");
            report.no_liaison += 1;
            continue;
        }
        let (key, days) = match due.kind {
            ReminderKind::Before => ("reminder.before", days(due.deadline - now)),
            ReminderKind::Overdue => ("reminder.overdue", days(now - due.deadline)),
        };
        let deadline = date(due.deadline);
        let role_key = match due.role {
            AssignmentRole::Lead => "reminder.role_lead",
            AssignmentRole::Co => "reminder.role_co",
        };
        let text = |lang| {
            let role = texts.t(lang, role_key, &[]);
            let args: [(&str, &dyn std::fmt::Display); 5] = [
                ("days", &days),
                ("reference", &due.reference_no),
                ("title", &due.title),
                ("role", &role),
                ("deadline", &deadline),
            ];
            let text = texts.t(lang, key, &args);
            match &due.key_leader {
                Some(leader) => format!("{}\n{text}", texts.t(lang, "reminder.key_note", &[("leader", leader)])),
                None => text,
            }
        };
        let keyboard = |lang| workflow::department_keyboard(texts, lang, due.suggestion_id, due.role);
        let messages = notify::to_each(texts, &recipients, text, keyboard);
        let count = messages.len();
        if app.store.record_reminder(due.assignment_id, due.deadline, due.kind, messages, now).await? {
            tracing::info!(
                assignment_id = due.assignment_id,
                reference = %due.reference_no,
                department = %due.department_name,
                kind = due.kind.as_str(),
                "department reminded"
            );
            match due.kind {
                ReminderKind::Before => report.before += 1,
                ReminderKind::Overdue => report.overdue += 1,
            }
            report.messages += count;
        }
    }

    let local = now.with_timezone(&app.config.offset());
    if local.hour() >= app.config.reminders.digest_hour {
        let day = local.format("%Y-%m-%d").to_string();
        let overdue = app.store.overdue_suggestions(now).await?;
        // Replies waiting for staff's review (督办) are listed after the overdue ones.
        let filter = InboxFilter { state: Some(SuggestionState::ReplyReview), ..InboxFilter::default() };
        let waiting = app.store.inbox(&filter, InboxSort::Oldest, &PageCursor::First, DIGEST_MAX_ITEMS).await?.rows;
        let mut messages = Vec::new();
        if !overdue.is_empty() || !waiting.is_empty() {
            let digest = |lang| {
                let mut text = if overdue.is_empty() {
                    String::new()
                } else {
                    texts.t(lang, "reminder.digest_header", &[("date", &day), ("count", &overdue.len())])
                };
                for (i, s) in overdue.iter().take(DIGEST_MAX_ITEMS).enumerate() {
                    let item = texts.t(
                        lang,
                        "reminder.digest_item",
                        &[
                            ("n", &(i + 1)),
                            ("reference", &s.reference_no),
                            ("title", &s.title),
                            ("department", &s.department_name),
                            ("deadline", &date(s.deadline)),
                            ("days", &days(now - s.deadline)),
                        ],
                    );
                    text.push_str("\n\n");
                    text.push_str(&item);
                }
                if overdue.len() > DIGEST_MAX_ITEMS {
                    let more = texts.t(lang, "reminder.digest_more", &[("count", &(overdue.len() - DIGEST_MAX_ITEMS))]);
                    text.push_str("\n\n");
                    text.push_str(&more);
                }
                if !waiting.is_empty() {
                    if !text.is_empty() {
                        text.push_str("\n\n");
                    }
                    text.push_str(&texts.t(
                        lang,
                        "reminder.digest_reviews",
                        &[("date", &day), ("count", &waiting.len())],
                    ));
                    for (i, s) in waiting.iter().enumerate() {
                        let args: [(&str, &dyn std::fmt::Display); 4] = [
                            ("n", &(i + 1)),
                            ("reference", &s.reference_no),
                            ("title", &s.title),
                            ("department", &s.departments),
                        ];
                        text.push_str("\n\n");
                        text.push_str(&texts.t(lang, "reminder.digest_review_item", &args));
                    }
                }
                text
            };
            let staff = workflow::staff_recipients(&ctx).await?;
            messages = notify::to_each(texts, &staff, digest, |_| Keyboard::None);
        }
        let count = messages.len();
        if app.store.record_digest(&day, messages, now).await? {
            tracing::info!(day, overdue = overdue.len(), "overdue digest decided");
            report.digest = Some(overdue.len());
            report.messages += count;
        }
    }
    Ok(report)
}

/// Runs `tick` at once and then every `reminders.check_interval_secs`, until `shutdown` turns true.
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let every = Duration::from_secs(app.config.reminders.check_interval_secs.max(1));
    loop {
        if *shutdown.borrow() {
            return;
        }
        match tick(&app, app.clock.now()).await {
            Ok(report) if report.messages > 0 => tracing::info!(?report, "reminders queued"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %format!("{e:#}"), "reminders: a pass failed; trying again later"),
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;
    use sqlx::Row;

    use super::*;
    use crate::clock::ManualClock;
    use crate::config::Config;
    use crate::domain::{MemberLevel, MemberNo, SuggestionKind, SuggestionState};
    use crate::invite;
    use crate::locale::Texts;
    use crate::reply::{Action, Keyboard};
    use crate::store::{
        Commit, Committed, InviteTarget, Liaison, NewSuggestion, Rating, RosterRow, SqliteStore, Staff, prelude::*,
    };
    use crate::workflow::{Actor, Command};

    const STAFF_CHAT: i64 = 900;
    const MEMBER_CHAT: i64 = 1001;
    const LEAD_CHAT: i64 = 3001;
    const CO_CHAT: i64 = 3002;

    struct Setup {
        app: App,
        store: SqliteStore,
        clock: Arc<ManualClock>,
        staff: Staff,
        lead: Liaison,
        co_department: i64,
        suggestion: i64,
        /// When the suggestion was assigned (a Monday, 10:00 in Shanghai).
        t0: DateTime<Utc>,
        deadline: DateTime<Utc>,
        _dir: tempfile::TempDir,
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    async fn bind(store: &SqliteStore, target: InviteTarget, user: i64, now: DateTime<Utc>) {
        let code = invite::generate(&mut rand::thread_rng());
        let hash = invite::hash(&code);
        store.create_invite_for(target, &hash, now, now + chrono::Duration::days(1)).await.unwrap();
        store.redeem_invite(&hash, user, user, Some("zh-hans"), now).await.unwrap();
    }

    impl Setup {
        /// A member's suggestion PD-2025-0001, accepted and assigned at `t0` to 区发展改革委 (lead,
        /// liaison registered) and 区教育局 (co, no liaison yet), due 20 days later.
        async fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let store =
                SqliteStore::open(&dir.path().join("t.db"), std::time::Duration::from_secs(5), 4).await.unwrap();
            let t0 = at(2025, 3, 3, 2, 0);
            let clock = Arc::new(ManualClock::new(t0));
            let app = App {
                config: Arc::new(
                    Config::from_layers(
                        None,
                        vec![("JIANYAN_WORKFLOW__REVIEW_REPLIES".to_string(), "false".to_string())],
                    )
                    .unwrap(),
                ),
                store: Arc::new(store.clone()),
                texts: Arc::new(Texts::built_in()),
                clock: clock.clone(),
            };
            let row = RosterRow {
                member_no: MemberNo::parse("PD001").unwrap(),
                name: "张三".into(),
                level: MemberLevel::District,
                workstation: Some("陆家嘴街道".into()),
                sector: "经济界".into(),
                phone: String::new(),
            };
            store.import_members(&[row], t0).await.unwrap();
            let member = store.member_by_no(&MemberNo::parse("PD001").unwrap()).await.unwrap().unwrap();
            bind(&store, InviteTarget::Member(member.id), MEMBER_CHAT, t0).await;
            let staff = store.add_staff("周工作人员", t0).await.unwrap();
            bind(&store, InviteTarget::Staff(staff.id), STAFF_CHAT, t0).await;
            let lead_department = store.add_department("区发展改革委", None).await.unwrap();
            let co_department = store.add_department("区教育局", None).await.unwrap();
            let lead = store.add_liaison(lead_department.id, "王联络员", t0).await.unwrap();
            bind(&store, InviteTarget::Liaison(lead.id), LEAD_CHAT, t0).await;

            let submission = NewSuggestion {
                member_id: member.id,
                topic_id: None,
                kind: SuggestionKind::Advice,
                title: "关于完善15分钟社区生活圈的建议".into(),
                points: vec!["在每个街镇设立一站式便民服务中心。".into()],
                as_typed: String::new(),
                attachments: Vec::new(),
                year: 2025,
                prefix: "PD".into(),
                entered_by: None,
            };
            let commit = Commit {
                update_id: None,
                chat_id: MEMBER_CHAT,
                dialog: None,
                messages: Vec::new(),
                submission: Some((submission, Box::new(|_, _| Vec::new()))),
                change: None,
                now: t0,
            };
            let Committed::Done { .. } = store.commit(commit).await.unwrap() else { panic!("not submitted") };
            let suggestion = store.suggestion_id_by_reference("PD-2025-0001").await.unwrap().unwrap();
            let deadline = t0 + chrono::Duration::days(20);
            let mut s = Self {
                app,
                store,
                clock,
                staff,
                lead,
                co_department: co_department.id,
                suggestion,
                t0,
                deadline,
                _dir: dir,
            };
            let staff = s.staff.clone();
            s.act(&Actor::Staff(&staff), Command::Accept).await;
            s.act(
                &Actor::Staff(&staff),
                Command::Assign { lead: lead_department.id, co: vec![co_department.id], deadline: Some(deadline) },
            )
            .await;
            assert_eq!(s.state().await, SuggestionState::Assigned);
            s
        }

        /// Plans and applies a workflow command at the clock's time, as the bot would.
        async fn act(&mut self, actor: &Actor<'_>, command: Command) {
            let now = self.app.clock.now();
            let ctx = Ctx { store: &self.store, texts: &self.app.texts, config: &self.app.config, now };
            let change = workflow::plan(&ctx, actor, self.suggestion, command).await.unwrap().expect("permitted");
            let Committed::Done { .. } = self.store.apply_change(change, now).await.unwrap() else {
                panic!("conflict")
            };
        }

        async fn state(&self) -> SuggestionState {
            self.store.facts(self.suggestion).await.unwrap().unwrap().state
        }

        async fn tick(&self, now: DateTime<Utc>) -> TickReport {
            tick(&self.app, now).await.unwrap()
        }

        /// Messages queued for a chat whose text contains `part`, oldest first.
        async fn sent(&self, chat_id: i64, part: &str) -> Vec<Action> {
            let rows = sqlx::query("SELECT payload, priority FROM outbox WHERE chat_id = ? ORDER BY id")
                .bind(chat_id)
                .fetch_all(self.store.pool())
                .await
                .unwrap();
            rows.iter()
                .filter(|r| r.get::<i64, _>("priority") == 1)
                .map(|r| Action::decode(&r.get::<String, _>("payload")).unwrap())
                .filter(|a| matches!(a, Action::Send { text, .. } if text.contains(part)))
                .collect()
        }
    }

    fn text(action: &Action) -> &str {
        match action {
            Action::Send { text, .. } => text,
            Action::Retire { .. } | Action::File { .. } | Action::Upload { .. } => "",
        }
    }

    fn buttons(action: &Action) -> Vec<(String, String)> {
        match action {
            Action::Send { keyboard: Keyboard::Choices(rows), .. } => rows
                .iter()
                .flatten()
                .map(|c| (c.text.clone(), crate::bot::callback::encode(&c.id).unwrap_or_default()))
                .collect(),
            _ => Vec::new(),
        }
    }

    #[tokio::test]
    async fn the_department_is_reminded_once_before_the_deadline_and_once_after() {
        let s = Setup::new().await;
        let id = s.suggestion;
        // Far from the deadline: nothing.
        let r = s.tick(s.t0 + chrono::Duration::days(1)).await;
        assert_eq!((r.before, r.overdue, r.no_liaison), (0, 0, 0));
        assert!(s.sent(LEAD_CHAT, "催办").await.is_empty());

        // Seven days before (the default): the lead department's liaison, with the buttons to act.
        let week_before = s.deadline - chrono::Duration::days(7) + chrono::Duration::minutes(1);
        let r = s.tick(week_before).await;
        assert_eq!((r.before, r.overdue), (1, 0));
        let before = s.sent(LEAD_CHAT, "催办提醒").await;
        assert_eq!(before.len(), 1);
        assert_eq!(
            text(&before[0]),
            "⏰ 催办提醒：这条建言距答复期限还有7天，请抓紧办理，按期答复。\n\n\
             PD-2025-0001《关于完善15分钟社区生活圈的建议》\n本单位：主办单位\n答复期限：2025-03-23"
        );
        assert_eq!(
            buttons(&before[0]),
            vec![
                ("📥 签收".to_string(), format!("d:k:{id}")),
                ("✍️ 答复".to_string(), format!("d:y:{id}")),
                ("↩️ 退回".to_string(), format!("d:r:{id}")),
            ]
        );
        // Again at the same time, and later before the deadline: nothing more.
        for t in [week_before, s.deadline - chrono::Duration::days(1), s.deadline - chrono::Duration::seconds(1)] {
            let r = s.tick(t).await;
            assert_eq!((r.before, r.overdue), (0, 0), "at {t}");
        }
        assert_eq!(s.sent(LEAD_CHAT, "催办").await.len(), 1);

        // Past the deadline: the overdue reminder, once.
        let r = s.tick(s.deadline + chrono::Duration::hours(1)).await;
        assert_eq!((r.before, r.overdue), (0, 1));
        let overdue = s.sent(LEAD_CHAT, "⚠️ 催办").await;
        assert_eq!(overdue.len(), 1);
        assert!(text(&overdue[0]).starts_with("⚠️ 催办：这条建言已超过答复期限1天"), "{}", text(&overdue[0]));
        assert!(text(&overdue[0]).contains("答复期限：2025-03-23"));
        assert_eq!(buttons(&overdue[0]).len(), 3);
        for days in [1, 3, 30] {
            let r = s.tick(s.deadline + chrono::Duration::days(days)).await;
            assert_eq!((r.before, r.overdue), (0, 0));
        }
        assert_eq!(s.sent(LEAD_CHAT, "催办").await.len(), 2);
        assert_eq!(
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM reminders").fetch_one(s.store.pool()).await.unwrap(),
            2
        );
    }

    #[tokio::test]
    async fn a_key_suggestion_is_reminded_from_key_before_days_and_says_it_is_key() {
        let mut s = Setup::new().await;
        let staff = s.staff.clone();
        s.act(&Actor::Staff(&staff), Command::MarkKey { leader: "区政协副主席 王某某".into() }).await;
        // 14 days before (the default `key_before_days`), not only 7.
        let early = s.deadline - chrono::Duration::days(14) + chrono::Duration::minutes(1);
        let r = s.tick(early - chrono::Duration::days(1)).await;
        assert_eq!(r.before, 0, "not yet within 14 days");
        let r = s.tick(early).await;
        assert_eq!((r.before, r.overdue), (1, 0));
        let before = s.sent(LEAD_CHAT, "催办提醒").await;
        assert_eq!(before.len(), 1);
        assert!(
            text(&before[0])
                .starts_with("🔺 重点建言（督办领导：区政协副主席 王某某）\n⏰ 催办提醒：这条建言距答复期限还有14天"),
            "{}",
            text(&before[0])
        );
        // Unmarked, a suggestion assigned later is reminded at 7 days again (its own deadline).
        s.act(&Actor::Staff(&staff), Command::UnmarkKey).await;
        let r = s.tick(s.deadline - chrono::Duration::days(3)).await;
        assert_eq!(r.before, 0, "the reminder for this deadline was given already");
    }

    #[tokio::test]
    async fn a_department_without_a_liaison_is_reminded_once_one_registers() {
        let s = Setup::new().await;
        let t = s.deadline - chrono::Duration::days(3);
        // The co-department (区教育局) has nobody yet: not marked reminded.
        let r = s.tick(t).await;
        assert_eq!((r.before, r.no_liaison), (1, 1));
        let r = s.tick(t + chrono::Duration::minutes(1)).await;
        assert_eq!((r.before, r.no_liaison), (0, 1));
        let co = s.store.add_liaison(s.co_department, "李联络员", t).await.unwrap();
        bind(&s.store, InviteTarget::Liaison(co.id), CO_CHAT, t).await;
        let r = s.tick(t + chrono::Duration::minutes(2)).await;
        assert_eq!((r.before, r.no_liaison), (1, 0));
        let sent = s.sent(CO_CHAT, "催办提醒").await;
        assert_eq!(sent.len(), 1);
        assert!(
            text(&sent[0]).contains("还有3天") && text(&sent[0]).contains("本单位：协办单位"),
            "{}",
            text(&sent[0])
        );
        assert!(buttons(&sent[0]).iter().any(|(label, _)| label == "✍️ 协办意见"));
    }

    #[tokio::test]
    async fn a_reopened_suggestion_gets_reminders_for_its_new_deadline() {
        let mut s = Setup::new().await;
        s.tick(s.deadline - chrono::Duration::days(2)).await;
        s.tick(s.deadline + chrono::Duration::hours(2)).await;
        assert_eq!(s.sent(LEAD_CHAT, "催办").await.len(), 2);

        // The department answers: nothing to remind of while the member reads it.
        let answered = s.deadline + chrono::Duration::days(2);
        s.clock.set(answered);
        let lead = s.lead.clone();
        s.act(&Actor::Liaison(&lead), Command::Acknowledge).await;
        s.act(
            &Actor::Liaison(&lead),
            Command::Reply {
                class: "B".into(),
                text: "已列入年度计划。".into(),
                document: None,
                letter: Default::default(),
            },
        )
        .await;
        assert_eq!(s.state().await, SuggestionState::Replied);
        let r = s.tick(answered + chrono::Duration::days(1)).await;
        assert_eq!((r.before, r.overdue), (0, 0));

        // The member is dissatisfied: reopened with 30 more days (the default), so reminded again.
        let member = s.store.member_by_telegram(MEMBER_CHAT).await.unwrap().unwrap();
        let rated = answered + chrono::Duration::days(1);
        s.clock.set(rated);
        s.act(
            &Actor::Member(&member),
            Command::Rate { reply_no: 1, rating: Rating::Dissatisfied, reason: "进度太慢".into() },
        )
        .await;
        assert_eq!(s.state().await, SuggestionState::Reopened);
        let new_deadline = rated + chrono::Duration::days(30);
        let r = s.tick(rated + chrono::Duration::days(1)).await;
        assert_eq!((r.before, r.overdue), (0, 0));
        let r = s.tick(new_deadline - chrono::Duration::days(6)).await;
        // The lead only: the co-department's assignment keeps its old deadline (and has nobody).
        assert_eq!((r.before, r.overdue), (1, 0));
        let r = s.tick(new_deadline + chrono::Duration::hours(1)).await;
        assert_eq!((r.before, r.overdue), (0, 1));
        let all = s.sent(LEAD_CHAT, "催办").await;
        assert_eq!(all.len(), 4);
        let new_date = new_deadline.with_timezone(&s.app.config.offset()).format("%Y-%m-%d").to_string();
        assert!(text(&all[2]).contains("还有6天") && text(&all[2]).contains(&format!("答复期限：{new_date}")));
        assert!(text(&all[3]).contains("已超过答复期限1天") && text(&all[3]).contains(&new_date));
    }

    #[tokio::test]
    async fn staff_get_the_overdue_digest_once_a_day_from_the_digest_hour() {
        let s = Setup::new().await;
        let digests = |s: &Setup| {
            let s = s.store.clone();
            async move {
                let rows = sqlx::query("SELECT payload FROM outbox WHERE chat_id = ? ORDER BY id")
                    .bind(STAFF_CHAT)
                    .fetch_all(s.pool())
                    .await
                    .unwrap();
                rows.iter()
                    .map(|r| Action::decode(&r.get::<String, _>("payload")).unwrap())
                    .filter(|a| text(a).starts_with("📋"))
                    .map(|a| text(&a).to_string())
                    .collect::<Vec<_>>()
            }
        };
        // A day with nothing overdue: decided (recorded) at 10:00 Shanghai time, nothing sent.
        let r = s.tick(s.t0 + chrono::Duration::days(1)).await;
        assert_eq!(r.digest, Some(0));
        assert!(digests(&s).await.is_empty());

        // The deadline is 2025-03-23 10:00 in Shanghai. On the 24th, not before 09:00 local …
        let r = s.tick(at(2025, 3, 24, 0, 59)).await;
        assert_eq!(r.digest, None);
        assert!(digests(&s).await.is_empty());
        // … then once, listing the overdue suggestion.
        let r = s.tick(at(2025, 3, 24, 1, 0)).await;
        assert_eq!(r.digest, Some(1));
        assert_eq!(
            digests(&s).await,
            vec![
                "📋 逾期未答复的建言（2025-03-24，共1条）：\n\n\
                 1. PD-2025-0001《关于完善15分钟社区生活圈的建议》\n主办：区发展改革委 · 期限 2025-03-23 · 已逾期1天"
                    .to_string()
            ]
        );
        for t in [at(2025, 3, 24, 1, 1), at(2025, 3, 24, 7, 0), at(2025, 3, 24, 15, 59)] {
            assert_eq!(s.tick(t).await.digest, None, "at {t}");
        }
        assert_eq!(digests(&s).await.len(), 1);
        // The next local day (16:00 UTC is midnight in Shanghai), again from 09:00.
        assert_eq!(s.tick(at(2025, 3, 24, 16, 0)).await.digest, None);
        let r = s.tick(at(2025, 3, 25, 1, 30)).await;
        assert_eq!(r.digest, Some(1));
        let all = digests(&s).await;
        assert_eq!(all.len(), 2);
        assert!(
            all[1].starts_with("📋 逾期未答复的建言（2025-03-25，共1条）") && all[1].ends_with("已逾期2天"),
            "{}",
            all[1]
        );
        let days: Vec<String> =
            sqlx::query_scalar("SELECT day FROM digests ORDER BY day").fetch_all(s.store.pool()).await.unwrap();
        assert_eq!(days, vec!["2025-03-04", "2025-03-24", "2025-03-25"]);
    }

    #[tokio::test]
    async fn the_digest_goes_to_the_staff_group_when_there_is_one() {
        let mut s = Setup::new().await;
        let mut config = (*s.app.config).clone();
        config.staff.group_chat_id = -100_123;
        s.app.config = Arc::new(config);
        let r = s.tick(s.deadline + chrono::Duration::days(1)).await;
        assert_eq!(r.digest, Some(1));
        let group = s.sent(-100_123, "逾期未答复").await;
        assert_eq!(group.len(), 1);
        assert!(s.sent(STAFF_CHAT, "逾期未答复").await.is_empty());
    }

    #[tokio::test]
    async fn run_ticks_on_the_apps_clock_and_stops_on_shutdown() {
        let s = Setup::new().await;
        s.clock.set(s.deadline + chrono::Duration::hours(1));
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(run(s.app.clone(), rx));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while s.sent(LEAD_CHAT, "⚠️ 催办").await.is_empty() {
            assert!(std::time::Instant::now() < deadline, "no reminder from run");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tx.send(true).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), task).await.expect("stops").unwrap();
    }
}
