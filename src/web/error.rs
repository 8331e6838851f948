//! The one error type of the web: every console page and API endpoint fails with `WebError`.
//!
//! A handler says what went wrong; `render_errors` (in `web`) says it in the route group's terms:
//! the console's polite page (in its language) for pages, the API's JSON error shape
//! `{"error": {"code", "message", "fields"}}` under `/api/`. Internal errors are logged, never shown.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::{WebState, layout};

/// Errors a web handler returns.
#[derive(Debug)]
pub enum WebError {
    /// Not logged in: the console goes to the login page; the API answers 401 with a Bearer
    /// challenge (no token, or an unknown or revoked one).
    Unauthenticated,
    Forbidden,
    /// No such page or suggestion (or one the caller may not see).
    NotFound,
    /// The form's CSRF token is missing or wrong (an old page, or a forged request).
    Csrf,
    /// Bad input, said specifically (already localized).
    BadRequest(String),
    Internal(anyhow::Error),
    /// An answer in the API's terms: the status, the stable `code` a program reads, the message
    /// for a person (already localized) and what is wrong with each named field.
    Api {
        status: StatusCode,
        code: &'static str,
        message: String,
        fields: BTreeMap<String, String>,
    },
}

impl<E: Into<anyhow::Error>> From<E> for WebError {
    fn from(e: E) -> Self {
        WebError::Internal(e.into())
    }
}

impl WebError {
    /// An API answer without field problems.
    pub fn api(status: StatusCode, code: &'static str, message: String) -> Self {
        WebError::Api { status, code, message, fields: BTreeMap::new() }
    }

    /// 400 `invalid_request`: what is wrong with each named field.
    pub fn invalid(state: &WebState, fields: BTreeMap<String, String>) -> Self {
        let message = state.t("web.api.invalid");
        WebError::Api { status: StatusCode::BAD_REQUEST, code: "invalid_request", message, fields }
    }

    /// 400 `invalid_request` for one field.
    pub fn field(state: &WebState, name: &str, problem: String) -> Self {
        Self::invalid(state, BTreeMap::from([(name.to_string(), problem)]))
    }
}

/// A failure as `render_errors` renders it, carried on the response until the route group is known.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    status: StatusCode,
    /// The console's page: its locale key and a detail; `None` for the login page.
    page: Option<(&'static str, Option<String>)>,
    /// The API's code, and its message (a text, or the locale key of one).
    code: &'static str,
    message: Result<String, &'static str>,
    fields: BTreeMap<String, String>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let page = |status, key, detail| (status, Some((key, detail)));
        let ((status, page), code, message, fields) = match self {
            WebError::Unauthenticated => {
                ((StatusCode::UNAUTHORIZED, None), "unauthorized", Err("web.api.unauthorized"), BTreeMap::new())
            }
            WebError::Forbidden => (
                page(StatusCode::FORBIDDEN, "web.error.forbidden", None),
                "forbidden",
                Err("web.error.forbidden"),
                BTreeMap::new(),
            ),
            WebError::NotFound => (
                page(StatusCode::NOT_FOUND, "web.error.not_found", None),
                "not_found",
                Err("web.api.not_found"),
                BTreeMap::new(),
            ),
            WebError::Csrf => (
                page(StatusCode::FORBIDDEN, "web.error.csrf", None),
                "forbidden",
                Err("web.error.csrf"),
                BTreeMap::new(),
            ),
            WebError::BadRequest(message) => (
                page(StatusCode::BAD_REQUEST, "web.error.bad_request", Some(message.clone())),
                "invalid_request",
                Ok(message),
                BTreeMap::new(),
            ),
            WebError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "a web request failed");
                let page = page(StatusCode::INTERNAL_SERVER_ERROR, "web.error.internal", None);
                (page, "internal", Err("web.api.internal"), BTreeMap::new())
            }
            WebError::Api { status, code, message, fields } => {
                (page(status, page_key(status), Some(message.clone())), code, Ok(message), fields)
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(Failure { status, page, code, message, fields });
        response
    }
}

/// The console's error page for a status.
pub(super) fn page_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "web.error.not_found",
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => "web.error.forbidden",
        StatusCode::PAYLOAD_TOO_LARGE => "web.error.too_large",
        StatusCode::REQUEST_TIMEOUT => "web.error.timeout",
        StatusCode::METHOD_NOT_ALLOWED => "web.error.method_not_allowed",
        s if s.is_server_error() => "web.error.internal",
        _ => "web.error.bad_request",
    }
}

/// The API's code and message for an error status the framework or the transport decided (a body
/// over the limit, a timeout, a path or query that cannot be read).
fn api_answer(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "web.api.too_large"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "web.api.timeout"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "web.api.method_not_allowed"),
        StatusCode::NOT_FOUND => ("no_such_endpoint", "web.api.no_such_endpoint"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "web.api.unsupported_media_type"),
        s if s.is_server_error() => ("internal", "web.api.internal"),
        _ => ("invalid_request", "web.api.unreadable"),
    }
}

/// Whether `path` is in the API's route group (`/api/…`), whose errors are JSON.
pub(super) fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

impl Failure {
    /// The failure for an error status alone, as `error_for_status` answers it.
    fn for_status(status: StatusCode) -> Self {
        let (code, key) = api_answer(status);
        Self { status, page: Some((page_key(status), None)), code, message: Err(key), fields: BTreeMap::new() }
    }

    /// The answer on `path`: the API's JSON under `/api/`, the console's page elsewhere.
    pub(super) fn render(self, state: &WebState, path: &str) -> Response {
        if !is_api(path) {
            return match self.page {
                None => Redirect::to("/login").into_response(),
                Some((key, detail)) => (self.status, layout::error_page(state, key, detail.as_deref())).into_response(),
            };
        }
        let message = self.message.unwrap_or_else(|key| state.t(key));
        let body = serde_json::json!({ "error": { "code": self.code, "message": message, "fields": self.fields } });
        let mut response = (self.status, super::api::json_body(&body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The answer for an error status on `path`: JSON in the API's one shape under `/api/`, the
/// console's error page (in its language) everywhere else.
pub fn error_for_status(state: &WebState, path: &str, status: StatusCode) -> Response {
    Failure::for_status(status).render(state, path)
}
