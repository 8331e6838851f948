//! The department HTTP API (JSON) with per-department tokens, and its OpenAPI document.
//!
//! A department's own system calls `/api/v1/…` with `Authorization: Bearer <token>`; the token's
//! department is the actor, exactly as a liaison in Telegram or a department account in the
//! console: every action goes through `workflow::plan` and `apply_change`, so the same state rules
//! apply and the same people are notified. Errors are JSON, in one shape (see `ApiError`).

pub mod openapi;
pub mod tokens;

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
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::WebState;
use super::auth::token_hash;
use crate::context::Ctx;
use crate::domain::SuggestionState;
use crate::store::inbox::{InboxFilter, InboxSort, PageCursor};
use crate::store::{ApiToken, AssignmentInfo, AssignmentRole, AssignmentStatus, Auditor, Committed, Facts, StoreError};
use crate::workflow::{self, Act, Actor, Command, Refusal};

/// Suggestions per page of `GET /api/v1/suggestions`.
pub const PAGE_SIZE: usize = 50;

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

/// An error as the API answers it: `{"error": {"code", "message", "fields"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: BTreeMap<String, String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: String) -> Self {
        Self { status, code, message, fields: BTreeMap::new() }
    }

    fn invalid(state: &WebState, fields: BTreeMap<String, String>) -> Self {
        Self { fields, ..Self::new(StatusCode::BAD_REQUEST, "invalid_request", state.t("web.api.invalid")) }
    }

    fn field(state: &WebState, name: &str, problem: String) -> Self {
        Self::invalid(state, BTreeMap::from([(name.to_string(), problem)]))
    }

    fn unauthorized(state: &WebState) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", state.t("web.api.unauthorized"))
    }

    fn not_found(state: &WebState) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", state.t("web.api.not_found"))
    }

    fn internal(state: &WebState, error: anyhow::Error) -> Self {
        tracing::error!(error = format!("{error:#}"), "an API request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", state.t("web.api.internal"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message, "fields": self.fields } });
        let mut response = (self.status, json_body(&body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The API's answer for an error status the framework or the transport decided (a body over the
/// limit, a timeout, a path or query that cannot be read), in the one error shape.
pub fn error_for_status(state: &WebState, status: StatusCode) -> Response {
    let (code, key) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "web.api.too_large"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "web.api.timeout"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "web.api.method_not_allowed"),
        StatusCode::NOT_FOUND => ("no_such_endpoint", "web.api.no_such_endpoint"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "web.api.unsupported_media_type"),
        s if s.is_server_error() => ("internal", "web.api.internal"),
        _ => ("invalid_request", "web.api.unreadable"),
    };
    ApiError::new(status, code, state.t(key)).into_response()
}

/// A JSON body, UTF-8, never cached.
fn json_body(value: &Value) -> impl IntoResponse + use<> {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        value.to_string(),
    )
}

/// What a handler's inner part may fail with: an answer for the caller, or an internal error.
enum Fail {
    Api(ApiError),
    Internal(anyhow::Error),
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail::Api(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Internal(e.into())
    }
}

/// Turns a handler's result into the response; internal errors are logged, never shown.
fn finish(state: &WebState, result: Result<Value, Fail>) -> Response {
    match result {
        Ok(value) => (StatusCode::OK, json_body(&value)).into_response(),
        Err(Fail::Api(e)) => e.into_response(),
        Err(Fail::Internal(e)) => ApiError::internal(state, e).into_response(),
    }
}

/// Why the workflow refused, as an HTTP answer: the one place where `Refusal` meets status codes.
///
/// `Denied` is told apart with the workflow's own rules: if the department would be permitted
/// to do this were its assignment still being worked on, the refusal is about where the work
/// stands (409: already answered, returned); otherwise its role does not allow it (403).
fn refusal_error(state: &WebState, ctx: &Ctx<'_>, refusal: &Refusal, call: &ActionCall<'_>, facts: &Facts) -> ApiError {
    let message = refusal.render(ctx, state.lang());
    match refusal {
        Refusal::NotFound | Refusal::UnknownReference => ApiError::not_found(state),
        Refusal::Denied => {
            if workflow::permitted(&call.actor(), call.act, &as_if_active(facts, call.token.department_id)) {
                ApiError::new(StatusCode::CONFLICT, "assignment_closed", state.t("web.api.assignment_closed"))
            } else {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
        }
        Refusal::WrongState(_) => ApiError::new(StatusCode::CONFLICT, "wrong_state", message),
        Refusal::AlreadyDone | Refusal::StaleRating => ApiError::new(StatusCode::CONFLICT, "already_done", message),
        Refusal::EmptyText | Refusal::TooLong(_) => ApiError::field(state, call.text_field, message),
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
            ApiError::field(state, "class", problem)
        }
        Refusal::UnknownDepartment | Refusal::MergeIntoItself | Refusal::MergeTargetClosed => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
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

async fn method_not_allowed(State(state): State<WebState>) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", state.t("web.api.method_not_allowed"))
}

async fn no_such_endpoint(State(state): State<WebState>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_such_endpoint", state.t("web.api.no_such_endpoint"))
}

// --- Authentication -----------------------------------------------------------------------------

/// The department calling, from its bearer token (unknown or revoked tokens get 401).
pub struct Caller(pub ApiToken);

impl FromRequestParts<WebState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty());
        let Some(token) = token else { return Err(ApiError::unauthorized(state)) };
        match state.app.store.use_api_token(&token_hash(token), state.app.clock.now()).await {
            Ok(Some(token)) => Ok(Caller(token)),
            Ok(None) => Err(ApiError::unauthorized(state)),
            Err(e) => Err(ApiError::internal(state, e.into())),
        }
    }
}

/// The `{reference}` of a path; one that cannot be read (bad percent-encoding) names nothing: 404.
pub struct Reference(pub String);

impl FromRequestParts<WebState> for Reference {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(reference)) => Ok(Reference(reference)),
            Err(_) => Err(ApiError::not_found(state)),
        }
    }
}

fn ctx(state: &WebState) -> Ctx<'_> {
    Ctx {
        store: state.app.store.as_ref(),
        texts: &state.app.texts,
        config: &state.app.config,
        now: state.app.clock.now(),
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The suggestion with this reference number, if the department may see it; 404 otherwise.
async fn visible(state: &WebState, token: &ApiToken, reference: &str) -> Result<Facts, Fail> {
    let reference = reference.trim().to_uppercase();
    if reference.chars().count() > crate::bounds::REFERENCE_MAX_CHARS {
        return Err(ApiError::not_found(state).into());
    }
    let Some(id) = state.app.store.suggestion_id_by_reference(&reference).await? else {
        return Err(ApiError::not_found(state).into());
    };
    match state.app.store.facts(id).await? {
        Some(facts) if workflow::permitted(&Actor::Token(token), Act::View, &facts) => Ok(facts),
        _ => Err(ApiError::not_found(state).into()),
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

fn assignment_json(a: &AssignmentInfo) -> Value {
    json!({
        "department": a.department_name,
        "role": a.role.as_str(),
        "status": a.status.as_str(),
        "deadline": time(a.deadline),
        "acknowledged": a.acknowledged,
    })
}

fn state_json(state: &WebState, s: SuggestionState) -> (String, String) {
    (s.code().to_string(), state.t(&format!("state.{}", s.code())))
}

// --- GET /api/v1/suggestions --------------------------------------------------------------------

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    page: Option<String>,
}

async fn list(
    State(state): State<WebState>,
    Caller(token): Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let result = list_inner(&state, &token, query).await;
    finish(&state, result)
}

async fn list_inner(
    state: &WebState,
    token: &ApiToken,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Value, Fail> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", state.t("web.api.bad_query")).into());
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
        return Err(ApiError::invalid(state, problems).into());
    }
    let filter =
        InboxFilter { state: wanted, visible_to_department: Some(token.department_id), ..InboxFilter::default() };
    let page = state.app.store.inbox(&filter, InboxSort::Oldest, &cursor, PAGE_SIZE).await?;
    let mut items = Vec::with_capacity(page.rows.len());
    for row in &page.rows {
        // The permission is checked on each row too: deny by default, whatever the query did.
        let Some(facts) = state.app.store.facts(row.id).await? else { continue };
        if !workflow::permitted(&Actor::Token(token), Act::View, &facts) {
            continue;
        }
        let Some(assignment) = own_assignment(&facts, token.department_id) else { continue };
        let (code, label) = state_json(state, facts.state);
        items.push(json!({
            "reference": facts.reference_no,
            "title": facts.title,
            "state": code,
            "state_label": label,
            "role": assignment.role.as_str(),
            "assignment_status": assignment.status.as_str(),
            "deadline": time(assignment.deadline),
            "acknowledged": assignment.acknowledged,
            "submitted": time(row.created_at),
        }));
    }
    let next = page.has_next.then(|| page.rows.last().map(|r| r.cursor(InboxSort::Oldest))).flatten();
    Ok(json!({ "suggestions": items, "next_page": next }))
}

// --- GET /api/v1/suggestions/{reference} --------------------------------------------------------

async fn show(State(state): State<WebState>, Caller(token): Caller, Reference(reference): Reference) -> Response {
    let result = async {
        let facts = visible(&state, &token, &reference).await?;
        detail(&state, &token, &facts).await
    }
    .await;
    finish(&state, result)
}

/// A suggestion as its department reads it.
async fn detail(state: &WebState, token: &ApiToken, facts: &Facts) -> Result<Value, Fail> {
    let Some(s) = state.app.store.suggestion(facts.id).await? else {
        return Err(ApiError::not_found(state).into());
    };
    let own = own_assignment(facts, token.department_id);
    let is_lead = own.is_some_and(|a| a.role == AssignmentRole::Lead);
    let co_departments: Value = if is_lead {
        let opinions = state.app.store.co_opinions(facts.id).await?;
        let views = facts
            .assignments
            .iter()
            .filter(|a| a.role == AssignmentRole::Co && a.status != AssignmentStatus::Superseded)
            .map(|a| {
                let mut v = assignment_json(a);
                let opinions: Vec<Value> = opinions
                    .iter()
                    .filter(|o| o.department_name == a.department_name)
                    .map(|o| json!({ "text": o.text, "at": time(o.at) }))
                    .collect();
                v["opinions"] = Value::Array(opinions);
                v
            })
            .collect();
        Value::Array(views)
    } else {
        Value::Null
    };
    let replies: Vec<Value> = state
        .app
        .store
        .replies_of(facts.id)
        .await?
        .into_iter()
        .map(|r| {
            let label = state
                .app
                .config
                .workflow
                .reply_classes()
                .into_iter()
                .find(|c| c.code == r.reply_class)
                .map(|c| c.label)
                .unwrap_or_default();
            json!({
                "department": r.department_name,
                "class": r.reply_class,
                "class_label": label,
                "text": r.text,
                "at": time(r.at),
                "rating": r.rating.map(|(rating, reason, at)| json!({
                    "rating": rating,
                    "label": state.t(&format!("rating.{rating}")),
                    "reason": reason,
                    "at": time(at),
                })),
            })
        })
        .collect();
    let timeline: Vec<Value> = s
        .timeline
        .iter()
        .map(|e| json!({ "at": time(e.at), "actor": e.actor_kind, "event": e.event, "text": e.text }))
        .collect();
    let (code, label) = state_json(state, facts.state);
    Ok(json!({
        "reference": s.reference_no,
        "title": s.title,
        "state": code,
        "state_label": label,
        "kind": s.kind.code(),
        "kind_label": s.kind.label(),
        "topic": s.topic_id.map(|id| json!({ "id": id, "title": s.topic_title })),
        "points": s.points,
        "submitted": time(s.created_at),
        "deadline": facts.deadline.map(time),
        "adopted": facts.adopted,
        "assignment": own.map(assignment_json),
        "co_departments": co_departments,
        "replies": replies,
        "timeline": timeline,
    }))
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

/// The body as a JSON object; an empty body is an empty object.
fn body_object(state: &WebState, body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, ApiError> {
    let bytes = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                state.t("web.api.too_large"),
            ));
        }
        Err(_) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", state.t("web.api.unreadable"))),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", state.t("web.api.not_object"))),
        Err(e) => {
            let message = state.ta("web.api.malformed_json", &[("line", &e.line()), ("column", &e.column())]);
            Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", message))
        }
    }
}

/// The named text fields of a body: every missing, non-text or unknown field is reported at once.
fn text_fields(state: &WebState, body: &Map<String, Value>, names: &[&str]) -> Result<Vec<String>, ApiError> {
    let mut problems = BTreeMap::new();
    let mut values = Vec::new();
    for name in names {
        match body.get(*name) {
            Some(Value::String(s)) => values.push(s.clone()),
            None | Some(Value::Null) => {
                problems.insert(name.to_string(), state.t("web.api.field_required"));
            }
            Some(_) => {
                problems.insert(name.to_string(), state.t("web.api.field_not_text"));
            }
        }
    }
    for key in body.keys().filter(|k| !names.contains(&k.as_str())) {
        problems.insert(key.clone(), state.t("web.api.field_unknown"));
    }
    if problems.is_empty() { Ok(values) } else { Err(ApiError::invalid(state, problems)) }
}

/// Plans the command with the workflow and applies it; returns the suggestion as it is now.
async fn act(
    state: &WebState,
    call: ActionCall<'_>,
    reference: &str,
    command: Command,
    detail_text: String,
) -> Result<Value, Fail> {
    let facts = visible(state, call.token, reference).await?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let ctx = ctx(state);
        let now = ctx.now;
        let change = match workflow::plan(&ctx, &call.actor(), facts.id, command.clone()).await? {
            Ok(change) => change,
            Err(refusal) => {
                let facts = state.app.store.facts(facts.id).await?.unwrap_or(facts);
                return Err(refusal_error(state, &ctx, &refusal, &call, &facts).into());
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
                return detail(state, call.token, &facts).await;
            }
            // The suggestion changed while this was planned: plan again against what it is now.
            Committed::Conflict | Committed::AlreadyProcessed if attempts < 3 => continue,
            Committed::Conflict | Committed::AlreadyProcessed => {
                let message = state.t("web.api.busy");
                return Err(ApiError::new(StatusCode::CONFLICT, "conflict", message).into());
            }
        }
    }
}

/// The first characters of a text, for the audit log.
fn excerpt(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 200 { format!("{}…", s.chars().take(200).collect::<String>()) } else { s.to_string() }
}

async fn acknowledge(
    State(state): State<WebState>,
    Caller(token): Caller,
    Reference(reference): Reference,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let body = body_object(&state, body)?;
        text_fields(&state, &body, &[])?;
        let call = ActionCall { token: &token, act: Act::Acknowledge, text_field: "", audit: "api.acknowledge" };
        act(&state, call, &reference, Command::Acknowledge, String::new()).await
    }
    .await;
    finish(&state, result)
}

async fn return_assignment(
    State(state): State<WebState>,
    Caller(token): Caller,
    Reference(reference): Reference,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let body = body_object(&state, body)?;
        let [reason] = <[String; 1]>::try_from(text_fields(&state, &body, &["reason"])?).unwrap_or_default();
        let call = ActionCall { token: &token, act: Act::Return, text_field: "reason", audit: "api.return" };
        let detail = excerpt(&reason);
        act(&state, call, &reference, Command::Return { reason }, detail).await
    }
    .await;
    finish(&state, result)
}

async fn reply(
    State(state): State<WebState>,
    Caller(token): Caller,
    Reference(reference): Reference,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let body = body_object(&state, body)?;
        let [class, text] =
            <[String; 2]>::try_from(text_fields(&state, &body, &["class", "text"])?).unwrap_or_default();
        let call = ActionCall { token: &token, act: Act::Reply, text_field: "text", audit: "api.reply" };
        let detail = format!("{class}：{}", excerpt(&text));
        act(&state, call, &reference, Command::Reply { class, text, document: None }, detail).await
    }
    .await;
    finish(&state, result)
}

async fn opinion(
    State(state): State<WebState>,
    Caller(token): Caller,
    Reference(reference): Reference,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let body = body_object(&state, body)?;
        let [text] = <[String; 1]>::try_from(text_fields(&state, &body, &["text"])?).unwrap_or_default();
        let call = ActionCall { token: &token, act: Act::CoOpinion, text_field: "text", audit: "api.opinion" };
        let detail = excerpt(&text);
        act(&state, call, &reference, Command::CoOpinion { text }, detail).await
    }
    .await;
    finish(&state, result)
}
