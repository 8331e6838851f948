//! The console's management pages: dashboard, topics, broadcasts, departments, members, accounts and
//! the audit log, driven like a browser against a fresh database.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Duration;
use jianyan::clock::Clock;
use jianyan::context::Ctx;
use jianyan::domain::{MemberLevel, MemberNo, SuggestionKind};
use jianyan::store::{Commit, Committed, NewSuggestion, Redeemed, RosterRow, User};
use jianyan::workflow::{self, Actor, Command};
use support::console::{Browser, Console, Page, csrf_of};

// ---------------------------------------------------------------------------------------------
// Seeding, through the same store and workflow the bot uses.

async fn user(c: &Console, username: &str) -> User {
    c.store.user_for_login(username).await.unwrap().unwrap().0
}

fn now(c: &Console) -> chrono::DateTime<chrono::Utc> {
    c.clock.now()
}

fn advance(c: &Console, days: i64) {
    c.clock.set(now(c) + Duration::days(days));
}

async fn member_id(c: &Console, no: &str) -> i64 {
    c.store.member_by_no(&MemberNo::parse(no).unwrap()).await.unwrap().unwrap().id
}

/// Files a suggestion for a member, as the bot does at the end of the dialog; returns its id.
async fn submit(c: &Console, member_no: &str, topic: Option<i64>, kind: SuggestionKind, points: usize) -> i64 {
    let member_id = member_id(c, member_no).await;
    let suggestion = NewSuggestion {
        member_id,
        topic_id: topic,
        kind,
        title: format!("{member_no} 的建言"),
        points: (1..=points).map(|i| format!("第{i}条建议")).collect(),
        as_typed: String::new(),
        attachments: Vec::new(),
        year: 2025,
        prefix: "PD".into(),
        entered_by: None,
    };
    let commit = Commit {
        update_id: None,
        chat_id: 1,
        dialog: None,
        messages: Vec::new(),
        submission: Some((suggestion, Box::new(|_, _| Vec::new()))),
        change: None,
        now: now(c),
    };
    let Committed::Done { reference: Some(reference), .. } = c.store.commit(commit).await.unwrap() else {
        panic!("not filed")
    };
    c.store.suggestion_id_by_reference(&reference.to_string()).await.unwrap().unwrap()
}

/// Plans a command as a console user and applies it, as the console's own pages do.
async fn act(c: &Console, username: &str, suggestion_id: i64, command: Command) {
    let u = user(c, username).await;
    let ctx = Ctx { store: c.store.as_ref(), texts: &c.app.texts, config: &c.app.config, now: now(c) };
    let change = workflow::plan(&ctx, &Actor::User(&u), suggestion_id, command.clone())
        .await
        .unwrap()
        .unwrap_or_else(|r| panic!("{command:?} refused: {r:?}"));
    assert!(matches!(c.store.apply_change(change, now(c)).await.unwrap(), Committed::Done { .. }));
}

async fn bind(c: &Console, member_no: &str, telegram: i64) {
    let id = member_id(c, member_no).await;
    let code = format!("CODE{telegram}");
    let hash = jianyan::invite::hash(&code);
    c.store.create_invite(id, &hash, now(c), now(c) + Duration::days(7)).await.unwrap();
    let r = c.store.redeem_invite(&hash, telegram, telegram, Some("zh-CN"), now(c)).await.unwrap();
    assert!(matches!(r, Redeemed::Bound(_)), "{r:?}");
}

struct Seeded {
    replied: i64,
    overdue: i64,
}

/// Three workstations (陆家嘴 with 张三 and 李四, 花木 with 王五, 川沙 with nobody), five
/// suggestions, one answered after 10 days and adopted, one overdue by 15 days at two departments.
async fn seed(c: &Console) -> Seeded {
    let rows = [("陆家嘴街道", "街道"), ("花木街道", "街道"), ("川沙新镇", "镇")];
    c.store.upsert_workstations(&rows.map(|(a, b)| (a.to_string(), b.to_string()))).await.unwrap();
    let row = RosterRow {
        member_no: MemberNo::parse("PD003").unwrap(),
        name: "王五".into(),
        level: MemberLevel::District,
        workstation: Some("花木街道".into()),
        sector: "教育界".into(),
        phone: "13900139000".into(),
    };
    c.store.import_members(&[row], now(c)).await.unwrap();
    let t = Some(c.topic_id);
    let replied = submit(c, "PD001", t, SuggestionKind::Advice, 3).await;
    submit(c, "PD001", t, SuggestionKind::Advice, 2).await;
    let accepted = submit(c, "PD002", t, SuggestionKind::Advice, 1).await;
    let overdue = submit(c, "PD003", t, SuggestionKind::PublicOpinion, 4).await;
    submit(c, "PD001", None, SuggestionKind::Research, 1).await;

    act(c, "staff", replied, Command::Accept).await;
    act(c, "staff", replied, Command::Assign { lead: c.department_id, co: vec![], deadline: None }).await;
    advance(c, 10);
    let reply = Command::Reply {
        class: "A".into(),
        text: "已采纳，正在落实。".into(),
        document: None,
        letter: Default::default(),
    };
    act(c, "dept", replied, reply).await;
    act(c, "staff", replied, Command::Adopt).await;
    act(c, "staff", accepted, Command::Accept).await;
    act(c, "staff", overdue, Command::Accept).await;
    let deadline = Some(now(c) + Duration::days(5));
    let assign = Command::Assign { lead: c.other_department_id, co: vec![c.department_id], deadline };
    act(c, "staff", overdue, assign).await;
    advance(c, 20);
    Seeded { replied, overdue }
}

// ---------------------------------------------------------------------------------------------
// Reading pages.

/// The texts of the cells of the table row marked `data-workstation="name"`.
fn workstation_row(html: &str, name: &str) -> Vec<String> {
    let start = html.find(&format!("data-workstation=\"{name}\"")).unwrap_or_else(|| panic!("no row for {name}"));
    let row = &html[start..start + html[start..].find("</tr>").unwrap()];
    let cell = regex::Regex::new(r"<td>([^<]*)</td>").unwrap();
    cell.captures_iter(row).map(|c| c[1].to_string()).collect()
}

async fn audit_actions(c: &Console) -> Vec<String> {
    c.store.audit_log(100).await.unwrap().into_iter().map(|e| e.action).collect()
}

fn assert_problem(page: &Page, text: &str) {
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(page.body.contains(text), "expected {text:?} in {}", page.body);
}

fn multipart(csrf: &str, file: &[u8], skip_invalid: bool) -> (String, Vec<u8>) {
    let boundary = "----jianyanTestBoundary";
    let mut body = Vec::new();
    let mut part = |name: &str, filename: Option<&str>, data: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    };
    part("_csrf", None, csrf.as_bytes());
    part("file", Some("roster.csv"), file);
    if skip_invalid {
        part("skip_invalid", None, b"on");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(c: &Console, b: &Browser, csrf: &str, file: &[u8], skip_invalid: bool) -> Page {
    let (content_type, body) = multipart(csrf, file, skip_invalid);
    let r = Request::post("/members/import")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::COOKIE, &b.cookie)
        .body(Body::from(body))
        .unwrap();
    c.request(r).await
}

// ---------------------------------------------------------------------------------------------
// Roles.

#[tokio::test]
async fn every_console_page_names_the_product_once_in_its_title() {
    let c = Console::start().await;
    let admin = c.login("admin").await;
    let brand = c.state.t("web.brand");
    let product = brand.split(" · ").next().unwrap().to_string();
    let edit = format!("/topics/{}/edit", c.topic_id);
    let pages = [
        "/",
        "/suggestions",
        "/topics",
        "/topics/new",
        edit.as_str(),
        "/broadcasts",
        "/broadcasts/new",
        "/departments",
        "/members",
        "/members/import",
        "/members/unreachable",
        "/preview",
        "/api-tokens",
        "/users",
        "/audit",
    ];
    let title_of = regex::Regex::new("<title>([^<]*)</title>").unwrap();
    for path in pages {
        let page = c.get(path, Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        let title = title_of.captures(&page.body).unwrap_or_else(|| panic!("{path} has a title"))[1].to_string();
        assert_eq!(title.matches(brand.as_str()).count(), 1, "{path}: {title}");
        assert!(!title.contains(&format!("{product} · {product}")), "{path}: {title}");
    }
    let tokens = c.get("/api-tokens", Some(&admin)).await;
    let nav_name = c.state.t("web.nav.api_tokens");
    assert!(tokens.body.contains(&format!("<title>{nav_name} · ")), "the menu and the page use one name");
}

#[tokio::test]
async fn every_page_answers_each_role_as_it_may() {
    let c = Console::start().await;
    bind(&c, "PD001", 9001).await;
    let admin = c.login("admin").await;
    let compose = [("topic", "0"), ("text", "通知"), ("audience", "all")];
    assert_eq!(c.post("/broadcasts", Some(&admin), &compose).await.status, StatusCode::SEE_OTHER);
    let edit = format!("/topics/{}/edit", c.topic_id);
    let staff_pages = [
        "/topics",
        "/topics/new",
        edit.as_str(),
        "/broadcasts",
        "/broadcasts/new",
        "/broadcasts/1/progress.json",
        "/departments",
        "/members",
        "/members/import",
        "/members/unreachable",
    ];
    let admin_pages = ["/users", "/audit"];
    let browsers =
        [("admin", c.login("admin").await), ("staff", c.login("staff").await), ("dept", c.login("dept").await)];
    for path in ["/"].iter().chain(&staff_pages).chain(&admin_pages) {
        let anonymous = c.get(path, None).await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(anonymous.location(), Some("/login"), "{path}");
        for (role, b) in &browsers {
            let page = c.get(path, Some(b)).await;
            let allowed = *path == "/"
                || (staff_pages.contains(path) && *role != "dept")
                || (admin_pages.contains(path) && *role == "admin");
            if allowed {
                assert_eq!(page.status, StatusCode::OK, "{role} {path}: {}", page.body);
            } else {
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{role} {path}");
                assert!(page.body.contains("您没有权限查看这个页面"), "{role} {path}");
            }
        }
    }
    // Department accounts may not post to the management pages either.
    let dept = &browsers[2].1;
    for path in ["/topics", "/departments", "/broadcasts", "/users"] {
        assert_eq!(c.post(path, Some(dept), &[("title", "x")]).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let staff = &browsers[1].1;
    let page = c.post("/users", Some(staff), &[("username", "x")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_form_refuses_a_forged_csrf_token() {
    let c = Console::start().await;
    let b = c.login("admin").await;
    let staff_id = user(&c, "staff").await.id;
    let member = member_id(&c, "PD001").await;
    let t = c.topic_id;
    let posts = [
        "/topics".to_string(),
        format!("/topics/{t}"),
        format!("/topics/{t}/status"),
        "/broadcasts/new".into(),
        "/broadcasts/preview".into(),
        "/broadcasts".into(),
        "/broadcasts/1/cancel".into(),
        "/departments".into(),
        format!("/departments/{}/liaisons", c.department_id),
        format!("/members/{member}/invite"),
        "/users".into(),
        format!("/users/{staff_id}/active"),
        format!("/users/{staff_id}/password"),
    ];
    let fields = [
        ("_csrf", "forged"),
        ("title", "伪造"),
        ("class", "plan"),
        ("status", "closed"),
        ("topic", "0"),
        ("text", "伪造"),
        ("audience", "all"),
        ("name", "伪造单位"),
        ("username", "forged"),
        ("role", "staff"),
        ("password", "Forged-password-1"),
        ("active", "false"),
    ];
    for path in &posts {
        let page = c.post(path, Some(&b), &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("页面已过期"), "{path}");
    }
    let page =
        upload(&c, &b, "forged", "member_no,name,level,workstation,sector,phone\nPD009,赵六,区,,,\n".as_bytes(), false)
            .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Nothing happened.
    assert_eq!(c.store.topics().await.unwrap().len(), 1);
    assert!(c.store.topic(t).await.unwrap().unwrap().pinned);
    assert_eq!(c.store.departments().await.unwrap().len(), 2);
    assert!(c.store.liaisons().await.unwrap().is_empty());
    assert!(c.store.recent_broadcasts(10).await.unwrap().is_empty());
    assert!(user(&c, "staff").await.active);
    assert_eq!(c.store.users().await.unwrap().len(), 4);
    assert_eq!(c.store.members().await.unwrap().len(), 2);
    assert!(!audit_actions(&c).await.iter().any(|a| a != "login"), "{:?}", audit_actions(&c).await);
}

// ---------------------------------------------------------------------------------------------
// Dashboard.

#[tokio::test]
async fn the_dashboard_counts_answer_times_overdue_and_adoption() {
    let c = Console::start().await;
    let s = seed(&c).await;
    let b = c.login("staff").await;
    let page = c.get("/", Some(&b)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    // Answer time: assigned, then answered 10 days later.
    assert!(html.contains("10.0 天"), "{html}");
    // Adoption: 1 adopted of 3 accepted or later.
    assert!(html.contains("33%") && html.contains("采纳 1 篇 / 已受理 3 篇"), "{html}");
    // Overdue by 15 days, at the lead department and the co-department, linking to the suggestion.
    assert!(html.contains(&format!("href=\"/suggestions/{}\"", s.overdue)));
    assert!(html.contains("区财政局") && html.contains("15 天"), "{html}");
    assert_eq!(html.matches(&format!("href=\"/suggestions/{}\"", s.overdue)).count(), 2);
    // Charts are inline SVG drawn on the server.
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains("社情民意信息") && html.contains("花木街道"));
    assert!(!html.contains("<script"), "the dashboard needs no script");

    // 同题共答: every workstation side by side, also the one with nothing.
    assert_eq!(workstation_row(html, "陆家嘴街道"), ["陆家嘴街道", "2", "3", "6", "1"]);
    assert_eq!(workstation_row(html, "花木街道"), ["花木街道", "1", "1", "4", "0"]);
    assert_eq!(workstation_row(html, "川沙新镇"), ["川沙新镇", "0", "0", "0", "0"]);
    // Another topic: all zero, still every workstation.
    let other = c
        .store
        .add_topic(
            jianyan::store::NewTopic {
                title: "15分钟社区生活圈".into(),
                description: String::new(),
                class: jianyan::domain::TopicClass::Livelihood,
                form: "民主评议监督".into(),
                closes_at: None,
                pinned: false,
            },
            now(&c),
        )
        .await
        .unwrap();
    let page = c.get(&format!("/?topic={}", other.id), Some(&b)).await;
    assert_eq!(workstation_row(&page.body, "陆家嘴街道"), ["陆家嘴街道", "0", "0", "0", "0"]);
    assert_eq!(workstation_row(&page.body, "川沙新镇"), ["川沙新镇", "0", "0", "0", "0"]);
}

#[tokio::test]
async fn a_department_sees_a_dashboard_of_its_own_assignments() {
    let c = Console::start().await;
    let s = seed(&c).await;
    let dept = c.get("/", Some(&c.login("dept").await)).await;
    assert_eq!(dept.status, StatusCode::OK);
    // 教育局 has the replied suggestion (lead) and the overdue one (co): 2, not 5.
    assert!(dept.body.contains("以下只统计交办给区教育局的建言"), "{}", dept.body);
    assert!(dept.body.contains("采纳 1 篇 / 已受理 2 篇"), "{}", dept.body);
    assert_eq!(dept.body.matches(&format!("href=\"/suggestions/{}\"", s.overdue)).count(), 1);
    assert!(dept.body.contains("（协办）"));
    assert!(!dept.body.contains("data-workstation"), "the 同题共答 view is for staff");
    assert!(!dept.body.contains("议政调研"), "a suggestion never assigned to it is not counted");
    let dept2 = c.get("/", Some(&c.login("dept2").await)).await;
    assert!(dept2.body.contains("采纳 0 篇 / 已受理 1 篇"), "{}", dept2.body);
    assert!(!dept2.body.contains(&format!("/suggestions/{}\"", s.replied)));
    assert!(dept2.body.contains("（主办）"));
}

// ---------------------------------------------------------------------------------------------
// Topics.

#[tokio::test]
async fn staff_publish_edit_close_and_reopen_topics() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let form = [
        ("title", "世博水环建设"),
        ("description", "依托水环涉及的7个街镇工作站收集委员意见"),
        ("class", "decision"),
        ("form", "专题协商会"),
        ("closes", "2025-12-31"),
        ("pinned", "on"),
    ];
    let page = c.post("/topics", Some(&b), &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let list = c.get(page.location().unwrap(), Some(&b)).await;
    assert!(list.body.contains("议题已发布") && list.body.contains("世博水环建设") && list.body.contains("2025-12-31"));
    let topics = c.store.topics().await.unwrap();
    let new = topics.iter().find(|t| t.title == "世博水环建设").unwrap();
    assert!(new.pinned && !topics.iter().find(|t| t.id == c.topic_id).unwrap().pinned, "one pinned topic");
    assert_eq!(new.form, "专题协商会");

    let edit = c.get(&format!("/topics/{}/edit", new.id), Some(&b)).await;
    assert!(edit.body.contains("value=\"2025-12-31\"") && edit.body.contains("世博水环建设"));
    let changed = [("title", "世博水环建设（二期）"), ("class", "livelihood"), ("form", ""), ("closes", "")];
    assert_eq!(c.post(&format!("/topics/{}", new.id), Some(&b), &changed).await.status, StatusCode::SEE_OTHER);
    let t = c.store.topic(new.id).await.unwrap().unwrap();
    assert_eq!(
        (t.title.as_str(), t.class.label(), t.closes_at, t.pinned),
        ("世博水环建设（二期）", "民生实事类", None, false)
    );

    let close = c.post(&format!("/topics/{}/status", new.id), Some(&b), &[("status", "closed")]).await;
    assert_eq!(close.status, StatusCode::SEE_OTHER);
    assert!(!c.store.open_topics(now(&c)).await.unwrap().iter().any(|t| t.id == new.id));
    c.post(&format!("/topics/{}/status", new.id), Some(&b), &[("status", "open")]).await;
    assert!(c.store.open_topics(now(&c)).await.unwrap().iter().any(|t| t.id == new.id));
    let actions = audit_actions(&c).await;
    for a in ["topic.create", "topic.update", "topic.close", "topic.open"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn a_topic_form_with_mistakes_is_shown_again_with_every_problem() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let bad = [("title", "  "), ("description", "我写的说明"), ("class", "其他类"), ("closes", "2025/13/01")];
    let page = c.post("/topics", Some(&b), &bad).await;
    assert_problem(&page, "请填写议题标题");
    assert!(page.body.contains("请选择议题类别"));
    assert!(page.body.contains("截止日期「2025/13/01」无法识别"));
    assert!(page.body.contains("我写的说明"), "what was typed is kept");
    let past = [("title", "过去的议题"), ("class", "plan"), ("closes", "2024-01-01")];
    assert_problem(&c.post("/topics", Some(&b), &past).await, "已经过去");
    let long = "长".repeat(101);
    assert_problem(&c.post("/topics", Some(&b), &[("title", &long), ("class", "plan")]).await, "最多 100 个字");
    assert_eq!(c.store.topics().await.unwrap().len(), 1, "nothing was added");
    let edit = c.post(&format!("/topics/{}", c.topic_id), Some(&b), &[("title", ""), ("class", "plan")]).await;
    assert_problem(&edit, "请填写议题标题");
    assert_eq!(c.get("/topics/999/edit", Some(&b)).await.status, StatusCode::NOT_FOUND);
    // The example closing date is the end of the current year, never one already past.
    c.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 29, 2, 0, 0).unwrap());
    let b = c.login("staff").await;
    let page = c.post("/topics", Some(&b), &bad).await;
    assert!(page.body.contains("例如 2026-12-31"), "{}", page.body);
}

// ---------------------------------------------------------------------------------------------
// Broadcasts.

#[tokio::test]
async fn a_broadcast_composed_in_the_console_queues_the_bots_message_for_each_reachable_member() {
    let c = Console::start().await;
    seed(&c).await;
    bind(&c, "PD001", 9001).await;
    bind(&c, "PD002", 9002).await; // 王五 (PD003) has not joined: not counted, not sent to.
    let b = c.login("staff").await;
    let composer = c.get(&format!("/topics/{}/broadcast", c.topic_id), Some(&b)).await;
    assert_eq!(composer.location(), Some(format!("/broadcasts/new?topic={}", c.topic_id).as_str()));
    let composer = c.get(composer.location().unwrap(), Some(&b)).await;
    assert!(composer.body.contains("全体委员（2）"), "{}", composer.body);
    assert!(composer.body.contains("陆家嘴街道（2）") && composer.body.contains("花木街道（0）"));

    let topic = c.topic_id.to_string();
    let text = "请就\"十五五\"规划编制提出建议，<b>本周五</b>截止。";
    let form = [("topic", topic.as_str()), ("text", text), ("audience", "all")];
    let preview = c.post("/broadcasts/preview", Some(&b), &form).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("共 2 位委员将收到"), "{}", preview.body);
    assert!(preview.body.contains("📢 区政协通知") && preview.body.contains("&lt;b&gt;本周五&lt;/b&gt;"));
    assert!(
        preview.body.contains("就《\"十五五\"规划编制》建言")
            || preview.body.contains("就《&quot;十五五&quot;规划编制》建言")
    );
    assert!(preview.body.contains("确认发送给 2 位委员"));
    assert_eq!(c.store.recent_broadcasts(10).await.unwrap().len(), 0, "a preview sends nothing");

    // The preview's confirmation carries a key; sending it twice (a resent form) queues once.
    let at = preview.body.find("name=\"request_key\" value=\"").expect("the confirmation carries a key") + 26;
    let key = preview.body[at..].split('"').next().unwrap().to_string();
    let confirm = [("topic", topic.as_str()), ("text", text), ("audience", "all"), ("request_key", key.as_str())];
    let sent = c.post("/broadcasts", Some(&b), &confirm).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let again = c.post("/broadcasts", Some(&b), &confirm).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(c.store.recent_broadcasts(10).await.unwrap().len(), 1, "one broadcast, not two");
    let told = c.get(again.location().unwrap(), Some(&b)).await;
    assert!(told.body.contains("这次重复的确认没有再发一遍"), "the second is told it was done: {}", told.body);
    let audits = c.db.count("SELECT COUNT(*) FROM audit_log WHERE action = 'broadcast.create'").await;
    assert_eq!(audits, 1, "audited once");
    let list = c.get(sent.location().unwrap(), Some(&b)).await;
    let id = c.store.recent_broadcasts(1).await.unwrap()[0].id;
    assert!(list.body.contains(&format!("通知 #{id} 已进入发送队列，共 2 位委员")), "{}", list.body);
    assert!(list.body.contains(&format!("data-progress=\"/broadcasts/{id}/progress.json\"")));
    assert!(list.body.contains("<script src=\"/assets/app.js\""));

    let rows: Vec<(i64, String, i64)> = c
        .db
        .rows("SELECT chat_id, payload, priority FROM outbox WHERE broadcast_id = $1 ORDER BY chat_id", &[id.into()])
        .await
        .iter()
        .map(|r| (r[0].int(), r[1].text(), r[2].int()))
        .collect();
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [9001, 9002]);
    let expected = jianyan::dialog::broadcast::member_copy(
        &c.app.texts,
        jianyan::locale::Lang::Zh,
        text,
        c.store.topic(c.topic_id).await.unwrap().as_ref(),
    )
    .encode();
    for (_, payload, priority) in &rows {
        assert_eq!(payload, &expected, "the member's copy is the bot's");
        assert!(payload.contains(&format!(r#"{{"new":{{"topic_id":{}}}}}"#, c.topic_id)), "{payload}");
        assert_eq!(*priority, 2);
    }

    let json = c.get(&format!("/broadcasts/{id}/progress.json"), Some(&b)).await;
    assert_eq!(json.headers.get(header::CONTENT_TYPE).unwrap(), "application/json");
    let p: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!((p["total"].as_i64(), p["pending"].as_i64(), p["sent"].as_i64()), (Some(2), Some(2), Some(0)));
    assert_eq!(c.get("/broadcasts/999/progress.json", Some(&b)).await.status, StatusCode::NOT_FOUND);

    let stop = c.post(&format!("/broadcasts/{id}/cancel"), Some(&b), &[]).await;
    assert_eq!(stop.status, StatusCode::SEE_OTHER);
    let list = c.get(stop.location().unwrap(), Some(&b)).await;
    assert!(list.body.contains(&format!("通知 #{id} 已停止，2 条")), "{}", list.body);
    let p: serde_json::Value =
        serde_json::from_str(&c.get(&format!("/broadcasts/{id}/progress.json"), Some(&b)).await.body).unwrap();
    assert_eq!(
        (p["pending"].as_i64(), p["not_sent"].as_i64(), p["cancelled"].as_bool()),
        (Some(0), Some(2), Some(true))
    );
    let again = c.post(&format!("/broadcasts/{id}/cancel"), Some(&b), &[]).await;
    assert!(c.get(again.location().unwrap(), Some(&b)).await.body.contains("已经停止了"));
    let actions = audit_actions(&c).await;
    assert!(actions.contains(&"broadcast.create".to_string()) && actions.contains(&"broadcast.cancel".to_string()));
    assert_eq!(actions.iter().filter(|a| *a == "broadcast.cancel").count(), 1);
}

#[tokio::test]
async fn the_broadcast_composer_says_what_is_missing_and_keeps_the_text() {
    let c = Console::start().await;
    seed(&c).await;
    bind(&c, "PD001", 9001).await;
    let b = c.login("staff").await;
    let page = c.post("/broadcasts/preview", Some(&b), &[("topic", ""), ("text", " "), ("audience", "")]).await;
    assert_problem(&page, "请选择议题");
    assert!(page.body.contains("请填写通知内容") && page.body.contains("请选择发送对象"));
    let page = c
        .post("/broadcasts/preview", Some(&b), &[("topic", "0"), ("text", "保留我"), ("audience", "workstation")])
        .await;
    assert_problem(&page, "请选择一个委员工作站");
    assert!(page.body.contains("保留我"));
    let options = c.store.audience_options(jianyan::store::AudienceKind::Workstation).await.unwrap();
    let huamu = options.iter().find(|o| o.label == "花木街道").unwrap();
    let jianyan::store::Audience::Workstation(huamu) = huamu.audience else { panic!() };
    let huamu = huamu.to_string();
    let nobody = [("topic", "0"), ("text", "x"), ("audience", "workstation"), ("workstation", huamu.as_str())];
    assert_problem(&c.post("/broadcasts/preview", Some(&b), &nobody).await, "没有可以收到通知的委员");
    let long = "长".repeat(3501);
    let page = c.post("/broadcasts/preview", Some(&b), &[("topic", "0"), ("text", &long), ("audience", "all")]).await;
    assert_problem(&page, "最多 3500 字，现在是 3501 字");
    // Counted as Telegram counts: an emoji is two.
    let emoji = "👍".repeat(1751);
    let page = c.post("/broadcasts/preview", Some(&b), &[("topic", "0"), ("text", &emoji), ("audience", "all")]).await;
    assert_problem(&page, "最多 3500 字，现在是 3502 字");
    c.store.close_topic(c.topic_id, now(&c)).await.unwrap();
    let topic = c.topic_id.to_string();
    let closed = [("topic", topic.as_str()), ("text", "x"), ("audience", "all")];
    assert_problem(&c.post("/broadcasts", Some(&b), &closed).await, "已结束征集或不存在");
    let by_level = [("topic", "0"), ("text", "街镇委员请注意"), ("audience", "level"), ("level", "street")];
    let preview = c.post("/broadcasts/preview", Some(&b), &by_level).await;
    assert!(preview.body.contains("层级：街镇，共 1 位委员将收到"), "{}", preview.body);
    assert!(c.store.recent_broadcasts(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_progress_script_is_served_from_the_console() {
    let c = Console::start().await;
    let js = c.get("/assets/app.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/javascript"));
    assert!(js.body.contains("progress.json") || js.body.contains("data-progress"));
    assert!(js.body.contains("2000"), "polls every 2 s");
}

// ---------------------------------------------------------------------------------------------
// Departments.

#[tokio::test]
async fn staff_add_departments_and_invite_liaisons() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let page = c.post("/departments", Some(&b), &[("name", "区发展改革委"), ("short_name", "发改委")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let list = c.get(page.location().unwrap(), Some(&b)).await;
    assert!(list.body.contains("承办单位已添加") && list.body.contains("区发展改革委") && list.body.contains("发改委"));
    assert_problem(&c.post("/departments", Some(&b), &[("name", "区教育局")]).await, "承办单位「区教育局」已经存在");
    let page = c.post("/departments", Some(&b), &[("name", ""), ("short_name", "留着")]).await;
    assert_problem(&page, "请填写承办单位名称");
    assert!(page.body.contains("value=\"留着\""));
    assert_eq!(c.store.departments().await.unwrap().len(), 3);

    let page = c.post(&format!("/departments/{}/liaisons", c.department_id), Some(&b), &[("name", "李联络员")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(page.body.contains("区教育局联络员李联络员") && page.body.contains("还没有填写机器人的用户名"));
    assert!(page.body.contains("请管理员填写机器人的用户名"), "staff learn who can fix it");
    assert!(
        !page.body.contains("bot_username") && !page.body.contains("配置文件"),
        "no setting key, no file for staff"
    );
    let code = regex::Regex::new(r#"<strong class="code">([A-Z0-9]{10})</strong>"#).unwrap();
    let code = code.captures(&page.body).expect("the code is shown")[1].to_string();
    let redeemed = c.store.redeem_invite(&jianyan::invite::hash(&code), 7001, 7001, None, now(&c)).await.unwrap();
    assert!(matches!(redeemed, Redeemed::Bound(jianyan::store::Identity::Liaison(ref l)) if l.name == "李联络员"));
    let list = c.get("/departments", Some(&b)).await;
    assert!(list.body.contains("李联络员") && list.body.contains("（已绑定 Telegram）"));
    assert_eq!(c.post("/departments/999/liaisons", Some(&b), &[]).await.status, StatusCode::NOT_FOUND);
    let actions = audit_actions(&c).await;
    assert!(actions.contains(&"department.create".into()) && actions.contains(&"liaison.invite".into()));
}

#[tokio::test]
async fn without_the_bot_username_an_admin_reads_in_words_where_to_set_it() {
    let c = Console::start().await;
    let admin = c.login("admin").await;
    let member = member_id(&c, "PD001").await;
    let page = c.post(&format!("/members/{member}/invite"), Some(&admin), &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("还没有填写机器人的用户名"), "{}", page.body);
    assert!(page.body.contains("在服务器的配置文件中，于 Telegram 设置里填写机器人的用户名"), "{}", page.body);
    assert!(!page.body.contains("bot_username") && !page.body.contains("telegram."), "no setting key");
}

#[tokio::test]
async fn the_invite_page_gives_the_deep_link_when_the_bot_username_is_configured() {
    let mut c = Console::start().await;
    let mut config = (*c.app.config).clone();
    config.telegram.bot_username = "pudong_jianyan_bot".into();
    c.app.config = std::sync::Arc::new(config);
    c.state = jianyan::web::WebState::new(c.app.clone(), false);
    c.router = jianyan::web::router(c.state.clone());
    let b = c.login("staff").await;
    let member = member_id(&c, "PD001").await;
    let page = c.post(&format!("/members/{member}/invite"), Some(&b), &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("张三（PD001）"));
    let link = regex::Regex::new(r"https://t\.me/pudong_jianyan_bot\?start=([A-Z0-9]{10})").unwrap();
    let code = link.captures(&page.body).expect("a deep link")[1].to_string();
    let r = c.store.redeem_invite(&jianyan::invite::hash(&code), 8001, 8001, None, now(&c)).await.unwrap();
    assert!(matches!(r, Redeemed::Bound(jianyan::store::Identity::Member(ref m)) if m.name == "张三"));
    assert!(audit_actions(&c).await.contains(&"member.invite".to_string()));
}

// ---------------------------------------------------------------------------------------------
// Members.

#[tokio::test]
async fn the_roster_lists_and_filters_members() {
    let c = Console::start().await;
    seed(&c).await;
    bind(&c, "PD001", 9001).await;
    c.db.execute("UPDATE members SET unreachable_at = $1 WHERE member_no = 'PD002'", &[now(&c).into()]).await;
    let b = c.login("staff").await;
    let all = c.get("/members", Some(&b)).await;
    assert!(all.body.contains("共 3 位委员，1 位已绑定 Telegram，1 位已屏蔽机器人"), "{}", all.body);
    let huamu = c.get(&format!("/members?workstation={}", support::console::urlencode("花木街道")), Some(&b)).await;
    assert!(huamu.body.contains("王五") && !huamu.body.contains("张三") && huamu.body.contains("显示 1 位委员"));
    let bound = c.get("/members?bound=yes", Some(&b)).await;
    assert!(bound.body.contains("张三") && !bound.body.contains("王五"));
    let district = c.get("/members?level=district", Some(&b)).await;
    assert!(district.body.contains("王五") && !district.body.contains("李四"));
    let sector = c.get(&format!("/members?sector={}", support::console::urlencode("经济界")), Some(&b)).await;
    assert!(sector.body.contains("张三") && sector.body.contains("李四") && !sector.body.contains("王五"));
    let unreachable = c.get("/members?unreachable=yes", Some(&b)).await;
    assert!(unreachable.body.contains("李四") && !unreachable.body.contains("张三"));
    let list = c.get("/members/unreachable", Some(&b)).await;
    assert!(list.body.contains("李四") && list.body.contains("13800138000") && !list.body.contains("王五"));
}

#[tokio::test]
async fn a_broken_roster_is_reported_line_by_line_and_nothing_is_imported() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let file = "member_no,name,level,workstation,sector,phone\n\
                PD010,赵六,区,花木街道,教育界,13900000010\n\
                PD 011,钱七,区,,,\n\
                PD012,孙八,省,,,\n\
                PD013,,街镇,,,phone\n";
    let page = upload(&c, &b, &b.csrf, file.as_bytes(), false).await;
    assert_problem(&page, "发现 4 处问题，没有导入任何委员");
    let cell = regex::Regex::new(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>").unwrap();
    let problems: Vec<(String, String)> = cell.captures_iter(&page.body).map(|c| (c[1].into(), c[2].into())).collect();
    assert_eq!(problems.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["3", "4", "5", "5"]);
    assert!(problems[0].1.contains("委员编号「PD 011」无效"), "{problems:?}");
    assert!(problems[1].1.contains("层级「省」无效"));
    assert!(page.body.contains("也可以勾选「跳过有问题的行」"), "the way out is offered");
    assert_eq!(c.store.members().await.unwrap().len(), 2, "nothing imported");
    assert!(!audit_actions(&c).await.contains(&"members.import".to_string()));

    let page = upload(&c, &b, &b.csrf, file.as_bytes(), true).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("新增 1 位") && page.body.contains("4 处有问题的行未导入"), "{}", page.body);
    assert!(page.body.contains("层级「省」无效"), "the refused rows with their reasons: {}", page.body);
    assert!(page.body.contains("<title>导入结果") && page.body.contains("href=\"/members\""), "leads to the roster");
    assert!(!page.body.contains("enctype=\"multipart/form-data\""), "not the import form again");
    assert_eq!(c.store.members().await.unwrap().len(), 3);
    assert!(audit_actions(&c).await.contains(&"members.import".to_string()));

    let gbk = b"member_no,name,level,workstation,sector,phone\nPD020,\xd5\xc5,\xc7\xf8,,,\n";
    let page = upload(&c, &b, &b.csrf, gbk, true).await;
    assert_problem(&page, "不是 UTF-8 编码");
    assert_problem(&upload(&c, &b, &b.csrf, b"", false).await, "请选择要导入的 CSV 文件");
    let update = "委员编号,姓名,层级,工作站,界别,电话\nPD001,张三丰,区,陆家嘴街道,经济界,\n";
    let page = upload(&c, &b, &b.csrf, update.as_bytes(), false).await;
    assert!(page.body.contains("新增 0 位，更新 1 位，0 位没有变化"), "{}", page.body);
    // The same file again changes nobody; one changed row among unchanged ones is "updated".
    let page = upload(&c, &b, &b.csrf, update.as_bytes(), false).await;
    assert!(page.body.contains("新增 0 位，更新 0 位，1 位没有变化，0 处"), "{}", page.body);
    let two = "委员编号,姓名,层级,工作站,界别,电话\nPD001,张三丰,区,陆家嘴街道,经济界,\nPD002,李四四,区,,,\n";
    let page = upload(&c, &b, &b.csrf, two.as_bytes(), false).await;
    assert!(page.body.contains("新增 0 位，更新 1 位，1 位没有变化"), "{}", page.body);
}

// ---------------------------------------------------------------------------------------------
// Accounts and the audit log.

#[tokio::test]
async fn admins_create_accounts_and_bad_ones_are_explained() {
    let c = Console::start().await;
    let b = c.login("admin").await;
    let dep = c.department_id.to_string();
    let form = [
        ("username", "jiaoyu2"),
        ("name", "教育局第二联络员"),
        ("role", "department"),
        ("department", &dep),
        ("password", "Another-pass-2"),
    ];
    let page = c.post("/users", Some(&b), &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let created = user(&c, "jiaoyu2").await;
    assert_eq!(created.department_id, Some(c.department_id));
    let new = c.try_login("jiaoyu2", "Another-pass-2").await.expect("the new account logs in");
    assert_eq!(c.get("/", Some(&new)).await.status, StatusCode::OK);

    assert_problem(&c.post("/users", Some(&b), &form).await, "用户名「jiaoyu2」已被使用");
    let weak = [("username", "newstaff"), ("name", "新同事"), ("role", "staff"), ("password", "short")];
    let page = c.post("/users", Some(&b), &weak).await;
    assert_problem(&page, "密码太简单");
    assert!(
        page.body.contains("value=\"newstaff\"") && page.body.contains("value=\"新同事\""),
        "typed values are kept"
    );
    assert!(!page.body.contains("value=\"short\""), "a password is never shown again");
    let no_dep = [("username", "nodep"), ("name", "无单位"), ("role", "department"), ("password", "Another-pass-2")];
    assert_problem(&c.post("/users", Some(&b), &no_dep).await, "承办单位账号必须选择所属的承办单位");
    let bad_name = [("username", "has space"), ("name", ""), ("role", "boss"), ("password", "Another-pass-2")];
    let page = c.post("/users", Some(&b), &bad_name).await;
    assert_problem(&page, "用户名为 2 到 32 位");
    assert!(page.body.contains("请填写姓名") && page.body.contains("请选择角色"));
    assert_eq!(c.store.users().await.unwrap().len(), 5);
}

#[tokio::test]
async fn admins_deactivate_reactivate_and_reset_passwords_but_not_their_own_account() {
    let c = Console::start().await;
    let b = c.login("admin").await;
    let staff = c.login("staff").await;
    let staff_id = user(&c, "staff").await.id;
    let admin_id = user(&c, "admin").await.id;
    let page = c.post(&format!("/users/{staff_id}/active"), Some(&b), &[("active", "false")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/", Some(&staff)).await.location(), Some("/login"), "their session ended");
    assert!(c.try_login("staff", support::console::PASSWORD).await.is_err());
    assert!(c.get("/users", Some(&b)).await.body.contains("已停用"));
    c.post(&format!("/users/{staff_id}/active"), Some(&b), &[("active", "true")]).await;
    let staff = c.login("staff").await;

    let page = c.post(&format!("/users/{admin_id}/active"), Some(&b), &[("active", "false")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("不能停用自己正在使用的账号"));
    assert!(user(&c, "admin").await.active);

    let weak = c.post(&format!("/users/{staff_id}/password"), Some(&b), &[("password", "weak")]).await;
    assert_problem(&weak, "没有修改「staff」的密码");
    let reset = c.post(&format!("/users/{staff_id}/password"), Some(&b), &[("password", "Brand-new-pass-3")]).await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/", Some(&staff)).await.location(), Some("/login"));
    assert!(c.try_login("staff", support::console::PASSWORD).await.is_err());
    c.try_login("staff", "Brand-new-pass-3").await.expect("the new password works");

    let audit = c.get("/audit", Some(&b)).await;
    for action in ["停用账号", "重新启用账号", "重置密码", "登录"] {
        assert!(audit.body.contains(action), "{action}");
    }
    assert!(audit.body.contains("系统管理员"));
    let token = csrf_of(&audit.body).unwrap();
    assert_eq!(token, b.csrf);
}

#[tokio::test]
async fn the_consultation_form_is_chosen_from_the_configured_list_and_an_old_one_is_kept() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let new = c.get("/topics/new", Some(&b)).await;
    for form in ["议政性常委会", "专题协商会", "委员工作站协商", "民主评议监督"] {
        assert!(new.body.contains(&format!("<option value=\"{form}\">{form}</option>")), "{form} offered");
    }
    assert_eq!(c.app.config.topics.forms.len(), 11, "the eleven forms of the district's practice");

    let typed = [("title", "世博水环建设"), ("class", "livelihood"), ("form", "随便聊聊会")];
    let page = c.post("/topics", Some(&b), &typed).await;
    assert_problem(&page, "请从列表中选择协商形式");
    assert!(page.body.contains("议政性常委会、专题协商会"), "the allowed forms are listed");
    assert_eq!(c.store.topics().await.unwrap().len(), 1, "nothing was added");

    // A topic stored before the list (or with a form since taken off it) keeps and shows it.
    let old = jianyan::store::NewTopic {
        title: "老议题".into(),
        description: String::new(),
        class: jianyan::domain::TopicClass::Livelihood,
        form: "圆桌协商会".into(),
        closes_at: None,
        pinned: false,
    };
    let old = c.store.add_topic(old, now(&c)).await.unwrap();
    assert!(c.get("/topics", Some(&b)).await.body.contains("圆桌协商会"));
    let edit = c.get(&format!("/topics/{}/edit", old.id), Some(&b)).await;
    assert!(edit.body.contains("圆桌协商会（已不在配置的列表中）"), "{}", edit.body);
    let same = [("title", "老议题（修订）"), ("class", "livelihood"), ("form", "圆桌协商会")];
    assert_eq!(c.post(&format!("/topics/{}", old.id), Some(&b), &same).await.status, StatusCode::SEE_OTHER);
    assert_eq!(c.store.topic(old.id).await.unwrap().unwrap().form, "圆桌协商会");
    let listed = [("title", "老议题（修订）"), ("class", "livelihood"), ("form", "民主评议监督")];
    assert_eq!(c.post(&format!("/topics/{}", old.id), Some(&b), &listed).await.status, StatusCode::SEE_OTHER);
    assert_eq!(c.store.topic(old.id).await.unwrap().unwrap().form, "民主评议监督");
}
