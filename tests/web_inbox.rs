//! The console's suggestions inbox, detail page with its actions, and exports, driven through the
//! real router like a browser.

mod support;

use axum::http::StatusCode;
use jianyan::domain::{SuggestionKind, SuggestionState};
use jianyan::store::{Attachment, AttachmentKind};
use support::console::{Browser, Console, urlencode};
use support::xlsx::first_sheet;

const MEMBER_CHAT: i64 = 7001;

/// The reference numbers an inbox page lists, in order.
fn refs(html: &str) -> Vec<String> {
    let re = regex::Regex::new(r">(PD-2025-\d{4})</a>").unwrap();
    re.captures_iter(html).map(|c| c[1].to_string()).collect()
}

/// The `href` of the link with this `rel`, unescaped.
fn link(html: &str, rel: &str) -> Option<String> {
    let at = html.find(&format!("rel=\"{rel}\" href=\""))? + format!("rel=\"{rel}\" href=\"").len();
    Some(html[at..].split('"').next()?.replace("&amp;", "&"))
}

/// The action forms a detail page offers, by their slug.
fn forms(html: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"id="act-([a-z_]+)""#).unwrap();
    re.captures_iter(html).map(|c| c[1].to_string()).collect()
}

async fn submit(c: &Console, title: &str, points: &[&str]) -> (i64, String) {
    c.inbox_submit("PD001", SuggestionKind::Advice, title, points, Vec::new()).await
}

async fn act(c: &Console, b: &Browser, id: i64, action: &str, fields: &[(&str, &str)]) -> support::console::Page {
    c.post(&format!("/suggestions/{id}/act/{action}"), Some(b), fields).await
}

/// Posts an action that must succeed: a redirect back with the success banner.
async fn act_ok(c: &Console, b: &Browser, id: i64, action: &str, fields: &[(&str, &str)]) {
    let page = c.post_confirmed(&format!("/suggestions/{id}/act/{action}"), Some(b), fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{action}: {}", page.body);
    let to = page.location().unwrap().to_string();
    assert_eq!(to, format!("/suggestions/{id}?done={action}"));
    let back = c.get(&to, Some(b)).await;
    assert!(back.body.contains("已完成，相关通知已加入发送队列"), "{action}: {}", back.body);
}

#[tokio::test]
async fn search_finds_words_inside_chinese_sentences_with_short_and_long_queries() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let (_, a) = submit(&c, "关于加强义务教育均衡发展的建议", &["建议增加学位供给"]).await;
    let (_, z) = submit(&c, "优化社区养老服务", &["推进义务教育阶段课后服务全覆盖"]).await;
    let (_, other) = submit(&c, "完善交通设施", &["增设公交线路"]).await;
    let (_, pct) = submit(&c, "100%_覆盖", &["通配符"]).await;
    // Four characters: the FTS index (trigram), in a title and inside a point.
    let page = c.get(&format!("/suggestions?q={}", urlencode("义务教育")), Some(&b)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(refs(&page.body), vec![z.clone(), a.clone()], "{}", page.body);
    // Two characters: the LIKE fallback.
    let page = c.get(&format!("/suggestions?q={}", urlencode("教育")), Some(&b)).await;
    assert_eq!(refs(&page.body), vec![z.clone(), a.clone()]);
    let page = c.get(&format!("/suggestions?q={}", urlencode("公交")), Some(&b)).await;
    assert_eq!(refs(&page.body), vec![other.clone()]);
    // LIKE wildcards are searched for as themselves.
    let page = c.get(&format!("/suggestions?q={}", urlencode("%_")), Some(&b)).await;
    assert_eq!(refs(&page.body), vec![pct.clone()]);
    let page = c.get(&format!("/suggestions?q={}", urlencode("_")), Some(&b)).await;
    assert_eq!(refs(&page.body), vec![pct]);
    // Several words: all of them.
    let page = c.get(&format!("/suggestions?q={}", urlencode("义务教育 课后")), Some(&b)).await;
    assert_eq!(refs(&page.body), vec![z]);
    let page = c.get(&format!("/suggestions?q={}", urlencode("不存在的词")), Some(&b)).await;
    assert!(refs(&page.body).is_empty());
    assert!(page.body.contains("没有符合条件的建言"));
}

#[tokio::test]
async fn filters_and_sort_narrow_and_order_the_list() {
    let c = Console::start().await;
    let (a_id, a) = submit(&c, "第一篇", &["甲"]).await;
    c.clock.set(jianyan::clock::Clock::now(c.clock.as_ref()) + chrono::Duration::days(10));
    let (_, bb) = c.inbox_submit("PD002", SuggestionKind::PublicOpinion, "第二篇", &["乙"], Vec::new()).await;
    c.clock.set(jianyan::clock::Clock::now(c.clock.as_ref()) + chrono::Duration::days(10));
    let (c_id, cc) = submit(&c, "第三篇", &["丙"]).await;
    c.inbox_run_as("staff", a_id, jianyan::workflow::Command::Accept).await;
    let b = c.login("staff").await;
    let list = |q: String| {
        let c = &c;
        let b = &b;
        async move { refs(&c.get(&format!("/suggestions?{q}"), Some(b)).await.body) }
    };
    assert_eq!(list(String::new()).await, vec![cc.clone(), bb.clone(), a.clone()], "newest first by default");
    assert_eq!(list("sort=oldest".into()).await, vec![a.clone(), bb.clone(), cc.clone()]);
    assert_eq!(list("state=accepted".into()).await, vec![a.clone()]);
    assert_eq!(list("state=submitted&sort=oldest".into()).await, vec![bb.clone(), cc.clone()]);
    assert_eq!(list("kind=opinion".into()).await, vec![bb.clone()]);
    assert_eq!(list(format!("topic={}", c.topic_id)).await.len(), 3);
    assert_eq!(list("topic=999".into()).await, Vec::<String>::new());
    // Dates are the committee's days, inclusive: 2025-03-01 .. 2025-03-11 holds the first two.
    assert_eq!(list("from=2025-03-01&to=2025-03-11".into()).await, vec![bb.clone(), a.clone()]);
    assert_eq!(list("from=2025-03-12".into()).await, vec![cc.clone()]);
    let bad = c.get("/suggestions?from=2025-13-45", Some(&b)).await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains("「2025-13-45」不是有效的日期"), "{}", bad.body);
    assert!(bad.body.contains("value=\"2025-13-45\""), "what was typed stays in the form");
    // Workstation (the member's) and department (assigned) filters.
    let ws = c.db.count("SELECT id FROM workstations WHERE name = '陆家嘴街道'").await;
    assert_eq!(list(format!("workstation={ws}")).await.len(), 3);
    assert_eq!(list(format!("workstation={}", ws + 100)).await.len(), 0);
    c.inbox_run_as(
        "staff",
        a_id,
        jianyan::workflow::Command::Assign { lead: c.department_id, co: vec![], deadline: None },
    )
    .await;
    c.inbox_run_as("staff", c_id, jianyan::workflow::Command::Accept).await;
    let d = c.clock.as_ref();
    let later = jianyan::clock::Clock::now(d) + chrono::Duration::days(5);
    c.inbox_run_as(
        "staff",
        c_id,
        jianyan::workflow::Command::Assign { lead: c.other_department_id, co: vec![], deadline: Some(later) },
    )
    .await;
    assert_eq!(list(format!("department={}", c.department_id)).await, vec![a.clone()]);
    // Deadline soonest first (c's is in 5 days, a's in 3 months), none last.
    assert_eq!(list("sort=deadline".into()).await, vec![cc.clone(), a.clone(), bb.clone()]);
    let page = c.get("/suggestions", Some(&b)).await;
    for h in ["编号", "标题", "委员", "议题", "类别", "状态", "承办单位", "提交时间", "答复期限"]
    {
        assert!(page.body.contains(&format!("<th>{h}</th>")), "column {h}");
    }
    assert!(page.body.contains("区财政局") && page.body.contains("张三") && page.body.contains("已交办"));
}

#[tokio::test]
async fn pages_of_fifty_go_forward_and_back() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let mut all = Vec::new();
    for i in 0..120 {
        all.push(submit(&c, &format!("建言{i}"), &["内容"]).await.1);
    }
    all.reverse();
    for sort in ["", "&sort=deadline"] {
        let expected: Vec<String> = if sort.is_empty() { all.clone() } else { all.iter().rev().cloned().collect() };
        let p1 = c.get(&format!("/suggestions?q={sort}"), Some(&b)).await;
        assert_eq!(refs(&p1.body), expected[..50].to_vec());
        assert!(link(&p1.body, "prev").is_none(), "no previous page on the first");
        let p2 = c.get(&link(&p1.body, "next").unwrap(), Some(&b)).await;
        assert_eq!(refs(&p2.body), expected[50..100].to_vec());
        let p3 = c.get(&link(&p2.body, "next").unwrap(), Some(&b)).await;
        assert_eq!(refs(&p3.body), expected[100..].to_vec());
        assert!(link(&p3.body, "next").is_none(), "no next page on the last");
        let back = c.get(&link(&p3.body, "prev").unwrap(), Some(&b)).await;
        assert_eq!(refs(&back.body), expected[50..100].to_vec());
        let first = c.get(&link(&back.body, "prev").unwrap(), Some(&b)).await;
        assert_eq!(refs(&first.body), expected[..50].to_vec());
        assert!(link(&first.body, "prev").is_none());
    }
    // Filters are kept in the links.
    let p1 = c.get("/suggestions?state=submitted&sort=oldest", Some(&b)).await;
    let next = link(&p1.body, "next").unwrap();
    assert!(next.contains("state=submitted") && next.contains("sort=oldest"), "{next}");
}

#[tokio::test]
async fn the_detail_page_shows_everything_the_member_sent_and_what_happened() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let photo = Attachment {
        kind: AttachmentKind::Photo,
        file_id: "AgAD-photo".into(),
        file_unique_id: "u1".into(),
        file_name: None,
        mime_type: Some("image/jpeg".into()),
        file_size: Some(250_000),
        width: Some(1280),
        height: Some(960),
    };
    let doc = Attachment {
        kind: AttachmentKind::Document,
        file_id: "BQAD-doc".into(),
        file_unique_id: "u2".into(),
        file_name: Some("调研报告.pdf".into()),
        mime_type: Some("application/pdf".into()),
        file_size: Some(3_300_000),
        width: None,
        height: None,
    };
    let (id, reference) = c
        .inbox_submit("PD001", SuggestionKind::Research, "关于学区划分的调研", &["第一点", "第二点"], vec![photo, doc])
        .await;
    c.inbox_run_as("staff", id, jianyan::workflow::Command::Accept).await;
    c.inbox_run_as(
        "staff",
        id,
        jianyan::workflow::Command::Assign { lead: c.department_id, co: vec![c.other_department_id], deadline: None },
    )
    .await;
    c.inbox_run_as("dept2", id, jianyan::workflow::Command::CoOpinion { text: "同意主办单位意见".into() }).await;
    c.inbox_run_as(
        "dept",
        id,
        jianyan::workflow::Command::Reply {
            class: "B".into(),
            text: "已列入明年计划".into(),
            document: None,
            letter: Default::default(),
        },
    )
    .await;
    let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        reference.as_str(),
        "关于学区划分的调研",
        "<li>第一点</li>",
        "<li>第二点</li>",
        "张三",
        "PD001",
        "陆家嘴街道",
        "十五五",
        "议政调研",
        "调研报告.pdf",
        "application/pdf",
        "3.1 MB",
        "image/jpeg",
        "1280×960",
        "244 KB",
        "区教育局",
        "区财政局",
        "主办",
        "协办",
        "2025-06-01",
        "同意主办单位意见",
        "已列入明年计划",
        "尚未评价",
        "委员提交",
        "区政协受理",
        "交办承办单位",
        "王工作人员",
        "已答复",
    ] {
        assert!(page.body.contains(expected), "missing {expected}: {}", page.body);
    }
    // By reference number too, and through the lookup box.
    let by_ref = c.get(&format!("/suggestions/ref/{reference}"), Some(&b)).await;
    assert_eq!(by_ref.status, StatusCode::OK);
    assert!(by_ref.body.contains("关于学区划分的调研"));
    let lookup = c.get(&format!("/suggestions/lookup?reference={}", reference.to_lowercase()), Some(&b)).await;
    assert_eq!(lookup.location(), Some(format!("/suggestions/ref/{reference}").as_str()));
    let missing = c.get("/suggestions/ref/PD-2025-9999", Some(&b)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("找不到编号为「PD-2025-9999」的建言"));
    assert_eq!(c.get("/suggestions/999999", Some(&b)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.get("/suggestions/abc", Some(&b)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.get("/suggestions", None).await.location(), Some("/login"), "a login is needed");
}

#[tokio::test]
async fn staff_review_actions_change_the_state_notify_the_member_and_are_audited() {
    let c = Console::start().await;
    c.inbox_bind("PD001", MEMBER_CHAT).await;
    for username in ["staff", "admin"] {
        let b = c.login(username).await;
        let (id, reference) = submit(&c, "需要审核的建言", &["内容"]).await;
        let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
        assert_eq!(
            forms(&page.body),
            vec!["accept", "reject", "merge", "instruct", "key"],
            "{username} on a submitted one"
        );
        act_ok(&c, &b, id, "accept", &[]).await;
        assert_eq!(c.inbox_state(id).await, SuggestionState::Accepted);
        let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
        assert_eq!(
            forms(&page.body),
            vec!["merge", "assign", "instruct", "adopt", "key"],
            "{username} on an accepted one"
        );
        assert!(page.body.contains("value=\"2025-06-01\""), "the default deadline is 3 months");
        act_ok(&c, &b, id, "instruct", &[("text", "请尽快办理")]).await;
        act_ok(&c, &b, id, "adopt", &[]).await;
        let dept = c.department_id.to_string();
        let co = c.other_department_id.to_string();
        act_ok(&c, &b, id, "assign", &[("lead", &dept), ("co", &co), ("deadline", "2025-05-31")]).await;
        let facts = c.store.facts(id).await.unwrap().unwrap();
        assert_eq!(facts.state, SuggestionState::Assigned);
        assert_eq!(facts.assignments.len(), 2);
        assert!(facts.adopted);
        assert_eq!(
            facts.deadline.unwrap().with_timezone(&c.app.config.offset()).format("%Y-%m-%d").to_string(),
            "2025-05-31",
            "due at the end of the chosen day"
        );
        let outbox = c.inbox_outbox(MEMBER_CHAT).await.join("\n");
        for push in ["区政协已受理您的建言", "领导对这条建言作出批示", "已被采纳", "已交由"]
        {
            assert!(outbox.contains(push), "{push} not pushed: {outbox}");
        }
        let audit = c.inbox_audit_actions().await;
        for a in ["accept", "instruct", "adopt", "assign"] {
            assert!(audit.contains(&format!("suggestion.{a} {reference}")), "{a}: {audit:?}");
        }
        // Not accepted, with its reason; merged into another.
        let (r_id, _) = submit(&c, "不予受理的", &["内容"]).await;
        act_ok(&c, &b, r_id, "reject", &[("reason", "不属于政协职责范围")]).await;
        assert_eq!(c.inbox_state(r_id).await, SuggestionState::NotAccepted);
        assert!(c.inbox_outbox(MEMBER_CHAT).await.join("\n").contains("不属于政协职责范围"));
        let (m_id, _) = submit(&c, "重复的", &["内容"]).await;
        act_ok(&c, &b, m_id, "merge", &[("reference", &reference.to_lowercase())]).await;
        assert_eq!(c.inbox_state(m_id).await, SuggestionState::Merged);
        assert!(
            c.inbox_outbox(MEMBER_CHAT).await.join("\n").contains(&format!("并案办理，今后的进展请关注 {reference}"))
        );
    }
}

#[tokio::test]
async fn department_actions_acknowledge_return_reply_and_co_opinion() {
    let c = Console::start().await;
    c.inbox_bind("PD001", MEMBER_CHAT).await;
    let dept = c.login("dept").await;
    let dept2 = c.login("dept2").await;
    let (id, _) = c.inbox_assigned("交办给教育局的建言", true).await;
    let lead_page = c.get(&format!("/suggestions/{id}"), Some(&dept)).await;
    assert_eq!(forms(&lead_page.body), vec!["acknowledge", "return", "reply"]);
    let co_page = c.get(&format!("/suggestions/{id}"), Some(&dept2)).await;
    assert_eq!(forms(&co_page.body), vec!["acknowledge", "return", "co_opinion"]);
    act_ok(&c, &dept, id, "acknowledge", &[]).await;
    assert_eq!(c.inbox_state(id).await, SuggestionState::InProgress);
    assert!(c.inbox_outbox(MEMBER_CHAT).await.join("\n").contains("区教育局 已签收"));
    let lead_page = c.get(&format!("/suggestions/{id}"), Some(&dept)).await;
    assert_eq!(forms(&lead_page.body), vec!["return", "reply"], "acknowledged once");
    act_ok(&c, &dept2, id, "co_opinion", &[("text", "建议统筹考虑财政预算")]).await;
    let reply = c.get(&format!("/suggestions/{id}"), Some(&dept)).await;
    assert!(reply.body.contains("建议统筹考虑财政预算"), "the lead reads the co-department's view");
    // A reply class that is not configured is refused, the text kept.
    let bad = act(&c, &dept, id, "reply", &[("class", "Z"), ("text", "我们的答复")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("请从列表中选择答复分类") && bad.body.contains("我们的答复"), "{}", bad.body);
    act_ok(&c, &dept, id, "reply", &[("class", "A"), ("text", "已采纳并落实")]).await;
    assert_eq!(c.inbox_state(id).await, SuggestionState::Replied);
    let pushes = c.inbox_outbox(MEMBER_CHAT).await.join("\n");
    assert!(
        pushes.contains("已采纳并落实") && pushes.contains(r#"{"rating":"#),
        "the reply with rating buttons: {pushes}"
    );
    assert_eq!(forms(&c.get(&format!("/suggestions/{id}"), Some(&dept)).await.body), Vec::<String>::new());
    // Returning: the whole routing goes back to staff.
    let (id2, reference2) = c.inbox_assigned("不属于教育局的建言", false).await;
    let empty = act(&c, &dept, id2, "return", &[("reason", "   ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("内容不能为空"));
    act_ok(&c, &dept, id2, "return", &[("reason", "属于区财政局职责")]).await;
    assert_eq!(c.inbox_state(id2).await, SuggestionState::Accepted);
    assert!(c.inbox_audit_actions().await.contains(&format!("suggestion.return {reference2}")));
    // After the return the department no longer works on it: it may still read it, but not act.
    let after = c.get(&format!("/suggestions/{id2}"), Some(&dept)).await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(forms(&after.body).is_empty());
}

#[tokio::test]
async fn actions_not_offered_are_refused_when_forged_and_nothing_changes() {
    let c = Console::start().await;
    c.inbox_bind("PD001", MEMBER_CHAT).await;
    let staff = c.login("staff").await;
    let admin = c.login("admin").await;
    let dept = c.login("dept").await;
    let dept2 = c.login("dept2").await;
    let (id, _) = c.inbox_assigned("已交办的建言", true).await;
    let deptid = c.department_id.to_string();
    let all: [(&str, Vec<(&str, &str)>); 11] = [
        ("accept", vec![]),
        ("reject", vec![("reason", "理由")]),
        ("merge", vec![("reference", "PD-2025-0001")]),
        ("assign", vec![("lead", &deptid)]),
        ("instruct", vec![("text", "批示")]),
        ("adopt", vec![]),
        ("key", vec![("leader", "王某某")]),
        ("acknowledge", vec![]),
        ("return", vec![("reason", "理由")]),
        ("reply", vec![("class", "A"), ("text", "答复")]),
        ("co_opinion", vec![("text", "意见")]),
    ];
    let expected: [(&str, &Browser, &[&str]); 4] = [
        ("staff", &staff, &["instruct", "adopt", "key"]),
        ("admin", &admin, &["instruct", "adopt", "key"]),
        ("dept", &dept, &["acknowledge", "return", "reply"]),
        ("dept2", &dept2, &["acknowledge", "return", "co_opinion"]),
    ];
    for (who, b, offered) in expected {
        let page = c.get(&format!("/suggestions/{id}"), Some(b)).await;
        assert_eq!(forms(&page.body), offered.to_vec(), "{who}");
        for (action, fields) in &all {
            if offered.contains(action) {
                continue;
            }
            let before = c.store.facts(id).await.unwrap().unwrap();
            let pushes = c.inbox_outbox(MEMBER_CHAT).await.len();
            let page = act(&c, b, id, action, fields).await;
            assert_ne!(page.status, StatusCode::SEE_OTHER, "{who} {action} must be refused");
            assert!(
                page.body.contains("没有权限") || page.body.contains("不能进行这项操作"),
                "{who} {action}: {}",
                page.body
            );
            assert_eq!(c.store.facts(id).await.unwrap().unwrap(), before, "{who} {action} changed nothing");
            assert_eq!(c.inbox_outbox(MEMBER_CHAT).await.len(), pushes);
        }
    }
    // An action that does not exist is not found.
    assert_eq!(act(&c, &staff, id, "delete", &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_department_sees_only_its_own_suggestions_in_list_detail_and_exports() {
    let c = Console::start().await;
    let dept = c.login("dept").await;
    let dept2 = c.login("dept2").await;
    let (mine, my_ref) = c.inbox_assigned("教育局的建言", false).await;
    let (_, unassigned) = submit(&c, "尚未交办的建言", &["内容"]).await;
    let list = c.get("/suggestions", Some(&dept)).await;
    assert_eq!(refs(&list.body), vec![my_ref.clone()]);
    assert!(!list.body.contains(&unassigned));
    let other = c.get("/suggestions", Some(&dept2)).await;
    assert!(refs(&other.body).is_empty());
    // Asking for another department's filter does not widen the view.
    let widened = c.get(&format!("/suggestions?department={}", c.department_id), Some(&dept2)).await;
    assert!(refs(&widened.body).is_empty());
    for path in [format!("/suggestions/{mine}"), format!("/suggestions/ref/{my_ref}")] {
        assert_eq!(c.get(&path, Some(&dept)).await.status, StatusCode::OK);
        let page = c.get(&path, Some(&dept2)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: not found, not forbidden");
        assert!(!page.body.contains("教育局的建言"));
    }
    let forged = act(&c, &dept2, mine, "acknowledge", &[]).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    let csv = c.get("/suggestions/export.csv", Some(&dept2)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(!csv.body.contains("教育局的建言") && !csv.body.contains(&unassigned));
    let csv = c.get("/suggestions/export.csv", Some(&dept)).await;
    assert!(csv.body.contains("教育局的建言") && !csv.body.contains("尚未交办的建言"));
    let xlsx = c.get("/suggestions/export.xlsx", Some(&dept2)).await;
    assert!(!first_sheet(&xlsx.bytes).contains("教育局的建言"));
    // Reassigned elsewhere (the earlier assignment superseded): no longer visible.
    c.inbox_run_as("dept", mine, jianyan::workflow::Command::Return { reason: "不属于本单位".into() }).await;
    c.inbox_run_as(
        "staff",
        mine,
        jianyan::workflow::Command::Assign { lead: c.other_department_id, co: vec![], deadline: None },
    )
    .await;
    assert_eq!(c.get(&format!("/suggestions/{mine}"), Some(&dept)).await.status, StatusCode::NOT_FOUND);
    assert!(refs(&c.get("/suggestions", Some(&dept)).await.body).is_empty());
    assert_eq!(refs(&c.get("/suggestions", Some(&dept2)).await.body), vec![my_ref]);
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let (id, _) = submit(&c, "建言", &["内容"]).await;
    let page = act(&c, &b, id, "accept", &[("_csrf", "forged")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("页面已过期"));
    let page = act(&c, &b, id, "accept", &[("_csrf", "")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(c.inbox_state(id).await, SuggestionState::Submitted);
}

#[tokio::test]
async fn a_refused_action_shows_the_reason_and_keeps_what_was_typed() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let (id, _) = submit(&c, "建言", &["内容"]).await;
    let page = act(&c, &b, id, "merge", &[("reference", "PD-2025-0777")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("找不到这个编号的建言"), "{}", page.body);
    assert!(page.body.contains("value=\"PD-2025-0777\""));
    act_ok(&c, &b, id, "accept", &[]).await;
    let dept = c.department_id.to_string();
    let page = act(&c, &b, id, "assign", &[("lead", &dept), ("deadline", "2025-02-01")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("必须在今天之后") && page.body.contains("value=\"2025-02-01\""), "{}", page.body);
    let page = act(&c, &b, id, "assign", &[("deadline", "2025-09-01")]).await;
    assert!(page.body.contains("请选择主办单位"));
    let page = act(&c, &b, id, "assign", &[("lead", &dept), ("deadline", "明年")]).await;
    assert!(page.body.contains("「明年」不是有效的日期"));
    assert_eq!(c.inbox_state(id).await, SuggestionState::Accepted);
    // Acting on a stale page: the state has moved on since.
    act_ok(&c, &b, id, "adopt", &[]).await;
    let again = act(&c, &b, id, "adopt", &[]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("这项操作已经做过了"));
}

#[tokio::test]
async fn exports_carry_the_filtered_list_with_chinese_headers() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let (_, a) = submit(&c, "关于\"双减\"政策, 落实的建议", &["第一条", "第二条\n换行"]).await;
    let (_, formula) = submit(&c, "=HYPERLINK(\"http://x\")", &["+1", "-2", "@SUM(A1)"]).await;
    let (s_id, other) = c.inbox_submit("PD002", SuggestionKind::Inspection, "视察报告", &["内容"], Vec::new()).await;
    c.inbox_run_as("staff", s_id, jianyan::workflow::Command::Accept).await;
    let csv = c.get("/suggestions/export.csv", Some(&b)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers["content-disposition"].to_str().unwrap().contains("attachment"));
    assert!(csv.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 with a BOM");
    let mut reader = csv::Reader::from_reader(&csv.bytes[3..]);
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        headers,
        [
            "编号",
            "标题",
            "委员",
            "委员编号",
            "工作站",
            "议题",
            "类别",
            "建议条数",
            "状态",
            "承办单位",
            "提交时间",
            "答复期限",
            "提交方式",
            "委员评价",
            "正文",
            "联名委员"
        ]
    );
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), 3);
    let row_a = rows.iter().find(|r| r[0] == a).unwrap();
    assert_eq!(row_a[1], "关于\"双减\"政策, 落实的建议", "quotes and commas survive CSV quoting");
    assert_eq!(row_a[2], "张三");
    assert_eq!(row_a[3], "PD001");
    assert_eq!(row_a[4], "陆家嘴街道");
    assert_eq!(row_a[7], "2");
    assert_eq!(row_a[8], "已提交");
    assert_eq!(row_a[14], "1. 第一条\n2. 第二条\n换行");
    let row_f = rows.iter().find(|r| r[0] == formula).unwrap();
    assert_eq!(row_f[1], "'=HYPERLINK(\"http://x\")", "formulas are defused");
    let row_o = rows.iter().find(|r| r[0] == other).unwrap();
    assert_eq!((row_o[2].as_str(), row_o[6].as_str(), row_o[8].as_str()), ("李四", "视察", "已受理"));
    // The same filters as the list.
    let filtered = c.get("/suggestions/export.csv?state=accepted", Some(&b)).await;
    let mut reader = csv::Reader::from_reader(&filtered.bytes[3..]);
    let refs: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert_eq!(refs, vec![other.clone()]);
    let xlsx = c.get("/suggestions/export.xlsx?kind=inspection", Some(&b)).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.headers["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let sheet = first_sheet(&xlsx.bytes);
    let rows = sheet.rows();
    assert_eq!(rows[0], headers, "the same Chinese headers as the CSV");
    assert_eq!(rows.len(), 2, "the header and the one inspection report: {rows:?}");
    assert_eq!((rows[1][0].as_str(), rows[1][1].as_str(), rows[1][2].as_str()), (other.as_str(), "视察报告", "李四"));
    assert_eq!((rows[1][6].as_str(), rows[1][7].as_str(), rows[1][8].as_str()), ("视察", "1", "已受理"));
    assert_eq!(rows[1][14], "1. 内容");
    let all = first_sheet(&c.get("/suggestions/export.xlsx", Some(&b)).await.bytes);
    assert_eq!(all.rows().len(), 4, "the header and three suggestions");
    let row_a = all.row_of(&a).expect("the first suggestion");
    assert_eq!(row_a[1], "关于\"双减\"政策, 落实的建议");
    assert_eq!((row_a[3].as_str(), row_a[4].as_str(), row_a[7].as_str()), ("PD001", "陆家嘴街道", "2"));
    assert_eq!(row_a[14], "1. 第一条\n2. 第二条\n换行", "line breaks stay inside the cell");
    // A spreadsheet never evaluates a string cell: the title is kept as typed, and nothing is a formula.
    let row_f = all.row_of(&formula).expect("the suggestion titled like a formula");
    assert_eq!(row_f[1], "=HYPERLINK(\"http://x\")");
    let title_cell = all.cells.iter().find(|row| row[0] == calamine::Data::String(formula.clone())).map(|row| &row[1]);
    assert!(matches!(title_cell, Some(calamine::Data::String(_))), "a text cell: {title_cell:?}");
    assert!(all.formulas.is_empty(), "text cells, never formulas: {:?}", all.formulas);
    let audit = c.inbox_audit_actions().await;
    assert!(audit.iter().any(|a| a.starts_with("suggestions.export_csv")));
    assert!(audit.iter().any(|a| a.starts_with("suggestions.export_xlsx")));
}

#[tokio::test]
async fn hostile_titles_and_points_show_as_text_everywhere() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let script = "<script>alert(1)</script>";
    let img = "<img src=x onerror=alert(2)>";
    let (id, reference) = submit(&c, &format!("标题{script}"), &[img, &format!("\"><b>{script}")]).await;
    c.inbox_run_as("staff", id, jianyan::workflow::Command::Reject { reason: format!("理由{img}") }).await;
    for path in [
        "/suggestions".to_string(),
        format!("/suggestions?q={}", urlencode("script")),
        format!("/suggestions/{id}"),
        format!("/suggestions/ref/{reference}"),
    ] {
        let page = c.get(&path, Some(&b)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains(&reference), "{path}");
        for raw in [script, img, "<b>", "<img"] {
            assert!(!page.body.contains(raw), "{path} has raw {raw}");
        }
        assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{path}: escaped");
    }
    let detail = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert!(detail.body.contains("&lt;img src=x onerror=alert(2)&gt;"));
    // The lookup box answers with the typed reference escaped too.
    let lookup = c.get(&format!("/suggestions/ref/{}", urlencode(script)), Some(&b)).await;
    assert_eq!(lookup.status, StatusCode::NOT_FOUND);
    assert!(!lookup.body.contains("<script>"));
    let csv = c.get("/suggestions/export.csv", Some(&b)).await;
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"), "never served as HTML");
    let mut reader = csv::Reader::from_reader(&csv.bytes[3..]);
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[1], format!("标题{script}"), "the text itself, unchanged");
    let xlsx = first_sheet(&c.get("/suggestions/export.xlsx", Some(&b)).await.bytes);
    let row = xlsx.row_of(&reference).expect("the suggestion's row");
    assert_eq!(row[1], format!("标题{script}"), "the text itself, unchanged, in a text cell");
    assert_eq!(row[14], format!("1. {img}\n2. \"><b>{script}"));
}

#[tokio::test]
async fn reference_placeholders_use_the_current_year() {
    let c = Console::start().await;
    // 16:30 UTC on New Year's Eve is already the new year at the configured +08:00.
    c.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 31, 16, 30, 0).unwrap());
    let b = c.login("staff").await;
    let list = c.get("/suggestions", Some(&b)).await;
    assert!(list.body.contains("placeholder=\"PD-2027-0001\""), "{}", list.body);
    let (id, _) = c.inbox_submit("PD001", SuggestionKind::Advice, "标题", &["一条建议"], Vec::new()).await;
    let detail = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert!(detail.body.contains("placeholder=\"PD-2027-0001\""), "the merge form: {}", detail.body);
    assert!(!detail.body.contains("placeholder=\"PD-2025"), "no example from a past year");
}
