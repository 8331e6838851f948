//! Logging in and out: sessions in the database, CSRF tokens on every
//! form, and the password-check budgets of `login_limits` with trusted-device cookies.

use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use maud::html;
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use super::client::ClientAddr;
use super::forms::{Anyone, NoFields, Posted};
use super::layout::{self, csrf_field};
use super::{WebError, WebState};
/// Password code lives in `crate::accounts`; these two names stay here for tests and benches.
pub use crate::accounts::{hash_password, random_token};
use crate::store::{Auditor, Role, User};

pub const SESSION_COOKIE: &str = "jianyan_session";
const LOGIN_COOKIE: &str = "jianyan_login";
/// The trusted-device cookie (OWASP's device cookie): `<issued unix secs>.<nonce>.<signature>`.
pub const DEVICE_COOKIE: &str = "jianyan_device";
/// Longest username, in bytes, that reaches the limiter, the database or the log; longer ones
/// cannot be an account's and fail at once.
pub const MAX_USERNAME_BYTES: usize = 64;
/// Longest password, in bytes, that is hashed (accounts allow 128 characters, 512 bytes).
pub const MAX_PASSWORD_BYTES: usize = 1024;

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `s` cut to at most `max` bytes, at a character boundary.
pub fn cap_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

type HmacSha256 = Hmac<Sha256>;

/// The signature of a device cookie: HMAC-SHA256 keyed with the account's password hash (secret to
/// the server, and changed with the password, which so revokes every trusted device).
fn device_signature(password_hash: &str, user_id: i64, issued: i64, nonce: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(password_hash.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("jianyan-device\0{user_id}\0{issued}\0{nonce}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A new device cookie value for the account.
pub fn device_cookie(password_hash: &str, user_id: i64, now: DateTime<Utc>) -> String {
    let nonce = &random_token()[..32];
    let issued = now.timestamp();
    format!("{issued}.{nonce}.{}", device_signature(password_hash, user_id, issued, nonce))
}

/// The nonce of a device cookie, if it was issued to this account within `days` days.
pub fn trusted_device(value: &str, password_hash: &str, user_id: i64, now: DateTime<Utc>, days: i64) -> Option<String> {
    let mut parts = value.splitn(3, '.');
    let (issued, nonce, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let issued: i64 = issued.parse().ok()?;
    let age = now.timestamp().saturating_sub(issued);
    let fresh = age < days.saturating_mul(86_400) && age >= -60;
    let valid = constant_time_eq(&device_signature(password_hash, user_id, issued, nonce), signature);
    (fresh && valid && !nonce.is_empty()).then(|| nonce.to_string())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(state: &WebState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.app.config.web.secure_cookies { "; Secure" } else { "" };
    let v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The logged-in person, from the session cookie. Pages that need one take this as an argument.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub csrf: String,
}

impl CurrentUser {
    pub fn require(&self, roles: &[Role]) -> Result<(), WebError> {
        if roles.contains(&self.user.role) { Ok(()) } else { Err(WebError::Forbidden) }
    }

    /// Checks a submitted form's `_csrf` field against the session's token.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        if constant_time_eq(submitted, &self.csrf) { Ok(()) } else { Err(WebError::Csrf) }
    }

    pub fn auditor(&self) -> Auditor {
        Auditor::User(self.user.id)
    }
}

impl FromRequestParts<WebState> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(WebError::Unauthenticated) };
        match state.app.store.session(&token_hash(token), state.app.clock.now()).await? {
            Some(session) => Ok(CurrentUser { user: session.user, csrf: session.csrf_token }),
            None => Err(WebError::Unauthenticated),
        }
    }
}

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
    let hash = found.as_ref().map(|(_, h)| h.as_str()).unwrap_or(state.dummy_hash.as_str());
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
    let token = random_token();
    let hours = web.session_hours;
    state
        .app
        .store
        .create_session(&token_hash(&token), user.id, &random_token(), now, now + Duration::hours(hours))
        .await?;
    state.app.store.audit(Auditor::User(user.id), "login", "", "", now).await?;
    let mut response = Redirect::to("/").into_response();
    let device = device_cookie(&hash, user.id, now);
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, &token, hours * 3600));
    h.append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, "", 0));
    h.append(header::SET_COOKIE, set_cookie(&state, DEVICE_COOKIE, &device, web.trusted_device_days * 86_400));
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    pub csrf: String,
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

/// The hidden CSRF field for the current user's forms.
pub fn csrf(user: &CurrentUser) -> maud::Markup {
    csrf_field(&user.csrf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_cookies_are_bound_to_the_account_its_password_and_their_age() {
        let t = Utc::now();
        let hash = hash_password("Correct-horse-9").unwrap();
        let value = device_cookie(&hash, 7, t);
        assert!(trusted_device(&value, &hash, 7, t, 90).is_some());
        assert!(trusted_device(&value, &hash, 8, t, 90).is_none(), "another account");
        let new_hash = hash_password("Correct-horse-10").unwrap();
        assert!(trusted_device(&value, &new_hash, 7, t, 90).is_none(), "the password changed");
        assert!(trusted_device(&value, &hash, 7, t + Duration::days(91), 90).is_none(), "too old");
        let forged = format!("{}.{}", &value[..value.rfind('.').unwrap()], "0".repeat(64));
        assert!(trusted_device(&forged, &hash, 7, t, 90).is_none());
        assert!(trusted_device("-9223372036854775808.aa.bb", &hash, 7, t, 90).is_none(), "no overflow");
    }

    #[test]
    fn caps_cut_at_character_boundaries() {
        assert_eq!(cap_bytes("用户名", 4), "用");
        assert_eq!(cap_bytes("admin", 64), "admin");
    }
}
