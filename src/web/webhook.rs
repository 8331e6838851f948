//! Telegram's webhook (`telegram.mode = "webhook"`): every instance stores each update it is
//! posted before answering 200, so any instance behind a load balancer can take any update.
//!
//! Telegram retries an update until it gets a 2xx answer
//! (<https://core.telegram.org/bots/api#setwebhook>): an update that cannot be stored is answered
//! 500 and comes again. Every request must carry the secret given to setWebhook in the
//! `X-Telegram-Bot-Api-Secret-Token` header; without it the request is refused and nothing is read.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use super::WebState;
use super::auth::constant_time_eq;
use crate::bot::{read_update, update};
use crate::config::IntakeMode;

/// Where Telegram posts updates; `telegram.webhook_url` must lead here.
pub const PATH: &str = "/telegram/webhook";
/// The header Telegram sends the secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

pub fn router() -> Router<WebState> {
    Router::new().route(PATH, post(receive))
}

/// Stores one posted update. 404 when the bot is not in webhook mode; 401 without the secret, 403
/// with a wrong one; 400 for a body that is no update (Telegram never sends one, so it is not
/// worth a retry); 500 when it cannot be stored (Telegram retries); 200 once it is stored (or was
/// already).
async fn receive(State(state): State<WebState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let telegram = &state.app.config.telegram;
    if telegram.mode != IntakeMode::Webhook {
        return StatusCode::NOT_FOUND;
    }
    match headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok()) {
        None => {
            tracing::warn!("a webhook request without Telegram's secret header was refused");
            return StatusCode::UNAUTHORIZED;
        }
        Some(given) if !constant_time_eq(given, telegram.webhook_secret.expose()) => {
            tracing::warn!("a webhook request with a wrong secret was refused");
            return StatusCode::FORBIDDEN;
        }
        Some(_) => {}
    }
    let raw = match std::str::from_utf8(&body)
        .map_err(|e| e.to_string())
        .and_then(|text| update::parse_webhook(text).map_err(|e| e.to_string()))
    {
        Ok(raw) => raw,
        Err(e) => {
            tracing::warn!(error = %e, "a webhook request whose body is not an update was refused");
            return StatusCode::BAD_REQUEST;
        }
    };
    let update_id = raw.update_id;
    let (incoming, _) = read_update(raw);
    match state.app.store.store_updates(&[incoming], state.app.clock.now()).await {
        Ok(_) => StatusCode::OK,
        Err(e) => {
            tracing::error!(error = %e, update_id, "cannot store a webhook update; Telegram will send it again");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
