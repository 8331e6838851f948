//! Delivery resumes and never repeats, through the real bot runtime against a fake Telegram that
//! enforces one message per second per chat and fails chosen parts with 429 and 5xx: every part of
//! a long preview arrives exactly once, in order, and the part with the 提交 buttons arrives; a long
//! row queued by an older version resumes at the part that failed; a staff group upgraded to a
//! supergroup keeps getting alerts, and staff are told once.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jianyan::clock::ManualClock;
use jianyan::reply::{Action, Button, Keyboard};
use jianyan::store::{Audience, NewBroadcast};
use support::fake_telegram::{FakeConfig, FakeTelegram, SentMessage, TgUser};
use support::harness::{NowUtc, TestBot, WAIT, joined, last};

fn member() -> TgUser {
    TgUser::new(90001, "三")
}

/// Telegram's limits as the fake enforces them: one message per second in a chat; errors with
/// HTTP 200 so that teloxide does not sleep 10 s after each injected 5xx.
fn strict() -> FakeConfig {
    FakeConfig { max_per_second_per_chat: Some(1), http_200_on_error: true, ..FakeConfig::default() }
}

/// Keeps the bot's manual clock moving with real time, so that retries (scheduled on the app's
/// clock) come due. Stops when the returned handle is aborted or dropped with the runtime.
fn follow_real_time(clock: Arc<ManualClock>) -> tokio::task::JoinHandle<()> {
    let start = clock.now_utc();
    let began = Instant::now();
    tokio::spawn(async move {
        loop {
            clock.set(start + chrono::Duration::from_std(began.elapsed()).unwrap());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

/// Successful sendMessage calls to `chat`, in order.
fn ok_texts(fake: &FakeTelegram, chat: i64) -> Vec<String> {
    fake.sent_to(chat).into_iter().filter(|m| m.method == "sendmessage").map(|m| m.text).collect()
}

/// Refused sendMessage calls to `chat`: (status, description).
fn refused(fake: &FakeTelegram, chat: i64) -> Vec<(u16, String)> {
    fake.calls_of("sendMessage")
        .into_iter()
        .filter(|c| c.chat_id() == Some(chat) && !c.ok())
        .map(|c| (c.status, c.response["description"].as_str().unwrap_or_default().to_string()))
        .collect()
}

/// Drives the dialog up to the last point recorded (the message with 完成), `points` as sent.
async fn draft(bot: &TestBot, user: &TgUser, title: &str, points: &[String]) -> SentMessage {
    let topics = bot.say(user, "/new").await;
    let kinds = bot.tap(user, last(&topics), "📌").await;
    bot.tap(user, last(&kinds), "建言资政").await;
    bot.say(user, title).await;
    let mut noted = Vec::new();
    for p in points {
        noted = bot.say(user, p).await;
    }
    last(&noted).clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_four_part_preview_arrives_once_per_part_in_order_through_429s_and_5xx() {
    let mut bot = TestBot::start_with(strict(), &[("JIANYAN_DELIVERY__PER_CHAT_PER_SECOND", "1")]).await;
    let ticker = follow_real_time(bot.clock.clone());
    let user = member();
    bot.register(&user, "PD001").await;
    // Seven points of 2,000 characters: a preview of about 14,000 UTF-16 units, four messages.
    let points: Vec<String> = (1..=7).map(|i| format!("第{i}点开头。{}第{i}点结尾。", "字".repeat(1988))).collect();
    let noted = draft(&bot, &user, "关于完善15分钟社区生活圈的建议", &points).await;

    // The preview will be the next four messages to the member: part 2 meets a 429, part 3 a 502
    // and then a 429, part 4 a 500.
    let before = ok_texts(&bot.fake, user.chat_id()).len() as u64;
    let refused_before = refused(&bot.fake, user.chat_id()).len();
    bot.fake.fail_kth("sendMessage", user.chat_id(), before + 2, &[429]);
    bot.fake.fail_kth("sendMessage", user.chat_id(), before + 3, &[502, 429]);
    bot.fake.fail_kth("sendMessage", user.chat_id(), before + 4, &[500]);
    let preview = bot.tap(&user, &noted, "完成").await;

    let texts: Vec<&str> = preview.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(preview.len(), 4, "four parts, each once: {texts:#?}");
    assert!(preview.iter().all(|m| m.text.encode_utf16().count() <= 4096));
    // In order: the points appear in the joined text one after the other, each whole and once.
    let whole = texts.concat();
    let mut at = 0;
    for p in &points {
        let found = whole[at..].find(p.as_str()).unwrap_or_else(|| panic!("point missing or out of order: {whole}"));
        at += found + p.len();
        assert_eq!(whole.matches(p.as_str()).count(), 1);
    }
    // Only the last part carries the buttons.
    assert!(preview[..3].iter().all(|m| m.buttons.is_empty()));
    assert!(last(&preview).button_texts().iter().any(|b| b.contains("提交")), "{:?}", last(&preview).buttons);
    // The faults did happen: three injected 5xx/429 answers plus the fake's own 1/s limit.
    let faults = &refused(&bot.fake, user.chat_id())[refused_before..];
    assert_eq!(faults.iter().filter(|(s, _)| *s >= 500).count(), 2, "the injected 502 and 500: {faults:?}");
    assert!(faults.iter().filter(|(s, _)| *s == 429).count() >= 2, "the injected 429s: {faults:?}");
    // One outbox row per part, each recorded sent.
    let sql = "SELECT status, payload FROM outbox WHERE update_id = (SELECT MAX(update_id) FROM updates) ORDER BY id";
    let rows: Vec<(String, String)> = bot.db.rows(sql, &[]).await.iter().map(|r| (r[0].text(), r[1].text())).collect();
    let sends: Vec<&(String, String)> = rows.iter().filter(|(_, p)| p.contains("\"type\":\"send\"")).collect();
    assert_eq!(sends.len(), 4, "{rows:?}");
    assert!(sends.iter().all(|(s, _)| s == "sent"), "{rows:?}");

    // The buttons that arrived work.
    let receipt = bot.tap(&user, last(&preview), "提交").await;
    assert!(joined(&receipt).contains("PD-2025-0001"), "{}", joined(&receipt));
    println!("--- refused on the way ---\n{faults:#?}");
    ticker.abort();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_row_queued_by_an_older_version_resumes_at_the_part_that_failed() {
    let mut bot = TestBot::start_with(strict(), &[]).await;
    let ticker = follow_real_time(bot.clock.clone());
    let chat = 90002;
    bot.fake.fail_kth("sendMessage", chat, 2, &[429, 502]);
    bot.fake.fail_kth("sendMessage", chat, 3, &[503]);
    // As an older version queued it: one row holding a text of three messages, buttons at the end.
    let text: String = (1..=3).map(|i| format!("第{i}段{}\n", "文".repeat(4000))).collect();
    let keyboard = Keyboard::Inline(vec![vec![Button::new("提交", "x:1")]]);
    let payload = Action::with_keyboard(text.clone(), keyboard).encode();
    let created = chrono::DateTime::parse_from_rfc3339("2025-03-01T00:00:00Z").unwrap().to_utc();
    let sql = "INSERT INTO outbox (chat_id, payload, priority, created_at) VALUES ($1, $2, 1, $3)";
    bot.db.execute(sql, &[chat.into(), payload.clone().into(), created.into()]).await;
    let sent = bot.fake.wait_for_sent(chat, 3, WAIT).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let status = bot.db.scalar("SELECT status FROM outbox", &[]).await.text();
        if status == "sent" {
            break;
        }
        assert!(Instant::now() < deadline, "the row is still {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent_now = bot.fake.sent_to(chat);
    assert_eq!(sent_now.len(), 3, "each part once: {}", bot.fake.transcript(chat));
    assert_eq!(sent.iter().map(|m| m.text.as_str()).collect::<String>(), text);
    assert!(sent[2].button("提交").is_some() && sent[0].buttons.is_empty() && sent[1].buttons.is_empty());
    let refused = refused(&bot.fake, chat);
    assert_eq!(refused.len(), 3, "{refused:?}");
    let row = bot.db.rows("SELECT part, attempts FROM outbox", &[]).await;
    assert_eq!(row.len(), 1, "{row:?}");
    let (part, attempts) = (row[0][0].int(), row[0][1].int());
    // Attempts count afresh for each part: the last part's one 503 and its success, not part 2's 502.
    assert_eq!((part, attempts), (2, 2));
    ticker.abort();
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_group_upgraded_to_a_supergroup_keeps_getting_alerts_and_staff_are_told_once() {
    const GROUP: i64 = -4001;
    const SUPERGROUP: i64 = -1_001_234_567_890;
    let mut bot = TestBot::start_with(FakeConfig::default(), &[("JIANYAN_STAFF__GROUP_CHAT_ID", "-4001")]).await;
    let user = member();
    bot.register(&user, "PD001").await;
    assert_eq!(bot.store.current_chat(GROUP).await.unwrap(), GROUP);

    // Telegram upgraded the group before the first alert.
    bot.fake.migrate_chat(GROUP, SUPERGROUP);
    let noted = draft(&bot, &user, "第一篇", &["第一条".to_string()]).await;
    let preview = bot.tap(&user, &noted, "完成").await;
    bot.tap(&user, last(&preview), "提交").await;
    let got = bot.fake.wait_for_sent(SUPERGROUP, 2, WAIT).await;
    let notice = &got[0];
    assert!(notice.text.contains("工作群已升级为超级群"), "{}", notice.text);
    assert!(notice.text.contains(&SUPERGROUP.to_string()));
    assert!(got[1].text.contains("PD-2025-0001") && got[1].button("受理").is_some(), "{}", got[1].text);
    assert_eq!(bot.store.current_chat(GROUP).await.unwrap(), SUPERGROUP);
    let moved: i64 = bot.count(&format!("SELECT COUNT(*) FROM chat_migrations WHERE new_chat_id = {SUPERGROUP}")).await;
    assert_eq!(moved, 1);

    // The next alert goes straight to the supergroup, and the notice is not repeated.
    let noted = draft(&bot, &user, "第二篇", &["第二条".to_string()]).await;
    let preview = bot.tap(&user, &noted, "完成").await;
    bot.tap(&user, last(&preview), "提交").await;
    let got = bot.fake.wait_for_sent(SUPERGROUP, 3, WAIT).await;
    assert!(got[2].text.contains("PD-2025-0002"), "{}", got[2].text);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let all = bot.fake.sent_to(SUPERGROUP);
    assert_eq!(all.len(), 3, "{}", bot.fake.transcript(SUPERGROUP));
    assert_eq!(all.iter().filter(|m| m.text.contains("工作群已升级为超级群")).count(), 1);
    let to_old = bot.fake.calls_of("sendMessage").into_iter().filter(|c| c.chat_id() == Some(GROUP)).count();
    assert_eq!(to_old, 1, "only the first alert tried the old group");
    assert!(bot.fake.sent_to(GROUP).is_empty());
    // Moving again is a no-op that tells no one.
    let ctx_now = bot.clock.now_utc();
    assert!(!bot.store.migrate_chat(GROUP, SUPERGROUP, Vec::new(), ctx_now).await.unwrap());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_longer_than_one_message_reaches_each_member_once_per_part_and_counts_members() {
    let mut bot = TestBot::start_with(strict(), &[("JIANYAN_DELIVERY__PER_CHAT_PER_SECOND", "1")]).await;
    let ticker = follow_real_time(bot.clock.clone());
    let (a, b) = (member(), TgUser::new(90003, "四"));
    bot.register(&a, "PD001").await;
    bot.register(&b, "PD002").await;
    let before_a = ok_texts(&bot.fake, a.chat_id()).len() as u64;
    let before_b = ok_texts(&bot.fake, b.chat_id()).len();
    // Within the composer's 3,500 characters, but 7,000 UTF-16 units: two messages.
    let text = format!("【区政协】{}", "😀".repeat(3400));
    bot.fake.fail_kth("sendMessage", a.chat_id(), before_a + 2, &[429, 502]);
    let render = |_: Option<&str>| {
        Action::with_keyboard(text.clone(), Keyboard::Inline(vec![vec![Button::new("📝 就此议题建言", "new")]]))
            .encode()
    };
    let broadcast = NewBroadcast {
        topic_id: None,
        text: text.clone(),
        audience: Audience::All,
        staff_id: None,
        dialog: None,
        request_key: None,
    };
    let (id, reached) = bot.store.create_broadcast(broadcast, &render, bot.clock.now_utc()).await.unwrap();
    assert_eq!(reached, 2);
    let deadline = Instant::now() + WAIT;
    let progress = loop {
        let p = bot.store.broadcast_progress(id).await.unwrap().unwrap();
        if p.pending == 0 {
            break p;
        }
        assert!(Instant::now() < deadline, "still pending: {p:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((progress.total, progress.sent, progress.failed), (2, 2, 0), "{progress:?}");
    for (user, before) in [(&a, before_a as usize), (&b, before_b)] {
        let got = bot.fake.sent_to(user.chat_id()).split_off(before);
        assert_eq!(got.len(), 2, "two parts, once each: {}", bot.fake.transcript(user.chat_id()));
        assert_eq!(got.iter().map(|m| m.text.as_str()).collect::<String>(), text);
        assert!(got[0].buttons.is_empty() && got[1].button("就此议题建言").is_some());
    }
    assert_eq!(refused(&bot.fake, a.chat_id()).iter().filter(|(s, _)| *s == 502).count(), 1);
    ticker.abort();
    bot.stop().await;
}
