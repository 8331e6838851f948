//! Topic announcements to members from the console: compose (topic → text → audience), preview with
//! the recipient count, confirm; follow their progress live and stop them. The rules and the
//! member's copy are the bot's own (`crate::outreach`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use maud::{Markup, html};
use serde::Deserialize;

use super::listing::{ListPage, Slice};
use super::{local, notice, page, problems, require_staff};
use crate::domain::MemberLevel;
use crate::outreach::{self, Refusal, TEXT_MAX_UTF16};
use crate::store::{Audience, AudienceKind, BroadcastProgress, NewBroadcast, Topic};
use crate::web::auth::{self, CurrentUser};
use crate::web::forms::{NoFields, Posted};
use crate::web::{WebError, WebState};

/// Broadcasts listed with their progress.
/// Broadcasts the list searches and pages through, newest first (a committee sends a few a week).
const RECENT: usize = 2_000;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/broadcasts", get(list).post(confirm))
        .route("/broadcasts/new", get(composer).post(edit))
        .route("/broadcasts/preview", post(preview))
        .route("/broadcasts/{id}/progress.json", get(progress_json))
        .route("/broadcasts/{id}/cancel", post(cancel))
        .route("/topics/{id}/broadcast", get(for_topic))
}

/// What the composer's form carries, at every step.
#[derive(Deserialize, Default)]
pub struct Compose {
    /// A topic id; `0` is "no particular topic".
    #[serde(default)]
    topic: String,
    #[serde(default)]
    text: String,
    /// all, level, workstation or sector.
    #[serde(default)]
    audience: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    workstation: String,
    #[serde(default)]
    sector: String,
    /// Made when the preview is shown: the same confirmation sent twice queues one broadcast.
    #[serde(default)]
    request_key: String,
}

/// A broadcast ready to be sent.
struct Draft {
    topic: Option<Topic>,
    text: String,
    audience: Audience,
    reach: i64,
}

impl Compose {
    /// The draft, or every problem with it in the form's order, each said in the console's words.
    async fn parse(&self, state: &WebState) -> Result<Result<Draft, Vec<String>>, WebError> {
        let store = state.app.store.as_ref();
        let now = state.app.clock.now();
        let mut refusals = Vec::new();
        let mut problems = Vec::new();
        let topic = match self.topic.trim() {
            "" => {
                problems.push(state.t("web.broadcasts.topic_missing"));
                None
            }
            "0" => None,
            id => {
                let open = match id.parse::<i64>() {
                    Ok(id) => outreach::open_topic(store, id, now).await?,
                    Err(_) => None,
                };
                if open.is_none() {
                    refusals.push(Refusal::TopicClosed);
                }
                open
            }
        };
        let text = outreach::announcement_text(&self.text).unwrap_or_else(|refusal| {
            refusals.push(refusal);
            String::new()
        });
        problems.extend(refusals.drain(..).map(|r| refusal_text(state, r)));
        let audience = match AudienceKind::parse(&self.audience) {
            Some(AudienceKind::All) => Some(Audience::All),
            Some(AudienceKind::Level) => MemberLevel::parse(&self.level).map(Audience::Level),
            Some(AudienceKind::Workstation) => match self.workstation.parse::<i64>() {
                Ok(id) => outreach::known_audience(store, Audience::Workstation(id)).await?,
                Err(_) => None,
            },
            Some(AudienceKind::Sector) => {
                outreach::known_audience(store, Audience::Sector(self.sector.clone())).await?
            }
            None => None,
        };
        let mut reach = 0;
        match &audience {
            None => problems.push(state.t(match AudienceKind::parse(&self.audience) {
                Some(AudienceKind::Level) => "web.broadcasts.level_missing",
                Some(AudienceKind::Workstation) => "web.broadcasts.workstation_missing",
                Some(AudienceKind::Sector) => "web.broadcasts.sector_missing",
                _ => "web.broadcasts.audience_missing",
            })),
            Some(a) => {
                reach = store.audience_reach(a).await?;
                if reach == 0 {
                    problems.push(refusal_text(state, Refusal::Nobody));
                }
            }
        }
        Ok(match audience {
            Some(audience) if problems.is_empty() => Ok(Draft { topic, text, audience, reach }),
            _ => Err(problems),
        })
    }
}

impl Compose {
    /// The draft, or the composer again with its problems (422).
    async fn parse_or_show(&self, state: &WebState, user: &CurrentUser) -> Result<Result<Draft, Response>, WebError> {
        Ok(match self.parse(state).await? {
            Ok(draft) => Ok(draft),
            Err(errors) => {
                let markup = composer_page(state, user, self, &errors).await?;
                Err((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
            }
        })
    }
}

/// A refusal of the broadcast rules, in the console's words.
fn refusal_text(state: &WebState, refusal: Refusal) -> String {
    match refusal {
        Refusal::TopicClosed => state.t("web.broadcasts.topic_closed"),
        Refusal::TextEmpty => state.t("web.broadcasts.text_empty"),
        Refusal::TextTooLong { len } => {
            state.ta("web.broadcasts.text_too_long", &[("max", &TEXT_MAX_UTF16), ("len", &len)])
        }
        Refusal::Nobody => state.t("web.broadcasts.nobody"),
    }
}

/// How an audience is named, from its kind and the level, workstation or sector name.
fn audience_label(state: &WebState, kind: AudienceKind, value: &str) -> String {
    outreach::audience_label(&state.app.texts, state.lang(), kind, value)
}

async fn composer_page(
    state: &WebState,
    user: &CurrentUser,
    f: &Compose,
    errors: &[String],
) -> Result<Markup, WebError> {
    let store = &state.app.store;
    let topics = store.open_topics(state.app.clock.now()).await?;
    let everyone = store.audience_reach(&Audience::All).await?;
    let levels = store.audience_options(AudienceKind::Level).await?;
    let workstations = store.audience_options(AudienceKind::Workstation).await?;
    let sectors = store.audience_options(AudienceKind::Sector).await?;
    let option_label = |label: &str, n: i64| state.ta("web.broadcasts.option", &[("label", &label), ("count", &n)]);
    let title = state.t("web.broadcasts.new_title");
    let body = html! {
        h1 { (title) }
        (problems(errors))
        form.stack method="post" action="/broadcasts/preview" {
            (auth::csrf(user))
            label { (state.t("web.broadcasts.field_topic"))
                select name="topic" required {
                    option value="" { (state.t("web.broadcasts.choose")) }
                    @for t in &topics {
                        option value=(t.id) selected[f.topic == t.id.to_string()] {
                            @if t.pinned { (state.t("web.topics.pinned")) " " }
                            (t.title)
                        }
                    }
                    option value="0" selected[f.topic == "0"] { (state.t("broadcast.topic_none")) }
                }
            }
            // A browser's maxlength counts UTF-16 code units too (HTML: "length" of the value).
            label { (state.ta("web.broadcasts.field_text", &[("max", &TEXT_MAX_UTF16)]))
                textarea name="text" required maxlength=(TEXT_MAX_UTF16) { (f.text) }
            }
            fieldset {
                legend { (state.t("web.broadcasts.field_audience")) }
                label.check { input type="radio" name="audience" value="all" checked[f.audience == "all" || f.audience.is_empty()];
                    (option_label(&state.t("broadcast.audience_all"), everyone)) }
                label.check { input type="radio" name="audience" value="level" checked[f.audience == "level"];
                    (state.t("web.broadcasts.by_level")) }
                select name="level" {
                    option value="" { (state.t("web.broadcasts.choose")) }
                    @for o in &levels {
                        @if let Audience::Level(l) = o.audience {
                            option value=(l.code()) selected[MemberLevel::parse(&f.level) == Some(l)] { (option_label(&o.label, o.reachable)) }
                        }
                    }
                }
                label.check { input type="radio" name="audience" value="workstation" checked[f.audience == "workstation"];
                    (state.t("web.broadcasts.by_workstation")) }
                select name="workstation" {
                    option value="" { (state.t("web.broadcasts.choose")) }
                    @for o in &workstations {
                        @if let Audience::Workstation(id) = o.audience {
                            option value=(id) selected[f.workstation == id.to_string()] { (option_label(&o.label, o.reachable)) }
                        }
                    }
                }
                label.check { input type="radio" name="audience" value="sector" checked[f.audience == "sector"];
                    (state.t("web.broadcasts.by_sector")) }
                select name="sector" {
                    option value="" { (state.t("web.broadcasts.choose")) }
                    @for o in &sectors {
                        option value=(o.label) selected[f.sector == o.label] { (option_label(&o.label, o.reachable)) }
                    }
                }
                p.muted { (state.t("web.broadcasts.reach_hint")) }
            }
            div {
                button type="submit" { (state.t("web.broadcasts.to_preview")) } " "
                a.button.secondary href="/broadcasts" { (state.t("web.manage.cancel")) }
            }
        }
    };
    Ok(page(state, user, "/topics", &title, body))
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    topic: Option<i64>,
}

async fn composer(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(q): Query<NewQuery>,
) -> Result<Markup, WebError> {
    require_staff(&user)?;
    let f = Compose { topic: q.topic.map(|t| t.to_string()).unwrap_or_default(), ..Compose::default() };
    composer_page(&state, &user, &f, &[]).await
}

async fn for_topic(user: CurrentUser, Path(id): Path<i64>) -> Result<Redirect, WebError> {
    require_staff(&user)?;
    Ok(Redirect::to(&format!("/broadcasts/new?topic={id}")))
}

/// Back from the preview to change something: the composer with what was typed.
async fn edit(
    State(state): State<WebState>,
    Posted { user, form: f, .. }: Posted<Compose>,
) -> Result<Markup, WebError> {
    composer_page(&state, &user, &f, &[]).await
}

/// The member's copy, as the bot will send it, in the console's language.
fn member_copy_html(state: &WebState, d: &Draft) -> Markup {
    let copy = outreach::member_copy(&state.app.texts, state.lang(), &d.text, d.topic.as_ref());
    html! {
        div.chat {
            div.bubble.bot { (copy.text) }
            span.tg-button { (copy.button) }
        }
    }
}

async fn preview(
    State(state): State<WebState>,
    Posted { user, form: f, .. }: Posted<Compose>,
) -> Result<Response, WebError> {
    let draft = match f.parse_or_show(&state, &user).await? {
        Ok(d) => d,
        Err(composer) => return Ok(composer),
    };
    let title = state.t("web.broadcasts.preview_title");
    let audience = audience_label(&state, draft.audience.kind(), &audience_value(&state, &draft.audience).await?);
    let body = html! {
        h1 { (title) }
        p { (state.ta("web.broadcasts.preview_reach", &[("audience", &audience), ("count", &draft.reach)])) }
        h2 { (state.t("web.broadcasts.member_copy")) }
        (member_copy_html(&state, &draft))
        form method="post" action="/broadcasts" data-once {
            (auth::csrf(&user))
            input type="hidden" name="topic" value=(f.topic);
            input type="hidden" name="text" value=(draft.text);
            input type="hidden" name="audience" value=(f.audience);
            input type="hidden" name="level" value=(f.level);
            input type="hidden" name="workstation" value=(f.workstation);
            input type="hidden" name="sector" value=(f.sector);
            input type="hidden" name="request_key" value=(crate::accounts::random_token());
            p {
                button type="submit" { (state.ta("web.broadcasts.confirm", &[("count", &draft.reach)])) } " "
                button.secondary type="submit" formaction="/broadcasts/new" { (state.t("web.broadcasts.back_to_edit")) }
            }
        }
        script src="/assets/app.js" defer {}
    };
    Ok(page(&state, &user, "/topics", &title, body).into_response())
}

/// The level, workstation or sector name of an audience, as the store records it.
async fn audience_value(state: &WebState, audience: &Audience) -> Result<String, WebError> {
    Ok(outreach::audience_value(state.app.store.as_ref(), audience).await?)
}

async fn confirm(
    State(state): State<WebState>,
    Posted { user, form: f, .. }: Posted<Compose>,
) -> Result<Response, WebError> {
    // The same confirmation again (a double click, a resent form): said to be queued already.
    if !f.request_key.is_empty()
        && let Some(id) = state.app.store.broadcast_by_request_key(&f.request_key).await?
    {
        return Ok(Redirect::to(&format!("/broadcasts?ok=queued_already&id={id}")).into_response());
    }
    // Something may have changed since the preview (the topic closed, the audience emptied).
    let draft = match f.parse_or_show(&state, &user).await? {
        Ok(d) => d,
        Err(composer) => return Ok(composer),
    };
    let now = state.app.clock.now();
    let texts = state.app.texts.clone();
    let (text, topic) = (draft.text.clone(), draft.topic.clone());
    let render = move |language: Option<&str>| {
        crate::dialog::broadcast::member_copy(&texts, texts.lang_for(language), &text, topic.as_ref()).encode()
    };
    let new = NewBroadcast {
        topic_id: draft.topic.as_ref().map(|t| t.id),
        text: draft.text.clone(),
        audience: draft.audience.clone(),
        staff_id: None,
        dialog: None,
        request_key: Some(f.request_key.clone()).filter(|k| !k.is_empty()),
    };
    let (id, count) = state.app.store.create_broadcast(new, &render, now).await?;
    tracing::info!(broadcast_id = id, recipients = count, user_id = user.user.id, "broadcast queued from the console");
    let value = audience_value(&state, &draft.audience).await?;
    let detail = format!(
        "topic:{} | {}:{} | {} recipients",
        draft.topic.as_ref().map(|t| t.id).unwrap_or(0),
        draft.audience.kind().as_str(),
        value,
        count
    );
    state.app.store.audit(user.auditor(), "broadcast.create", &format!("broadcast:{id}"), &detail, now).await?;
    Ok(Redirect::to(&format!("/broadcasts?ok=queued&id={id}")).into_response())
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    id: Option<i64>,
    #[serde(default)]
    n: Option<i64>,
}

/// Where each part of the bar starts and how wide it is, in percent of the total.
fn bar_parts(p: &BroadcastProgress) -> Vec<(&'static str, f64, f64)> {
    let total = p.total.max(1) as f64;
    let mut x = 0.0;
    [("sent", p.sent), ("failed", p.failed), ("blocked", p.blocked), ("uncertain", p.uncertain), ("pending", p.pending)]
        .into_iter()
        .map(|(part, n)| {
            let w = 100.0 * n as f64 / total;
            let start = x;
            x += w;
            (part, start, w)
        })
        .collect()
}

fn status_text(state: &WebState, p: &BroadcastProgress) -> String {
    state.t(if p.cancelled {
        "broadcast.status_cancelled"
    } else if p.pending > 0 {
        "broadcast.status_sending"
    } else {
        "broadcast.status_done"
    })
}

fn progress_box(state: &WebState, user: &CurrentUser, p: &BroadcastProgress) -> Markup {
    let count = |key: &str, label: &str, n: i64| {
        html! { span.count { (state.t(label)) " " span data-count=(key) { (n) } } }
    };
    let sending = !p.cancelled && p.pending > 0;
    html! {
        div.progress data-progress=(format!("/broadcasts/{}/progress.json", p.id)) data-pending=(if sending { p.pending } else { 0 })
            data-done-text=(state.t("broadcast.status_done")) data-cancelled-text=(state.t("broadcast.status_cancelled")) {
            svg.bar viewBox="0 0 100 6" preserveAspectRatio="none" role="img"
                aria-label=(state.ta("web.broadcasts.bar_label", &[("sent", &p.sent), ("total", &p.total)])) {
                rect.bg x="0" y="0" width="100" height="6" {}
                @for (part, x, w) in bar_parts(p) {
                    rect class=(part) data-part=(part) x=(format!("{x:.3}")) y="0" width=(format!("{w:.3}")) height="6" {}
                }
            }
            div.counts {
                span data-status { (status_text(state, p)) } " · "
                (count("sent", "web.broadcasts.sent", p.sent))
                (count("pending", "web.broadcasts.pending", p.pending))
                (count("failed", "web.broadcasts.failed", p.failed))
                (count("blocked", "web.broadcasts.blocked", p.blocked))
                @if p.uncertain > 0 { (count("uncertain", "web.broadcasts.uncertain", p.uncertain)) }
                @if p.not_sent > 0 { (count("not_sent", "web.broadcasts.not_sent", p.not_sent)) }
                " / " (count("total", "web.broadcasts.total", p.total))
            }
            @if sending {
                form.inline method="post" action=(format!("/broadcasts/{}/cancel", p.id)) data-while-pending {
                    (auth::csrf(user))
                    button.secondary type="submit" { (state.t("web.broadcasts.cancel")) }
                }
            }
        }
    }
}

async fn list(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
    Query(lp): Query<ListPage>,
) -> Result<Markup, WebError> {
    require_staff(&user)?;
    let all = state.app.store.recent_broadcasts(RECENT).await?;
    let queued = all.iter().find(|p| Some(p.id) == q.id).map(|p| p.total);
    let Slice { items: list, matched } =
        lp.slice(all, |p| format!("#{} {} {}", p.id, p.topic_title.as_deref().unwrap_or(""), p.text));
    let message = match (q.ok.as_deref(), q.id) {
        (Some("queued"), Some(id)) => {
            queued.map(|total| state.ta("web.broadcasts.queued", &[("id", &id), ("count", &total)]))
        }
        (Some("queued_already"), Some(id)) => {
            queued.map(|total| state.ta("web.broadcasts.queued_already", &[("id", &id), ("count", &total)]))
        }
        (Some("cancelled"), Some(id)) => {
            Some(state.ta("web.broadcasts.cancelled", &[("id", &id), ("count", &q.n.unwrap_or(0))]))
        }
        (Some("already"), Some(id)) => Some(state.ta("broadcast.already_stopped", &[("id", &id)])),
        (Some("nothing"), Some(id)) => Some(state.ta("broadcast.nothing_to_stop", &[("id", &id)])),
        _ => None,
    };
    let title = state.t("web.broadcasts.title");
    let body = html! {
        h1 { (title) }
        (notice(message))
        p { a.button href="/broadcasts/new" { (state.t("web.broadcasts.new")) } }
        (lp.search_form(&state, "/broadcasts"))
        @if list.is_empty() {
            p.muted { (state.t("broadcast.list_empty")) }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th { "#" }
                    th { (state.t("web.broadcasts.col_when")) }
                    th { (state.t("web.broadcasts.col_topic")) }
                    th { (state.t("web.broadcasts.col_audience")) }
                    th { (state.t("web.broadcasts.col_progress")) }
                } }
                tbody { @for p in &list {
                    tr {
                        td { (p.id) }
                        td { (local(&state, p.created_at, "%Y-%m-%d %H:%M")) }
                        td {
                            (p.topic_title.clone().unwrap_or_else(|| state.t("broadcast.topic_none")))
                            details { summary { (state.t("web.broadcasts.text")) } div.pre { (p.text) } }
                        }
                        td { (audience_label(&state, p.audience_kind, &p.audience_value)) }
                        td { (progress_box(&state, &user, p)) }
                    }
                } }
            } }
        }
        (lp.pager(&state, "/broadcasts", matched))
        script src="/assets/app.js" defer {}
    };
    Ok(page(&state, &user, "/topics", &title, body))
}

async fn progress_json(
    State(state): State<WebState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, WebError> {
    require_staff(&user)?;
    let p = state.app.store.broadcast_progress(id).await?.ok_or(WebError::NotFound)?;
    Ok(Json(serde_json::json!({
        "id": p.id,
        "total": p.total,
        "sent": p.sent,
        "pending": p.pending,
        "failed": p.failed,
        "blocked": p.blocked,
        "uncertain": p.uncertain,
        "not_sent": p.not_sent,
        "cancelled": p.cancelled,
    })))
}

async fn cancel(
    State(state): State<WebState>,
    Path(id): Path<i64>,
    Posted { user, .. }: Posted<NoFields>,
) -> Result<Redirect, WebError> {
    let p = state.app.store.broadcast_progress(id).await?.ok_or(WebError::NotFound)?;
    if p.cancelled {
        return Ok(Redirect::to(&format!("/broadcasts?ok=already&id={id}")));
    }
    if p.pending == 0 {
        return Ok(Redirect::to(&format!("/broadcasts?ok=nothing&id={id}")));
    }
    let stopped = state.app.store.cancel_broadcast(id).await?.ok_or(WebError::NotFound)?;
    let now = state.app.clock.now();
    let detail = state.ta("web.audit.detail_broadcast_cancel", &[("count", &stopped)]);
    state.app.store.audit(user.auditor(), "broadcast.cancel", &format!("broadcast:{id}"), &detail, now).await?;
    tracing::info!(broadcast_id = id, stopped, user_id = user.user.id, "broadcast stopped from the console");
    Ok(Redirect::to(&format!("/broadcasts?ok=cancelled&id={id}&n={stopped}")))
}
