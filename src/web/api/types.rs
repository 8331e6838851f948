//! The API's request and response bodies: what each endpoint reads and answers, and (through
//! `utoipa::ToSchema`) what the OpenAPI document says about them.
//!
//! Times are RFC 3339 strings in UTC, to the second (`2025-03-01T08:00:00Z`). A field documented
//! as nullable is always present, `null` when there is nothing to say.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{SuggestionKind, SuggestionState};

/// A point in time: an RFC 3339 string in UTC (documented as `DateTime`).
pub struct DateTime;

impl PartialSchema for DateTime {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

impl ToSchema for DateTime {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DateTime")
    }
}

/// A string schema whose values are `codes`.
fn codes(codes: impl Iterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes)).into()
}

/// A suggestion's state code (`SuggestionState::code`), documented with every state there is.
pub struct State;

impl PartialSchema for State {
    fn schema() -> RefOr<Schema> {
        codes(SuggestionState::ALL.iter().map(|s| s.code()))
    }
}

impl ToSchema for State {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("State")
    }
}

/// A suggestion's kind code (`SuggestionKind::code`): advice, opinion, research or inspection.
pub struct Kind;

impl PartialSchema for Kind {
    fn schema() -> RefOr<Schema> {
        codes(SuggestionKind::ALL.iter().map(|k| k.code()))
    }
}

impl ToSchema for Kind {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Kind")
    }
}

/// How a department takes part: lead 主办, co 协办.
/// (Only documents the codes: the bodies carry `AssignmentRole::as_str`.)
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Role)]
pub enum RoleCode {
    Lead,
    Co,
}

/// Where a department's assignment stands: active 办理中, returned 已退回, answered 已答复或已提交协办意见.
/// (Only documents the codes: the bodies carry `AssignmentStatus::as_str`.)
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AssignmentStatus)]
pub enum AssignmentStatusCode {
    Active,
    Returned,
    Answered,
}

/// One suggestion in a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuggestionSummary {
    /// 建言编号，例如 PD-2025-0042。
    pub reference: String,
    pub title: String,
    #[schema(value_type = State)]
    pub state: String,
    pub state_label: String,
    /// This department's part in it.
    #[schema(value_type = RoleCode)]
    pub role: String,
    #[schema(value_type = AssignmentStatusCode)]
    pub assignment_status: String,
    #[schema(value_type = DateTime)]
    pub deadline: String,
    pub acknowledged: bool,
    #[schema(value_type = DateTime)]
    pub submitted: String,
}

/// A page of the suggestions assigned to the department.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuggestionList {
    pub suggestions: Vec<SuggestionSummary>,
    /// 下一页的 page 参数；没有下一页时为 null。
    #[schema(required = true)]
    pub next_page: Option<String>,
}

/// A department's assignment on a suggestion.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    pub department: String,
    #[schema(value_type = RoleCode)]
    pub role: String,
    #[schema(value_type = AssignmentStatusCode)]
    pub status: String,
    #[schema(value_type = DateTime)]
    pub deadline: String,
    pub acknowledged: bool,
}

/// A co-department's view sent to the lead.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Opinion {
    pub text: String,
    #[schema(value_type = DateTime)]
    pub at: String,
}

/// A co-department, its assignment and its opinions (shown to the lead department only).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CoDepartment {
    #[serde(flatten)]
    pub assignment: Assignment,
    pub opinions: Vec<Opinion>,
}

/// The member's rating of a reply.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReplyRating {
    /// satisfied, basically_satisfied or dissatisfied.
    pub rating: String,
    pub label: String,
    pub reason: String,
    #[schema(value_type = DateTime)]
    pub at: String,
}

/// A reply to the member.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Reply {
    pub department: String,
    /// The reply class code (答复分类).
    pub class: String,
    pub class_label: String,
    pub text: String,
    #[schema(value_type = DateTime)]
    pub at: String,
    #[schema(required = true)]
    pub rating: Option<ReplyRating>,
    /// 答复函的文号、标题、联系人、电话（没有填写的为 null）。
    pub letter: ReplyLetterFields,
    /// 随答复附上的文件；没有时为 null。
    #[schema(required = true)]
    pub document: Option<ReplyDocument>,
}

/// A reply letter's (答复函) fields; each `null` when not given.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReplyLetterFields {
    /// 文号，例如 浦教函〔2025〕12号。
    #[schema(required = true)]
    pub number: Option<String>,
    /// 答复函标题。
    #[schema(required = true)]
    pub title: Option<String>,
    /// 联系人。
    #[schema(required = true)]
    pub contact: Option<String>,
    /// 联系电话。
    #[schema(required = true)]
    pub phone: Option<String>,
}

/// A file sent with a reply.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReplyDocument {
    #[schema(required = true)]
    pub file_name: Option<String>,
    #[schema(required = true)]
    pub mime_type: Option<String>,
    /// 字节数。
    #[schema(required = true)]
    pub size: Option<i64>,
}

/// One event on a suggestion's timeline.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TimelineEvent {
    #[schema(value_type = DateTime)]
    pub at: String,
    pub actor: String,
    pub event: String,
    pub text: String,
}

/// The consultation topic a suggestion answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TopicRef {
    pub id: i64,
    #[schema(required = true)]
    pub title: Option<String>,
}

/// A suggestion as its department reads it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuggestionDetail {
    pub reference: String,
    pub title: String,
    #[schema(value_type = State)]
    pub state: String,
    pub state_label: String,
    #[schema(value_type = Kind)]
    pub kind: String,
    pub kind_label: String,
    #[schema(required = true)]
    pub topic: Option<TopicRef>,
    /// 各条建议，按顺序。
    pub points: Vec<String>,
    #[schema(value_type = DateTime)]
    pub submitted: String,
    #[schema(value_type = Option<DateTime>, required = true)]
    pub deadline: Option<String>,
    pub adopted: bool,
    /// 领衔委员的姓名。
    pub lead_member: String,
    /// 联名委员（已同意联名的委员）的姓名，按邀请顺序；没有时为空数组。
    pub cosigners: Vec<String>,
    /// 本单位的承办。
    #[schema(required = true)]
    pub assignment: Option<Assignment>,
    /// 协办单位和它们的意见；只有主办单位能看到，协办单位看到 null。
    #[schema(required = true)]
    pub co_departments: Option<Vec<CoDepartment>>,
    pub replies: Vec<Reply>,
    pub timeline: Vec<TimelineEvent>,
}

/// What went wrong: a stable code for programs, a message for people, and each field's problem.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// invalid_request, malformed_json, unauthorized, forbidden, not_found, no_such_endpoint,
    /// method_not_allowed, wrong_state, already_done, assignment_closed, conflict,
    /// payload_too_large, unsupported_media_type, timeout, internal.
    pub code: String,
    /// 给人看的中文说明。
    pub message: String,
    /// 字段名 → 这个字段的问题。
    pub fields: BTreeMap<String, String>,
}

/// Every error the API answers: `{"error": {"code", "message", "fields"}}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    #[schema(inline)]
    pub error: ErrorDetail,
}

/// Acknowledging takes no fields; the body may be empty.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeRequest {}

/// Returning an assignment to the staff.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// 退回理由。
    #[schema(min_length = 1, max_length = 3000, pattern = r"\S")]
    pub reason: String,
}

/// The lead department's reply to the member.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    /// 答复分类（见 `workflow.reply_classes`；文档列出配置的分类）。
    pub class: String,
    /// 答复内容。
    #[schema(min_length = 1, max_length = 3000, pattern = r"\S")]
    pub text: String,
    /// 答复函文号，例如 浦教函〔2025〕12号（可不填）。
    #[serde(default)]
    #[schema(max_length = 50, nullable = false)]
    pub letter_number: Option<String>,
    /// 答复函标题（可不填；不填时用建言标题）。
    #[serde(default)]
    #[schema(max_length = 100, nullable = false)]
    pub letter_title: Option<String>,
    /// 联系人（可不填）。
    #[serde(default)]
    #[schema(max_length = 30, nullable = false)]
    pub letter_contact: Option<String>,
    /// 联系电话：数字、空格和 + - ( ) 转 , ， 、 / ;，至少 5 位数字（可不填）。
    #[serde(default)]
    #[schema(max_length = 30, nullable = false)]
    pub letter_phone: Option<String>,
}

/// The lead department's reply with a document, as `multipart/form-data`: the fields of
/// `ReplyRequest` as text parts, and the file as the part `document`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ReplyUpload {
    /// 答复分类（见 `workflow.reply_classes`）。
    pub class: String,
    /// 答复内容。
    #[schema(min_length = 1, max_length = 3000)]
    pub text: String,
    /// 答复函文号（可不填）。
    #[schema(max_length = 50, nullable = false)]
    pub letter_number: Option<String>,
    /// 答复函标题（可不填）。
    #[schema(max_length = 100, nullable = false)]
    pub letter_title: Option<String>,
    /// 联系人（可不填）。
    #[schema(max_length = 30, nullable = false)]
    pub letter_contact: Option<String>,
    /// 联系电话（可不填）。
    #[schema(max_length = 30, nullable = false)]
    pub letter_phone: Option<String>,
    /// 随答复发给委员的文件（可不附）：PDF、DOCX、DOC、OFD、JPEG 或 PNG，不超过 `web.api_max_upload_mb`
    /// （默认 20 MB）。文件名要带扩展名，内容要与扩展名相符。
    #[schema(value_type = Option<String>, format = Binary, content_media_type = "application/octet-stream")]
    pub document: Option<Vec<u8>>,
}

/// A co-department's view, sent to the lead.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionRequest {
    /// 协办意见。
    #[schema(min_length = 1, max_length = 3000, pattern = r"\S")]
    pub text: String,
}
