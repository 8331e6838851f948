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
pub const ACTIONS: [&str; 37] = [
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
    "suggestions.export_csv",
    "suggestions.export_xlsx",
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
            div.table-wrap { table {
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
                        td { (e.target) }
                        td { (e.detail) }
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
