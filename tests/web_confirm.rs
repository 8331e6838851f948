//! Irreversible console actions (交办, 答复, 不予受理, 并案) ask first: the confirmation page says what
//! will happen and what the member will read; going back changes nothing and keeps the form;
//! confirming applies; the same confirmation sent twice applies once.

mod support;

use axum::http::StatusCode;
use jianyan::domain::{SuggestionKind, SuggestionState};
use support::console::{Browser, Console, Page, once_of};

const MEMBER_CHAT: i64 = 7001;

/// What an action left behind: stored rows and queued messages.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    state: SuggestionState,
    assignments: i64,
    replies: i64,
    events: i64,
    audits: i64,
    member_pushes: usize,
    outbox: i64,
}

async fn counts(c: &Console, id: i64) -> Counts {
    let one = |sql: &'static str| async move { c.db.count_with(sql, &[id.into()]).await };
    Counts {
        state: c.inbox_state(id).await,
        assignments: one("SELECT COUNT(*) FROM assignments WHERE suggestion_id = $1").await,
        replies: one("SELECT COUNT(*) FROM replies WHERE suggestion_id = $1").await,
        events: one("SELECT COUNT(*) FROM timeline_events WHERE suggestion_id = $1").await,
        audits: one("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'suggestion.%' AND $1 > 0").await,
        member_pushes: c.inbox_outbox(MEMBER_CHAT).await.len(),
        outbox: one("SELECT COUNT(*) FROM outbox WHERE $1 > 0").await,
    }
}

/// The text of the newest push to the member, as HTML shows it.
async fn last_member_text(c: &Console) -> String {
    let payload = c.inbox_outbox(MEMBER_CHAT).await.pop().expect("a push to the member");
    let text = match jianyan::reply::Action::decode(&payload).unwrap() {
        jianyan::reply::Action::Send { text, .. } => text,
        other => panic!("not a message: {other:?}"),
    };
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn post(c: &Console, b: &Browser, id: i64, action: &str, fields: &[(&str, &str)]) -> Page {
    c.post(&format!("/suggestions/{id}/act/{action}"), Some(b), fields).await
}

/// Asks for `action`, checks the confirmation changed nothing, goes back (nothing changes, the
/// form is kept), then confirms twice: applied once. Returns the confirmation page.
async fn ask_back_confirm_twice(
    c: &Console,
    b: &Browser,
    id: i64,
    action: &str,
    fields: &[(&str, &str)],
    kept: &str,
) -> Page {
    let before = counts(c, id).await;
    let ask = post(c, b, id, action, fields).await;
    assert_eq!(ask.status, StatusCode::OK, "{action}: {}", ask.body);
    assert!(ask.body.contains("请确认") && ask.body.contains("返回修改"), "{action}: {}", ask.body);
    assert_eq!(counts(c, id).await, before, "{action}: asking changes nothing");
    let once = once_of(&ask.body).expect("the confirmation carries a nonce");

    let mut back: Vec<(&str, &str)> = fields.to_vec();
    back.push(("_step", "edit"));
    let edit = post(c, b, id, action, &back).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.body.contains("尚未执行"), "{action}: {}", edit.body);
    assert!(edit.body.contains(kept), "{action}: the form is kept as filled in: {}", edit.body);
    assert_eq!(counts(c, id).await, before, "{action}: going back changes nothing");

    let mut confirm: Vec<(&str, &str)> = fields.to_vec();
    confirm.push(("_step", "confirm"));
    confirm.push(("_once", &once));
    let done = post(c, b, id, action, &confirm).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{action}: {}", done.body);
    let after = counts(c, id).await;
    assert_ne!(after, before, "{action}: confirming applies");
    assert_eq!(after.events, before.events + 1);
    assert_eq!(after.audits, before.audits + 1);
    assert_eq!(after.member_pushes, before.member_pushes + 1);
    assert!(ask.body.contains(&last_member_text(c).await), "{action}: the page showed what the member reads");

    let again = post(c, b, id, action, &confirm).await;
    assert_eq!(again.status, StatusCode::OK, "{action}: {}", again.body);
    assert!(again.body.contains("已经完成，这次重复提交没有再执行一遍"), "{action}: {}", again.body);
    assert_eq!(counts(c, id).await, after, "{action}: the second confirmation does nothing");
    ask
}

#[tokio::test]
async fn assigning_asks_first_says_who_when_and_warns_of_a_department_that_cannot_receive() {
    let c = Console::start().await;
    c.inbox_bind("PD001", MEMBER_CHAT).await;
    let staff = c.login("staff").await;
    let water = c.store.add_department("区水务局", None).await.unwrap();
    let (id, reference) = c.inbox_submit("PD001", SuggestionKind::Advice, "河道整治", &["清淤"], Vec::new()).await;
    c.inbox_run_as("staff", id, jianyan::workflow::Command::Accept).await;

    let detail = c.get(&format!("/suggestions/{id}"), Some(&staff)).await;
    assert!(detail.body.contains("区水务局（暂无接收方式）"), "marked in the choice: {}", detail.body);
    assert!(!detail.body.contains("区财政局（暂无接收方式）"));
    let lead = water.id.to_string();
    let co = c.other_department_id.to_string();
    let fields = [("lead", lead.as_str()), ("co", co.as_str()), ("deadline", "2025-05-31")];
    let ask = ask_back_confirm_twice(&c, &staff, id, "assign", &fields, "value=\"2025-05-31\"").await;
    assert!(ask.body.contains("请确认：交办") && ask.body.contains(&reference));
    assert!(ask.body.contains("区水务局") && ask.body.contains("区财政局") && ask.body.contains("2025-05-31"));
    assert!(ask.body.contains("区水务局目前没有任何接收交办的方式"), "{}", ask.body);
    assert!(!ask.body.contains("区财政局目前没有"), "区财政局 has a console account");
    let facts = c.store.facts(id).await.unwrap().unwrap();
    assert_eq!(facts.state, SuggestionState::Assigned);
    assert_eq!(facts.assignments.len(), 2, "one lead, one co-department, once");
}

#[tokio::test]
async fn rejecting_merging_and_replying_ask_first_and_apply_once() {
    let c = Console::start().await;
    c.inbox_bind("PD001", MEMBER_CHAT).await;
    let staff = c.login("staff").await;
    let dept = c.login("dept").await;

    let (rejected, _) = c.inbox_submit("PD001", SuggestionKind::Advice, "不予受理的", &["一"], Vec::new()).await;
    let reason = [("reason", "不属于政协职责范围")];
    let ask = ask_back_confirm_twice(&c, &staff, rejected, "reject", &reason, "不属于政协职责范围</textarea>").await;
    assert!(ask.body.contains("请确认：不予受理"));
    assert_eq!(c.inbox_state(rejected).await, SuggestionState::NotAccepted);

    let (target, target_ref) = c.inbox_submit("PD001", SuggestionKind::Advice, "原建言", &["一"], Vec::new()).await;
    let (merged, _) = c.inbox_submit("PD001", SuggestionKind::Advice, "重复的", &["一"], Vec::new()).await;
    let into = [("reference", target_ref.as_str())];
    let ask = ask_back_confirm_twice(&c, &staff, merged, "merge", &into, &format!("value=\"{target_ref}\"")).await;
    assert!(ask.body.contains("请确认：并案") && ask.body.contains("原建言"), "{}", ask.body);
    assert_eq!(c.inbox_state(merged).await, SuggestionState::Merged);
    assert_eq!(c.inbox_state(target).await, SuggestionState::Submitted);

    let (answered, _) = c.inbox_assigned("要答复的", false).await;
    let reply = [("class", "A"), ("text", "已会同有关部门研究落实")];
    let ask = ask_back_confirm_twice(&c, &dept, answered, "reply", &reply, "已会同有关部门研究落实</textarea>").await;
    assert!(ask.body.contains("请确认：答复") && ask.body.contains("区教育局"), "{}", ask.body);
    assert_eq!(c.inbox_state(answered).await, SuggestionState::Replied);
    let replies = c.db.count_with("SELECT COUNT(*) FROM replies WHERE suggestion_id = $1", &[answered.into()]).await;
    assert_eq!(replies, 1);
}

#[tokio::test]
async fn a_refused_form_is_refused_before_any_confirmation() {
    let c = Console::start().await;
    let staff = c.login("staff").await;
    let (id, _) = c.inbox_submit("PD001", SuggestionKind::Advice, "建言", &["一"], Vec::new()).await;
    let page = post(&c, &staff, id, "reject", &[("reason", "  ")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(once_of(&page.body).is_none(), "no confirmation for a form that cannot be done");
    assert!(page.body.contains("内容不能为空，请填写后再提交"), "in the console's words: {}", page.body);
    assert!(!page.body.contains("重新发送"), "not the bot's words");
}
