//! The login and logout pages: the login form with its own CSRF cookie, the password check under
//! `login_limits`' budgets, and the session and trusted-device cookies it sets.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use maud::html;
use serde::Deserialize;

use super::auth::{
    ClientAddr, DEVICE_COOKIE, LOGIN_COOKIE, MAX_PASSWORD_BYTES, MAX_USERNAME_BYTES, SESSION_COOKIE, cap_bytes,
    constant_time_eq, cookie, device_cookie, set_cookie, token_hash, trusted_device,
};
use super::forms::{Anyone, NoFields, Posted};
use super::layout;
use super::{WebError, WebState};
use crate::accounts::random_token;
use crate::store::Auditor;

fn login_form(state: &WebState, token: &str, username: &str, message: Option<&str>) -> maud::Markup {
    let title = state.t("web.login.title");
    layout::page(
        state,
        None,
        "/login",
        &title,
        html! {
            h1 { (title) }
            @if let Some(message) = message { div.banner.error role="alert" { (message) } }
            form.stack method="post" action="/login" {
                input type="hidden" name="_csrf" value=(token);
                label { (state.t("web.login.username")) input name="username" value=(username) autocomplete="username" required autofocus; }
                label { (state.t("web.login.password")) input name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { (state.t("web.login.submit")) }
            }
        },
    )
}

/// The login page, with a fresh token in a cookie and in the form (login CSRF).
pub async fn login_page(State(state): State<WebState>) -> Response {
    let token = random_token();
    let mut response = login_form(&state, &token, "", None).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, &token, 3600));
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// Checks a login. Unknown usernames are checked against a dummy hash, so the answer takes as
/// long either way; every check is first reserved with the limiter (see `login_limits`).
pub async fn login(
    State(state): State<WebState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected, &form.csrf) {
        return Err(WebError::Csrf);
    }
    let now = state.app.clock.now();
    let web = &state.app.config.web;
    let typed = form.username.trim();
    let username = cap_bytes(typed, MAX_USERNAME_BYTES).to_string();
    let plausible = typed.len() <= MAX_USERNAME_BYTES && form.password.len() <= MAX_PASSWORD_BYTES;
    let again = |message: String, status: StatusCode| {
        let token = random_token();
        let mut response = (status, login_form(&state, &token, &username, Some(&message))).into_response();
        response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, &token, 3600));
        response
    };
    let found = if plausible { state.app.store.user_for_login(&username).await? } else { None };
    // A browser this account logged in from before (its device cookie), or an address it did, has
    // a budget of its own; everyone else shares the account's and their address's.
    let device = found.as_ref().and_then(|(user, hash)| {
        let value = cookie(&headers, DEVICE_COOKIE)?;
        trusted_device(value, hash, user.id, now, web.trusted_device_days)
    });
    let keys = match (device, addr) {
        (Some(nonce), _) => vec![format!("device:{nonce}")],
        (None, Some(addr)) if state.logins.is_known(&username, addr, now) => vec![format!("known:{username}@{addr}")],
        (None, addr) => {
            let mut keys = vec![format!("user:{username}")];
            keys.extend(addr.map(|a| format!("addr:{a}")));
            keys
        }
    };
    let reservation = match state.logins.reserve(&keys, now) {
        Ok(reservation) => reservation,
        Err(until) => {
            let minutes = (until - now).num_minutes() + 1;
            tracing::info!(username = %username, "a console login waits: too many failed attempts");
            return Ok(again(state.ta("web.login.too_many", &[("minutes", &minutes)]), StatusCode::TOO_MANY_REQUESTS));
        }
    };
    let dummy = if found.is_none() { state.dummy_hash().await } else { String::new() };
    let hash = found.as_ref().map(|(_, h)| h.as_str()).unwrap_or(dummy.as_str());
    let ok = plausible && state.passwords.verify(&form.password, hash).await;
    let (user, hash) = match found {
        Some((user, hash)) if ok && user.active => (user, hash),
        _ => {
            tracing::info!(username = %username, "a console login failed");
            return Ok(again(state.t("web.login.failed"), StatusCode::UNAUTHORIZED));
        }
    };
    state.logins.give_back(reservation);
    if let Some(addr) = addr {
        state.logins.remember(&username, addr, now);
    }
    state.app.store.audit(Auditor::User(user.id), "login", "", "", now).await?;
    let mut response = Redirect::to("/").into_response();
    start_session(&state, user.id, &hash, response.headers_mut()).await?;
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, "", 0));
    Ok(response)
}

/// Signs account `user_id` in on this browser: a new session, and its session and trusted-device
/// cookies (the device cookie signed with `password_hash`, the account's current one) appended to
/// `headers`. Used at login and when someone changes their own password (which ends every session).
pub(crate) async fn start_session(
    state: &WebState,
    user_id: i64,
    password_hash: &str,
    headers: &mut HeaderMap,
) -> Result<(), WebError> {
    let web = &state.app.config.web;
    let now = state.app.clock.now();
    let token = random_token();
    let hours = web.session_hours;
    state
        .app
        .store
        .create_session(&token_hash(&token), user_id, &random_token(), now, now + Duration::hours(hours))
        .await?;
    let device = device_cookie(password_hash, user_id, now);
    headers.append(header::SET_COOKIE, set_cookie(state, SESSION_COOKIE, &token, hours * 3600));
    headers.append(header::SET_COOKIE, set_cookie(state, DEVICE_COOKIE, &device, web.trusted_device_days * 86_400));
    Ok(())
}

pub async fn logout(
    State(state): State<WebState>,
    headers: HeaderMap,
    Posted { user, .. }: Posted<NoFields, Anyone>,
) -> Result<Response, WebError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.app.store.delete_session(&token_hash(token)).await?;
    }
    state.app.store.audit(user.auditor(), "logout", "", "", state.app.clock.now()).await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    Ok(response)
}
