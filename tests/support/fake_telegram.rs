//! Fake Telegram Bot API server on loopback, for tests and benches that drive the real bot.
//!
//! Start one with [`FakeTelegram::start`], point teloxide at [`FakeTelegram::api_url`], then
//! act as a person would (`push_text`, `push_callback`, `push_photo`, ...) and assert what
//! that person sees (`wait_for_sent`, `sent_to`, `transcript`).
//!
//! The server speaks the real Bot API envelope (`{"ok":true,"result":...}` /
//! `{"ok":false,"error_code":N,"description":"..."}`) on `/bot<TOKEN>/<method>` for any token,
//! keeps updates queued until the bot confirms them with a later `getUpdates` offset (so a bot
//! that crashes before confirming gets them again), long-polls with `timeout`, and records
//! every call. Fault injection: per-second rate limits ([`FakeConfig`]), [`FakeTelegram::fail_next`],
//! [`FakeTelegram::fail_kth`] (the k-th message to a chat fails in chosen ways),
//! [`FakeTelegram::block_chat`], [`FakeTelegram::deactivate_user`] and
//! [`FakeTelegram::migrate_chat`] (a group upgraded to a supergroup).
//!
//! Like Telegram, it refuses what Telegram refuses, with Telegram's own descriptions (so teloxide
//! maps them to its `ApiError`s): a text over 4096 UTF-16 code units or empty, a caption over
//! 1024, callback data over 64 bytes, an edit that changes nothing or of a message it never sent,
//! a callback query answered twice or older than [`FakeConfig::callback_query_max_age`], a send
//! to a chat that was upgraded to a supergroup (with `parameters.migrate_to_chat_id`), and —
//! with [`FakeConfig::unknown_chats_not_found`] — a chat no update ever came from.
//!
//! Self-contained (only `axum`, `tokio`, `serde`, `serde_json`) so it can be included from any
//! test or bench with `#[path = "..."] mod fake_telegram;`.
//!
//! Note on HTTP status: like Telegram, an error envelope is sent with the HTTP status equal to
//! its `error_code`. teloxide sleeps 10 s after any HTTP 5xx before returning the error; set
//! [`FakeConfig::http_200_on_error`] to avoid that delay in tests that inject 500/502.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

/// Telegram user id of the fake bot.
pub const BOT_ID: i64 = 7_000_000_001;
/// Username of the fake bot.
pub const BOT_USERNAME: &str = "jianyan_test_bot";
/// First name of the fake bot.
pub const BOT_NAME: &str = "建言助手";
/// First message id handed out by a fresh server.
pub const FIRST_MESSAGE_ID: i64 = 1000;
/// Title used for group chats in `push_group_text` and in replies to negative chat ids.
pub const GROUP_TITLE: &str = "测试群组";
/// Longest long-poll the fake server will hold a `getUpdates` request.
pub const MAX_POLL: Duration = Duration::from_secs(30);

/// Methods whose successful calls create a new message the person sees (rate-limited, counted
/// by [`FakeTelegram::delivered_count`]).
const NEW_MESSAGE_METHODS: &[&str] = &["sendmessage", "sendphoto", "senddocument", "copymessage"];
/// Methods listed by [`FakeTelegram::sent_to`].
const SENT_METHODS: &[&str] = &["sendmessage", "sendphoto", "senddocument", "editmessagetext"];
/// Methods that just answer `true`.
const TRUE_METHODS: &[&str] = &[
    "answercallbackquery",
    "setmycommands",
    "deletemycommands",
    "deletewebhook",
    "setmydescription",
    "setmyshortdescription",
    "setmyname",
    "deletemessage",
    "setchatmenubutton",
    "sendchataction",
];

// ---------------------------------------------------------------------------------------------
// Public data types
// ---------------------------------------------------------------------------------------------

/// Options for [`FakeTelegram::start_with`]. `FakeConfig::default()` is "no faults".
#[derive(Clone, Debug, Default)]
pub struct FakeConfig {
    /// At most this many new messages per second across all chats; beyond it → 429.
    pub max_per_second_global: Option<u32>,
    /// At most this many new messages per second to one chat; beyond it → 429.
    pub max_per_second_per_chat: Option<u32>,
    /// Delay added before answering every call.
    pub latency: Duration,
    /// Send error envelopes with HTTP 200 instead of their error code (the JSON still carries
    /// `error_code`). Avoids teloxide's built-in 10 s sleep after HTTP 5xx.
    pub http_200_on_error: bool,
    /// A callback query answered later than this after it was pushed gets Telegram's 400 "query
    /// is too old" (Telegram's own limit is some seconds). `None`: no age limit (a second answer
    /// is refused either way).
    pub callback_query_max_age: Option<Duration>,
    /// Calls to a chat that no pushed update came from (nor [`FakeTelegram::add_chat`]) get
    /// Telegram's 400 "chat not found". Off by default: many tests write to made-up chats.
    pub unknown_chats_not_found: bool,
    /// A webhook set for the bot when the server starts (see [`FakeTelegram::set_webhook`]).
    pub webhook: Option<String>,
}

/// Telegram's limit for a message text, in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 4096;
/// Telegram's limit for a caption, in UTF-16 code units.
pub const MAX_CAPTION_UTF16: usize = 1024;
/// Telegram's limit for an inline button's `callback_data`, in bytes.
pub const MAX_CALLBACK_DATA_BYTES: usize = 64;

/// Telegram's descriptions for the refusals the fake emulates.
pub mod describe {
    pub const TEXT_TOO_LONG: &str = "Bad Request: message is too long";
    pub const EDITED_TEXT_TOO_LONG: &str = "Bad Request: MESSAGE_TOO_LONG";
    pub const CAPTION_TOO_LONG: &str = "Bad Request: message caption is too long";
    /// A file a bot uploads over 50 MB (Bot API: "up to 50 MB for other files").
    pub const FILE_TOO_LARGE: &str = "Request Entity Too Large";
    pub const TEXT_EMPTY: &str = "Bad Request: message text is empty";
    pub const BUTTON_DATA_INVALID: &str = "Bad Request: BUTTON_DATA_INVALID";
    pub const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply \
        markup are exactly the same as a current content and reply markup of the message";
    pub const EDIT_NOT_FOUND: &str = "Bad Request: message to edit not found";
    pub const MIGRATED: &str = "Bad Request: group chat was upgraded to a supergroup chat";
    /// Real Telegram's wording ("query ID"); teloxide 0.17 expects "query id", so it reads this as
    /// `ApiError::Unknown`.
    pub const QUERY_TOO_OLD: &str = "Bad Request: query is too old and response timeout expired or query ID is invalid";
    pub const USER_DEACTIVATED: &str = "Forbidden: user is deactivated";
    pub const BOT_BLOCKED: &str = "Forbidden: bot was blocked by the user";
    pub const CHAT_NOT_FOUND: &str = "Bad Request: chat not found";
    pub const WEBHOOK_ACTIVE: &str =
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
}

/// A Telegram user that the test acts as. Their private chat id equals their user id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TgUser {
    pub id: i64,
    pub first_name: String,
    pub language_code: Option<String>,
}

impl TgUser {
    /// A user with language `zh-hans`.
    pub fn new(id: i64, first_name: impl Into<String>) -> Self {
        Self { id, first_name: first_name.into(), language_code: Some("zh-hans".to_owned()) }
    }

    /// Same user with another `language_code` (e.g. `"en"`).
    pub fn with_language(mut self, language_code: &str) -> Self {
        self.language_code = Some(language_code.to_owned());
        self
    }

    /// Same user without a `language_code`.
    pub fn without_language(mut self) -> Self {
        self.language_code = None;
        self
    }

    /// The id of this user's private chat with the bot.
    pub fn chat_id(&self) -> i64 {
        self.id
    }

    /// The Bot API `User` object.
    pub fn to_json(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let Some(lc) = &self.language_code {
            user["language_code"] = json!(lc);
        }
        user
    }
}

/// One request the bot made, recorded when it was answered.
#[derive(Clone, Debug)]
pub struct Call {
    /// Lowercase method name, e.g. `"sendmessage"`.
    pub method: String,
    /// Request parameters (JSON body, query string, form or multipart text fields).
    pub body: Value,
    /// When the request arrived.
    pub at: Instant,
    /// HTTP-level outcome: 200, or the injected/emulated `error_code` (429, 403, 404, ...).
    pub status: u16,
    /// The whole response envelope that was sent back.
    pub response: Value,
}

impl Call {
    /// Chat id the call addressed, if any (numeric or numeric-string `chat_id`).
    pub fn chat_id(&self) -> Option<i64> {
        chat_id_of(&self.body)
    }

    /// `true` if the call got `{"ok":true}`.
    pub fn ok(&self) -> bool {
        self.status == 200
    }
}

/// One inline keyboard button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub text: String,
    pub callback_data: Option<String>,
    pub url: Option<String>,
}

/// A message the person sees (a successful sendMessage/sendPhoto/sendDocument/editMessageText).
#[derive(Clone, Debug)]
pub struct SentMessage {
    /// Lowercase method, e.g. `"sendmessage"` or `"editmessagetext"`.
    pub method: String,
    /// The message id (for edits: the edited message).
    pub message_id: i64,
    pub chat_id: i64,
    /// What the person reads: `text` (or `caption` for media), with HTML tags removed when
    /// `parse_mode` is HTML and backslash escapes removed when it is MarkdownV2.
    pub text: String,
    /// `parse_mode` of the request, if any.
    pub parse_mode: Option<String>,
    /// Inline keyboard rows.
    pub buttons: Vec<Vec<Button>>,
    /// Reply keyboard rows (button texts).
    pub reply_keyboard: Vec<Vec<String>>,
    /// `reply_markup.remove_keyboard == true`.
    pub remove_keyboard: bool,
    /// The request body.
    pub raw: Value,
}

impl SentMessage {
    /// All inline button texts, row by row, flattened.
    pub fn button_texts(&self) -> Vec<String> {
        self.buttons.iter().flatten().map(|b| b.text.clone()).collect()
    }

    /// The inline button whose text equals `text` (or, failing that, contains it).
    pub fn button(&self, text: &str) -> Option<&Button> {
        let all = || self.buttons.iter().flatten();
        all().find(|b| b.text == text).or_else(|| all().find(|b| b.text.contains(text)))
    }

    /// `callback_data` of the inline button labelled `text` (see [`SentMessage::button`]).
    pub fn callback_for(&self, text: &str) -> Option<String> {
        self.button(text).and_then(|b| b.callback_data.clone())
    }
}

/// How [`FakeTelegram::transcript_entries`] names pressed buttons and edited messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Callback data and message ids, for debugging.
    Ids,
    /// Button labels and the beginning of each edited message's text, as the person saw them.
    Seen,
}

/// Who an entry of a transcript comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// The person sent or pressed something (`>> `).
    Person,
    /// The bot sent, edited or deleted a message (`<< `).
    Bot,
    /// The bot answered a pressed button with a notice (`<< (提示) …`, `<< (弹窗) …`).
    Toast,
}

/// One entry of a chat's transcript: one or more lines, ending in a newline.
#[derive(Clone, Debug)]
pub struct TranscriptEntry {
    pub text: String,
    pub kind: EntryKind,
}

// ---------------------------------------------------------------------------------------------
// Server state
// ---------------------------------------------------------------------------------------------

/// An update waiting in the queue.
#[derive(Clone, Debug)]
struct Queued {
    update_id: i64,
    update: Value,
    /// A copy from `push_same_update_again` that must be delivered once whatever the offset.
    redelivery: bool,
    delivered: bool,
}

/// Every update ever pushed, for transcripts and re-delivery.
#[derive(Clone, Debug)]
struct Pushed {
    update_id: i64,
    at: Instant,
    update: Value,
    again: bool,
}

#[derive(Debug)]
struct State {
    next_update_id: i64,
    next_message_id: i64,
    next_callback_id: i64,
    queue: VecDeque<Queued>,
    pushed: Vec<Pushed>,
    confirmed_offset: i64,
    /// A webhook set for the bot (`set_webhook`): getUpdates is refused with 409 until
    /// deleteWebhook.
    webhook: Option<String>,
    /// The secret_token given to setWebhook, sent with every webhook request.
    webhook_secret: Option<String>,
    /// Where webhook requests really go (a test's stand-in for a load balancer in front of
    /// several instances), in turn; empty: to the webhook URL itself.
    webhook_targets: Vec<String>,
    /// Webhook requests made: (target, update_id, HTTP status or 0 for a failed connection).
    webhook_posts: Vec<(String, i64, u16)>,
    calls: Vec<Call>,
    /// Last known version of each message in a chat: (chat_id, message_id) → Message JSON.
    messages: HashMap<(i64, i64), Value>,
    /// callback_query id → chat id of the person who pressed (for toasts in transcripts).
    callback_chats: HashMap<String, i64>,
    my_commands: Value,
    fail_next: HashMap<String, VecDeque<u16>>,
    /// (method, chat, k) → statuses the attempts to deliver the k-th such message fail with.
    fail_kth: HashMap<(String, i64, u64), VecDeque<u16>>,
    /// (method, chat) → successful calls so far (for `fail_kth`).
    ok_count: HashMap<(String, i64), u64>,
    blocked: HashSet<i64>,
    deactivated: HashSet<i64>,
    /// Group chat id → the supergroup it was upgraded to.
    migrated: HashMap<i64, i64>,
    /// Chats an update came from, or added by the test.
    known_chats: HashSet<i64>,
    /// callback_query id → when it was pushed.
    callback_pushed: HashMap<String, Instant>,
    callback_answered: HashSet<String>,
    sends_global: VecDeque<Instant>,
    sends_per_chat: HashMap<i64, VecDeque<Instant>>,
    count_429: u64,
    delivered: u64,
}

impl State {
    fn new() -> Self {
        Self {
            next_update_id: 1,
            next_message_id: FIRST_MESSAGE_ID,
            next_callback_id: 1,
            queue: VecDeque::new(),
            pushed: Vec::new(),
            confirmed_offset: 0,
            webhook: None,
            webhook_secret: None,
            webhook_targets: Vec::new(),
            webhook_posts: Vec::new(),
            calls: Vec::new(),
            messages: HashMap::new(),
            callback_chats: HashMap::new(),
            my_commands: json!([]),
            fail_next: HashMap::new(),
            fail_kth: HashMap::new(),
            ok_count: HashMap::new(),
            blocked: HashSet::new(),
            deactivated: HashSet::new(),
            migrated: HashMap::new(),
            known_chats: HashSet::new(),
            callback_pushed: HashMap::new(),
            callback_answered: HashSet::new(),
            sends_global: VecDeque::new(),
            sends_per_chat: HashMap::new(),
            count_429: 0,
            delivered: 0,
        }
    }

    fn next_message_id(&mut self) -> i64 {
        let id = self.next_message_id;
        self.next_message_id += 1;
        id
    }

    fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        self.calls
            .iter()
            .filter(|c| c.ok() && SENT_METHODS.contains(&c.method.as_str()))
            .filter(|c| c.chat_id() == Some(chat_id))
            .map(sent_message_of)
            .collect()
    }
}

struct Inner {
    addr: SocketAddr,
    config: FakeConfig,
    state: Mutex<State>,
    /// Fired (notify_waiters) on every change: update pushed, call recorded, offset confirmed.
    changed: Notify,
    server: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the state from the others.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Handle to a running fake Bot API server. Cheap to clone; all clones share one server.
#[derive(Clone)]
pub struct FakeTelegram {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FakeTelegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTelegram").field("addr", &self.inner.addr).finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Starting and addressing
// ---------------------------------------------------------------------------------------------

impl FakeTelegram {
    /// Starts a server without faults on `127.0.0.1:<free port>`.
    pub async fn start() -> Self {
        Self::start_with(FakeConfig::default()).await
    }

    /// Starts a server with the given fault options.
    pub async fn start_with(config: FakeConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("fake telegram: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake telegram: local_addr");
        let mut state = State::new();
        state.webhook = config.webhook.clone();
        let inner = Arc::new(Inner {
            addr,
            config,
            state: Mutex::new(state),
            changed: Notify::new(),
            server: Mutex::new(None),
        });
        let app = Router::new()
            .route("/{token}/{method}", any(handle))
            .fallback(|| async { api_error_response(404, "Not Found", None, false) })
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        *inner.server.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
        tokio::spawn(post_to_webhook(Arc::downgrade(&inner)));
        Self { inner }
    }

    /// Sends webhook requests to these addresses in turn instead of the webhook URL the bot set
    /// (which names the public address): a load balancer in front of several instances.
    pub fn webhook_targets(&self, targets: Vec<String>) {
        self.inner.lock().webhook_targets = targets;
        self.inner.changed.notify_waiters();
    }

    /// The webhook the bot set (setWebhook): its URL and secret_token.
    pub fn webhook(&self) -> Option<(String, Option<String>)> {
        let st = self.inner.lock();
        st.webhook.clone().map(|url| (url, st.webhook_secret.clone()))
    }

    /// The ids of every update pushed so far (a re-delivered copy counted once).
    pub fn pushed_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.inner.lock().pushed.iter().map(|p| p.update_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Webhook requests made so far: (target, update_id, HTTP status, 0 if it could not connect).
    pub fn webhook_posts(&self) -> Vec<(String, i64, u16)> {
        self.inner.lock().webhook_posts.clone()
    }

    /// Base URL for teloxide's `set_api_url`, e.g. `http://127.0.0.1:41234/`.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.inner.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Stops serving (pending long polls are dropped). Handles stay readable.
    pub fn shutdown(&self) {
        if let Some(h) = self.inner.server.lock().unwrap_or_else(|e| e.into_inner()).take() {
            h.abort();
        }
    }

    /// The Bot API `User` object of the fake bot.
    pub fn bot_user() -> Value {
        json!({"id": BOT_ID, "is_bot": true, "first_name": BOT_NAME, "username": BOT_USERNAME})
    }
}

// ---------------------------------------------------------------------------------------------
// Injecting updates
// ---------------------------------------------------------------------------------------------

impl FakeTelegram {
    fn queue_update(&self, build: impl FnOnce(&mut State) -> Value) -> i64 {
        let id = {
            let mut st = self.inner.lock();
            let mut update = build(&mut st);
            for chat in
                ["/message/chat/id", "/edited_message/chat/id", "/callback_query/from/id", "/my_chat_member/chat/id"]
                    .iter()
                    .filter_map(|p| update.pointer(p).and_then(Value::as_i64))
                    .collect::<Vec<_>>()
            {
                st.known_chats.insert(chat);
            }
            if let Some(q) = update.pointer("/callback_query/id").and_then(Value::as_str) {
                st.callback_pushed.insert(q.to_owned(), Instant::now());
            }
            let id = st.next_update_id;
            st.next_update_id += 1;
            update["update_id"] = json!(id);
            st.queue.push_back(Queued { update_id: id, update: update.clone(), redelivery: false, delivered: false });
            st.pushed.push(Pushed { update_id: id, at: Instant::now(), update, again: false });
            id
        };
        self.inner.changed.notify_waiters();
        id
    }

    /// A private message `{"message": ...}` from `user`, with `content` merged in.
    fn push_private(&self, user: &TgUser, content: Value) -> i64 {
        let user = user.clone();
        self.queue_update(move |st| {
            let mut msg = json!({
                "message_id": st.next_message_id(),
                "date": unix_now(),
                "chat": private_chat(&user),
                "from": user.to_json(),
            });
            merge(&mut msg, content);
            json!({ "message": msg })
        })
    }

    /// The user sends a text message in their private chat. A leading `/command` gets a
    /// `bot_command` entity, as Telegram adds. Returns the update_id.
    pub fn push_text(&self, user: &TgUser, text: &str) -> i64 {
        self.push_private(user, text_content(text))
    }

    /// The user presses an inline button with `data` under the bot's message `message_id`.
    pub fn push_callback(&self, user: &TgUser, message_id: i64, data: &str) -> i64 {
        let user = user.clone();
        let data = data.to_owned();
        self.queue_update(move |st| {
            let n = st.next_callback_id;
            st.next_callback_id += 1;
            let id = format!("{}{:06}", user.id.unsigned_abs() % 1_000_000_000, n);
            st.callback_chats.insert(id.clone(), user.id);
            let message = st.messages.get(&(user.id, message_id)).cloned().unwrap_or_else(|| {
                json!({
                    "message_id": message_id,
                    "date": unix_now(),
                    "chat": private_chat(&user),
                    "from": FakeTelegram::bot_user(),
                    "text": "…",
                })
            });
            json!({
                "callback_query": {
                    "id": id,
                    "from": user.to_json(),
                    "message": message,
                    "chat_instance": format!("ci{}", user.id),
                    "data": data,
                }
            })
        })
    }

    /// The user presses the inline button labelled `button_text` on `msg`.
    /// Panics (listing the buttons) if there is no such button with callback data.
    pub fn click(&self, user: &TgUser, msg: &SentMessage, button_text: &str) -> i64 {
        let data = msg.callback_for(button_text).unwrap_or_else(|| {
            panic!(
                "no button {button_text:?} with callback_data on message #{} {:?}; buttons: {:?}",
                msg.message_id, msg.text, msg.buttons
            )
        });
        self.push_callback(user, msg.message_id, &data)
    }

    /// The user sends a photo (two sizes), optionally captioned.
    pub fn push_photo(&self, user: &TgUser, caption: Option<&str>) -> i64 {
        let n = self.inner.lock().next_update_id;
        let mut content = json!({
            "photo": [
                {"file_id": format!("AgACAgSmall{n}"), "file_unique_id": format!("AQADs{n}"),
                 "width": 90, "height": 68, "file_size": 1_523},
                {"file_id": format!("AgACAgLarge{n}"), "file_unique_id": format!("AQADl{n}"),
                 "width": 1280, "height": 960, "file_size": 187_342},
            ]
        });
        if let Some(c) = caption {
            content["caption"] = json!(c);
        }
        self.push_private(user, content)
    }

    /// The user sends a file.
    pub fn push_document(&self, user: &TgUser, file_name: &str, mime_type: &str) -> i64 {
        let n = self.inner.lock().next_update_id;
        self.push_private(
            user,
            json!({"document": {
                "file_id": format!("BQACAgDoc{n}"), "file_unique_id": format!("AgADd{n}"),
                "file_name": file_name, "mime_type": mime_type, "file_size": 48_213,
            }}),
        )
    }

    /// The user sends a voice note.
    pub fn push_voice(&self, user: &TgUser) -> i64 {
        let n = self.inner.lock().next_update_id;
        self.push_private(
            user,
            json!({"voice": {
                "file_id": format!("AwACAgVoice{n}"), "file_unique_id": format!("AgADv{n}"),
                "duration": 4, "mime_type": "audio/ogg", "file_size": 9_876,
            }}),
        )
    }

    /// The user sends a sticker.
    pub fn push_sticker(&self, user: &TgUser) -> i64 {
        let n = self.inner.lock().next_update_id;
        self.push_private(
            user,
            json!({"sticker": {
                "file_id": format!("CAACAgSticker{n}"), "file_unique_id": format!("AgADs{n}"),
                "type": "regular", "width": 512, "height": 512,
                "is_animated": false, "is_video": false,
                "emoji": "👍", "set_name": "TestStickers", "file_size": 23_456,
            }}),
        )
    }

    /// The user shares a location (Beijing).
    pub fn push_location(&self, user: &TgUser) -> i64 {
        self.push_private(user, json!({"location": {"latitude": 39.9042, "longitude": 116.4074}}))
    }

    /// The user edits their earlier message `message_id` to `text` (an `edited_message`).
    pub fn push_edited_text(&self, user: &TgUser, message_id: i64, text: &str) -> i64 {
        let user = user.clone();
        let text = text.to_owned();
        self.queue_update(move |st| {
            // Keep the original date if we know the message.
            let date = st
                .pushed
                .iter()
                .filter_map(|p| p.update.get("message"))
                .find(|m| m["message_id"] == json!(message_id) && m["chat"]["id"] == json!(user.id))
                .and_then(|m| m["date"].as_i64())
                .unwrap_or_else(|| unix_now() - 60);
            let mut msg = json!({
                "message_id": message_id,
                "date": date,
                "edit_date": unix_now(),
                "chat": private_chat(&user),
                "from": user.to_json(),
            });
            merge(&mut msg, text_content(&text));
            json!({ "edited_message": msg })
        })
    }

    /// The user writes `text` in a group chat (`group_chat_id` should be negative).
    pub fn push_group_text(&self, user: &TgUser, group_chat_id: i64, text: &str) -> i64 {
        let user = user.clone();
        let text = text.to_owned();
        self.queue_update(move |st| {
            let mut msg = json!({
                "message_id": st.next_message_id(),
                "date": unix_now(),
                "chat": {"id": group_chat_id, "type": "group", "title": GROUP_TITLE},
                "from": user.to_json(),
            });
            merge(&mut msg, text_content(&text));
            json!({ "message": msg })
        })
    }

    /// Queues an arbitrary update (without `update_id`; it is assigned and returned).
    pub fn push_raw(&self, update_without_id: Value) -> i64 {
        self.queue_update(move |_| update_without_id)
    }

    /// Re-queues an exact copy of an earlier update (same update_id) at the end of the queue,
    /// as if Telegram delivered it again. The copy is handed out once by the next `getUpdates`
    /// even if the bot already confirmed that id. Panics if the id was never pushed.
    pub fn push_same_update_again(&self, update_id: i64) {
        {
            let mut st = self.inner.lock();
            let update = st
                .pushed
                .iter()
                .find(|p| p.update_id == update_id && !p.again)
                .map(|p| p.update.clone())
                .unwrap_or_else(|| panic!("push_same_update_again: update {update_id} was never pushed"));
            st.queue.push_back(Queued { update_id, update: update.clone(), redelivery: true, delivered: false });
            st.pushed.push(Pushed { update_id, at: Instant::now(), update, again: true });
        }
        self.inner.changed.notify_waiters();
    }
}

// ---------------------------------------------------------------------------------------------
// Reading what the bot did
// ---------------------------------------------------------------------------------------------

impl FakeTelegram {
    /// Every answered call, in the order they were answered.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().calls.clone()
    }

    /// Calls of one method (case-insensitive), including rejected ones.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        let method = method.to_lowercase();
        self.inner.lock().calls.iter().filter(|c| c.method == method).cloned().collect()
    }

    /// Messages the person in `chat_id` sees, in order: successful sendMessage, sendPhoto,
    /// sendDocument and editMessageText calls to that chat.
    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        self.inner.lock().sent_to(chat_id)
    }

    /// The most recent entry of [`FakeTelegram::sent_to`].
    pub fn last_sent(&self, chat_id: i64) -> Option<SentMessage> {
        self.sent_to(chat_id).pop()
    }

    /// Waits until `check` returns `Some` (re-checked on every state change) or the timeout.
    async fn wait_until<T>(&self, timeout: Duration, mut check: impl FnMut(&State) -> Option<T>) -> Option<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(v) = check(&self.inner.lock()) {
                return Some(v);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return check(&self.inner.lock());
            }
        }
    }

    /// Waits until at least `count` messages were sent to `chat_id` in total; returns them
    /// all. Panics with the chat transcript if `timeout` passes first.
    pub async fn wait_for_sent(&self, chat_id: i64, count: usize, timeout: Duration) -> Vec<SentMessage> {
        let got = self
            .wait_until(timeout, |st| {
                let sent = st.sent_to(chat_id);
                (sent.len() >= count).then_some(sent)
            })
            .await;
        match got {
            Some(sent) => sent,
            None => panic!(
                "fake telegram: timed out after {timeout:?} waiting for {count} message(s) to chat \
                 {chat_id}; got {}.\n--- transcript of chat {chat_id} ---\n{}--- other calls ---\n{}",
                self.sent_to(chat_id).len(),
                self.transcript(chat_id),
                self.calls_summary(chat_id),
            ),
        }
    }

    /// Waits until message number `after` (0-based index into `sent_to`) exists; returns it.
    pub async fn wait_for_new(&self, chat_id: i64, after: usize, timeout: Duration) -> SentMessage {
        self.wait_for_sent(chat_id, after + 1, timeout).await[after].clone()
    }

    /// Waits until at least `count` calls of `method` (case-insensitive) were answered.
    /// Panics listing the recorded methods if `timeout` passes first.
    pub async fn wait_for_call(&self, method: &str, count: usize, timeout: Duration) -> Vec<Call> {
        let m = method.to_lowercase();
        let got = self
            .wait_until(timeout, |st| {
                let calls: Vec<Call> = st.calls.iter().filter(|c| c.method == m).cloned().collect();
                (calls.len() >= count).then_some(calls)
            })
            .await;
        got.unwrap_or_else(|| {
            panic!(
                "fake telegram: timed out after {timeout:?} waiting for {count} {method} call(s); \
                 got {}.\n--- calls ---\n{}",
                self.calls_of(method).len(),
                self.calls_summary(i64::MIN),
            )
        })
    }

    /// Waits until the callback query of update `update_id` (if it is one) was answered; `false` on
    /// timeout. Returns `true` at once for other updates.
    pub async fn wait_for_callback_answer(&self, update_id: i64, timeout: Duration) -> bool {
        let id = {
            let st = self.inner.lock();
            st.pushed
                .iter()
                .find(|p| p.update_id == update_id)
                .and_then(|p| p.update.pointer("/callback_query/id").and_then(Value::as_str).map(str::to_owned))
        };
        let Some(id) = id else { return true };
        self.wait_until(timeout, |st| {
            st.calls
                .iter()
                .any(|c| c.method == "answercallbackquery" && c.body["callback_query_id"].as_str() == Some(id.as_str()))
                .then_some(())
        })
        .await
        .is_some()
    }

    /// The highest `getUpdates` offset the bot sent (0 before any confirmation).
    pub fn confirmed_offset(&self) -> i64 {
        self.inner.lock().confirmed_offset
    }

    /// Waits until the bot confirmed `update_id` (offset > update_id). Panics on timeout.
    pub async fn wait_until_confirmed(&self, update_id: i64, timeout: Duration) {
        let ok = self.wait_until(timeout, |st| (st.confirmed_offset > update_id).then_some(())).await;
        if ok.is_none() {
            panic!(
                "fake telegram: update {update_id} not confirmed within {timeout:?}; \
                 confirmed offset is {}, {} update(s) pending",
                self.confirmed_offset(),
                self.pending_update_count()
            );
        }
    }

    /// Updates still queued (not yet confirmed by the bot), delivered or not.
    pub fn pending_update_count(&self) -> usize {
        self.inner.lock().queue.len()
    }

    /// Number of 429 answers so far (rate limits and injected).
    pub fn count_429(&self) -> u64 {
        self.inner.lock().count_429
    }

    /// Number of new messages successfully delivered (sendMessage, sendPhoto, sendDocument,
    /// copyMessage answered with ok).
    pub fn delivered_count(&self) -> u64 {
        self.inner.lock().delivered
    }

    /// Commands last set with setMyCommands (a JSON array).
    pub fn my_commands(&self) -> Value {
        self.inner.lock().my_commands.clone()
    }

    /// A readable transcript of one chat: what the person did (`>> `) and what the bot showed
    /// (`<< `), in time order, with inline buttons as `   [提交] [放弃]`, pressed buttons by their
    /// callback data and edited messages by their id (for failure messages).
    pub fn transcript(&self, chat_id: i64) -> String {
        self.transcript_entries(chat_id, Detail::Ids).into_iter().map(|e| e.text).collect()
    }

    /// The entries of [`FakeTelegram::transcript`], in time order, each ending in a newline. With
    /// [`Detail::Seen`] a pressed button is shown by its label (`>> [提交]`) and an edited or
    /// deleted message by the beginning of its text (`(去掉了«请核对您的建言：»的按钮)`), so the
    /// text depends only on what the person saw, not on callback formats or message ids.
    pub fn transcript_entries(&self, chat_id: i64, detail: Detail) -> Vec<TranscriptEntry> {
        let st = self.inner.lock();
        let places = match detail {
            Detail::Ids => None,
            Detail::Seen => Some(message_places(&st.calls, chat_id)),
        };
        let mut entries: Vec<(Instant, TranscriptEntry)> = Vec::new();
        for p in &st.pushed {
            if let Some((chat, line)) = describe_update(&p.update, detail)
                && chat == chat_id
            {
                let again = if p.again { " (重发)" } else { "" };
                entries.push((p.at, TranscriptEntry { text: format!("{line}{again}\n"), kind: EntryKind::Person }));
            }
        }
        for c in &st.calls {
            if let Some(text) = describe_call(c, chat_id, &st.callback_chats, places.as_ref()) {
                let kind = if c.method == "answercallbackquery" { EntryKind::Toast } else { EntryKind::Bot };
                entries.push((c.at, TranscriptEntry { text, kind }));
            }
        }
        entries.sort_by_key(|(at, _)| *at);
        entries.into_iter().map(|(_, e)| e).collect()
    }

    /// One line per non-getUpdates call (for failure messages); `chat_id` marks that chat's.
    fn calls_summary(&self, chat_id: i64) -> String {
        let st = self.inner.lock();
        let mut out = String::new();
        for c in st.calls.iter().filter(|c| c.method != "getupdates") {
            let mark = if c.chat_id() == Some(chat_id) { "*" } else { " " };
            let mut body = c.body.to_string();
            if body.len() > 160 {
                let cut = (0..=160).rev().find(|i| body.is_char_boundary(*i)).unwrap_or(0);
                body.truncate(cut);
                body.push('…');
            }
            let _ = writeln!(out, "{mark} {} [{}] {body}", c.method, c.status);
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------------------------

impl FakeTelegram {
    /// The next `count` calls of `method` (case-insensitive) fail with `status`:
    /// 403 → "Forbidden: bot was blocked by the user", 500/502 → "Internal Server Error",
    /// 429 → retry_after 1, 400 → a generic Bad Request.
    pub fn fail_next(&self, method: &str, status: u16, count: usize) {
        let mut st = self.inner.lock();
        let q = st.fail_next.entry(method.to_lowercase()).or_default();
        q.extend(std::iter::repeat_n(status, count));
    }

    /// From now on every call addressed to `chat_id` fails with 403 (bot blocked).
    pub fn block_chat(&self, chat_id: i64) {
        self.inner.lock().blocked.insert(chat_id);
    }

    /// Undoes [`FakeTelegram::block_chat`].
    pub fn unblock_chat(&self, chat_id: i64) {
        self.inner.lock().blocked.remove(&chat_id);
    }

    /// The attempts to make the `k`-th successful `method` call (1-based, case-insensitive) to
    /// `chat_id` fail in turn with `statuses` (429 → retry_after 1, 5xx → "Internal Server Error",
    /// ...); the attempt after them succeeds. E.g. `fail_kth("sendMessage", c, 2, &[429, 502])`:
    /// the second message to chat c is refused twice before it arrives.
    pub fn fail_kth(&self, method: &str, chat_id: i64, k: u64, statuses: &[u16]) {
        let mut st = self.inner.lock();
        st.fail_kth.entry((method.to_lowercase(), chat_id, k)).or_default().extend(statuses.iter().copied());
    }

    /// From now on every call addressed to `chat_id` fails with 403 "Forbidden: user is deactivated".
    pub fn deactivate_user(&self, chat_id: i64) {
        self.inner.lock().deactivated.insert(chat_id);
    }

    /// Telegram upgraded the group `old_chat_id` to the supergroup `new_chat_id`: from now on every
    /// call addressed to the old id fails with 400 "group chat was upgraded to a supergroup chat"
    /// and `parameters.migrate_to_chat_id`; the new chat is known.
    pub fn migrate_chat(&self, old_chat_id: i64, new_chat_id: i64) {
        let mut st = self.inner.lock();
        st.migrated.insert(old_chat_id, new_chat_id);
        st.known_chats.insert(new_chat_id);
    }

    /// A webhook is set for the bot (left by an earlier deployment): getUpdates is refused with
    /// Telegram's 409 until the bot calls deleteWebhook.
    pub fn set_webhook(&self, url: &str) {
        self.inner.lock().webhook = Some(url.to_owned());
    }

    /// Makes `chat_id` a chat Telegram knows (see [`FakeConfig::unknown_chats_not_found`]).
    pub fn add_chat(&self, chat_id: i64) {
        self.inner.lock().known_chats.insert(chat_id);
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP handling
// ---------------------------------------------------------------------------------------------

/// An error answer: (error_code, description, `parameters`).
type Failure = (u16, String, Option<Value>);

/// `parameters` of a 429.
fn retry_after(secs: u64) -> Option<Value> {
    Some(json!({ "retry_after": secs }))
}

fn bad_request(description: &str) -> Failure {
    (400, description.to_owned(), None)
}

async fn handle(
    AxumState(inner): AxumState<Arc<Inner>>,
    Path((token, method)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let http_200 = inner.config.http_200_on_error;
    if !token.starts_with("bot") {
        return api_error_response(404, "Not Found", None, http_200);
    }
    let method = method.to_lowercase();
    let params = match parse_params(&uri, &headers, &body) {
        Ok(p) => p,
        Err(e) => {
            let envelope = error_envelope(400, &format!("Bad Request: {e}"), None);
            record(&inner, method, Value::Null, at, 400, envelope.clone());
            return envelope_response(400, envelope, http_200);
        }
    };
    if !inner.config.latency.is_zero() {
        tokio::time::sleep(inner.config.latency).await;
    }

    let webhook = inner.lock().webhook.is_some();
    let outcome = if method == "getupdates" {
        match injected_failure(&inner, &method, &params) {
            Some(f) => Err(f),
            None if webhook => Err((409, describe::WEBHOOK_ACTIVE.to_owned(), None)),
            None => Ok(get_updates(&inner, &params).await),
        }
    } else {
        answer(&inner, &method, &params)
    };

    let (status, envelope) = match outcome {
        Ok(result) => (200, json!({"ok": true, "result": result})),
        Err((code, description, parameters)) => (code, error_envelope(code, &description, parameters)),
    };
    record(&inner, method, params, at, status, envelope.clone());
    envelope_response(status, envelope, http_200)
}

fn record(inner: &Inner, method: String, body: Value, at: Instant, status: u16, response: Value) {
    {
        let mut st = inner.lock();
        if status == 429 {
            st.count_429 += 1;
        }
        if status == 200 && NEW_MESSAGE_METHODS.contains(&method.as_str()) {
            st.delivered += 1;
        }
        if status == 200
            && let Some(chat) = chat_id_of(&body)
        {
            *st.ok_count.entry((method.clone(), chat)).or_default() += 1;
        }
        st.calls.push(Call { method, body, at, status, response });
    }
    inner.changed.notify_waiters();
}

fn error_envelope(code: u16, description: &str, parameters: Option<Value>) -> Value {
    let mut v = json!({"ok": false, "error_code": code, "description": description});
    if let Some(parameters) = parameters {
        v["parameters"] = parameters;
    }
    v
}

fn envelope_response(status: u16, envelope: Value, http_200: bool) -> Response {
    let code = if http_200 { 200 } else { status };
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, [(header::CONTENT_TYPE, "application/json")], envelope.to_string()).into_response()
}

fn api_error_response(code: u16, description: &str, retry: Option<u64>, http_200: bool) -> Response {
    envelope_response(code, error_envelope(code, description, retry.and_then(retry_after)), http_200)
}

fn description_for(status: u16) -> String {
    match status {
        400 => "Bad Request: injected failure".to_owned(),
        401 => "Unauthorized".to_owned(),
        403 => "Forbidden: bot was blocked by the user".to_owned(),
        404 => "Not Found".to_owned(),
        409 => "Conflict: terminated by other getUpdates request; make sure that only one bot \
                instance is running"
            .to_owned(),
        429 => "Too Many Requests: retry after 1".to_owned(),
        500 | 502 => "Internal Server Error".to_owned(),
        other => format!("Error {other}"),
    }
}

/// Injected faults (`fail_next`, `fail_kth`) and the state of the addressed chat (upgraded to a
/// supergroup, blocked, deactivated, unknown). Consumes one queued failure if present.
fn injected_failure(inner: &Inner, method: &str, params: &Value) -> Option<Failure> {
    let mut st = inner.lock();
    let injected = |status: u16| {
        let retry = (status == 429).then_some(1).and_then(retry_after);
        (status, description_for(status), retry)
    };
    if let Some(q) = st.fail_next.get_mut(method)
        && let Some(status) = q.pop_front()
    {
        return Some(injected(status));
    }
    let chat = chat_id_of(params)?;
    let k = st.ok_count.get(&(method.to_owned(), chat)).copied().unwrap_or(0) + 1;
    if let Some(q) = st.fail_kth.get_mut(&(method.to_owned(), chat, k))
        && let Some(status) = q.pop_front()
    {
        return Some(injected(status));
    }
    if let Some(new_chat) = st.migrated.get(&chat) {
        return Some((400, describe::MIGRATED.to_owned(), Some(json!({ "migrate_to_chat_id": new_chat }))));
    }
    if st.blocked.contains(&chat) {
        return Some((403, describe::BOT_BLOCKED.to_owned(), None));
    }
    if st.deactivated.contains(&chat) {
        return Some((403, describe::USER_DEACTIVATED.to_owned(), None));
    }
    if inner.config.unknown_chats_not_found && !st.known_chats.contains(&chat) {
        return Some(bad_request(describe::CHAT_NOT_FOUND));
    }
    None
}

/// Per-second rate limits for new messages. Records the send if allowed.
fn rate_limit(inner: &Inner, st: &mut State, chat: Option<i64>) -> Option<Failure> {
    let now = Instant::now();
    let window = Duration::from_secs(1);
    let wait_secs = |q: &VecDeque<Instant>| {
        let oldest = q.front().copied().unwrap_or(now);
        let left = window.saturating_sub(now.duration_since(oldest));
        left.as_secs_f64().ceil().max(1.0) as u64
    };
    let prune = |q: &mut VecDeque<Instant>| {
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
    };
    prune(&mut st.sends_global);
    if let Some(max) = inner.config.max_per_second_global
        && st.sends_global.len() >= max as usize
    {
        let secs = wait_secs(&st.sends_global);
        return Some((429, format!("Too Many Requests: retry after {secs}"), retry_after(secs)));
    }
    if let (Some(max), Some(chat)) = (inner.config.max_per_second_per_chat, chat) {
        let q = st.sends_per_chat.entry(chat).or_default();
        prune(q);
        if q.len() >= max as usize {
            let secs = wait_secs(q);
            return Some((429, format!("Too Many Requests: retry after {secs}"), retry_after(secs)));
        }
    }
    st.sends_global.push_back(now);
    if let Some(chat) = chat {
        st.sends_per_chat.entry(chat).or_default().push_back(now);
    }
    None
}

/// Answers every method except getUpdates.
fn answer(inner: &Inner, method: &str, params: &Value) -> Result<Value, Failure> {
    if let Some(f) = injected_failure(inner, method, params) {
        return Err(f);
    }
    let mut st = inner.lock();
    refuse_content(method, params)?;
    if NEW_MESSAGE_METHODS.contains(&method)
        && let Some(f) = rate_limit(inner, &mut st, chat_id_of(params))
    {
        return Err(f);
    }
    if method == "answercallbackquery" {
        answer_callback_query(inner, &mut st, params)?;
    }
    match method {
        "getme" => Ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": BOT_NAME, "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false,
        })),
        "getwebhookinfo" => Ok(json!({
            "url": st.webhook.clone().unwrap_or_default(), "has_custom_certificate": false,
            "pending_update_count": st.queue.len(),
        })),
        "deletewebhook" => {
            st.webhook = None;
            st.webhook_secret = None;
            Ok(json!(true))
        }
        "setwebhook" => set_webhook(&mut st, params),
        "getmycommands" => Ok(st.my_commands.clone()),
        "setmycommands" => {
            st.my_commands = params.get("commands").cloned().unwrap_or(json!([]));
            Ok(json!(true))
        }
        "deletemycommands" => {
            st.my_commands = json!([]);
            Ok(json!(true))
        }
        m if TRUE_METHODS.contains(&m) => Ok(json!(true)),
        "sendmessage"
        | "sendphoto"
        | "senddocument"
        | "editmessagetext"
        | "editmessagereplymarkup"
        | "editmessagecaption" => message_reply(&mut st, method, params),
        "copymessage" => Ok(json!({ "message_id": st.next_message_id() })),
        _ => Err((404, "Not Found: method not found".to_owned(), None)),
    }
}

/// The largest file a bot may upload (Bot API `sendDocument`: "up to 50 MB").
const MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;

/// What Telegram refuses in a message's content, whatever the chat: a text over 4096 UTF-16 code
/// units or empty, a caption over 1024, callback data over 64 bytes (or empty).
fn refuse_content(method: &str, params: &Value) -> Result<(), Failure> {
    let parse_mode = params.get("parse_mode").and_then(Value::as_str);
    // Telegram counts what is shown: after parse_mode entities are taken out.
    let visible = |key: &str| params.get(key).and_then(Value::as_str).map(|t| visible_text(t, parse_mode));
    let utf16 = |t: &str| t.encode_utf16().count();
    if matches!(method, "sendmessage" | "editmessagetext") {
        let text = visible("text").unwrap_or_default();
        if text.trim().is_empty() {
            return Err(bad_request(describe::TEXT_EMPTY));
        }
        if utf16(&text) > MAX_TEXT_UTF16 {
            let d = if method == "sendmessage" { describe::TEXT_TOO_LONG } else { describe::EDITED_TEXT_TOO_LONG };
            return Err(bad_request(d));
        }
    }
    if matches!(method, "sendphoto" | "senddocument" | "editmessagecaption" | "copymessage")
        && visible("caption").is_some_and(|c| utf16(&c) > MAX_CAPTION_UTF16)
    {
        return Err(bad_request(describe::CAPTION_TOO_LONG));
    }
    // An uploaded file (multipart) may be at most 50 MB; Telegram answers 413 otherwise.
    for key in ["document", "photo"] {
        if let Some(file) = params.get(key)
            && file.get("upload").and_then(Value::as_bool) == Some(true)
            && file.get("bytes").and_then(Value::as_u64).is_some_and(|n| n > MAX_UPLOAD_BYTES)
        {
            return Err((413, describe::FILE_TOO_LARGE.to_owned(), None));
        }
    }
    let markup = params.get("reply_markup").cloned().unwrap_or(Value::Null);
    let buttons = markup.get("inline_keyboard").and_then(Value::as_array).into_iter().flatten();
    for button in buttons.filter_map(Value::as_array).flatten() {
        if let Some(data) = button.get("callback_data").and_then(Value::as_str)
            && (data.is_empty() || data.len() > MAX_CALLBACK_DATA_BYTES)
        {
            return Err(bad_request(describe::BUTTON_DATA_INVALID));
        }
    }
    Ok(())
}

/// A callback query can be answered once, and only while it is fresh.
fn answer_callback_query(inner: &Inner, st: &mut State, params: &Value) -> Result<(), Failure> {
    let id = params.get("callback_query_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let too_old = match st.callback_pushed.get(&id) {
        None => true,
        Some(at) => inner.config.callback_query_max_age.is_some_and(|max| at.elapsed() > max),
    };
    if too_old || !st.callback_answered.insert(id) {
        return Err(bad_request(describe::QUERY_TOO_OLD));
    }
    Ok(())
}

/// Builds (and remembers) the Message returned by send/edit methods.
fn message_reply(st: &mut State, method: &str, params: &Value) -> Result<Value, Failure> {
    let Some(chat_id) = chat_id_of(params) else {
        if params.get("inline_message_id").is_some() {
            return Ok(json!(true)); // inline-message edits answer `true`
        }
        return Err(bad_request("Bad Request: chat_id is empty"));
    };
    let is_edit = method.starts_with("edit");
    let message_id = if is_edit {
        params
            .get("message_id")
            .and_then(as_i64)
            .ok_or(bad_request("Bad Request: message identifier is not specified"))?
    } else {
        st.next_message_id()
    };
    let previous = st.messages.get(&(chat_id, message_id)).cloned();
    if is_edit {
        let Some(prev) = &previous else { return Err(bad_request(describe::EDIT_NOT_FOUND)) };
        let parse_mode = params.get("parse_mode").and_then(Value::as_str);
        let new_markup = params.get("reply_markup").filter(|m| m.get("inline_keyboard").is_some());
        let same_markup = new_markup == prev.get("reply_markup");
        let same_content = match method {
            "editmessagetext" => {
                params.get("text").and_then(Value::as_str).map(|t| visible_text(t, parse_mode)).as_deref()
                    == prev.get("text").and_then(Value::as_str)
            }
            "editmessagecaption" => {
                params.get("caption").and_then(Value::as_str).map(|t| visible_text(t, parse_mode)).as_deref()
                    == prev.get("caption").and_then(Value::as_str)
            }
            _ => true,
        };
        if same_content && same_markup {
            return Err(bad_request(describe::NOT_MODIFIED));
        }
    }
    let mut msg = match (&previous, is_edit) {
        (Some(prev), true) => prev.clone(),
        _ => json!({
            "message_id": message_id,
            "date": unix_now(),
            "chat": chat_object(chat_id),
            "from": FakeTelegram::bot_user(),
        }),
    };
    if is_edit {
        msg["edit_date"] = json!(unix_now());
    }
    let parse_mode = params.get("parse_mode").and_then(Value::as_str);
    let visible = |key: &str| params.get(key).and_then(Value::as_str).map(|t| visible_text(t, parse_mode));
    let obj = msg.as_object_mut().expect("message is an object");
    match method {
        "sendmessage" | "editmessagetext" => {
            obj.insert("text".into(), json!(visible("text").unwrap_or_default()));
        }
        "sendphoto" => {
            obj.insert("photo".into(), photo_sizes(message_id));
        }
        "senddocument" => {
            let file_name = params.pointer("/document/file_name").and_then(Value::as_str).unwrap_or("document.pdf");
            obj.insert(
                "document".into(),
                json!({
                    "file_id": format!("BQACAgSent{message_id}"),
                    "file_unique_id": format!("AgADsd{message_id}"),
                    "file_name": file_name, "file_size": 1024,
                }),
            );
        }
        _ => {}
    }
    if matches!(method, "sendphoto" | "senddocument" | "editmessagecaption") {
        match visible("caption") {
            Some(c) => {
                obj.insert("caption".into(), json!(c));
            }
            None if method == "editmessagecaption" => {
                obj.remove("caption");
            }
            None => {}
        }
    }
    // Telegram echoes only inline keyboards; an edit without one removes it.
    match params.get("reply_markup").filter(|m| m.get("inline_keyboard").is_some()) {
        Some(markup) => {
            obj.insert("reply_markup".into(), markup.clone());
        }
        None if is_edit => {
            obj.remove("reply_markup");
        }
        None => {}
    }
    st.messages.insert((chat_id, message_id), msg.clone());
    Ok(msg)
}

/// getUpdates: confirm by offset, then return pending updates or long-poll for new ones.
/// setWebhook as Telegram checks it (<https://core.telegram.org/bots/api#setwebhook>): an HTTPS
/// URL, a secret of 1–256 characters `A-Z a-z 0-9 _ -`.
fn set_webhook(st: &mut State, params: &Value) -> Result<Value, (u16, String, Option<Value>)> {
    let bad = |d: &str| Err((400, format!("Bad Request: {d}"), None));
    let url = params.get("url").and_then(Value::as_str).unwrap_or_default().to_owned();
    if url.is_empty() {
        st.webhook = None;
        st.webhook_secret = None;
        return Ok(json!(true));
    }
    match url::Url::parse(&url) {
        Ok(u) if u.scheme() == "https" && u.host().is_some() => {}
        Ok(_) => return bad("bad webhook: An HTTPS URL must be provided for webhook"),
        Err(_) => return bad("bad webhook: Failed to resolve host: Name or service not known"),
    }
    let secret = params.get("secret_token").and_then(Value::as_str).map(str::to_owned);
    if let Some(secret) = &secret
        && !((1..=256).contains(&secret.len())
            && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return bad("secret token contains unallowed characters");
    }
    st.webhook = Some(url);
    st.webhook_secret = secret;
    Ok(json!(true))
}

/// While a webhook is set, posts the queued updates to it one at a time in update_id order, as
/// Telegram does: an update is dropped from the queue once answered with a 2xx, and sent again
/// (after a pause, to the next target) otherwise.
async fn post_to_webhook(inner: std::sync::Weak<Inner>) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("an HTTP client");
    let mut turn = 0usize;
    loop {
        let Some(strong) = inner.upgrade() else { return };
        let next = {
            let st = strong.lock();
            match &st.webhook {
                None => None,
                Some(url) => st.queue.iter().min_by_key(|q| q.update_id).map(|q| {
                    let target = if st.webhook_targets.is_empty() {
                        url.clone()
                    } else {
                        st.webhook_targets[turn % st.webhook_targets.len()].clone()
                    };
                    (target, st.webhook_secret.clone(), q.update_id, q.update.clone())
                }),
            }
        };
        let Some((target, secret, update_id, update)) = next else {
            drop(strong);
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        drop(strong);
        turn += 1;
        let mut request = client.post(&target).json(&update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let status = match request.send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        };
        let Some(strong) = inner.upgrade() else { return };
        {
            let mut st = strong.lock();
            st.webhook_posts.push((target, update_id, status));
            if (200..300).contains(&status) {
                st.queue.retain(|q| q.update_id != update_id);
                st.confirmed_offset = st.confirmed_offset.max(update_id + 1);
            }
        }
        strong.changed.notify_waiters();
        if !(200..300).contains(&status) {
            drop(strong);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn get_updates(inner: &Inner, params: &Value) -> Value {
    let offset = params.get("offset").and_then(as_i64).unwrap_or(0);
    let limit = params.get("limit").and_then(as_i64).map_or(100, |l| l.clamp(1, 100)) as usize;
    let timeout_secs = params.get("timeout").and_then(as_i64).unwrap_or(0).max(0) as u64;
    let timeout = Duration::from_secs(timeout_secs).min(MAX_POLL);
    let deadline = tokio::time::Instant::now() + timeout;

    {
        let mut st = inner.lock();
        if offset > 0 {
            // Drop confirmed updates, except re-delivery copies not yet handed out.
            st.queue.retain(|q| q.update_id >= offset || (q.redelivery && !q.delivered));
            st.confirmed_offset = st.confirmed_offset.max(offset);
        } else if offset < 0 {
            // Negative offset: keep only the last |offset| updates.
            let keep = offset.unsigned_abs() as usize;
            let len = st.queue.len();
            if len > keep {
                st.queue.drain(..len - keep);
            }
            if let Some(first) = st.queue.front().map(|q| q.update_id) {
                st.confirmed_offset = st.confirmed_offset.max(first);
            }
        }
    }
    inner.changed.notify_waiters();

    loop {
        let notified = inner.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut st = inner.lock();
            let mut idx: Vec<usize> = (0..st.queue.len()).collect();
            // Telegram hands updates out in ascending id order.
            idx.sort_by_key(|&i| st.queue[i].update_id);
            idx.truncate(limit);
            if !idx.is_empty() || tokio::time::Instant::now() >= deadline {
                let batch: Vec<Value> = idx
                    .iter()
                    .map(|&i| {
                        st.queue[i].delivered = true;
                        st.queue[i].update.clone()
                    })
                    .collect();
                return Value::Array(batch);
            }
        }
        // Deadline passed → the loop returns whatever is there (possibly []).
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Request parsing
// ---------------------------------------------------------------------------------------------

/// Request parameters as JSON: JSON body, multipart fields, urlencoded form or query string.
fn parse_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Value, String> {
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let mut params = Map::new();
    if let Some(q) = uri.query() {
        params.extend(parse_urlencoded(q)?);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(params));
    }
    if content_type.starts_with("multipart/") {
        let raw_ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        params.extend(parse_multipart(raw_ct, body)?);
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        params.extend(parse_urlencoded(&String::from_utf8_lossy(body))?);
    } else {
        match serde_json::from_slice::<Value>(body).map_err(|e| format!("can't parse JSON: {e}"))? {
            Value::Object(m) => params.extend(m),
            _ => return Err("JSON body must be an object".to_owned()),
        }
    }
    Ok(Value::Object(params))
}

fn parse_urlencoded(s: &str) -> Result<Map<String, Value>, String> {
    let uri: Uri = format!("/?{s}").parse().map_err(|e| format!("bad query: {e}"))?;
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&uri).map_err(|e| format!("bad query: {e}"))?;
    Ok(pairs.into_iter().map(|(k, v)| (k, text_field_value(&v))).collect())
}

/// A text field from a form/multipart: JSON objects/arrays are parsed, the rest kept as string.
fn text_field_value(s: &str) -> Value {
    let t = s.trim_start();
    if (t.starts_with('{') || t.starts_with('['))
        && let Ok(v) = serde_json::from_str(s)
    {
        return v;
    }
    Value::String(s.to_owned())
}

/// Minimal multipart/form-data parser: text parts become fields; file parts become
/// `{"upload": true, "file_name": ..., "bytes": N, "sha256": hex}` (also under the field that refers to them
/// with `attach://`).
fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Map<String, Value>, String> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .ok_or("multipart without boundary")?;
    let delim = format!("--{boundary}");
    let mut out = Map::new();
    for part in split_bytes(body, delim.as_bytes()).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break; // closing delimiter
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = find_bytes(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let data = &part[split + 4..];
        let data = data.strip_suffix(b"\r\n").unwrap_or(data);
        let mut name = None;
        let mut file_name = None;
        for line in head.lines() {
            if !line.to_ascii_lowercase().starts_with("content-disposition") {
                continue;
            }
            for param in line.split(';').map(str::trim) {
                if let Some(v) = param.strip_prefix("name=") {
                    name = Some(v.trim_matches('"').to_owned());
                } else if let Some(v) = param.strip_prefix("filename=") {
                    file_name = Some(v.trim_matches('"').to_owned());
                }
            }
        }
        let Some(name) = name else { continue };
        let value = match file_name {
            Some(f) => {
                use sha2::Digest;
                let sha256 = hex::encode(sha2::Sha256::digest(data));
                json!({"upload": true, "file_name": f, "bytes": data.len(), "sha256": sha256})
            }
            None => text_field_value(&String::from_utf8_lossy(data)),
        };
        out.insert(name, value);
    }
    // teloxide sends `"photo": "attach://<part>"` plus a file part named `<part>`: resolve it.
    let attached: Vec<(String, String)> =
        out.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.strip_prefix("attach://")?.to_owned()))).collect();
    for (field, part) in attached {
        if let Some(file) = out.remove(&part) {
            out.insert(field, file);
        }
    }
    Ok(out)
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(mut hay: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(i) = find_bytes(hay, delim) {
        parts.push(&hay[..i]);
        hay = &hay[i + delim.len()..];
    }
    parts.push(hay);
    parts
}

// ---------------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------------

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A number or numeric string as i64.
fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// `chat_id` of a request (numeric or numeric string).
fn chat_id_of(params: &Value) -> Option<i64> {
    params.get("chat_id").and_then(as_i64)
}

fn private_chat(user: &TgUser) -> Value {
    json!({"id": user.id, "type": "private", "first_name": user.first_name})
}

/// The chat object in the bot's own messages: private "委员" for positive ids, a group else.
fn chat_object(chat_id: i64) -> Value {
    if chat_id > 0 {
        json!({"id": chat_id, "type": "private", "first_name": "委员"})
    } else if chat_id <= -1_000_000_000_000 {
        json!({"id": chat_id, "type": "supergroup", "title": GROUP_TITLE})
    } else {
        json!({"id": chat_id, "type": "group", "title": GROUP_TITLE})
    }
}

fn merge(target: &mut Value, extra: Value) {
    if let (Some(t), Value::Object(e)) = (target.as_object_mut(), extra) {
        t.extend(e);
    }
}

/// `{"text": ...}` plus a `bot_command` entity when the text starts with `/`.
fn text_content(text: &str) -> Value {
    let mut content = json!({ "text": text });
    if text.starts_with('/') {
        let word = text.split(char::is_whitespace).next().unwrap_or(text);
        let length = word.encode_utf16().count(); // Telegram counts UTF-16 code units
        content["entities"] = json!([{"type": "bot_command", "offset": 0, "length": length}]);
    }
    content
}

fn photo_sizes(seed: i64) -> Value {
    json!([
        {"file_id": format!("AgACAgSentS{seed}"), "file_unique_id": format!("AQADss{seed}"),
         "width": 90, "height": 68, "file_size": 1_500},
        {"file_id": format!("AgACAgSentL{seed}"), "file_unique_id": format!("AQADsl{seed}"),
         "width": 1280, "height": 960, "file_size": 180_000},
    ])
}

/// What the person reads for `text` under `parse_mode`.
fn visible_text(text: &str, parse_mode: Option<&str>) -> String {
    match parse_mode.map(str::to_ascii_lowercase).as_deref() {
        Some("html") => strip_html(text),
        Some("markdownv2") => {
            let mut out = String::with_capacity(text.len());
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        _ => text.to_owned(),
    }
}

fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

fn sent_message_of(call: &Call) -> SentMessage {
    let body = &call.body;
    let parse_mode = body.get("parse_mode").and_then(Value::as_str).map(str::to_owned);
    let key = if matches!(call.method.as_str(), "sendphoto" | "senddocument") { "caption" } else { "text" };
    let text =
        body.get(key).and_then(Value::as_str).map(|t| visible_text(t, parse_mode.as_deref())).unwrap_or_default();
    let message_id = call
        .response
        .pointer("/result/message_id")
        .and_then(Value::as_i64)
        .or_else(|| body.get("message_id").and_then(as_i64))
        .unwrap_or(0);
    let markup = body.get("reply_markup").cloned().unwrap_or(Value::Null);
    SentMessage {
        method: call.method.clone(),
        message_id,
        chat_id: call.chat_id().unwrap_or(0),
        text,
        parse_mode,
        buttons: inline_buttons(&markup),
        reply_keyboard: reply_keyboard(&markup),
        remove_keyboard: markup.get("remove_keyboard").and_then(Value::as_bool) == Some(true),
        raw: body.clone(),
    }
}

fn inline_buttons(markup: &Value) -> Vec<Vec<Button>> {
    let Some(rows) = markup.get("inline_keyboard").and_then(Value::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .map(|row| {
            row.as_array()
                .into_iter()
                .flatten()
                .map(|b| Button {
                    text: b["text"].as_str().unwrap_or_default().to_owned(),
                    callback_data: b["callback_data"].as_str().map(str::to_owned),
                    url: b["url"].as_str().map(str::to_owned),
                })
                .collect()
        })
        .collect()
}

fn reply_keyboard(markup: &Value) -> Vec<Vec<String>> {
    let Some(rows) = markup.get("keyboard").and_then(Value::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .map(|row| {
            row.as_array()
                .into_iter()
                .flatten()
                .map(|b| match b {
                    Value::String(s) => s.clone(),
                    other => other["text"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .collect()
}

/// `(chat_id, ">> ...")` for an incoming update, if it belongs to a chat.
fn describe_update(update: &Value, detail: Detail) -> Option<(i64, String)> {
    if let Some(cb) = update.get("callback_query") {
        let chat = cb
            .pointer("/message/chat/id")
            .and_then(Value::as_i64)
            .or_else(|| cb.pointer("/from/id").and_then(Value::as_i64))?;
        let data = cb["data"].as_str().unwrap_or_default();
        let label = inline_buttons(&cb.pointer("/message/reply_markup").cloned().unwrap_or(Value::Null))
            .into_iter()
            .flatten()
            .find(|b| b.callback_data.as_deref() == Some(data))
            .map(|b| b.text);
        return Some(match (detail, label) {
            (Detail::Seen, Some(label)) => (chat, format!(">> [{label}]")),
            (Detail::Seen, None) => (chat, ">> [一个已不在消息上的按钮]".to_owned()),
            (Detail::Ids, _) => (chat, format!(">> [按钮] {data}")),
        });
    }
    let (msg, edited) = match (update.get("message"), update.get("edited_message")) {
        (Some(m), _) => (m, false),
        (None, Some(m)) => (m, true),
        _ => return None,
    };
    let chat = msg.pointer("/chat/id").and_then(Value::as_i64)?;
    let name = msg.pointer("/from/first_name").and_then(Value::as_str).unwrap_or("?");
    let caption = msg["caption"].as_str().map(|c| format!(" {c}")).unwrap_or_default();
    let body = if let Some(t) = msg["text"].as_str() {
        format!("{name}: {}", indent_continuation(t))
    } else if msg.get("photo").is_some() {
        format!("[图片]{caption}")
    } else if let Some(d) = msg.get("document") {
        let f = d["file_name"].as_str().unwrap_or("?");
        format!("[文件 {f}]{caption}")
    } else if msg.get("voice").is_some() {
        "[语音]".to_owned()
    } else if let Some(s) = msg.get("sticker") {
        format!("[贴纸 {}]", s["emoji"].as_str().unwrap_or(""))
    } else if msg.get("location").is_some() {
        "[位置]".to_owned()
    } else {
        "[其他消息]".to_owned()
    };
    let prefix = match (edited, detail) {
        (false, _) => String::new(),
        (true, Detail::Ids) => format!("(编辑 #{}) ", msg["message_id"]),
        (true, Detail::Seen) => "(编辑) ".to_owned(),
    };
    Some((chat, format!(">> {prefix}{body}")))
}

/// Message id → the beginning of its text, for the messages the bot sent to `chat_id`.
fn message_places(calls: &[Call], chat_id: i64) -> HashMap<i64, String> {
    let sent = calls
        .iter()
        .filter(|c| c.chat_id() == Some(chat_id) && c.ok() && NEW_MESSAGE_METHODS.contains(&c.method.as_str()));
    sent.map(sent_message_of)
        .map(|m| {
            let first_line = m.text.lines().next().unwrap_or_default();
            let excerpt: String = first_line.chars().take(24).collect();
            let more = if excerpt.len() < m.text.len() { "…" } else { "" };
            (m.message_id, format!("«{excerpt}{more}»"))
        })
        .collect()
}

/// The transcript lines for one call, if it concerns `chat_id`. With `places`, an edited or
/// deleted message is named by the beginning of its text instead of its id.
fn describe_call(
    call: &Call,
    chat_id: i64,
    callback_chats: &HashMap<String, i64>,
    places: Option<&HashMap<i64, String>>,
) -> Option<String> {
    let body = &call.body;
    if call.method == "answercallbackquery" {
        let id = body.get("callback_query_id").and_then(Value::as_str)?;
        let text = body.get("text").and_then(Value::as_str).filter(|t| !t.is_empty())?;
        if callback_chats.get(id) != Some(&chat_id) {
            return None;
        }
        let kind = if body.get("show_alert").and_then(Value::as_bool) == Some(true) { "弹窗" } else { "提示" };
        return Some(format!("<< ({kind}) {text}\n"));
    }
    if call.chat_id() != Some(chat_id) {
        return None;
    }
    let sent = sent_message_of(call);
    let which = match places {
        None => format!("#{}", sent.message_id),
        Some(places) => places.get(&sent.message_id).cloned().unwrap_or_else(|| "«?»".to_owned()),
    };
    let mut out = match call.method.as_str() {
        "sendmessage" => format!("<< {}\n", indent_continuation(&sent.text)),
        "sendphoto" => format!("<< [图片] {}\n", indent_continuation(&sent.text)),
        "senddocument" => format!("<< [文件] {}\n", indent_continuation(&sent.text)),
        "copymessage" => "<< [转发的消息]\n".to_owned(),
        "editmessagetext" => format!("<< (修改 {which}) {}\n", indent_continuation(&sent.text)),
        "editmessagereplymarkup" if places.is_some() && sent.buttons.is_empty() => {
            format!("<< (去掉了{which}的按钮)\n")
        }
        "editmessagereplymarkup" => format!("<< (修改按钮 {which})\n"),
        "deletemessage" => format!("<< (删除 {which})\n"),
        _ => return None,
    };
    for row in &sent.buttons {
        let labels: Vec<String> = row.iter().map(|b| format!("[{}]", b.text)).collect();
        let _ = writeln!(out, "   {}", labels.join(" "));
    }
    for row in &sent.reply_keyboard {
        let labels: Vec<String> = row.iter().map(|t| format!("[{t}]")).collect();
        let _ = writeln!(out, "   ⌨ {}", labels.join(" "));
    }
    if sent.remove_keyboard {
        out.push_str("   (收起键盘)\n");
    }
    if !call.ok() {
        let description = call.response["description"].as_str().unwrap_or_default();
        let _ = writeln!(out, "   (未送达: {} {description})", call.status);
    }
    Some(out)
}

fn indent_continuation(text: &str) -> String {
    text.replace('\n', "\n   ")
}
