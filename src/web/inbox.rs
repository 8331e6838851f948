//! The suggestions inbox, a suggestion's detail page with its actions, and exports (CSV, XLSX).

use axum::Router;

use super::WebState;

pub fn router() -> Router<WebState> {
    Router::new()
}
