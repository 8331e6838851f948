//! Console accounts (admin only): create, deactivate and reactivate, reset passwords; the audit log.
//! Every account changes its own password at `/account/password`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;

use super::listing::{ListPage, Slice};
use super::{notice, page, problems};
use crate::store::{NewUser, Role};
use crate::web::auth::{self, CurrentUser};
use crate::web::forms::{Admin, Anyone, Posted};
use crate::web::{WebError, WebState};

const USERNAME_MAX_CHARS: usize = 32;
const NAME_MAX_CHARS: usize = 50;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}/active", post(set_active))
        .route("/users/{id}/password", post(reset_password))
        .route("/audit", get(super::audit::audit))
        .route("/account/password", get(own_password_page).post(change_own_password))
}

fn require_admin(user: &CurrentUser) -> Result<(), WebError> {
    user.require(&[Role::Admin])
}

#[derive(Deserialize, Default)]
pub struct UserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    ok: Option<String>,
}

fn role_label(state: &WebState, role: Role) -> String {
    state.t(&format!("cli.role_{}", role.as_str()))
}

async fn list_page(
    state: &WebState,
    user: &CurrentUser,
    f: &UserForm,
    errors: &[String],
    message: Option<String>,
    lp: &ListPage,
) -> Result<Markup, WebError> {
    let Slice { items: users, matched } = lp.slice(state.app.store.users().await?, |u| {
        format!("{} {} {}", u.username, u.name, u.department_name.as_deref().unwrap_or(""))
    });
    let departments = state.app.store.departments().await?;
    let title = state.t("web.users.title");
    Ok(page(
        state,
        user,
        "/users",
        &title,
        html! {
            h1 { (title) }
            (notice(message))
            (lp.search_form(state, "/users"))
            div.table-wrap { table {
                thead { tr {
                    th { (state.t("web.users.col_username")) }
                    th { (state.t("web.users.col_name")) }
                    th { (state.t("web.users.col_role")) }
                    th { (state.t("web.users.col_status")) }
                    th { (state.t("web.users.col_actions")) }
                } }
                tbody { @for u in &users {
                    tr {
                        td { (u.username) }
                        td { (u.name) }
                        td {
                            (role_label(state, u.role))
                            @if let Some(d) = &u.department_name { " · " (d) }
                        }
                        td { (state.t(if u.active { "web.users.active" } else { "web.users.inactive" })) }
                        td {
                            @if u.id != user.user.id {
                                form.inline method="post" action=(format!("/users/{}/active", u.id)) {
                                    (auth::csrf(user))
                                    @if u.active {
                                        input type="hidden" name="active" value="false";
                                        button.secondary type="submit" { (state.t("web.users.deactivate")) }
                                    } @else {
                                        input type="hidden" name="active" value="true";
                                        button.secondary type="submit" { (state.t("web.users.reactivate")) }
                                    }
                                }
                                " "
                            }
                            form.inline method="post" action=(format!("/users/{}/password", u.id)) {
                                (auth::csrf(user))
                                input type="password" name="password" autocomplete="new-password"
                                    placeholder=(state.t("web.users.new_password")) required;
                                " "
                                button.secondary type="submit" { (state.t("web.users.reset")) }
                            }
                        }
                    }
                } }
            } }
            (lp.pager(state, "/users", matched))
            h2 { (state.t("web.users.add_title")) }
            (problems(errors))
            form.stack method="post" action="/users" {
                (auth::csrf(user))
                label { (state.t("web.users.col_username")) input name="username" value=(f.username) required maxlength=(USERNAME_MAX_CHARS) autocomplete="off"; }
                label { (state.t("web.users.col_name")) input name="name" value=(f.name) required maxlength=(NAME_MAX_CHARS); }
                label { (state.t("web.users.col_role"))
                    select name="role" required {
                        @for r in [Role::Staff, Role::Department, Role::Admin] {
                            option value=(r.as_str()) selected[f.role == r.as_str()] { (role_label(state, r)) }
                        }
                    }
                }
                label { (state.t("web.users.field_department"))
                    select name="department" {
                        option value="" { (state.t("web.users.no_department")) }
                        @for d in &departments {
                            option value=(d.id) selected[f.department == d.id.to_string()] { (d.name) }
                        }
                    }
                }
                label { (state.t("web.users.field_password")) input type="password" name="password" required autocomplete="new-password"; }
                p.muted { (state.t("web.users.password_rule")) }
                div { button type="submit" { (state.t("web.users.add")) } }
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
    require_admin(&user)?;
    let message = match done.ok.as_deref() {
        Some("created") => Some(state.t("web.users.created")),
        Some("deactivated") => Some(state.t("web.users.deactivated")),
        Some("reactivated") => Some(state.t("web.users.reactivated")),
        Some("password") => Some(state.t("web.users.password_reset")),
        Some("own_password") => Some(state.t("web.users.own_password_changed")),
        _ => None,
    };
    list_page(&state, &user, &UserForm::default(), &[], message, &lp).await
}

fn username_ok(s: &str) -> bool {
    let n = s.chars().count();
    (2..=USERNAME_MAX_CHARS).contains(&n)
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

async fn create(
    State(state): State<WebState>,
    Posted { user, form: mut f, .. }: Posted<UserForm, Admin>,
) -> Result<Response, WebError> {
    let password = std::mem::take(&mut f.password);
    let username = f.username.trim().to_string();
    let name = f.name.trim().to_string();
    let mut errors = Vec::new();
    if !username_ok(&username) {
        errors.push(state.ta("web.users.bad_username", &[("max", &USERNAME_MAX_CHARS)]));
    }
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        errors.push(state.ta("web.users.bad_name", &[("max", &NAME_MAX_CHARS)]));
    }
    let role = Role::parse(&f.role);
    let mut department_id = None;
    match role {
        None => errors.push(state.t("web.users.bad_role")),
        Some(Role::Department) => match f.department.parse::<i64>() {
            Ok(id) if state.app.store.department(id).await?.is_some() => department_id = Some(id),
            _ => errors.push(state.t("web.users.department_missing")),
        },
        Some(_) if !f.department.is_empty() => errors.push(state.t("web.users.department_not_for_role")),
        Some(_) => {}
    }
    if !crate::accounts::password_is_acceptable(&password) {
        errors.push(state.t("web.users.weak_password"));
    }
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        let markup = list_page(&state, &user, &f, &errors, None, &ListPage::default()).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response());
    };
    let password_hash = state.passwords.hash(&password).await?;
    let now = state.app.clock.now();
    let new = NewUser { username: username.clone(), name, role, department_id, password_hash };
    let Some(created) = state.app.store.add_user(new, now).await? else {
        let errors = [state.ta("cli.username_taken", &[("username", &username)])];
        let markup = list_page(&state, &user, &f, &errors, None, &ListPage::default()).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response());
    };
    let detail = format!("{} | {}", created.username, role.as_str());
    state.app.store.audit(user.auditor(), "user.create", &format!("user:{}", created.id), &detail, now).await?;
    Ok(Redirect::to("/users?ok=created").into_response())
}

#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
}

async fn set_active(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    Posted { user, form: f, .. }: Posted<ActiveForm, Admin>,
) -> Result<Response, WebError> {
    let target = state.app.store.user(id).await?.ok_or(WebError::NotFound)?;
    let active = match f.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(WebError::BadRequest(state.t("web.users.bad_request"))),
    };
    if !active && id == user.user.id {
        return Err(WebError::BadRequest(state.t("web.users.not_yourself")));
    }
    let now = state.app.clock.now();
    state.app.store.set_user_active(id, active, now).await?;
    if !active {
        state.app.store.delete_sessions_of(id).await?;
    }
    let action = if active { "user.reactivate" } else { "user.deactivate" };
    state.app.store.audit(user.auditor(), action, &format!("user:{id}"), &target.username, now).await?;
    let done = if active { "reactivated" } else { "deactivated" };
    Ok(Redirect::to(&format!("/users?ok={done}")).into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn reset_password(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    Posted { user, form: f, .. }: Posted<PasswordForm, Admin>,
) -> Result<Response, WebError> {
    let target = state.app.store.user(id).await?.ok_or(WebError::NotFound)?;
    if !crate::accounts::password_is_acceptable(&f.password) {
        let errors = [state.ta("web.users.weak_password_for", &[("username", &target.username)])];
        let markup = list_page(&state, &user, &UserForm::default(), &errors, None, &ListPage::default()).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response());
    }
    let now = state.app.clock.now();
    let hash = state.passwords.hash(&f.password).await?;
    // Every session of the account ends with its old password (`set_password`), this one too.
    state.app.store.set_password(id, &hash, now).await?;
    state.app.store.audit(user.auditor(), "user.password_reset", &format!("user:{id}"), &target.username, now).await?;
    if id != user.user.id {
        return Ok(Redirect::to("/users?ok=password").into_response());
    }
    // One's own password: signed in again on this browser, and told so.
    let mut response = Redirect::to("/users?ok=own_password").into_response();
    crate::web::login::start_session(&state, id, &hash, response.headers_mut()).await?;
    Ok(response)
}

#[derive(Deserialize, Default)]
pub struct OwnPasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

/// The page where anyone signed in changes their own password; `message` says it was done.
fn own_password_form(state: &WebState, user: &CurrentUser, errors: &[String], message: Option<String>) -> Markup {
    let title = state.t("web.account.title");
    let body = html! {
        h1 { (title) }
        (notice(message))
        (problems(errors))
        p.muted { (state.t("web.account.intro")) }
        form.stack method="post" action="/account/password" {
            (auth::csrf(user))
            label { (state.t("web.account.current")) input type="password" name="current" autocomplete="current-password" required; }
            label { (state.t("web.account.new")) input type="password" name="password" autocomplete="new-password" required; }
            label { (state.t("web.account.repeat")) input type="password" name="repeat" autocomplete="new-password" required; }
            p.muted { (state.t("web.users.password_rule")) }
            div { button type="submit" { (state.t("web.account.submit")) } }
        }
    };
    page(state, user, "/account/password", &title, body)
}

async fn own_password_page(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(done): Query<Done>,
) -> Result<Markup, WebError> {
    let message = (done.ok.as_deref() == Some("changed")).then(|| state.t("web.users.own_password_changed"));
    Ok(own_password_form(&state, &user, &[], message))
}

/// Changes the signed-in account's password after checking the current one. Every session ends
/// with the old password (`set_password`); this browser is signed in again and told so.
async fn change_own_password(
    State(state): State<WebState>,
    Posted { user, form: f, .. }: Posted<OwnPasswordForm, Anyone>,
) -> Result<Response, WebError> {
    let stored = state.app.store.user_for_login(&user.user.username).await?;
    let dummy = if stored.is_none() { state.dummy_hash().await } else { String::new() };
    let hash = stored.as_ref().map(|(_, h)| h.as_str()).unwrap_or(dummy.as_str());
    let current_ok = f.current.len() <= auth::MAX_PASSWORD_BYTES && state.passwords.verify(&f.current, hash).await;
    let mut errors = Vec::new();
    if !current_ok || stored.is_none() {
        errors.push(state.t("web.account.wrong_current"));
    } else if !crate::accounts::password_is_acceptable(&f.password) {
        errors.push(state.t("web.users.weak_password"));
    } else if f.password != f.repeat {
        errors.push(state.t("web.account.mismatch"));
    }
    if !errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, own_password_form(&state, &user, &errors, None)).into_response());
    }
    let now = state.app.clock.now();
    let id = user.user.id;
    let hash = state.passwords.hash(&f.password).await?;
    state.app.store.set_password(id, &hash, now).await?;
    state
        .app
        .store
        .audit(user.auditor(), "user.password_reset", &format!("user:{id}"), &user.user.username, now)
        .await?;
    let mut response = Redirect::to("/account/password?ok=changed").into_response();
    crate::web::login::start_session(&state, id, &hash, response.headers_mut()).await?;
    Ok(response)
}
