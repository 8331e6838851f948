//! Staff acting for members, recorded as such: 代为提交 (a suggestion a member gave by phone, on
//! paper or in person, entered in the console) and 代为评价 (the member's rating of an answer,
//! recorded by staff). The timeline, the suggestion page and the exports say who entered what and
//! how the member gave it; the member hears of it (kept for them if not on Telegram yet).

mod support;

use axum::http::StatusCode;
use jianyan::domain::SuggestionState;
use jianyan::reply::Action;
use jianyan::workflow::Command;
use support::console::{Browser, Console};

const MEMBER_CHAT: i64 = 7001;

fn text_of(payload: &str) -> String {
    match Action::decode(payload).unwrap() {
        Action::Send { text, .. } => text,
        other => panic!("not a message: {other:?}"),
    }
}

async fn enter(c: &Console, b: &Browser, fields: &[(&str, &str)]) -> support::console::Page {
    c.post("/suggestions/new", Some(b), fields).await
}

fn form<'a>(member: &'a str, title: &'a str, points: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("member", member),
        ("channel", "paper"),
        ("topic", "none"),
        ("kind", "advice"),
        ("title", title),
        ("points", points),
    ]
}

/// The suggestion id a redirect after entering leads to.
fn entered_id(page: &support::console::Page) -> i64 {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location().expect("a redirect");
    assert!(location.ends_with("?done=entered"), "{location}");
    location.trim_start_matches("/suggestions/").split('?').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn staff_enter_a_suggestion_for_a_member_and_everything_says_so() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let form_page = c.get("/suggestions/new", Some(&b)).await;
    assert_eq!(form_page.status, StatusCode::OK);
    assert!(form_page.body.contains("代为提交建言") && form_page.body.contains("书面"), "{}", form_page.body);
    let list = c.get("/suggestions", Some(&b)).await;
    assert!(list.body.contains("href=\"/suggestions/new\""), "the inbox links to it");

    // Member number typed with full-width letters; points separated by a blank line.
    let points = "一、增设社区食堂\n\n二、延长开放时间";
    let page = enter(&c, &b, &form("ＰＤ００１", "关于老年助餐的建议", points)).await;
    let id = entered_id(&page);
    let shown = c.get(&format!("/suggestions/{id}?done=entered"), Some(&b)).await;
    assert!(shown.body.contains("已代为提交，编号 PD-2025-"), "{}", shown.body);
    assert!(shown.body.contains("王工作人员代为提交（书面）"), "the page says who entered it: {}", shown.body);
    assert!(shown.body.contains("工作人员代为提交"), "the timeline event: {}", shown.body);
    assert!(shown.body.contains("增设社区食堂") && shown.body.contains("延长开放时间"), "{}", shown.body);

    let stored = c.db.rows("SELECT s.entered_via, u.username, s.member_id, s.state FROM suggestions s JOIN users u ON u.id = s.entered_by WHERE s.id = $1", &[id.into()]).await;
    assert_eq!(stored.len(), 1, "entered_by names the console account");
    assert_eq!(stored[0][0].text(), "paper");
    assert_eq!(stored[0][1].text(), "staff");
    assert_eq!(stored[0][3].text(), "submitted");
    let stored_points =
        c.db.count_with("SELECT COUNT(*) FROM suggestion_points WHERE suggestion_id = $1", &[id.into()]).await;
    assert_eq!(stored_points, 2);
    let events = c
        .db
        .rows("SELECT actor_kind, event, text FROM timeline_events WHERE suggestion_id = $1 ORDER BY id", &[id.into()])
        .await;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0][0].text(), events[0][1].text()), ("console_staff".to_string(), "entered".to_string()));
    assert!(events[0][2].text().contains("张三") && events[0][2].text().contains("书面"), "{:?}", events[0][2].text());

    // PD001 has no Telegram yet: the receipt is kept for them, not dropped.
    let held = c.db.rows("SELECT payload FROM held_notifications WHERE suggestion_id = $1", &[id.into()]).await;
    assert_eq!(held.len(), 1);
    let receipt = text_of(&held[0][0].text());
    assert!(receipt.contains("代为提交建言《关于老年助餐的建议》") && receipt.contains("PD-2025-"), "{receipt}");

    // The same form again (a double click): the same suggestion, not a second one.
    let again = enter(&c, &b, &form("PD001", "关于老年助餐的建议", points)).await;
    assert_eq!(entered_id(&again), id);
    assert_eq!(c.db.count("SELECT COUNT(*) FROM suggestions").await, 1);

    // The export says how it came in.
    let csv = c.get("/suggestions/export.csv", Some(&b)).await;
    assert!(csv.body.contains("提交方式") && csv.body.contains("王工作人员代为提交（书面）"), "{}", csv.body);
    let audit = c.inbox_audit_actions().await;
    assert!(audit.iter().any(|a| a.starts_with("suggestion.entered PD-")), "{audit:?}");
}

#[tokio::test]
async fn a_member_on_telegram_gets_the_receipt_and_staff_work_it_as_usual() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    c.api_bind_member("PD002", MEMBER_CHAT).await;
    let page = enter(&c, &b, &form("李四", "关于停车难的建议", "1. 错时共享停车\n2. 增设立体车库")).await;
    let id = entered_id(&page);
    let pushes = c.inbox_outbox(MEMBER_CHAT).await;
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert!(text_of(&pushes[0]).contains("关于停车难的建议") && text_of(&pushes[0]).contains("共2条"));
    // Staff accept it like any other.
    c.api_run_as("staff", id, Command::Accept).await;
    assert_eq!(c.inbox_state(id).await, SuggestionState::Accepted);
}

#[tokio::test]
async fn a_bad_entry_is_said_back_with_the_form_kept_and_nothing_filed() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let page = enter(&c, &b, &form("王五", "标题", "内容")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("委员名单中找不到「王五」"), "{}", page.body);
    assert!(page.body.contains("value=\"标题\""), "the form is kept: {}", page.body);

    let mut fields = form("PD001", "", "");
    fields.retain(|(k, _)| *k != "channel");
    let page = enter(&c, &b, &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for problem in ["请填写标题", "请填写至少一条建议", "请选择委员提出的方式"] {
        assert!(page.body.contains(problem), "{problem}: {}", page.body);
    }

    // Two members share a name: the number is asked for, with where each sits.
    let row = jianyan::store::RosterRow {
        member_no: jianyan::domain::MemberNo::parse("PD009").unwrap(),
        name: "张三".into(),
        level: jianyan::domain::MemberLevel::City,
        workstation: None,
        sector: String::new(),
        phone: String::new(),
    };
    c.store.import_members(&[row], jianyan::clock::Clock::now(c.clock.as_ref())).await.unwrap();
    let page = enter(&c, &b, &form("张三", "标题", "内容")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("有多位委员同名") && page.body.contains("PD001") && page.body.contains("PD009"),
        "{}",
        page.body
    );
    assert_eq!(c.db.count("SELECT COUNT(*) FROM suggestions").await, 0, "nothing filed");

    // A department account may not act for members.
    let d = c.login("dept").await;
    assert_eq!(c.get("/suggestions/new", Some(&d)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(enter(&c, &d, &form("PD001", "标题", "内容")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(c.db.count("SELECT COUNT(*) FROM suggestions").await, 0);
}

/// A suggestion by PD001 (on Telegram) answered by 区教育局: its id.
async fn replied(c: &Console) -> i64 {
    c.api_bind_member("PD001", MEMBER_CHAT).await;
    let (id, _) = c.api_assigned("关于学区划分", false).await;
    let reply = Command::Reply {
        class: "A".into(),
        text: "已纳入明年计划。".into(),
        document: None,
        letter: Default::default(),
    };
    c.api_run_as("dept", id, reply).await;
    assert_eq!(c.inbox_state(id).await, SuggestionState::Replied);
    id
}

#[tokio::test]
async fn staff_record_a_rating_given_by_phone_and_the_member_is_told() {
    let c = Console::start().await;
    let id = replied(&c).await;
    let b = c.login("staff").await;
    let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert!(page.body.contains("id=\"act-record_rating\""), "offered to staff once replied");
    let d = c.login("dept").await;
    let page = c.get(&format!("/suggestions/{id}"), Some(&d)).await;
    assert!(!page.body.contains("act-record_rating"), "not to the department");

    let path = format!("/suggestions/{id}/act/record_rating");
    let fields = [("reply_no", "1"), ("rating", "satisfied"), ("channel", "phone"), ("reason", "")];
    let asked = c.post(&path, Some(&b), &fields).await;
    assert!(asked.body.contains("请确认") && asked.body.contains("电话"), "{}", asked.body);
    assert_eq!(c.inbox_state(id).await, SuggestionState::Replied, "asking changes nothing");
    let done = c.post_confirmed(&path, Some(&b), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(c.inbox_state(id).await, SuggestionState::Closed);

    let rating = c
        .db
        .rows("SELECT g.rating, g.entered_via, u.username FROM ratings g JOIN users u ON u.id = g.entered_by WHERE g.suggestion_id = $1", &[id.into()])
        .await;
    assert_eq!(rating.len(), 1);
    assert_eq!(
        (rating[0][0].text(), rating[0][1].text(), rating[0][2].text()),
        ("satisfied".into(), "phone".into(), "staff".into())
    );
    let last = c.inbox_outbox(MEMBER_CHAT).await.pop().unwrap();
    let last = text_of(&last);
    assert!(last.contains("代为记录您的评价（满意）") && last.contains("电话"), "{last}");
    let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert!(page.body.contains("（工作人员代为评价，方式：电话）"), "on the timeline: {}", page.body);
    let csv = c.get("/suggestions/export.csv", Some(&b)).await;
    assert!(csv.body.contains("满意（工作人员代为评价，电话）"), "{}", csv.body);
    assert!(c.inbox_audit_actions().await.iter().any(|a| a.starts_with("suggestion.record_rating PD-")));

    // Closed now: no second rating is recorded.
    let again = c.post(&path, Some(&b), &fields).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);
    assert_eq!(c.db.count_with("SELECT COUNT(*) FROM ratings WHERE suggestion_id = $1", &[id.into()]).await, 1);
}

#[tokio::test]
async fn a_dissatisfied_rating_recorded_on_paper_reopens_it() {
    let c = Console::start().await;
    let id = replied(&c).await;
    let b = c.login("staff").await;
    let path = format!("/suggestions/{id}/act/record_rating");
    let fields = [("reply_no", "1"), ("rating", "dissatisfied"), ("channel", "paper"), ("reason", "没有具体时间表")];
    let done = c.post_confirmed(&path, Some(&b), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(c.inbox_state(id).await, SuggestionState::Reopened);
    let last = text_of(&c.inbox_outbox(MEMBER_CHAT).await.pop().unwrap());
    assert!(last.contains("书面") && last.contains("重新办理"), "{last}");
    let event =
        c.db.rows("SELECT text FROM timeline_events WHERE suggestion_id = $1 AND event = 'reopened'", &[id.into()])
            .await;
    assert!(
        event[0][0].text().contains("没有具体时间表") && event[0][0].text().contains("代为评价"),
        "{:?}",
        event[0][0].text()
    );

    // A form filled in for an older reply is refused once a newer one exists.
    let reply =
        Command::Reply {
            class: "B".into(), text: "已制定时间表。".into(), document: None, letter: Default::default()
        };
    c.api_run_as("dept", id, reply).await;
    let stale = [("reply_no", "1"), ("rating", "satisfied"), ("channel", "phone"), ("reason", "")];
    let page = c.post_confirmed(&path, Some(&b), &stale).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert_eq!(c.inbox_state(id).await, SuggestionState::Replied);
}

/// A `multipart/form-data` 代为提交 as the page's form sends it: the text fields (with the
/// browser's CSRF token) and each file as a part `attachments`.
async fn enter_with_files(
    c: &Console,
    b: &Browser,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> support::console::Page {
    let boundary = "jianyan-entry-boundary-3f9a";
    let mut body = Vec::new();
    let mut texts: Vec<(&str, &str)> = fields.to_vec();
    texts.push(("_csrf", b.csrf.as_str()));
    for (name, value) in texts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    for (file_name, content_type, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let request = axum::http::Request::post("/suggestions/new")
        .header(axum::http::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .header(axum::http::header::COOKIE, &b.cookie)
        .body(axum::body::Body::from(body))
        .unwrap();
    c.request(request).await
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[tokio::test]
async fn staff_enter_a_suggestion_with_attachments_listed_and_downloadable() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let form_page = c.get("/suggestions/new", Some(&b)).await;
    assert!(form_page.body.contains("enctype=\"multipart/form-data\""), "{}", form_page.body);
    assert!(form_page.body.contains("type=\"file\"") && form_page.body.contains("name=\"attachments\""));

    let fields = form("PD001", "关于社区养老的建议", "增设日间照料中心");
    let files: [(&str, &str, &[u8]); 2] =
        [("现场照片.png", "image/png", PNG), ("调研报告.pdf", "application/pdf", PDF)];
    let id = entered_id(&enter_with_files(&c, &b, &fields, &files).await);

    let kept =
        c.db.rows(
            "SELECT kind, file_name, mime_type, file_unique_id FROM attachments WHERE suggestion_id = $1 ORDER BY id",
            &[id.into()],
        )
        .await;
    assert_eq!(kept.len(), 2, "both files are the suggestion's attachments");
    assert_eq!(kept[0][0].text(), "stored");
    assert_eq!((kept[0][1].text(), kept[0][2].text()), ("现场照片.png".to_string(), "image/png".to_string()));
    assert_eq!((kept[1][1].text(), kept[1][2].text()), ("调研报告.pdf".to_string(), "application/pdf".to_string()));
    let png_sha = kept[0][3].text();
    assert_eq!(png_sha.len(), 64, "named by SHA-256: {png_sha}");

    let shown = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert!(shown.body.contains("现场照片.png") && shown.body.contains("调研报告.pdf"), "{}", shown.body);
    assert!(shown.body.contains("已上传文件"), "{}", shown.body);
    let link = format!("/suggestions/{id}/files/{png_sha}");
    assert!(shown.body.contains(&format!("href=\"{link}\"")), "a download link: {}", shown.body);

    let download = c.get(&link, Some(&b)).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.bytes, PNG, "the bytes as uploaded");
    assert_eq!(download.headers[axum::http::header::CONTENT_TYPE], "image/png");
    let disposition = download.headers[axum::http::header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''"), "{disposition}");
    let pdf_link = format!("/suggestions/{id}/files/{}", kept[1][3].text());
    let pdf = c.get(&pdf_link, Some(&b)).await;
    assert_eq!((pdf.status, pdf.bytes.as_slice()), (StatusCode::OK, PDF));

    // Who may not view the suggestion (a department it is not assigned to, nobody logged in) gets
    // nothing; neither does a file of another suggestion or an unknown one.
    let dept = c.login("dept").await;
    assert_eq!(c.get(&link, Some(&dept)).await.status, StatusCode::NOT_FOUND);
    assert_ne!(c.get(&link, None).await.status, StatusCode::OK);
    let other = entered_id(&enter(&c, &b, &form("PD001", "另一条建议", "另一条内容")).await);
    assert_eq!(c.get(&format!("/suggestions/{other}/files/{png_sha}"), Some(&b)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        c.get(&format!("/suggestions/{id}/files/{}", "0".repeat(64)), Some(&b)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn refused_attachments_keep_the_form_and_file_nothing() {
    let c = Console::start_with(&[("JIANYAN_WEB__API_MAX_UPLOAD_MB", "1")]).await;
    let b = c.login("staff").await;
    let before = c.db.count_with("SELECT COUNT(*) FROM suggestions", &[]).await;
    let fields = form("PD001", "关于公交线路的建议", "增开夜班公交");

    // A program renamed to .pdf, and a text file: refused by content and by name.
    let files: [(&str, &str, &[u8]); 2] =
        [("报告.pdf", "application/pdf", b"MZ\x90\x00"), ("说明.txt", "text/plain", b"hello")];
    let page = enter_with_files(&c, &b, &fields, &files).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(
        page.body.contains("附件「报告.pdf」不能上传") && page.body.contains("附件「说明.txt」不能上传"),
        "{}",
        page.body
    );
    assert!(page.body.contains("附件需要重新选择"), "{}", page.body);
    assert!(
        page.body.contains("value=\"关于公交线路的建议\"") && page.body.contains("增开夜班公交"),
        "form kept: {}",
        page.body
    );

    // Over `web.api_max_upload_mb`.
    let mut big = PNG.to_vec();
    big.resize(1024 * 1024 + 1, 0);
    let page = enter_with_files(&c, &b, &fields, &[("大图.png", "image/png", &big)]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(page.body.contains("附件「大图.png」超过1 MB"), "{}", page.body);
    assert!(page.body.contains("value=\"关于公交线路的建议\""), "form kept");

    // More files than `limits.max_attachments`.
    let max = c.app.config.limits.max_attachments;
    let many: Vec<(&str, &str, &[u8])> = (0..=max).map(|_| ("图.png", "image/png", PNG)).collect();
    let page = enter_with_files(&c, &b, &fields, &many).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(page.body.contains(&format!("附件最多{max}个")), "{}", page.body);

    assert_eq!(c.db.count_with("SELECT COUNT(*) FROM suggestions", &[]).await, before, "nothing filed");
    assert_eq!(c.db.count_with("SELECT COUNT(*) FROM stored_files", &[]).await, 0, "nothing kept");
}

#[tokio::test]
async fn cosigners_invited_from_the_console_get_the_invitation() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    const COSIGNER_CHAT: i64 = 7002;
    c.api_bind_member("PD002", COSIGNER_CHAT).await;
    let form_page = c.get("/suggestions/new", Some(&b)).await;
    assert!(form_page.body.contains("name=\"cosigners\"") && form_page.body.contains("邀请联名"), "{}", form_page.body);

    // The lead themselves and someone not on the roster: refused, the form kept.
    let mut fields = form("PD001", "关于口袋公园的建议", "利用边角地建设口袋公园");
    fields.push(("cosigners", "张三、王五"));
    let page = enter(&c, &b, &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    assert!(page.body.contains("张三是领衔委员"), "{}", page.body);
    assert!(page.body.contains("联名委员「王五」在委员名单中找不到"), "{}", page.body);
    assert!(page.body.contains("value=\"张三、王五\""), "the field is kept: {}", page.body);

    // A member number (full-width, repeated as a name): invited once.
    fields.pop();
    fields.push(("cosigners", "ＰＤ００２，李四"));
    let id = entered_id(&enter(&c, &b, &fields).await);
    let invited = c
        .db
        .rows("SELECT m.member_no, c.status FROM cosigners c JOIN members m ON m.id = c.member_id WHERE c.suggestion_id = $1", &[id.into()])
        .await;
    assert_eq!(invited.len(), 1, "one invitation");
    assert_eq!((invited[0][0].text(), invited[0][1].text()), ("PD002".to_string(), "invited".to_string()));
    let pushes = c.inbox_outbox(COSIGNER_CHAT).await;
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    let Action::Send { text, keyboard, .. } = Action::decode(&pushes[0]).unwrap() else { panic!("{pushes:?}") };
    assert!(
        text.contains("联名邀请") && text.contains("张三委员邀请您联名") && text.contains("关于口袋公园的建议"),
        "{text}"
    );
    assert!(format!("{keyboard:?}").contains("同意联名"), "{keyboard:?}");
    let shown = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert!(shown.body.contains("邀请联名：李四"), "the timeline says who was invited: {}", shown.body);
}

#[tokio::test]
async fn staff_record_a_co_signers_rating_given_on_paper() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    const COSIGNER_CHAT: i64 = 7002;
    c.api_bind_member("PD001", MEMBER_CHAT).await;
    c.api_bind_member("PD002", COSIGNER_CHAT).await;
    let mut fields = form("PD001", "关于背街小巷改造的建议", "统一规划背街小巷改造");
    fields.push(("cosigners", "李四"));
    let id = entered_id(&enter(&c, &b, &fields).await);
    // 李四 accepts in Telegram; staff accept and assign; the department answers.
    let li = c.store.member_by_no(&jianyan::domain::MemberNo::parse("PD002").unwrap()).await.unwrap().unwrap();
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    let ctx = jianyan::context::Ctx { store: c.app.store.as_ref(), texts: &c.app.texts, config: &c.app.config, now };
    let actor = jianyan::workflow::Actor::Member(&li);
    let accept = jianyan::workflow::plan(&ctx, &actor, id, Command::Cosign { accept: true }).await.unwrap().unwrap();
    c.store.apply_change(accept, now).await.unwrap();
    c.api_run_as("staff", id, Command::Accept).await;
    c.api_run_as("staff", id, Command::Assign { lead: c.department_id, co: Vec::new(), deadline: None }).await;
    let reply = Command::Reply {
        class: "A".into(),
        text: "已列入改造计划。".into(),
        document: None,
        letter: Default::default(),
    };
    c.api_run_as("dept", id, reply).await;

    let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert!(page.body.contains("name=\"whose\"") && page.body.contains("联名委员李四"), "{}", page.body);
    let whose = li.id.to_string();
    let path = format!("/suggestions/{id}/act/record_rating");
    let fields = [
        ("reply_no", "1"),
        ("whose", whose.as_str()),
        ("rating", "basically_satisfied"),
        ("channel", "paper"),
        ("reason", ""),
    ];
    let done = c.post_confirmed(&path, Some(&b), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(c.inbox_state(id).await, SuggestionState::Replied, "a co-signer's rating decides nothing");
    let rows = c.db.rows("SELECT member_id, rating FROM cosigner_ratings WHERE suggestion_id = $1", &[id.into()]).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0][0].int(), rows[0][1].text()), (li.id, "basically_satisfied".to_string()));
    let told = text_of(&c.inbox_outbox(COSIGNER_CHAT).await.pop().unwrap());
    assert!(told.contains("记录您对联名建言") && told.contains("基本满意") && told.contains("书面"), "{told}");
    let lead_told = text_of(&c.inbox_outbox(MEMBER_CHAT).await.pop().unwrap());
    assert!(lead_told.contains("李四") && lead_told.contains("基本满意"), "{lead_told}");
    let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert!(page.body.contains("李四：基本满意（工作人员代为评价，方式：书面）"), "on the timeline: {}", page.body);

    // Once per reply, as the co-signer's own; the lead's rating is still the lead's to give.
    let again = c.post(&path, Some(&b), &fields).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);
    let lead = [("reply_no", "1"), ("whose", "lead"), ("rating", "satisfied"), ("channel", "phone"), ("reason", "")];
    assert_eq!(c.post_confirmed(&path, Some(&b), &lead).await.status, StatusCode::SEE_OTHER);
    assert_eq!(c.inbox_state(id).await, SuggestionState::Closed);
}
