//! Search and pages for the console's short lists: departments, accounts, API tokens, broadcasts.
//!
//! These lists hold dozens to a few hundred entries (a district has about 40 departments), so
//! they are read whole and narrowed here; the member roster, which holds 100,000, is paged in
//! SQL instead (`ReportStore::members_page`).

use maud::{Markup, html};
use serde::Deserialize;

use crate::bounds::clip;
use crate::web::WebState;

/// Entries on one page.
pub const PAGE_SIZE: usize = 50;
/// Longest search text, in characters.
const SEARCH_MAX_CHARS: usize = 50;

/// `?q=` (words every shown entry holds, any case) and `?page=` (from 1) of a short list.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct ListPage {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

/// One page of a list: its entries, and how many matched in all.
pub struct Slice<T> {
    pub items: Vec<T>,
    pub matched: usize,
}

impl ListPage {
    /// The search text, cut to its limit.
    pub fn search(&self) -> String {
        clip(self.q.trim(), SEARCH_MAX_CHARS)
    }

    fn number(&self) -> usize {
        self.page.trim().parse::<usize>().unwrap_or(1).clamp(1, 100_000)
    }

    /// The entries whose `text` holds every word searched for, this page of them.
    pub fn slice<T>(&self, items: Vec<T>, text: impl Fn(&T) -> String) -> Slice<T> {
        let search = self.search().to_lowercase();
        let words: Vec<&str> = search.split_whitespace().collect();
        let kept: Vec<T> = items
            .into_iter()
            .filter(|i| {
                let t = text(i).to_lowercase();
                words.iter().all(|w| t.contains(w))
            })
            .collect();
        let matched = kept.len();
        let start = (self.number() - 1).saturating_mul(PAGE_SIZE);
        Slice { items: kept.into_iter().skip(start).take(PAGE_SIZE).collect(), matched }
    }

    fn href(&self, path: &str, page: usize) -> String {
        let q = self.search();
        let mut parts = Vec::new();
        if !q.is_empty() {
            parts.push(format!("q={}", url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() { path.to_string() } else { format!("{path}?{}", parts.join("&")) }
    }

    /// The search box (a GET form to `path`).
    pub fn search_form(&self, state: &WebState, path: &str) -> Markup {
        html! {
            form.filters method="get" action=(path) {
                label { (state.t("web.list.search")) input type="search" name="q" value=(self.search()) maxlength=(SEARCH_MAX_CHARS); }
                button type="submit" { (state.t("web.list.apply")) }
            }
        }
    }

    /// How many matched, and the links to the pages before and after.
    pub fn pager(&self, state: &WebState, path: &str, matched: usize) -> Markup {
        let page = self.number();
        let pages = matched.div_ceil(PAGE_SIZE).max(1);
        html! {
            nav.pager {
                span.muted { (state.ta("web.list.position", &[("page", &page.min(pages)), ("pages", &pages), ("count", &matched)])) }
                @if page > 1 { " " a rel="prev" href=(self.href(path, page - 1)) { (state.t("web.list.prev")) } }
                @if page < pages { " " a rel="next" href=(self.href(path, page + 1)) { (state.t("web.list.next")) } }
            }
        }
    }
}
