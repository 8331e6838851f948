//! Self-test of the fake Telegram Bot API server: a real teloxide `Bot` must be able to parse
//! every answer, and the queue/long-poll/fault-injection behaviour must match Telegram's.

#[path = "support/fake_telegram.rs"]
mod fake_telegram;

use std::time::{Duration, Instant};

use fake_telegram::{BOT_ID, FIRST_MESSAGE_ID, FakeConfig, FakeTelegram, TgUser};
use serde_json::{Value, json};
use teloxide::payloads::setters::*;
use teloxide::prelude::Requester;
use teloxide::types::{
    BotCommand, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MaybeInaccessibleMessage, MessageId,
    ParseMode, Update, UpdateKind,
};
use teloxide::{ApiError, Bot, RequestError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(5);

/// A teloxide bot pointed at the fake server. teloxide does not re-export `reqwest`, so the
/// `reqwest::Url` is obtained by joining the fake's absolute URL onto the default one.
fn bot_for(fake: &FakeTelegram) -> Bot {
    let bot = Bot::new("123:TEST");
    let url = bot.api_url().join(&fake.api_url()).expect("valid url");
    bot.set_api_url(url)
}

/// Fetches pending updates without waiting and without confirming anything.
async fn fetch(bot: &Bot, offset: i32) -> Vec<Update> {
    bot.get_updates().offset(offset).timeout(0).await.expect("getUpdates parses")
}

/// Minimal raw HTTP/1.1 client (Connection: close) → (status, JSON body).
async fn raw_http(fake: &FakeTelegram, method: &str, path: &str, ctype: &str, body: &[u8]) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(fake.addr()).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
        fake.addr(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).await.unwrap();
    let text = String::from_utf8(resp).unwrap();
    let status: u16 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let (_, json_body) = text.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(json_body).unwrap_or(Value::Null))
}

fn user() -> TgUser {
    TgUser::new(4242, "王委员")
}

#[tokio::test]
async fn get_me_parses() {
    let fake = FakeTelegram::start().await;
    assert!(fake.api_url().starts_with("http://127.0.0.1:") && fake.api_url().ends_with('/'));
    let me = bot_for(&fake).get_me().await.expect("getMe parses");
    assert_eq!(me.id.0 as i64, BOT_ID);
    assert_eq!(me.username(), "jianyan_test_bot");
    assert_eq!(me.first_name, "建言助手");
    assert!(me.can_join_groups);
    assert_eq!(fake.calls_of("getMe").len(), 1);
    assert_eq!(fake.calls()[0].method, "getme");
}

#[tokio::test]
async fn text_updates_stay_queued_until_confirmed() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    let u = user();
    let id1 = fake.push_text(&u, "/start 邀请码 ABC");
    let id2 = fake.push_text(&u, "你好");
    assert_eq!((id1, id2), (1, 2));
    assert_eq!(fake.pending_update_count(), 2);

    let ups = fetch(&bot, 0).await;
    assert_eq!(ups.len(), 2);
    assert_eq!(ups[0].id.0, 1);
    let UpdateKind::Message(m) = &ups[0].kind else { panic!("not a message: {:?}", ups[0].kind) };
    assert_eq!(m.text(), Some("/start 邀请码 ABC"));
    assert_eq!(m.chat.id, ChatId(4242));
    assert!(m.chat.is_private());
    let from = m.from.as_ref().unwrap();
    assert_eq!(from.first_name, "王委员");
    assert_eq!(from.language_code.as_deref(), Some("zh-hans"));
    let ents = m.entities().unwrap();
    assert_eq!(ents.len(), 1);
    assert_eq!((ents[0].offset, ents[0].length), (0, 6));
    assert!(m.id.0 >= FIRST_MESSAGE_ID as i32);

    // Not confirmed: a restarted bot gets them again.
    assert_eq!(fetch(&bot, 0).await.len(), 2);
    assert_eq!(fake.confirmed_offset(), 0);

    // Confirm the first one only.
    let ups = fetch(&bot, 2).await;
    assert_eq!(ups.len(), 1);
    assert_eq!(ups[0].id.0, 2);
    assert_eq!(fake.confirmed_offset(), 2);
    assert_eq!(fake.pending_update_count(), 1);

    fake.wait_until_confirmed(1, WAIT).await;
    assert!(fetch(&bot, 3).await.is_empty());
    assert_eq!(fake.pending_update_count(), 0);
    fake.wait_until_confirmed(2, WAIT).await;
}

#[tokio::test]
async fn limit_and_negative_offset() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    for i in 0..5 {
        fake.push_text(&user(), &format!("m{i}"));
    }
    let ups = bot.get_updates().limit(2).timeout(0).await.unwrap();
    assert_eq!(ups.iter().map(|u| u.id.0).collect::<Vec<_>>(), vec![1, 2]);
    // teloxide's drop_pending_updates: offset -1 keeps only the last one.
    let ups = bot.get_updates().offset(-1).limit(1).timeout(0).await.unwrap();
    assert_eq!(ups.len(), 1);
    assert_eq!(ups[0].id.0, 5);
    assert_eq!(fake.pending_update_count(), 1);
}

#[tokio::test]
async fn long_poll_wakes_on_new_update_and_times_out_empty() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);

    let started = Instant::now();
    let empty = bot.get_updates().timeout(1).await.unwrap();
    assert!(empty.is_empty());
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(3), "{waited:?}");

    let poller = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    fake.push_text(&user(), "迟到的消息");
    let ups = tokio::time::timeout(WAIT, poller).await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(ups.len(), 1);
}

#[tokio::test]
async fn send_message_with_inline_keyboard_callback_and_edits() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    let u = user();

    let kb = InlineKeyboardMarkup::new(vec![
        vec![InlineKeyboardButton::callback("提交", "submit:1"), InlineKeyboardButton::callback("放弃", "drop:1")],
        vec![InlineKeyboardButton::url("说明", "https://example.org/help".parse().unwrap())],
    ]);
    let msg = bot
        .send_message(ChatId(u.id), "请确认您的建议：\n加强社区养老")
        .reply_markup(kb)
        .await
        .expect("sendMessage parses");
    assert_eq!(msg.id, MessageId(FIRST_MESSAGE_ID as i32));
    assert_eq!(msg.text(), Some("请确认您的建议：\n加强社区养老"));
    assert_eq!(msg.chat.id, ChatId(u.id));
    assert_eq!(msg.from.as_ref().unwrap().id.0 as i64, BOT_ID);
    let markup = msg.reply_markup().expect("inline keyboard echoed");
    assert_eq!(markup.inline_keyboard[0][1].text, "放弃");

    let sent = fake.wait_for_sent(u.id, 1, WAIT).await;
    assert_eq!(sent.len(), 1);
    let s = &sent[0];
    assert_eq!((s.method.as_str(), s.message_id, s.chat_id), ("sendmessage", 1000, u.id));
    assert_eq!(s.button_texts(), vec!["提交", "放弃", "说明"]);
    assert_eq!(s.callback_for("提交").as_deref(), Some("submit:1"));
    assert_eq!(s.buttons[1][0].url.as_deref(), Some("https://example.org/help"));
    assert!(s.reply_keyboard.is_empty() && !s.remove_keyboard);

    // The person presses 提交.
    let cb_update = fake.click(&u, s, "提交");
    let ups = fetch(&bot, 0).await;
    assert_eq!(ups.len(), 1);
    assert_eq!(ups[0].id.0 as i64, cb_update);
    let UpdateKind::CallbackQuery(q) = &ups[0].kind else { panic!("{:?}", ups[0].kind) };
    assert_eq!(q.data.as_deref(), Some("submit:1"));
    assert_eq!(q.from.id.0 as i64, u.id);
    let Some(MaybeInaccessibleMessage::Regular(qm)) = &q.message else { panic!("{:?}", q.message) };
    assert_eq!(qm.id, msg.id);
    assert_eq!(qm.text(), Some("请确认您的建议：\n加强社区养老"));

    // A callback on a message the fake never saw still parses.
    fake.push_callback(&u, 77, "x");
    let ups = fetch(&bot, cb_update as i32 + 1).await;
    let UpdateKind::CallbackQuery(q) = &ups[0].kind else { panic!() };
    assert!(matches!(&q.message, Some(MaybeInaccessibleMessage::Regular(m)) if m.id == MessageId(77)));

    bot.answer_callback_query(q.id.clone()).await.expect("answerCallbackQuery parses");

    let edited = bot
        .edit_message_reply_markup(ChatId(u.id), msg.id)
        .reply_markup(InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("已提交", "noop")]]))
        .await
        .expect("editMessageReplyMarkup parses");
    assert_eq!(edited.id, msg.id);
    assert_eq!(edited.text(), Some("请确认您的建议：\n加强社区养老"));
    assert_eq!(edited.reply_markup().unwrap().inline_keyboard[0][0].text, "已提交");
    assert!(edited.edit_date().is_some());

    let edited = bot
        .edit_message_text(ChatId(u.id), msg.id, "<b>已提交</b> &amp; 感谢")
        .parse_mode(ParseMode::Html)
        .await
        .expect("editMessageText parses");
    assert_eq!(edited.text(), Some("已提交 & 感谢"));
    assert!(edited.reply_markup().is_none(), "edit without markup removes it");

    let sent = fake.wait_for_sent(u.id, 2, WAIT).await;
    assert_eq!(sent.len(), 2, "editMessageReplyMarkup is not listed in sent_to");
    assert_eq!(sent[1].method, "editmessagetext");
    assert_eq!(sent[1].message_id, 1000);
    assert_eq!(sent[1].text, "已提交 & 感谢");
    assert_eq!(fake.wait_for_new(u.id, 1, WAIT).await.text, "已提交 & 感谢");
    assert_eq!(fake.delivered_count(), 1);

    let t = fake.transcript(u.id);
    let expected = [
        "<< 请确认您的建议：",
        "   加强社区养老",
        "   [提交] [放弃]",
        "   [说明]",
        ">> [按钮] submit:1",
        "<< (修改按钮 #1000)",
        "   [已提交]",
        "<< (修改 #1000) 已提交 & 感谢",
    ];
    let mut rest = t.as_str();
    for line in expected {
        let at = rest.find(line).unwrap_or_else(|| panic!("{line:?} missing in order:\n{t}"));
        rest = &rest[at + line.len()..];
    }
}

#[tokio::test]
async fn commands_and_true_methods() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    assert!(bot.get_my_commands().await.unwrap().is_empty());
    bot.set_my_commands(vec![BotCommand::new("start", "开始"), BotCommand::new("new", "提交新建议")])
        .await
        .expect("setMyCommands parses");
    let cmds = bot.get_my_commands().await.unwrap();
    assert_eq!(cmds.len(), 2);
    assert_eq!((cmds[1].command.as_str(), cmds[1].description.as_str()), ("new", "提交新建议"));
    bot.delete_webhook().await.unwrap();
    bot.set_my_description().description("建言").await.unwrap();
    bot.delete_message(ChatId(1), MessageId(5)).await.unwrap();
    bot.set_chat_menu_button().await.unwrap();
    let copied = bot.copy_message(ChatId(1), ChatId(2), MessageId(3)).await.unwrap();
    assert_eq!(copied, MessageId(FIRST_MESSAGE_ID as i32));
    let methods: Vec<String> = fake.calls().into_iter().map(|c| c.method).collect();
    assert_eq!(
        methods,
        [
            "getmycommands",
            "setmycommands",
            "getmycommands",
            "deletewebhook",
            "setmydescription",
            "deletemessage",
            "setchatmenubutton",
            "copymessage"
        ]
    );
}

#[tokio::test]
async fn every_push_kind_parses_in_teloxide() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    let u = user().with_language("en");
    let first = fake.push_photo(&u, Some("现场照片"));
    fake.push_photo(&u, None);
    fake.push_document(&u, "提案.pdf", "application/pdf");
    fake.push_voice(&u);
    fake.push_sticker(&u);
    fake.push_location(&u);
    let text_id = fake.push_text(&u, "原文");
    fake.push_edited_text(&u, FIRST_MESSAGE_ID + 6, "改过的");
    fake.push_group_text(&u, -100_123, "/help@jianyan_test_bot");
    let raw = fake.push_raw(json!({"my_chat_member": {
        "chat": {"id": u.id, "type": "private", "first_name": "王委员"},
        "from": u.to_json(), "date": 1_700_000_000,
        "old_chat_member": {"user": FakeTelegram::bot_user(), "status": "member"},
        "new_chat_member": {"user": FakeTelegram::bot_user(), "status": "kicked", "until_date": 0},
    }}));
    assert_eq!((first, text_id, raw), (1, 7, 10));

    let ups = fetch(&bot, 0).await;
    assert_eq!(ups.len(), 10);
    let msg = |i: usize| match &ups[i].kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => m.clone(),
        other => panic!("update {i} is not a message: {other:?}"),
    };
    let photo = msg(0);
    assert_eq!(photo.photo().unwrap().len(), 2);
    assert_eq!(photo.caption(), Some("现场照片"));
    assert_eq!(photo.from.as_ref().unwrap().language_code.as_deref(), Some("en"));
    assert!(msg(1).photo().is_some() && msg(1).caption().is_none());
    let doc = msg(2);
    assert_eq!(doc.document().unwrap().file_name.as_deref(), Some("提案.pdf"));
    assert!(msg(3).voice().is_some());
    assert!(msg(4).sticker().is_some());
    assert!(msg(5).location().is_some());
    assert!(matches!(ups[7].kind, UpdateKind::EditedMessage(_)));
    let edited = msg(7);
    assert_eq!((edited.id.0 as i64, edited.text()), (FIRST_MESSAGE_ID + 6, Some("改过的")));
    assert_eq!(edited.date, msg(6).date);
    assert!(edited.edit_date().is_some());
    let group = msg(8);
    assert!(group.chat.is_group());
    assert_eq!(group.chat.id, ChatId(-100_123));
    assert_eq!(group.entities().unwrap()[0].length, "/help@jianyan_test_bot".len());
    assert!(matches!(ups[9].kind, UpdateKind::MyChatMember(_)), "{:?}", ups[9].kind);

    let t = fake.transcript(u.id);
    for line in [
        ">> [图片] 现场照片",
        ">> [文件 提案.pdf]",
        ">> [语音]",
        ">> [贴纸 👍]",
        ">> [位置]",
        ">> 王委员: 原文",
        ">> (编辑 #1006) 王委员: 改过的",
    ] {
        assert!(t.contains(line), "{line:?} missing:\n{t}");
    }
    assert!(!t.contains("/help"), "group message is not in the private transcript");
    assert!(fake.transcript(-100_123).contains(">> 王委员: /help@jianyan_test_bot"));
}

#[tokio::test]
async fn same_update_is_delivered_again() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    let id = fake.push_text(&user(), "一次");
    assert_eq!(fetch(&bot, 0).await.len(), 1);
    assert!(fetch(&bot, 2).await.is_empty());
    fake.push_same_update_again(id);
    let later = fake.push_text(&user(), "两次");

    // Delivered although confirmed, once, in id order before the newer update.
    let ups = fetch(&bot, 2).await;
    assert_eq!(ups.iter().map(|u| u.id.0).collect::<Vec<_>>(), vec![1, 2]);
    let ups = fetch(&bot, later as i32 + 1).await;
    assert!(ups.is_empty());
    assert_eq!(fake.pending_update_count(), 0);
    assert!(fake.transcript(user().id).contains(">> 王委员: 一次 (重发)"));
}

#[tokio::test]
async fn teloxide_dispatcher_polls_and_confirms_on_shutdown() {
    use teloxide::dispatching::{Dispatcher, UpdateFilterExt};
    use teloxide::error_handlers::LoggingErrorHandler;
    use teloxide::types::Message;
    use teloxide::update_listeners::Polling;

    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    fake.push_text(&user(), "/start");
    let last = fake.push_text(&user(), "第二条");

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let handler = Update::filter_message().endpoint(move |bot: Bot, m: Message| {
        let tx = tx.clone();
        async move {
            tx.send(m.text().unwrap_or_default().to_owned()).unwrap();
            bot.send_message(m.chat.id, "收到").await?;
            Ok::<(), RequestError>(())
        }
    });
    let mut dispatcher = Dispatcher::builder(bot.clone(), handler).build();
    let shutdown = dispatcher.shutdown_token();
    let listener = Polling::builder(bot).timeout(Duration::from_secs(1)).build();
    let running =
        tokio::spawn(async move { dispatcher.dispatch_with_listener(listener, LoggingErrorHandler::new()).await });
    let mut texts = Vec::new();
    while texts.len() < 2 {
        texts.push(tokio::time::timeout(WAIT, rx.recv()).await.unwrap().unwrap());
    }
    texts.sort();
    assert_eq!(texts, ["/start", "第二条"]);
    let replies = fake.wait_for_sent(user().id, 2, WAIT).await;
    assert!(replies.iter().all(|r| r.text == "收到"));

    // Graceful shutdown confirms what was handled.
    loop {
        match shutdown.shutdown() {
            Ok(done) => break done.await,
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await, // not idle yet
        }
    }
    tokio::time::timeout(WAIT, running).await.unwrap().unwrap();
    fake.wait_until_confirmed(last, WAIT).await;
    assert_eq!(fake.pending_update_count(), 0);
}

#[tokio::test]
async fn send_photo_upload_is_multipart_and_recorded() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    let msg = bot
        .send_photo(ChatId(99), InputFile::memory(vec![0x89, b'P', b'N', b'G']).file_name("a.png"))
        .caption("回执")
        .await
        .expect("sendPhoto parses");
    assert!(msg.photo().is_some());
    assert_eq!(msg.caption(), Some("回执"));
    let msg = bot
        .send_document(ChatId(99), InputFile::memory(b"a,b\n1,2\n".to_vec()).file_name("导出.csv"))
        .await
        .expect("sendDocument parses");
    assert_eq!(msg.document().unwrap().file_name.as_deref(), Some("导出.csv"));

    let sent = fake.sent_to(99);
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[0].method.as_str(), sent[0].text.as_str()), ("sendphoto", "回执"));
    assert_eq!(sent[0].raw["photo"]["upload"], json!(true));
    assert_eq!(sent[1].raw["document"]["file_name"], json!("导出.csv"));
    assert_eq!(fake.delivered_count(), 2);
    let t = fake.transcript(99);
    assert!(t.contains("<< [图片] 回执") && t.contains("<< [文件]"), "{t}");
}

#[tokio::test]
async fn per_chat_rate_limit_answers_429() {
    let fake = FakeTelegram::start_with(FakeConfig { max_per_second_per_chat: Some(2), ..FakeConfig::default() }).await;
    let bot = bot_for(&fake);
    bot.send_message(ChatId(1), "a").await.unwrap();
    bot.send_message(ChatId(1), "b").await.unwrap();
    bot.send_message(ChatId(2), "other chat is fine").await.unwrap();
    let err = bot.send_message(ChatId(1), "c").await.unwrap_err();
    assert!(matches!(err, RequestError::RetryAfter(s) if s.seconds() >= 1), "{err:?}");
    assert_eq!(fake.count_429(), 1);
    assert_eq!(fake.delivered_count(), 3);
    let calls = fake.calls_of("sendMessage");
    assert_eq!(calls.iter().map(|c| c.status).collect::<Vec<_>>(), vec![200, 200, 200, 429]);
    assert_eq!(fake.sent_to(1).len(), 2);
    assert!(fake.transcript(1).contains("(未送达: 429 Too Many Requests"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    bot.send_message(ChatId(1), "c").await.unwrap();
}

#[tokio::test]
async fn global_rate_limit_answers_429() {
    let fake = FakeTelegram::start_with(FakeConfig { max_per_second_global: Some(1), ..FakeConfig::default() }).await;
    let bot = bot_for(&fake);
    bot.send_message(ChatId(1), "a").await.unwrap();
    let err = bot.send_message(ChatId(2), "b").await.unwrap_err();
    assert!(matches!(err, RequestError::RetryAfter(_)), "{err:?}");
    assert_eq!((fake.count_429(), fake.delivered_count()), (1, 1));
}

#[tokio::test]
async fn fail_next_and_block_chat() {
    let fake = FakeTelegram::start_with(FakeConfig {
        http_200_on_error: true, // skip teloxide's 10 s sleep after HTTP 5xx
        ..FakeConfig::default()
    })
    .await;
    let bot = bot_for(&fake);
    fake.fail_next("sendMessage", 403, 1);
    fake.fail_next("sendmessage", 500, 1);
    fake.fail_next("sendmessage", 429, 1);
    let e = bot.send_message(ChatId(5), "x").await.unwrap_err();
    assert!(matches!(e, RequestError::Api(ApiError::BotBlocked)), "{e:?}");
    let e = bot.send_message(ChatId(5), "x").await.unwrap_err();
    assert!(matches!(&e, RequestError::Api(ApiError::Unknown(d)) if d == "Internal Server Error"), "{e:?}");
    let e = bot.send_message(ChatId(5), "x").await.unwrap_err();
    assert!(matches!(e, RequestError::RetryAfter(s) if s.seconds() == 1), "{e:?}");
    bot.send_message(ChatId(5), "x").await.unwrap();
    assert_eq!(fake.count_429(), 1);

    fake.block_chat(6);
    for _ in 0..3 {
        let e = bot.send_message(ChatId(6), "x").await.unwrap_err();
        assert!(matches!(e, RequestError::Api(ApiError::BotBlocked)), "{e:?}");
    }
    bot.send_message(ChatId(5), "still fine").await.unwrap();
    assert_eq!(fake.delivered_count(), 2);
    assert!(fake.sent_to(6).is_empty());
}

#[tokio::test]
async fn errors_use_telegram_http_status_by_default() {
    let fake = FakeTelegram::start().await;
    fake.fail_next("sendMessage", 502, 1);
    let body = br#"{"chat_id":1,"text":"x"}"#;
    let (status, v) = raw_http(&fake, "POST", "/bot1:x/sendMessage", "application/json", body).await;
    assert_eq!(status, 502);
    assert_eq!(v, json!({"ok": false, "error_code": 502, "description": "Internal Server Error"}));
    fake.fail_next("getUpdates", 429, 1);
    let (status, v) = raw_http(&fake, "POST", "/bot1:x/getUpdates", "application/json", b"{}").await;
    assert_eq!(status, 429);
    assert_eq!(v["parameters"], json!({"retry_after": 1}));
}

#[tokio::test]
async fn raw_http_routes_and_bodies() {
    let fake = FakeTelegram::start().await;
    // Unknown method.
    let (status, v) = raw_http(&fake, "POST", "/botX/fooBar", "application/json", b"{}").await;
    assert_eq!(status, 404);
    assert_eq!(v, json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"}));
    assert_eq!(fake.calls_of("foobar").len(), 1);
    // Not a bot path.
    let (status, _) = raw_http(&fake, "GET", "/nothing", "text/plain", b"").await;
    assert_eq!(status, 404);
    // GET with query string, case-insensitive method.
    let (status, v) = raw_http(&fake, "GET", "/botX/GETME", "text/plain", b"").await;
    assert_eq!((status, v["result"]["username"].clone()), (200, json!("jianyan_test_bot")));
    let (_, v) = raw_http(&fake, "GET", "/botX/sendMessage?chat_id=7&text=hi", "text/plain", b"").await;
    assert_eq!(v["result"]["text"], json!("hi"));
    assert_eq!(v["result"]["chat"], json!({"id": 7, "type": "private", "first_name": "委员"}));
    // Form body with a string chat id and JSON reply_markup.
    let form = b"chat_id=8&text=%E4%BD%A0%E5%A5%BD&reply_markup=%7B%22inline_keyboard%22%3A%5B%5B%7B%22text%22%3A%22ok%22%2C%22callback_data%22%3A%22k%22%7D%5D%5D%7D";
    let (_, v) = raw_http(&fake, "POST", "/botX/sendMessage", "application/x-www-form-urlencoded", form).await;
    assert_eq!(v["result"]["text"], json!("你好"));
    assert_eq!(fake.sent_to(8)[0].callback_for("ok").as_deref(), Some("k"));
    // Group chat ids get a group chat object.
    let (_, v) =
        raw_http(&fake, "POST", "/botX/sendMessage", "application/json", br#"{"chat_id":"-42","text":"g"}"#).await;
    assert_eq!(v["result"]["chat"]["type"], json!("group"));
    // Broken JSON.
    let (status, v) = raw_http(&fake, "POST", "/botX/sendMessage", "application/json", b"{oops").await;
    assert_eq!(status, 400);
    assert_eq!(v["ok"], json!(false));
    // Reply keyboard / remove keyboard parsing.
    let body =
        br#"{"chat_id":9,"text":"choose","reply_markup":{"keyboard":[["A",{"text":"B"}]],"resize_keyboard":true}}"#;
    raw_http(&fake, "POST", "/botX/sendMessage", "application/json", body).await;
    let body = br#"{"chat_id":9,"text":"done","reply_markup":{"remove_keyboard":true}}"#;
    let (_, v) = raw_http(&fake, "POST", "/botX/sendMessage", "application/json", body).await;
    assert!(v["result"].get("reply_markup").is_none(), "only inline keyboards are echoed");
    let sent = fake.sent_to(9);
    assert_eq!(sent[0].reply_keyboard, vec![vec!["A".to_owned(), "B".to_owned()]]);
    assert!(sent[1].remove_keyboard);
    let t = fake.transcript(9);
    assert!(t.contains("   ⌨ [A] [B]") && t.contains("   (收起键盘)"), "{t}");
}

#[tokio::test]
async fn waits_wake_promptly_and_latency_applies() {
    let fake =
        FakeTelegram::start_with(FakeConfig { latency: Duration::from_millis(150), ..FakeConfig::default() }).await;
    let bot = bot_for(&fake);
    let sender = tokio::spawn({
        let bot = bot.clone();
        async move {
            for i in 0..3 {
                bot.send_message(ChatId(3), format!("第{i}条")).await.unwrap();
            }
        }
    });
    let started = Instant::now();
    let sent = fake.wait_for_sent(3, 3, WAIT).await;
    assert!(started.elapsed() >= Duration::from_millis(450));
    assert_eq!(sent.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(), ["第0条", "第1条", "第2条"]);
    assert_eq!(fake.wait_for_call("SendMessage", 3, WAIT).await.len(), 3);
    sender.await.unwrap();
}

#[tokio::test]
#[should_panic(expected = "timed out after")]
async fn wait_for_sent_panics_with_transcript() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    fake.push_text(&user(), "有人吗");
    bot.send_message(ChatId(user().id), "在").await.unwrap();
    fake.wait_for_sent(user().id, 2, Duration::from_millis(200)).await;
}

#[tokio::test]
async fn wait_for_sent_failure_message_lists_what_was_sent() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    fake.push_text(&user(), "有人吗");
    bot.send_message(ChatId(user().id), "在").await.unwrap();
    let f = fake.clone();
    let err =
        tokio::spawn(async move { f.wait_for_sent(4242, 2, Duration::from_millis(100)).await }).await.unwrap_err();
    let panic = err.into_panic();
    let msg = panic.downcast_ref::<String>().unwrap();
    assert!(msg.contains("got 1") && msg.contains(">> 王委员: 有人吗") && msg.contains("<< 在"), "{msg}");
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    bot.get_me().await.unwrap();
    fake.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(bot.get_me().await.is_err());
}

/// The error a teloxide call ended with, for matching.
fn api_err<T: std::fmt::Debug>(r: Result<T, RequestError>) -> RequestError {
    r.expect_err("Telegram refuses this")
}

#[tokio::test]
async fn refuses_the_content_telegram_refuses() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    // 4096 UTF-16 code units is the limit, whatever the number of characters.
    let at_limit = "😀".repeat(2048);
    bot.send_message(ChatId(1), at_limit).await.expect("4096 units fit");
    let e = api_err(bot.send_message(ChatId(1), "😀".repeat(2049)).await);
    assert!(matches!(e, RequestError::Api(ApiError::MessageIsTooLong)), "{e:?}");
    let e = api_err(bot.send_message(ChatId(1), "").await);
    assert!(matches!(e, RequestError::Api(ApiError::MessageTextIsEmpty)), "{e:?}");
    let e = api_err(bot.send_message(ChatId(1), " \n ").await);
    assert!(matches!(e, RequestError::Api(ApiError::MessageTextIsEmpty)), "{e:?}");
    // HTML tags do not count: what is shown does.
    bot.send_message(ChatId(1), format!("<b>{}</b>", "字".repeat(4096))).parse_mode(ParseMode::Html).await.unwrap();

    let photo = || InputFile::file_id(teloxide::types::FileId("AgACAgX".to_owned()));
    bot.send_photo(ChatId(1), photo()).caption("字".repeat(1024)).await.expect("1024 units fit");
    let e = api_err(bot.send_photo(ChatId(1), photo()).caption("字".repeat(1025)).await);
    assert!(
        matches!(&e, RequestError::Api(ApiError::Unknown(d)) if d == "Bad Request: message caption is too long"),
        "{e:?}"
    );

    let keyboard = |data: String| InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("按钮", data)]]);
    bot.send_message(ChatId(1), "x").reply_markup(keyboard("d".repeat(64))).await.expect("64 bytes fit");
    // 22 Chinese characters are 66 bytes.
    let e = api_err(bot.send_message(ChatId(1), "x").reply_markup(keyboard("字".repeat(22))).await);
    assert!(matches!(e, RequestError::Api(ApiError::ButtonDataInvalid)), "{e:?}");
    assert_eq!(fake.delivered_count(), 4, "refused messages are not delivered");
    assert_eq!(fake.sent_to(1).len(), 4);
    assert!(fake.transcript(1).contains("(未送达: 400 Bad Request: message is too long)"));
}

#[tokio::test]
async fn refuses_edits_that_change_nothing_or_miss() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    let kb = InlineKeyboardMarkup::new(vec![vec![InlineKeyboardButton::callback("提交", "s")]]);
    let msg = bot.send_message(ChatId(3), "预览").reply_markup(kb.clone()).await.unwrap();
    let e = api_err(bot.edit_message_reply_markup(ChatId(3), msg.id).reply_markup(kb.clone()).await);
    assert!(matches!(e, RequestError::Api(ApiError::MessageNotModified)), "{e:?}");
    let e = api_err(bot.edit_message_text(ChatId(3), msg.id, "预览").reply_markup(kb).await);
    assert!(matches!(e, RequestError::Api(ApiError::MessageNotModified)), "{e:?}");
    // Removing the buttons is a change; removing them again is not.
    bot.edit_message_reply_markup(ChatId(3), msg.id).await.expect("buttons removed");
    let e = api_err(bot.edit_message_reply_markup(ChatId(3), msg.id).await);
    assert!(matches!(e, RequestError::Api(ApiError::MessageNotModified)), "{e:?}");
    bot.edit_message_text(ChatId(3), msg.id, "已提交").await.expect("a new text is a change");
    let e = api_err(bot.edit_message_text(ChatId(3), MessageId(999_999), "x").await);
    assert!(matches!(e, RequestError::Api(ApiError::MessageToEditNotFound)), "{e:?}");
    let e = api_err(bot.edit_message_reply_markup(ChatId(4), msg.id).await);
    assert!(matches!(e, RequestError::Api(ApiError::MessageToEditNotFound)), "another chat's message: {e:?}");
    let e = api_err(bot.edit_message_text(ChatId(3), msg.id, "字".repeat(4097)).await);
    assert!(matches!(e, RequestError::Api(ApiError::EditedMessageIsTooLong)), "{e:?}");
}

#[tokio::test]
async fn a_group_upgraded_to_a_supergroup_answers_with_the_new_id() {
    let fake = FakeTelegram::start().await;
    let bot = bot_for(&fake);
    bot.send_message(ChatId(-4001), "工作群").await.unwrap();
    fake.migrate_chat(-4001, -1_001_234_567_890);
    let e = api_err(bot.send_message(ChatId(-4001), "还在吗").await);
    assert!(matches!(e, RequestError::MigrateToChatId(ChatId(-1_001_234_567_890))), "{e:?}");
    let call = fake.calls_of("sendMessage").pop().unwrap();
    assert_eq!(call.status, 400);
    assert_eq!(call.response["description"], json!("Bad Request: group chat was upgraded to a supergroup chat"));
    assert_eq!(call.response["parameters"], json!({"migrate_to_chat_id": -1_001_234_567_890_i64}));
    let msg = bot.send_message(ChatId(-1_001_234_567_890), "新群").await.unwrap();
    assert!(msg.chat.is_supergroup(), "{:?}", msg.chat);
    assert_eq!(fake.sent_to(-4001).len(), 1);
    assert_eq!(fake.sent_to(-1_001_234_567_890).len(), 1);
}

#[tokio::test]
async fn a_callback_query_is_answered_once_and_while_fresh() {
    let fake = FakeTelegram::start_with(FakeConfig {
        callback_query_max_age: Some(Duration::from_millis(300)),
        ..FakeConfig::default()
    })
    .await;
    let bot = bot_for(&fake);
    let u = user();
    let too_old = |e: &RequestError| {
        matches!(e, RequestError::Api(ApiError::Unknown(d))
            if d == "Bad Request: query is too old and response timeout expired or query ID is invalid")
    };
    fake.push_callback(&u, 1, "a");
    let ups = fetch(&bot, 0).await;
    let UpdateKind::CallbackQuery(q) = &ups[0].kind else { panic!() };
    bot.answer_callback_query(q.id.clone()).await.expect("fresh");
    let e = api_err(bot.answer_callback_query(q.id.clone()).await);
    assert!(too_old(&e), "answered twice: {e:?}");
    let e = api_err(bot.answer_callback_query(teloxide::types::CallbackQueryId("made-up".into())).await);
    assert!(too_old(&e), "never pushed: {e:?}");
    fake.push_callback(&u, 1, "b");
    let ups = fetch(&bot, ups[0].id.0 as i32 + 1).await;
    let UpdateKind::CallbackQuery(q) = &ups[0].kind else { panic!() };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let e = api_err(bot.answer_callback_query(q.id.clone()).await);
    assert!(too_old(&e), "too late: {e:?}");
}

#[tokio::test]
async fn unknown_deactivated_and_blocked_chats_are_refused() {
    let fake = FakeTelegram::start_with(FakeConfig { unknown_chats_not_found: true, ..FakeConfig::default() }).await;
    let bot = bot_for(&fake);
    let u = user();
    let e = api_err(bot.send_message(ChatId(u.id), "你好").await);
    assert!(matches!(e, RequestError::Api(ApiError::ChatNotFound)), "{e:?}");
    // Once the person wrote to the bot, the chat exists.
    fake.push_text(&u, "/start");
    bot.send_message(ChatId(u.id), "你好").await.unwrap();
    fake.add_chat(-5001);
    bot.send_message(ChatId(-5001), "群").await.unwrap();
    fake.deactivate_user(u.id);
    let e = api_err(bot.send_message(ChatId(u.id), "还在吗").await);
    assert!(matches!(e, RequestError::Api(ApiError::UserDeactivated)), "{e:?}");
    fake.block_chat(-5001);
    let e = api_err(bot.send_message(ChatId(-5001), "x").await);
    assert!(matches!(e, RequestError::Api(ApiError::BotBlocked)), "{e:?}");
    assert_eq!(fake.calls_of("sendMessage").last().unwrap().status, 403);
}

#[tokio::test]
async fn fail_kth_fails_the_chosen_message_to_a_chat_until_the_statuses_run_out() {
    let fake = FakeTelegram::start_with(FakeConfig { http_200_on_error: true, ..FakeConfig::default() }).await;
    let bot = bot_for(&fake);
    fake.fail_kth("sendMessage", 5, 2, &[429, 502]);
    bot.send_message(ChatId(5), "1").await.expect("the first message is not touched");
    bot.send_message(ChatId(6), "其他聊天").await.expect("other chats are not touched");
    let e = api_err(bot.send_message(ChatId(5), "2").await);
    assert!(matches!(e, RequestError::RetryAfter(s) if s.seconds() == 1), "{e:?}");
    let e = api_err(bot.send_message(ChatId(5), "2").await);
    assert!(matches!(&e, RequestError::Api(ApiError::Unknown(d)) if d == "Internal Server Error"), "{e:?}");
    bot.send_message(ChatId(5), "2").await.expect("the third attempt at the second message arrives");
    bot.send_message(ChatId(5), "3").await.unwrap();
    let texts: Vec<String> = fake.sent_to(5).into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["1", "2", "3"]);
    let raw = fake.calls_of("sendMessage").into_iter().find(|c| c.status == 429).unwrap();
    assert_eq!(raw.response["parameters"], json!({"retry_after": 1}));
}

#[tokio::test]
async fn a_webhook_refuses_get_updates_until_deleted() {
    let fake = FakeTelegram::start().await;
    fake.set_webhook("https://old.example.org/hook");
    fake.push_text(&user(), "你好");
    let bot = bot_for(&fake);
    assert_eq!(
        bot.get_webhook_info().await.unwrap().url.map(|u| u.to_string()).as_deref(),
        Some("https://old.example.org/hook")
    );
    match api_err(bot.get_updates().timeout(0).await) {
        RequestError::Api(e) => assert!(e.to_string().contains("webhook is active"), "{e}"),
        other => panic!("{other:?}"),
    }
    bot.delete_webhook().await.unwrap();
    assert_eq!(fetch(&bot, 0).await.len(), 1, "the update waited for the webhook to go");
}
