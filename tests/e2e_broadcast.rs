//! End to end: staff compose a broadcast in Telegram to one workstation's members; each of them gets
//! exactly one message with the topic button, which opens the suggestion dialog on that topic; the
//! others get nothing; the progress shows everything sent. (The fake server is unlimited here.)

mod support;

use std::time::{Duration, Instant};

use jianyan::domain::{MemberLevel, MemberNo};
use jianyan::store::RosterRow;
use support::fake_telegram::TgUser;
use support::harness::{NowUtc, TestBot, WAIT, joined, last};

fn member(no: &str, name: &str, workstation: &str) -> RosterRow {
    RosterRow {
        member_no: MemberNo::parse(no).unwrap(),
        name: name.into(),
        level: MemberLevel::Street,
        workstation: Some(workstation.into()),
        sector: "教育界".into(),
        phone: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_broadcast_a_topic_to_one_workstation_and_members_answer_it() {
    let mut bot = TestBot::start().await;
    // PD001 and PD002 are at 潍坊新村街道 already; three more there, one at 陆家嘴街道.
    let now = bot.clock.now_utc();
    bot.store
        .import_members(
            &[
                member("PD003", "王五", "潍坊新村街道"),
                member("PD004", "赵六", "潍坊新村街道"),
                member("PD005", "钱七", "潍坊新村街道"),
                member("PD006", "孙八", "陆家嘴街道"),
            ],
            now,
        )
        .await
        .unwrap();
    let weifang: Vec<TgUser> = (1..=5).map(|i| TgUser::new(91000 + i, format!("委员{i}"))).collect();
    for (i, user) in weifang.iter().enumerate() {
        let greeting = bot.register(user, &format!("PD00{}", i + 1)).await;
        assert!(greeting.text.contains("委员，您好"), "{}", greeting.text);
    }
    let lujiazui = TgUser::new(92006, "孙八");
    bot.register(&lujiazui, "PD006").await;
    let staff = TgUser::new(80001, "晓");
    bot.register_staff(&staff, "王晓").await;
    let before: Vec<usize> = weifang.iter().map(|u| bot.fake.sent_to(u.chat_id()).len()).collect();
    let lujiazui_before = bot.fake.sent_to(lujiazui.chat_id()).len();

    // The menu key starts the composer: the topic.
    let topics = bot.say(&staff, "📢 发布通知").await;
    assert_eq!(last(&topics).text, bot.t("broadcast.ask_topic"));
    let ask_text = bot.tap(&staff, last(&topics), "📌").await;
    assert!(joined(&ask_text).contains("十五五"), "{}", joined(&ask_text));
    // The text.
    let text = "3月20日区政协将召开专题协商会，请各位委员围绕\"十五五\"规划编制提出意见建议。";
    let audience = bot.say(&staff, text).await;
    assert_eq!(last(&audience).button_texts()[0], "全体委员（6）");
    // The audience: one workstation, with its reach.
    let workstations = bot.tap(&staff, last(&audience), "按委员工作站").await;
    let buttons = last(&workstations).button_texts();
    assert!(buttons.contains(&"潍坊新村街道（5）".to_string()), "{buttons:?}");
    assert!(buttons.contains(&"陆家嘴街道（1）".to_string()), "{buttons:?}");
    let preview = bot.tap(&staff, last(&workstations), "潍坊新村街道").await;
    assert_eq!(preview.len(), 2, "{}", joined(&preview));
    let copy = preview[0].text.clone();
    assert!(copy.starts_with("📢 区政协通知\n\n") && copy.contains(text), "{copy}");
    assert!(preview[1].text.contains("委员工作站：潍坊新村街道") && preview[1].text.contains("将发送给：5位委员"));
    // Confirm.
    let queued = bot.tap(&staff, &preview[1], "确认发送").await;
    assert!(last(&queued).text.contains("已提交发送：共5位委员"), "{}", joined(&queued));

    // Each member of the workstation gets exactly one message: the previewed text, with the topic button.
    let topic_button = format!("📝 就《{}》建言", "\"十五五\"总体发展规划编制");
    let mut received = Vec::new();
    for (user, before) in weifang.iter().zip(&before) {
        let all = bot.fake.wait_for_sent(user.chat_id(), before + 1, WAIT).await;
        received.push(all[*before..].to_vec());
    }
    // Once nothing of the broadcast is left to send, no second copy can be on its way.
    let deadline = Instant::now() + WAIT;
    while bot.count("SELECT COUNT(*) FROM outbox WHERE broadcast_id = 1 AND status = 'pending'").await > 0 {
        assert!(Instant::now() < deadline, "the broadcast is still pending");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (user, (mine, before)) in weifang.iter().zip(received.iter().zip(&before)) {
        assert_eq!(bot.fake.sent_to(user.chat_id()).len(), before + 1, "chat {} got more than one", user.chat_id());
        assert_eq!(mine[0].text, copy);
        assert_eq!(mine[0].button_texts(), vec![topic_button.clone()]);
        assert_eq!(mine[0].callback_for(&topic_button), Some(format!("new:{}", bot.pinned_topic)));
    }
    // The member at another workstation gets nothing.
    assert_eq!(bot.fake.sent_to(lujiazui.chat_id()).len(), lujiazui_before);

    // Pressing the button opens the suggestion dialog on that topic: the next question is the kind.
    let opened = bot.tap(&weifang[2], &received[2][0], "就《").await;
    assert!(joined(&opened).contains("议题：《\"十五五\"总体发展规划编制》"), "{}", joined(&opened));
    assert_eq!(last(&opened).button_texts(), vec!["建言资政", "社情民意信息", "议政调研", "视察"]);

    // The progress: all five sent.
    let deadline = Instant::now() + WAIT;
    while bot.count("SELECT COUNT(*) FROM outbox WHERE broadcast_id = 1 AND status = 'sent'").await < 5 {
        assert!(Instant::now() < deadline, "the broadcast was not recorded as sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let progress = bot.tap(&staff, last(&queued), "刷新进度").await;
    let p = &last(&progress).text;
    for part in ["共5位委员", "已发送：5", "待发送：0", "发送失败：0", "已全部处理完毕"] {
        assert!(p.contains(part), "{part} missing from {p}");
    }
    assert_eq!(bot.count("SELECT COUNT(*) FROM outbox WHERE broadcast_id = 1 AND priority = 2").await, 5);
    bot.stop().await;
}

/// The broadcast's limit is counted as Telegram counts (UTF-16 code units: an emoji is 2), so a
/// text the composer takes always reaches a member as one message, even on a topic whose title
/// is very long (topics made on the command line have no length limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_the_composer_takes_is_one_message_even_with_emoji_and_a_long_topic() {
    let mut bot = TestBot::start().await;
    let user = TgUser::new(91001, "委员1");
    bot.register(&user, "PD001").await;
    let staff = TgUser::new(80001, "晓");
    bot.register_staff(&staff, "王晓").await;
    let title = format!("长议题{}", "很".repeat(2000));
    let topic = jianyan::store::NewTopic {
        title: title.clone(),
        description: String::new(),
        class: jianyan::domain::TopicClass::Plan,
        form: "议政性常委会".into(),
        closes_at: None,
        pinned: false,
    };
    bot.store.add_topic(topic, bot.clock.now_utc()).await.unwrap();
    let topics = bot.say(&staff, "📢 发布通知").await;
    bot.tap(&staff, last(&topics), "长议题").await;

    // 3,500 characters but 4,000 UTF-16 units: refused, with the length as Telegram counts it.
    let too_long = format!("{}{}", "议".repeat(3000), "👍".repeat(500));
    let refused = bot.say(&staff, &too_long).await;
    assert!(refused[0].text.contains("最多3500字，您发送的有4000字"), "{}", refused[0].text);

    // Exactly 3,500 units: taken, and each member gets it in one message.
    let text = format!("{}{}", "议".repeat(3000), "👍".repeat(250));
    let audience = bot.say(&staff, &text).await;
    let preview = bot.tap(&staff, last(&audience), "全体委员").await;
    let before = bot.fake.sent_to(user.chat_id()).len();
    bot.tap(&staff, last(&preview), "确认发送").await;
    bot.fake.wait_for_sent(user.chat_id(), before + 1, WAIT).await;
    let deadline = Instant::now() + WAIT;
    while bot.count("SELECT COUNT(*) FROM outbox WHERE broadcast_id = 1 AND status = 'pending'").await > 0 {
        assert!(Instant::now() < deadline, "the broadcast is still pending");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let got = &bot.fake.sent_to(user.chat_id())[before..];
    assert_eq!(got.len(), 1, "one message, not {}", got.len());
    assert!(got[0].text.contains(&text), "the whole text arrives");
    assert!(got[0].text.encode_utf16().count() <= 4096);
    assert!(got[0].text.contains("长议题很很") && got[0].text.contains('…'), "the title is shortened to fit");
    assert_eq!(got[0].button_texts().len(), 1);
    bot.stop().await;
}
