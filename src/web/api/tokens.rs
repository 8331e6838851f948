//! The API token page (staff and admin): list a department's tokens, create one (shown once,
//! only its SHA-256 is kept), revoke one.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use crate::store::{ApiToken, Department, Role};
use crate::web::auth::{self, CurrentUser, token_hash};
use crate::web::forms::{NoFields, Posted};
use crate::web::manage::listing::{ListPage, Slice};
use crate::web::{WebError, WebState, layout};

/// Longest token name, in characters.
pub const NAME_MAX_CHARS: usize = 60;

/// What every token starts with, so one found in a log or a repository is easy to recognise.
pub const TOKEN_PREFIX: &str = "jy_";

pub fn router() -> Router<WebState> {
    Router::new().route("/api-tokens", get(page).post(create)).route("/api-tokens/{id}/revoke", post(revoke))
}

const ROLES: &[Role] = &[Role::Admin, Role::Staff];

/// A new token: `jy_` and 32 random bytes in hex.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", crate::accounts::random_token())
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    done: String,
}

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    department: String,
    #[serde(default)]
    name: String,
}

/// What the page shows besides the list: a message, the form as typed, a token shown once.
#[derive(Default)]
struct View<'a> {
    error: Option<String>,
    ok: Option<String>,
    form: Option<&'a CreateForm>,
    created: Option<(&'a ApiToken, &'a str)>,
    /// The search and page of the token list.
    list: ListPage,
}

fn when(state: &WebState, at: Option<DateTime<Utc>>) -> String {
    match at {
        Some(at) => at.with_timezone(&state.app.config.offset()).format("%Y-%m-%d %H:%M").to_string(),
        None => state.t("web.tokens.never"),
    }
}

async fn render(state: &WebState, user: &CurrentUser, view: View<'_>) -> Result<Markup, WebError> {
    let title = state.t("web.tokens.title");
    let Slice { items: tokens, matched } =
        view.list.slice(state.app.store.api_tokens().await?, |t| format!("{} {}", t.department_name, t.name));
    let departments = state.app.store.departments().await?;
    let typed_department = view.form.map(|f| f.department.as_str()).unwrap_or("");
    let typed_name = view.form.map(|f| f.name.as_str()).unwrap_or("");
    let body = html! {
        h1 { (title) }
        p.muted { (state.t("web.tokens.intro")) " " a href="/api/openapi.json" { "/api/openapi.json" } }
        @if let Some(message) = &view.error { div.banner.error role="alert" { (message) } }
        @if let Some(message) = &view.ok { div.banner.ok role="status" { (message) } }
        @if let Some((token, secret)) = view.created {
            div.banner.ok role="status" {
                p { (state.ta("web.tokens.created_once", &[("department", &token.department_name), ("name", &token.name)])) }
                p { code.token id="new-token" { (secret) } }
                p.muted { (state.t("web.tokens.usage")) }
            }
        }
        h2 { (state.t("web.tokens.new")) }
        @if departments.is_empty() {
            p.muted { (state.t("web.tokens.no_departments")) }
        } @else {
            form.stack method="post" action="/api-tokens" {
                (auth::csrf(user))
                label {
                    (state.t("web.tokens.department"))
                    select name="department" required {
                        option value="" { (state.t("web.tokens.choose_department")) }
                        @for d in &departments {
                            @let id = d.id.to_string();
                            option value=(id) selected[id == typed_department] { (d.name) }
                        }
                    }
                }
                label {
                    (state.t("web.tokens.name"))
                    input name="name" value=(typed_name) maxlength=(NAME_MAX_CHARS) required
                        placeholder=(state.t("web.tokens.name_hint"));
                }
                button type="submit" { (state.t("web.tokens.create")) }
            }
        }
        h2 { (state.t("web.tokens.list")) }
        (view.list.search_form(state, "/api-tokens"))
        @if tokens.is_empty() {
            p.muted { (state.t("web.tokens.none")) }
        } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th { (state.t("web.tokens.department")) }
                        th { (state.t("web.tokens.name")) }
                        th { (state.t("web.tokens.created_at")) }
                        th { (state.t("web.tokens.last_used")) }
                        th { (state.t("web.tokens.status")) }
                        th {}
                    } }
                    tbody {
                        @for t in &tokens {
                            tr {
                                td { (t.department_name) }
                                td { (t.name) }
                                td { (when(state, Some(t.created_at))) }
                                td { (when(state, t.last_used_at)) }
                                td {
                                    @if t.revoked_at.is_some() {
                                        span.state { (state.ta("web.tokens.revoked_at", &[("at", &when(state, t.revoked_at))])) }
                                    } @else {
                                        span.state { (state.t("web.tokens.active")) }
                                    }
                                }
                                td {
                                    @if t.revoked_at.is_none() {
                                        form.inline method="post" action=(format!("/api-tokens/{}/revoke", t.id)) {
                                            (auth::csrf(user))
                                            button.secondary type="submit" { (state.t("web.tokens.revoke")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (view.list.pager(state, "/api-tokens", matched))
    };
    Ok(layout::page(state, Some((&user.user, &user.csrf)), "/api-tokens", &title, body))
}

pub async fn page(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(query): Query<PageQuery>,
    Query(list): Query<ListPage>,
) -> Result<Markup, WebError> {
    user.require(ROLES)?;
    let ok = (query.done == "revoked").then(|| state.t("web.tokens.revoked_ok"));
    render(&state, &user, View { ok, list, ..View::default() }).await
}

/// Checks the form; returns the department and the trimmed name, or what to fix.
fn validate(state: &WebState, form: &CreateForm, departments: &[Department]) -> Result<(Department, String), String> {
    let department = form
        .department
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| departments.iter().find(|d| d.id == id))
        .cloned()
        .ok_or_else(|| state.t("web.tokens.department_required"))?;
    let name = form.name.trim();
    if name.is_empty() {
        return Err(state.t("web.tokens.name_required"));
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(state.ta("web.tokens.name_too_long", &[("max", &NAME_MAX_CHARS)]));
    }
    Ok((department, name.to_string()))
}

pub async fn create(
    State(state): State<WebState>,
    Posted { user, form, .. }: Posted<CreateForm>,
) -> Result<Response, WebError> {
    let departments = state.app.store.departments().await?;
    let (department, name) = match validate(&state, &form, &departments) {
        Ok(v) => v,
        Err(message) => {
            let view = View { error: Some(message), form: Some(&form), ..View::default() };
            return Ok((StatusCode::BAD_REQUEST, render(&state, &user, view).await?).into_response());
        }
    };
    let now = state.app.clock.now();
    let secret = new_token();
    let token =
        state.app.store.create_api_token(department.id, &name, &token_hash(&secret), Some(user.user.id), now).await?;
    state
        .app
        .store
        .audit(user.auditor(), "api_token.create", &department.name, &format!("#{} {name}", token.id), now)
        .await?;
    let view = View { created: Some((&token, &secret)), ..View::default() };
    let mut response = render(&state, &user, view).await?.into_response();
    // The token is in this page only: no cache may keep it.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn revoke(
    State(state): State<WebState>,
    Path(id): Path<String>,
    Posted { user, .. }: Posted<NoFields>,
) -> Result<Response, WebError> {
    let Ok(id) = id.parse::<i64>() else { return Err(WebError::NotFound) };
    let Some(token) = state.app.store.api_tokens().await?.into_iter().find(|t| t.id == id) else {
        return Err(WebError::NotFound);
    };
    let now = state.app.clock.now();
    if !state.app.store.revoke_api_token(id, now).await? {
        let view = View { error: Some(state.t("web.tokens.already_revoked")), ..View::default() };
        return Ok((StatusCode::CONFLICT, render(&state, &user, view).await?).into_response());
    }
    let detail = format!("#{} {}", token.id, token.name);
    state.app.store.audit(user.auditor(), "api_token.revoke", &token.department_name, &detail, now).await?;
    Ok(Redirect::to("/api-tokens?done=revoked").into_response())
}
