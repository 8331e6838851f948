//! Who is logged in: sessions in the database, CSRF tokens on every form, and the signed
//! trusted-device cookies that `login` sets and `login_limits` honours.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use super::client::ClientAddr;
use super::layout::csrf_field;
use super::{WebError, WebState};
/// Password code lives in `crate::accounts`; these two names stay here for tests and benches.
pub use crate::accounts::{hash_password, random_token};
use crate::store::{Auditor, Role, User};

pub const SESSION_COOKIE: &str = "jianyan_session";
pub(super) const LOGIN_COOKIE: &str = "jianyan_login";
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

pub(super) fn constant_time_eq(a: &str, b: &str) -> bool {
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

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub(super) fn set_cookie(state: &WebState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
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

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    pub csrf: String,
}

/// The hidden CSRF field for the current user's forms.
pub fn csrf(user: &CurrentUser) -> maud::Markup {
    csrf_field(&user.csrf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

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
