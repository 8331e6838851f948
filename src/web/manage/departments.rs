//! Departments (承办单位): every way each can receive work (Telegram liaisons, console accounts, API
//! tokens) and which it has; add a department, invite a liaison to the bot.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Duration;
use maud::{Markup, html};
use serde::Deserialize;

use super::listing::{ListPage, Slice};
use super::{local, notice, page, problems, require_staff};
use crate::invite;
use crate::store::{InviteTarget, Role};
use crate::web::auth::{self, CurrentUser};
use crate::web::forms::Posted;
use crate::web::{WebError, WebState};

const NAME_MAX_CHARS: usize = 100;
const SHORT_MAX_CHARS: usize = 30;
const LIAISON_NAME_MAX_CHARS: usize = 50;

pub fn router() -> Router<WebState> {
    Router::new().route("/departments", get(list).post(add)).route("/departments/{id}/liaisons", post(invite_liaison))
}

#[derive(Deserialize, Default)]
pub struct DepartmentForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    short_name: String,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    ok: Option<String>,
}

async fn list_page(
    state: &WebState,
    user: &CurrentUser,
    f: &DepartmentForm,
    errors: &[String],
    message: Option<String>,
    lp: &ListPage,
) -> Result<Markup, WebError> {
    let liaisons = state.app.store.liaisons().await?;
    let channels = crate::web::inbox::channels(state).await?;
    let admin = user.user.role == Role::Admin;
    // A department is found by its name, short name or a liaison's name.
    let Slice { items: departments, matched } = lp.slice(state.app.store.departments().await?, |d| {
        let names: Vec<&str> = liaisons.iter().filter(|l| l.department_id == d.id).map(|l| l.name.as_str()).collect();
        format!("{} {} {}", d.name, d.short_name.as_deref().unwrap_or(""), names.join(" "))
    });
    let title = state.t("web.departments.title");
    Ok(page(
        state,
        user,
        "/departments",
        &title,
        html! {
            h1 { (title) }
            (notice(message))
            p.muted { (state.t("web.departments.ways")) }
            (lp.search_form(state, "/departments"))
            @if departments.is_empty() {
                p.muted { (state.t("web.departments.empty")) }
            } @else {
                div.table-wrap { table {
                    thead { tr {
                        th { (state.t("web.departments.col_name")) }
                        th { (state.t("web.departments.col_short")) }
                        th { (state.t("web.departments.col_liaisons")) }
                        th { (state.t("web.departments.col_accounts")) }
                        th { (state.t("web.departments.col_tokens")) }
                        th { (state.t("web.departments.col_invite")) }
                    } }
                    tbody { @for d in &departments {
                        tr {
                            @let c = channels.get(&d.id).copied().unwrap_or_default();
                            td { (d.name) }
                            td { (d.short_name.as_deref().unwrap_or("")) }
                            td {
                                @if c.bound + c.invited == 0 { span.muted { (state.t("web.departments.none")) } }
                                @for l in liaisons.iter().filter(|l| l.department_id == d.id) {
                                    div {
                                        (l.name) " "
                                        span.muted { (state.t(if l.telegram_user_id.is_some() {
                                            "web.departments.bound"
                                        } else {
                                            "web.departments.not_bound"
                                        })) }
                                    }
                                }
                            }
                            td {
                                @if c.accounts == 0 { span.muted { (state.t("web.departments.none")) } }
                                @else { (state.ta("web.departments.accounts", &[("count", &c.accounts)])) }
                                @if admin { div { a href="/users" { (state.t("web.departments.add_account")) } } }
                            }
                            td {
                                @if c.tokens == 0 { span.muted { (state.t("web.departments.none")) } }
                                @else { (state.ta("web.departments.tokens", &[("count", &c.tokens)])) }
                                div { a href="/api-tokens" { (state.t("web.departments.add_token")) } }
                            }
                            td {
                                @if !c.receives() {
                                    div { strong.warning { (state.t("web.departments.cannot_receive")) } }
                                }
                                form.inline method="post" action=(format!("/departments/{}/liaisons", d.id)) {
                                    (auth::csrf(user))
                                    input name="name" placeholder=(state.t("web.departments.liaison_name")) maxlength=(LIAISON_NAME_MAX_CHARS);
                                    " "
                                    button.secondary type="submit" { (state.t("web.departments.invite")) }
                                }
                            }
                        }
                    } }
                } }
            }
            (lp.pager(state, "/departments", matched))
            h2 { (state.t("web.departments.add_title")) }
            (problems(errors))
            form.stack method="post" action="/departments" {
                (auth::csrf(user))
                label { (state.t("web.departments.field_name")) input name="name" value=(f.name) required maxlength=(NAME_MAX_CHARS); }
                label { (state.t("web.departments.field_short")) input name="short_name" value=(f.short_name) maxlength=(SHORT_MAX_CHARS); }
                div { button type="submit" { (state.t("web.departments.add")) } }
            }
        },
    ))
}

async fn list(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(done): Query<Done>,
    Query(lp): Query<ListPage>,
) -> Result<Markup, WebError> {
    require_staff(&user)?;
    let message = match done.ok.as_deref() {
        Some("added") => Some(state.t("web.departments.added")),
        _ => None,
    };
    list_page(&state, &user, &DepartmentForm::default(), &[], message, &lp).await
}

async fn add(
    State(state): State<WebState>,
    Posted { user, form: f, .. }: Posted<DepartmentForm>,
) -> Result<Response, WebError> {
    let name = f.name.trim();
    let short = f.short_name.trim();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(state.t("web.departments.name_empty"));
    } else if name.chars().count() > NAME_MAX_CHARS {
        errors.push(state.ta("web.departments.name_too_long", &[("max", &NAME_MAX_CHARS)]));
    } else if state.app.store.department_by_name(name).await?.is_some_and(|d| d.name == name) {
        errors.push(state.ta("web.departments.name_taken", &[("name", &name)]));
    }
    if short.chars().count() > SHORT_MAX_CHARS {
        errors.push(state.ta("web.departments.short_too_long", &[("max", &SHORT_MAX_CHARS)]));
    }
    if !errors.is_empty() {
        let markup = list_page(&state, &user, &f, &errors, None, &ListPage::default()).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response());
    }
    let short = (!short.is_empty()).then_some(short);
    let department = state.app.store.add_department(name, short).await?;
    let now = state.app.clock.now();
    let target = format!("department:{}", department.id);
    state.app.store.audit(user.auditor(), "department.create", &target, &department.name, now).await?;
    Ok(Redirect::to("/departments?ok=added").into_response())
}

#[derive(Deserialize, Default)]
pub struct LiaisonForm {
    #[serde(default)]
    name: String,
}

/// The invite code and its link, shown once: only its hash is kept. Without the bot's username
/// there is no link; `viewer` decides whether the page also says where to set it (admins only).
pub(super) fn invite_shown(
    state: &WebState,
    viewer: &CurrentUser,
    who: &str,
    code: &str,
    expires: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let username = state.app.config.telegram.bot_username.trim().trim_start_matches('@');
    html! {
        div.banner.ok role="status" {
            p { (state.ta("web.invite.created", &[("who", &who)])) }
            p { (state.t("web.invite.code")) " " strong.code { (code) } }
            @if username.is_empty() {
                p.muted { (state.t("web.invite.no_link")) }
                p.muted {
                    @if viewer.user.role == Role::Admin {
                        (state.t("web.invite.no_link_fix_admin"))
                    } @else {
                        (state.t("web.invite.no_link_fix_staff"))
                    }
                }
            } @else {
                p { (state.t("web.invite.link")) " " code { (invite::deep_link(username, code)) } }
            }
            p.muted { (state.ta("web.invite.once", &[("expires", &local(state, expires, "%Y-%m-%d %H:%M"))])) }
        }
    }
}

/// A new invite code for `target`, stored hashed; returns the code and when it expires.
pub(super) async fn new_invite(
    state: &WebState,
    target: InviteTarget,
) -> Result<(String, chrono::DateTime<chrono::Utc>), WebError> {
    let code = invite::generate(&mut rand::thread_rng());
    let now = state.app.clock.now();
    let expires = now + Duration::days(state.app.config.invites.ttl_days);
    state.app.store.create_invite_for(target, &invite::hash(&code), now, expires).await?;
    Ok((code, expires))
}

async fn invite_liaison(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    Posted { user, form: f, .. }: Posted<LiaisonForm>,
) -> Result<Response, WebError> {
    let department = state.app.store.department(id).await?.ok_or(WebError::NotFound)?;
    let default_name = state.t("cli.default_liaison_name");
    let name = match f.name.trim() {
        "" => default_name.as_str(),
        n => n,
    };
    if name.chars().count() > LIAISON_NAME_MAX_CHARS {
        let error = state.ta("web.departments.liaison_name_too_long", &[("max", &LIAISON_NAME_MAX_CHARS)]);
        let markup = list_page(&state, &user, &DepartmentForm::default(), &[error], None, &ListPage::default()).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response());
    }
    let now = state.app.clock.now();
    let liaison = state.app.store.add_liaison(department.id, name, now).await?;
    let (code, expires) = new_invite(&state, InviteTarget::Liaison(liaison.id)).await?;
    let detail = format!("{} | {}", liaison.name, department.name);
    state.app.store.audit(user.auditor(), "liaison.invite", &format!("liaison:{}", liaison.id), &detail, now).await?;
    let who = state.ta("cli.who_liaison", &[("name", &liaison.name), ("department", &department.name)]);
    let title = state.t("web.invite.title");
    let body = html! {
        h1 { (title) }
        (invite_shown(&state, &user, &who, &code, expires))
        p { a href="/departments" { (state.t("web.departments.back")) } }
    };
    let markup = page(&state, &user, "/departments", &title, body);
    // The code is shown once: no copy of the page is kept.
    Ok(([(header::CACHE_CONTROL, "no-store")], markup).into_response())
}
