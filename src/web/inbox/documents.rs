//! Word downloads of the console: a suggestion, a reply's 答复函, and a 汇编 of the inbox's current
//! filter. Who may download is who may view (`detail::visible_facts`, the inbox's restriction);
//! the files themselves are made by `crate::documents`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};

use super::export::rfc5987;
use super::{ListQuery, detail};
use crate::documents::{self, DOCX_MIME, LetterSheet, SuggestionSheet};
use crate::store::Store;
use crate::web::auth::CurrentUser;
use crate::web::{WebError, WebState};

/// The most suggestions one compilation holds; a longer list asks for narrower filters.
pub const COMPILATION_MAX: usize = 2_000;

fn local_day(state: &WebState, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&state.app.config.offset()).date_naive()
}

/// The suggestion with this id as it is printed; `None` if there is none.
pub async fn suggestion_sheet(
    state: &WebState,
    store: &dyn Store,
    id: i64,
) -> Result<Option<SuggestionSheet>, WebError> {
    let Some(s) = store.suggestion(id).await? else { return Ok(None) };
    let lead = store.member_by_id(s.member_id).await?.map(|m| m.name).unwrap_or_default();
    // The members who accepted to co-sign (联名), in the order they were invited.
    let cosigners = store.cosigner_names(&[id]).await?.into_iter().map(|(_, name)| name).collect();
    Ok(Some(SuggestionSheet {
        reference: s.reference_no,
        lead,
        cosigners,
        topic: s.topic_title,
        kind: state.t(&format!("kind.{}", s.kind.code())),
        title: s.title,
        points: s.points,
        date: local_day(state, s.created_at),
    }))
}

/// A `.docx` answer named `name` (RFC 5987, with an ASCII `fallback`).
fn docx(bytes: Vec<u8>, name: &str, fallback: &str) -> Response {
    let ascii: String =
        fallback.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", rfc5987(name));
    ([(header::CONTENT_TYPE, DOCX_MIME.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

/// Builds a document off the async threads (zipping is CPU work).
async fn build<F>(make: F) -> Result<Vec<u8>, WebError>
where
    F: FnOnce() -> Result<Vec<u8>, documents::DocumentError> + Send + 'static,
{
    Ok(tokio::task::spawn_blocking(make).await??)
}

/// `GET /suggestions/{id}/document.docx`
pub async fn suggestion(
    State(state): State<WebState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let facts = detail::visible_facts(&state, &user, id).await?;
    let sheet = suggestion_sheet(&state, state.app.store.as_ref(), facts.id).await?.ok_or(WebError::NotFound)?;
    let (app, lang) = (state.app.clone(), state.lang());
    let name = format!("{} {}.docx", sheet.reference, sheet.title);
    let fallback = format!("{}.docx", sheet.reference);
    let bytes = build(move || documents::suggestion(&app.texts, lang, &sheet)).await?;
    Ok(docx(bytes, &name, &fallback))
}

/// `GET /suggestions/{id}/replies/{reply}/letter.docx`: the 答复函 of one of its replies.
pub async fn reply_letter(
    State(state): State<WebState>,
    user: CurrentUser,
    Path((id, reply)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let reply: i64 = reply.parse().map_err(|_| WebError::NotFound)?;
    let facts = detail::visible_facts(&state, &user, id).await?;
    let sheet = letter_sheet(&state, state.app.store.as_ref(), facts.id, reply).await?.ok_or(WebError::NotFound)?;
    let (app, lang) = (state.app.clone(), state.lang());
    let name = match &sheet.letter.number {
        Some(number) => format!("{} {number}.docx", sheet.reference),
        None => format!("{} 答复函.docx", sheet.reference),
    };
    let fallback = format!("{}-reply.docx", sheet.reference);
    let bytes = build(move || documents::reply_letter(&app.texts, lang, &sheet)).await?;
    Ok(docx(bytes, &name, &fallback))
}

/// The reply `reply_id` of suggestion `id` as its letter is printed; `None` if it has no such reply.
pub async fn letter_sheet(
    state: &WebState,
    store: &dyn Store,
    id: i64,
    reply_id: i64,
) -> Result<Option<LetterSheet>, WebError> {
    let Some(s) = store.suggestion(id).await? else { return Ok(None) };
    let Some(r) = store.replies_of(id).await?.into_iter().find(|r| r.id == reply_id) else { return Ok(None) };
    let member = store.member_by_id(s.member_id).await?.map(|m| m.name).unwrap_or_default();
    Ok(Some(LetterSheet {
        reference: s.reference_no,
        suggestion_title: s.title,
        member,
        letter: r.letter,
        text: r.text,
        department: r.department_name,
        date: local_day(state, r.at),
    }))
}

/// The inbox's filters in words, for the compilation's title page: `状态：已交办；议题：…`, or
/// `全部建言` without any.
async fn filter_words(state: &WebState, q: &ListQuery) -> Result<String, WebError> {
    let store = &state.app.store;
    let (filter, _) = q.filter(state, None);
    let mut parts: Vec<String> = Vec::new();
    let mut part = |label: &str, value: String| parts.push(format!("{}：{value}", state.t(label)));
    if let Some(id) = filter.topic_id {
        let name = store.topics().await?.into_iter().find(|t| t.id == id).map(|t| t.title).unwrap_or_default();
        part("web.inbox.col_topic", name);
    }
    if let Some(s) = filter.state {
        part("web.inbox.col_state", state.t(&format!("state.{}", s.code())));
    }
    if let Some(k) = filter.kind {
        part("web.inbox.col_kind", state.t(&format!("kind.{}", k.code())));
    }
    if let Some(id) = filter.workstation_id {
        let name = store.workstations().await?.into_iter().find(|w| w.0 == id).map(|w| w.1).unwrap_or_default();
        part("web.inbox.workstation", name);
    }
    if let Some(id) = filter.department_id {
        let name = store.department(id).await?.map(|d| d.name).unwrap_or_default();
        part("web.inbox.col_department", name);
    }
    if !q.from.trim().is_empty() || !q.to.trim().is_empty() {
        part("web.inbox.col_submitted", format!("{}–{}", q.from.trim(), q.to.trim()));
    }
    if !filter.search.is_empty() {
        part("web.inbox.search", filter.search.clone());
    }
    Ok(if parts.is_empty() { state.t("documents.all_suggestions") } else { parts.join("；") })
}

/// `GET /suggestions/compilation.docx?<the inbox's filters>`: a 汇编 of the filtered list.
pub async fn compilation(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let rows = super::export::rows(&state, &user, &query).await?;
    if rows.len() > COMPILATION_MAX {
        return Err(WebError::BadRequest(state.ta("web.inbox.compilation_too_many", &[("max", &COMPILATION_MAX)])));
    }
    let mut sheets = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(sheet) = suggestion_sheet(&state, state.app.store.as_ref(), r.id).await? {
            sheets.push(sheet);
        }
    }
    let today = local_day(&state, state.app.clock.now());
    let filter = filter_words(&state, &query).await?;
    let heading = state.t("documents.compilation_title");
    let subtitle = state.ta(
        "documents.compilation_subtitle",
        &[
            ("filter", &filter),
            ("count", &sheets.len()),
            (
                "date",
                &state.ta(
                    "documents.date_format",
                    &[
                        ("year", &chrono::Datelike::year(&today)),
                        ("month", &chrono::Datelike::month(&today)),
                        ("day", &chrono::Datelike::day(&today)),
                    ],
                ),
            ),
        ],
    );
    let n = sheets.len();
    let (app, lang) = (state.app.clone(), state.lang());
    let bytes = build(move || documents::compilation(&app.texts, lang, &heading, &subtitle, &sheets)).await?;
    super::export::audit(&state, &user, "suggestions.export_docx", &query, n).await?;
    let name = format!("{}-{}.docx", state.t("documents.compilation_title"), today.format("%Y-%m-%d"));
    Ok(docx(bytes, &name, &format!("compilation-{}.docx", today.format("%Y-%m-%d"))))
}
