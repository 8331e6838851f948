//! The OpenAPI 3.1 document of the department API, served at `/api/openapi.json` (no login).
//! Written by hand; a test checks it against the routes the router serves.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{PAGE_SIZE, json_body};
use crate::domain::SuggestionState;
use crate::web::WebState;
use crate::workflow::TEXT_MAX_CHARS;

pub async fn document(State(state): State<WebState>) -> Response {
    json_body(&spec(&state)).into_response()
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn text_schema(description: &str) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": TEXT_MAX_CHARS, "pattern": "\\S", "description": description })
}

/// An action on one suggestion: `POST`, a JSON body, the suggestion as it is afterwards.
fn action(summary: &str, description: &str, request_schema: &str, errors: &[&str]) -> Value {
    let mut responses = json!({
        "200": {
            "description": "完成；返回这条建言的最新情况。",
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SuggestionDetail" } } }
        },
    });
    for code in errors {
        responses[*code] = json!({ "$ref": format!("#/components/responses/{}", response_name(code)) });
    }
    json!({
        "summary": summary,
        "description": description,
        "parameters": [{ "$ref": "#/components/parameters/Reference" }],
        "requestBody": {
            "required": request_schema != "AcknowledgeRequest",
            "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{request_schema}") } } }
        },
        "responses": responses,
    })
}

fn response_name(code: &str) -> &'static str {
    match code {
        "400" => "BadRequest",
        "401" => "Unauthorized",
        "403" => "Forbidden",
        "404" => "NotFound",
        "409" => "Conflict",
        "413" => "PayloadTooLarge",
        _ => "InternalError",
    }
}

/// The whole document. Reply classes come from the configuration (`workflow.reply_classes`).
pub fn spec(state: &WebState) -> Value {
    let classes = state.app.config.workflow.reply_classes();
    let class_codes: Vec<&str> = classes.iter().map(|c| c.code.as_str()).collect();
    let class_text = classes.iter().map(|c| format!("{} {}", c.code, c.label)).collect::<Vec<_>>().join("；");
    let states: Vec<&str> = SuggestionState::ALL.iter().map(|s| s.code()).collect();
    let query_states: Vec<&str> = states.iter().copied().chain([""]).collect();
    let all_errors = ["400", "401", "403", "404", "409", "413", "500"];
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "jianyan 承办单位接口",
            "version": "1.0.0",
            "description": "承办单位用本单位的系统签收、退回、答复交办给本单位的建言。每个请求在请求头中带上 \
                `Authorization: Bearer <令牌>`（令牌由区政协工作人员在控制台「API 令牌」页面创建，只属于一个承办单位）。\
                所有请求和应答都是 UTF-8 编码的 JSON；出错时应答 `{\"error\": {\"code\", \"message\", \"fields\"}}`，\
                message 是可以直接给人看的中文说明，fields 列出有问题的字段。只能看到和处理交办给本单位的建言；\
                其他建言一律应答 404。"
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": {
            "/api/v1/suggestions": {
                "get": {
                    "summary": "交办给本单位的建言",
                    "description": format!("本单位承办（主办或协办）的建言，按交办先后排列，每页最多 {PAGE_SIZE} 条。"),
                    "parameters": [
                        {
                            "name": "state", "in": "query", "required": false,
                            "description": "只看这个状态的建言；不填或为空时列出全部。",
                            "schema": { "type": "string", "enum": query_states }
                        },
                        {
                            "name": "page", "in": "query", "required": false,
                            "description": "下一页：上一页应答中 next_page 的值；不填或为空时是第一页。",
                            "schema": { "type": "string", "pattern": "^([1-9][0-9]{0,17})?$" }
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "一页建言。",
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SuggestionList" } } }
                        },
                        "400": { "$ref": "#/components/responses/BadRequest" },
                        "401": { "$ref": "#/components/responses/Unauthorized" },
                        "500": { "$ref": "#/components/responses/InternalError" }
                    }
                }
            },
            "/api/v1/suggestions/{reference}": {
                "get": {
                    "summary": "一条建言",
                    "description": "建言的内容（各条建议）、议题、类别、本单位的承办情况、协办单位的意见（主办单位可见）、答复和办理过程。",
                    "parameters": [{ "$ref": "#/components/parameters/Reference" }],
                    "responses": {
                        "200": {
                            "description": "这条建言。",
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SuggestionDetail" } } }
                        },
                        "401": { "$ref": "#/components/responses/Unauthorized" },
                        "404": { "$ref": "#/components/responses/NotFound" },
                        "500": { "$ref": "#/components/responses/InternalError" }
                    }
                }
            },
            "/api/v1/suggestions/{reference}/acknowledge": {
                "post": action(
                    "签收",
                    "签收交办给本单位的建言；主办单位签收后建言进入「办理中」，委员会收到通知。请求体可以为空。",
                    "AcknowledgeRequest",
                    &all_errors,
                )
            },
            "/api/v1/suggestions/{reference}/return": {
                "post": action(
                    "退回",
                    "退回交办（须说明理由），由区政协工作人员重新交办。",
                    "ReturnRequest",
                    &all_errors,
                )
            },
            "/api/v1/suggestions/{reference}/reply": {
                "post": action(
                    "答复（主办单位）",
                    &format!("主办单位答复委员：答复分类和答复内容。委员会收到答复并可以评价。答复分类：{class_text}。"),
                    "ReplyRequest",
                    &all_errors,
                )
            },
            "/api/v1/suggestions/{reference}/opinion": {
                "post": action(
                    "协办意见（协办单位）",
                    "协办单位把本单位的意见发给主办单位。",
                    "OpinionRequest",
                    &all_errors,
                )
            }
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "承办单位的 API 令牌，以 jy_ 开头。"
                }
            },
            "parameters": {
                "Reference": {
                    "name": "reference", "in": "path", "required": true,
                    "description": "建言编号，例如 PD-2025-0042。",
                    "schema": { "type": "string" }
                }
            },
            "responses": {
                "BadRequest": error_response("请求有误：缺少字段、字段为空或太长、答复分类无效、JSON 格式错误（fields 说明每个字段的问题）。"),
                "Unauthorized": error_response("没有令牌，或令牌不存在、已被撤销。"),
                "Forbidden": error_response("本单位可以查看这条建言，但不能进行这项操作（例如协办单位答复）。"),
                "NotFound": error_response("没有这条建言，或它没有交办给本单位。"),
                "Conflict": error_response("建言或本单位承办的当前状态不允许这项操作（例如重复答复、答复已办结的建言）。"),
                "PayloadTooLarge": error_response("请求体太大。"),
                "InternalError": error_response("系统出错，请稍后再试。")
            },
            "schemas": schemas(&states, &class_codes, &class_text)
        }
    })
}

/// The schemas of the bodies.
fn schemas(states: &[&str], class_codes: &[&str], class_text: &str) -> Value {
    let mut schemas = serde_json::Map::new();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "fields"],
                    "properties": {
                        "code": {
                            "type": "string",
                            "description": "invalid_request, malformed_json, unauthorized, forbidden, not_found, \
                                no_such_endpoint, method_not_allowed, wrong_state, already_done, \
                                assignment_closed, conflict, payload_too_large, internal",
                        },
                        "message": { "type": "string", "description": "给人看的中文说明。" },
                        "fields": {
                            "type": "object",
                            "additionalProperties": { "type": "string" },
                            "description": "字段名 → 这个字段的问题。"
                        }
                    }
                }
            }
        }),
    );
    schemas.insert(
        "AcknowledgeRequest".into(),
        json!({ "type": "object", "additionalProperties": false, "properties": {} }),
    );
    schemas.insert(
        "ReturnRequest".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["reason"],
            "properties": { "reason": text_schema("退回理由。") }
        }),
    );
    schemas.insert(
        "ReplyRequest".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["class", "text"],
            "properties": {
                "class": { "type": "string", "enum": class_codes, "description": format!("答复分类：{class_text}。") },
                "text": text_schema("答复内容。")
            }
        }),
    );
    schemas.insert(
        "OpinionRequest".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["text"],
            "properties": { "text": text_schema("协办意见。") }
        }),
    );
    schemas.insert("State".into(), json!({ "type": "string", "enum": states }));
    schemas.insert(
        "Role".into(),
        json!({ "type": "string", "enum": ["lead", "co"], "description": "lead 主办，co 协办。" }),
    );
    schemas.insert(
        "AssignmentStatus".into(),
        json!({
            "type": "string",
            "enum": ["active", "returned", "answered"],
            "description": "active 办理中，returned 已退回，answered 已答复或已提交协办意见。"
        }),
    );
    schemas.insert("DateTime".into(), json!({ "type": "string", "format": "date-time" }));
    schemas.insert("SuggestionSummary".into(), json!({
                    "type": "object",
                    "required": ["reference", "title", "state", "state_label", "role", "assignment_status", "deadline", "acknowledged", "submitted"],
                    "properties": {
                        "reference": { "type": "string" },
                        "title": { "type": "string" },
                        "state": { "$ref": "#/components/schemas/State" },
                        "state_label": { "type": "string" },
                        "role": { "$ref": "#/components/schemas/Role" },
                        "assignment_status": { "$ref": "#/components/schemas/AssignmentStatus" },
                        "deadline": { "$ref": "#/components/schemas/DateTime" },
                        "acknowledged": { "type": "boolean" },
                        "submitted": { "$ref": "#/components/schemas/DateTime" }
                    }
                }));
    schemas.insert(
        "SuggestionList".into(),
        json!({
            "type": "object",
            "required": ["suggestions", "next_page"],
            "properties": {
                "suggestions": { "type": "array", "items": { "$ref": "#/components/schemas/SuggestionSummary" } },
                "next_page": { "type": ["string", "null"], "description": "下一页的 page 参数；没有下一页时为 null。" }
            }
        }),
    );
    schemas.insert(
        "Assignment".into(),
        json!({
            "type": "object",
            "required": ["department", "role", "status", "deadline", "acknowledged"],
            "properties": {
                "department": { "type": "string" },
                "role": { "$ref": "#/components/schemas/Role" },
                "status": { "$ref": "#/components/schemas/AssignmentStatus" },
                "deadline": { "$ref": "#/components/schemas/DateTime" },
                "acknowledged": { "type": "boolean" }
            }
        }),
    );
    schemas.insert("CoDepartment".into(), json!({
                    "allOf": [
                        { "$ref": "#/components/schemas/Assignment" },
                        {
                            "type": "object",
                            "required": ["opinions"],
                            "properties": {
                                "opinions": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["text", "at"],
                                        "properties": { "text": { "type": "string" }, "at": { "$ref": "#/components/schemas/DateTime" } }
                                    }
                                }
                            }
                        }
                    ]
                }));
    schemas.insert("Reply".into(), json!({
                    "type": "object",
                    "required": ["department", "class", "class_label", "text", "at", "rating"],
                    "properties": {
                        "department": { "type": "string" },
                        "class": { "type": "string" },
                        "class_label": { "type": "string" },
                        "text": { "type": "string" },
                        "at": { "$ref": "#/components/schemas/DateTime" },
                        "rating": {
                            "oneOf": [
                                { "type": "null" },
                                {
                                    "type": "object",
                                    "required": ["rating", "label", "reason", "at"],
                                    "properties": {
                                        "rating": { "type": "string", "enum": ["satisfied", "basically_satisfied", "dissatisfied"] },
                                        "label": { "type": "string" },
                                        "reason": { "type": "string" },
                                        "at": { "$ref": "#/components/schemas/DateTime" }
                                    }
                                }
                            ]
                        }
                    }
                }));
    schemas.insert(
        "TimelineEvent".into(),
        json!({
            "type": "object",
            "required": ["at", "actor", "event", "text"],
            "properties": {
                "at": { "$ref": "#/components/schemas/DateTime" },
                "actor": { "type": "string" },
                "event": { "type": "string" },
                "text": { "type": "string" }
            }
        }),
    );
    schemas.insert(
        "SuggestionDetail".into(),
        json!({
            "type": "object",
            "required": ["reference", "title", "state", "state_label", "kind", "kind_label", "topic", "points",
                "submitted", "deadline", "adopted", "assignment", "co_departments", "replies", "timeline"],
            "properties": {
                "reference": { "type": "string" },
                "title": { "type": "string" },
                "state": { "$ref": "#/components/schemas/State" },
                "state_label": { "type": "string" },
                "kind": { "type": "string", "enum": ["advice", "opinion", "research", "inspection"] },
                "kind_label": { "type": "string" },
                "topic": {
                    "oneOf": [
                        { "type": "null" },
                        {
                            "type": "object",
                            "required": ["id", "title"],
                            "properties": { "id": { "type": "integer" }, "title": { "type": ["string", "null"] } }
                        }
                    ]
                },
                "points": { "type": "array", "items": { "type": "string" }, "description": "各条建议，按顺序。" },
                "submitted": { "$ref": "#/components/schemas/DateTime" },
                "deadline": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/DateTime" }] },
                "adopted": { "type": "boolean" },
                "assignment": {
                    "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Assignment" }],
                    "description": "本单位的承办。"
                },
                "co_departments": {
                    "oneOf": [
                        { "type": "null" },
                        { "type": "array", "items": { "$ref": "#/components/schemas/CoDepartment" } }
                    ],
                    "description": "协办单位和它们的意见；只有主办单位能看到，协办单位看到 null。"
                },
                "replies": { "type": "array", "items": { "$ref": "#/components/schemas/Reply" } },
                "timeline": { "type": "array", "items": { "$ref": "#/components/schemas/TimelineEvent" } }
            }
        }),
    );
    Value::Object(schemas)
}
