//! End to end: a push for someone the bot cannot write to yet — a member who has not redeemed an
//! invite or who blocked the bot, a department without a registered liaison, staff before anyone
//! registered — is kept, and delivered in order once they write to the bot.

mod support;

use jianyan::domain::MemberNo;
use jianyan::store::{Commit, Committed, NewSuggestion};
use support::fake_telegram::{SentMessage, TgUser};
use support::harness::{NowUtc, TestBot, joined, last};

async fn held(bot: &TestBot) -> Vec<(String, Option<i64>, bool)> {
    let sql = "SELECT recipient, recipient_id, released_at IS NOT NULL FROM held_notifications ORDER BY id";
    bot.db.rows(sql, &[]).await.iter().map(|r| (r[0].text(), r[1].opt_int(), r[2].truthy())).collect()
}

/// Files a suggestion for a member the way the bot does, without them being on Telegram (as the
/// console preview can); returns its reference number.
async fn file_for(bot: &TestBot, member_no: &str, title: &str) -> String {
    let member = bot.store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
    let suggestion = NewSuggestion {
        member_id: member.id,
        topic_id: Some(bot.pinned_topic),
        kind: jianyan::domain::SuggestionKind::Advice,
        title: title.into(),
        points: vec!["内容".into()],
        as_typed: String::new(),
        attachments: Vec::new(),
        year: 2025,
        prefix: "PD".into(),
        entered_by: None,
    };
    let commit = Commit {
        update_id: None,
        chat_id: -1,
        dialog: None,
        messages: Vec::new(),
        submission: Some((suggestion, Box::new(|_, _| Vec::new()))),
        change: None,
        now: bot.clock.now_utc(),
    };
    let Committed::Done { reference: Some(reference), .. } = bot.store.commit(commit).await.unwrap() else {
        panic!("not filed")
    };
    reference.to_string()
}

/// Walks the staff's assignment wizard from a message with the 交办 button, to one department.
async fn assign(bot: &TestBot, staff: &TgUser, from: &SentMessage, lead: &str) -> Vec<SentMessage> {
    let leads = bot.tap(staff, from, "交办").await;
    let step = bot.tap(staff, last(&leads), lead).await;
    let deadline = bot.tap(staff, last(&step), "下一步").await;
    let preview = bot.tap(staff, last(&deadline), "默认").await;
    bot.tap(staff, last(&preview), "确认交办").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_wait_for_people_not_yet_on_telegram_and_arrive_in_order_when_they_register() {
    let mut bot = TestBot::start().await;
    let (zhang, li, staff, liaison) =
        (TgUser::new(90001, "三"), TgUser::new(90002, "四"), TgUser::new(80001, "晓"), TgUser::new(70001, "陈"));

    // No staff group and no staff member yet: the alert of a new suggestion is kept for staff.
    bot.register(&zhang, "PD001").await;
    let topics = bot.say(&zhang, "/new").await;
    let kinds = bot.tap(&zhang, last(&topics), "📌").await;
    bot.tap(&zhang, last(&kinds), "建言资政").await;
    bot.say(&zhang, "张三的建言").await;
    let noted = bot.say(&zhang, "内容").await;
    let preview = bot.tap(&zhang, last(&noted), "完成").await;
    bot.tap(&zhang, last(&preview), "提交").await;
    assert_eq!(held(&bot).await, [("staff".to_string(), None, false)]);
    // The first staff member to register gets it after the greeting, with the review buttons.
    let hello = bot.say(&staff, "/start").await;
    assert_eq!(joined(&hello), bot.t("register.not_registered"), "nothing goes to a stranger");
    let before = bot.fake.sent_to(staff.chat_id()).len();
    bot.register_staff(&staff, "王晓").await;
    let got = bot.fake.sent_to(staff.chat_id()).split_off(before);
    assert_eq!(got.len(), 2, "{}", joined(&got));
    assert!(got[0].text.contains("王晓"), "the greeting first: {}", got[0].text);
    assert!(got[1].text.contains("PD-2025-0001") && got[1].button_texts().iter().any(|b| b.contains("受理")));
    assert_eq!(held(&bot).await, [("staff".to_string(), None, true)]);

    // A suggestion of 李四, who has not redeemed an invite: staff accept it and route it to a
    // department with no liaison yet.
    let reference = file_for(&bot, "PD002", "李四的建言").await;
    assert_eq!(reference, "PD-2025-0002");
    bot.store.add_department("区教育局", None).await.unwrap();
    let lookup = bot.say(&staff, &reference).await;
    bot.tap(&staff, last(&lookup), "受理").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE id = 2 AND state = 'accepted'").await, 1);
    let lookup = bot.say(&staff, &reference).await;
    assign(&bot, &staff, last(&lookup), "区教育局").await;
    let kept = held(&bot).await;
    let li_id = bot.count("SELECT id FROM members WHERE member_no = 'PD002'").await;
    let dept: i64 = bot.count("SELECT id FROM departments WHERE name = '区教育局'").await;
    assert_eq!(
        kept[1..],
        [
            ("member".to_string(), Some(li_id), false),
            ("member".to_string(), Some(li_id), false),
            ("department".to_string(), Some(dept), false),
        ],
        "accepted and assigned for the member, the assignment for the department: nothing dropped"
    );

    // 李四 registers: the greeting, then both pushes in the order they happened.
    let before = bot.fake.sent_to(li.chat_id()).len();
    bot.register(&li, "PD002").await;
    let got = bot.fake.sent_to(li.chat_id()).split_off(before);
    assert_eq!(got.len(), 3, "{}", joined(&got));
    assert!(got[0].text.contains("李四委员"), "{}", got[0].text);
    assert!(got[1].text.contains("PD-2025-0002") && got[1].text.contains("已受理"), "{}", got[1].text);
    assert!(got[2].text.contains("区教育局") && got[2].text.contains("已交办"), "{}", got[2].text);

    // The department's liaison registers: the assignment arrives with its buttons, and they work.
    let before = bot.fake.sent_to(liaison.chat_id()).len();
    bot.register_liaison(&liaison, "区教育局", "陈联络员").await;
    let got = bot.fake.sent_to(liaison.chat_id()).split_off(before);
    assert_eq!(got.len(), 2, "{}", joined(&got));
    assert!(got[1].text.contains("PD-2025-0002"), "{}", got[1].text);
    bot.tap(&liaison, &got[1], "签收").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE id = 2 AND state = 'in_progress'").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM held_notifications WHERE released_at IS NULL").await, 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_blocked_the_bot_gets_the_pushes_when_writing_again() {
    let mut bot = TestBot::start().await;
    let (zhang, staff) = (TgUser::new(90001, "三"), TgUser::new(80001, "晓"));
    bot.register_staff(&staff, "王晓").await;
    bot.register(&zhang, "PD001").await;
    let topics = bot.say(&zhang, "/new").await;
    let kinds = bot.tap(&zhang, last(&topics), "📌").await;
    bot.tap(&zhang, last(&kinds), "建言资政").await;
    bot.say(&zhang, "张三的建言").await;
    let noted = bot.say(&zhang, "内容").await;
    let preview = bot.tap(&zhang, last(&noted), "完成").await;
    bot.tap(&zhang, last(&preview), "提交").await;
    // Telegram answered 403 to an earlier push: the member is marked unreachable.
    let at = chrono::DateTime::parse_from_rfc3339("2025-03-01T02:00:00Z").unwrap().to_utc();
    bot.db.execute("UPDATE members SET unreachable_at = $1 WHERE member_no = 'PD001'", &[at.into()]).await;
    let before = bot.fake.sent_to(zhang.chat_id()).len();
    let alert = bot.fake.last_sent(staff.chat_id()).unwrap();
    bot.tap(&staff, &alert, "受理").await;
    assert_eq!(bot.fake.sent_to(zhang.chat_id()).len(), before, "nothing is sent to a chat that blocked the bot");
    assert_eq!(bot.count("SELECT COUNT(*) FROM held_notifications WHERE recipient = 'member'").await, 1);
    let stats = bot.say(&staff, "/stats").await;
    assert!(last(&stats).text.contains("等待发送的推送：1条"), "{}", joined(&stats));

    // The member writes again: the answer, then the push that was kept.
    let got = bot.say(&zhang, "/help").await;
    assert!(got.len() >= 2, "{}", joined(&got));
    assert!(last(&got).text.contains("PD-2025-0001") && last(&got).text.contains("已受理"), "{}", joined(&got));
    assert_eq!(bot.count("SELECT COUNT(*) FROM held_notifications WHERE released_at IS NULL").await, 0);
    bot.stop().await;
}
