//! The member roster: list with filters, CSV import with a per-row report, invites, and the members
//! who blocked the bot.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::departments::{invite_shown, new_invite};
use super::{local, page, require_staff};
use crate::bounds::clip;
use crate::domain::MemberLevel;
use crate::roster::{self, RowError};
use crate::store::reports::MemberFilter;
use crate::store::{InviteTarget, Member, RosterRow};
use crate::web::auth::{self, CurrentUser};
use crate::web::forms::{NoFields, Posted};
use crate::web::{WebError, WebState};

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/members", get(list))
        .route("/members/import", get(import_form).post(import))
        .route("/members/unreachable", get(unreachable))
        .route("/members/{id}/invite", post(invite))
}

/// Members on one page of the roster.
const PAGE_SIZE: usize = 100;
/// Longest search text, in characters (names are at most 50, member numbers 32).
const SEARCH_MAX_CHARS: usize = 50;

#[derive(Deserialize, Default)]
pub struct Filter {
    /// Text inside the name, the member number or the phone.
    #[serde(default)]
    q: String,
    #[serde(default)]
    workstation: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    sector: String,
    /// `yes`: bound to Telegram; `no`: not yet.
    #[serde(default)]
    bound: String,
    /// `yes`: only members who blocked the bot.
    #[serde(default)]
    unreachable: String,
    /// The member number the page starts after.
    #[serde(default)]
    after: String,
}

impl Filter {
    fn store_filter(&self) -> MemberFilter {
        let text = |s: &str| Some(clip(s.trim(), SEARCH_MAX_CHARS)).filter(|s| !s.is_empty());
        MemberFilter {
            search: clip(self.q.trim(), SEARCH_MAX_CHARS),
            workstation: text(&self.workstation),
            level: MemberLevel::parse(&self.level),
            sector: text(&self.sector),
            bound: match self.bound.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            unreachable_only: self.unreachable == "yes",
        }
    }

    /// The filters as a query string (without the page position).
    fn query(&self) -> String {
        let enc = |s: &str| {
            url::form_urlencoded::byte_serialize(clip(s.trim(), SEARCH_MAX_CHARS).as_bytes()).collect::<String>()
        };
        [
            ("q", &self.q),
            ("workstation", &self.workstation),
            ("level", &self.level),
            ("sector", &self.sector),
            ("bound", &self.bound),
            ("unreachable", &self.unreachable),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// The member table, with an invite button on each row.
fn member_table(
    state: &WebState,
    user: &CurrentUser,
    members: &[&Member],
    unreachable: &HashMap<i64, DateTime<Utc>>,
) -> Markup {
    html! {
        div.table-wrap { table {
            thead { tr {
                th { (state.t("web.members.col_no")) }
                th { (state.t("web.members.col_name")) }
                th { (state.t("web.members.col_level")) }
                th { (state.t("web.members.col_workstation")) }
                th { (state.t("web.members.col_sector")) }
                th { (state.t("web.members.col_telegram")) }
                th { (state.t("web.members.col_invite")) }
            } }
            tbody { @for m in members {
                tr {
                    td { (m.member_no) }
                    td { (m.name) @if !m.active { " " span.muted { (state.t("web.members.inactive")) } } }
                    td { (m.level.label()) }
                    td { (m.workstation.as_deref().unwrap_or("")) }
                    td { (m.sector) }
                    td {
                        @if let Some(since) = unreachable.get(&m.id) {
                            span.state.bad { (state.ta("web.members.unreachable_since", &[("since", &local(state, *since, "%Y-%m-%d"))])) }
                        } @else if m.telegram_user_id.is_some() {
                            span.state { (state.t("web.members.bound")) }
                        } @else {
                            span.muted { (state.t("web.members.not_bound")) }
                        }
                    }
                    td {
                        form.inline method="post" action=(format!("/members/{}/invite", m.id)) {
                            (auth::csrf(user))
                            button.secondary type="submit" { (state.t("web.members.invite")) }
                        }
                    }
                }
            } }
        } }
    }
}

async fn list(State(state): State<WebState>, user: CurrentUser, Query(f): Query<Filter>) -> Result<Markup, WebError> {
    require_staff(&user)?;
    let store = &state.app.store;
    let filter = f.store_filter();
    let after = Some(clip(f.after.trim(), SEARCH_MAX_CHARS)).filter(|s| !s.is_empty());
    let mut members = store.members_page(&filter, after.as_deref(), PAGE_SIZE + 1).await?;
    let more = members.len() > PAGE_SIZE;
    members.truncate(PAGE_SIZE);
    let counts = store.member_counts().await?;
    let matching = store.count_members(&filter).await?;
    let unreachable: HashMap<i64, DateTime<Utc>> =
        store.unreachable_members().await?.into_iter().map(|(m, at)| (m.id, at)).collect();
    let (workstations, sectors) = store.roster_facets().await?;
    let shown: Vec<&Member> = members.iter().collect();
    let query = f.query();
    let link = |after: Option<&str>| {
        let mut parts: Vec<String> = Vec::new();
        if !query.is_empty() {
            parts.push(query.clone());
        }
        if let Some(a) = after {
            parts.push(format!("after={}", url::form_urlencoded::byte_serialize(a.as_bytes()).collect::<String>()));
        }
        if parts.is_empty() { "/members".to_string() } else { format!("/members?{}", parts.join("&")) }
    };
    let next = members.last().filter(|_| more).map(|m| link(Some(m.member_no.as_str())));
    let title = state.t("web.members.title");
    let body = html! {
        h1 { (title) }
        p {
            (state.ta("web.members.summary", &[("total", &counts.total), ("bound", &counts.bound), ("unreachable", &counts.unreachable)]))
        }
        p {
            a.button href="/members/import" { (state.t("web.members.import")) } " "
            a.button.secondary href="/members/unreachable" { (state.t("web.members.unreachable_title")) }
        }
        form.filters method="get" action="/members" {
            label { (state.t("web.members.search")) input type="search" name="q" value=(clip(f.q.trim(), SEARCH_MAX_CHARS)) maxlength=(SEARCH_MAX_CHARS); }
            label { (state.t("web.members.col_workstation"))
                select name="workstation" {
                    option value="" { (state.t("web.members.any")) }
                    @for w in &workstations { option value=(w) selected[f.workstation == *w] { (w) } }
                }
            }
            label { (state.t("web.members.col_level"))
                select name="level" {
                    option value="" { (state.t("web.members.any")) }
                    @for l in MemberLevel::ALL { option value=(l.code()) selected[MemberLevel::parse(&f.level) == Some(*l)] { (l.label()) } }
                }
            }
            label { (state.t("web.members.col_sector"))
                select name="sector" {
                    option value="" { (state.t("web.members.any")) }
                    @for s in &sectors { option value=(s) selected[f.sector == *s] { (s) } }
                }
            }
            label { (state.t("web.members.col_telegram"))
                select name="bound" {
                    option value="" { (state.t("web.members.any")) }
                    option value="yes" selected[f.bound == "yes"] { (state.t("web.members.bound")) }
                    option value="no" selected[f.bound == "no"] { (state.t("web.members.not_bound")) }
                }
            }
            label.check { input type="checkbox" name="unreachable" value="yes" checked[f.unreachable == "yes"]; (state.t("web.members.only_unreachable")) }
            button type="submit" { (state.t("web.members.filter")) }
        }
        p.muted { (state.ta("web.members.shown", &[("count", &matching)])) }
        @if shown.is_empty() {
            p.muted { (state.t("web.members.none")) }
        } @else {
            (member_table(&state, &user, &shown, &unreachable))
        }
        nav.pager {
            @if after.is_some() { a href=(link(None)) { (state.t("web.members.first_page")) } " " }
            @if let Some(href) = next { a rel="next" href=(href) { (state.t("web.members.next_page")) } }
        }
    };
    Ok(page(&state, &user, "/members", &title, body))
}

async fn unreachable(State(state): State<WebState>, user: CurrentUser) -> Result<Markup, WebError> {
    require_staff(&user)?;
    let list = state.app.store.unreachable_members().await?;
    let title = state.t("web.members.unreachable_title");
    let body = html! {
        h1 { (title) }
        p.muted { (state.t("web.members.unreachable_hint")) }
        @if list.is_empty() {
            p { (state.t("cli.unreachable_none")) }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th { (state.t("web.members.col_no")) }
                    th { (state.t("web.members.col_name")) }
                    th { (state.t("web.members.col_workstation")) }
                    th { (state.t("web.members.col_phone")) }
                    th { (state.t("web.members.col_since")) }
                } }
                tbody { @for (m, since) in &list {
                    tr {
                        td { (m.member_no) }
                        td { (m.name) }
                        td { (m.workstation.as_deref().unwrap_or("")) }
                        td { (m.phone) }
                        td { (local(&state, *since, "%Y-%m-%d %H:%M")) }
                    }
                } }
            } }
        }
        p { a href="/members" { (state.t("web.members.back")) } }
    };
    Ok(page(&state, &user, "/members", &title, body))
}

fn import_page(state: &WebState, user: &CurrentUser, report: Option<Markup>) -> Markup {
    let title = state.t("web.members.import_title");
    let body = html! {
        h1 { (title) }
        @if let Some(report) = report { (report) }
        p.muted { (state.t("web.members.import_hint")) }
        form.stack method="post" action="/members/import" enctype="multipart/form-data" {
            (auth::csrf(user))
            label { (state.t("web.members.file")) input type="file" name="file" accept=".csv,text/csv" required; }
            label.check { input type="checkbox" name="skip_invalid" value="on"; (state.t("web.members.skip_invalid")) }
            div {
                button type="submit" { (state.t("web.members.import_submit")) } " "
                a.button.secondary href="/members" { (state.t("web.manage.cancel")) }
            }
        }
    };
    page(state, user, "/members", &title, body)
}

async fn import_form(State(state): State<WebState>, user: CurrentUser) -> Result<Markup, WebError> {
    require_staff(&user)?;
    Ok(import_page(&state, &user, None))
}

/// Every problem found, one row each, with its line in the file.
fn problem_table(state: &WebState, errors: &[RowError]) -> Markup {
    html! {
        div.table-wrap { table.problems {
            thead { tr { th { (state.t("web.members.col_line")) } th { (state.t("web.members.col_problem")) } } }
            tbody { @for e in errors {
                tr {
                    td { @if e.line > 0 { (e.line) } }
                    // The problem alone: its line is in the first column.
                    td { (RowError { line: 0, problem: e.problem.clone() }.render(&state.app.texts, state.lang())) }
                }
            } }
        } }
    }
}

async fn import(
    State(state): State<WebState>,
    user: CurrentUser,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    require_staff(&user)?;
    let (mut csrf, mut bytes, mut skip_invalid) = (String::new(), None, false);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| WebError::BadRequest(state.ta("web.members.upload_failed", &[("error", &e)])))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let data = field
            .bytes()
            .await
            .map_err(|e| WebError::BadRequest(state.ta("web.members.upload_failed", &[("error", &e)])))?;
        match name.as_str() {
            "_csrf" => csrf = String::from_utf8_lossy(&data).into_owned(),
            "file" => bytes = Some(data),
            "skip_invalid" => skip_invalid = !data.is_empty(),
            _ => {}
        }
    }
    user.check_csrf(&csrf)?;
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        let report = html! { div.banner.error role="alert" { (state.t("web.members.no_file")) } };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, import_page(&state, &user, Some(report))).into_response());
    };
    let parsed = roster::parse(&bytes);
    let file_level = parsed.rows.is_empty();
    if !parsed.errors.is_empty() && (!skip_invalid || file_level) {
        let hint = if file_level || skip_invalid { "web.members.import_fix" } else { "web.members.import_hint_skip" };
        let report = html! {
            div.banner.error role="alert" {
                p { (state.ta("web.members.import_failed", &[("count", &parsed.errors.len())])) }
                p { (state.t(hint)) }
            }
            (problem_table(&state, &parsed.errors))
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, import_page(&state, &user, Some(report))).into_response());
    }
    let now = state.app.clock.now();
    // Rows equal to the member as stored are "unchanged", not "updated".
    let before: HashMap<String, RosterRow> =
        state.app.store.roster_rows().await?.into_iter().map(|r| (r.member_no.as_str().to_string(), r)).collect();
    let unchanged = parsed.rows.iter().filter(|r| before.get(r.member_no.as_str()) == Some(*r)).count();
    let summary = state.app.store.import_members(&parsed.rows, now).await?;
    let updated = summary.updated.saturating_sub(unchanged);
    let detail = format!(
        "inserted {}, updated {}, workstations created {}, rows skipped {}",
        summary.inserted,
        summary.updated,
        summary.workstations_created,
        parsed.errors.len()
    );
    state.app.store.audit(user.auditor(), "members.import", "roster", &detail, now).await?;
    let title = state.t("web.members.import_result_title");
    let body = html! {
        h1 { (title) }
        div.banner.ok role="status" {
            (state.ta("web.members.import_result", &[
                ("inserted", &summary.inserted),
                ("updated", &updated),
                ("unchanged", &unchanged),
                ("refused", &parsed.errors.len()),
            ]))
            @if summary.workstations_created > 0 {
                " " (state.ta("web.members.import_workstations", &[("count", &summary.workstations_created)]))
            }
        }
        @if !parsed.errors.is_empty() {
            h2 { (state.ta("web.members.import_refused", &[("count", &parsed.errors.len())])) }
            (problem_table(&state, &parsed.errors))
        }
        p {
            a.button href="/members" { (state.t("web.members.to_roster")) } " "
            a.button.secondary href="/members/import" { (state.t("web.members.import_another")) }
        }
    };
    Ok(page(&state, &user, "/members", &title, body).into_response())
}

async fn invite(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    Posted { user, .. }: Posted<NoFields>,
) -> Result<Response, WebError> {
    let member = state.app.store.member_by_id(id).await?.ok_or(WebError::NotFound)?;
    let (code, expires) = new_invite(&state, InviteTarget::Member(member.id)).await?;
    let now = state.app.clock.now();
    state.app.store.audit(user.auditor(), "member.invite", &format!("member:{}", member.member_no), "", now).await?;
    let who = format!("{}（{}）", member.name, member.member_no);
    let title = state.t("web.invite.title");
    let body = html! {
        h1 { (title) }
        (invite_shown(&state, &user, &who, &code, expires))
        p { a href="/members" { (state.t("web.members.back")) } }
    };
    let markup = page(&state, &user, "/members", &title, body);
    Ok(([(header::CACHE_CONTROL, "no-store")], markup).into_response())
}
