//! The department HTTP API, its OpenAPI document and the API token page, driven through the real
//! router on a fresh database.

mod support;

use std::collections::BTreeSet;

use axum::http::{StatusCode, header};
use jianyan::store::Rating;
use jianyan::web::auth::token_hash;
use jianyan::workflow::{Actor, Command, plan};
use serde_json::Value;
use support::console::{ApiAnswer, Console};
use support::db::Backend;

/// Messages waiting in the outbox for a chat, in the order they will be sent (`due_outbox` shows
/// only each chat's next one).
async fn outbox_for(c: &Console, chat_id: i64) -> Vec<String> {
    c.db.texts(
        "SELECT payload FROM outbox WHERE chat_id = $1 AND status = 'pending' ORDER BY priority, id",
        &[chat_id.into()],
    )
    .await
}

fn assert_error(a: &ApiAnswer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.code(), code, "{}", a.body);
    let content_type = a.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let message = a.json["error"]["message"].as_str().unwrap_or("");
    assert!(message.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)), "a Chinese message: {}", a.body);
    assert!(a.json["error"]["fields"].is_object(), "{}", a.body);
}

fn field<'a>(a: &'a ApiAnswer, name: &str) -> &'a str {
    a.json["error"]["fields"][name].as_str().unwrap_or_else(|| panic!("no field error for {name}: {}", a.body))
}

fn references(a: &ApiAnswer) -> Vec<String> {
    a.json["suggestions"].as_array().unwrap().iter().map(|s| s["reference"].as_str().unwrap().to_string()).collect()
}

async fn audit_actions(c: &Console) -> Vec<(Option<String>, String, String, String)> {
    c.store.audit_log(100).await.unwrap().into_iter().map(|e| (e.user, e.action, e.target, e.detail)).collect()
}

// --- The OpenAPI document -----------------------------------------------------------------------

#[tokio::test]
async fn the_openapi_document_lists_every_route_with_its_methods_and_the_router_serves_no_others() {
    let c = Console::start().await;
    let doc = c.api("GET", "/api/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK, "no login needed: {}", doc.body);
    let spec = &doc.json;
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(spec["security"][0]["bearer"], Value::Array(vec![]));
    let error = &spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"];
    for key in ["code", "message", "fields"] {
        assert!(error[key].is_object(), "the error shape documents {key}");
    }
    let reply_class = &spec["components"]["schemas"]["ReplyRequest"]["properties"]["class"]["enum"];
    assert_eq!(reply_class, &serde_json::json!(["A", "B", "C", "D"]), "the configured reply classes");

    let routes = jianyan::web::api::routes();
    let documented: BTreeSet<String> = spec["paths"].as_object().unwrap().keys().cloned().collect();
    let served: BTreeSet<String> = routes.iter().map(|r| r.path.to_string()).collect();
    assert_eq!(documented, served, "every route is documented and every documented path is served");
    for r in &routes {
        let ops = spec["paths"][r.path].as_object().unwrap();
        let methods: BTreeSet<String> = ops.keys().map(|m| m.to_uppercase()).collect();
        let expected: BTreeSet<String> = r.methods.iter().map(|m| m.to_string()).collect();
        assert_eq!(methods, expected, "{}", r.path);
        for (method, op) in ops {
            let responses = op["responses"].as_object().unwrap();
            for code in ["200", "401", "500"] {
                assert!(responses.contains_key(code), "{method} {} documents {code}", r.path);
            }
            if method == "post" {
                let schema = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap();
                let name = schema.rsplit('/').next().unwrap();
                assert!(spec["components"]["schemas"][name].is_object(), "{schema} exists");
                for code in ["400", "403", "404", "409"] {
                    assert!(responses.contains_key(code), "{method} {} documents {code}", r.path);
                }
            }
        }
    }

    // The router answers exactly these methods on these paths.
    let (_, token) = c.api_token_for(c.department_id, "探测").await;
    let (_, reference) = c.api_assigned("探测用的建言", false).await;
    for r in &routes {
        let path = r.path.replace("{reference}", &reference);
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let a = c.api(method, &path, Some(&token), Some("{}")).await;
            if r.methods.contains(&method) {
                assert_ne!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {}", a.body);
                assert_ne!(a.code(), "no_such_endpoint", "{method} {path}");
            } else {
                assert_error(&a, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
            }
        }
    }
    let unknown = c.api("GET", "/api/v1/departments", Some(&token), None).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "no_such_endpoint");
}

/// The served OpenAPI document, to check real requests and answers against.
struct Documented(Value);

impl Documented {
    async fn load(c: &Console) -> Self {
        let doc = c.api("GET", "/api/openapi.json", None, None).await;
        assert_eq!(doc.status, StatusCode::OK, "{}", doc.body);
        Self(doc.json)
    }

    /// Every error `instance` has against `schema`, whose `$ref`s point into this document.
    fn errors(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let mut root = schema.as_object().cloned().unwrap_or_default();
        root.insert("components".into(), self.0["components"].clone());
        let validator = jsonschema::validator_for(&Value::Object(root)).expect("the schema compiles");
        validator.iter_errors(instance).map(|e| format!("{e} (at {})", e.instance_path())).collect()
    }

    /// Asserts that the answer's status is documented for `method template` and that its body
    /// validates against the schema documented for that status.
    fn check(&self, method: &str, template: &str, a: &ApiAnswer) {
        let operation = &self.0["paths"][template][method.to_lowercase()];
        assert!(operation.is_object(), "{method} {template} is documented");
        let status = a.status.as_u16().to_string();
        let response = &operation["responses"][&status];
        assert!(response.is_object(), "{method} {template} documents {status}: {}", a.body);
        let schema = &response["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{method} {template} {status} documents its body");
        let errors = self.errors(schema, &a.json);
        assert!(errors.is_empty(), "{method} {template} {status}: {errors:#?}\n{}", a.body);
    }

    /// Asserts that a request body the API accepts validates against its documented schema.
    fn check_request(&self, template: &str, body: &str) {
        let schema = &self.0["paths"][template]["post"]["requestBody"]["content"]["application/json"]["schema"];
        let errors = self.errors(schema, &serde_json::from_str(body).unwrap());
        assert!(errors.is_empty(), "POST {template} with {body}: {errors:#?}");
    }

    /// Asserts that a request body the API refuses does not validate either.
    fn check_refused_request(&self, template: &str, body: &str) {
        let schema = &self.0["paths"][template]["post"]["requestBody"]["content"]["application/json"]["schema"];
        assert!(!self.errors(schema, &serde_json::from_str(body).unwrap()).is_empty(), "{template} refuses {body}");
    }
}

#[tokio::test]
async fn real_answers_have_documented_statuses_and_validate_against_the_documented_schemas() {
    let c = Console::start().await;
    let doc = Documented::load(&c).await;
    c.api_bind_member("PD001", 7001).await;
    let (_, education) = c.api_token_for(c.department_id, "教育局系统").await;
    let (_, finance) = c.api_token_for(c.other_department_id, "财政局系统").await;
    let (id, reference) = c.api_assigned("学校周边交通安全", true).await;
    let (_, other) = c.api_assigned("另一条建言", false).await;
    let one = "/api/v1/suggestions/{reference}";
    let action = |name: &str| format!("/api/v1/suggestions/{{reference}}/{name}");
    let at = |name: &str, reference: &str| format!("/api/v1/suggestions/{reference}/{name}");
    let get = |path: String, token: Option<String>| {
        let c = &c;
        async move { c.api("GET", &path, token.as_deref(), None).await }
    };
    let post = |path: String, token: String, body: &str| {
        let (c, body) = (&c, body.to_string());
        async move { c.api("POST", &path, Some(&token), Some(&body)).await }
    };
    let (lead, co) = (Some(education.clone()), Some(finance.clone()));

    // Reading: a list, pages, one suggestion as the lead and as a co-department, and refusals.
    doc.check("GET", "/api/v1/suggestions", &get("/api/v1/suggestions".into(), lead.clone()).await);
    doc.check("GET", "/api/v1/suggestions", &get("/api/v1/suggestions?state=assigned&page=".into(), co.clone()).await);
    doc.check("GET", "/api/v1/suggestions", &get("/api/v1/suggestions?state=nonsense".into(), lead.clone()).await);
    doc.check("GET", "/api/v1/suggestions", &get("/api/v1/suggestions?page=x".into(), lead.clone()).await);
    doc.check("GET", "/api/v1/suggestions", &get("/api/v1/suggestions".into(), None).await);
    doc.check("GET", one, &get(format!("/api/v1/suggestions/{reference}"), lead.clone()).await);
    doc.check("GET", one, &get(format!("/api/v1/suggestions/{reference}"), co.clone()).await);
    doc.check("GET", one, &get(format!("/api/v1/suggestions/{other}"), co.clone()).await);
    doc.check("GET", one, &get("/api/v1/suggestions/PD-2025-9999".into(), lead.clone()).await);
    doc.check("GET", one, &get(format!("/api/v1/suggestions/{reference}"), Some("jy_0000".into())).await);

    // Acting, with the bodies the document describes, and every kind of refusal.
    let opinion = r#"{"text":"建议增加财政补贴。"}"#;
    doc.check_request(&action("opinion"), opinion);
    doc.check("POST", &action("opinion"), &post(at("opinion", &reference), finance.clone(), opinion).await);
    doc.check("POST", &action("opinion"), &post(at("opinion", &reference), finance.clone(), opinion).await);
    doc.check("POST", &action("opinion"), &post(at("opinion", &reference), education.clone(), opinion).await);
    doc.check_request(&action("acknowledge"), "{}");
    doc.check("POST", &action("acknowledge"), &post(at("acknowledge", &reference), education.clone(), "{}").await);
    doc.check("POST", &action("acknowledge"), &post(at("acknowledge", &reference), education.clone(), "{}").await);
    doc.check("POST", &action("acknowledge"), &post(at("acknowledge", &other), finance.clone(), "{}").await);
    let reply = r#"{"class":"A","text":"已将学校周边交通整治纳入明年计划。"}"#;
    doc.check_request(&action("reply"), reply);
    for refused in
        [r#"{"class":"Z","text":"答复"}"#, r#"{"class":"A","text":""}"#, r#"{"class":"A"}"#, r#"{"txet":"x"}"#]
    {
        doc.check_refused_request(&action("reply"), refused);
        doc.check("POST", &action("reply"), &post(at("reply", &reference), education.clone(), refused).await);
    }
    doc.check("POST", &action("reply"), &post(at("reply", &reference), education.clone(), "[1, 2]").await);
    doc.check("POST", &action("reply"), &post(at("reply", &reference), finance.clone(), reply).await);
    doc.check("POST", &action("reply"), &post(at("reply", &reference), education.clone(), reply).await);
    doc.check("POST", &action("reply"), &post(at("reply", &reference), education.clone(), reply).await);

    // The member rates the reply: the rating is in the suggestion.
    let member = c.store.member_by_no(&jianyan::domain::MemberNo::parse("PD001").unwrap()).await.unwrap().unwrap();
    let now = c.app.clock.now();
    let ctx = jianyan::context::Ctx { store: c.app.store.as_ref(), texts: &c.app.texts, config: &c.app.config, now };
    let rate = Command::Rate { reply_no: 1, rating: Rating::Satisfied, reason: "很好".into() };
    let change = plan(&ctx, &Actor::Member(&member), id, rate).await.unwrap().unwrap();
    c.store.apply_change(change, now).await.unwrap();
    let rated = get(format!("/api/v1/suggestions/{reference}"), lead.clone()).await;
    assert_eq!(rated.json["replies"][0]["rating"]["rating"], "satisfied");
    doc.check("GET", one, &rated);

    let reason = r#"{"reason":"不属于本单位职责。"}"#;
    doc.check_request(&action("return"), reason);
    doc.check("POST", &action("return"), &post(at("return", &other), education.clone(), reason).await);
    doc.check("POST", &action("return"), &post(at("return", &reference), education.clone(), reason).await);
    let huge = format!(r#"{{"reason":"{}"}}"#, "长".repeat(1 << 20));
    doc.check("POST", &action("return"), &post(at("return", &other), education.clone(), &huge).await);
}

// --- Authentication -----------------------------------------------------------------------------

#[tokio::test]
async fn requests_without_a_valid_token_get_401_with_a_bearer_challenge() {
    let c = Console::start().await;
    let (token_id, token) = c.api_token_for(c.department_id, "教育局系统").await;
    let good = c.api("GET", "/api/v1/suggestions", Some(&token), None).await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);

    let check = |a: ApiAnswer| {
        assert_error(&a, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(a.headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
    };
    check(c.api("GET", "/api/v1/suggestions", None, None).await);
    check(c.api("GET", "/api/v1/suggestions", Some("jy_0000"), None).await);
    check(c.api("POST", "/api/v1/suggestions/PD-2025-0001/acknowledge", Some("jy_0000"), Some("{}")).await);
    let basic = axum::http::Request::get("/api/v1/suggestions")
        .header(header::AUTHORIZATION, format!("Basic {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(c.request(basic).await.status, StatusCode::UNAUTHORIZED, "only the bearer scheme");

    assert!(c.store.revoke_api_token(token_id, c.app.clock.now()).await.unwrap());
    check(c.api("GET", "/api/v1/suggestions", Some(&token), None).await);

    let listed = c.store.api_tokens().await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "the token's use is recorded");
}

// --- Reading ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_department_lists_only_the_suggestions_assigned_to_it() {
    let c = Console::start().await;
    let (_, education) = c.api_token_for(c.department_id, "教育局系统").await;
    let (_, finance) = c.api_token_for(c.other_department_id, "财政局系统").await;
    let (_, both) = c.api_assigned("学校周边交通安全", true).await;
    let (finance_only, finance_ref) = c.api_submit("PD002", "财政资金绩效评价", &["第一条"]).await;
    c.api_run_as("staff", finance_only, Command::Accept).await;
    let assign = Command::Assign { lead: c.other_department_id, co: vec![], deadline: None };
    c.api_run_as("staff", finance_only, assign).await;
    let (_, unassigned) = c.api_submit("PD002", "还没有交办的建言", &["第一条"]).await;

    let list = c.api("GET", "/api/v1/suggestions", Some(&education), None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(references(&list), vec![both.clone()]);
    let item = &list.json["suggestions"][0];
    assert_eq!(item["title"], "学校周边交通安全");
    assert_eq!(item["state"], "assigned");
    assert_eq!(item["state_label"], "已交办");
    assert_eq!(item["role"], "lead");
    assert_eq!(item["acknowledged"], false);
    assert_eq!(item["submitted"], "2025-03-01T02:00:00Z");
    assert_eq!(item["deadline"], "2025-06-01T02:00:00Z", "three months by default");
    assert_eq!(list.json["next_page"], Value::Null);

    let list = c.api("GET", "/api/v1/suggestions", Some(&finance), None).await;
    assert_eq!(references(&list), vec![both.clone(), finance_ref.clone()]);
    assert_eq!(list.json["suggestions"][0]["role"], "co");
    assert_eq!(list.json["suggestions"][1]["role"], "lead");
    assert!(!list.body.contains(&unassigned), "never a suggestion not assigned to it");

    let filtered = c.api("GET", "/api/v1/suggestions?state=in_progress", Some(&finance), None).await;
    assert_eq!(references(&filtered), Vec::<String>::new());
    let filtered = c.api("GET", "/api/v1/suggestions?state=assigned", Some(&finance), None).await;
    assert_eq!(references(&filtered).len(), 2);

    let bad = c.api("GET", "/api/v1/suggestions?state=finished&page=x", Some(&finance), None).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(field(&bad, "state").contains("in_progress"), "names the states: {}", bad.body);
    assert!(field(&bad, "page").contains("next_page"));
}

#[tokio::test]
async fn long_lists_come_in_pages() {
    let c = Console::start().await;
    let (_, token) = c.api_token_for(c.department_id, "教育局系统").await;
    let mut all = Vec::new();
    for i in 0..(jianyan::web::api::PAGE_SIZE + 2) {
        all.push(c.api_assigned(&format!("建言{i}"), false).await.1);
    }
    let first = c.api("GET", "/api/v1/suggestions", Some(&token), None).await;
    assert_eq!(references(&first).len(), jianyan::web::api::PAGE_SIZE);
    let next = first.json["next_page"].as_str().expect("a next page");
    let second = c.api("GET", &format!("/api/v1/suggestions?page={next}"), Some(&token), None).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.json["next_page"], Value::Null);
    let mut seen = references(&first);
    seen.extend(references(&second));
    assert_eq!(seen, all, "every suggestion once, in order");
}

#[tokio::test]
async fn one_suggestion_shows_its_points_assignment_co_departments_and_timeline() {
    let c = Console::start().await;
    let (_, education) = c.api_token_for(c.department_id, "教育局系统").await;
    let (_, finance) = c.api_token_for(c.other_department_id, "财政局系统").await;
    let (_, reference) = c.api_assigned("学校周边交通安全", true).await;

    let lead = c.api("GET", &format!("/api/v1/suggestions/{reference}"), Some(&education), None).await;
    assert_eq!(lead.status, StatusCode::OK, "{}", lead.body);
    let s = &lead.json;
    assert_eq!(s["reference"], reference.as_str());
    assert_eq!(s["points"], serde_json::json!(["第一条建议", "第二条建议"]));
    assert_eq!(s["topic"]["title"], "\"十五五\"规划编制");
    assert_eq!(s["kind"], "advice");
    assert_eq!(s["kind_label"], "建言资政");
    assert_eq!(s["assignment"]["role"], "lead");
    assert_eq!(s["assignment"]["department"], "区教育局");
    assert_eq!(s["co_departments"][0]["department"], "区财政局");
    assert_eq!(s["co_departments"][0]["opinions"], serde_json::json!([]));
    assert_eq!(s["replies"], serde_json::json!([]));
    let events: Vec<&str> = s["timeline"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(events.contains(&"accepted") && events.contains(&"assigned"), "{events:?}");

    let co = c.api("GET", &format!("/api/v1/suggestions/{reference}"), Some(&finance), None).await;
    assert_eq!(co.status, StatusCode::OK);
    assert_eq!(co.json["assignment"]["role"], "co");
    assert_eq!(co.json["co_departments"], Value::Null, "co-departments' views are for the lead");

    let lower = c.api("GET", &format!("/api/v1/suggestions/{}", reference.to_lowercase()), Some(&finance), None).await;
    assert_eq!(lower.status, StatusCode::OK, "the reference is read case-insensitively");
}

#[tokio::test]
async fn another_departments_suggestion_is_404_and_nothing_changes() {
    let c = Console::start().await;
    let (_, finance) = c.api_token_for(c.other_department_id, "财政局系统").await;
    let (id, reference) = c.api_assigned("只交办给教育局", false).await;
    let (_, submitted) = c.api_submit("PD002", "刚提交的建言", &["第一条"]).await;
    let before = c.store.facts(id).await.unwrap();

    let theirs = c.api("GET", &format!("/api/v1/suggestions/{reference}"), Some(&finance), None).await;
    assert_error(&theirs, StatusCode::NOT_FOUND, "not_found");
    let unknown = c.api("GET", "/api/v1/suggestions/PD-2025-9999", Some(&finance), None).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(theirs.json, unknown.json, "another department's suggestion looks like one that does not exist");
    let not_assigned = c.api("GET", &format!("/api/v1/suggestions/{submitted}"), Some(&finance), None).await;
    assert_error(&not_assigned, StatusCode::NOT_FOUND, "not_found");
    let unreadable = c.api("GET", "/api/v1/suggestions/%FF%FE", Some(&finance), None).await;
    assert_error(&unreadable, StatusCode::NOT_FOUND, "not_found");

    for (action, body) in [
        ("acknowledge", "{}"),
        ("return", r#"{"reason":"不是我们的"}"#),
        ("reply", r#"{"class":"A","text":"越权答复"}"#),
        ("opinion", r#"{"text":"越权意见"}"#),
    ] {
        let a = c.api("POST", &format!("/api/v1/suggestions/{reference}/{action}"), Some(&finance), Some(body)).await;
        assert_error(&a, StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(c.store.facts(id).await.unwrap(), before, "nothing changed");
    assert!(audit_actions(&c).await.iter().all(|(_, action, _, _)| !action.starts_with("api.")));
}

// --- Acting -------------------------------------------------------------------------------------

#[tokio::test]
async fn the_lead_acknowledges_and_replies_and_the_member_gets_the_reply_with_rating_buttons() {
    let c = Console::start().await;
    c.api_bind_member("PD001", 7001).await;
    let (_, token) = c.api_token_for(c.department_id, "教育局系统").await;
    let (id, reference) = c.api_assigned("学校周边交通安全", false).await;
    let before = outbox_for(&c, 7001).await.len();

    let ack = c.api("POST", &format!("/api/v1/suggestions/{reference}/acknowledge"), Some(&token), None).await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.body);
    assert_eq!(ack.json["state"], "in_progress");
    assert_eq!(ack.json["assignment"]["acknowledged"], true);
    let pushes = outbox_for(&c, 7001).await;
    assert_eq!(pushes.len(), before + 1, "the member hears it was acknowledged");
    assert!(pushes.last().unwrap().contains("区教育局"), "{}", pushes.last().unwrap());

    let body = r#"{"class": "A", "text": "已将学校周边交通整治纳入明年计划。"}"#;
    let reply = c.api("POST", &format!("/api/v1/suggestions/{reference}/reply"), Some(&token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json["state"], "replied");
    assert_eq!(reply.json["replies"][0]["class"], "A");
    assert_eq!(reply.json["replies"][0]["text"], "已将学校周边交通整治纳入明年计划。");
    assert_eq!(reply.json["replies"][0]["rating"], Value::Null);
    assert_eq!(reply.json["assignment"]["status"], "answered");
    let push = outbox_for(&c, 7001).await.pop().unwrap();
    assert!(push.contains("已将学校周边交通整治纳入明年计划。"), "{push}");
    let satisfied = format!(r#"{{"rating":{{"suggestion_id":{id},"reply_no":1,"choice":{{"rate":"satisfied"}}}}}}"#);
    assert!(push.contains(&satisfied) && push.contains("满意"), "rating buttons: {push}");

    let timeline = reply.json["timeline"].as_array().unwrap();
    let last = timeline.last().unwrap();
    assert_eq!((last["event"].as_str(), last["actor"].as_str()), (Some("replied"), Some("api_token")));

    let audit = audit_actions(&c).await;
    let who = Some("token:教育局系统".to_string());
    assert!(audit.contains(&(who.clone(), "api.acknowledge".into(), reference.clone(), String::new())), "{audit:?}");
    assert!(
        audit.iter().any(|(w, a, t, d)| *w == who && a == "api.reply" && *t == reference && d.contains("纳入明年计划")),
        "{audit:?}"
    );
}

#[tokio::test]
async fn a_co_department_sends_its_view_to_the_lead_but_may_not_reply() {
    let c = Console::start().await;
    let (_, education) = c.api_token_for(c.department_id, "教育局系统").await;
    let (_, finance) = c.api_token_for(c.other_department_id, "财政局系统").await;
    let (_, reference) = c.api_assigned("学校周边交通安全", true).await;
    let path = |action: &str| format!("/api/v1/suggestions/{reference}/{action}");

    let reply = c.api("POST", &path("reply"), Some(&finance), Some(r#"{"class":"A","text":"协办单位不能答复"}"#)).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let lead_opinion = c.api("POST", &path("opinion"), Some(&education), Some(r#"{"text":"主办不发协办意见"}"#)).await;
    assert_error(&lead_opinion, StatusCode::FORBIDDEN, "forbidden");

    let opinion = c.api("POST", &path("opinion"), Some(&finance), Some(r#"{"text":"建议增加财政补贴。"}"#)).await;
    assert_eq!(opinion.status, StatusCode::OK, "{}", opinion.body);
    assert_eq!(opinion.json["assignment"]["status"], "answered");
    assert_eq!(opinion.json["state"], "assigned", "the suggestion's state is the lead's business");

    let seen = c.api("GET", &format!("/api/v1/suggestions/{reference}"), Some(&education), None).await;
    assert_eq!(seen.json["co_departments"][0]["opinions"][0]["text"], "建议增加财政补贴。");

    let again = c.api("POST", &path("opinion"), Some(&finance), Some(r#"{"text":"再发一次"}"#)).await;
    assert_error(&again, StatusCode::CONFLICT, "already_done");
    let audit = audit_actions(&c).await;
    assert!(audit.iter().any(|(w, a, _, _)| w.as_deref() == Some("token:财政局系统") && a == "api.opinion"));
    assert_eq!(audit.iter().filter(|(_, a, _, _)| a.starts_with("api.")).count(), 1, "refusals change nothing");
}

#[tokio::test]
async fn returning_sends_the_suggestion_back_to_staff() {
    let c = Console::start().await;
    let (_, token) = c.api_token_for(c.department_id, "教育局系统").await;
    let (_, reference) = c.api_assigned("不属于教育局的建言", false).await;
    let body = r#"{"reason": "不属于本单位职责，建议交区建设管理委员会。"}"#;
    let back = c.api("POST", &format!("/api/v1/suggestions/{reference}/return"), Some(&token), Some(body)).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(back.json["state"], "accepted");
    assert_eq!(back.json["assignment"]["status"], "returned");
    let last = back.json["timeline"].as_array().unwrap().last().unwrap().clone();
    assert!(last["text"].as_str().unwrap().contains("不属于本单位职责"), "{last}");
    let audit = audit_actions(&c).await;
    assert!(audit.iter().any(|(_, a, t, d)| a == "api.return" && *t == reference && d.contains("不属于本单位职责")));

    let ack = c.api("POST", &format!("/api/v1/suggestions/{reference}/acknowledge"), Some(&token), None).await;
    assert_eq!(ack.status, StatusCode::CONFLICT, "{}", ack.body);
}

#[tokio::test]
async fn actions_the_state_does_not_allow_are_409() {
    let c = Console::start().await;
    c.api_bind_member("PD001", 7001).await;
    let (_, token) = c.api_token_for(c.department_id, "教育局系统").await;
    let (id, reference) = c.api_assigned("学校周边交通安全", false).await;
    let path = |action: &str| format!("/api/v1/suggestions/{reference}/{action}");

    assert_eq!(c.api("POST", &path("acknowledge"), Some(&token), Some("{}")).await.status, StatusCode::OK);
    let twice = c.api("POST", &path("acknowledge"), Some(&token), Some("{}")).await;
    assert_error(&twice, StatusCode::CONFLICT, "already_done");

    let body = r#"{"class":"B","text":"正在研究。"}"#;
    assert_eq!(c.api("POST", &path("reply"), Some(&token), Some(body)).await.status, StatusCode::OK);
    let again = c.api("POST", &path("reply"), Some(&token), Some(body)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "replying twice: {}", again.body);

    // The member is satisfied: the suggestion is closed.
    let member = c.store.member_by_no(&jianyan::domain::MemberNo::parse("PD001").unwrap()).await.unwrap().unwrap();
    let now = c.app.clock.now();
    let ctx = jianyan::context::Ctx { store: c.app.store.as_ref(), texts: &c.app.texts, config: &c.app.config, now };
    let rate = Command::Rate { reply_no: 1, rating: Rating::Satisfied, reason: String::new() };
    let change = plan(&ctx, &Actor::Member(&member), id, rate).await.unwrap().unwrap();
    c.store.apply_change(change, now).await.unwrap();

    let closed = c.api("POST", &path("reply"), Some(&token), Some(body)).await;
    assert_eq!(closed.status, StatusCode::CONFLICT, "replying to a closed one: {}", closed.body);
    assert_eq!(closed.json["error"]["fields"], serde_json::json!({}));
    let returned = c.api("POST", &path("return"), Some(&token), Some(r#"{"reason":"太晚了"}"#)).await;
    assert_eq!(returned.status, StatusCode::CONFLICT);
    let shown = c.api("GET", &format!("/api/v1/suggestions/{reference}"), Some(&token), None).await;
    assert_eq!(shown.json["state"], "closed");
    assert_eq!(shown.json["replies"][0]["rating"]["rating"], "satisfied");
}

#[tokio::test]
async fn bad_bodies_get_400_with_field_errors_in_the_error_shape() {
    let c = Console::start().await;
    let (_, token) = c.api_token_for(c.department_id, "教育局系统").await;
    let (id, reference) = c.api_assigned("学校周边交通安全", false).await;
    let before = c.store.facts(id).await.unwrap();
    let reply = format!("/api/v1/suggestions/{reference}/reply");
    let post = |path: String, body: String| {
        let c = &c;
        let token = token.clone();
        async move { c.api("POST", &path, Some(&token), Some(&body)).await }
    };

    let empty = post(reply.clone(), "{}".into()).await;
    assert_error(&empty, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(field(&empty, "class"), "必须填写。");
    assert_eq!(field(&empty, "text"), "必须填写。");

    let wrong_types = post(reply.clone(), r#"{"class":"A","text":42,"txet":"拼错了"}"#.into()).await;
    assert_error(&wrong_types, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(field(&wrong_types, "text").contains("文本"));
    assert!(field(&wrong_types, "txet").contains("没有这个字段"));

    let class = post(reply.clone(), r#"{"class":"Z","text":"答复"}"#.into()).await;
    assert_error(&class, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(field(&class, "class").contains("A（已解决或基本解决/采纳）"), "names the classes: {}", class.body);

    let blank = post(reply.clone(), r#"{"class":"A","text":"   "}"#.into()).await;
    assert_error(&blank, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(field(&blank, "text").contains("不能为空"), "{}", blank.body);

    let long = serde_json::json!({ "class": "A", "text": "长".repeat(3001) }).to_string();
    let long = post(reply.clone(), long).await;
    assert_error(&long, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(field(&long, "text").contains("3000"), "{}", long.body);

    let reason = post(format!("/api/v1/suggestions/{reference}/return"), r#"{"reason":""}"#.into()).await;
    assert!(field(&reason, "reason").contains("不能为空"), "{}", reason.body);
    let opinion = post(format!("/api/v1/suggestions/{reference}/opinion"), "{}".into()).await;
    assert_eq!(field(&opinion, "text"), "必须填写。");

    for malformed in [r#"{"class": "A", "text": "#, "[1, 2]", "\"text\"", "{'class': 'A'}"] {
        let a = post(reply.clone(), malformed.into()).await;
        assert_error(&a, StatusCode::BAD_REQUEST, "malformed_json");
    }
    let mut r = axum::http::Request::post(&reply).header(header::AUTHORIZATION, format!("Bearer {token}"));
    r = r.header(header::CONTENT_TYPE, "application/json");
    let not_utf8 = c.request(r.body(axum::body::Body::from(vec![b'{', 0xff, 0xfe, b'}'])).unwrap()).await;
    assert_eq!(not_utf8.status, StatusCode::BAD_REQUEST);
    assert!(not_utf8.body.contains("malformed_json"), "{}", not_utf8.body);

    assert_eq!(c.store.facts(id).await.unwrap(), before, "nothing changed");
}

// --- The token page -----------------------------------------------------------------------------

/// The token shown once on the page after creating it.
fn shown_token(body: &str) -> Option<String> {
    let at = body.find("id=\"new-token\">")? + "id=\"new-token\">".len();
    Some(body[at..].split('<').next()?.to_string())
}

#[tokio::test]
async fn staff_create_a_token_shown_once_whose_hash_alone_is_stored() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let page = c.get("/api-tokens", Some(&b)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("接口令牌") && page.body.contains("还没有令牌"), "{}", page.body);

    let department = c.department_id.to_string();
    let created = c.post("/api-tokens", Some(&b), &[("department", &department), ("name", "教育局办公系统")]).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let token = shown_token(&created.body).expect("the new token is shown");
    assert!(token.starts_with("jy_") && token.len() == 3 + 64, "{token}");
    assert!(created.body.contains("只显示这一次"));

    let works = c.api("GET", "/api/v1/suggestions", Some(&token), None).await;
    assert_eq!(works.status, StatusCode::OK, "the token works at once");

    let later = c.get("/api-tokens", Some(&b)).await;
    assert!(!later.body.contains(&token), "never shown again");
    assert!(later.body.contains("教育局办公系统") && later.body.contains("区教育局"));

    // The database keeps the SHA-256 of the token, never the token: every byte of the SQLite
    // file (and its WAL), or every row of every table on PostgreSQL.
    let raw = match c.db.backend() {
        Backend::Sqlite => {
            let path = &c.app.config.database.path;
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(path.with_extension("db-wal")).unwrap_or_default());
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Backend::Postgres => {
            let tables =
                c.db.texts("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1", &[])
                    .await;
            assert!(tables.iter().any(|t| t == "api_tokens"), "{tables:?}");
            let mut rows = String::new();
            for table in tables {
                let sql = format!("SELECT COALESCE(string_agg(t::text, ' '), '') FROM \"{table}\" t");
                rows.push_str(&c.db.scalar(&sql, &[]).await.text());
                rows.push('\n');
            }
            rows
        }
    };
    assert!(raw.contains(&token_hash(&token)), "the hash is stored");
    assert!(!raw.contains(&token), "the token is not");

    let audit = audit_actions(&c).await;
    assert!(audit.iter().any(|(w, a, t, d)| w.as_deref() == Some("staff")
        && a == "api_token.create"
        && t == "区教育局"
        && d.contains("教育局办公系统")));
    assert!(audit.iter().all(|(_, _, _, d)| !d.contains(&token)), "nor is it in the audit log");
}

#[tokio::test]
async fn revoking_a_token_locks_it_out() {
    let c = Console::start().await;
    let b = c.login("admin").await;
    let department = c.other_department_id.to_string();
    let created = c.post("/api-tokens", Some(&b), &[("department", &department), ("name", "财政局系统")]).await;
    let token = shown_token(&created.body).unwrap();
    let id = c.store.api_tokens().await.unwrap()[0].id;

    let forged = c.post(&format!("/api-tokens/{id}/revoke"), Some(&b), &[("_csrf", "forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(c.api("GET", "/api/v1/suggestions", Some(&token), None).await.status, StatusCode::OK);

    let revoked = c.post(&format!("/api-tokens/{id}/revoke"), Some(&b), &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(revoked.location(), Some("/api-tokens?done=revoked"));
    let page = c.get("/api-tokens?done=revoked", Some(&b)).await;
    assert!(page.body.contains("令牌已撤销") && page.body.contains("撤销"), "{}", page.body);
    assert!(!page.body.contains(&format!("/api-tokens/{id}/revoke")), "no revoke button any more");
    assert_eq!(c.api("GET", "/api/v1/suggestions", Some(&token), None).await.status, StatusCode::UNAUTHORIZED);

    let again = c.post(&format!("/api-tokens/{id}/revoke"), Some(&b), &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(c.post("/api-tokens/999/revoke", Some(&b), &[]).await.status, StatusCode::NOT_FOUND);
    let audit = audit_actions(&c).await;
    assert_eq!(audit.iter().filter(|(_, a, _, _)| a == "api_token.revoke").count(), 1, "{audit:?}");
}

#[tokio::test]
async fn the_token_form_refuses_forged_or_incomplete_posts_and_keeps_what_was_typed() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let department = c.department_id.to_string();
    let forged =
        c.post("/api-tokens", Some(&b), &[("_csrf", "forged"), ("department", &department), ("name", "伪造")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(c.store.api_tokens().await.unwrap().is_empty(), "no token from a forged form");

    let no_name = c.post("/api-tokens", Some(&b), &[("department", &department), ("name", "  ")]).await;
    assert_eq!(no_name.status, StatusCode::BAD_REQUEST);
    assert!(no_name.body.contains("请填写令牌名称"), "{}", no_name.body);
    assert!(no_name.body.contains(&format!("value=\"{department}\" selected")), "the department stays chosen");

    let no_department = c.post("/api-tokens", Some(&b), &[("department", ""), ("name", "教育局系统")]).await;
    assert_eq!(no_department.status, StatusCode::BAD_REQUEST);
    assert!(no_department.body.contains("请选择承办单位"));
    assert!(no_department.body.contains("value=\"教育局系统\""), "the name typed is kept");

    let long = "长".repeat(61);
    let too_long = c.post("/api-tokens", Some(&b), &[("department", &department), ("name", &long)]).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert!(too_long.body.contains("最多60个字"));
    assert!(c.store.api_tokens().await.unwrap().is_empty());
}

#[tokio::test]
async fn department_accounts_cannot_open_the_token_page() {
    let c = Console::start().await;
    let b = c.login("dept").await;
    assert_eq!(c.get("/api-tokens", Some(&b)).await.status, StatusCode::FORBIDDEN);
    let department = c.department_id.to_string();
    let post = c.post("/api-tokens", Some(&b), &[("department", &department), ("name", "自己建的")]).await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    assert!(c.store.api_tokens().await.unwrap().is_empty());
    assert_eq!(c.get("/api-tokens", None).await.location(), Some("/login"), "and strangers are sent to log in");
}

// --- Reply letters and documents (issue 12) -------------------------------------------------------

/// A `multipart/form-data` body of text parts and perhaps one file part `document`; returns the
/// content type (with its boundary) and the body.
fn multipart(texts: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "jianyan-test-boundary-7c1f";
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    if let Some((file_name, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(c: &Console, path: &str, token: &str, form: (String, Vec<u8>)) -> ApiAnswer {
    let request = axum::http::Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, form.0)
        .body(axum::body::Body::from(form.1))
        .unwrap();
    let page = c.request(request).await;
    let json = serde_json::from_slice(&page.bytes).unwrap_or(Value::Null);
    ApiAnswer { status: page.status, headers: page.headers, body: page.body, json }
}

/// A small but real-looking PDF.
fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 4000));
    bytes.extend_from_slice(b"\n%%EOF\n");
    bytes
}

#[tokio::test]
async fn the_reply_letter_fields_come_in_json_are_checked_and_come_back() {
    let c = Console::start().await;
    let doc = Documented::load(&c).await;
    let (_, token) = c.api_token_for(c.department_id, "教育局系统").await;
    let (_, reference) = c.api_assigned("学校周边交通安全", false).await;
    let path = format!("/api/v1/suggestions/{reference}/reply");
    let template = "/api/v1/suggestions/{reference}/reply";

    let bad = r#"{"class":"A","text":"答复","letter_phone":"请打办公室","letter_number":"浦教函〔2025〕12号"}"#;
    let refused = c.api("POST", &path, Some(&token), Some(bad)).await;
    assert_error(&refused, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(field(&refused, "letter_phone").contains("电话"), "{}", refused.body);
    doc.check("POST", template, &refused);
    let not_text = c.api("POST", &path, Some(&token), Some(r#"{"class":"A","text":"答复","letter_title":5}"#)).await;
    assert_error(&not_text, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(field(&not_text, "letter_title").contains("文本"), "{}", not_text.body);
    doc.check_refused_request(template, r#"{"class":"A","text":"答复","letter_title":5}"#);

    let body = r#"{"class":"A","text":"已纳入明年计划。","letter_number":"浦教函〔2025〕12号","letter_title":"关于学校周边交通安全的答复","letter_contact":"王老师","letter_phone":"021-50123456"}"#;
    doc.check_request(template, body);
    let reply = c.api("POST", &path, Some(&token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    doc.check("POST", template, &reply);
    let letter = &reply.json["replies"][0]["letter"];
    assert_eq!(letter["number"], "浦教函〔2025〕12号");
    assert_eq!(letter["title"], "关于学校周边交通安全的答复");
    assert_eq!(letter["contact"], "王老师");
    assert_eq!(letter["phone"], "021-50123456");
    assert_eq!(reply.json["replies"][0]["document"], Value::Null);

    // The 答复函 as a Word file, for the department's own records.
    let docx_template = "/api/v1/suggestions/{reference}/replies/{number}/letter.docx";
    let word =
        c.api("GET", &format!("/api/v1/suggestions/{reference}/replies/1/letter.docx"), Some(&token), None).await;
    assert_eq!(word.status, StatusCode::OK, "{}", word.body);
    assert_eq!(word.headers.get(header::CONTENT_TYPE).unwrap(), jianyan::documents::DOCX_MIME);
    let documented = &doc.0["paths"][docx_template]["get"]["responses"]["200"]["content"];
    assert!(documented[jianyan::documents::DOCX_MIME].is_object(), "documented as a Word file: {documented}");
    let request = axum::http::Request::get(format!("/api/v1/suggestions/{reference}/replies/1/letter.docx"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let bytes = c.request(request).await.bytes;
    let text = support::docx::text(&support::docx::part(&bytes, "word/document.xml"));
    for part in ["浦教函〔2025〕12号", "关于学校周边交通安全的答复", "张三委员：", "区教育局", "联系人：王老师"]
    {
        assert!(text.contains(part), "the letter has {part}: {text}");
    }
    for missing in ["2", "0", "x"] {
        let path = format!("/api/v1/suggestions/{reference}/replies/{missing}/letter.docx");
        let none = c.api("GET", &path, Some(&token), None).await;
        assert_error(&none, StatusCode::NOT_FOUND, "not_found");
        doc.check("GET", docx_template, &none);
    }
    let (_, finance) = c.api_token_for(c.other_department_id, "财政局系统").await;
    let theirs =
        c.api("GET", &format!("/api/v1/suggestions/{reference}/replies/1/letter.docx"), Some(&finance), None).await;
    assert_error(&theirs, StatusCode::NOT_FOUND, "not_found");
    let anonymous = c.api("GET", &format!("/api/v1/suggestions/{reference}/replies/1/letter.docx"), None, None).await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_department_attaches_a_document_to_its_reply_and_wrong_files_are_refused_politely() {
    let c = Console::start().await;
    let doc = Documented::load(&c).await;
    c.api_bind_member("PD001", 7001).await;
    let (_, token) = c.api_token_for(c.department_id, "教育局系统").await;
    let (id, reference) = c.api_assigned("学校周边交通安全", false).await;
    let path = format!("/api/v1/suggestions/{reference}/reply");
    let template = "/api/v1/suggestions/{reference}/reply";
    let texts = [("class", "A"), ("text", "详见附件答复函。"), ("letter_number", "浦教函〔2025〕12号")];
    let upload =
        doc.0["paths"][template]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].clone();
    assert_eq!(upload, "#/components/schemas/ReplyUpload", "the multipart request is documented");
    assert_eq!(doc.0["components"]["schemas"]["ReplyUpload"]["properties"]["document"]["format"], "binary");

    // The wrong type, a renamed program, an empty file, missing parts: 400 with the field named.
    let wrong = post_multipart(&c, &path, &token, multipart(&texts, Some(("答复.txt", "text/plain", b"hello")))).await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(field(&wrong, "document").contains("PDF"), "{}", wrong.body);
    doc.check("POST", template, &wrong);
    let renamed =
        post_multipart(&c, &path, &token, multipart(&texts, Some(("答复.pdf", "application/pdf", b"MZ\x90\x00"))))
            .await;
    assert_error(&renamed, StatusCode::BAD_REQUEST, "invalid_request");
    let empty = post_multipart(&c, &path, &token, multipart(&texts, Some(("答复.pdf", "application/pdf", b"")))).await;
    assert!(field(&empty, "document").contains("空"), "{}", empty.body);
    let missing = post_multipart(&c, &path, &token, multipart(&[("text", "只有正文")], None)).await;
    assert_error(&missing, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(!field(&missing, "class").is_empty());
    let garbled = post_multipart(&c, &path, &token, ("multipart/form-data".into(), b"nonsense".to_vec())).await;
    assert_error(&garbled, StatusCode::BAD_REQUEST, "malformed_multipart");
    doc.check("POST", template, &garbled);

    // Too large: over `web.api_max_upload_mb` (20 MB by default).
    let huge = vec![b'%'; 21 * 1024 * 1024];
    let too_large =
        post_multipart(&c, &path, &token, multipart(&texts, Some(("大.pdf", "application/pdf", &huge)))).await;
    assert_error(&too_large, StatusCode::PAYLOAD_TOO_LARGE, "file_too_large");
    assert!(too_large.json["error"]["message"].as_str().unwrap().contains("20 MB"), "{}", too_large.body);
    doc.check("POST", template, &too_large);
    assert_eq!(c.store.replies_of(id).await.unwrap().len(), 0, "nothing was replied");

    // A real PDF: kept in the database, named in the reply, queued for the member as an upload.
    let bytes = pdf();
    let sent =
        post_multipart(&c, &path, &token, multipart(&texts, Some(("浦教函12号.pdf", "application/pdf", &bytes)))).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    doc.check("POST", template, &sent);
    let document = &sent.json["replies"][0]["document"];
    assert_eq!(document["file_name"], "浦教函12号.pdf");
    assert_eq!(document["mime_type"], "application/pdf");
    assert_eq!(document["size"], bytes.len());
    assert_eq!(sent.json["replies"][0]["letter"]["number"], "浦教函〔2025〕12号");
    let kept = c.db.count("SELECT COUNT(*) FROM stored_files").await;
    assert_eq!(kept, 1);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let file = c.store.stored_file(&sha).await.unwrap().expect("kept under its SHA-256");
    assert_eq!(file.bytes, bytes);
    let pushes = outbox_for(&c, 7001).await;
    let upload = pushes.iter().find(|p| p.contains(r#""type":"upload""#)).expect("the file follows the reply");
    assert!(upload.contains(&sha) && upload.contains("浦教函12号.pdf"), "{upload}");
    let audit = audit_actions(&c).await;
    assert!(audit.iter().any(|(_, a, _, d)| a == "api.reply" && d.contains("浦教函12号.pdf")), "{audit:?}");
}
