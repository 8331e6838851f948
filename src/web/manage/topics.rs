//! Consultation topics (协商议题): list, create, edit, open and close.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::{local, notice, page, problems, require_staff, ticked};
use crate::domain::{TopicClass, TopicStatus};
use crate::store::{NewTopic, Topic};
use crate::web::auth::{self, CurrentUser};
use crate::web::forms::Posted;
use crate::web::{WebError, WebState};

const TITLE_MAX_CHARS: usize = 100;
const DESCRIPTION_MAX_CHARS: usize = 2000;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/topics", get(list).post(create))
        .route("/topics/new", get(new_form))
        .route("/topics/{id}/edit", get(edit_form))
        .route("/topics/{id}", post(update))
        .route("/topics/{id}/status", post(set_status))
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    ok: Option<String>,
}

/// A topic's state as staff read it: open, open but past its closing date, closed, draft.
fn status_label(state: &WebState, t: &Topic) -> String {
    let now = state.app.clock.now();
    if t.status == TopicStatus::Open && !t.is_open(now) {
        state.t("web.topics.status_expired")
    } else {
        state.t(&format!("web.topics.status_{}", t.status.code()))
    }
}

/// The last day a topic is open, as typed in the form (`closes_at` is the midnight after it).
fn closes_day(state: &WebState, t: &Topic) -> String {
    t.closes_at.map(|c| local(state, c - Duration::seconds(1), "%Y-%m-%d")).unwrap_or_default()
}

async fn list(State(state): State<WebState>, user: CurrentUser, Query(done): Query<Done>) -> Result<Markup, WebError> {
    require_staff(&user)?;
    let topics = state.app.store.topics().await?;
    let message = match done.ok.as_deref() {
        Some("created") => Some(state.t("web.topics.created")),
        Some("updated") => Some(state.t("web.topics.updated")),
        Some("opened") => Some(state.t("web.topics.opened")),
        Some("closed") => Some(state.t("web.topics.closed")),
        _ => None,
    };
    let title = state.t("web.topics.title");
    let body = html! {
        h1 { (title) }
        (notice(message))
        p {
            a.button href="/topics/new" { (state.t("web.topics.new")) } " "
            a.button.secondary href="/broadcasts" { (state.t("web.broadcasts.title")) }
        }
        @if topics.is_empty() {
            p.muted { (state.t("web.topics.empty")) }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th { (state.t("web.topics.col_title")) }
                    th { (state.t("web.topics.col_class")) }
                    th { (state.t("web.topics.col_form")) }
                    th { (state.t("web.topics.col_status")) }
                    th { (state.t("web.topics.col_closes")) }
                    th { (state.t("web.topics.col_actions")) }
                } }
                tbody { @for t in &topics {
                    tr {
                        td {
                            @if t.pinned { span.state { (state.t("web.topics.pinned")) } " " }
                            (t.title)
                        }
                        td { (t.class.label()) }
                        td { (t.form) }
                        td { (status_label(&state, t)) }
                        td { (closes_day(&state, t)) }
                        td {
                            a href=(format!("/topics/{}/edit", t.id)) { (state.t("web.topics.edit")) } " · "
                            @if t.is_open(state.app.clock.now()) {
                                a href=(format!("/broadcasts/new?topic={}", t.id)) { (state.t("web.topics.broadcast")) } " · "
                            }
                            form.inline method="post" action=(format!("/topics/{}/status", t.id)) {
                                (auth::csrf(&user))
                                @if t.status == TopicStatus::Closed {
                                    input type="hidden" name="status" value="open";
                                    button.secondary type="submit" { (state.t("web.topics.open")) }
                                } @else {
                                    input type="hidden" name="status" value="closed";
                                    button.secondary type="submit" { (state.t("web.topics.close")) }
                                }
                            }
                        }
                    }
                } }
            } }
        }
    };
    Ok(page(&state, &user, "/topics", &title, body))
}

#[derive(Deserialize, Default)]
pub struct TopicForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    form: String,
    #[serde(default)]
    closes: String,
    #[serde(default)]
    pinned: Option<String>,
}

impl TopicForm {
    fn of(state: &WebState, t: &Topic) -> Self {
        Self {
            title: t.title.clone(),
            description: t.description.clone(),
            class: t.class.code().to_string(),
            form: t.form.clone(),
            closes: closes_day(state, t),
            pinned: t.pinned.then(|| "on".to_string()),
        }
    }

    /// The topic to store, or every problem with what was typed. A closing day equal to `kept` (the
    /// topic's current one) may be in the past: staff may fix a typo in a topic that has closed.
    /// The form is one of `topics.forms`, empty, or `kept_form` (the topic's current one).
    fn parse(&self, state: &WebState, kept: Option<&str>, kept_form: Option<&str>) -> Result<NewTopic, Vec<String>> {
        let mut problems = Vec::new();
        let title = self.title.trim();
        if title.is_empty() {
            problems.push(state.t("web.topics.title_empty"));
        } else if title.chars().count() > TITLE_MAX_CHARS {
            problems.push(state.ta("web.topics.title_too_long", &[("max", &TITLE_MAX_CHARS)]));
        }
        if self.description.trim().chars().count() > DESCRIPTION_MAX_CHARS {
            problems.push(state.ta("web.topics.description_too_long", &[("max", &DESCRIPTION_MAX_CHARS)]));
        }
        // A form from `topics.forms`, none, or the one the topic already has (kept when the list
        // changed since).
        let form = self.form.trim();
        if !form.is_empty() && state.app.config.topics.form(form).is_none() && kept_form != Some(form) {
            let allowed = state.app.config.topics.forms.join("、");
            problems.push(state.ta("web.topics.form_unknown", &[("allowed", &allowed)]));
        }
        let class = TopicClass::parse(&self.class);
        if class.is_none() {
            problems.push(state.t("web.topics.class_missing"));
        }
        let closes = self.closes.trim();
        let mut closes_at = None;
        if !closes.is_empty() {
            match NaiveDate::parse_from_str(closes, "%Y-%m-%d") {
                Ok(date) => {
                    // Open through the whole closing day, local time (as `jianyan topics add` does).
                    let midnight = date.succ_opt().unwrap_or(date).and_hms_opt(0, 0, 0).expect("midnight exists");
                    closes_at = state
                        .app
                        .config
                        .offset()
                        .from_local_datetime(&midnight)
                        .single()
                        .map(|t| t.with_timezone(&Utc));
                    if closes_at.is_some_and(|c| c <= state.app.clock.now()) && kept != Some(closes) {
                        problems.push(state.ta("web.topics.closes_past", &[("value", &closes)]));
                    }
                }
                Err(_) => problems.push(
                    state.ta("web.topics.closes_bad", &[("value", &closes), ("example", &state.date_example(true))]),
                ),
            }
        }
        match class {
            Some(class) if problems.is_empty() => Ok(NewTopic {
                title: title.to_string(),
                description: self.description.trim().to_string(),
                class,
                form: self.form.trim().to_string(),
                closes_at,
                pinned: ticked(&self.pinned),
            }),
            _ => Err(problems),
        }
    }
}

/// The consultation-form select: the configured forms, and `kept` (the topic's stored form) too
/// when it is no longer one of them.
fn form_select(state: &WebState, chosen: &str, kept: Option<&str>) -> Markup {
    let forms = &state.app.config.topics.forms;
    let chosen = chosen.trim();
    let kept = kept.map(str::trim).filter(|k| !k.is_empty() && state.app.config.topics.form(k).is_none());
    html! {
        select name="form" {
            option value="" { (state.t("web.topics.form_none")) }
            @if let Some(k) = kept {
                option value=(k) selected[chosen == k] { (state.ta("web.topics.form_kept", &[("form", &k)])) }
            }
            @for f in forms {
                option value=(f.trim()) selected[chosen == f.trim()] { (f.trim()) }
            }
        }
    }
}

fn form_page(
    state: &WebState,
    user: &CurrentUser,
    id: Option<i64>,
    f: &TopicForm,
    kept_form: Option<&str>,
    errors: &[String],
) -> Markup {
    let title = state.t(if id.is_some() { "web.topics.edit_title" } else { "web.topics.new_title" });
    let action = id.map(|id| format!("/topics/{id}")).unwrap_or_else(|| "/topics".into());
    let body = html! {
        h1 { (title) }
        (problems(errors))
        form.stack method="post" action=(action) {
            (auth::csrf(user))
            label { (state.t("web.topics.field_title")) input name="title" value=(f.title) required maxlength=(TITLE_MAX_CHARS); }
            label { (state.t("web.topics.field_description")) textarea name="description" { (f.description) } }
            label { (state.t("web.topics.field_class"))
                select name="class" required {
                    option value="" { (state.t("web.topics.choose")) }
                    @for c in TopicClass::ALL {
                        option value=(c.code()) selected[TopicClass::parse(&f.class) == Some(*c)] { (c.label()) }
                    }
                }
            }
            label { (state.t("web.topics.field_form")) (form_select(state, &f.form, kept_form)) }
            label { (state.t("web.topics.field_closes")) input name="closes" type="date" value=(f.closes); }
            label.check { input type="checkbox" name="pinned" checked[ticked(&f.pinned)]; (state.t("web.topics.field_pinned")) }
            div {
                button type="submit" { (state.t("web.manage.save")) } " "
                a.button.secondary href="/topics" { (state.t("web.manage.cancel")) }
            }
        }
    };
    page(state, user, "/topics", &title, body)
}

fn invalid(markup: Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, markup).into_response()
}

async fn new_form(State(state): State<WebState>, user: CurrentUser) -> Result<Markup, WebError> {
    require_staff(&user)?;
    Ok(form_page(&state, &user, None, &TopicForm::default(), None, &[]))
}

async fn create(
    State(state): State<WebState>,
    Posted { user, form: f, .. }: Posted<TopicForm>,
) -> Result<Response, WebError> {
    let topic = match f.parse(&state, None, None) {
        Ok(t) => t,
        Err(errors) => return Ok(invalid(form_page(&state, &user, None, &f, None, &errors))),
    };
    let now = state.app.clock.now();
    let topic = state.app.store.add_topic(topic, now).await?;
    let detail = format!("{} | {}{}", topic.title, topic.class.label(), if topic.pinned { " | pinned" } else { "" });
    state.app.store.audit(user.auditor(), "topic.create", &format!("topic:{}", topic.id), &detail, now).await?;
    Ok(Redirect::to("/topics?ok=created").into_response())
}

async fn edit_form(State(state): State<WebState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Markup, WebError> {
    require_staff(&user)?;
    let topic = state.app.store.topic(id).await?.ok_or(WebError::NotFound)?;
    Ok(form_page(&state, &user, Some(id), &TopicForm::of(&state, &topic), Some(&topic.form), &[]))
}

async fn update(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    Posted { user, form: f, .. }: Posted<TopicForm>,
) -> Result<Response, WebError> {
    let before = state.app.store.topic(id).await?.ok_or(WebError::NotFound)?;
    let kept = closes_day(&state, &before);
    let parsed = f.parse(&state, Some(&kept), Some(&before.form));
    let topic = match parsed {
        Ok(t) => t,
        Err(errors) => return Ok(invalid(form_page(&state, &user, Some(id), &f, Some(&before.form), &errors))),
    };
    let now = state.app.clock.now();
    let topic = state.app.store.update_topic(id, topic, now).await?.ok_or(WebError::NotFound)?;
    let detail = format!("{} | {}{}", topic.title, topic.class.label(), if topic.pinned { " | pinned" } else { "" });
    state.app.store.audit(user.auditor(), "topic.update", &format!("topic:{id}"), &detail, now).await?;
    Ok(Redirect::to("/topics?ok=updated").into_response())
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn set_status(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    Posted { user, form: f, .. }: Posted<StatusForm>,
) -> Result<Response, WebError> {
    let status = match f.status.as_str() {
        "open" => TopicStatus::Open,
        "closed" => TopicStatus::Closed,
        _ => return Err(WebError::BadRequest(state.t("web.topics.bad_status"))),
    };
    state.app.store.topic(id).await?.ok_or(WebError::NotFound)?;
    let now = state.app.clock.now();
    if state.app.store.set_topic_status(id, status, now).await? {
        let action = if status == TopicStatus::Open { "topic.open" } else { "topic.close" };
        state.app.store.audit(user.auditor(), action, &format!("topic:{id}"), "", now).await?;
    }
    let done = if status == TopicStatus::Open { "opened" } else { "closed" };
    Ok(Redirect::to(&format!("/topics?ok={done}")).into_response())
}
