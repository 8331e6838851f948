//! The department HTTP API (JSON) with per-department tokens, and its OpenAPI document.
//!
//! A department's own system calls `/api/v1/…` with `Authorization: Bearer <token>`; the token's
//! department is the actor, exactly as a liaison in Telegram or a department account in the
//! console: every action goes through `workflow::plan` and `apply_change`, so the same state rules
//! apply and the same people are notified. Errors are `WebError`s, JSON in one shape under `/api/`.

pub mod openapi;
pub mod tokens;
pub mod types;
mod upload;

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::IntoParams;

use super::auth::token_hash;
use super::{WebError, WebState};
use crate::context::Ctx;
use crate::domain::SuggestionState;
use crate::letter::ReplyLetter;
use crate::store::inbox::{InboxFilter, InboxSort, PageCursor};
use crate::store::{ApiToken, AssignmentInfo, AssignmentRole, AssignmentStatus, Auditor, Committed, Facts};
use crate::workflow::{self, Act, Actor, Command, Refusal};
use types::{
    AcknowledgeRequest, Assignment, CoDepartment, Opinion, OpinionRequest, Reply, ReplyDocument, ReplyLetterFields,
    ReplyRating, ReplyRequest, ReplyUpload, ReturnRequest, SuggestionDetail, SuggestionList, SuggestionSummary,
    TimelineEvent, TopicRef,
};

/// Suggestions per page of `GET /api/v1/suggestions`.
pub const PAGE_SIZE: usize = 50;
const _: () = assert!(PAGE_SIZE == 50, "the OpenAPI description of `list` says 每页最多 50 条");

/// One route of the API: its path, the methods it answers, and its handlers.
pub struct ApiRoute {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    handler: MethodRouter<WebState>,
}

/// Every route under `/api/v1`, the one list the router is built from (and the OpenAPI test reads).
pub fn routes() -> Vec<ApiRoute> {
    let route = |path, methods, handler: MethodRouter<WebState>| ApiRoute {
        path,
        methods,
        handler: handler.fallback(method_not_allowed),
    };
    vec![
        route("/api/v1/suggestions", &["GET"], get(list)),
        route("/api/v1/suggestions/{reference}", &["GET"], get(show)),
        route("/api/v1/suggestions/{reference}/acknowledge", &["POST"], post(acknowledge)),
        route("/api/v1/suggestions/{reference}/return", &["POST"], post(return_assignment)),
        route("/api/v1/suggestions/{reference}/reply", &["POST"], post(reply)),
        route("/api/v1/suggestions/{reference}/opinion", &["POST"], post(opinion)),
        route("/api/v1/suggestions/{reference}/replies/{number}/letter.docx", &["GET"], get(reply_letter)),
    ]
}

pub fn router() -> Router<WebState> {
    let mut router = Router::new()
        .merge(tokens::router())
        .route("/api/openapi.json", get(openapi::document).fallback(method_not_allowed))
        .route("/api/v1", any(no_such_endpoint))
        .route("/api/v1/{*rest}", any(no_such_endpoint));
    for r in routes() {
        router = router.route(r.path, r.handler);
    }
    router
}

// --- Errors -------------------------------------------------------------------------------------
// Errors are `WebError`s; under `/api/` they are answered in the one JSON shape (see `web::error`).

/// A JSON body, UTF-8, never cached.
pub(crate) fn json_body<T: Serialize>(value: &T) -> impl IntoResponse + use<T> {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        serde_json::to_string(value).unwrap_or_default(),
    )
}

/// A 200 answer of the API: `T` as JSON (see `json_body`).
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        (StatusCode::OK, json_body(&self.0)).into_response()
    }
}

/// Why the workflow refused, as an HTTP answer: the one place where `Refusal` meets status codes.
///
/// `Denied` is told apart with the workflow's own rules: if the department would be permitted
/// to do this were its assignment still being worked on, the refusal is about where the work
/// stands (409: already answered, returned); otherwise its role does not allow it (403).
fn refusal_error(state: &WebState, ctx: &Ctx<'_>, refusal: &Refusal, call: &ActionCall<'_>, facts: &Facts) -> WebError {
    let message = refusal.render(ctx, state.lang());
    match refusal {
        Refusal::NotFound | Refusal::UnknownReference => WebError::NotFound,
        Refusal::Denied => {
            if workflow::permitted(&call.actor(), call.act, &as_if_active(facts, call.token.department_id)) {
                WebError::api(StatusCode::CONFLICT, "assignment_closed", state.t("web.api.assignment_closed"))
            } else {
                WebError::api(StatusCode::FORBIDDEN, "forbidden", message)
            }
        }
        Refusal::WrongState(_) | Refusal::CountersignPending => {
            WebError::api(StatusCode::CONFLICT, "wrong_state", message)
        }
        // Members' refusals (a rating, an invitation to co-sign): no department asks for those.
        Refusal::AlreadyDone | Refusal::StaleRating | Refusal::AlreadyAnswered => {
            WebError::api(StatusCode::CONFLICT, "already_done", message)
        }
        Refusal::InvitationClosed => WebError::api(StatusCode::CONFLICT, "wrong_state", message),
        Refusal::EmptyText | Refusal::TooLong(_) => WebError::field(state, call.text_field, message),
        Refusal::UnknownReplyClass => {
            let classes = ctx
                .config
                .workflow
                .reply_classes()
                .iter()
                .map(|c| format!("{}（{}）", c.code, c.label))
                .collect::<Vec<_>>()
                .join("、");
            let problem = state.ta("web.api.unknown_reply_class", &[("classes", &classes)]);
            WebError::field(state, "class", problem)
        }
        Refusal::Letter(problem) => match problem.field() {
            Some(field) => WebError::field(state, &format!("letter_{}", field.name()), message),
            None => WebError::api(StatusCode::BAD_REQUEST, "invalid_request", message),
        },
        Refusal::UnknownDepartment | Refusal::MergeIntoItself | Refusal::MergeTargetClosed => {
            WebError::api(StatusCode::BAD_REQUEST, "invalid_request", message)
        }
    }
}

/// The facts as they would be if the department's (not superseded) assignments were active.
fn as_if_active(facts: &Facts, department_id: i64) -> Facts {
    let mut facts = facts.clone();
    for a in &mut facts.assignments {
        if a.department_id == department_id && a.status != AssignmentStatus::Superseded {
            a.status = AssignmentStatus::Active;
        }
    }
    facts
}

async fn method_not_allowed(State(state): State<WebState>) -> WebError {
    WebError::api(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", state.t("web.api.method_not_allowed"))
}

async fn no_such_endpoint(State(state): State<WebState>) -> WebError {
    WebError::api(StatusCode::NOT_FOUND, "no_such_endpoint", state.t("web.api.no_such_endpoint"))
}

// --- Authentication -----------------------------------------------------------------------------

/// The department calling, from its bearer token (unknown or revoked tokens get 401).
pub struct Caller(pub ApiToken);

impl FromRequestParts<WebState> for Caller {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty());
        let Some(token) = token else { return Err(WebError::Unauthenticated) };
        match state.app.store.use_api_token(&token_hash(token), state.app.clock.now()).await {
            Ok(Some(token)) => Ok(Caller(token)),
            Ok(None) => Err(WebError::Unauthenticated),
            Err(e) => Err(WebError::Internal(e.into())),
        }
    }
}

/// The `{reference}` of a path; one that cannot be read (bad percent-encoding) names nothing: 404.
pub struct Reference(pub String);

/// How the OpenAPI document describes `Reference`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ReferenceParam {
    /// 建言编号，例如 PD-2025-0042。
    reference: String,
}

impl FromRequestParts<WebState> for Reference {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(reference)) => Ok(Reference(reference)),
            Err(_) => Err(WebError::NotFound),
        }
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The suggestion with this reference number, if the department may see it; 404 otherwise.
async fn visible(state: &WebState, token: &ApiToken, reference: &str) -> Result<Facts, WebError> {
    let reference = reference.trim().to_uppercase();
    if reference.chars().count() > crate::bounds::REFERENCE_MAX_CHARS {
        return Err(WebError::NotFound);
    }
    let Some(id) = state.app.store.suggestion_id_by_reference(&reference).await? else {
        return Err(WebError::NotFound);
    };
    match state.app.store.facts(id).await? {
        Some(facts) if workflow::permitted(&Actor::Token(token), Act::View, &facts) => Ok(facts),
        _ => Err(WebError::NotFound),
    }
}

/// The department's own assignment on a suggestion: the newest one not superseded.
fn own_assignment(facts: &Facts, department_id: i64) -> Option<&AssignmentInfo> {
    facts
        .assignments
        .iter()
        .filter(|a| a.department_id == department_id && a.status != AssignmentStatus::Superseded)
        .max_by_key(|a| a.id)
}

fn assignment(a: &AssignmentInfo) -> Assignment {
    Assignment {
        department: a.department_name.clone(),
        role: a.role.as_str().to_string(),
        status: a.status.as_str().to_string(),
        deadline: time(a.deadline),
        acknowledged: a.acknowledged,
    }
}

fn state_label(state: &WebState, s: SuggestionState) -> (String, String) {
    (s.code().to_string(), state.t(&format!("state.{}", s.code())))
}

// --- GET /api/v1/suggestions --------------------------------------------------------------------

/// The query of `GET /api/v1/suggestions`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 只看这个状态的建言；不填或为空时列出全部。
    #[param(value_type = Option<types::State>)]
    state: Option<String>,
    /// 下一页：上一页应答中 next_page 的值；不填或为空时是第一页。
    #[param(pattern = "^([1-9][0-9]{0,17})?$")]
    page: Option<String>,
}

/// 交办给本单位的建言
///
/// 本单位承办（主办或协办）的建言，按交办先后排列，每页最多 50 条。
#[utoipa::path(
    get,
    path = "/api/v1/suggestions",
    tag = "suggestions",
    params(ListQuery),
    responses(openapi::ListAnswers)
)]
async fn list(
    State(state): State<WebState>,
    Caller(token): Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<ApiJson<SuggestionList>, WebError> {
    let Ok(Query(query)) = query else {
        return Err(WebError::api(StatusCode::BAD_REQUEST, "invalid_request", state.t("web.api.bad_query")));
    };
    let mut problems = BTreeMap::new();
    let wanted = match query.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match SuggestionState::parse(s) {
            Some(v) => Some(v),
            None => {
                let states = SuggestionState::ALL.iter().map(|s| s.code()).collect::<Vec<_>>().join(", ");
                problems.insert("state".to_string(), state.ta("web.api.bad_state", &[("states", &states)]));
                None
            }
        },
    };
    let cursor = match query.page.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => PageCursor::First,
        Some(p) => match p.parse::<i64>() {
            Ok(id) if id > 0 => PageCursor::After(id.to_string()),
            _ => {
                problems.insert("page".to_string(), state.t("web.api.bad_page"));
                PageCursor::First
            }
        },
    };
    if !problems.is_empty() {
        return Err(WebError::invalid(&state, problems));
    }
    let filter =
        InboxFilter { state: wanted, visible_to_department: Some(token.department_id), ..InboxFilter::default() };
    let page = state.app.store.inbox(&filter, InboxSort::Oldest, &cursor, PAGE_SIZE).await?;
    let mut suggestions = Vec::with_capacity(page.rows.len());
    for row in &page.rows {
        // The permission is checked on each row too: deny by default, whatever the query did.
        let Some(facts) = state.app.store.facts(row.id).await? else { continue };
        if !workflow::permitted(&Actor::Token(&token), Act::View, &facts) {
            continue;
        }
        let Some(assignment) = own_assignment(&facts, token.department_id) else { continue };
        let (code, label) = state_label(&state, facts.state);
        suggestions.push(SuggestionSummary {
            reference: facts.reference_no.clone(),
            title: facts.title.clone(),
            state: code,
            state_label: label,
            role: assignment.role.as_str().to_string(),
            assignment_status: assignment.status.as_str().to_string(),
            deadline: time(assignment.deadline),
            acknowledged: assignment.acknowledged,
            submitted: time(row.created_at),
        });
    }
    let next_page = page.has_next.then(|| page.rows.last().map(|r| r.cursor(InboxSort::Oldest))).flatten();
    Ok(ApiJson(SuggestionList { suggestions, next_page }))
}

// --- GET /api/v1/suggestions/{reference} --------------------------------------------------------

/// 一条建言
///
/// 建言的内容（各条建议）、议题、类别、本单位的承办情况、协办单位的意见（主办单位可见）、答复和办理过程。
#[utoipa::path(
    get,
    path = "/api/v1/suggestions/{reference}",
    tag = "suggestions",
    params(ReferenceParam),
    responses(openapi::ShowAnswers)
)]
async fn show(
    State(state): State<WebState>,
    Caller(token): Caller,
    Reference(reference): Reference,
) -> Result<ApiJson<SuggestionDetail>, WebError> {
    let facts = visible(&state, &token, &reference).await?;
    Ok(ApiJson(detail(&state, &token, &facts).await?))
}

/// A suggestion as its department reads it.
async fn detail(state: &WebState, token: &ApiToken, facts: &Facts) -> Result<SuggestionDetail, WebError> {
    let Some(s) = state.app.store.suggestion(facts.id).await? else {
        return Err(WebError::NotFound);
    };
    let own = own_assignment(facts, token.department_id);
    let is_lead = own.is_some_and(|a| a.role == AssignmentRole::Lead);
    let co_departments = if is_lead {
        let opinions = state.app.store.co_opinions(facts.id).await?;
        let views = facts
            .assignments
            .iter()
            .filter(|a| a.role == AssignmentRole::Co && a.status != AssignmentStatus::Superseded)
            .map(|a| CoDepartment {
                assignment: assignment(a),
                opinions: opinions
                    .iter()
                    .filter(|o| o.department_name == a.department_name)
                    .map(|o| Opinion { text: o.text.clone(), at: time(o.at) })
                    .collect(),
            })
            .collect();
        Some(views)
    } else {
        None
    };
    let classes = state.app.config.workflow.reply_classes();
    let replies = state
        .app
        .store
        .replies_of(facts.id)
        .await?
        .into_iter()
        .map(|r| {
            let class_label =
                classes.iter().find(|c| c.code == r.reply_class).map(|c| c.label.clone()).unwrap_or_default();
            Reply {
                department: r.department_name,
                class: r.reply_class,
                class_label,
                text: r.text,
                at: time(r.at),
                rating: r.rating.map(|(rating, reason, at)| ReplyRating {
                    label: state.t(&format!("rating.{rating}")),
                    rating,
                    reason,
                    at: time(at),
                }),
                letter: ReplyLetterFields {
                    number: r.letter.number,
                    title: r.letter.title,
                    contact: r.letter.contact,
                    phone: r.letter.phone,
                },
                document: r.document.map(|d| ReplyDocument {
                    file_name: d.file_name,
                    mime_type: d.mime_type,
                    size: d.file_size,
                }),
            }
        })
        .collect();
    let timeline = s
        .timeline
        .iter()
        .map(|e| TimelineEvent {
            at: time(e.at),
            actor: e.actor_kind.clone(),
            event: e.event.clone(),
            text: e.text.clone(),
        })
        .collect();
    let (code, label) = state_label(state, facts.state);
    let lead_member = state.app.store.member_by_id(s.member_id).await?.map(|m| m.name).unwrap_or_default();
    let cosigners = facts
        .cosigners
        .iter()
        .filter(|c| c.status == crate::store::CosignStatus::Accepted)
        .map(|c| c.name.clone())
        .collect();
    Ok(SuggestionDetail {
        reference: s.reference_no,
        title: s.title,
        state: code,
        state_label: label,
        kind: s.kind.code().to_string(),
        kind_label: s.kind.label().to_string(),
        topic: s.topic_id.map(|id| TopicRef { id, title: s.topic_title }),
        points: s.points,
        submitted: time(s.created_at),
        deadline: facts.deadline.map(time),
        adopted: facts.adopted,
        lead_member,
        cosigners,
        assignment: own.map(assignment),
        co_departments,
        replies,
        timeline,
    })
}

// --- Actions ------------------------------------------------------------------------------------

/// One action a department asks for through the API.
struct ActionCall<'a> {
    token: &'a ApiToken,
    act: Act,
    /// The body field whose text the workflow checks (for field errors).
    text_field: &'static str,
    /// The audit log's action name.
    audit: &'static str,
}

impl ActionCall<'_> {
    fn actor(&self) -> Actor<'_> {
        Actor::Token(self.token)
    }
}

/// The body as the request type `T`, whose fields are `names` (all text, all required): an empty
/// body is an empty object, and every missing, non-text or unknown field is reported at once.
fn request_body<T: DeserializeOwned>(
    state: &WebState,
    body: Result<Bytes, BytesRejection>,
    names: &[&str],
) -> Result<T, WebError> {
    request_body_with(state, body, names, &[])
}

/// As [`request_body`], with `optional` text fields too (left out or `null`: none).
fn request_body_with<T: DeserializeOwned>(
    state: &WebState,
    body: Result<Bytes, BytesRejection>,
    names: &[&str],
    optional: &[&str],
) -> Result<T, WebError> {
    let body = body_object(state, body)?;
    let mut problems = BTreeMap::new();
    for name in optional {
        if let Some(value) = body.get(*name)
            && !matches!(value, Value::String(_) | Value::Null)
        {
            problems.insert(name.to_string(), state.t("web.api.field_not_text"));
        }
    }
    for name in names {
        match body.get(*name) {
            Some(Value::String(_)) => {}
            None | Some(Value::Null) => {
                problems.insert(name.to_string(), state.t("web.api.field_required"));
            }
            Some(_) => {
                problems.insert(name.to_string(), state.t("web.api.field_not_text"));
            }
        }
    }
    for key in body.keys().filter(|k| !names.contains(&k.as_str()) && !optional.contains(&k.as_str())) {
        problems.insert(key.clone(), state.t("web.api.field_unknown"));
    }
    if !problems.is_empty() {
        return Err(WebError::invalid(state, problems));
    }
    // Checked above field by field; a request type that disagrees with `names` is a bug here.
    serde_json::from_value(Value::Object(body)).map_err(|e| WebError::Internal(e.into()))
}

/// The body as a JSON object; an empty body is an empty object.
fn body_object(state: &WebState, body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, WebError> {
    let bytes = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(WebError::api(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                state.t("web.api.too_large"),
            ));
        }
        Err(_) => return Err(WebError::api(StatusCode::BAD_REQUEST, "malformed_json", state.t("web.api.unreadable"))),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(WebError::api(StatusCode::BAD_REQUEST, "malformed_json", state.t("web.api.not_object"))),
        Err(e) => {
            let message = state.ta("web.api.malformed_json", &[("line", &e.line()), ("column", &e.column())]);
            Err(WebError::api(StatusCode::BAD_REQUEST, "malformed_json", message))
        }
    }
}

/// Plans the command with the workflow and applies it; returns the suggestion as it is now.
async fn act(
    state: &WebState,
    call: ActionCall<'_>,
    reference: &str,
    command: Command,
    detail_text: String,
) -> Result<ApiJson<SuggestionDetail>, WebError> {
    let facts = visible(state, call.token, reference).await?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let ctx = state.ctx();
        let now = ctx.now;
        let change = match workflow::plan(&ctx, &call.actor(), facts.id, command.clone()).await? {
            Ok(change) => change,
            Err(refusal) => {
                let facts = state.app.store.facts(facts.id).await?.unwrap_or(facts);
                return Err(refusal_error(state, &ctx, &refusal, &call, &facts));
            }
        };
        match state.app.store.apply_change(change, now).await? {
            Committed::Done { .. } => {
                state
                    .app
                    .store
                    .audit(Auditor::Token(call.token.id), call.audit, &facts.reference_no, &detail_text, now)
                    .await?;
                let facts = state.app.store.facts(facts.id).await?.unwrap_or(facts);
                return Ok(ApiJson(detail(state, call.token, &facts).await?));
            }
            // The suggestion changed while this was planned: plan again against what it is now.
            Committed::Conflict | Committed::AlreadyProcessed if attempts < 3 => continue,
            Committed::Conflict | Committed::AlreadyProcessed => {
                let message = state.t("web.api.busy");
                return Err(WebError::api(StatusCode::CONFLICT, "conflict", message));
            }
        }
    }
}

/// The first characters of a text, for the audit log.
fn excerpt(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 200 { format!("{}…", s.chars().take(200).collect::<String>()) } else { s.to_string() }
}

/// 签收
///
/// 签收交办给本单位的建言；主办单位签收后建言进入「办理中」，委员会收到通知。请求体可以为空。
#[utoipa::path(
    post,
    tag = "suggestions",
    path = "/api/v1/suggestions/{reference}/acknowledge",
    params(ReferenceParam),
    request_body(content = AcknowledgeRequest, description = "可以为空。"),
    responses(openapi::ActionAnswers)
)]
async fn acknowledge(
    State(state): State<WebState>,
    Caller(token): Caller,
    Reference(reference): Reference,
    body: Result<Bytes, BytesRejection>,
) -> Result<ApiJson<SuggestionDetail>, WebError> {
    let AcknowledgeRequest {} = request_body(&state, body, &[])?;
    let call = ActionCall { token: &token, act: Act::Acknowledge, text_field: "", audit: "api.acknowledge" };
    act(&state, call, &reference, Command::Acknowledge, String::new()).await
}

/// 退回
///
/// 退回交办（须说明理由），由区政协工作人员重新交办。
#[utoipa::path(
    post,
    tag = "suggestions",
    path = "/api/v1/suggestions/{reference}/return",
    params(ReferenceParam),
    request_body = ReturnRequest,
    responses(openapi::ActionAnswers)
)]
async fn return_assignment(
    State(state): State<WebState>,
    Caller(token): Caller,
    Reference(reference): Reference,
    body: Result<Bytes, BytesRejection>,
) -> Result<ApiJson<SuggestionDetail>, WebError> {
    let ReturnRequest { reason } = request_body(&state, body, &["reason"])?;
    let call = ActionCall { token: &token, act: Act::Return, text_field: "reason", audit: "api.return" };
    let detail = excerpt(&reason);
    act(&state, call, &reference, Command::Return { reason }, detail).await
}

/// 答复（主办单位）
///
/// 主办单位答复委员：答复分类和答复内容，可以填写答复函的文号、标题、联系人和电话。委员会收到答复并可以评价。
/// 要随答复附上文件（PDF、DOCX、DOC、OFD、JPEG 或 PNG），用 multipart/form-data 发送同样的字段，文件放在
/// document 部分；委员在 Telegram 里随答复收到这个文件。文件太大应答 413（code 为 file_too_large），
/// 类型不对应答 400（fields.document 说明原因）。
#[utoipa::path(
    post,
    tag = "suggestions",
    path = "/api/v1/suggestions/{reference}/reply",
    params(ReferenceParam),
    request_body(content(
        (ReplyRequest = "application/json"),
        (ReplyUpload = "multipart/form-data"),
    )),
    responses(openapi::ActionAnswers)
)]
async fn reply(
    State(state): State<WebState>,
    Caller(token): Caller,
    Reference(reference): Reference,
    request: axum::extract::Request,
) -> Result<ApiJson<SuggestionDetail>, WebError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/"));
    let (body, document) = if multipart {
        // Looked up first: a department is not told what is wrong with a file for a suggestion
        // it cannot see.
        visible(&state, &token, &reference).await?;
        let upload = upload::read(&state, request).await?;
        (upload.request, upload.document)
    } else {
        use axum::extract::FromRequest;
        let body = Bytes::from_request(request, &state).await;
        (request_body_with(&state, body, &["class", "text"], &upload::TEXT_PARTS[2..])?, None)
    };
    let ReplyRequest { class, text, letter_number, letter_title, letter_contact, letter_phone } = body;
    let letter =
        ReplyLetter { number: letter_number, title: letter_title, contact: letter_contact, phone: letter_phone };
    let call = ActionCall { token: &token, act: Act::Reply, text_field: "text", audit: "api.reply" };
    let mut detail = format!("{class}：{}", excerpt(&text));
    // The bytes are kept before the reply is planned, so the reply never names a file that is not
    // there; a refused reply leaves the file kept, under its hash, for the next try to find.
    let attachment = match document {
        Some((attachment, file)) => {
            state.app.store.keep_file(&file, state.app.clock.now()).await?;
            detail.push_str(&format!("（{}）", attachment.file_name.as_deref().unwrap_or_default()));
            Some(attachment)
        }
        None => None,
    };
    act(
        &state,
        call,
        &reference,
        Command::Reply { class, text, document: attachment, letter: Box::new(letter) },
        detail,
    )
    .await
}

/// 协办意见（协办单位）
///
/// 协办单位把本单位的意见发给主办单位。
#[utoipa::path(
    post,
    tag = "suggestions",
    path = "/api/v1/suggestions/{reference}/opinion",
    params(ReferenceParam),
    request_body = OpinionRequest,
    responses(openapi::ActionAnswers)
)]
async fn opinion(
    State(state): State<WebState>,
    Caller(token): Caller,
    Reference(reference): Reference,
    body: Result<Bytes, BytesRejection>,
) -> Result<ApiJson<SuggestionDetail>, WebError> {
    let OpinionRequest { text } = request_body(&state, body, &["text"])?;
    let call = ActionCall { token: &token, act: Act::CoOpinion, text_field: "text", audit: "api.opinion" };
    let detail = excerpt(&text);
    act(&state, call, &reference, Command::CoOpinion { text }, detail).await
}

// --- GET /api/v1/suggestions/{reference}/replies/{number}/letter.docx ------------------------------

/// How the OpenAPI document describes the reply's number in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct ReplyNumberParam {
    /// 第几条答复（replies 中的顺序，从 1 开始）。
    number: u32,
}

/// 答复函（Word）
///
/// 一条答复的答复函：A4 版式的 Word 文件（.docx），有文号、标题、称呼、正文、落款（承办单位和答复日期）、联系人和电话，可以直接打印。
#[utoipa::path(
    get,
    path = "/api/v1/suggestions/{reference}/replies/{number}/letter.docx",
    tag = "suggestions",
    params(ReferenceParam, ReplyNumberParam),
    responses(openapi::LetterAnswers)
)]
async fn reply_letter(
    State(state): State<WebState>,
    Caller(token): Caller,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
) -> Result<Response, WebError> {
    let Ok(Path((reference, number))) = path else { return Err(WebError::NotFound) };
    let facts = visible(&state, &token, &reference).await?;
    let number: usize = number.parse().ok().filter(|n| *n > 0).ok_or(WebError::NotFound)?;
    let store = state.app.store.as_ref();
    let reply = store.replies_of(facts.id).await?.into_iter().nth(number - 1).ok_or(WebError::NotFound)?;
    let sheet = super::inbox::documents::letter_sheet(&state, store, facts.id, reply.id).await?;
    let sheet = sheet.ok_or(WebError::NotFound)?;
    let (app, lang) = (state.app.clone(), state.lang());
    let bytes = tokio::task::spawn_blocking(move || crate::documents::reply_letter(&app.texts, lang, &sheet)).await??;
    let name = format!("{}-{number}.docx", facts.reference_no);
    Ok((
        [
            (header::CONTENT_TYPE, crate::documents::DOCX_MIME.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}
