//! Actions that leave a suggestion's state as it is (adopt, a leader's instruction, an
//! acknowledgement, a co-department's opinion or return) apply once when the same request arrives
//! 20 times in parallel, through the console and through the department API.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use support::console::{Browser, Console, urlencode};
use tower::ServiceExt;

const MEMBER_CHAT: i64 = 7001;
const PARALLEL: usize = 20;

/// Sends `PARALLEL` copies of a request at once; returns their statuses.
async fn in_parallel(c: &Console, make: impl Fn() -> Request<Body>) -> Vec<StatusCode> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..PARALLEL {
        let router = c.router.clone();
        let request = make();
        set.spawn(async move { router.oneshot(request).await.unwrap().status() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = set.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

/// A console form post of action `action` on suggestion `id`.
fn console_post(b: &Browser, id: i64, action: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let mut all: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
    all.push(format!("_csrf={}", urlencode(&b.csrf)));
    Request::post(format!("/suggestions/{id}/act/{action}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &b.cookie)
        .body(Body::from(all.join("&")))
        .unwrap()
}

fn api_post(token: &str, reference: &str, action: &str, body: &str) -> Request<Body> {
    Request::post(format!("/api/v1/suggestions/{reference}/{action}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn count(c: &Console, sql: &str, id: i64) -> i64 {
    c.db.count_with(sql, &[id.into()]).await
}

async fn events(c: &Console, id: i64, event: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM timeline_events WHERE suggestion_id = $1 AND event = $2";
    c.db.count_with(sql, &[id.into(), event.into()]).await
}

async fn audits(c: &Console, action: &str) -> usize {
    let n = c.db.count_with("SELECT COUNT(*) FROM audit_log WHERE action = $1", &[action.into()]).await;
    n as usize
}

fn successes(statuses: &[StatusCode], ok: StatusCode) -> usize {
    for s in statuses {
        assert!(*s == ok || s.is_client_error(), "every other answer is a polite refusal, not {s}");
    }
    statuses.iter().filter(|s| **s == ok).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_adoptions_and_instructions_in_the_console_apply_once() {
    let c = Console::start().await;
    c.inbox_bind("PD001", MEMBER_CHAT).await;
    let staff = c.login("staff").await;
    let (id, _) = c.inbox_assigned("并行采纳的建言", false).await;
    let pushes_before = c.inbox_outbox(MEMBER_CHAT).await.len();

    let adopt = in_parallel(&c, || console_post(&staff, id, "adopt", &[])).await;
    assert_eq!(successes(&adopt, StatusCode::SEE_OTHER), 1, "{adopt:?}");
    assert_eq!(events(&c, id, "adopted").await, 1);
    assert_eq!(audits(&c, "suggestion.adopt").await, 1);

    let text = "请区教育局抓紧研究落实。";
    let instruct = in_parallel(&c, || console_post(&staff, id, "instruct", &[("text", text)])).await;
    assert_eq!(successes(&instruct, StatusCode::SEE_OTHER), 1, "{instruct:?}");
    assert_eq!(events(&c, id, "instructed").await, 1);
    assert_eq!(audits(&c, "suggestion.instruct").await, 1);
    assert_eq!(c.inbox_outbox(MEMBER_CHAT).await.len(), pushes_before + 2, "one push per action");

    // A different instruction is a new action, and still applies.
    let other = in_parallel(&c, || console_post(&staff, id, "instruct", &[("text", "另一条批示")])).await;
    assert_eq!(successes(&other, StatusCode::SEE_OTHER), 1, "{other:?}");
    assert_eq!(events(&c, id, "instructed").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_department_actions_in_the_console_apply_once() {
    let c = Console::start().await;
    let dept = c.login("dept").await;
    let dept2 = c.login("dept2").await;
    let (id, _) = c.inbox_assigned("并行签收的建言", true).await;

    let ack = in_parallel(&c, || console_post(&dept2, id, "acknowledge", &[])).await;
    assert_eq!(successes(&ack, StatusCode::SEE_OTHER), 1, "{ack:?}");
    assert_eq!(events(&c, id, "acknowledged").await, 1);

    let opinion = in_parallel(&c, || console_post(&dept2, id, "co_opinion", &[("text", "建议统筹财政预算")])).await;
    assert_eq!(successes(&opinion, StatusCode::SEE_OTHER), 1, "{opinion:?}");
    assert_eq!(events(&c, id, "co_opinion").await, 1);
    let sql = "SELECT COUNT(*) FROM opinions o JOIN assignments a ON a.id = o.assignment_id WHERE a.suggestion_id = $1";
    assert_eq!(count(&c, sql, id).await, 1);
    assert_eq!(audits(&c, "suggestion.co_opinion").await, 1);

    // The lead's acknowledgement moves the state; it too happens once.
    let lead_ack = in_parallel(&c, || console_post(&dept, id, "acknowledge", &[])).await;
    assert_eq!(successes(&lead_ack, StatusCode::SEE_OTHER), 1, "{lead_ack:?}");
    assert_eq!(events(&c, id, "acknowledged").await, 2);

    // A co-department's return leaves the state as it is.
    let (id2, _) = c.inbox_assigned("并行退回的建言", true).await;
    let back = in_parallel(&c, || console_post(&dept2, id2, "return", &[("reason", "不属于本单位")])).await;
    assert_eq!(successes(&back, StatusCode::SEE_OTHER), 1, "{back:?}");
    assert_eq!(events(&c, id2, "returned").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_api_calls_apply_once() {
    let c = Console::start().await;
    c.api_bind_member("PD001", MEMBER_CHAT).await;
    let (_, lead) = c.api_token_for(c.department_id, "教育局系统").await;
    let (_, co) = c.api_token_for(c.other_department_id, "财政局系统").await;
    let (id, reference) = c.api_assigned("接口并行的建言", true).await;

    let ack = in_parallel(&c, || api_post(&co, &reference, "acknowledge", "{}")).await;
    assert_eq!(successes(&ack, StatusCode::OK), 1, "{ack:?}");
    assert_eq!(events(&c, id, "acknowledged").await, 1);

    let body = r#"{"text":"建议增加财政补贴。"}"#;
    let opinion = in_parallel(&c, || api_post(&co, &reference, "opinion", body)).await;
    assert_eq!(successes(&opinion, StatusCode::OK), 1, "{opinion:?}");
    let sql = "SELECT COUNT(*) FROM opinions o JOIN assignments a ON a.id = o.assignment_id WHERE a.suggestion_id = $1";
    assert_eq!(count(&c, sql, id).await, 1);
    assert_eq!(events(&c, id, "co_opinion").await, 1);
    assert_eq!(audits(&c, "api.opinion").await, 1);

    let lead_ack = in_parallel(&c, || api_post(&lead, &reference, "acknowledge", "{}")).await;
    assert_eq!(successes(&lead_ack, StatusCode::OK), 1, "{lead_ack:?}");
    assert_eq!(events(&c, id, "acknowledged").await, 2);
    let member_pushes = c.inbox_outbox(MEMBER_CHAT).await.iter().filter(|p| p.contains("已签收")).count();
    assert_eq!(member_pushes, 1, "the member hears of the lead's acknowledgement once");

    let (id2, reference2) = c.api_assigned("接口并行退回", true).await;
    let back = in_parallel(&c, || api_post(&co, &reference2, "return", r#"{"reason":"不属于本单位"}"#)).await;
    assert_eq!(successes(&back, StatusCode::OK), 1, "{back:?}");
    assert_eq!(events(&c, id2, "returned").await, 1);
    assert_eq!(audits(&c, "api.return").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_confirmations_of_an_assignment_apply_once() {
    let c = Console::start().await;
    c.inbox_bind("PD001", MEMBER_CHAT).await;
    let staff = c.login("staff").await;
    let (id, _) =
        c.inbox_submit("PD001", jianyan::domain::SuggestionKind::Advice, "并行交办的建言", &["一"], Vec::new()).await;
    c.inbox_run_as("staff", id, jianyan::workflow::Command::Accept).await;
    let pushes_before = c.inbox_outbox(MEMBER_CHAT).await.len();
    let lead = c.department_id.to_string();
    let ask = c.post(&format!("/suggestions/{id}/act/assign"), Some(&staff), &[("lead", &lead)]).await;
    let once = support::console::once_of(&ask.body).expect("交办 asks first");
    let fields = [("lead", lead.as_str()), ("_step", "confirm"), ("_once", once.as_str())];

    let statuses = in_parallel(&c, || console_post(&staff, id, "assign", &fields)).await;
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::SEE_OTHER).count(), 1, "{statuses:?}");
    // The others are told it is done, or (when they lost the race inside the store's commit group,
    // before the winner is visible to reads) that the suggestion has just changed.
    for s in &statuses {
        assert!([StatusCode::SEE_OTHER, StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY].contains(s), "{s}");
    }
    assert_eq!(events(&c, id, "assigned").await, 1);
    assert_eq!(count(&c, "SELECT COUNT(*) FROM assignments WHERE suggestion_id = $1", id).await, 1);
    assert_eq!(audits(&c, "suggestion.assign").await, 1);
    assert_eq!(c.inbox_outbox(MEMBER_CHAT).await.len(), pushes_before + 1, "the member hears once");
}
