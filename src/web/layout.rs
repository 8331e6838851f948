//! The page frame every console page shares: header, navigation by role, and the error page.

use maud::{DOCTYPE, Markup, html};

use super::WebState;
use crate::store::{Role, User};

/// Navigation entries: path, locale key, who sees it.
const NAV: &[(&str, &str, &[Role])] = &[
    ("/", "web.nav.dashboard", &[Role::Admin, Role::Staff, Role::Department]),
    ("/suggestions", "web.nav.suggestions", &[Role::Admin, Role::Staff, Role::Department]),
    ("/figures", "web.nav.figures", &[Role::Admin, Role::Staff]),
    ("/topics", "web.nav.topics", &[Role::Admin, Role::Staff]),
    ("/departments", "web.nav.departments", &[Role::Admin, Role::Staff]),
    ("/members", "web.nav.members", &[Role::Admin, Role::Staff]),
    ("/preview", "web.nav.preview", &[Role::Admin, Role::Staff]),
    ("/api-tokens", "web.nav.api_tokens", &[Role::Admin, Role::Staff]),
    ("/users", "web.nav.users", &[Role::Admin]),
    ("/audit", "web.nav.audit", &[Role::Admin]),
];

/// Pages (by navigation entry) where work can take long: a roster import, a large export. They load
/// assets/app.js, which says on the button that the work is under way; every other page runs no
/// script.
const SCRIPTED: &[&str] = &["/members", "/suggestions"];

/// A whole page. `csrf` is the session's token, for the logout form.
pub fn page(state: &WebState, user: Option<(&User, &str)>, current: &str, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(if state.lang() == crate::locale::Lang::Zh { "zh-CN" } else { "en" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (state.t("web.brand")) }
                link rel="stylesheet" href="/assets/style.css";
            }
            // What assets/app.js writes on a button while a long import or export works.
            body data-busy-import=(state.t("web.busy.import")) data-busy-export=(state.t("web.busy.export")) {
                header.top {
                    a.brand href="/" { (state.t("web.brand")) }
                    @if let Some((user, csrf)) = user {
                        // On a phone the navigation folds behind this menu key (CSS only, no script).
                        input #nav-open type="checkbox" hidden;
                        label.nav-toggle for="nav-open" { (state.t("web.nav.menu")) }
                        nav {
                            @for (path, key, roles) in NAV {
                                @if roles.contains(&user.role) {
                                    a href=(path) class=[(*path == current).then_some("current")] { (state.t(key)) }
                                }
                            }
                        }
                        a href="/account/password" title=(state.t("web.account.title")) { (user.name) }
                        form.inline method="post" action="/logout" {
                            (csrf_field(csrf))
                            button type="submit" { (state.t("web.logout")) }
                        }
                    }
                }
                main {
                    @if !state.bot_enabled {
                        // Admins can turn the bot on and learn how; staff get one line; departments
                        // work without the bot and are not told.
                        @match user.map(|(u, _)| u.role) {
                            // One line until opened, so it does not fill a phone's first screen.
                            Some(Role::Admin) => details.banner.warn.bot-off {
                                summary { (state.t("web.bot_off_short")) }
                                p { (state.t("web.bot_off")) }
                            },
                            Some(Role::Staff) => div.banner.warn.bot-off { (state.t("web.bot_off_staff")) },
                            _ => {}
                        }
                    }
                    (body)
                }
                @if SCRIPTED.contains(&current) {
                    script src="/assets/app.js" defer {}
                }
            }
        }
    }
}

/// The hidden field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="_csrf" value=(token); }
}

pub fn error_page(state: &WebState, key: &str, detail: Option<&str>) -> Markup {
    let title = state.t(key);
    page(
        state,
        None,
        "",
        &title,
        html! {
            h1 { (title) }
            @if let Some(detail) = detail { p { (detail) } }
            p { a href="/" { (state.t("web.error.back")) } }
        },
    )
}
