//! End to end in Telegram: a liaison adds the 答复函 fields from the reply's preview, and a document
//! a department's system attaches through the API reaches the member as an uploaded file.

mod support;

use std::time::{Duration, Instant};

use axum::http::{StatusCode, header};
use jianyan::store::{NewUser, Role};
use jianyan::workflow::{Actor, Command, plan};
use support::fake_telegram::{SentMessage, TgUser};
use support::harness::{NowUtc, TestBot, joined, last};
use tower::ServiceExt;

/// Accepts and assigns a suggestion to `lead` as the console's staff account would.
async fn accept_and_assign(bot: &TestBot, reference: &str, lead: i64) -> i64 {
    let id = bot.store.suggestion_id_by_reference(reference).await.unwrap().expect("submitted");
    let now = bot.clock.now_utc();
    if bot.store.user_for_login("staff").await.unwrap().is_none() {
        let staff = NewUser {
            username: "staff".into(),
            name: "王工作人员".into(),
            role: Role::Staff,
            department_id: None,
            password_hash: "x".into(),
        };
        bot.store.add_user(staff, now).await.unwrap().unwrap();
    }
    let (user, _) = bot.store.user_for_login("staff").await.unwrap().unwrap();
    for command in [Command::Accept, Command::Assign { lead, co: vec![], deadline: None }] {
        let ctx = jianyan::context::Ctx {
            store: bot.app.store.as_ref(),
            texts: &bot.app.texts,
            config: &bot.app.config,
            now,
        };
        let change = plan(&ctx, &Actor::User(&user), id, command).await.unwrap().unwrap();
        bot.store.apply_change(change, now).await.unwrap();
    }
    id
}

/// Waits until `chat` has a message for which `wanted` holds.
async fn wait_for(bot: &TestBot, chat: i64, wanted: impl Fn(&SentMessage) -> bool) -> SentMessage {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(m) = bot.fake.sent_to(chat).into_iter().find(|m| wanted(m)) {
            return m;
        }
        assert!(Instant::now() < deadline, "not delivered: {}", joined(&bot.fake.sent_to(chat)));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_liaison_adds_the_letter_fields_in_telegram_and_an_api_document_reaches_the_member() {
    let bot = TestBot::start().await;
    let member = TgUser::new(90001, "三");
    let lead = TgUser::new(70001, "陈");
    bot.register(&member, "PD001").await;
    let (_, department) = bot.register_liaison(&lead, "区教育局", "陈联络员").await;
    bot.submit(&member, "建言资政", "学校周边交通安全", &["在学校门口设置限速标志"]).await;
    bot.submit(&member, "建言资政", "老旧小区加装电梯", &["简化审批流程"]).await;
    let first = accept_and_assign(&bot, "PD-2025-0001", department).await;
    let second = accept_and_assign(&bot, "PD-2025-0002", department).await;

    // The short path stays short; the letter is one optional step from the preview.
    let news = wait_for(&bot, lead.chat_id(), |m| m.text.contains("PD-2025-0001") && m.button("答复").is_some()).await;
    let classes = bot.tap(&lead, &news, "答复").await;
    let ask_text = bot.tap(&lead, last(&classes), "A 已解决").await;
    let ask_document = bot.say(&lead, "已在学校门口设置限速标志。").await;
    let assert_buttons = |m: &SentMessage, want: &[&str]| {
        for b in want {
            assert!(m.button_texts().iter().any(|t| t.contains(b)), "«{b}» on: {} {:?}", m.text, m.button_texts());
        }
    };
    assert!(!last(&ask_text).text.is_empty());
    let preview = bot.tap(&lead, last(&ask_document), "不附文件").await;
    assert_buttons(last(&preview), &["发送答复", "填写答复函信息", "重写"]);
    let ask_letter = bot.tap(&lead, last(&preview), "填写答复函信息").await;
    assert!(last(&ask_letter).text.contains("文号：浦教函〔2025〕12号"), "an example: {}", last(&ask_letter).text);
    assert_buttons(last(&ask_letter), &["返回预览"]);

    let refused = bot.say(&lead, "文号：浦教函〔2025〕12号\n电话：请打办公室").await;
    assert!(refused[0].text.contains("电话只能包含数字"), "{}", joined(&refused));
    assert!(last(&refused).text.contains("填写答复函信息"), "asked again: {}", last(&refused).text);
    let filled = bot.say(&lead, "文号：浦教函〔2025〕12号\n联系人：王老师\n电话：021-50123456").await;
    let pv = &last(&filled).text;
    for part in ["文号：浦教函〔2025〕12号", "联系人：王老师", "电话：021-50123456", "已在学校门口设置限速标志"]
    {
        assert!(pv.contains(part), "the preview lacks {part}: {pv}");
    }
    let sent = bot.tap(&lead, last(&filled), "发送答复").await;
    assert!(joined(&sent).contains("PD-2025-0001"), "{}", joined(&sent));
    let letter = bot.store.replies_of(first).await.unwrap()[0].letter.clone();
    assert_eq!(letter.number.as_deref(), Some("浦教函〔2025〕12号"));
    assert_eq!(letter.contact.as_deref(), Some("王老师"));
    assert_eq!(letter.phone.as_deref(), Some("021-50123456"));
    assert_eq!(letter.title, None);

    // A department's system replies to the second with a PDF through the API.
    let now = bot.clock.now_utc();
    let token = jianyan::web::api::tokens::new_token();
    let hash = jianyan::web::auth::token_hash(&token);
    bot.store.create_api_token(department, "教育局系统", &hash, None, now).await.unwrap();
    let mut pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    pdf.extend(std::iter::repeat_n(b'x', 10_000));
    let boundary = "b0undary";
    let mut body = Vec::new();
    for (name, value) in [("class", "B"), ("text", "已列入明年计划，详见答复函。")] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"答复函.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(&pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = axum::http::Request::post("/api/v1/suggestions/PD-2025-0002/reply")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    let router = jianyan::web::router(jianyan::web::WebState::new(bot.app.clone(), true));
    let answer = router.oneshot(request).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(bot.store.replies_of(second).await.unwrap().len(), 1);

    let reply = wait_for(&bot, member.chat_id(), |m| m.text.contains("已列入明年计划")).await;
    assert!(reply.text.contains("附答复文件"), "{}", reply.text);
    let file =
        wait_for(&bot, member.chat_id(), |m| m.method == "senddocument" && m.text.contains("PD-2025-0002")).await;
    let document = &file.raw["document"];
    assert_eq!(document["upload"], true, "uploaded with its bytes, not re-sent by a file id: {}", file.raw);
    assert_eq!(document["file_name"], "答复函.pdf");
    assert_eq!(document["bytes"], pdf.len());
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&pdf))
    };
    assert_eq!(document["sha256"], sha.as_str(), "the very bytes the department sent");
}
