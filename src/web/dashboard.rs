//! The dashboard: where the work stands at a glance.

use axum::extract::State;
use maud::{Markup, html};

use super::auth::CurrentUser;
use super::{WebError, WebState, layout};

pub async fn page(State(state): State<WebState>, user: CurrentUser) -> Result<Markup, WebError> {
    let title = state.t("web.nav.dashboard");
    let counts = state.app.store.state_counts().await?;
    let body = html! {
        h1 { (title) }
        div.cards {
            @for (s, n) in &counts {
                div.card { div.muted { (state.t(&format!("state.{}", s.code()))) } div.n { (n) } }
            }
        }
    };
    Ok(layout::page(&state, Some((&user.user, &user.csrf)), "/", &title, body))
}
