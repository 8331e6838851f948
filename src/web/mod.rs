//! The web console and the department HTTP API, served by `jianyan run` next to the bot.
//!
//! Pages are rendered on the server (maud); every text comes from the locale files. The same
//! workflow code as the bot decides what each person may do.

pub mod api;
pub mod auth;
pub mod client;
pub mod dashboard;
pub mod error;
pub mod figures;
pub mod file_types;
pub mod forms;
pub mod inbox;
pub mod layout;
pub mod login;
pub mod login_limits;
pub mod manage;
pub mod preview;
pub mod transport;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::timeout::TimeoutLayer;

use crate::app::App;
use crate::locale::Lang;
pub use error::{WebError, error_for_status};

/// What every handler is given.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    /// Whether the Telegram bot runs in this process (it does not without a token).
    pub bot_enabled: bool,
    /// Password checks per username, address and trusted device (see `login_limits`).
    pub logins: Arc<login_limits::LoginLimiter>,
    /// Where argon2 runs: blocking threads, `web.password_concurrency` at a time.
    pub passwords: crate::accounts::Passwords,
    /// A real hash to check unknown usernames against, so a login takes as long either way; made
    /// on first use (`WebState::dummy_hash`), so starting costs no Argon2 work and no 19 MiB.
    dummy_hash: Arc<tokio::sync::OnceCell<String>>,
    /// One lock per dialog-preview chat (see `preview::ChatLocks`).
    pub preview_locks: Arc<preview::ChatLocks>,
}

impl WebState {
    pub fn new(app: App, bot_enabled: bool) -> Self {
        let logins = Arc::new(login_limits::LoginLimiter::from_config(&app.config.web));
        let passwords = crate::accounts::Passwords::new(app.config.web.password_concurrency);
        Self { app, bot_enabled, logins, passwords, dummy_hash: Arc::default(), preview_locks: Arc::default() }
    }

    /// The hash unknown usernames are checked against: made once, on a blocking thread like every
    /// Argon2 computation (`accounts::Passwords`). Empty if it cannot be made (then nothing matches).
    pub async fn dummy_hash(&self) -> String {
        let make = || async { self.passwords.hash(&crate::accounts::random_token()).await.unwrap_or_default() };
        self.dummy_hash.get_or_init(make).await.clone()
    }

    /// The console speaks the committee's default language.
    pub fn lang(&self) -> Lang {
        self.app.texts.lang_for(None)
    }

    /// The store, texts, configuration and time for one request's workflow call.
    pub fn ctx(&self) -> crate::context::Ctx<'_> {
        crate::context::Ctx {
            store: self.app.store.as_ref(),
            texts: &self.app.texts,
            config: &self.app.config,
            now: self.app.clock.now(),
        }
    }

    pub fn t(&self, key: &str) -> String {
        self.app.texts.t(self.lang(), key, &[])
    }

    pub fn ta(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        self.app.texts.t(self.lang(), key, args)
    }

    /// A date for the examples in hints, `YYYY-MM-DD` by the clock in the configured offset:
    /// today, or with `year_end` the last day of this year (a deadline not yet past).
    pub fn date_example(&self, year_end: bool) -> String {
        let today = self.app.clock.now().with_timezone(&self.app.config.offset()).date_naive();
        let day = if year_end {
            chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 12, 31).unwrap_or(today)
        } else {
            today
        };
        day.format("%Y-%m-%d").to_string()
    }
}

/// The whole web application.
///
/// Every request is held to a body limit (`transport::limit_bodies`) and a time limit
/// (`web.request_timeout_secs`, then 408); every error, the framework's own rejections included,
/// is answered as the console's page or the API's JSON (`render_errors`).
pub fn router(state: WebState) -> Router {
    let request_timeout = Duration::from_secs(state.app.config.web.request_timeout_secs);
    Router::new()
        .route("/", get(dashboard::page))
        .route("/login", get(login::login_page).post(login::login))
        .route("/logout", post(login::logout))
        .route("/assets/style.css", get(style))
        .merge(manage::router())
        .merge(inbox::router())
        .merge(figures::router())
        .merge(preview::router())
        .merge(api::router())
        .merge(webhook::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), transport::limit_bodies))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, request_timeout))
        .layer(middleware::from_fn_with_state(state.clone(), render_errors))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves until `shutdown` turns true, with the connection limits of `[web]`.
pub async fn serve(state: WebState, listener: TcpListener, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let limits = transport::ConnectionLimits::from_config(&state.app.config.web);
    transport::serve(router(state), listener, limits, shutdown).await
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../assets/style.css"),
    )
}

/// No route: answered by `render_errors` as the console's "not found" page, or the API's
/// `no_such_endpoint` under `/api/`.
async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// Renders the failures `WebError` described, in the route group's terms (see `error`); and answers the
/// framework's own plain-text rejections (a path segment that is not a number, an unreadable form,
/// a body over the limit, a timeout) the same way as every other error: the console's page, or
/// the API's JSON under `/api/`.
async fn render_errors(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    if let Some(failure) = response.extensions().get::<error::Failure>().cloned() {
        return failure.render(&state, &path);
    }
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.to_str().is_ok_and(|v| v.starts_with("text/plain")));
    if (status.is_client_error() || status.is_server_error()) && plain {
        tracing::debug!(status = status.as_u16(), path = %path, "a framework rejection, answered as an error page");
        return error_for_status(&state, &path, status);
    }
    response
}

/// Headers every response carries: no framing, no sniffing, scripts and styles only from here,
/// and no caching of anything that did not say otherwise (pages and exports hold personal data).
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
