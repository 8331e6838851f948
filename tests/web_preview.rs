//! The member-dialog preview (`/preview`) through the real router: staff chat as a test member with
//! the same dialog engine, and nothing meant for the member reaches the outbox to be sent.

mod support;

use axum::http::StatusCode;
use jianyan::store::console::{PREVIEW_CHAT_BASE, is_preview_chat};
use jianyan::store::{Commit, OutMessage};
use jianyan::workflow::Command;
use support::console::{Browser, Console, Page};

/// The inline buttons on a preview page: (label, message id, data).
fn buttons(page: &Page) -> Vec<(String, String, String)> {
    page.body
        .split("<form")
        .filter(|f| f.contains("/button\""))
        .filter_map(|f| {
            let value = |name: &str| {
                let at = f.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
                Some(f[at..].split('"').next()?.to_string())
            };
            let label = f.split("<button").nth(1)?.split('>').nth(1)?.split("</button").next()?.to_string();
            Some((label, value("message_id")?, value("data")?))
        })
        .collect()
}

async fn member_id(c: &Console, no: &str) -> i64 {
    c.store.member_by_no(&jianyan::domain::MemberNo::parse(no).unwrap()).await.unwrap().unwrap().id
}

/// The test member the preview plays for this browser's account (created when the page is opened).
async fn test_member(c: &Console, b: &Browser) -> i64 {
    assert_eq!(c.get("/preview", Some(b)).await.status, StatusCode::OK);
    let re = regex::Regex::new(r#"action="/preview/(\d+)/send""#).unwrap();
    let page = c.get("/preview", Some(b)).await;
    re.captures(&page.body).expect("the chat with the test member")[1].parse().unwrap()
}

async fn say(c: &Console, b: &Browser, member: i64, text: &str) -> Page {
    let sent = c.post(&format!("/preview/{member}/send"), Some(b), &[("text", text)]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    c.get(&format!("/preview?member={member}"), Some(b)).await
}

async fn tap(c: &Console, b: &Browser, member: i64, page: &Page, label: &str) -> Page {
    let all = buttons(page);
    let (_, message_id, data) = all
        .iter()
        .rev()
        .find(|(l, _, _)| l.contains(label))
        .unwrap_or_else(|| panic!("no button «{label}» in {all:?}"))
        .clone();
    let sent =
        c.post(&format!("/preview/{member}/button"), Some(b), &[("message_id", &message_id), ("data", &data)]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    c.get(&format!("/preview?member={member}"), Some(b)).await
}

fn t(c: &Console, key: &str) -> String {
    c.app.texts.t(jianyan::locale::Lang::Zh, key, &[])
}

#[tokio::test]
async fn staff_submit_a_real_suggestion_as_a_test_member_and_nothing_waits_to_be_sent() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let page = c.get("/preview", Some(&b)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("张三") && !page.body.contains("李四"), "no real member is offered: {}", page.body);
    let id = test_member(&c, &b).await;
    let page = c.get(&format!("/preview?member={id}"), Some(&b)).await;
    assert!(page.body.contains("这里是沙盒") && page.body.contains("测试委员（王工作人员）"), "{}", page.body);
    assert!(page.body.contains(&t(&c, "menu.new")), "the member's menu keys are there");

    let page = say(&c, &b, id, &t(&c, "menu.new")).await;
    assert!(page.body.contains(&t(&c, "dialog.ask_topic")), "{}", page.body);
    let page = tap(&c, &b, id, &page, "十五五").await;
    let page = tap(&c, &b, id, &page, &t(&c, "kind.advice")).await;
    assert!(page.body.contains("第3步（共4步）"), "{}", page.body);
    let page = say(&c, &b, id, "加快推进老旧小区加装电梯").await;
    assert!(page.body.contains("第4步（共4步）"), "{}", page.body);
    let page = say(&c, &b, id, "简化审批流程").await;
    let page = tap(&c, &b, id, &page, &t(&c, "dialog.done_button")).await;
    let page = tap(&c, &b, id, &page, &t(&c, "preview.submit")).await;
    assert!(page.body.contains("PD-2025-0001"), "the receipt shows the reference: {}", page.body);

    let row = c.db.rows("SELECT member_id, title FROM suggestions", &[]).await;
    assert_eq!(row.len(), 1, "{row:?}");
    let (member, title) = (row[0][0].int(), row[0][1].text());
    assert_eq!((member, title.as_str()), (id, "加快推进老旧小区加装电梯"), "a suggestion of the test member");
    let sql = "SELECT COUNT(*) FROM outbox WHERE chat_id <= $1 AND status = 'pending'";
    let pending = c.db.count_with(sql, &[(-PREVIEW_CHAT_BASE).into()]).await;
    assert_eq!(pending, 0, "nothing for the preview chat waits to be sent to Telegram");
    let log = c.store.audit_log(50).await.unwrap();
    assert!(log.iter().any(|e| e.action == "preview_submit" && e.detail.contains("PD-2025-0001")), "{log:?}");

    // The dialog state is kept for the preview chat, and reset clears the conversation.
    let chats = c.db.ints("SELECT chat_id FROM dialogs", &[]).await;
    assert!(chats.iter().all(|id| is_preview_chat(*id)), "{chats:?}");
    let reset = c.post(&format!("/preview/{id}/reset"), Some(&b), &[]).await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    let page = c.get(&format!("/preview?member={id}"), Some(&b)).await;
    assert!(page.body.contains(&t(&c, "web.preview.empty")));
    assert!(!page.body.contains("PD-2025-0001"));
}

#[tokio::test]
async fn the_preview_is_for_staff_and_admins_with_a_valid_form() {
    let c = Console::start().await;
    let id = member_id(&c, "PD001").await;
    let dept = c.login("dept").await;
    assert_eq!(c.get("/preview", Some(&dept)).await.status, StatusCode::FORBIDDEN);
    let posted = c.post(&format!("/preview/{id}/send"), Some(&dept), &[("text", "/new")]).await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    let admin = c.login("admin").await;
    assert_eq!(c.get("/preview", Some(&admin)).await.status, StatusCode::OK);
    let real = id;
    let id = test_member(&c, &admin).await;
    let count = c.db.count("SELECT COUNT(*) FROM dialogs").await;
    assert_eq!(count, 0);
    let as_real = c.post(&format!("/preview/{real}/send"), Some(&admin), &[("text", "/new")]).await;
    assert_eq!(as_real.status, StatusCode::NOT_FOUND, "a real member cannot be played");
    let forged = c.post(&format!("/preview/{id}/send"), Some(&admin), &[("_csrf", "forged"), ("text", "/new")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let count = c.db.count("SELECT COUNT(*) FROM dialogs").await;
    assert_eq!(count, 0, "refused posts change nothing");
    // Empty text is refused politely; a long one keeps what was typed.
    let empty = c.post(&format!("/preview/{id}/send"), Some(&admin), &[("text", "  ")]).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains(&t(&c, "web.preview.text_empty")));
    let long = "长".repeat(5000);
    let too_long = c.post(&format!("/preview/{id}/send"), Some(&admin), &[("text", &long)]).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
    assert!(too_long.body.contains("最多4096个字") && too_long.body.contains(&long));
    assert_eq!(c.get("/preview?member=999", Some(&admin)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.get("/preview?member=abc", Some(&admin)).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn hostile_text_in_the_preview_is_shown_as_text() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let id = test_member(&c, &b).await;
    let page = say(&c, &b, id, "<script>alert('x')</script>").await;
    assert!(page.body.contains("&lt;script&gt;alert('x')&lt;/script&gt;"), "{}", page.body);
    assert!(!page.body.contains("<script>alert"));
}

#[tokio::test]
async fn preview_chats_are_never_left_pending_in_the_outbox() {
    let c = Console::start().await;
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    let preview = jianyan::web::preview::preview_chat_id(1, 1).unwrap();
    assert!(is_preview_chat(preview) && !is_preview_chat(-1_001_234_567_890) && !is_preview_chat(42));
    assert_ne!(preview, jianyan::web::preview::preview_chat_id(2, 1).unwrap(), "each user has their own chat");
    let commit = Commit {
        update_id: None,
        chat_id: preview,
        dialog: None,
        messages: vec![OutMessage::reply(preview, "{}".into()), OutMessage::reply(42, "{}".into())],
        submission: None,
        change: None,
        now,
    };
    c.store.commit(commit).await.unwrap();
    assert_eq!(c.store.discard_preview_outbox(42, now).await.unwrap(), 0, "a real chat is never touched");
    assert_eq!(c.store.discard_preview_outbox(preview, now).await.unwrap(), 1);
    let rows: Vec<(i64, String)> =
        c.db.rows("SELECT chat_id, status FROM outbox ORDER BY id", &[])
            .await
            .iter()
            .map(|r| (r[0].int(), r[1].text()))
            .collect();
    assert_eq!(rows, vec![(preview, "cancelled".to_string()), (42, "pending".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_click_on_submit_files_the_suggestion_once() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let id = test_member(&c, &b).await;
    let page = say(&c, &b, id, "/new").await;
    let page = tap(&c, &b, id, &page, "十五五").await;
    tap(&c, &b, id, &page, &t(&c, "kind.advice")).await;
    say(&c, &b, id, "增设社区养老服务站").await;
    let page = say(&c, &b, id, "每个街道至少一处").await;
    let page = tap(&c, &b, id, &page, &t(&c, "dialog.done_button")).await;
    let (_, message_id, data) =
        buttons(&page).into_iter().find(|(l, _, _)| l.contains(&t(&c, "preview.submit"))).expect("a submit button");
    let path = format!("/preview/{id}/button");
    let fields = [("message_id", message_id.as_str()), ("data", data.as_str())];
    let (one, two) = tokio::join!(c.post(&path, Some(&b), &fields), c.post(&path, Some(&b), &fields));
    assert_eq!((one.status, two.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    let filed = c.db.count("SELECT COUNT(*) FROM suggestions").await;
    assert_eq!(filed, 1, "the second click finds the dialog moved on, as in Telegram");
    let page = c.get(&format!("/preview?member={id}"), Some(&b)).await;
    assert!(page.body.contains(&t(&c, "button.stale")), "the second click is answered politely");
}

#[tokio::test]
async fn buttons_the_bot_removes_disappear_and_an_earlier_done_button_still_works() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let id = test_member(&c, &b).await;
    let page = say(&c, &b, id, "/new").await;
    let page = tap(&c, &b, id, &page, "十五五").await;
    tap(&c, &b, id, &page, &t(&c, "kind.advice")).await;
    say(&c, &b, id, "加快推进老旧小区加装电梯").await;
    say(&c, &b, id, "简化审批流程").await;
    let page = say(&c, &b, id, "设立专项补贴").await;
    let done = t(&c, "dialog.done_button");
    let dones: Vec<_> = buttons(&page).into_iter().filter(|(l, _, _)| l.contains(&done)).collect();
    assert_eq!(dones.len(), 2, "each point acknowledged carries 完成: {dones:?}");

    // The first 完成, pressed after a later point, shows the preview like the last one would.
    let (_, first_id, first_data) = dones[0].clone();
    let sent =
        c.post(&format!("/preview/{id}/button"), Some(&b), &[("message_id", &first_id), ("data", &first_data)]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let page = c.get(&format!("/preview?member={id}"), Some(&b)).await;
    assert!(!page.body.contains(&t(&c, "button.stale")), "{}", page.body);
    assert!(page.body.contains("1. 简化审批流程") && page.body.contains("2. 设立专项补贴"), "{}", page.body);
    let left = buttons(&page);
    assert!(!left.iter().any(|(_, m, _)| *m == first_id), "the pressed keyboard is gone: {left:?}");

    // Submitting removes the preview's buttons, as the bot does in Telegram.
    let page = tap(&c, &b, id, &page, &t(&c, "preview.submit")).await;
    assert!(page.body.contains("PD-2025-0001"), "{}", page.body);
    let left = buttons(&page);
    assert!(!left.iter().any(|(l, _, _)| l.contains(&t(&c, "preview.submit"))), "{left:?}");
    // The other 完成 is of a draft that is gone: pressing it is answered as stale.
    let (_, second_id, second_data) = dones[1].clone();
    c.post(&format!("/preview/{id}/button"), Some(&b), &[("message_id", &second_id), ("data", &second_data)]).await;
    let page = c.get(&format!("/preview?member={id}"), Some(&b)).await;
    assert!(page.body.contains(&t(&c, "button.stale")), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_cannot_change_a_real_members_suggestion_and_its_own_are_left_out_of_counts() {
    let c = Console::start().await;
    c.inbox_bind("PD001", 7001).await;
    let (sid, reference) = c.inbox_assigned("真实委员的建言", false).await;
    c.inbox_run_as(
        "dept",
        sid,
        Command::Reply { class: "A".into(), text: "已解决".into(), document: None, letter: Default::default() },
    )
    .await;
    let events_before = c.db.count("SELECT COUNT(*) FROM timeline_events").await;
    let b = c.login("staff").await;
    let real = member_id(&c, "PD001").await;
    let satisfied = format!("rt:{sid}:1:s");
    // Playing the real member is refused outright …
    for path in [format!("/preview/{real}/button"), format!("/preview/{real}/send")] {
        let fields = [("message_id", "1"), ("data", satisfied.as_str()), ("text", "/my")];
        assert_eq!(c.post(&path, Some(&b), &fields).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(c.get(&format!("/preview?member={real}"), Some(&b)).await.status, StatusCode::NOT_FOUND);
    // … and the test member's forged 满意 on the real suggestion is refused by the workflow.
    let id = test_member(&c, &b).await;
    let fields = [("message_id", "1"), ("data", satisfied.as_str())];
    let pressed = c.post(&format!("/preview/{id}/button"), Some(&b), &fields).await;
    assert_eq!(pressed.status, StatusCode::SEE_OTHER, "answered on the page: {}", pressed.body);
    let page = say(&c, &b, id, "/my").await;
    assert!(!page.body.contains(&reference), "a real member's suggestions are not listed");
    assert_eq!(c.inbox_state(sid).await, jianyan::domain::SuggestionState::Replied, "not closed");
    let events_after = c.db.count("SELECT COUNT(*) FROM timeline_events").await;
    assert_eq!(events_after, events_before, "nothing happened to any suggestion");
    let ratings = c.db.count("SELECT COUNT(*) FROM ratings").await;
    assert_eq!(ratings, 0);

    // A test suggestion: not in statistics, exports or the member list.
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    let before = c.store.totals(now).await.unwrap();
    let page = say(&c, &b, id, "/new").await;
    let page = tap(&c, &b, id, &page, "十五五").await;
    tap(&c, &b, id, &page, &t(&c, "kind.advice")).await;
    say(&c, &b, id, "测试用的建言").await;
    let page = say(&c, &b, id, "第一条").await;
    let page = tap(&c, &b, id, &page, &t(&c, "dialog.done_button")).await;
    let page = tap(&c, &b, id, &page, &t(&c, "preview.submit")).await;
    assert!(page.body.contains("PD-2025-0002"), "{}", page.body);
    assert_eq!(c.store.totals(now).await.unwrap(), before, "statistics leave test suggestions out");
    let csv = c.get("/suggestions/export.csv", Some(&b)).await;
    assert!(csv.body.contains(&reference) && !csv.body.contains("PD-2025-0002"), "{}", csv.body);
    let members = c.store.members().await.unwrap();
    assert!(members.iter().all(|m| m.id != id) && members.len() == 2, "{members:?}");
    let dashboard = c.get("/", Some(&b)).await;
    assert!(!dashboard.body.contains("测试用的建言"));
}
