//! Logging in and out: argon2 password hashes, sessions in the database, CSRF tokens on every
//! form, and a limit on failed logins per username and per address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use maud::html;
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::layout::{self, csrf_field};
use super::{WebError, WebState};
use crate::store::{Auditor, Role, User};

pub const SESSION_COOKIE: &str = "jianyan_session";
const LOGIN_COOKIE: &str = "jianyan_login";
const FAILURE_WINDOW_MINUTES: i64 = 15;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash a password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A password an account may have: 10 to 128 characters, not all of one kind of character.
pub fn password_is_acceptable(password: &str) -> bool {
    let n = password.chars().count();
    let kinds = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    (10..=128).contains(&n) && kinds.iter().filter(|k| **k).count() >= 2
}

/// A random token, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Failed logins per key (a username, or an address), kept for the window.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
}

impl LoginLimiter {
    /// Whether logins for these keys must wait, and until when.
    fn blocked_until(&self, keys: &[String], max: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let window = Duration::minutes(FAILURE_WINDOW_MINUTES);
        keys.iter()
            .filter_map(|k| {
                let list = map.get_mut(k)?;
                list.retain(|t| now - *t < window);
                (list.len() >= max as usize).then(|| list[list.len() - max as usize] + window)
            })
            .max()
    }

    fn failed(&self, keys: &[String], now: DateTime<Utc>) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            map.entry(k.clone()).or_default().push(now);
        }
    }

    fn succeeded(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            map.remove(k);
        }
    }
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

/// The client's address, when the server knows it (not in tests that call the router directly).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
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
    let username = form.username.trim().to_string();
    let mut keys = vec![format!("user:{username}")];
    if let Some(addr) = addr {
        keys.push(format!("addr:{addr}"));
    }
    let again = |message: String, status: StatusCode| {
        let token = random_token();
        let mut response = (status, login_form(&state, &token, &username, Some(&message))).into_response();
        response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, &token, 3600));
        response
    };
    if let Some(until) = state.logins.blocked_until(&keys, state.app.config.web.max_failed_logins, now) {
        let minutes = (until - now).num_minutes() + 1;
        return Ok(again(state.ta("web.login.too_many", &[("minutes", &minutes)]), StatusCode::TOO_MANY_REQUESTS));
    }
    let found = state.app.store.user_for_login(&username).await?;
    // Verify against a hash even for unknown names, so the answer takes as long either way.
    let hash = found.as_ref().map(|(_, h)| h.as_str()).unwrap_or(state.dummy_hash.as_str());
    let ok = verify_password(&form.password, hash);
    let user = match found {
        Some((user, _)) if ok && user.active => user,
        _ => {
            state.logins.failed(&keys, now);
            tracing::info!(username = %username, "a console login failed");
            return Ok(again(state.t("web.login.failed"), StatusCode::UNAUTHORIZED));
        }
    };
    state.logins.succeeded(&keys);
    let token = random_token();
    let hours = state.app.config.web.session_hours;
    state
        .app
        .store
        .create_session(&token_hash(&token), user.id, &random_token(), now, now + Duration::hours(hours))
        .await?;
    state.app.store.audit(Auditor::User(user.id), "login", "", "", now).await?;
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, &token, hours * 3600));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, LOGIN_COOKIE, "", 0));
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    pub csrf: String,
}

pub async fn logout(
    State(state): State<WebState>,
    user: CurrentUser,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
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
    fn passwords_hash_and_verify() {
        let hash = hash_password("Correct-horse-9").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Correct-horse-9", &hash));
        assert!(!verify_password("correct-horse-9", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(!password_is_acceptable("short1A"));
        assert!(!password_is_acceptable("alllowercaseletters"));
        assert!(password_is_acceptable("Two-kinds-of-chars"));
    }

    #[test]
    fn the_limiter_blocks_after_max_failures_in_the_window() {
        let l = LoginLimiter::default();
        let t = Utc::now();
        let keys = vec!["user:a".to_string()];
        for i in 0..5 {
            assert!(l.blocked_until(&keys, 5, t).is_none(), "try {i}");
            l.failed(&keys, t);
        }
        assert!(l.blocked_until(&keys, 5, t).is_some());
        assert!(l.blocked_until(&keys, 5, t + Duration::minutes(16)).is_none());
        l.succeeded(&keys);
        assert!(l.blocked_until(&keys, 5, t).is_none());
    }
}
