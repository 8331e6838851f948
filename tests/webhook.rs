//! Webhook mode end to end: the fake Telegram posts each update to the console's
//! `/telegram/webhook` with the secret the bot gave setWebhook; the instance stores it before
//! answering 200, and the bot's engine processes it. Requests without the secret, or with a wrong
//! one, are refused, and an update that cannot be stored is answered with an error so that
//! Telegram sends it again.

mod support;

use std::time::Duration;

use jianyan::web::{self, WebState};
use serde_json::json;
use support::fake_telegram::{FakeConfig, TgUser};
use support::harness::{TestBot, WAIT};
use tokio::sync::watch;

const SECRET: &str = "s3cret_Webhook-token";
const PUBLIC_URL: &str = "https://jianyan.example.org/telegram/webhook";

/// The bot in webhook mode with its console served on a free port; the fake Telegram posts to it.
async fn webhook_bot() -> (TestBot, String, watch::Sender<bool>) {
    let bot = TestBot::start_with(
        FakeConfig::default(),
        &[
            ("JIANYAN_TELEGRAM__MODE", "webhook"),
            ("JIANYAN_TELEGRAM__WEBHOOK_URL", PUBLIC_URL),
            ("JIANYAN_TELEGRAM__WEBHOOK_SECRET", SECRET),
        ],
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/telegram/webhook", listener.local_addr().unwrap());
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(web::serve(WebState::new(bot.app.clone(), true), listener, stopped));
    bot.fake.webhook_targets(vec![url.clone()]);
    (bot, url, stop)
}

async fn wait_for_webhook(bot: &TestBot) -> (String, Option<String>) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(set) = bot.fake.webhook() {
            return set;
        }
        assert!(std::time::Instant::now() < deadline, "the bot did not call setWebhook");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_registers_and_submits_through_the_webhook() {
    let (bot, _url, _stop) = webhook_bot().await;
    // The bot told Telegram its public address and the secret, and does not poll.
    let (url, secret) = wait_for_webhook(&bot).await;
    assert_eq!((url.as_str(), secret.as_deref()), (PUBLIC_URL, Some(SECRET)));

    let user = TgUser::new(90001, "三");
    let greeting = bot.register(&user, "PD001").await;
    assert!(greeting.text.contains("张三委员"), "{}", greeting.text);
    let receipt = bot.submit(&user, "建言资政", "关于加强社区养老服务的建议", &["增加日间照料中心"]).await;
    assert!(support::harness::joined(&receipt).contains("PD-2025-0001"), "{}", support::harness::joined(&receipt));
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions").await, 1);
    // Every update came by the webhook, answered 200 once each, and none by getUpdates.
    let posts = bot.fake.webhook_posts();
    assert!(!posts.is_empty());
    assert!(posts.iter().all(|(_, _, status)| *status == 200), "{posts:?}");
    let mut ids: Vec<i64> = posts.iter().map(|(_, id, _)| *id).collect();
    ids.dedup();
    assert_eq!(ids.len(), posts.len(), "an update was posted twice: {posts:?}");
    assert!(bot.fake.calls_of("getUpdates").is_empty(), "the bot polled in webhook mode");
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates WHERE processed_at IS NULL").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_the_right_secret_are_refused_and_store_nothing() {
    let (bot, url, _stop) = webhook_bot().await;
    wait_for_webhook(&bot).await;
    let client = reqwest::Client::new();
    let update = json!({"update_id": 777001, "message": {"message_id": 1, "date": 1740794400,
        "chat": {"id": 90002, "type": "private", "first_name": "四"},
        "from": {"id": 90002, "is_bot": false, "first_name": "四"}, "text": "/start"}});
    let post = |secret: Option<&str>, body: String| {
        let mut request = client.post(&url).header("content-type", "application/json").body(body);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(None, update.to_string()).await, 401, "no secret");
    assert_eq!(post(Some("wrong"), update.to_string()).await, 403, "a wrong secret");
    assert_eq!(post(Some(&format!("{SECRET}x")), update.to_string()).await, 403, "a longer secret");
    assert_eq!(post(Some(SECRET), "not json".into()).await, 400, "a body that is no update");
    assert_eq!(post(Some(SECRET), json!({"message": {}}).to_string()).await, 400, "no update_id");
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates").await, 0, "a refused request stored something");

    // With the secret it is stored byte for byte and processed: the stranger is told how to register.
    let body = update.to_string();
    assert_eq!(post(Some(SECRET), body.clone()).await, 200);
    let stored = bot.db.scalar("SELECT payload FROM updates WHERE update_id = 777001", &[]).await.text();
    assert_eq!(stored, body);
    let replies = bot.fake.wait_for_sent(90002, 1, WAIT).await;
    assert_eq!(replies[0].text, bot.t("register.not_registered"));
    // The same update posted again (Telegram retrying) is taken once.
    assert_eq!(post(Some(SECRET), body).await, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot.fake.sent_to(90002).len(), 1, "a retried update was answered twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_that_cannot_be_stored_is_refused_so_telegram_sends_it_again() {
    let (bot, _url, _stop) = webhook_bot().await;
    wait_for_webhook(&bot).await;
    // The database refuses writes to the updates table for a while.
    bot.db.execute("ALTER TABLE updates RENAME TO updates_away", &[]).await;
    let user = TgUser::new(90003, "五");
    let update_id = bot.fake.push_text(&user, "你好");
    let deadline = std::time::Instant::now() + WAIT;
    while !bot.fake.webhook_posts().iter().any(|(_, id, status)| *id == update_id && *status == 500) {
        assert!(std::time::Instant::now() < deadline, "no 500 answer: {:?}", bot.fake.webhook_posts());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(bot.fake.sent_to(user.chat_id()).is_empty());
    // Once it can be stored, Telegram's retry is taken and answered.
    bot.db.execute("ALTER TABLE updates_away RENAME TO updates", &[]).await;
    let replies = bot.fake.wait_for_sent(user.chat_id(), 1, WAIT).await;
    assert_eq!(replies[0].text, bot.t("register.not_registered"));
    let posts: Vec<u16> =
        bot.fake.webhook_posts().iter().filter(|(_, id, _)| *id == update_id).map(|(_, _, s)| *s).collect();
    assert_eq!(posts.last(), Some(&200), "{posts:?}");
}
