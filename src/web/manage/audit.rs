//! The audit log page (admin only): newest first, fifty at a time, filtered by account, action and date, in words.

use axum::extract::{Query, State};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::{local, page, problems};
use crate::bounds::clip;
use crate::store::Role;
use crate::store::console::AuditFilter;
use crate::web::auth::CurrentUser;
use crate::web::{WebError, WebState};

/// Entries on one page.
const PAGE_SIZE: usize = 50;
/// Longest account name accepted in the filter, in characters (usernames are at most 32, API
/// token names 60, plus `token:`).
const WHO_MAX_CHARS: usize = 70;

/// Every action the console and the API record, by code; each has a label
/// `web.audit.action.<code with . as _>` in the locale files.
pub const ACTIONS: [&str; 42] = [
    "login",
    "logout",
    "suggestion.accept",
    "suggestion.reject",
    "suggestion.merge",
    "suggestion.assign",
    "suggestion.instruct",
    "suggestion.adopt",
    "suggestion.acknowledge",
    "suggestion.return",
    "suggestion.reply",
    "suggestion.co_opinion",
    "suggestion.record_rating",
    "suggestion.entered",
    "suggestions.export_csv",
    "suggestions.export_xlsx",
    "suggestions.export_docx",
    "suggestion.key",
    "figures.export_xlsx",
    "api.acknowledge",
    "api.return",
    "api.reply",
    "api.opinion",
    "api_token.create",
    "api_token.revoke",
    "topic.create",
    "topic.update",
    "topic.open",
    "topic.close",
    "broadcast.create",
    "broadcast.cancel",
    "department.create",
    "liaison.invite",
    "members.import",
    "member.invite",
    "user.create",
    "user.deactivate",
    "user.reactivate",
    "user.password_reset",
    "preview_input",
    "preview_submit",
    "preview_reset",
];

/// An action's label in the console's language; an unknown code (from an older version) as is.
pub fn action_label(state: &WebState, code: &str) -> String {
    if ACTIONS.contains(&code) {
        state.t(&format!("web.audit.action.{}", code.replace('.', "_")))
    } else {
        code.to_string()
    }
}

/// The kinds of `kind:id` targets the console writes; each has a label `web.audit.target.<kind>`
/// taking `{id}`.
pub const TARGET_KINDS: [&str; 6] = ["topic", "user", "broadcast", "member", "liaison", "department"];

/// An entry's target in words: `topic:3` → 议题 #3, `roster` → 委员名册; a reference number, a
/// department's name or anything unknown as written.
pub fn target_label(state: &WebState, target: &str) -> String {
    if target == "roster" {
        return state.t("web.audit.target.roster");
    }
    match target.split_once(':') {
        Some((kind, id)) if TARGET_KINDS.contains(&kind) => {
            state.ta(&format!("web.audit.target.{kind}"), &[("id", &id)])
        }
        _ => target.to_string(),
    }
}

/// Reads the details the console writes with codes in them (a roster import's counts, a
/// broadcast's topic, audience and reach, a topic's 置顶, an account's role, an export's filters)
/// back in words; everything else passes through unchanged. Made once per page.
pub struct DetailWords {
    import: regex::Regex,
    recipients: regex::Regex,
    filter: regex::Regex,
}

impl Default for DetailWords {
    fn default() -> Self {
        Self::new()
    }
}

impl DetailWords {
    pub fn new() -> Self {
        let re = |p: &str| regex::Regex::new(p).expect("a valid pattern");
        Self {
            import: re(r"^inserted (\d+), updated (\d+), workstations created (\d+), rows skipped (\d+)$"),
            recipients: re(r"^(\d+) recipients$"),
            filter: re(r"\b(topic|state|kind|workstation|department|from|to|q|sort)=(\S*)"),
        }
    }

    /// `detail` of an entry of `action`, in words. Parts are separated by ` | `.
    pub fn label(&self, state: &WebState, action: &str, detail: &str) -> String {
        let parts: Vec<String> =
            detail.split(" | ").enumerate().map(|(i, part)| self.part(state, action, i, part)).collect();
        parts.join(" | ")
    }

    fn part(&self, state: &WebState, action: &str, index: usize, part: &str) -> String {
        if let Some(c) = self.import.captures(part) {
            return state.ta(
                "web.audit.detail_import",
                &[("inserted", &&c[1]), ("updated", &&c[2]), ("workstations", &&c[3]), ("skipped", &&c[4])],
            );
        }
        if let Some(c) = self.recipients.captures(part) {
            return state.ta("web.audit.detail_recipients", &[("count", &&c[1])]);
        }
        if part == "pinned" {
            return state.t("web.audit.detail_pinned");
        }
        if part == "topic:0" {
            return state.t("web.audit.detail_no_topic");
        }
        if let Some(("topic", _)) = part.split_once(':') {
            return target_label(state, part);
        }
        if action == "broadcast.create"
            && let Some((kind, value)) = part.split_once(':')
            && let Some(kind) = crate::store::AudienceKind::parse(kind)
        {
            let key = format!("broadcast.audience_{}", kind.as_str());
            return state.ta(&key, &[("value", &value)]);
        }
        if action == "user.create"
            && index == 1
            && let Some(role) = Role::parse(part)
        {
            return state.t(&format!("cli.role_{}", role.as_str()));
        }
        self.filter
            .replace_all(part, |c: &regex::Captures| {
                let (key, value) = (&c[1], &c[2]);
                let name = match key {
                    "topic" | "state" | "kind" | "department" => state.t(&format!("web.inbox.col_{key}")),
                    "q" => state.t("web.audit.filter_q"),
                    other => state.t(&format!("web.inbox.{other}")),
                };
                let value = match key {
                    "state" if crate::domain::SuggestionState::ALL.iter().any(|v| v.code() == value) => {
                        state.t(&format!("state.{value}"))
                    }
                    "kind" if crate::domain::SuggestionKind::ALL.iter().any(|v| v.code() == value) => {
                        state.t(&format!("kind.{value}"))
                    }
                    "sort" if crate::store::inbox::InboxSort::parse(value).is_some() => {
                        state.t(&format!("web.inbox.sort_{value}"))
                    }
                    _ => value.to_string(),
                };
                format!("{name}={value}")
            })
            .into_owned()
    }
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    who: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: String,
}

impl AuditQuery {
    fn filter(&self, state: &WebState) -> (AuditFilter, Vec<String>) {
        let mut problems = Vec::new();
        let offset = state.app.config.offset();
        let mut date =
            |s: &str, next_day: bool| -> Option<DateTime<Utc>> {
                let s = s.trim();
                if s.is_empty() {
                    return None;
                }
                match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                    Ok(d) => {
                        let d = if next_day { d.succ_opt()? } else { d };
                        d.and_hms_opt(0, 0, 0)?.and_local_timezone(offset).single().map(|t| t.with_timezone(&Utc))
                    }
                    Err(_) => {
                        problems.push(state.ta(
                            "web.audit.bad_date",
                            &[("value", &clip(s, 20)), ("example", &state.date_example(false))],
                        ));
                        None
                    }
                }
            };
        let from = date(&self.from, false);
        let until = date(&self.to, true);
        let who = Some(clip(self.who.trim(), WHO_MAX_CHARS)).filter(|s| !s.is_empty());
        let action = Some(self.action.trim()).filter(|a| ACTIONS.contains(a)).map(str::to_string);
        (AuditFilter { who, action, from, until }, problems)
    }

    /// The filters as a query string, for the next page's link.
    fn filters_query(&self, filter: &AuditFilter) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut parts = Vec::new();
        if let Some(who) = &filter.who {
            parts.push(format!("who={}", enc(who)));
        }
        if let Some(action) = &filter.action {
            parts.push(format!("action={}", enc(action)));
        }
        for (name, value) in [("from", &self.from), ("to", &self.to)] {
            if !value.trim().is_empty() {
                parts.push(format!("{name}={}", enc(&clip(value.trim(), 20))));
            }
        }
        parts.join("&")
    }
}

pub async fn audit(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(query): Query<AuditQuery>,
) -> Result<Markup, WebError> {
    user.require(&[Role::Admin])?;
    let (filter, problem_list) = query.filter(&state);
    let before = query.before.trim().parse::<i64>().ok();
    let mut entries = state.app.store.audit_page(&filter, before, PAGE_SIZE + 1).await?;
    let more = entries.len() > PAGE_SIZE;
    entries.truncate(PAGE_SIZE);
    let filters = query.filters_query(&filter);
    let older = match (more, entries.last()) {
        (true, Some(last)) if filters.is_empty() => Some(format!("/audit?before={}", last.id)),
        (true, Some(last)) => Some(format!("/audit?{filters}&before={}", last.id)),
        _ => None,
    };
    let t = |k: &str| state.t(k);
    let title = t("web.audit.title");
    let who = filter.who.clone().unwrap_or_default();
    let words = DetailWords::new();
    let body = html! {
        h1 { (title) }
        (problems(&problem_list))
        form.filters method="get" action="/audit" {
            label { (t("web.audit.col_user")) input name="who" value=(who) maxlength=(WHO_MAX_CHARS); }
            label { (t("web.audit.col_action"))
                select name="action" {
                    option value="" { (t("web.audit.any_action")) }
                    @for code in ACTIONS {
                        option value=(code) selected[filter.action.as_deref() == Some(code)] { (action_label(&state, code)) }
                    }
                }
            }
            label { (t("web.audit.from")) input type="date" name="from" value=(clip(query.from.trim(), 20)); }
            label { (t("web.audit.to")) input type="date" name="to" value=(clip(query.to.trim(), 20)); }
            button type="submit" { (t("web.audit.apply")) }
        }
        @if entries.is_empty() {
            p.muted { (t("web.audit.none")) }
        } @else {
            div.table-wrap { table.audit {
                thead { tr {
                    th { (t("web.audit.col_at")) }
                    th { (t("web.audit.col_user")) }
                    th { (t("web.audit.col_action")) }
                    th { (t("web.audit.col_target")) }
                    th { (t("web.audit.col_detail")) }
                } }
                tbody { @for e in &entries {
                    tr {
                        td { (local(&state, e.at, "%Y-%m-%d %H:%M:%S")) }
                        td { (e.user.as_deref().unwrap_or("-")) }
                        td { (action_label(&state, &e.action)) }
                        td { (target_label(&state, &e.target)) }
                        td { (words.label(&state, &e.action, &e.detail)) }
                    }
                } }
            } }
        }
        nav.pager {
            @if before.is_some() {
                a href=(if filters.is_empty() { "/audit".to_string() } else { format!("/audit?{filters}") }) { (t("web.audit.newest")) }
                " "
            }
            @if let Some(href) = older { a rel="next" href=(href) { (t("web.audit.older")) } }
        }
    };
    Ok(page(&state, &user, "/audit", &title, body))
}
