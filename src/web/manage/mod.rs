//! Topics and broadcasts, departments and accounts, the member roster and the audit log.

pub mod audit;
mod broadcasts;
mod departments;
pub mod listing;
mod members;
mod topics;
mod users;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::auth::CurrentUser;
use super::{WebError, WebState, layout};
use crate::store::Role;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/assets/app.js", get(script))
        .merge(topics::router())
        .merge(broadcasts::router())
        .merge(departments::router())
        .merge(members::router())
        .merge(users::router())
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")],
        include_str!("../../../assets/app.js"),
    )
}

/// Staff and admins manage topics, broadcasts, departments and the roster.
fn require_staff(user: &CurrentUser) -> Result<(), WebError> {
    user.require(&[Role::Admin, Role::Staff])
}

/// A whole console page for the logged-in user.
fn page(state: &WebState, user: &CurrentUser, current: &str, title: &str, body: Markup) -> Markup {
    layout::page(state, Some((&user.user, &user.csrf)), current, title, body)
}

/// The problems with what was submitted, above the form that shows it again.
fn problems(list: &[String]) -> Markup {
    html! {
        @if !list.is_empty() {
            div.banner.error role="alert" {
                ul { @for p in list { li { (p) } } }
            }
        }
    }
}

fn notice(text: Option<String>) -> Markup {
    html! { @if let Some(text) = text { div.banner.ok role="status" { (text) } } }
}

/// A time as the committee reads it (its own UTC offset).
fn local(state: &WebState, at: DateTime<Utc>, format: &str) -> String {
    at.with_timezone(&state.app.config.offset()).format(format).to_string()
}

/// Checkbox fields arrive as `on` when ticked and are absent otherwise.
fn ticked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !v.is_empty())
}
