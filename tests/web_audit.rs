//! The audit log stays useful under abuse: details bounded and never raw control characters,
//! the page paged and filtered by account, action and date, actions and details in words.

mod support;

use axum::http::StatusCode;
use jianyan::store::Auditor;
use jianyan::workflow::Command;
use support::console::{Console, urlencode};

/// The rows of the audit table: (account, action, target, detail).
fn rows(html: &str) -> Vec<(String, String, String, String)> {
    let re =
        regex::Regex::new(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>")
            .unwrap();
    re.captures_iter(html).map(|c| (c[1].into(), c[2].into(), c[3].into(), c[4].into())).collect()
}

fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\" href=\"")? + "rel=\"next\" href=\"".len();
    Some(html[at..].split('"').next()?.replace("&amp;", "&"))
}

#[tokio::test]
async fn details_are_bounded_and_control_characters_are_written_out() {
    let c = Console::start().await;
    let staff = c.login("staff").await;
    let (id, _) = c.inbox_submit("PD001", jianyan::domain::SuggestionKind::Advice, "标题", &["一"], Vec::new()).await;
    let reason = format!("不予受理\u{1b}[2J\u{202E}{}", "长".repeat(2900));
    let page = c.post_confirmed(&format!("/suggestions/{id}/act/reject"), Some(&staff), &[("reason", &reason)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // A search query of 5,000 characters in an export.
    let q = "查".repeat(5_000);
    let export = c.get(&format!("/suggestions/export.csv?q={}", urlencode(&q)), Some(&staff)).await;
    assert_eq!(export.status, StatusCode::OK);
    // Whoever calls the store directly is bounded too.
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    c.store.audit(Auditor::User(1), &"a".repeat(1000), &"t".repeat(1000), &"d".repeat(100_000), now).await.unwrap();
    for e in c.store.audit_log(10).await.unwrap() {
        assert!(e.detail.chars().count() <= 500, "{} chars", e.detail.chars().count());
        assert!(e.target.chars().count() <= 200 && e.action.chars().count() <= 64);
        assert!(!e.detail.contains('\u{1b}') && !e.detail.contains('\u{202E}'), "{:?}", e.detail);
    }
    let rejected = c.store.audit_log(10).await.unwrap().into_iter().find(|e| e.action == "suggestion.reject").unwrap();
    assert!(rejected.detail.starts_with("不予受理\\u{001B}[2J\\u{202E}长长"), "{}", rejected.detail);
}

#[tokio::test]
async fn the_audit_page_is_paged_and_filtered_and_speaks_in_words() {
    let c = Console::start().await;
    let admin = c.login("admin").await;
    let (id, _) = c.inbox_assigned("交办的建言", true).await;
    let staff = c.login("staff").await;
    let page = c.post(&format!("/suggestions/{id}/act/instruct"), Some(&staff), &[("text", "请抓紧办理")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    c.inbox_run_as("staff", id, Command::Adopt).await;
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    for i in 0..120 {
        c.store.audit(Auditor::User(1), "topic.update", &format!("topic:{i}"), "", now).await.unwrap();
    }
    // A console assignment, audited in words.
    let (id2, _) =
        c.inbox_submit("PD002", jianyan::domain::SuggestionKind::Advice, "再交办", &["一"], Vec::new()).await;
    c.inbox_run_as("staff", id2, Command::Accept).await;
    let co = c.other_department_id.to_string();
    let lead = c.department_id.to_string();
    let fields = [("lead", lead.as_str()), ("co", co.as_str()), ("deadline", "2025-06-30")];
    let page = c.post_confirmed(&format!("/suggestions/{id2}/act/assign"), Some(&staff), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

    let first = c.get("/audit", Some(&admin)).await;
    assert_eq!(first.status, StatusCode::OK);
    let listed = rows(&first.body);
    assert_eq!(listed.len(), 50, "fifty to a page");
    let assign = &listed[0];
    assert_eq!(assign.1, "交办");
    assert_eq!(assign.3, "主办：区教育局；协办：区财政局；答复期限：2025-06-30");
    assert!(!first.body.contains("<td>suggestion.") && !first.body.contains("lead="), "no raw codes");
    let mut seen = listed.len();
    let mut next = next_link(&first.body);
    while let Some(href) = next {
        let page = c.get(&href, Some(&admin)).await;
        seen += rows(&page.body).len();
        next = next_link(&page.body);
    }
    let total = c.store.audit_log(10_000).await.unwrap().len();
    assert_eq!(seen, total, "following 更早的记录 reaches every entry once");

    let by_action = c.get("/audit?action=suggestion.instruct", Some(&admin)).await;
    let listed = rows(&by_action.body);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (listed[0].0.as_str(), listed[0].1.as_str(), listed[0].3.as_str()),
        ("staff", "录入领导批示", "请抓紧办理")
    );
    let by_who = c.get("/audit?who=admin", Some(&admin)).await;
    assert!(rows(&by_who.body).iter().all(|r| r.0 == "admin") && !rows(&by_who.body).is_empty());
    let by_date = c.get("/audit?from=2025-03-02", Some(&admin)).await;
    assert!(rows(&by_date.body).is_empty(), "everything happened on 2025-03-01");
    let on_the_day = c.get("/audit?from=2025-03-01&to=2025-03-01&action=login", Some(&admin)).await;
    assert_eq!(rows(&on_the_day.body).len(), 2, "admin and staff logged in");
    let bad = c.get("/audit?from=yesterday", Some(&admin)).await;
    assert!(bad.body.contains("日期「yesterday」无法识别"));
    assert_eq!(c.get("/audit", Some(&staff)).await.status, StatusCode::FORBIDDEN, "admins only");
}
