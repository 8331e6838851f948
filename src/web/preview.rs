//! The member-dialog preview: chat in the browser with the same dialog engine as a chosen test member.

use axum::Router;

use super::WebState;

pub fn router() -> Router<WebState> {
    Router::new()
}
