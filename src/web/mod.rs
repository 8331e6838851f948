//! The web console and the department HTTP API, served by `jianyan run` next to the bot.
//!
//! Pages are rendered on the server (maud); every text comes from the locale files. The same
//! workflow code as the bot decides what each person may do.

pub mod api;
pub mod auth;
pub mod dashboard;
pub mod inbox;
pub mod layout;
pub mod manage;
pub mod preview;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::locale::Lang;

/// What every handler is given.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    /// Whether the Telegram bot runs in this process (it does not without a token).
    pub bot_enabled: bool,
    pub logins: Arc<auth::LoginLimiter>,
    /// A real hash to check unknown usernames against, so a login takes as long either way.
    pub dummy_hash: Arc<String>,
}

impl WebState {
    pub fn new(app: App, bot_enabled: bool) -> Self {
        let dummy_hash = auth::hash_password(&auth::random_token()).unwrap_or_default();
        Self { app, bot_enabled, logins: Arc::new(auth::LoginLimiter::default()), dummy_hash: Arc::new(dummy_hash) }
    }

    /// The console speaks the committee's default language.
    pub fn lang(&self) -> Lang {
        self.app.texts.lang_for(None)
    }

    pub fn t(&self, key: &str) -> String {
        self.app.texts.t(self.lang(), key, &[])
    }

    pub fn ta(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        self.app.texts.t(self.lang(), key, args)
    }
}

/// The whole web application.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/assets/style.css", get(style))
        .merge(manage::router())
        .merge(inbox::router())
        .merge(preview::router())
        .merge(api::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), render_errors))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Serves until `shutdown` turns true.
pub async fn serve(state: WebState, listener: TcpListener, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let router = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await?;
    Ok(())
}

async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../assets/style.css"),
    )
}

async fn not_found() -> WebError {
    WebError::NotFound
}

/// Marks a response as an error page to be rendered in the console's language.
#[derive(Clone)]
struct ErrorPage {
    key: &'static str,
    detail: Option<String>,
}

/// Renders the error pages `WebError` asked for, with the texts of this console.
async fn render_errors(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    match response.extensions().get::<ErrorPage>().cloned() {
        Some(page) => (response.status(), layout::error_page(&state, page.key, page.detail.as_deref())).into_response(),
        None => response,
    }
}

/// Headers every response carries: no framing, no sniffing, scripts and styles only from here.
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
    response
}

/// Errors a page handler returns. People see a polite page; internal errors are logged, not shown.
#[derive(Debug)]
pub enum WebError {
    /// Not logged in: go to the login page.
    Unauthenticated,
    Forbidden,
    NotFound,
    /// The form's CSRF token is missing or wrong (an old page, or a forged request).
    Csrf,
    /// Bad input, said specifically (already localized).
    BadRequest(String),
    Internal(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for WebError {
    fn from(e: E) -> Self {
        WebError::Internal(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, key, detail) = match self {
            WebError::Unauthenticated => return Redirect::to("/login").into_response(),
            WebError::Forbidden => (StatusCode::FORBIDDEN, "web.error.forbidden", None),
            WebError::NotFound => (StatusCode::NOT_FOUND, "web.error.not_found", None),
            WebError::Csrf => (StatusCode::FORBIDDEN, "web.error.csrf", None),
            WebError::BadRequest(message) => (StatusCode::BAD_REQUEST, "web.error.bad_request", Some(message)),
            WebError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "a console request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "web.error.internal", None)
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorPage { key, detail });
        response
    }
}
