//! End to end: invite codes, reference numbers and numbered points as people really type them,
//! through the real bot runtime and the fake Telegram server; we assert what each person sees and
//! what the database holds.

mod support;

use support::fake_telegram::{SentMessage, TgUser};
use support::harness::{TestBot, joined, last};

/// The code as a Chinese keyboard in full-width mode types it: `６ＧＫＡ…`.
fn full_width(code: &str) -> String {
    code.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect()
}

async fn bound_to(bot: &TestBot, user: &TgUser) -> Option<String> {
    let sql = "SELECT member_no FROM members WHERE telegram_user_id = $1";
    let found = bot.db.texts(sql, &[user.chat_id().into()]).await;
    assert!(found.len() <= 1, "{found:?}");
    found.into_iter().next()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_codes_are_found_as_members_paste_and_type_them() {
    let mut bot = TestBot::start().await;
    let (zhang, li, stranger) = (TgUser::new(90001, "三"), TgUser::new(90002, "四"), TgUser::new(99999, "路人"));

    // A sentence with a word of a code's shape is not a code: the stranger is told how to register.
    let replies = bot.say(&stranger, "I understand what you mean").await;
    assert_eq!(joined(&replies), bot.t("register.not_registered"));
    // Something with a code's shape that is no code is answered as a wrong code.
    let replies = bot.say(&stranger, "邀请码：2345-6789-AB").await;
    assert_eq!(joined(&replies), bot.t("register.code_unknown"));

    // Full-width, lower case, inside a sentence.
    let code = bot.invite("PD001").await;
    let typed = format!("我的邀请码是 {} 谢谢", full_width(&code.to_lowercase()));
    let greeting = bot.say(&zhang, &typed).await;
    assert!(last(&greeting).text.contains("张三委员"), "{}", joined(&greeting));
    assert_eq!(bound_to(&bot, &zhang).await.as_deref(), Some("PD001"));

    // Pasted with the label the CLI prints, in groups with dashes, lower case.
    let code = bot.invite("PD002").await;
    let typed = format!("邀请码：{}-{}\n邀请链接：（暂无）", &code[..5].to_lowercase(), &code[5..].to_lowercase());
    let greeting = bot.say(&li, &typed).await;
    assert!(last(&greeting).text.contains("李四委员"), "{}", joined(&greeting));
    assert_eq!(bound_to(&bot, &li).await.as_deref(), Some("PD002"));

    // A registered member who sends a code again is told they are registered already.
    let again = bot.say(&zhang, &format!("邀请码 {}", full_width(&code))).await;
    assert_eq!(last(&again).text, bot.t("register.already_registered"));
    assert_eq!(bound_to(&bot, &stranger).await, None);
    bot.stop().await;
}

/// The member walks the dialog up to the content step on the pinned topic.
async fn up_to_content(bot: &TestBot, member: &TgUser, title: &str) {
    let topics = bot.say(member, "/new").await;
    let kinds = bot.tap(member, last(&topics), "📌").await;
    bot.tap(member, last(&kinds), "建言资政").await;
    bot.say(member, title).await;
}

async fn submit(bot: &TestBot, member: &TgUser, title: &str, point: &str) -> Vec<SentMessage> {
    up_to_content(bot, member, title).await;
    let noted = bot.say(member, point).await;
    let preview = bot.tap(member, last(&noted), "完成").await;
    bot.tap(member, last(&preview), "提交").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_the_member_numbered_are_stored_without_their_numbers_and_kept_as_typed() {
    let mut bot = TestBot::start().await;
    let member = TgUser::new(90001, "三");
    bot.register(&member, "PD001").await;
    up_to_content(&bot, &member, "关于老旧小区改造的建议").await;

    let noted = bot.say(&member, "一、加快老旧小区加装电梯").await;
    assert!(last(&noted).text.contains("第1条"), "{}", joined(&noted));
    // Several numbered lines in one message are several points, and the reply says so.
    let noted = bot.say(&member, "1.增设停车位\n2．改造雨污管网\n资金由区财政统筹").await;
    let expected = bot.app.texts.t(
        jianyan::locale::Lang::Zh,
        "dialog.points_added",
        &[("count", &2), ("first", &2), ("last", &3)],
    );
    assert_eq!(last(&noted).text, expected);
    // A number that belongs to the text stays.
    bot.say(&member, "（4）1.5亿元专项资金向困难小区倾斜").await;

    let preview = bot.tap(&member, last(&noted), "完成").await;
    let p = &last(&preview).text;
    for part in [
        "1. 加快老旧小区加装电梯",
        "2. 增设停车位",
        "3. 改造雨污管网\n资金由区财政统筹",
        "4. 1.5亿元专项资金向困难小区倾斜",
    ] {
        assert!(p.contains(part), "the preview lacks «{part}»: {p}");
    }
    assert!(!p.contains("一、") && !p.contains("1.增设") && !p.contains("（4）"), "{p}");
    let receipt = bot.tap(&member, last(&preview), "提交").await;
    assert!(last(&receipt).text.contains("共4条建议"), "{}", joined(&receipt));

    let points = bot.db.texts("SELECT text FROM suggestion_points ORDER BY position", &[]).await;
    assert_eq!(
        points,
        ["加快老旧小区加装电梯", "增设停车位", "改造雨污管网\n资金由区财政统筹", "1.5亿元专项资金向困难小区倾斜"]
    );
    let body = bot.db.scalar("SELECT body FROM suggestions", &[]).await.text();
    assert!(body.starts_with("1. 加快老旧小区加装电梯\n2. 增设停车位"), "what the console and exports show: {body}");
    // The messages as typed are on the timeline.
    let typed = bot.db.scalar("SELECT text FROM timeline_events WHERE event = 'submitted'", &[]).await.text();
    for original in ["一、加快老旧小区加装电梯", "1.增设停车位\n2．改造雨污管网", "（4）1.5亿元"]
    {
        assert!(typed.contains(original), "the timeline lacks «{original}»: {typed}");
    }
    let my = bot.say(&member, "/my").await;
    let detail = bot.tap(&member, last(&my), "PD-2025-0001").await;
    assert!(last(&detail).text.contains("一、加快老旧小区加装电梯"), "{}", joined(&detail));

    // A point typed without a number leaves nothing extra on the timeline.
    submit(&bot, &member, "第二篇", "在每个街镇设立一站式便民服务中心。").await;
    let sql = "SELECT text FROM timeline_events WHERE event = 'submitted' AND suggestion_id = 2";
    let typed = bot.db.scalar(sql, &[]).await.text();
    assert_eq!(typed, "");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbered_lines_beyond_the_limit_are_refused_whole() {
    let mut bot = TestBot::start().await;
    let member = TgUser::new(90001, "三");
    bot.register(&member, "PD001").await;
    up_to_content(&bot, &member, "标题").await;
    let max = bot.app.config.limits.max_points;
    let message: String = (1..=max + 1).map(|i| format!("{i}. 第{i}项内容\n")).collect();
    let refused = bot.say(&member, &message).await;
    assert!(last(&refused).text.contains(&format!("最多{max}条")), "{}", joined(&refused));
    let draft = bot.db.scalar("SELECT state FROM dialogs WHERE chat_id = $1", &[member.chat_id().into()]).await.text();
    let draft: serde_json::Value = serde_json::from_str(&draft).unwrap();
    let points = &draft["flow"]["submission"]["draft"]["points"];
    assert_eq!(points.as_array().map(Vec::len), Some(0), "nothing of it was kept: {draft}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_type_reference_numbers_as_they_come() {
    let mut bot = TestBot::start().await;
    let (member, staff) = (TgUser::new(90001, "三"), TgUser::new(80001, "晓"));
    bot.register(&member, "PD001").await;
    bot.register_staff(&staff, "王晓").await;
    submit(&bot, &member, "第一篇", "内容一").await;
    submit(&bot, &member, "第二篇", "内容二").await;

    // A lookup with the label, full-width dashes, lower case.
    let lookup = bot.say(&staff, "编号：pd－2025－0001").await;
    assert!(last(&lookup).text.contains("编号：PD-2025-0001"), "{}", joined(&lookup));
    // 并案 into a number typed with spaces inside a sentence.
    bot.tap(&staff, last(&lookup), "并案").await;
    let merged = bot.say(&staff, "并入 PD 2025 0002").await;
    assert_eq!(last(&merged).text, "🔗 已将 PD-2025-0001 并入 PD-2025-0002，已通知委员。");
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE id = 1 AND merged_into = 2").await, 1);
    bot.stop().await;
}
