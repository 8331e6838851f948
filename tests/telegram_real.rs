//! Real Telegram, through the real runtime: a corpus of update shapes from the Bot API as it is
//! today (tests/fixtures/updates), buttons pressed on messages older than 48 hours, albums, and
//! updates kept exactly as Telegram sent them.

mod support;

use std::path::Path;

use chrono::Duration;
use serde_json::{Value, json};
use support::fake_telegram::{SentMessage, TgUser};
use support::harness::{NowUtc, TestBot, joined, last};

/// The member every fixture speaks as (`from.id` 7001 in tests/fixtures/updates).
fn member() -> TgUser {
    TgUser::new(7001, "M")
}

const GROUPS: [i64; 2] = [-1001234567890, -4012345678];

fn fixtures() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/updates");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), value)
        })
        .collect()
}

async fn understood(bot: &TestBot, update_id: i64) -> bool {
    bot.db.scalar("SELECT understood FROM updates WHERE update_id = $1", &[update_id.into()]).await.truthy()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_update_shape_in_the_corpus_is_acted_on_or_answered_as_expected() {
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    let corpus = fixtures();
    assert!(corpus.len() >= 20, "the corpus has {} shapes", corpus.len());
    let mut not_understood = 0;
    for (name, fixture) in &corpus {
        let expect = &fixture["expect"];
        let private_before = bot.fake.sent_to(user.chat_id()).len();
        let groups_before: Vec<usize> = GROUPS.iter().map(|g| bot.fake.sent_to(*g).len()).collect();
        let answers_before = bot.fake.calls_of("answerCallbackQuery").len();
        let update_id = bot.fake.push_raw(fixture["update"].clone());
        bot.settle(update_id).await;
        let private = bot.fake.sent_to(user.chat_id()).split_off(private_before);
        let group: usize = GROUPS.iter().zip(&groups_before).map(|(g, n)| bot.fake.sent_to(*g).len() - n).sum();
        match expect["private"].as_str() {
            Some("replies") => assert!(!private.is_empty(), "{name}: the member is answered"),
            Some("silent") => assert!(private.is_empty(), "{name}: nothing for the member, got {}", joined(&private)),
            other => panic!("{name}: expect.private is {other:?}"),
        }
        match expect["group"].as_str() {
            Some("replies") => assert_eq!(group, 1, "{name}: one answer in the group"),
            Some("silent") => assert_eq!(group, 0, "{name}: silence in the group"),
            _ => {}
        }
        let text = joined(&private);
        if let Some(part) = expect["contains"].as_str() {
            assert!(text.contains(part), "{name}: the answer lacks {part:?}: {text}");
        }
        if let Some(part) = expect["not_contains"].as_str() {
            assert!(!text.contains(part), "{name}: the answer has {part:?}: {text}");
        }
        if expect["callback_answered"] == json!(true) {
            assert_eq!(
                bot.fake.calls_of("answerCallbackQuery").len(),
                answers_before + 1,
                "{name}: the button press is answered"
            );
        }
        let expected_understood = expect["understood"].as_bool().unwrap_or(true);
        assert_eq!(understood(&bot, update_id).await, expected_understood, "{name}: understood");
        if !expected_understood {
            not_understood += 1;
        }
    }
    // What was not understood is counted where staff look: /stats and the dashboard.
    let totals = bot.store.totals(bot.clock.now_utc()).await.unwrap();
    assert_eq!(totals.not_understood, not_understood);
    let processed = bot.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NULL").await;
    assert_eq!(processed, 0, "every update is marked done");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_stored_exactly_as_telegram_sent_it() {
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    let (_, fixture) = fixtures().into_iter().find(|(n, _)| n.starts_with("03-")).unwrap();
    let mut update = fixture["update"].clone();
    let update_id = bot.fake.push_raw(update.clone());
    bot.settle(update_id).await;
    update["update_id"] = json!(update_id);
    let stored = bot.db.scalar("SELECT payload FROM updates WHERE update_id = $1", &[update_id.into()]).await.text();
    // The fake server writes each update with serde_json, so these are the bytes it sent.
    assert_eq!(stored, serde_json::to_string(&update).unwrap());
    assert!(stored.contains("a_type_from_the_future") && stored.contains("effect_id"), "{stored}");
    bot.stop().await;
}

/// A callback query as Telegram sends it for a button under a message older than 48 hours.
fn old_button(user: &TgUser, message_id: i64, data: &str) -> Value {
    json!({"callback_query": {
        "id": format!("old{message_id}{}", data.len()),
        "from": user.to_json(),
        "chat_instance": "1",
        "data": data,
        "message": {"chat": {"id": user.chat_id(), "type": "private", "first_name": user.first_name}, "message_id": message_id, "date": 0},
    }})
}

/// Presses `label` on `message` as if the message were days old.
async fn tap_old(bot: &TestBot, user: &TgUser, message: &SentMessage, label: &str) -> Vec<SentMessage> {
    let data = message.callback_for(label).unwrap_or_else(|| panic!("no {label} on {:?}", message.buttons));
    let answers = bot.fake.calls_of("answerCallbackQuery").len();
    let replies = bot.handle(user, |f| f.push_raw(old_button(user, message.message_id, &data))).await;
    assert_eq!(bot.fake.calls_of("answerCallbackQuery").len(), answers + 1, "the press is answered");
    replies
}

/// Takes a suggestion of the member's through staff and a department to a reply; returns the
/// member's push with the rating buttons.
async fn replied(bot: &TestBot, user: &TgUser) -> SentMessage {
    let (lead, ask_doc) = reply_document_step(bot, user).await;
    let preview = bot.tap(&lead, last(&ask_doc), "不附文件").await;
    let before = bot.fake.sent_to(user.chat_id()).len();
    bot.tap(&lead, last(&preview), "发送答复").await;
    let push = bot.fake.sent_to(user.chat_id()).split_off(before);
    assert_eq!(push.len(), 1, "{}", joined(&push));
    assert_eq!(push[0].button_texts(), vec!["满意", "基本满意", "不满意"]);
    push[0].clone()
}

/// Takes a suggestion of the member's through staff to the lead department, whose liaison writes
/// a reply up to the step that asks for a file; returns the liaison and that question.
async fn reply_document_step(bot: &TestBot, user: &TgUser) -> (TgUser, Vec<SentMessage>) {
    let staff = TgUser::new(80001, "晓");
    let lead = TgUser::new(70001, "陈");
    bot.register_staff(&staff, "王晓").await;
    bot.register_liaison(&lead, "区教育局", "陈联络员").await;
    let topics = bot.say(user, "/new").await;
    let kinds = bot.tap(user, last(&topics), "📌").await;
    bot.tap(user, last(&kinds), "建言资政").await;
    bot.say(user, "关于完善社区养老服务的建议").await;
    let noted = bot.say(user, "在每个街镇设立长者食堂。").await;
    let preview = bot.tap(user, last(&noted), "完成").await;
    let before = bot.fake.sent_to(staff.chat_id()).len();
    bot.tap(user, last(&preview), "提交").await;
    let alert = bot.fake.sent_to(staff.chat_id())[before].clone();
    let accepted = bot.tap(&staff, &alert, "受理").await;
    let leads = bot.tap(&staff, last(&accepted), "交办").await;
    let step = bot.tap(&staff, last(&leads), "区教育局").await;
    let deadline = bot.tap(&staff, last(&step), "下一步").await;
    let confirm = bot.tap(&staff, last(&deadline), "默认").await;
    let before = bot.fake.sent_to(lead.chat_id()).len();
    bot.tap(&staff, last(&confirm), "确认交办").await;
    let news = bot.fake.sent_to(lead.chat_id())[before].clone();
    let classes = bot.tap(&lead, &news, "答复").await;
    bot.tap(&lead, last(&classes), "A 已解决").await;
    let ask_doc = bot.say(&lead, "已在全区推开，年内建成30家长者食堂。").await;
    (lead, ask_doc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_rates_an_answer_three_days_later_and_the_suggestion_closes() {
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    let reply = replied(&bot, &user).await;
    bot.clock.set(bot.clock.now_utc() + Duration::days(3));
    let r = tap_old(&bot, &user, &reply, "基本满意").await;
    assert!(joined(&r).contains("已办结"), "{}", joined(&r));
    let state = bot.db.scalar("SELECT state FROM suggestions", &[]).await.text();
    assert_eq!(state, "closed");
    assert_eq!(bot.count("SELECT COUNT(*) FROM ratings").await, 1);
    // The same old button again: refused politely, nothing changes.
    let again = tap_old(&bot, &user, &reply, "满意").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM ratings").await, 1, "{}", joined(&again));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dissatisfied_days_later_asks_the_reason_and_reopens() {
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    let reply = replied(&bot, &user).await;
    bot.clock.set(bot.clock.now_utc() + Duration::days(5));
    let ask = tap_old(&bot, &user, &reply, "不满意").await;
    assert_eq!(last(&ask).text, bot.t("rating.ask_reason"));
    let r = bot.say(&user, "长者食堂离小区太远。").await;
    assert!(joined(&r).contains("重新办理"), "{}", joined(&r));
    let state = bot.db.scalar("SELECT state FROM suggestions", &[]).await.text();
    assert_eq!(state, "reopened");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_list_and_topic_buttons_work_weeks_later() {
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    bot.submit(&user, "社情民意", "路灯不亮", &["某路段路灯损坏已一个月。"]).await;
    let list = bot.say(&user, "/my").await;
    bot.clock.set(bot.clock.now_utc() + Duration::days(7));
    let shown = tap_old(&bot, &user, last(&list), "路灯不亮").await;
    assert!(joined(&shown).contains("PD-2025-0001"), "{}", joined(&shown));
    // A broadcast's "提交建言" button a month later opens the dialog on its topic.
    bot.clock.set(bot.clock.now_utc() + Duration::days(30));
    let data = format!("new:{}", bot.pinned_topic);
    let r = bot.handle(&user, |f| f.push_raw(old_button(&user, 1500, &data))).await;
    assert_eq!(last(&r).text, bot.t("dialog.ask_kind"), "{}", joined(&r));
    bot.stop().await;
}

/// An album of `n` photos sent at once: one update per photo, all with one media_group_id.
fn push_album(bot: &TestBot, user: &TgUser, album: &str, n: usize) -> Vec<i64> {
    (0..n)
        .map(|i| {
            bot.fake.push_raw(json!({"message": {
                "message_id": 9000 + i,
                "date": 1764400000,
                "chat": {"id": user.chat_id(), "type": "private", "first_name": user.first_name},
                "from": user.to_json(),
                "media_group_id": album,
                "photo": [{"file_id": format!("{album}-{i}"), "file_unique_id": format!("u{album}{i}"), "width": 1280, "height": 960, "file_size": 1000}],
            }}))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_is_acknowledged_once_and_refused_once_when_too_large() {
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    let topics = bot.say(&user, "/new").await;
    let kinds = bot.tap(&user, last(&topics), "📌").await;
    bot.tap(&user, last(&kinds), "社情民意").await;
    bot.say(&user, "积水照片").await;
    bot.say(&user, "某小区雨后积水严重。").await;
    let max = bot.app.config.limits.max_attachments;

    let before = bot.fake.sent_to(user.chat_id()).len();
    let ids = push_album(&bot, &user, "album-one", 3);
    for id in &ids {
        bot.settle(*id).await;
    }
    let acks = bot.fake.sent_to(user.chat_id()).split_off(before);
    assert_eq!(acks.len(), 1, "one acknowledgement: {}", joined(&acks));
    assert!(acks[0].text.contains("已收到 3 个附件"), "{}", acks[0].text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NULL").await, 0);

    // An album larger than the room left is refused once, as a whole.
    let before = bot.fake.sent_to(user.chat_id()).len();
    let ids = push_album(&bot, &user, "album-two", max - 3 + 1);
    for id in &ids {
        bot.settle(*id).await;
    }
    let refusal = bot.fake.sent_to(user.chat_id()).split_off(before);
    let refusals: Vec<_> = refusal.iter().filter(|m| m.text.contains("超过了上限")).collect();
    assert_eq!(refusals.len(), 1, "refused once: {}", joined(&refusal));

    // The acknowledgement's 完成 button still works: the preview lists the three photos.
    let preview = bot.tap(&user, &acks[0], "完成").await;
    assert!(last(&preview).text.contains("附件：图片3张"), "{}", joined(&preview));
    assert!(last(&preview).button_texts().iter().any(|b| b.contains("提交")), "{:?}", last(&preview).buttons);
    let receipt = bot.tap(&user, last(&preview), "提交").await;
    assert!(joined(&receipt).contains("提交成功"), "{}", joined(&receipt));
    assert_eq!(bot.count("SELECT COUNT(*) FROM attachments").await, 3);
    bot.stop().await;
}

/// One item of an album: a photo, a file or a video, by `kind`.
fn album_item(user: &TgUser, album: &str, i: usize, kind: &str) -> Value {
    let mut message = json!({
        "message_id": 9100 + i,
        "date": 1764400000,
        "chat": {"id": user.chat_id(), "type": "private", "first_name": user.first_name},
        "from": user.to_json(),
        "media_group_id": album,
    });
    let file = format!("{album}-{i}");
    match kind {
        "photo" => {
            message["photo"] =
                json!([{"file_id": file, "file_unique_id": format!("u{file}"), "width": 1280, "height": 960}])
        }
        "document" => {
            message["document"] = json!({"file_id": file, "file_unique_id": format!("u{file}"), "file_name": format!("答复{i}.pdf"), "mime_type": "application/pdf"})
        }
        "video" => {
            message["video"] = json!({"file_id": file, "file_unique_id": format!("u{file}"), "width": 1280, "height": 720, "duration": 9})
        }
        other => panic!("no album item of kind {other}"),
    }
    json!({ "message": message })
}

/// Sends an album of items of `kinds` at once and returns what the bot sent `user` because of it.
async fn send_album(bot: &TestBot, user: &TgUser, album: &str, kinds: &[&str]) -> Vec<SentMessage> {
    let before = bot.fake.sent_to(user.chat_id()).len();
    let ids: Vec<i64> =
        kinds.iter().enumerate().map(|(i, kind)| bot.fake.push_raw(album_item(user, album, i, kind))).collect();
    for id in ids {
        bot.settle(id).await;
    }
    bot.fake.sent_to(user.chat_id()).split_off(before)
}

/// A member in the dialog, at the step that collects points and attachments.
async fn at_body_step(bot: &TestBot, user: &TgUser) {
    let topics = bot.say(user, "/new").await;
    let kinds = bot.tap(user, last(&topics), "📌").await;
    bot.tap(user, last(&kinds), "社情民意").await;
    bot.say(user, "积水照片").await;
    bot.say(user, "某小区雨后积水严重。").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_mixing_photos_and_videos_is_answered_once() {
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    at_body_step(&bot, &user).await;
    let got = send_album(&bot, &user, "mixed", &["photo", "video", "photo"]).await;
    assert_eq!(got.len(), 1, "one answer: {}", joined(&got));
    assert!(got[0].text.contains("已收到 2 个附件"), "{}", got[0].text);
    assert!(got[0].text.contains("另有1项"), "the video is said to be left out: {}", got[0].text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NULL").await, 0);
    // Videos only: answered once, that videos cannot be taken.
    let got = send_album(&bot, &user, "videos", &["video", "video", "video"]).await;
    assert_eq!(got.len(), 2, "one answer and the question again: {}", joined(&got));
    assert!(got[0].text.contains("视频"), "{}", got[0].text);
    let preview = bot.tap(&user, last(&got), "完成").await;
    assert!(last(&preview).text.contains("附件：图片2张"), "{}", joined(&preview));
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NULL").await, 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_whose_items_come_apart_is_still_refused_once_when_over_the_limit() {
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    at_body_step(&bot, &user).await;
    let max = bot.app.config.limits.max_attachments;
    // Telegram hands out the first items in one batch and the rest later (past the wait for
    // more items): the album is taken in two parts, and its second part does not fit.
    let first = send_album(&bot, &user, "apart", &vec!["photo"; max - 1]).await;
    assert_eq!(first.len(), 1, "{}", joined(&first));
    let before = bot.fake.sent_to(user.chat_id()).len();
    let ids: Vec<i64> = (max - 1..max + 2).map(|i| bot.fake.push_raw(album_item(&user, "apart", i, "photo"))).collect();
    for id in ids {
        bot.settle(id).await;
    }
    let rest = bot.fake.sent_to(user.chat_id()).split_off(before);
    assert_eq!(rest.len(), 1, "refused once, not once per item: {}", joined(&rest));
    assert!(rest[0].text.contains("超过了上限"), "{}", rest[0].text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NULL").await, 0);
    let preview = bot.tap(&user, &first[0], "完成").await;
    assert!(last(&preview).text.contains(&format!("附件：图片{}张", max - 1)), "{}", joined(&preview));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_and_liaisons_sending_an_album_are_answered_once() {
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    let (lead, _) = reply_document_step(&bot, &user).await;
    // The liaison answers the question for a file with two files at once: one preview, with the
    // first file, and a word that a reply carries one file.
    let got = send_album(&bot, &lead, "reply-files", &["document", "document"]).await;
    assert_eq!(got.len(), 2, "{}", joined(&got));
    assert!(got[0].text.contains("只能附一个文件"), "{}", got[0].text);
    assert!(got[1].text.contains("附件：答复0.pdf"), "{}", got[1].text);
    let before = bot.fake.sent_to(user.chat_id()).len();
    bot.tap(&lead, &got[1], "发送答复").await;
    let push = bot.fake.sent_to(user.chat_id()).split_off(before);
    assert!(push.iter().any(|m| m.button_texts().contains(&"满意".to_string())), "{}", joined(&push));
    // Staff outside any task: the help, once.
    let staff = TgUser::new(80001, "晓");
    let got = send_album(&bot, &staff, "staff-photos", &["photo", "photo", "photo"]).await;
    assert_eq!(got.len(), 1, "{}", joined(&got));
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NULL").await, 0);
    bot.stop().await;
}

/// `my_chat_member` for the private chat: the person blocked the bot, or allowed it again.
fn membership(user: &TgUser, status: &str) -> Value {
    let bot_user =
        json!({"id": 7000000001_i64, "is_bot": true, "first_name": "建言助手", "username": "jianyan_test_bot"});
    json!({"my_chat_member": {
        "chat": {"id": user.chat_id(), "type": "private", "first_name": user.first_name},
        "from": user.to_json(),
        "date": 1764400000,
        "old_chat_member": {"user": bot_user, "status": if status == "kicked" { "member" } else { "kicked" }},
        "new_chat_member": {"user": bot_user, "status": status},
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_blocks_the_bot_is_unreachable_at_once_and_gets_what_was_kept_on_unblocking() {
    let mut bot = TestBot::start().await;
    let user = member();
    let staff = TgUser::new(80001, "晓");
    bot.register_staff(&staff, "王晓").await;
    bot.register(&user, "PD001").await;
    bot.submit(&user, "社情民意", "路灯不亮", &["某路段路灯损坏已一个月。"]).await;

    let unreachable = "SELECT COUNT(*) FROM members WHERE unreachable_at IS NOT NULL";
    let r = bot.handle(&user, |f| f.push_raw(membership(&user, "kicked"))).await;
    assert!(r.is_empty(), "nothing is sent to someone who blocked the bot");
    assert_eq!(bot.count(unreachable).await, 1);
    // A push while blocked is kept, not sent into a 403.
    let before = bot.fake.calls_of("sendMessage").len();
    bot.tap(&staff, &bot.fake.last_sent(staff.chat_id()).unwrap(), "受理").await;
    let to_member =
        bot.fake.calls_of("sendMessage")[before..].iter().filter(|c| c.chat_id() == Some(user.chat_id())).count();
    assert_eq!(to_member, 0);
    assert_eq!(bot.count("SELECT COUNT(*) FROM held_notifications WHERE released_at IS NULL").await, 1);

    // Unblocking: reachable again, and the kept push arrives without the member writing.
    let got = bot.handle(&user, |f| f.push_raw(membership(&user, "member"))).await;
    assert_eq!(bot.count(unreachable).await, 0);
    assert_eq!(got.len(), 1, "{}", joined(&got));
    assert!(got[0].text.contains("已受理"), "{}", got[0].text);
    bot.stop().await;
}

/// A service message Telegram sends when a group is upgraded to a supergroup.
fn upgraded(user: &TgUser, chat: i64, kind: &str, field: &str, other: i64) -> Value {
    json!({"message": {
        "message_id": 3,
        "date": 1764400000,
        "chat": {"id": chat, "type": kind, "title": "区政协工作群"},
        "from": user.to_json(),
        field: other,
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_service_messages_move_the_staff_group_and_staff_are_told_once() {
    const GROUP: i64 = -4001;
    const SUPERGROUP: i64 = -1_001_234_567_890;
    let fake = support::fake_telegram::FakeConfig::default();
    let mut bot = TestBot::start_with(fake, &[("JIANYAN_STAFF__GROUP_CHAT_ID", "-4001")]).await;
    let user = member();
    bot.register(&user, "PD001").await;
    // Telegram sends both: the old group's "migrate_to" and the new supergroup's "migrate_from".
    let to = bot.fake.push_raw(upgraded(&user, GROUP, "group", "migrate_to_chat_id", SUPERGROUP));
    let from = bot.fake.push_raw(upgraded(&user, SUPERGROUP, "supergroup", "migrate_from_chat_id", GROUP));
    bot.settle(to).await;
    bot.settle(from).await;
    assert_eq!(bot.store.current_chat(GROUP).await.unwrap(), SUPERGROUP);
    let told = bot.fake.wait_for_sent(SUPERGROUP, 1, support::harness::WAIT).await;
    assert!(told[0].text.contains("工作群已升级为超级群"), "{}", told[0].text);

    // A new suggestion's alert goes straight to the supergroup; the old group is never tried.
    bot.submit(&user, "社情民意", "路灯不亮", &["某路段路灯损坏已一个月。"]).await;
    let got = bot.fake.wait_for_sent(SUPERGROUP, 2, support::harness::WAIT).await;
    assert!(got[1].text.contains("PD-2025-0001"), "{}", got[1].text);
    assert_eq!(got.iter().filter(|m| m.text.contains("工作群已升级为超级群")).count(), 1);
    assert!(bot.fake.calls_of("sendMessage").iter().all(|c| c.chat_id() != Some(GROUP)));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_left_set_for_the_bot_is_removed_and_updates_arrive() {
    let fake = support::fake_telegram::FakeConfig {
        webhook: Some("https://old.example.org/hook".into()),
        ..Default::default()
    };
    let mut bot = TestBot::start_with(fake, &[]).await;
    // While the webhook is set Telegram refuses getUpdates with 409; the update waits meanwhile.
    let user = member();
    let greeting = bot.register(&user, "PD001").await;
    assert!(greeting.text.contains("张三"), "{}", greeting.text);
    assert_eq!(bot.fake.calls_of("deleteWebhook").len(), 1);
    let refused = bot.fake.calls_of("getUpdates").iter().filter(|c| c.status == 409).count();
    assert!(refused >= 1, "getUpdates was refused while the webhook was set");
    bot.stop().await;
}

/// A button pressed days later on a message in a group: Telegram's stub names the group.
fn old_group_button(user: &TgUser, chat: i64, message_id: i64, data: &str) -> Value {
    json!({"callback_query": {
        "id": format!("oldg{message_id}{}", data.len()),
        "from": user.to_json(),
        "chat_instance": "2",
        "data": data,
        "message": {"chat": {"id": chat, "type": "supergroup", "title": "区政协工作群"}, "message_id": message_id, "date": 0},
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_group_alerts_and_department_buttons_work_days_later() {
    const GROUP: i64 = -1_001_234_567_890;
    let fake = support::fake_telegram::FakeConfig::default();
    let mut bot = TestBot::start_with(fake, &[("JIANYAN_STAFF__GROUP_CHAT_ID", "-1001234567890")]).await;
    let user = member();
    bot.register(&user, "PD001").await;
    let staff = TgUser::new(80001, "晓");
    let lead = TgUser::new(70001, "陈");
    bot.register_staff(&staff, "王晓").await;
    bot.register_liaison(&lead, "区教育局", "陈联络员").await;
    bot.submit(&user, "社情民意", "路灯不亮", &["某路段路灯损坏已一个月。"]).await;
    let alert = bot.fake.wait_for_sent(GROUP, 1, support::harness::WAIT).await[0].clone();
    assert!(alert.text.contains("PD-2025-0001"), "{}", alert.text);

    // 受理 on the group's alert three days later: the press is answered, the suggestion accepted,
    // the staff member told in their private chat, and nothing is said in the group.
    bot.clock.set(bot.clock.now_utc() + Duration::days(3));
    let data = alert.callback_for("受理").unwrap();
    let group_before = bot.fake.sent_to(GROUP).len();
    let answers = bot.fake.calls_of("answerCallbackQuery").len();
    let accepted = bot.handle(&staff, |f| f.push_raw(old_group_button(&staff, GROUP, alert.message_id, &data))).await;
    assert_eq!(bot.fake.calls_of("answerCallbackQuery").len(), answers + 1);
    assert!(joined(&accepted).contains("受理"), "{}", joined(&accepted));
    let state = bot.db.scalar("SELECT state FROM suggestions", &[]).await.text();
    assert_eq!(state, "accepted");
    assert_eq!(bot.fake.sent_to(GROUP).len(), group_before, "silence in the group");

    // Routed to the department; its liaison acknowledges a week later.
    let leads = bot.tap(&staff, last(&accepted), "交办").await;
    let step = bot.tap(&staff, last(&leads), "区教育局").await;
    let deadline = bot.tap(&staff, last(&step), "下一步").await;
    let confirm = bot.tap(&staff, last(&deadline), "默认").await;
    let before = bot.fake.sent_to(lead.chat_id()).len();
    bot.tap(&staff, last(&confirm), "确认交办").await;
    let news = bot.fake.sent_to(lead.chat_id())[before].clone();
    bot.clock.set(bot.clock.now_utc() + Duration::days(7));
    let acknowledged = tap_old(&bot, &lead, &news, "签收").await;
    assert!(!acknowledged.is_empty());
    let state = bot.db.scalar("SELECT state FROM suggestions", &[]).await.text();
    assert_eq!(state, "in_progress");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_in_a_forum_topic_is_answered_in_that_topic() {
    const GROUP: i64 = -1_001_234_567_890;
    let mut bot = TestBot::start().await;
    let user = member();
    bot.register(&user, "PD001").await;
    let update_id = bot.fake.push_raw(json!({"message": {
        "message_id": 94, "date": 1764400024, "message_thread_id": 42, "is_topic_message": true,
        "chat": {"id": GROUP, "type": "supergroup", "title": "区政协工作群", "is_forum": true},
        "from": user.to_json(), "text": "/new@jianyan_test_bot",
        "entities": [{"type": "bot_command", "offset": 0, "length": 21}],
    }}));
    bot.settle(update_id).await;
    let sent: Vec<_> = bot.fake.calls_of("sendMessage").into_iter().filter(|c| c.chat_id() == Some(GROUP)).collect();
    assert_eq!(sent.len(), 1, "one answer in the group");
    assert_eq!(sent[0].body["message_thread_id"], json!(42), "in the topic asked in, not General: {}", sent[0].body);
    bot.stop().await;
}
