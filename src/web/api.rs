//! The department HTTP API (JSON) with per-department tokens, and its OpenAPI document.

use axum::Router;

use super::WebState;

pub fn router() -> Router<WebState> {
    Router::new()
}
