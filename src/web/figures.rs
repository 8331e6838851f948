//! The annual figures page (年度统计): a year, optionally one topic or one department, counted as
//! `crate::figures` does, with the sentence committees publish and an XLSX of the same table.
//! Staff and admins only.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Datelike;
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::CurrentUser;
use super::inbox::rfc5987;
use super::{WebError, WebState, layout};
use crate::figures::{self, AnnualFigures};
use crate::store::Role;
use crate::store::reports::FiguresFilter;

pub fn router() -> Router<WebState> {
    Router::new().route("/figures", get(page)).route("/figures/export.xlsx", get(export))
}

/// The page's selectors, as typed in the query string: a bad value falls back to none (or to
/// this year) rather than failing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FiguresQuery {
    #[serde(default)]
    year: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    department: String,
}

impl FiguresQuery {
    /// The filter: the year asked for (this year, local time, by default), the topic and department.
    fn filter(&self, state: &WebState) -> FiguresFilter {
        let this_year = state.app.clock.now().with_timezone(&state.app.config.offset()).year();
        let year = self.year.trim().parse::<i32>().ok().filter(|y| (2000..=2100).contains(y)).unwrap_or(this_year);
        let id = |s: &str| s.trim().parse::<i64>().ok();
        FiguresFilter { year, topic_id: id(&self.topic), department_id: id(&self.department) }
    }
}

/// The title naming what was counted: "2025年度建言办理情况统计（议题：…）".
async fn title(state: &WebState, filter: &FiguresFilter) -> Result<String, WebError> {
    let mut title = state.ta("web.figures.heading", &[("year", &filter.year)]);
    if let Some(t) = filter.topic_id {
        let name = state.app.store.topic(t).await?.map(|t| t.title).unwrap_or_else(|| format!("#{t}"));
        title.push_str(&state.ta("web.figures.of_topic", &[("topic", &name)]));
    }
    if let Some(d) = filter.department_id {
        let name = state.app.store.department(d).await?.map(|d| d.name).unwrap_or_else(|| format!("#{d}"));
        title.push_str(&state.ta("web.figures.of_department", &[("department", &name)]));
    }
    Ok(title)
}

async fn count(state: &WebState, filter: &FiguresFilter) -> Result<AnnualFigures, WebError> {
    let rows = state.app.store.figure_rows(filter).await?;
    Ok(figures::compute(&rows, &state.app.config.workflow.reply_classes()))
}

fn query_string(filter: &FiguresFilter) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("year", &filter.year.to_string());
    if let Some(t) = filter.topic_id {
        s.append_pair("topic", &t.to_string());
    }
    if let Some(d) = filter.department_id {
        s.append_pair("department", &d.to_string());
    }
    s.finish()
}

async fn page(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(q): Query<FiguresQuery>,
) -> Result<Markup, WebError> {
    user.require(&[Role::Admin, Role::Staff])?;
    let filter = q.filter(&state);
    let figures = count(&state, &filter).await?;
    let heading = title(&state, &filter).await?;
    let mut years = state.app.store.figure_years().await?;
    if !years.contains(&filter.year) {
        years.push(filter.year);
        years.sort_unstable_by(|a, b| b.cmp(a));
    }
    let topics = state.app.store.topics().await?;
    let departments = state.app.store.departments().await?;
    let (texts, lang) = (&state.app.texts, state.lang());
    let t = |k: &str| state.t(k);
    let page_title = t("web.figures.title");
    let body = html! {
        h1 { (page_title) }
        form.filters method="get" action="/figures" {
            label { (t("web.figures.year"))
                select name="year" { @for y in &years { option value=(y) selected[*y == filter.year] { (y) } } }
            }
            label { (t("web.figures.topic"))
                select name="topic" {
                    option value="" { (t("web.figures.any")) }
                    @for tp in &topics { option value=(tp.id) selected[filter.topic_id == Some(tp.id)] { (tp.title) } }
                }
            }
            label { (t("web.figures.department"))
                select name="department" {
                    option value="" { (t("web.figures.any")) }
                    @for d in &departments { option value=(d.id) selected[filter.department_id == Some(d.id)] { (d.name) } }
                }
            }
            button type="submit" { (t("web.figures.show")) }
        }
        h2 { (heading) }
        @if figures.suggestions == 0 {
            p.muted { (t("web.figures.empty")) }
        } @else {
            p.figures-sentence { (figures::summary(texts, lang, &figures)) }
            div.table-wrap { table.figures {
                thead { tr {
                    th { (t("figures.col_item")) } th { (t("figures.col_count")) } th { (t("figures.col_share")) }
                } }
                tbody { @for (label, n, share) in figures::table(texts, lang, &figures) {
                    tr { td { (label) } td { (n) } td { (share) } }
                } }
            } }
        }
        p.muted { (t("web.figures.note")) }
        p { a.button.secondary href=(format!("/figures/export.xlsx?{}", query_string(&filter))) { (t("web.figures.export")) } }
    };
    Ok(layout::page(&state, Some((&user.user, &user.csrf)), "/figures", &page_title, body))
}

async fn export(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(q): Query<FiguresQuery>,
) -> Result<Response, WebError> {
    user.require(&[Role::Admin, Role::Staff])?;
    let filter = q.filter(&state);
    let figures = count(&state, &filter).await?;
    let heading = title(&state, &filter).await?;
    let texts = state.app.texts.clone();
    let lang = state.lang();
    let sheet_title = heading.clone();
    let bytes = tokio::task::spawn_blocking(move || figures::xlsx(&texts, lang, &sheet_title, &figures)).await??;
    let now = state.app.clock.now();
    state.app.store.audit(user.auditor(), "figures.export_xlsx", "", &query_string(&filter), now).await?;
    let name = state.ta("web.figures.file_name", &[("year", &filter.year)]);
    let disposition =
        format!("attachment; filename=\"figures-{}.xlsx\"; filename*=UTF-8''{}", filter.year, rfc5987(&name));
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
