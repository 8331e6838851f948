//! End to end: the real bot runtime, a fresh database and a fake Telegram server; we assert what a
//! member would see.

mod support;

use support::fake_telegram::TgUser;
use support::harness::{TestBot, joined, last};

fn zhang() -> TgUser {
    TgUser::new(90001, "三")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_registers_submits_and_follows_the_suggestion() {
    let mut bot = TestBot::start().await;
    let user = zhang();

    // A stranger is told how to register.
    let replies = bot.say(&user, "你好").await;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].text, bot.t("register.not_registered"));

    // The deep link binds the account and greets the member by name, with the menu.
    let greeting = bot.register(&user, "PD001").await;
    assert!(greeting.text.contains("张三委员"), "{}", greeting.text);
    assert_eq!(greeting.reply_keyboard.concat(), vec!["📝 提交建言", "📂 我的建言", "📢 协商议题", "❓ 帮助"]);

    // 1. The menu key.
    let topics = bot.say(&user, "📝 提交建言").await;
    let buttons = last(&topics).button_texts();
    assert!(buttons[0].starts_with("📌") && buttons[0].contains("十五五"), "{buttons:?}");
    assert!(buttons.contains(&"建设现代化产业体系".to_string()));
    // 2. The pinned topic.
    let kinds = bot.tap(&user, last(&topics), "📌").await;
    assert!(joined(&kinds).contains("十五五"));
    assert_eq!(last(&kinds).button_texts(), vec!["建言资政", "社情民意信息", "议政调研", "视察"]);
    // The keyboard that was answered is removed.
    let edits = bot.fake.calls_of("editMessageReplyMarkup");
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].body["message_id"].as_i64(), Some(last(&topics).message_id));
    // 3. The kind, 4. the title, 5. one point.
    let ask_title = bot.tap(&user, last(&kinds), "建言资政").await;
    assert!(last(&ask_title).text.contains("标题"));
    bot.say(&user, "关于完善15分钟社区生活圈的建议").await;
    let noted = bot.say(&user, "在每个街镇设立一站式便民服务中心。").await;
    assert!(last(&noted).text.contains("第1条"));
    // 6. Done shows the preview.
    let preview = bot.tap(&user, last(&noted), "完成").await;
    let p = &last(&preview).text;
    for part in ["十五五", "建言资政", "关于完善15分钟社区生活圈的建议", "1. 在每个街镇设立一站式便民服务中心。"]
    {
        assert!(p.contains(part), "preview lacks {part}: {p}");
    }
    // 7. Submit.
    let receipt = bot.tap(&user, last(&preview), "提交").await;
    assert!(last(&receipt).text.contains("编号：PD-2025-0001"), "{}", joined(&receipt));
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM suggestions WHERE reference_no = 'PD-2025-0001' AND state = 'submitted'").await,
        1
    );

    // /my lists it, and a tap shows its timeline.
    let my = bot.say(&user, "/my").await;
    assert!(last(&my).text.contains("PD-2025-0001") && last(&my).text.contains("已提交"), "{}", joined(&my));
    let detail = bot.tap(&user, last(&my), "PD-2025-0001").await;
    assert!(last(&detail).text.contains("办理进程") && last(&detail).text.contains("委员提交"), "{}", joined(&detail));

    // The command menu was set in both languages.
    let set = bot.fake.calls_of("setMyCommands");
    assert_eq!(set.len(), 2);
    assert_eq!(set[0].body["commands"][0]["description"], "提交一条建言");
    assert_eq!(set[1].body["language_code"], "en");

    // Every button press was answered, and every update confirmed to Telegram.
    assert_eq!(bot.fake.calls_of("answerCallbackQuery").len(), 5);
    bot.fake.wait_until_confirmed(bot.count("SELECT MAX(update_id) FROM updates").await, support::harness::WAIT).await;

    println!("--- transcript ---\n{}", bot.fake.transcript(user.chat_id()));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_a_dialog_resumes_it() {
    let mut bot = TestBot::start().await;
    let user = zhang();
    bot.register(&user, "PD001").await;
    let topics = bot.say(&user, "/new").await;
    let kinds = bot.tap(&user, last(&topics), "📌").await;
    bot.tap(&user, last(&kinds), "视察").await;

    bot.restart().await;

    bot.say(&user, "重启后的标题").await;
    let noted = bot.say(&user, "重启后的第一条").await;
    let preview = bot.tap(&user, last(&noted), "完成").await;
    assert!(
        last(&preview).text.contains("类别：视察") && last(&preview).text.contains("重启后的标题"),
        "{}",
        joined(&preview)
    );
    let receipt = bot.tap(&user, last(&preview), "提交").await;
    assert!(last(&receipt).text.contains("PD-2025-0001"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_update_has_no_second_effect() {
    let mut bot = TestBot::start().await;
    let user = zhang();
    bot.register(&user, "PD001").await;
    let topics = bot.say(&user, "/new").await;
    let kinds = bot.tap(&user, last(&topics), "📌").await;
    bot.tap(&user, last(&kinds), "建言资政").await;
    bot.say(&user, "标题").await;
    let noted = bot.say(&user, "内容").await;
    let preview = bot.tap(&user, last(&noted), "完成").await;
    let label = last(&preview).button_texts().into_iter().find(|t| t.contains("提交")).unwrap();
    let submit = bot.fake.click(&user, last(&preview), &label);
    bot.settle(submit).await;
    let sent = bot.fake.sent_to(user.chat_id()).len();

    // Telegram delivers the same submit again (e.g. the confirmation was lost).
    bot.fake.push_same_update_again(submit);
    // A later update proves the replay has been received and passed over.
    let after = bot.say(&user, "/help").await;
    assert_eq!(after.len(), 1, "only the help text: {}", joined(&after));
    assert_eq!(bot.fake.sent_to(user.chat_id()).len(), sent + 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NULL").await, 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_and_forged_buttons_are_refused_politely() {
    let mut bot = TestBot::start().await;
    let zhang = zhang();
    let li = TgUser::new(90002, "四");
    bot.register(&zhang, "PD001").await;
    bot.register(&li, "PD002").await;

    // 张三 submits; 李四 forges a button asking for it.
    let topics = bot.say(&zhang, "/new").await;
    let kinds = bot.tap(&zhang, last(&topics), "📌").await;
    bot.tap(&zhang, last(&kinds), "建言资政").await;
    bot.say(&zhang, "张三的标题").await;
    let noted = bot.say(&zhang, "张三的秘密内容").await;
    let preview = bot.tap(&zhang, last(&noted), "完成").await;
    bot.tap(&zhang, last(&preview), "提交").await;
    let id = bot.count("SELECT id FROM suggestions").await;
    let forged = bot.handle(&li, |f| f.push_callback(&li, 1, &format!("s:{id}"))).await;
    assert_eq!(joined(&forged), bot.t("button.not_yours"));
    let answers = bot.fake.calls_of("answerCallbackQuery");
    assert_eq!(answers.last().unwrap().body["text"], bot.t("button.not_yours"));

    // An old keyboard: the topic buttons 张三 already answered.
    let stale = bot.tap(&zhang, last(&topics), "建设现代化产业体系").await;
    assert_eq!(stale[0].text, bot.t("button.stale"));
    assert_eq!(bot.fake.calls_of("answerCallbackQuery").last().unwrap().body["text"], bot.t("button.stale"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions").await, 1);

    // Garbage callback data changes nothing and says so.
    let garbage = bot.handle(&li, |f| f.push_callback(&li, 1, "'; DROP TABLE suggestions; --")).await;
    assert!(garbage.is_empty());
    assert_eq!(bot.fake.calls_of("answerCallbackQuery").last().unwrap().body["text"], bot.t("button.invalid"));

    // A button for a topic that closed meanwhile.
    let topics = bot.say(&li, "/new").await;
    bot.store.close_topic(bot.other_topic, bot.clock.now_utc()).await.unwrap();
    let closed = bot.tap(&li, last(&topics), "建设现代化产业体系").await;
    assert_eq!(closed[0].text, bot.t("dialog.topic_closed"));
    assert!(
        !last(&closed).button_texts().iter().any(|t| t.contains("建设现代化产业体系")),
        "the closed topic is no longer offered"
    );
    bot.stop().await;
}

use support::harness::NowUtc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_specific_answer_and_the_same_question() {
    let mut bot = TestBot::start().await;
    let user = zhang();
    bot.register(&user, "PD001").await;
    let topics = bot.say(&user, "/new").await;
    let kinds = bot.tap(&user, last(&topics), "📌").await;

    // Text where a button is expected.
    let r = bot.say(&user, "建言资政").await;
    assert_eq!(r[0].text, bot.t("input.use_buttons"));
    assert_eq!(last(&r).text, bot.t("dialog.ask_kind"));
    // Voice, sticker and location.
    for push in [
        support::fake_telegram::FakeTelegram::push_voice,
        support::fake_telegram::FakeTelegram::push_sticker,
        support::fake_telegram::FakeTelegram::push_location,
    ] {
        let r = bot.handle(&user, |f| push(f, &user)).await;
        assert!(r[0].text.starts_with("抱歉，暂时无法接收"), "{}", r[0].text);
        assert_eq!(last(&r).text, bot.t("dialog.ask_kind"));
    }
    // A command in the middle.
    let r = bot.say(&user, "/topics").await;
    assert_eq!(r[0].text, bot.t("dialog.busy"));
    // An edited message.
    let r = bot.handle(&user, |f| f.push_edited_text(&user, 5, "改过的")).await;
    assert_eq!(r[0].text, bot.t("input.edited"));
    // A too-long title.
    let kinds_again = last(&r).clone();
    bot.tap(&user, &kinds_again, "议政调研").await;
    let r = bot.say(&user, &"题".repeat(100)).await;
    assert!(r[0].text.contains("最多80字") && r[0].text.contains("100字"), "{}", r[0].text);
    let _ = kinds;
    // An unknown command outside a dialog.
    bot.say(&user, "/cancel").await;
    let r = bot.say(&user, "/frobnicate").await;
    assert!(r[0].text.contains("/frobnicate"), "{}", r[0].text);
    // A group chat: chatter and commands for no one in particular are not answered there; a
    // command addressed to this bot by name is, once.
    for text in ["/new", "大家好", "/new@another_bot"] {
        let r = bot.handle(&user, |f| f.push_group_text(&user, -100123, text)).await;
        assert!(r.is_empty(), "nothing in the private chat");
    }
    assert!(bot.fake.sent_to(-100123).is_empty(), "silence in the group: {:?}", bot.fake.sent_to(-100123));
    let addressed = format!("/new@{}", support::fake_telegram::BOT_USERNAME);
    bot.handle(&user, |f| f.push_group_text(&user, -100123, &addressed)).await;
    let group = bot.fake.sent_to(-100123);
    assert_eq!(group.len(), 1);
    assert_eq!(group[0].text, bot.t("chat.private_only"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_documents_and_long_previews_reach_telegram_whole() {
    let mut bot = TestBot::start().await;
    let user = zhang();
    bot.register(&user, "PD001").await;
    let topics = bot.say(&user, "/new").await;
    let kinds = bot.tap(&user, last(&topics), "其他").await;
    bot.tap(&user, last(&kinds), "社情民意").await;
    bot.say(&user, "长文").await;
    for i in 1..=3 {
        bot.say(&user, &format!("{i}{}", "很长的内容。".repeat(330))).await;
    }
    bot.handle(&user, |f| f.push_photo(&user, Some("现场照片"))).await;
    let r = bot.handle(&user, |f| f.push_document(&user, "调研报告.pdf", "application/pdf")).await;
    assert!(last(&r).text.contains("2个附件"), "{}", last(&r).text);
    let preview = bot.tap(&user, last(&r), "完成").await;
    assert!(preview.len() >= 2, "a preview over 4096 characters is split: {} piece(s)", preview.len());
    assert!(preview.iter().all(|m| m.text.encode_utf16().count() <= 4096));
    assert!(preview[..preview.len() - 1].iter().all(|m| m.buttons.is_empty()), "buttons only under the last piece");
    assert!(joined(&preview).contains("调研报告.pdf") && joined(&preview).contains("4. 现场照片"));
    let receipt = bot.tap(&user, last(&preview), "提交").await;
    assert!(last(&receipt).text.contains("共4条建议"), "{}", last(&receipt).text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM attachments").await, 2);
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestion_points").await, 4);
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates WHERE error IS NOT NULL").await, 0, "no update failed");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_in_a_suggestion_reaches_telegram_as_plain_text() {
    let mut bot = TestBot::start().await;
    let user = zhang();
    bot.register(&user, "PD001").await;
    let topics = bot.say(&user, "/new").await;
    let kinds = bot.tap(&user, last(&topics), "📌").await;
    bot.tap(&user, last(&kinds), "建言资政").await;
    let hostile = "<b>加粗</b><script>alert(1)</script>";
    bot.say(&user, hostile).await;
    let noted = bot.say(&user, "<a href=\"https://evil.example\">点我</a> & 其他").await;
    let preview = bot.tap(&user, last(&noted), "完成").await;
    // Telegram is never asked to parse markup: the person sees exactly the characters they sent.
    assert!(last(&preview).text.contains(hostile), "{}", last(&preview).text);
    assert!(last(&preview).text.contains("<a href=\"https://evil.example\">点我</a> & 其他"));
    for call in bot.fake.calls_of("sendMessage") {
        assert!(call.body.get("parse_mode").is_none(), "a message was sent with a parse mode: {:?}", call.body);
    }
    let receipt = bot.tap(&user, last(&preview), "提交").await;
    assert!(last(&receipt).text.contains(hostile));
    bot.stop().await;
}
