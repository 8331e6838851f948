//! The suggestions inbox, a suggestion's detail page with its actions, and exports (CSV, XLSX,
//! and Word documents).
//!
//! Staff and admins see every suggestion; a department account sees only those with an
//! assignment of its department that is not superseded (the same rule as `workflow::permitted`
//! for `Act::View`, applied in SQL for lists and exports and by `permitted` on the detail page).

mod detail;
pub(super) mod documents;
mod enter;
mod export;
mod files;
mod reach;

pub(crate) use export::rfc5987;
pub(crate) use reach::channels;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::CurrentUser;
use super::{WebError, WebState, layout};
use crate::domain::{SuggestionKind, SuggestionState};
use crate::store::Role;
use crate::store::inbox::{InboxFilter, InboxRow, InboxSort, PageCursor};

/// Rows on one page of the inbox.
pub const PAGE_SIZE: usize = 50;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/suggestions", get(list))
        .route("/suggestions/export.csv", get(export::csv))
        .route("/suggestions/export.xlsx", get(export::xlsx))
        .route("/suggestions/compilation.docx", get(documents::compilation))
        .route("/suggestions/{id}/document.docx", get(documents::suggestion))
        .route("/suggestions/{id}/replies/{reply}/letter.docx", get(documents::reply_letter))
        .route("/suggestions/lookup", get(detail::lookup))
        .route("/suggestions/new", get(enter::page).post(enter::submit))
        .route("/suggestions/ref/{reference}", get(detail::by_reference))
        .route("/suggestions/{id}", get(detail::page))
        .route("/suggestions/{id}/act/{action}", post(detail::act))
        .route("/suggestions/{id}/files/{sha256}", get(files::download))
}

/// Who may use the inbox at all, and the restriction a department account carries.
/// Deny by default: a department account without a department sees nothing.
pub(crate) fn visibility(user: &CurrentUser) -> Result<Option<i64>, WebError> {
    user.require(&[Role::Admin, Role::Staff, Role::Department])?;
    match user.user.role {
        Role::Admin | Role::Staff => Ok(None),
        Role::Department => user.user.department_id.map(Some).ok_or(WebError::Forbidden),
    }
}

/// The list's query string: filters, sort and where the page starts. Everything is text, so a
/// bad value is said back to the person instead of failing the request.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub workstation: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub q: String,
    /// `1`: only key suggestions (重点建言).
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub after: String,
    #[serde(default)]
    pub before: String,
}

impl ListQuery {
    /// The filter, and a polite message for each value that could not be understood.
    pub fn filter(&self, state: &WebState, visible_to_department: Option<i64>) -> (InboxFilter, Vec<String>) {
        let mut problems = Vec::new();
        let offset = state.app.config.offset();
        let mut date = |s: &str, next_day: bool| -> Option<DateTime<Utc>> {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            match NaiveDate::parse_from_str(&s.replace(['/', '.'], "-"), "%Y-%m-%d") {
                Ok(d) => {
                    let d = if next_day { d.succ_opt()? } else { d };
                    d.and_hms_opt(0, 0, 0)?.and_local_timezone(offset).single().map(|t| t.with_timezone(&Utc))
                }
                Err(_) => {
                    problems.push(
                        state.ta("web.inbox.bad_date", &[("value", &s), ("example", &state.date_example(false))]),
                    );
                    None
                }
            }
        };
        let submitted_from = date(&self.from, false);
        let submitted_before = date(&self.to, true);
        let id = |s: &str| s.trim().parse::<i64>().ok();
        let filter = InboxFilter {
            topic_id: id(&self.topic),
            state: SuggestionState::parse(&self.state).filter(|_| !self.state.trim().is_empty()),
            kind: SuggestionKind::parse(&self.kind).filter(|_| !self.kind.trim().is_empty()),
            workstation_id: id(&self.workstation),
            department_id: id(&self.department),
            submitted_from,
            submitted_before,
            search: self.q.trim().chars().take(200).collect(),
            visible_to_department,
            exclude_test: false,
            key_only: self.key.trim() == "1",
        };
        (filter, problems)
    }

    pub fn sort(&self) -> InboxSort {
        InboxSort::parse(self.sort.trim()).unwrap_or_default()
    }

    pub fn cursor(&self) -> PageCursor {
        if !self.after.is_empty() {
            PageCursor::After(self.after.clone())
        } else if !self.before.is_empty() {
            PageCursor::Before(self.before.clone())
        } else {
            PageCursor::First
        }
    }

    /// The filters and sort as a query string (without the page position).
    pub fn filters_query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("topic", &self.topic),
            ("state", &self.state),
            ("kind", &self.kind),
            ("workstation", &self.workstation),
            ("department", &self.department),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("key", &self.key),
            ("sort", &self.sort),
        ] {
            if !v.trim().is_empty() {
                s.append_pair(k, v.trim());
            }
        }
        s.finish()
    }

    fn link(&self, extra: (&str, &str)) -> String {
        let mut q = self.filters_query();
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&url::form_urlencoded::Serializer::new(String::new()).append_pair(extra.0, extra.1).finish());
        format!("/suggestions?{q}")
    }
}

pub(crate) fn local_time(state: &WebState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.app.config.offset()).format("%Y-%m-%d %H:%M").to_string()
}

pub(crate) fn local_date(state: &WebState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.app.config.offset()).format("%Y-%m-%d").to_string()
}

/// An example reference number for placeholders: the configured prefix, this year by the clock in
/// the configured offset, number 1 (`PD-2026-0001`).
pub(crate) fn reference_example(state: &WebState) -> String {
    crate::context::reference_example(&state.app.config, state.app.clock.now(), 1)
}

fn selected(current: &str, value: &str) -> bool {
    current.trim() == value
}

async fn list(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Markup, WebError> {
    let restriction = visibility(&user)?;
    let (filter, problems) = query.filter(&state, restriction);
    let sort = query.sort();
    let page = state.app.store.inbox(&filter, sort, &query.cursor(), PAGE_SIZE).await?;
    let topics = state.app.store.topics().await?;
    let workstations = state.app.store.workstations().await?;
    let departments = state.app.store.departments().await?;
    let title = state.t("web.inbox.title");
    let t = |k: &str| state.t(k);
    let filters_query = query.filters_query();
    let export = |ext: &str| {
        if filters_query.is_empty() {
            format!("/suggestions/export.{ext}")
        } else {
            format!("/suggestions/export.{ext}?{filters_query}")
        }
    };
    let body = html! {
        h1 { (title) }
        @for p in &problems { div.banner.error role="alert" { (p) } }
        form.filters method="get" action="/suggestions/lookup" {
            label { (t("web.inbox.lookup")) input name="reference" placeholder=(reference_example(&state)) required; }
            button.secondary type="submit" { (t("web.inbox.lookup_go")) }
        }
        form.filters method="get" action="/suggestions" {
            label { (t("web.inbox.search")) input type="search" name="q" value=(query.q); }
            label { (t("web.inbox.col_topic"))
                select name="topic" {
                    option value="" { (t("web.inbox.any")) }
                    @for tp in &topics { option value=(tp.id) selected[selected(&query.topic, &tp.id.to_string())] { (tp.title) } }
                }
            }
            label { (t("web.inbox.col_state"))
                select name="state" {
                    option value="" { (t("web.inbox.any")) }
                    @for s in SuggestionState::ALL {
                        option value=(s.code()) selected[selected(&query.state, s.code())] { (t(&format!("state.{}", s.code()))) }
                    }
                }
            }
            label { (t("web.inbox.col_kind"))
                select name="kind" {
                    option value="" { (t("web.inbox.any")) }
                    @for k in SuggestionKind::ALL {
                        option value=(k.code()) selected[selected(&query.kind, k.code())] { (t(&format!("kind.{}", k.code()))) }
                    }
                }
            }
            label { (t("web.inbox.workstation"))
                select name="workstation" {
                    option value="" { (t("web.inbox.any")) }
                    @for (id, name) in &workstations { option value=(id) selected[selected(&query.workstation, &id.to_string())] { (name) } }
                }
            }
            label { (t("web.inbox.col_department"))
                select name="department" {
                    option value="" { (t("web.inbox.any")) }
                    @for d in &departments { option value=(d.id) selected[selected(&query.department, &d.id.to_string())] { (d.name) } }
                }
            }
            label.check { input type="checkbox" name="key" value="1" checked[query.key.trim() == "1"]; (t("web.inbox.key_only")) }
            label { (t("web.inbox.from")) input type="date" name="from" value=(query.from); }
            label { (t("web.inbox.to")) input type="date" name="to" value=(query.to); }
            label { (t("web.inbox.sort"))
                select name="sort" {
                    @for s in [InboxSort::Newest, InboxSort::Oldest, InboxSort::Deadline] {
                        option value=(s.as_str()) selected[sort == s] { (t(&format!("web.inbox.sort_{}", s.as_str()))) }
                    }
                }
            }
            button type="submit" { (t("web.inbox.apply")) }
            a.button.secondary href="/suggestions" { (t("web.inbox.reset")) }
        }
        p.export-links {
            a.button.secondary href=(export("csv")) { (t("web.inbox.export_csv")) } " "
            a.button.secondary href=(export("xlsx")) { (t("web.inbox.export_xlsx")) } " "
            a.button.secondary href=(if filters_query.is_empty() { "/suggestions/compilation.docx".to_string() } else { format!("/suggestions/compilation.docx?{filters_query}") }) { (t("web.inbox.export_docx")) }
            // Staff enter suggestions members gave by phone, on paper or in person (代为提交).
            @if matches!(user.user.role, Role::Admin | Role::Staff) {
                " " a.button href="/suggestions/new" { (t("web.enter.title")) }
            }
        }
        @if page.rows.is_empty() {
            p.muted { (t("web.inbox.empty")) }
        } @else {
            div.table-wrap {
                table.inbox {
                    thead { tr {
                        @for k in ["reference", "title", "member", "topic", "kind", "state", "department", "submitted", "deadline"] {
                            th { (t(&format!("web.inbox.col_{k}"))) }
                        }
                    } }
                    tbody {
                        @for r in &page.rows { (row(&state, r)) }
                    }
                }
            }
        }
        nav.pagination {
            @if page.has_prev {
                @if let Some(first) = page.rows.first() {
                    a.button.secondary rel="prev" href=(query.link(("before", &first.cursor(sort)))) { (t("web.inbox.prev")) }
                }
            }
            @if page.has_next {
                @if let Some(last) = page.rows.last() {
                    a.button.secondary rel="next" href=(query.link(("after", &last.cursor(sort)))) { (t("web.inbox.next")) }
                }
            }
        }
    };
    Ok(layout::page(&state, Some((&user.user, &user.csrf)), "/suggestions", &title, body))
}

fn row(state: &WebState, r: &InboxRow) -> Markup {
    html! {
        tr {
            td { a href=(format!("/suggestions/{}", r.id)) { (r.reference_no) } }
            td {
                @if r.key_leader.is_some() { span.state.key { (state.t("web.inbox.key_badge")) } " " }
                a href=(format!("/suggestions/{}", r.id)) { (r.title) }
            }
            td { (r.member_name) }
            td { (r.topic_title.as_deref().unwrap_or("—")) }
            td { (state.t(&format!("kind.{}", r.kind.code()))) }
            td { span.state { (state.t(&format!("state.{}", r.state.code()))) } }
            td { @if r.departments.is_empty() { "—" } @else { (r.departments) } }
            td { (local_time(state, r.created_at)) }
            td { @match r.deadline { Some(d) => (local_date(state, d)), None => "—" } }
        }
    }
}
