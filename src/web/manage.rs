//! Topics and broadcasts, departments and accounts, the member roster and the audit log.

use axum::Router;

use super::WebState;

pub fn router() -> Router<WebState> {
    Router::new()
}
