//! One suggestion: everything the member sent, who handles it, what happened, and the actions the
//! viewer may take, each decided by `workflow::permitted` and `workflow::allowed_in`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Months, NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::{local_date, local_time, reference_example, visibility};
use crate::domain::{EntryChannel, ReferenceNo};
use crate::letter::{LetterField, ReplyLetter};
use crate::reply::Action as Said;
use crate::store::{
    Addressee, AssignmentRole, AssignmentStatus, AttachmentKind, Committed, CosignStatus, Facts, HeldNotification,
    Rating, Role,
};
use crate::web::auth::{self, CurrentUser};
use crate::web::{WebError, WebState, layout};
use crate::workflow::{self, Act, Actor, Command};

mod confirm;

/// The acts the detail page offers, in the order it shows them, each with its slug in the form's
/// path (`/suggestions/{id}/act/{slug}`) and in the locale keys (`web.inbox.detail.act_{slug}`).
const OFFERED: [(Act, &str); 18] = [
    (Act::Accept, "accept"),
    (Act::Reject, "reject"),
    (Act::Merge, "merge"),
    (Act::Assign, "assign"),
    (Act::Instruct, "instruct"),
    (Act::Adopt, "adopt"),
    (Act::Key, "key"),
    (Act::Acknowledge, "acknowledge"),
    (Act::Return, "return"),
    (Act::Reply, "reply"),
    (Act::CoOpinion, "co_opinion"),
    (Act::RecordRating, "record_rating"),
    (Act::ApproveReply, "approve_reply"),
    (Act::ReclassifyReply, "reclassify_reply"),
    (Act::ReturnReply, "return_reply"),
    (Act::Countersign, "countersign"),
    (Act::ProposeChanges, "propose_changes"),
    (Act::SendOn, "send_on"),
];

/// The slug of an act the page offers; `""` for one it does not.
fn slug(act: Act) -> &'static str {
    OFFERED.iter().find(|(a, _)| *a == act).map_or("", |(_, slug)| slug)
}

/// The act a slug names, if the page offers it.
fn parse_act(s: &str) -> Option<Act> {
    OFFERED.iter().find(|(_, slug)| *slug == s).map(|(act, _)| *act)
}

fn label(state: &WebState, act: Act) -> String {
    state.t(&format!("web.inbox.detail.act_{}", slug(act)))
}

/// The posted fields of a form, every value of a repeated name kept (the co-departments).
#[derive(Debug, Clone, Default)]
pub struct Fields(HashMap<String, Vec<String>>);

impl Fields {
    fn parse(body: &[u8]) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            map.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Self(map)
    }
    fn get(&self, name: &str) -> &str {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str).unwrap_or("")
    }
    fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// What the page says above everything: a success, or a refusal with the form kept as typed.
enum Outcome {
    None,
    /// Staff have just entered it for the member (代为提交).
    Entered,
    Done(Act),
    /// The same confirmed form again (a double click, a resent form): nothing was done twice.
    AlreadyDone(Act),
    Refused {
        action: Act,
        message: String,
        fields: Fields,
    },
    /// Back from the confirmation to change something: the form as it was filled in.
    Editing {
        action: Act,
        fields: Fields,
    },
}

/// The acts that cannot be undone: the page shows what will happen and asks first.
const ASKS_FIRST: [Act; 5] = [Act::Assign, Act::Reply, Act::Reject, Act::Merge, Act::RecordRating];

/// The once-only key of a confirmed form (`Change::once_key`), from the nonce its confirmation
/// page carried: the same confirmation posted twice applies once. `None` without a nonce.
fn confirmed_key(nonce: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    let nonce = nonce.trim();
    if nonce.is_empty() {
        return None;
    }
    Some(format!("confirmed:{}", hex::encode(&Sha256::digest(nonce.as_bytes())[..16])))
}

/// The suggestion's facts if this user may see it; otherwise not found (never "forbidden": a
/// department is not told that another department's suggestion exists).
pub(super) async fn visible_facts(state: &WebState, user: &CurrentUser, id: i64) -> Result<Facts, WebError> {
    visibility(user)?;
    let facts = state.app.store.facts(id).await?.ok_or(WebError::NotFound)?;
    if workflow::permitted(&Actor::User(&user.user), Act::View, &facts) { Ok(facts) } else { Err(WebError::NotFound) }
}

/// Whether the page offers this action to this viewer now.
fn offered(user: &CurrentUser, facts: &Facts, act: Act) -> bool {
    let actor = Actor::User(&user.user);
    // 代为评价 is offered where the lead member may rate, or an accepted co-signer may.
    let co_rating = act == Act::RecordRating
        && workflow::allowed_in(Act::CoRate, facts.state)
        && facts.cosigners.iter().any(|c| c.status == CosignStatus::Accepted);
    if !(workflow::permitted(&actor, act, facts) && (workflow::allowed_in(act, facts.state) || co_rating)) {
        return false;
    }
    // What has been done already is not offered again (`plan` refuses it too).
    match act {
        Act::Adopt => !facts.adopted,
        // A co-department countersigns a draft once.
        Act::Countersign | Act::ProposeChanges => {
            let department_id = actor.department_id();
            !facts.draft.as_ref().is_some_and(|d| d.countersigns.iter().any(|c| Some(c.department_id) == department_id))
        }
        Act::Acknowledge => {
            actor.department_id().and_then(|d| facts.active_assignment(d)).is_some_and(|a| !a.acknowledged)
        }
        _ => true,
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    done: String,
}

pub async fn page(
    State(state): State<WebState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let facts = visible_facts(&state, &user, id).await?;
    let outcome = match q.done.as_str() {
        "entered" => Outcome::Entered,
        done => parse_act(done).map(Outcome::Done).unwrap_or(Outcome::None),
    };
    Ok(render(&state, &user, facts, outcome).await?.into_response())
}

pub async fn by_reference(
    State(state): State<WebState>,
    user: CurrentUser,
    Path(reference): Path<String>,
) -> Result<Response, WebError> {
    visibility(&user)?;
    let reference = crate::bounds::clip(reference.trim(), crate::bounds::REFERENCE_MAX_CHARS);
    let id = match ReferenceNo::find(&reference) {
        Some(r) => state.app.store.suggestion_id_by_reference(&r.to_string()).await?,
        None => None,
    };
    let Some(id) = id else { return Ok(not_found_reference(&state, &user, &reference)) };
    match visible_facts(&state, &user, id).await {
        Ok(facts) => Ok(render(&state, &user, facts, Outcome::None).await?.into_response()),
        Err(WebError::NotFound) => Ok(not_found_reference(&state, &user, &reference)),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    reference: String,
}

/// The lookup box: goes to the suggestion with that reference number.
pub async fn lookup(user: CurrentUser, Query(q): Query<LookupQuery>) -> Result<Response, WebError> {
    visibility(&user)?;
    // Read as typed (`pd－2026－0001`, `编号：PD-2026-0001`); the page it leads to says if it is unknown.
    let typed = crate::bounds::clip(q.reference.trim(), crate::bounds::REFERENCE_MAX_CHARS);
    let reference = ReferenceNo::find(&typed).map_or_else(|| typed.to_string(), |r| r.to_string());
    let encoded: String = url::form_urlencoded::byte_serialize(reference.as_bytes()).collect();
    Ok(Redirect::to(&format!("/suggestions/ref/{encoded}")).into_response())
}

fn not_found_reference(state: &WebState, user: &CurrentUser, reference: &str) -> Response {
    let title = state.t("web.error.not_found");
    let body = html! {
        h1 { (title) }
        div.banner.error role="alert" { (state.ta("web.inbox.lookup_not_found", &[("reference", &reference), ("example", &reference_example(state))])) }
        p { a href="/suggestions" { (state.t("web.inbox.detail.back")) } }
    };
    (StatusCode::NOT_FOUND, layout::page(state, Some((&user.user, &user.csrf)), "/suggestions", &title, body))
        .into_response()
}

/// Turns a form into the workflow command, or says what is wrong with it.
fn command(state: &WebState, action: Act, f: &Fields) -> Result<Command, String> {
    Ok(match action {
        Act::Accept => Command::Accept,
        Act::Reject => Command::Reject { reason: f.get("reason").to_string() },
        Act::Merge => Command::Merge { into_reference: f.get("reference").to_string() },
        Act::Assign => {
            let lead = f.get("lead").trim().parse::<i64>().map_err(|_| state.t("web.inbox.detail.choose_lead"))?;
            let mut co = Vec::new();
            for c in f.all("co") {
                if c.trim().is_empty() {
                    continue;
                }
                co.push(c.trim().parse::<i64>().map_err(|_| state.t("workflow.refused.unknown_department"))?);
            }
            let typed = f.get("deadline").trim();
            let deadline = if typed.is_empty() {
                None
            } else {
                let offset = state.app.config.offset();
                let now = state.app.clock.now();
                let date = NaiveDate::parse_from_str(&typed.replace(['/', '.'], "-"), "%Y-%m-%d").map_err(|_| {
                    state.ta(
                        "web.inbox.detail.bad_deadline",
                        &[("value", &typed), ("example", &state.date_example(true))],
                    )
                })?;
                if date <= now.with_timezone(&offset).date_naive() {
                    return Err(state.ta("web.inbox.detail.past_deadline", &[("date", &date)]));
                }
                // Due at the end of that day, the committee's time (as in the Telegram dialog).
                date.and_hms_opt(23, 59, 59)
                    .and_then(|t| t.and_local_timezone(offset).single())
                    .map(|t| t.with_timezone(&Utc))
            };
            Command::Assign { lead, co, deadline }
        }
        Act::Instruct => Command::Instruct { text: f.get("text").to_string() },
        Act::Adopt => Command::Adopt,
        // The form's second button (取消重点) takes the mark off; the first marks or changes the leader.
        Act::Key if !f.get("unmark").is_empty() => Command::UnmarkKey,
        Act::Key => Command::MarkKey { leader: f.get("leader").to_string() },
        Act::Acknowledge => Command::Acknowledge,
        Act::Return => Command::Return { reason: f.get("reason").to_string() },
        Act::Reply => Command::Reply {
            class: f.get("class").trim().to_string(),
            text: f.get("text").to_string(),
            document: None,
            letter: Box::new(ReplyLetter::from_parts(
                f.get("letter_number"),
                f.get("letter_title"),
                f.get("letter_contact"),
                f.get("letter_phone"),
            )),
        },
        Act::CoOpinion => Command::CoOpinion { text: f.get("text").to_string() },
        Act::RecordRating => {
            let rating = match f.get("rating").trim() {
                "satisfied" => Rating::Satisfied,
                "basically_satisfied" => Rating::BasicallySatisfied,
                "dissatisfied" => Rating::Dissatisfied,
                _ => return Err(state.t("web.inbox.detail.choose_rating")),
            };
            let channel =
                EntryChannel::parse(f.get("channel")).ok_or_else(|| state.t("web.inbox.detail.choose_channel"))?;
            // The reply the form was filled in for: a newer reply since makes it stale.
            let reply_no = f.get("reply_no").trim().parse().unwrap_or(0);
            // Whose rating: the lead member's (empty, "lead") or an accepted co-signer's (member id).
            let cosigner = match f.get("whose").trim() {
                "" | "lead" => None,
                id => Some(id.parse::<i64>().map_err(|_| state.t("web.inbox.detail.choose_whose"))?),
            };
            Command::RecordRating { reply_no, rating, reason: f.get("reason").to_string(), channel, cosigner }
        }
        Act::ApproveReply => Command::ApproveReply { class: None, reason: String::new() },
        Act::ReclassifyReply => Command::ApproveReply {
            class: Some(f.get("class").trim().to_string()),
            reason: f.get("reason").to_string(),
        },
        Act::ReturnReply => Command::ReturnReply { note: f.get("note").to_string() },
        Act::Countersign => Command::Countersign { agree: true, text: f.get("text").to_string() },
        Act::ProposeChanges => Command::Countersign { agree: false, text: f.get("text").to_string() },
        Act::SendOn => Command::SendOn,
        // Not in `OFFERED`: members rate, withdraw and co-sign in the bot, and viewing is no form.
        Act::View | Act::Rate | Act::Withdraw | Act::Cosign | Act::CoRate | Act::JoinCosign => {
            return Err(state.t("workflow.refused.denied"));
        }
    })
}

/// What the audit log records of a command, in words (departments by name, dates as dates).
async fn audit_detail(state: &WebState, c: &Command) -> Result<String, WebError> {
    let name = |id: i64| async move {
        Ok::<_, WebError>(state.app.store.department(id).await?.map(|d| d.name).unwrap_or_else(|| format!("#{id}")))
    };
    Ok(match c {
        Command::Reject { reason } | Command::Return { reason } => reason.trim().to_string(),
        Command::Merge { into_reference } => into_reference.trim().to_uppercase(),
        Command::Assign { lead, co, deadline } => {
            let mut co_names = Vec::new();
            for id in co {
                co_names.push(name(*id).await?);
            }
            let co = if co_names.is_empty() { state.t("web.audit.no_co") } else { co_names.join("、") };
            let deadline = match deadline {
                Some(d) => local_date(state, *d),
                None => state.t("web.audit.default_deadline"),
            };
            state.ta("web.audit.detail_assign", &[("lead", &name(*lead).await?), ("co", &co), ("deadline", &deadline)])
        }
        Command::Instruct { text } | Command::CoOpinion { text } => text.trim().to_string(),
        Command::MarkKey { leader } => leader.trim().to_string(),
        Command::Reply { class, text, .. } => format!("{class}：{}", text.trim()),
        Command::RecordRating { rating, reason, channel, .. } => {
            let label = state.t(&format!("rating.{}", rating.as_str()));
            let channel = state.t(&format!("entry_channel.{}", channel.code()));
            let detail = state.ta("web.audit.detail_record_rating", &[("rating", &label), ("channel", &channel)]);
            if reason.trim().is_empty() { detail } else { format!("{detail}：{}", reason.trim()) }
        }
        Command::ApproveReply { class: Some(class), reason } => format!("{class}：{}", reason.trim()),
        Command::ReturnReply { note } => note.trim().to_string(),
        Command::Countersign { text, .. } => text.trim().to_string(),
        _ => String::new(),
    })
}

pub async fn act(
    State(state): State<WebState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, WebError> {
    let fields = Fields::parse(&body);
    user.check_csrf(fields.get("_csrf"))?;
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let action = parse_act(&action).ok_or(WebError::NotFound)?;
    let facts = visible_facts(&state, &user, id).await?;
    let step = fields.get("_step").to_string();
    if step == "edit" {
        let outcome = Outcome::Editing { action, fields };
        return Ok(render(&state, &user, facts, outcome).await?.into_response());
    }
    let asks_first = ASKS_FIRST.contains(&action);
    let confirmed = if asks_first && step == "confirm" { confirmed_key(fields.get("_once")) } else { None };
    if confirmed.as_deref().is_some_and(|k| facts.done(k)) {
        return Ok(render(&state, &user, facts, Outcome::AlreadyDone(action)).await?.into_response());
    }
    let refused = |message: String, facts: Facts, fields: Fields| {
        let state = state.clone();
        let user = user.clone();
        async move {
            let page = render(&state, &user, facts, Outcome::Refused { action, message, fields }).await?;
            Ok::<_, WebError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    };
    let command = match command(&state, action, &fields) {
        Ok(c) => c,
        Err(message) => return refused(message, facts, fields).await,
    };
    let detail = audit_detail(&state, &command).await?;
    let ctx = state.ctx();
    let now = ctx.now;
    let mut change = match workflow::plan(&ctx, &Actor::User(&user.user), id, command.clone()).await? {
        Ok(change) => change,
        Err(workflow::Refusal::NotFound) => return Err(WebError::NotFound),
        Err(refusal) => {
            // A parallel copy of this confirmation may have applied since the check above.
            let facts = visible_facts(&state, &user, id).await?;
            if confirmed.as_deref().is_some_and(|k| facts.done(k)) {
                return Ok(render(&state, &user, facts, Outcome::AlreadyDone(action)).await?.into_response());
            }
            return refused(refusal_text(&state, &refusal), facts, fields).await;
        }
    };
    if asks_first && confirmed.is_none() {
        let page = confirm::page(&state, &user, &facts, action, &command, &change, &fields).await?;
        return Ok(page.into_response());
    }
    if change.once_key.is_none() {
        change.once_key = confirmed.clone();
    }
    match state.app.store.apply_change(change, now).await? {
        Committed::Done { .. } => {
            state
                .app
                .store
                .audit(user.auditor(), &format!("suggestion.{}", slug(action)), &facts.reference_no, &detail, now)
                .await?;
            Ok(Redirect::to(&format!("/suggestions/{id}?done={}", slug(action))).into_response())
        }
        Committed::Conflict | Committed::AlreadyProcessed => {
            let facts = visible_facts(&state, &user, id).await?;
            if confirmed.as_deref().is_some_and(|k| facts.done(k)) {
                return Ok(render(&state, &user, facts, Outcome::AlreadyDone(action)).await?.into_response());
            }
            refused(state.t("web.inbox.detail.conflict"), facts, fields).await
        }
    }
}

/// A refusal said in the console's words where the bot's asks to "send again"; the others are the
/// workflow's own (`workflow.refused.*`).
fn refusal_text(state: &WebState, refusal: &workflow::Refusal) -> String {
    use workflow::Refusal as R;
    match refusal {
        R::EmptyText => state.t("web.refused.empty_text"),
        R::TooLong(max) => state.ta("web.refused.too_long", &[("max", max)]),
        R::UnknownReplyClass => state.t("web.refused.unknown_reply_class"),
        R::UnknownReference => state.ta("web.refused.unknown_reference", &[("example", &reference_example(state))]),
        R::MergeIntoItself => state.t("web.refused.merge_into_itself"),
        other => other.render(&state.ctx(), state.lang()),
    }
}

fn file_size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / 1024.0 / 1024.0),
        b if b >= 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// The notifications about this suggestion that were kept because their recipient could not be
/// written to yet: to whom, what, and whether they have gone out since.
fn held_section(state: &WebState, held: &[HeldNotification]) -> Markup {
    let t = |k: &str| state.t(k);
    let waiting = held.iter().filter(|h| h.released_at.is_none()).count();
    html! {
        h2 id="held" { (state.ta("web.inbox.detail.held", &[("count", &waiting)])) }
        p.muted { (t("web.inbox.detail.held_note")) }
        div.table-wrap { table {
            thead { tr {
                th { (t("web.inbox.detail.held_to")) } th { (t("web.inbox.detail.held_text")) }
                th { (t("web.inbox.detail.held_at")) } th { (t("web.inbox.detail.status")) }
            } }
            tbody { @for h in held { tr {
                td { @match h.to {
                    Addressee::Member(_) => { (state.ta("web.inbox.detail.held_to_member", &[("name", &h.name)])) }
                    Addressee::Department(_) => { (state.ta("web.inbox.detail.held_to_department", &[("name", &h.name)])) }
                    Addressee::Staff => { (t("web.inbox.detail.held_to_staff")) }
                } }
                td { div.text { @match Said::decode(&h.payload) {
                    Ok(Said::Send { text, .. }) => (text),
                    Ok(Said::File { caption, .. } | Said::Upload { caption, .. }) => { (t("web.inbox.detail.held_file")) " " (caption) }
                    Ok(Said::Retire { .. }) | Err(_) => "—",
                } } }
                td { (local_time(state, h.created_at)) }
                td { @match h.released_at {
                    None => strong { (t("web.inbox.detail.held_waiting")) },
                    Some(at) => { (state.ta("web.inbox.detail.held_released", &[("at", &local_time(state, at))])) }
                } }
            } } }
        } }
    }
}

async fn render(state: &WebState, user: &CurrentUser, facts: Facts, outcome: Outcome) -> Result<Markup, WebError> {
    let store = &state.app.store;
    let s = store.suggestion(facts.id).await?.ok_or(WebError::NotFound)?;
    let member = store.member_by_id(s.member_id).await?;
    let replies = store.replies_of(facts.id).await?;
    let opinions = store.co_opinions(facts.id).await?;
    let timeline = store.timeline_of(facts.id).await?;
    let cosigner_ratings =
        if facts.cosigners.is_empty() { Vec::new() } else { store.cosigner_ratings(facts.id).await? };
    let now = state.app.clock.now();
    let accepted: Vec<&str> =
        facts.cosigners.iter().filter(|c| c.status == CosignStatus::Accepted).map(|c| c.name.as_str()).collect();
    // Pushes kept for someone the bot could not write to yet: staff see who still waits for what.
    let held = if user.user.role == Role::Department { Vec::new() } else { store.held_notifications(facts.id).await? };
    let offered: Vec<Act> = OFFERED.into_iter().map(|(act, _)| act).filter(|a| offered(user, &facts, *a)).collect();
    let needs_departments = offered.contains(&Act::Assign);
    let departments = if needs_departments { store.departments().await? } else { Vec::new() };
    // Departments nobody would hear an assignment in are marked in the choice (and warned of on
    // the confirmation page).
    let silent: Vec<i64> = if needs_departments {
        let reach = super::channels(state).await?;
        departments.iter().map(|d| d.id).filter(|id| !reach.get(id).copied().unwrap_or_default().receives()).collect()
    } else {
        Vec::new()
    };
    // Staff see the suggestions most like it on the same topic, each one click from 并案.
    let similar = if user.user.role == Role::Department { Vec::new() } else { similar_to(state, &s).await? };
    let can_merge = offered.contains(&Act::Merge);
    let t = |k: &str| state.t(k);
    let title = format!("{} {}", s.reference_no, s.title);
    // Sent by the member, or entered by staff for them (代为提交): said as such.
    let entry = match (s.entered_by, s.entered_via) {
        (Some(user_id), Some(via)) => {
            let name = store.user(user_id).await?.map(|u| u.name).unwrap_or_else(|| format!("#{user_id}"));
            let channel = t(&format!("entry_channel.{}", via.code()));
            state.ta("web.inbox.export.entered_for", &[("name", &name), ("channel", &channel)])
        }
        _ => t("web.inbox.export.entered_self"),
    };
    let body = html! {
        p { a href="/suggestions" { "← " (t("web.inbox.detail.back")) } }
        @match &outcome {
            Outcome::Done(a) => { div.banner.ok role="status" { (state.ta("web.inbox.detail.done", &[("action", &label(state, *a))])) } }
            Outcome::AlreadyDone(a) => {
                div.banner.ok role="status" { (state.ta("web.inbox.detail.already_done", &[("action", &label(state, *a))])) }
            }
            Outcome::Refused { action, message, .. } => {
                div.banner.error role="alert" { (label(state, *action)) "：" (message) }
            }
            Outcome::Editing { action, .. } => {
                div.banner role="status" { (state.ta("web.inbox.detail.editing", &[("action", &label(state, *action))])) }
            }
            Outcome::Entered => {
                div.banner.ok role="status" { (state.ta("web.enter.done", &[("reference", &s.reference_no)])) }
            }
            Outcome::None => {}
        }
        h1 { span.muted { (s.reference_no) } " " (s.title) }
        p.export-links { a.button.secondary href=(format!("/suggestions/{}/document.docx", facts.id)) { (t("web.inbox.detail.download_docx")) } }
        dl.facts {
            dt { (t("web.inbox.col_state")) } dd { span.state { (t(&format!("state.{}", s.state.code()))) }
                @if facts.adopted { " " span.state { (t("web.inbox.detail.adopted")) } }
            @if let Some(leader) = &facts.key_leader { " " span.state.key { (state.ta("web.inbox.detail.key_is", &[("leader", leader)])) } } }
            dt { (t("web.inbox.col_member")) }
            dd { @if let Some(m) = &member { (m.name) " · " (m.member_no) " · " (m.workstation.as_deref().unwrap_or("—")) } @else { "—" } }
            @if !facts.cosigners.is_empty() {
                dt { (t("web.inbox.detail.cosigners")) }
                dd { @if accepted.is_empty() { "—" } @else { (accepted.join("、")) } }
            }
            dt { (t("web.inbox.col_topic")) } dd { (s.topic_title.as_deref().unwrap_or("—")) }
            dt { (t("web.inbox.col_kind")) } dd { (t(&format!("kind.{}", s.kind.code()))) }
            dt { (t("web.inbox.col_submitted")) } dd { (local_time(state, s.created_at)) }
            dt { (t("web.inbox.detail.entry")) } dd { (entry) }
            dt { (t("web.inbox.col_deadline")) } dd { @match facts.deadline { Some(d) => (local_date(state, d)), None => "—" } }
        }
        h2 { (state.ta("web.inbox.detail.points", &[("count", &s.points.len())])) }
        ol.points { @for p in &s.points { li { (p) } } }
        h2 { (t("web.inbox.detail.attachments")) }
        @if s.attachments.is_empty() {
            p.muted { (t("web.inbox.detail.no_attachments")) }
        } @else {
            p.muted { (t("web.inbox.detail.attachments_note")) }
            div.table-wrap { table {
                thead { tr { th { (t("web.inbox.detail.att_name")) } th { (t("web.inbox.detail.att_type")) } th { (t("web.inbox.detail.att_size")) } } }
                tbody { @for a in &s.attachments { tr {
                    td {
                        (a.file_name.as_deref().unwrap_or("—"))
                        @if a.kind == AttachmentKind::Stored {
                            " " a href=(format!("/suggestions/{}/files/{}", s.id, a.file_unique_id)) { (t("web.inbox.detail.download")) }
                        }
                    }
                    td {
                        (t(&format!("web.inbox.detail.att_{}", a.kind.as_str())))
                        @if let Some(m) = &a.mime_type { " · " (m) }
                        @if let (Some(w), Some(h)) = (a.width, a.height) { " · " (w) "×" (h) }
                    }
                    td { @match a.file_size { Some(b) => (file_size(b)), None => "—" } }
                } } }
            } }
        }
        h2 { (t("web.inbox.detail.assignments")) }
        @if facts.assignments.is_empty() {
            p.muted { (t("web.inbox.detail.no_assignments")) }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th { (t("web.inbox.col_department")) } th { (t("web.inbox.detail.role")) } th { (t("web.inbox.col_deadline")) }
                    th { (t("web.inbox.detail.acknowledged")) } th { (t("web.inbox.detail.status")) }
                } }
                tbody { @for a in &facts.assignments { tr {
                    td { (a.department_name) }
                    td { (t(match a.role { AssignmentRole::Lead => "assignment.role_lead", AssignmentRole::Co => "assignment.role_co" })) }
                    td { (local_date(state, a.deadline)) }
                    td { (t(if a.acknowledged { "web.inbox.detail.yes" } else { "web.inbox.detail.no" })) }
                    td { (t(match a.status {
                        AssignmentStatus::Active => "assignment.active",
                        AssignmentStatus::Returned => "assignment.returned",
                        AssignmentStatus::Answered => "assignment.answered",
                        AssignmentStatus::Superseded => "assignment.superseded",
                    })) }
                } } }
            } }
        }
        @if !opinions.is_empty() {
            h2 { (t("web.inbox.detail.co_opinions")) }
            ul { @for o in &opinions { li { strong { (o.department_name) } " · " span.muted { (local_time(state, o.at)) } div.text { (o.text) } } } }
        }
        @if let Some(d) = &facts.draft {
            (draft_section(state, &facts, d))
        }
        @if !replies.is_empty() {
            h2 { (t("web.inbox.detail.replies")) }
            @for r in &replies {
                div.card.reply {
                    @let class_label = state.app.config.workflow.reply_classes().into_iter().find(|c| c.code == r.reply_class).map(|c| c.label).unwrap_or_default();
                    div { strong { (r.department_name) } " · " (t("web.inbox.detail.reply_class")) " " (r.reply_class) " " (class_label) " · " span.muted { (local_time(state, r.at)) } }
                    div.text { (r.text) }
                    p { a href=(format!("/suggestions/{}/replies/{}/letter.docx", facts.id, r.id)) { (t("web.inbox.detail.download_letter")) } }
                    @if !r.letter.is_empty() {
                        dl.facts.letter {
                            @for l in LetterField::ALL { @if let Some(v) = r.letter.get(l) {
                                dt { (t(&format!("letter.{}", l.name()))) } dd { (v) }
                            } }
                        }
                    }
                    @if let Some(d) = &r.document {
                        div.muted { (t("web.inbox.detail.reply_document")) "：" (d.file_name.as_deref().unwrap_or("—"))
                            @if let Some(b) = d.file_size { " · " (file_size(b)) } }
                    }
                    div { (t("web.inbox.detail.rating")) "："
                        @match &r.rating {
                            Some((code, reason, at)) => {
                                (t(&format!("rating.{code}")))
                                @if !reason.is_empty() { "（" (reason) "）" }
                                " " span.muted { (local_time(state, *at)) }
                            }
                            None => span.muted { (t("web.inbox.detail.not_rated")) },
                        }
                    }
                }
            }
        }
        @if !facts.cosigners.is_empty() {
            h2 { (t("web.inbox.detail.cosign_section")) }
            div.table-wrap { table {
                thead { tr {
                    th { (t("web.inbox.detail.cosign_member")) } th { (t("web.inbox.detail.cosign_status")) }
                    th { (t("web.inbox.detail.cosign_invited_at")) } th { (t("web.inbox.detail.cosign_answered_at")) }
                } }
                tbody { @for c in &facts.cosigners { tr {
                    td { (c.name) }
                    td { (t(&format!("cosign_status.{}", c.status_at(now).as_str()))) }
                    td { (local_time(state, c.invited_at)) }
                    td { @match c.answered_at { Some(at) => (local_time(state, at)), None => "—" } }
                } } }
            } }
        }
        @if !cosigner_ratings.is_empty() {
            h2 { (t("web.inbox.detail.cosigner_ratings")) }
            ul { @for r in &cosigner_ratings { li {
                strong { (r.name) } " · "
                (state.ta("web.inbox.detail.cosigner_rating_reply", &[("reply_no", &r.reply_no)])) " · "
                (t(&format!("rating.{}", r.rating.as_str())))
                @if !r.reason.is_empty() { "（" (r.reason) "）" }
                " " span.muted { (local_time(state, r.at)) }
            } } }
        }
        @if !similar.is_empty() {
            h2 id="similar" { (t("web.inbox.detail.similar")) }
            p.muted { (t("web.inbox.detail.similar_note")) }
            div.table-wrap { table.similar {
                thead { tr {
                    th { (t("web.inbox.col_reference")) } th { (t("web.inbox.col_title")) } th { (t("web.inbox.col_state")) }
                    th { (t("web.inbox.detail.similar_score")) } th {}
                } }
                tbody { @for (c, score) in &similar { tr data-similar=(c.reference_no) {
                    td { a href=(format!("/suggestions/{}", c.id)) { (c.reference_no) } }
                    td { (c.title) }
                    td { span.state { (t(&format!("state.{}", c.state.code()))) } }
                    td { (format!("{:.0}%", score * 100.0)) }
                    td { @if can_merge {
                        form.inline method="post" action=(format!("/suggestions/{}/act/merge", facts.id)) {
                            (auth::csrf(user))
                            input type="hidden" name="reference" value=(c.reference_no);
                            button.secondary type="submit" { (t("web.inbox.detail.similar_merge")) }
                        }
                    } }
                } } }
            } }
        }
        h2 { (t("web.inbox.detail.timeline")) }
        ol.timeline { @for e in &timeline { li {
            span.muted { (local_time(state, e.at)) } " · "
            (t(&format!("web.inbox.detail.actor_{}", actor_kind(&e.actor_kind))))
            @if let Some(n) = &e.actor_name { " " (n) } " · "
            strong { (t(&format!("event.{}", e.event))) }
            @if !e.text.is_empty() { div.text { (e.text) } }
        } } }
        @if !held.is_empty() {
            (held_section(state, &held))
        }
        h2 { (t("web.inbox.detail.actions")) }
        @if offered.is_empty() {
            p.muted { (t("web.inbox.detail.no_actions")) }
        } @else {
            div.actions {
                @for a in &offered {
                    @let prefill = match &outcome {
                        Outcome::Refused { action, fields, .. } | Outcome::Editing { action, fields } if action == a => Some(fields),
                        _ => None,
                    };
                    (action_form(state, user, &facts, *a, prefill, &departments, &silent))
                }
            }
        }
    };
    Ok(layout::page(state, Some((&user.user, &user.csrf)), "/suggestions", &title, body))
}

/// The reply on its way to the member (会签 or 督办): its class, text and file, and each
/// co-department's countersign.
fn draft_section(state: &WebState, facts: &Facts, d: &crate::store::ReplyDraft) -> Markup {
    use crate::store::DraftStatus;
    let t = |k: &str| state.t(k);
    let heading = match d.countersign_deadline {
        Some(deadline) if d.status == DraftStatus::Countersign => {
            state.ta("web.inbox.detail.draft_countersign", &[("deadline", &local_date(state, deadline))])
        }
        _ => t("web.inbox.detail.draft"),
    };
    let classes = state.app.config.workflow.reply_classes();
    let class_label = classes.iter().find(|c| c.code == d.reply_class).map(|c| c.label.clone()).unwrap_or_default();
    let department =
        facts.assignments.iter().find(|a| a.department_id == d.department_id).map(|a| a.department_name.clone());
    // Each co-department with its answer, or `None` while it has not countersigned.
    let countersigns: Vec<(String, Option<String>)> = if d.status == DraftStatus::Countersign {
        facts
            .assignments
            .iter()
            .filter(|a| a.role == AssignmentRole::Co)
            .filter(|a| matches!(a.status, AssignmentStatus::Active | AssignmentStatus::Answered))
            .map(|a| {
                let answer = d.countersigns.iter().find(|c| c.department_id == a.department_id).map(|c| {
                    match (c.agreed, c.text.is_empty()) {
                        (true, true) => t("countersign.agreed"),
                        (true, false) => state.ta("countersign.agreed_with", &[("text", &c.text)]),
                        (false, _) => state.ta("countersign.proposed", &[("text", &c.text)]),
                    }
                });
                (a.department_name.clone(), answer)
            })
            .collect()
    } else {
        Vec::new()
    };
    html! {
        h2 id="draft" { (heading) }
        div.card.reply {
            div { strong { (department.unwrap_or_default()) } " · " (t("web.inbox.detail.reply_class")) " " (d.reply_class) " " (class_label) " · " span.muted { (local_time(state, d.created_at)) } }
            div.text { (d.text) }
            @if let Some(a) = d.attachment() {
                div.muted { (t("web.inbox.detail.reply_document")) "：" (a.file_name.as_deref().unwrap_or("—")) }
            }
            @if !countersigns.is_empty() {
                h3 { (t("web.inbox.detail.countersigns")) }
                ul { @for (name, answer) in &countersigns {
                    li { strong { (name) } "："
                        @if let Some(answer) = answer { (answer) } @else { span.muted { (t("web.inbox.detail.no_countersign")) } }
                    }
                } }
            }
        }
    }
}

/// The suggestions on the same topic most like `s` (at most five, the most alike first), with
/// their scores (`crate::similar`).
async fn similar_to(
    state: &WebState,
    s: &crate::store::Suggestion,
) -> Result<Vec<(crate::store::inbox::SimilarCandidate, f64)>, WebError> {
    use crate::similar::{Profile, most_alike};
    let limit = crate::store::inbox::SIMILAR_CANDIDATES;
    let candidates = state.app.store.similar_candidates(s.topic_id, Some(s.id), limit).await?;
    let profiles: Vec<(usize, Profile)> =
        candidates.iter().enumerate().map(|(i, c)| (i, Profile::new(&c.title, &[c.body.as_str()]))).collect();
    let points: Vec<&str> = s.points.iter().map(String::as_str).collect();
    let wanted = Profile::new(&s.title, &points);
    Ok(most_alike(&wanted, &profiles, 5).into_iter().map(|(i, score)| (candidates[i].clone(), score)).collect())
}

fn actor_kind(kind: &str) -> &str {
    match kind {
        "member" | "staff" | "department" | "api_token" => kind,
        // Console accounts are named for what they are: committee staff or a department.
        "console_staff" => "staff",
        "console_department" => "department",
        _ => "system",
    }
}

fn action_form(
    state: &WebState,
    user: &CurrentUser,
    facts: &Facts,
    action: Act,
    prefill: Option<&Fields>,
    departments: &[crate::store::Department],
    silent: &[i64],
) -> Markup {
    let t = |k: &str| state.t(k);
    let empty = Fields::default();
    let f = prefill.unwrap_or(&empty);
    let path = format!("/suggestions/{}/act/{}", facts.id, slug(action));
    let text_area = |name: &str, label_key: &str| {
        html! { label { (t(label_key)) textarea name=(name) required maxlength=(workflow::TEXT_MAX_CHARS) { (f.get(name)) } } }
    };
    html! {
        form.stack.action id=(format!("act-{}", slug(action))) method="post" action=(path) {
            (auth::csrf(user))
            h3 { (label(state, action)) }
            @match action {
                Act::Reject => { (text_area("reason", "web.inbox.detail.reason")) }
                Act::Return => { (text_area("reason", "web.inbox.detail.return_reason")) }
                Act::Instruct => { (text_area("text", "web.inbox.detail.instruction")) }
                Act::CoOpinion => { (text_area("text", "web.inbox.detail.opinion")) }
                Act::ReturnReply => { (text_area("note", "web.inbox.detail.return_note")) }
                Act::ProposeChanges => { (text_area("text", "web.inbox.detail.proposal")) }
                Act::ReclassifyReply => {
                    label { (t("web.inbox.detail.new_class")) select name="class" required {
                        option value="" { (t("web.inbox.detail.choose")) }
                        @for c in state.app.config.workflow.reply_classes() {
                            @let current = facts.draft.as_ref().is_some_and(|d| d.reply_class == c.code);
                            @if !current {
                                option value=(c.code) selected[f.get("class") == c.code] { (c.code) " " (c.label) }
                            }
                        }
                    } }
                    (text_area("reason", "web.inbox.detail.class_reason"))
                }
                Act::Key => {
                    @let leader = if prefill.is_some() { f.get("leader") } else { facts.key_leader.as_deref().unwrap_or("") };
                    label { (t("web.inbox.detail.key_leader")) input name="leader" value=(leader) maxlength=(workflow::LEADER_MAX_CHARS); }
                }
                Act::Merge => {
                    label { (t("web.inbox.detail.merge_into")) input name="reference" value=(f.get("reference")) placeholder=(reference_example(state)) required; }
                }
                Act::Reply => {
                    label { (t("web.inbox.detail.reply_class")) select name="class" required {
                        option value="" { (t("web.inbox.detail.choose")) }
                        @for c in state.app.config.workflow.reply_classes() {
                            option value=(c.code) selected[f.get("class") == c.code] { (c.code) " " (c.label) }
                        }
                    } }
                    (text_area("text", "web.inbox.detail.reply_text"))
                    @let open = LetterField::ALL.iter().any(|l| !f.get(&format!("letter_{}", l.name())).is_empty());
                    details.letter open[open] {
                        summary { (t("web.inbox.detail.letter_fields")) }
                        p.muted { (t("web.inbox.detail.letter_note")) }
                        @for l in LetterField::ALL {
                            @let name = format!("letter_{}", l.name());
                            label { (t(&format!("letter.{}", l.name())))
                                input name=(name) value=(f.get(&name)) maxlength=(l.max_chars())
                                    placeholder=(t(&format!("letter.{}_example", l.name())));
                            }
                        }
                    }
                }
                Act::RecordRating => {
                    p.muted { (t("web.inbox.detail.record_rating_note")) }
                    input type="hidden" name="reply_no" value=(facts.replies);
                    label { (t("web.inbox.detail.whose_rating")) select name="whose" required {
                        @if workflow::allowed_in(Act::RecordRating, facts.state) {
                            option value="lead" selected[f.get("whose") == "lead"] { (t("web.inbox.detail.whose_lead")) }
                        }
                        @for c in facts.cosigners.iter().filter(|c| c.status == CosignStatus::Accepted) {
                            option value=(c.member_id) selected[f.get("whose") == c.member_id.to_string()] {
                                (state.ta("web.inbox.detail.whose_cosigner", &[("name", &c.name)]))
                            }
                        }
                    } }
                    label { (t("web.inbox.detail.rating_given")) select name="rating" required {
                        option value="" { (t("web.inbox.detail.choose")) }
                        @for code in ["satisfied", "basically_satisfied", "dissatisfied"] {
                            option value=(code) selected[f.get("rating") == code] { (t(&format!("rating.{code}"))) }
                        }
                    } }
                    label { (t("web.inbox.detail.entry_channel")) select name="channel" required {
                        option value="" { (t("web.inbox.detail.choose")) }
                        @for c in EntryChannel::ALL {
                            option value=(c.code()) selected[f.get("channel") == c.code()] { (t(&format!("entry_channel.{}", c.code()))) }
                        }
                    } }
                    label { (t("web.inbox.detail.rating_reason")) textarea name="reason" maxlength=(workflow::TEXT_MAX_CHARS) { (f.get("reason")) } }
                }
                Act::Assign => {
                    @let now = state.app.clock.now();
                    @let months = state.app.config.workflow.deadline_months;
                    @let default = local_date(state, now.checked_add_months(Months::new(months)).unwrap_or(now));
                    @let deadline = if prefill.is_some() { f.get("deadline").to_string() } else { default };
                    label { (t("web.inbox.detail.lead")) select name="lead" required {
                        option value="" { (t("web.inbox.detail.choose")) }
                        @for d in departments { option value=(d.id) selected[f.get("lead") == d.id.to_string()] {
                            (d.name) @if silent.contains(&d.id) { (t("web.inbox.detail.no_channel")) }
                        } }
                    } }
                    label { (t("web.inbox.detail.co")) select name="co" multiple size=(departments.len().clamp(2, 8)) {
                        @for d in departments { option value=(d.id) selected[f.all("co").contains(&d.id.to_string())] {
                            (d.name) @if silent.contains(&d.id) { (t("web.inbox.detail.no_channel")) }
                        } }
                    } }
                    label { (state.ta("web.inbox.detail.deadline", &[("months", &months)])) input type="date" name="deadline" value=(deadline); }
                }
                _ => {}
            }
            @if action == Act::Key {
                @if facts.key_leader.is_some() {
                    button type="submit" { (t("web.inbox.detail.key_change")) } " "
                    button.secondary type="submit" name="unmark" value="1" formnovalidate { (t("web.inbox.detail.key_unmark")) }
                } @else {
                    button type="submit" { (t("web.inbox.detail.key_mark")) }
                }
            } @else {
                button type="submit" { (label(state, action)) }
            }
        }
    }
}
