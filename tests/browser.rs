//! Browser tests: headless Chromium, driven through chromedriver (WebDriver), against the real app —
//! the bot runtime (`jianyan::bot::run`) on the fake Telegram server and the web console
//! (`jianyan::web::serve`) on a loopback port, on one fresh database.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`; `.ci/run` installs them), or `JIANYAN_CHROMIUM` / `JIANYAN_CHROMEDRIVER`.
//! Without them the tests fail and say so: they are never skipped silently.
//!
//! `JIANYAN_SCREENSHOTS=docs/screenshots cargo test --test browser every_console_page` writes the
//! console's screenshots (every page, desktop and phone) there; never under CI.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jianyan::domain::{MemberNo, TopicClass};
use jianyan::store::{NewTopic, NewUser, Role};
use jianyan::web::{WebState, auth};
use support::fake_telegram::TgUser;
use support::harness::{NowUtc, TestBot, last};
use tokio::net::TcpListener;
use tokio::sync::watch;
use webdriver::Browser;

const PASSWORD: &str = "Test-password-1";
const WAIT: Duration = Duration::from_secs(15);

/// Chromium under chromedriver, driven with fantoccini, with the few waits these tests need.
mod webdriver {
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use fantoccini::error::CmdError;
    use fantoccini::{Client, ClientBuilder, Locator};
    use hyper_util::client::legacy::connect::HttpConnector;
    use serde_json::{Value, json};

    fn program(env: &str, default: &str) -> PathBuf {
        let path = PathBuf::from(std::env::var(env).unwrap_or_else(|_| default.to_string()));
        assert!(
            path.exists(),
            "{} not found: the browser tests need Chromium and chromedriver. Install them with \
             `apt-get install -y chromium chromium-driver` (Debian; .ci/run does this), or point {env} at them.",
            path.display()
        );
        path
    }

    /// Panics with what was asked of the browser and chromedriver's answer.
    fn ok<T>(what: &str, result: Result<T, CmdError>) -> T {
        result.unwrap_or_else(|e| panic!("WebDriver {what} failed: {e}"))
    }

    /// Chromium under chromedriver, with a fresh profile; both end when this is dropped.
    pub struct Browser {
        chromedriver: Child,
        client: Client,
        /// The session's URL at chromedriver, to end it from `drop`.
        session: String,
        _profile: tempfile::TempDir,
    }

    impl Browser {
        pub async fn start() -> Self {
            let chromium = program("JIANYAN_CHROMIUM", "/usr/bin/chromium");
            let driver = program("JIANYAN_CHROMEDRIVER", "/usr/bin/chromedriver");
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut chromedriver = Command::new(&driver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
            let profile = tempfile::tempdir().unwrap();
            let args = [
                "--headless".to_string(),
                "--no-sandbox".to_string(),
                "--disable-gpu".to_string(),
                "--disable-background-networking".to_string(),
                "--disable-component-update".to_string(),
                "--no-first-run".to_string(),
                "--disable-sync".to_string(),
                "--disable-dev-shm-usage".to_string(),
                "--lang=zh-CN".to_string(),
                "--window-size=1280,900".to_string(),
                format!("--user-data-dir={}", profile.path().display()),
            ];
            let mut capabilities = serde_json::Map::new();
            capabilities.insert("browserName".into(), json!("chrome"));
            capabilities.insert("goog:chromeOptions".into(), json!({"binary": chromium, "args": args}));
            let root = format!("http://127.0.0.1:{port}");
            // chromedriver takes a moment to listen: wait until it says it is ready.
            let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let ready = match http.get(format!("{root}/status")).send().await {
                    Ok(r) => r.json::<Value>().await.ok().is_some_and(|v| v["value"]["ready"] == json!(true)),
                    Err(_) => false,
                };
                if ready {
                    break;
                }
                assert!(Instant::now() < deadline, "chromedriver did not start on port {port}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let connected = ClientBuilder::new(HttpConnector::new()).capabilities(capabilities).connect(&root).await;
            let client = match connected {
                Ok(client) => client,
                Err(e) => {
                    let _ = chromedriver.kill();
                    let _ = chromedriver.wait();
                    panic!("chromedriver cannot start Chromium ({}): {e}", chromium.display());
                }
            };
            let id = ok("session id", client.session_id().await).expect("a session id");
            Browser { chromedriver, client, session: format!("{root}/session/{id}"), _profile: profile }
        }

        pub async fn goto(&self, url: &str) {
            ok(&format!("goto {url}"), self.client.goto(url).await);
        }

        pub async fn url(&self) -> String {
            ok("current url", self.client.current_url().await).to_string()
        }

        pub async fn try_find(&self, css: &str) -> Option<Element> {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => Some(Element(e)),
                Err(e) if e.is_no_such_element() => None,
                Err(e) => panic!("finding {css}: {e}"),
            }
        }

        /// The first element matching `css`, waiting for it to appear.
        pub async fn find(&self, css: &str) -> Element {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(e) = self.try_find(css).await {
                    return e;
                }
                if Instant::now() > deadline {
                    panic!("no element «{css}» on {}:\n{}", self.url().await, self.body_text().await);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        pub async fn find_all(&self, css: &str) -> Vec<Element> {
            ok(&format!("find all {css}"), self.client.find_all(Locator::Css(css)).await)
                .into_iter()
                .map(Element)
                .collect()
        }

        /// The first element matching `css` whose text contains `text`, waiting for it.
        pub async fn find_with_text(&self, css: &str, text: &str) -> Element {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                for e in self.find_all(css).await {
                    if e.text().await.contains(text) {
                        return e;
                    }
                }
                if Instant::now() > deadline {
                    panic!("no «{css}» with «{text}» on {}:\n{}", self.url().await, self.body_text().await);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        /// What a person reads on the page.
        pub async fn body_text(&self) -> String {
            match self.try_find("body").await {
                Some(body) => body.text().await,
                None => String::new(),
            }
        }

        /// Waits until the page shows `text`.
        pub async fn wait_for_text(&self, text: &str) {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let body = self.body_text().await;
                if body.contains(text) {
                    return;
                }
                if Instant::now() > deadline {
                    panic!("the page {} never showed «{text}»; it shows:\n{body}", self.url().await);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        pub async fn source(&self) -> String {
            ok("page source", self.client.source().await)
        }

        pub async fn execute(&self, script: &str) -> Value {
            ok("execute", self.client.execute(script, Vec::new()).await)
        }

        /// The text of an open alert, confirm or prompt dialog, if there is one.
        pub async fn alert_text(&self) -> Option<String> {
            match self.client.get_alert_text().await {
                Ok(text) => Some(text),
                Err(e) if e.is_no_such_alert() => None,
                Err(e) => panic!("asking for an alert: {e}"),
            }
        }

        /// The page's viewport as a screen of `width` × `height` CSS pixels at scale 1, a phone's
        /// (`mobile`: the page's viewport meta applies) or a desktop's, through Chrome's DevTools
        /// (headless windows keep a minimum width).
        pub async fn viewport(&self, width: u32, height: u32, mobile: bool) {
            let params = json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile});
            let body = json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params});
            let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
            let answer = http.post(format!("{}/goog/cdp/execute", self.session)).json(&body).send().await;
            let answer = answer.unwrap_or_else(|e| panic!("chromedriver: {e}"));
            assert!(answer.status().is_success(), "setting the viewport: {}", answer.text().await.unwrap_or_default());
        }

        /// A PNG of the whole page at `width` (the viewport is stretched to the page's height, up to
        /// 4000 px), then the viewport back at `width` × `height`.
        pub async fn screenshot_full(&self, width: u32, height: u32, mobile: bool) -> Vec<u8> {
            let full = self.execute("return document.documentElement.scrollHeight").await.as_u64().unwrap_or(900);
            self.viewport(width, (full as u32).clamp(height, 4000), mobile).await;
            let png = ok("screenshot", self.client.screenshot().await);
            self.viewport(width, height, mobile).await;
            png
        }
    }

    impl Drop for Browser {
        fn drop(&mut self) {
            // Ends the session (and Chromium) politely, then the chromedriver this test started.
            // The client's own shutdown needs the test's runtime, which may be ending: a plain
            // DELETE from a thread of its own does not.
            let url = self.session.clone();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build();
                        if let Ok(client) = client {
                            let _ = client.delete(url).send().await;
                        }
                    });
                }
            })
            .join();
            let _ = self.chromedriver.kill();
            let _ = self.chromedriver.wait();
        }
    }

    pub struct Element(fantoccini::elements::Element);

    impl Element {
        pub async fn click(&self) {
            ok("click", self.0.click().await);
        }

        pub async fn type_text(&self, text: &str) {
            ok("send keys", self.0.send_keys(text).await);
        }

        pub async fn text(&self) -> String {
            // An element that went away with a page load has no text any more.
            self.0.text().await.unwrap_or_default()
        }
    }
}

/// The real app: the bot on the fake Telegram server and the console on a loopback port.
struct World {
    bot: TestBot,
    base: String,
    stop_web: watch::Sender<bool>,
}

impl World {
    async fn start() -> Self {
        Self::start_with_bot(true).await
    }

    /// The app with the console told whether the Telegram bot runs (`bot_enabled`); replies reach
    /// the member at once, as the tests written before 督办 expect.
    async fn start_with_bot(bot_enabled: bool) -> Self {
        Self::start_with(bot_enabled, &[]).await
    }

    /// The app with replies going to staff's review first (督办), as the product's default.
    async fn start_reviewing() -> Self {
        Self::start_with(true, &[("JIANYAN_WORKFLOW__REVIEW_REPLIES", "true")]).await
    }

    async fn start_with(bot_enabled: bool, settings: &[(&str, &str)]) -> Self {
        let bot = TestBot::start_with(support::fake_telegram::FakeConfig::default(), settings).await;
        let now = bot.clock.now_utc();
        let department_id = bot.store.add_department("区教育局", Some("教育局")).await.unwrap().id;
        bot.store.add_department("区财政局", Some("财政局")).await.unwrap();
        let hash = auth::hash_password(PASSWORD).unwrap();
        for (username, name, role, dep) in [
            ("admin", "系统管理员", Role::Admin, None),
            ("staff", "王工作人员", Role::Staff, None),
            ("dept", "教育局联络员", Role::Department, Some(department_id)),
        ] {
            let user = NewUser {
                username: username.into(),
                name: name.into(),
                role,
                department_id: dep,
                password_hash: hash.clone(),
            };
            bot.store.add_user(user, now).await.unwrap().unwrap();
        }
        // The console on plain HTTP: its cookies must not require HTTPS.
        let mut config = (*bot.app.config).clone();
        config.web.secure_cookies = false;
        let app = jianyan::app::App { config: Arc::new(config), ..bot.app.clone() };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop_web, rx) = watch::channel(false);
        tokio::spawn(jianyan::web::serve(WebState::new(app, bot_enabled), listener, rx));
        Self { bot, base, stop_web }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A member bound to a fake Telegram user, who files one suggestion on the pinned topic.
    async fn member_submits(&self, user: &TgUser, member_no: &str, title: &str, points: &[&str]) -> String {
        self.bot.register(user, member_no).await;
        let asked = self.bot.say(user, "/new").await;
        let kinds = self.bot.tap(user, last(&asked), "十五五").await;
        let title_q = self.bot.tap(user, last(&kinds), &self.bot.t("kind.advice")).await;
        assert!(!title_q.is_empty());
        self.bot.say(user, title).await;
        let mut after = Vec::new();
        for p in points {
            after = self.bot.say(user, p).await;
        }
        let preview = self.bot.tap(user, last(&after), &self.bot.t("dialog.done_button")).await;
        let receipt = self.bot.tap(user, last(&preview), &self.bot.t("preview.submit")).await;
        let text = &last(&receipt).text;
        let at = text.find("PD-").unwrap_or_else(|| panic!("a reference number in {text}"));
        text[at..at + "PD-2025-0001".len()].to_string()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = self.stop_web.send(true);
    }
}

async fn login(b: &Browser, w: &World, username: &str) {
    b.goto(&w.url("/login")).await;
    b.find("input[name=username]").await.type_text(username).await;
    b.find("input[name=password]").await.type_text(PASSWORD).await;
    b.find("form[action='/login'] button[type=submit]").await.click().await;
    b.find("form[action='/logout']").await;
}

async fn wait_for_url(b: &Browser, part: &str) {
    let deadline = Instant::now() + WAIT;
    while !b.url().await.contains(part) {
        assert!(Instant::now() < deadline, "never went to a page with «{part}»: {}", b.url().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn logout(b: &Browser) {
    b.find("form[action='/logout'] button").await.click().await;
    b.find("input[name=username]").await;
}

/// Sends a message in the preview's text box and waits for the page to come back.
async fn preview_say(b: &Browser, text: &str) {
    let before = b.find_all(".chat .bubble").await.len();
    let input = b.find("form.composer input[name=text]").await;
    input.type_text(text).await;
    b.find("form.composer button[type=submit]").await.click().await;
    wait_for_more_bubbles(b, before).await;
}

async fn wait_for_more_bubbles(b: &Browser, before: usize) {
    let deadline = Instant::now() + WAIT;
    while b.find_all(".chat .bubble").await.len() <= before {
        assert!(Instant::now() < deadline, "the preview did not answer:\n{}", b.body_text().await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Presses an inline button (its label containing `label`) on the newest bot bubble that has it.
async fn preview_tap(b: &Browser, label: &str) {
    let before = b.find_all(".chat .bubble").await.len();
    let buttons = b.find_all(".chat .bubble.bot button.key").await;
    let mut chosen = None;
    for button in buttons.into_iter().rev() {
        if button.text().await.contains(label) {
            chosen = Some(button);
            break;
        }
    }
    let button = chosen.unwrap_or_else(|| panic!("no inline button «{label}»"));
    button.click().await;
    wait_for_more_bubbles(b, before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_submits_a_suggestion_in_the_dialog_preview_and_nothing_reaches_telegram() {
    let w = World::start().await;
    let staff_tg = TgUser::new(9001, "王工作人员");
    w.bot.register_staff(&staff_tg, "王工作人员").await;
    let staff_before = w.bot.fake.sent_to(staff_tg.chat_id()).len();
    let b = Browser::start().await;
    login(&b, &w, "staff").await;
    b.find_with_text("header nav a", "对话预览").await.click().await;
    // The preview plays the account's own test member, never a real one.
    b.wait_for_text("测试委员（王工作人员）").await;
    b.wait_for_text("不会发到 Telegram").await;

    // The menu key, as the member taps it in Telegram.
    let before = b.find_all(".chat .bubble").await.len();
    b.find_with_text("form.menu-keys button", &w.bot.t("menu.new")).await.click().await;
    wait_for_more_bubbles(&b, before).await;
    b.wait_for_text(&w.bot.t("dialog.ask_topic")).await;
    preview_tap(&b, "十五五").await;
    preview_tap(&b, &w.bot.t("kind.advice")).await;
    preview_say(&b, "加快推进老旧小区加装电梯").await;
    preview_say(&b, "简化审批流程，推行一站式办理").await;
    preview_say(&b, "设立专项补贴，减轻低层住户顾虑").await;
    preview_tap(&b, &w.bot.t("dialog.done_button")).await;
    b.wait_for_text("加快推进老旧小区加装电梯").await;
    preview_tap(&b, &w.bot.t("preview.submit")).await;
    b.wait_for_text("PD-2025-0001").await;

    // A suggestion of the test member, and staff hear of it on Telegram as usual.
    let filed = w.bot.count("SELECT COUNT(*) FROM suggestions WHERE title = '加快推进老旧小区加装电梯'").await;
    assert_eq!(filed, 1);
    let alerts = w.bot.fake.wait_for_sent(staff_tg.chat_id(), staff_before + 1, WAIT).await;
    assert!(alerts.last().unwrap().text.contains("PD-2025-0001"), "{:?}", alerts.last());
    // Nothing for the preview chat was ever sent to Telegram, nor waits to be.
    let pending =
        w.bot.count("SELECT COUNT(*) FROM outbox WHERE chat_id <= -9000000000000 AND status = 'pending'").await;
    assert_eq!(pending, 0);
    let calls = w.bot.fake.calls();
    let leaked: Vec<_> = calls.iter().filter(|c| c.chat_id().is_some_and(|id| id <= -9_000_000_000_000)).collect();
    assert!(leaked.is_empty(), "sent to Telegram from the preview: {leaked:?}");

    // Reset starts over with an empty chat.
    b.find("form[action$='/reset'] button").await.click().await;
    b.wait_for_text(&w.bot.t("web.preview.empty")).await;
    assert!(b.find_all(".chat .bubble").await.is_empty());
}

/// Clicks the submit button of the detail page's action form `act-{slug}` and waits for the result.
async fn act(b: &Browser, slug: &str) {
    b.find(&format!("form#act-{slug} button[type=submit]")).await.click().await;
    // Irreversible acts ask first: the confirmation page's 确认 button.
    if matches!(slug, "assign" | "reply" | "reject" | "merge") {
        b.find("form#confirm button[value=confirm]").await.click().await;
    }
    b.find(".banner.ok").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_route_a_suggestion_and_the_department_answer_reaches_the_member() {
    let w = World::start().await;
    let zhang = TgUser::new(7001, "张三");
    let li = TgUser::new(7002, "李四");
    let reference = w
        .member_submits(&zhang, "PD001", "关于增加中小学课后托管服务的建议", &["延长课后服务时间", "引入社会力量参与"])
        .await;
    let other = w.member_submits(&li, "PD002", "优化地铁接驳公交线路", &["增加晚间班次"]).await;
    assert_ne!(reference, other);
    let b = Browser::start().await;

    // Staff find it in the inbox with the filters.
    login(&b, &w, "staff").await;
    b.find_with_text("header nav a", "建言列表").await.click().await;
    b.wait_for_text(&other).await;
    b.find("form[action='/suggestions'] input[name=q]").await.type_text("托管").await;
    b.find_with_text("select[name=state] option", &w.bot.t("state.submitted")).await.click().await;
    b.find("form[action='/suggestions'] button[type=submit]").await.click().await;
    wait_for_url(&b, "q=").await;
    let rows = b.find_all("table.inbox tbody tr").await;
    assert_eq!(rows.len(), 1, "the filters leave one suggestion:\n{}", b.body_text().await);
    assert!(rows[0].text().await.contains(&reference));
    assert!(!b.body_text().await.contains(&other), "the other suggestion is filtered out");

    // Open it, accept it, and assign it to 区教育局.
    b.find_with_text("table.inbox a", &reference).await.click().await;
    b.wait_for_text("延长课后服务时间").await;
    let member_before = w.bot.fake.sent_to(zhang.chat_id()).len();
    act(&b, "accept").await;
    b.find_with_text("form#act-assign select[name=lead] option", "区教育局").await.click().await;
    act(&b, "assign").await;
    b.wait_for_text(&w.bot.t("state.assigned")).await;
    let pushes = w.bot.fake.wait_for_sent(zhang.chat_id(), member_before + 2, WAIT).await;
    assert!(pushes.last().unwrap().text.contains("区教育局"), "the member hears where it went: {:?}", pushes.last());
    logout(&b).await;

    // The department answers.
    login(&b, &w, "dept").await;
    b.find_with_text("header nav a", "建言列表").await.click().await;
    b.find_with_text("table.inbox a", &reference).await.click().await;
    assert!(!b.body_text().await.contains(&other));
    b.find_with_text("form#act-reply select[name=class] option", "A").await.click().await;
    let answer = "已会同各街镇研究，2025年秋季学期起课后服务延长至18:30。";
    b.find("form#act-reply textarea[name=text]").await.type_text(answer).await;
    let before = w.bot.fake.sent_to(zhang.chat_id()).len();
    act(&b, "reply").await;
    b.wait_for_text(&w.bot.t("state.replied")).await;

    // The member's push arrives at Telegram, with the answer and the rating buttons.
    let pushes = w.bot.fake.wait_for_sent(zhang.chat_id(), before + 1, WAIT).await;
    let push = pushes.last().unwrap();
    assert!(push.text.contains(answer) && push.text.contains(&reference), "{push:?}");
    assert!(push.button_texts().iter().any(|t| t.contains(&w.bot.t("rating.satisfied"))), "{push:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_title_is_shown_as_text() {
    let w = World::start().await;
    let zhang = TgUser::new(7001, "张三");
    let hostile = "<script>alert('xss')</script><img src=x onerror=alert(1)>";
    let reference = w.member_submits(&zhang, "PD001", hostile, &["<b>粗体</b>"]).await;
    let b = Browser::start().await;
    login(&b, &w, "staff").await;
    b.goto(&w.url("/suggestions")).await;
    b.wait_for_text(hostile).await;
    assert_eq!(b.alert_text().await, None, "no script ran in the inbox");
    b.find_with_text("table.inbox a", &reference).await.click().await;
    b.wait_for_text(hostile).await;
    b.wait_for_text("<b>粗体</b>").await;
    assert_eq!(b.alert_text().await, None, "no script ran on the detail page");
    assert!(b.find_all("main img").await.is_empty(), "no element was made from the title");
    assert!(b.find_all("main script").await.is_empty());
    let source = b.source().await;
    assert!(!source.contains("<script>alert"), "the title is escaped in the page");
}

/// Files a suggestion as the member would, straight through the store.
async fn seed_suggestion(
    w: &World,
    member_no: &str,
    topic_id: Option<i64>,
    kind: jianyan::domain::SuggestionKind,
    title: &str,
    points: &[&str],
) -> i64 {
    let store = &w.bot.store;
    let member = store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
    let now = w.bot.clock.now_utc();
    let suggestion = jianyan::store::NewSuggestion {
        member_id: member.id,
        topic_id,
        kind,
        title: title.into(),
        points: points.iter().map(|p| p.to_string()).collect(),
        as_typed: String::new(),
        attachments: Vec::new(),
        year: 2025,
        prefix: "PD".into(),
        entered_by: None,
    };
    let commit = jianyan::store::Commit {
        update_id: None,
        chat_id: 0,
        dialog: None,
        messages: Vec::new(),
        submission: Some((suggestion, Box::new(|_, _| Vec::new()))),
        change: None,
        now,
    };
    store.commit(commit).await.unwrap();
    store.review_queue(1000).await.unwrap().iter().find(|s| s.title == title).unwrap().id
}

/// Applies a workflow command as `actor`, as the console or the bot would.
async fn seed_act(w: &World, actor: &jianyan::workflow::Actor<'_>, id: i64, command: jianyan::workflow::Command) {
    let app = &w.bot.app;
    let now = w.bot.clock.now_utc();
    let ctx = jianyan::context::Ctx { store: app.store.as_ref(), texts: &app.texts, config: &app.config, now };
    let change = jianyan::workflow::plan(&ctx, actor, id, command.clone()).await.unwrap();
    let change = change.unwrap_or_else(|r| panic!("{command:?} refused: {r:?}"));
    let done = app.store.apply_change(change, now).await.unwrap();
    assert!(matches!(done, jianyan::store::Committed::Done { .. }), "{done:?}");
}

fn advance(w: &World, hours: i64) {
    w.bot.clock.set(w.bot.clock.now_utc() + chrono::Duration::hours(hours));
}

/// Where the page tour writes its screenshots: `JIANYAN_SCREENSHOTS=docs/screenshots` (relative to
/// the crate). Never under CI (`CI` set), so a CI run never changes the committed PNGs.
fn screenshot_dir() -> Option<std::path::PathBuf> {
    if std::env::var_os("CI").is_some() {
        return None;
    }
    let dir = std::env::var("JIANYAN_SCREENSHOTS").ok().filter(|d| !d.trim().is_empty())?;
    Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
}

fn save(dir: &std::path::Path, name: &str, png: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
    eprintln!("wrote {}/{name} ({} bytes)", dir.display(), png.len());
}

/// What the realistic seed made, for the pages that show one thing.
struct Seeded {
    /// Answered by 区教育局, rated and adopted.
    school: i64,
    /// Assigned to 区教育局 (lead) and 区发展和改革委员会, acknowledged.
    plan: i64,
    /// Accepted, not yet assigned: staff see the cards to assign, instruct, merge and adopt.
    baby: i64,
    /// Just submitted: staff see the cards to accept, not accept and merge.
    bikes: i64,
    /// Not accepted.
    dup: i64,
    topic: i64,
    /// Led by 张伟 with 王芳 co-signing (联名) and 李娜 invited.
    cosigned: i64,
    /// Entered by staff for a member who gave it on paper (代为提交).
    entered: i64,
    /// 区教育局's reply waiting for staff's review (督办).
    review: i64,
}

/// Realistic Chinese data: the sample roster, topics from the committee's 2025 list, suggestions in
/// every common state, a broadcast delivered to two members, and an audit log with the entries the
/// console writes (their target and detail shaped as the console writes them).
async fn seed_realistic(w: &World) -> Seeded {
    use jianyan::domain::SuggestionKind as K;
    use jianyan::store::Rating;
    use jianyan::workflow::{Actor, Command as C};

    let store = &w.bot.store;
    let now = w.bot.clock.now_utc();
    let roster = jianyan::roster::parse(include_bytes!("../config/sample-roster.csv"));
    assert!(roster.errors.is_empty(), "{:?}", roster.errors);
    store.import_members(&roster.rows, now).await.unwrap();
    for (title, class, form, description) in [
        (
            "世博水环建设",
            "民生实事类",
            "委员工作站协商",
            "依托水环涉及的街镇工作站收集委员意见，关注安全照明、母婴友好空间、适老适幼等。",
        ),
        (
            "\"15分钟社区生活圈\"建设",
            "民生实事类",
            "民主评议监督",
            "36个街镇政协委员工作站同题共答，开展民主评议监督。",
        ),
    ] {
        let topic = NewTopic {
            title: title.into(),
            description: description.into(),
            class: TopicClass::parse(class).unwrap(),
            form: form.into(),
            closes_at: None,
            pinned: false,
        };
        store.add_topic(topic, now).await.unwrap();
    }
    let topics = store.topics().await.unwrap();
    let topic = |part: &str| topics.iter().find(|t| t.title.contains(part)).map(|t| t.id);
    for name in ["区建设和交通委员会", "区卫生健康委员会", "区发展和改革委员会"] {
        store.add_department(name, None).await.unwrap();
    }
    let department = |name: &str| {
        let name = name.to_string();
        async move { store.department_by_name(&name).await.unwrap().unwrap().id }
    };
    let staff = store.user_for_login("staff").await.unwrap().unwrap().0;
    let dept = store.user_for_login("dept").await.unwrap().unwrap().0;
    let (staff, dept) = (Actor::User(&staff), Actor::User(&dept));
    let member = |no: &str| {
        let no = no.to_string();
        async move { store.member_by_no(&MemberNo::parse(&no).unwrap()).await.unwrap().unwrap() }
    };

    let plan = seed_suggestion(
        w,
        "PD2025001",
        topic("十五五"),
        K::Advice,
        "关于在\"十五五\"规划中促进陆家嘴金融城职住平衡的建议",
        &["在金融城周边规划建设保障性租赁住房", "加密早晚高峰跨江公交与轨交接驳", "推动楼宇配套托育与社区食堂"],
    )
    .await;
    advance(w, 5);
    let school = seed_suggestion(
        w,
        "PD2025003",
        topic("十五五"),
        K::Advice,
        "关于扩大中小学课后服务覆盖面的建议",
        &["课后服务延长至18:30", "引入科技馆、少年宫等社会资源", "对双职工家庭优先保障"],
    )
    .await;
    advance(w, 20);
    let lift = seed_suggestion(
        w,
        "PD2025002",
        topic("15分钟"),
        K::PublicOpinion,
        "优化老旧小区加装电梯审批流程",
        &["推行加装电梯一站式审批", "设立低层住户补偿指引"],
    )
    .await;
    advance(w, 26);
    let light = seed_suggestion(
        w,
        "PD2025004",
        topic("世博水环"),
        K::Inspection,
        "世博水环夜间照明与安全巡查情况的视察报告",
        &["部分滨水步道照度不足", "建议增设紧急呼叫点与巡查频次"],
    )
    .await;
    advance(w, 30);
    let baby = seed_suggestion(
        w,
        "PD2025005",
        topic("世博水环"),
        K::Advice,
        "关于在滨水空间建设母婴友好设施的建议",
        &["在主要驿站设置母婴室", "增加儿童友好游憩设施"],
    )
    .await;
    advance(w, 22);
    let bikes = seed_suggestion(
        w,
        "PD2025006",
        topic("15分钟"),
        K::PublicOpinion,
        "建议在地铁站周边增设非机动车停放点",
        &["世纪大道站、东方体育中心站周边停放点严重不足"],
    )
    .await;
    advance(w, 3);
    let clinic = seed_suggestion(
        w,
        "PD2025007",
        None,
        K::PublicOpinion,
        "关于提升社区卫生服务中心慢病药品配备的建议",
        &["扩大长处方药品目录", "与三级医院药品目录衔接"],
    )
    .await;
    advance(w, 4);
    let dup =
        seed_suggestion(w, "PD2025008", topic("15分钟"), K::PublicOpinion, "老旧小区加装电梯难", &["审批慢"]).await;
    advance(w, 2);
    let research = seed_suggestion(
        w,
        "PD2025009",
        topic("产业体系"),
        K::Research,
        "关于推动专业服务业高质量发展的调研报告",
        &["梳理法律、会计、咨询等专业服务机构集聚情况", "建议设立专业服务业发展专项资金", "完善国际人才配套服务"],
    )
    .await;

    advance(w, 20);
    let edu = department("区教育局").await;
    let build = department("区建设和交通委员会").await;
    let dev = department("区发展和改革委员会").await;
    for id in [plan, school, lift, light, baby, research] {
        seed_act(w, &staff, id, C::Accept).await;
    }
    seed_act(w, &staff, dup, C::Reject { reason: "与PD-2025-0003内容相同，已并入该建言办理。".into() }).await;
    seed_act(w, &staff, plan, C::Assign { lead: edu, co: vec![dev], deadline: None }).await;
    seed_act(w, &staff, school, C::Assign { lead: edu, co: vec![], deadline: None }).await;
    seed_act(w, &staff, lift, C::Assign { lead: build, co: vec![], deadline: None }).await;
    seed_act(w, &staff, light, C::Assign { lead: build, co: vec![], deadline: None }).await;
    seed_act(w, &staff, research, C::Instruct { text: "请发改委牵头研究，纳入\"十五五\"专项规划。".into() }).await;
    advance(w, 30);
    seed_act(w, &dept, school, C::Acknowledge).await;
    seed_act(w, &dept, plan, C::Acknowledge).await;
    advance(w, 50);
    let answer = "经研究，2025年秋季学期起全区公办中小学课后服务时间延长至18:30，并引入区少年宫、科技馆等40余家单位的课程资源；双职工家庭子女优先保障。";
    seed_act(
        w,
        &dept,
        school,
        C::Reply { class: "A".into(), text: answer.into(), document: None, letter: Default::default() },
    )
    .await;
    seed_act(w, &staff, school, C::ApproveReply { class: None, reason: String::new() }).await;
    advance(w, 20);
    let li_na = member("PD2025003").await;
    seed_act(
        w,
        &Actor::Member(&li_na),
        school,
        C::Rate { reply_no: 1, rating: Rating::Satisfied, reason: String::new() },
    )
    .await;
    seed_act(w, &staff, school, C::Adopt).await;
    advance(w, 24);

    // 重点建言 with its supervising leader; a reply waiting for review; a co-signed suggestion;
    // one entered by staff for a member.
    seed_act(w, &staff, plan, C::MarkKey { leader: "区政协副主席 陈某某".into() }).await;
    seed_act(w, &staff, research, C::Assign { lead: edu, co: vec![], deadline: None }).await;
    seed_act(w, &dept, research, C::Acknowledge).await;
    let draft = "已会同区发展改革委研究，拟于2026年设立专业服务业发展专项资金，并在陆家嘴、张江试点人才公寓配套。";
    seed_act(
        w,
        &dept,
        research,
        C::Reply { class: "B".into(), text: draft.into(), document: None, letter: Default::default() },
    )
    .await;
    let (lead, co, invited) = (member("PD2025001").await, member("PD2025002").await, member("PD2025003").await);
    let suggestion = jianyan::store::NewSuggestion {
        member_id: lead.id,
        topic_id: topic("15分钟"),
        kind: K::Advice,
        title: "关于推进街镇党群服务中心与便民服务中心融合建设的建议".into(),
        points: vec!["统一规划街镇服务阵地".into(), "推行一窗受理、集成服务".into()],
        as_typed: String::new(),
        attachments: Vec::new(),
        year: 2025,
        prefix: "PD".into(),
        entered_by: None,
    };
    let commit = jianyan::store::Commit {
        update_id: None,
        chat_id: 0,
        dialog: None,
        messages: Vec::new(),
        submission: Some((suggestion, Box::new(|_, _| Vec::new()))),
        change: None,
        now: w.bot.clock.now_utc(),
    };
    let invite = jianyan::store::Effect::InviteCosigners {
        member_ids: vec![co.id, invited.id],
        expires_at: w.bot.clock.now_utc() + chrono::Duration::days(7),
    };
    store.commit_with(commit, vec![invite]).await.unwrap();
    let cosigned = store.review_queue(1000).await.unwrap().iter().find(|s| s.title.contains("融合建设")).unwrap().id;
    seed_act(w, &Actor::Member(&co), cosigned, C::Cosign { accept: true }).await;
    advance(w, 2);
    let staff_id = store.user_for_login("staff").await.unwrap().unwrap().0.id;
    let suggestion = jianyan::store::NewSuggestion {
        member_id: member("PD2025010").await.id,
        topic_id: topic("世博水环"),
        kind: K::PublicOpinion,
        title: "滨江步道夜间骑行安全隐患".into(),
        points: vec!["部分路段人车混行".into(), "建议设置分隔与限速提示".into()],
        as_typed: "工作人员代为录入（委员书面提出）".into(),
        attachments: Vec::new(),
        year: 2025,
        prefix: "PD".into(),
        entered_by: Some(jianyan::store::EnteredBy {
            user_id: staff_id,
            channel: jianyan::domain::EntryChannel::Paper,
        }),
    };
    let commit = jianyan::store::Commit {
        update_id: None,
        chat_id: 0,
        dialog: None,
        messages: Vec::new(),
        submission: Some((suggestion, Box::new(|_, _| Vec::new()))),
        change: None,
        now: w.bot.clock.now_utc(),
    };
    store.commit(commit).await.unwrap();
    let entered = store.review_queue(1000).await.unwrap().iter().find(|s| s.title.contains("滨江步道")).unwrap().id;
    advance(w, 2);

    // Two members on Telegram, and a broadcast to everyone reachable.
    w.bot.register(&TgUser::new(8001, "张伟"), "PD2025001").await;
    w.bot.register(&TgUser::new(8002, "王芳"), "PD2025002").await;
    let announcement = "请各位委员于本月底前围绕\"15分钟社区生活圈\"建设提交建言。";
    let water = topic("15分钟").unwrap();
    let topic_row = topics.iter().find(|t| t.id == water).cloned();
    let texts = &w.bot.app.texts;
    let render = |language: Option<&str>| {
        jianyan::dialog::broadcast::member_copy(texts, texts.lang_for(language), announcement, topic_row.as_ref())
            .encode()
    };
    let new = jianyan::store::NewBroadcast {
        topic_id: Some(water),
        text: announcement.into(),
        audience: jianyan::store::Audience::All,
        staff_id: None,
        dialog: None,
        request_key: None,
    };
    let (broadcast, _) = store.create_broadcast(new, &render, w.bot.clock.now_utc()).await.unwrap();

    // The audit log, as the console writes it.
    let admin = store.user_for_login("admin").await.unwrap().unwrap().0.id;
    let staff_id = store.user_for_login("staff").await.unwrap().unwrap().0.id;
    let dept_id = store.user_for_login("dept").await.unwrap().unwrap().0.id;
    let at = w.bot.clock.now_utc();
    use jianyan::store::Auditor::User as By;
    for (who, action, target, detail) in [
        (By(admin), "login", String::new(), String::new()),
        (
            By(admin),
            "members.import",
            "roster".to_string(),
            "inserted 10, updated 0, workstations created 8, rows skipped 0".to_string(),
        ),
        (By(admin), "user.create", format!("user:{staff_id}"), "staff | staff".to_string()),
        (By(admin), "user.create", format!("user:{dept_id}"), "dept | department".to_string()),
        (
            By(staff_id),
            "topic.create",
            format!("topic:{water}"),
            "\"15分钟社区生活圈\"建设 | 民生实事类 | pinned".to_string(),
        ),
        (By(staff_id), "topic.close", format!("topic:{water}"), String::new()),
        (By(staff_id), "department.create", "department:3".to_string(), "区建设和交通委员会".to_string()),
        (By(staff_id), "liaison.invite", "liaison:1".to_string(), "教育局联络员 | 区教育局".to_string()),
        (By(staff_id), "member.invite", "member:PD2025001".to_string(), String::new()),
        (
            By(staff_id),
            "broadcast.create",
            format!("broadcast:{broadcast}"),
            format!("topic:{water} | all: | 2 recipients"),
        ),
        (
            By(staff_id),
            "broadcast.create",
            format!("broadcast:{broadcast}"),
            "topic:0 | workstation:陆家嘴街道 | 1 recipients".to_string(),
        ),
        (By(staff_id), "broadcast.cancel", format!("broadcast:{broadcast}"), "停止了 0 条未发送的消息".to_string()),
        (By(staff_id), "suggestions.export_csv", String::new(), "导出 3 条；筛选：state=accepted q=电梯".to_string()),
        (By(dept_id), "api_token.create", "区教育局".to_string(), "#1 教育局办公系统".to_string()),
        (By(admin), "user.password_reset", format!("user:{staff_id}"), "staff".to_string()),
        (By(admin), "user.deactivate", format!("user:{dept_id}"), "dept".to_string()),
        (By(admin), "user.reactivate", format!("user:{dept_id}"), "dept".to_string()),
    ] {
        store.audit(who, action, &target, &detail, at).await.unwrap();
    }
    let _ = (clinic, lift, light, research);
    Seeded { school, plan, baby, bikes, dup, topic: water, cosigned, entered, review: research }
}

/// The console's pages a role can open, by a short name (the screenshot's file name).
fn pages(role: &str, s: &Seeded) -> Vec<(String, String)> {
    let mut pages = vec![
        ("dashboard", "/".to_string()),
        ("inbox", "/suggestions".to_string()),
        ("suggestion-answered", format!("/suggestions/{}", s.school)),
        ("suggestion-assigned", format!("/suggestions/{}", s.plan)),
    ];
    if role != "dept" {
        pages.extend([
            ("suggestion-new", format!("/suggestions/{}", s.bikes)),
            ("suggestion-accepted", format!("/suggestions/{}", s.baby)),
            ("suggestion-not-accepted", format!("/suggestions/{}", s.dup)),
            ("suggestion-cosigned", format!("/suggestions/{}", s.cosigned)),
            ("suggestion-entered", format!("/suggestions/{}", s.entered)),
            ("suggestion-reply-review", format!("/suggestions/{}", s.review)),
            ("suggestion-enter-form", "/suggestions/new".to_string()),
            ("figures", "/figures".to_string()),
            ("topics", "/topics".to_string()),
            ("topic-new", "/topics/new".to_string()),
            ("topic-edit", format!("/topics/{}/edit", s.topic)),
            ("broadcasts", "/broadcasts".to_string()),
            ("broadcast-new", format!("/broadcasts/new?topic={}", s.topic)),
            ("departments", "/departments".to_string()),
            ("members", "/members".to_string()),
            ("members-import", "/members/import".to_string()),
            ("members-unreachable", "/members/unreachable".to_string()),
            ("preview", "/preview".to_string()),
            ("api-tokens", "/api-tokens".to_string()),
        ]);
    } else {
        pages.push(("forbidden", "/topics".to_string()));
    }
    if role == "admin" {
        pages.extend([("users", "/users".to_string()), ("audit", "/audit".to_string())]);
    }
    pages.push(("not-found", "/suggestions/999999".to_string()));
    pages.into_iter().map(|(n, p)| (n.to_string(), p)).collect()
}

/// Codes a person must never read: every state, action, event, audit action and audience kind the
/// console knows, and the English words of the audit details.
fn codes() -> std::collections::HashSet<String> {
    use jianyan::domain::SuggestionState;
    let mut codes: std::collections::HashSet<String> =
        SuggestionState::ALL.iter().map(|s| s.code().to_string()).collect();
    for act in jianyan::workflow::Act::ALL {
        codes.insert(serde_json::to_value(act).unwrap().as_str().unwrap().to_string());
    }
    codes.extend(jianyan::web::manage::audit::ACTIONS.iter().map(|a| a.to_string()));
    for word in [
        "acknowledged",
        "returned",
        "instructed",
        "adopted",
        "rated",
        "level",
        "workstation",
        "sector",
        "department",
        "pinned",
        "recipients",
        "inserted",
        "updated",
        "skipped",
        "roster",
        "true",
        "false",
        "null",
        "undefined",
    ] {
        codes.insert(word.to_string());
    }
    codes
}

/// What is wrong with the page on screen: sideways scrolling, codes, raw locale keys or
/// placeholders in the text, chart labels under 11 px, buttons wrapped into a column or stretched.
async fn page_problems(b: &Browser, codes: &std::collections::HashSet<String>, tables: &[String]) -> Vec<String> {
    let script = r#"
        const problems = [];
        const root = document.documentElement;
        if (root.scrollWidth > window.innerWidth) {
            const wide = [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap, .scroll'))
                .slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + [...e.classList].join('.') + ' «' + (e.innerText || '').slice(0, 20) + '»');
            problems.push('scrolls sideways: ' + root.scrollWidth + ' > ' + window.innerWidth + ' (' + wide.join(', ') + ')');
        }
        const nav = document.querySelector('header.top nav');
        if (window.innerWidth <= 640 && nav && nav.getBoundingClientRect().height > 0) {
            problems.push('the navigation is not folded behind the menu key');
        }
        for (const t of document.querySelectorAll('svg text')) {
            const ctm = t.getScreenCTM();
            const px = parseFloat(getComputedStyle(t).fontSize) * (ctm ? ctm.a : 1);
            if (px < 10.95 && t.getBoundingClientRect().width > 0) {
                problems.push('chart label «' + t.textContent + '» is ' + px.toFixed(1) + ' px');
                break;
            }
        }
        for (const e of document.querySelectorAll('button, a.button')) {
            const r = e.getBoundingClientRect();
            if (r.width === 0) continue;
            const line = parseFloat(getComputedStyle(e).lineHeight) || 24;
            const text = (e.innerText || '').trim();
            if (text.length >= 3 && r.height > 2.6 * line + 16) {
                problems.push('button «' + text + '» wraps into ' + Math.round(r.height) + ' px');
            } else if (r.height > 90) {
                problems.push('button «' + text + '» stretches to ' + Math.round(r.height) + ' px');
            }
        }
        return [problems, window.innerWidth, document.body.innerText];
    "#;
    let v = b.execute(script).await;
    let mut problems: Vec<String> =
        v[0].as_array().unwrap().iter().map(|p| p.as_str().unwrap_or_default().to_string()).collect();
    // The roster file's column names, which the import page names as they must be typed.
    let text = v[2].as_str().unwrap_or_default().replace("member_no,name,level,workstation,sector,phone", "");
    let text = text.as_str();
    let word = regex::Regex::new(r"[A-Za-z_][A-Za-z0-9_]*(?:[.:][A-Za-z0-9_]+)*").unwrap();
    for m in word.find_iter(text) {
        let token = m.as_str();
        let head = token.split(['.', ':']).next().unwrap_or_default();
        if codes.contains(token) || codes.contains(head) && token.contains(':') {
            problems.push(format!("shows the code «{token}»"));
        } else if token.contains('.') && tables.iter().any(|t| t == head) {
            problems.push(format!("shows the locale key «{token}»"));
        } else if ["topic", "user", "member", "broadcast", "liaison", "department"].contains(&head)
            && token.contains(':')
        {
            problems.push(format!("shows the target code «{token}»"));
        }
    }
    let placeholder = regex::Regex::new(r"\{[A-Za-z_]+\}").unwrap();
    problems.extend(placeholder.find_iter(text).map(|m| format!("shows the placeholder «{}»", m.as_str())));
    problems.dedup();
    problems
}

/// Every console page, as admin, staff and a department, on a desktop (1280 px) and a phone
/// (390 × 844): none scrolls sideways, none shows a code, raw key or placeholder, chart labels are
/// at least 11 px, buttons neither wrap into a column nor stretch. With `JIANYAN_SCREENSHOTS` set
/// (and `CI` not), it also writes each admin and department page's screenshots there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_page_fits_a_phone_and_reads_in_words() {
    let w = World::start_reviewing().await;
    let seeded = seed_realistic(&w).await;
    let codes = codes();
    let locale: toml::Table =
        toml::from_str(include_str!("../config/locales/zh-CN.toml")).expect("the Chinese locale file");
    let tables: Vec<String> = locale.keys().cloned().collect();
    let shots = screenshot_dir();
    let b = Browser::start().await;
    let mut problems = Vec::new();
    let mut visited = 0;
    for role in ["admin", "staff", "dept"] {
        b.viewport(1280, 900, false).await;
        login(&b, &w, role).await;
        for (name, path) in pages(role, &seeded) {
            b.goto(&w.url(&path)).await;
            b.find("main").await;
            for (size, width, height, mobile) in [("desktop", 1280, 900, false), ("phone", 390, 844, true)] {
                b.viewport(width, height, mobile).await;
                let inner = b.execute("return window.innerWidth").await.as_u64().unwrap_or(0);
                assert_eq!(inner, width as u64, "the window is not {width} px wide inside");
                for p in page_problems(&b, &codes, &tables).await {
                    problems.push(format!("{role} {path} ({size}): {p}"));
                }
                visited += 1;
                if let Some(dir) = shots.as_deref().filter(|_| role != "staff") {
                    save(dir, &format!("{role}-{name}-{size}.png"), &b.screenshot_full(width, height, mobile).await);
                }
            }
        }
        b.viewport(1280, 900, false).await;
        b.goto(&w.url("/")).await;
        logout(&b).await;
    }
    assert!(visited >= 80, "only {visited} page views");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// With the bot off, the banner takes at most an eighth of a phone's first screen: for admins a
/// short line that opens to say how to turn the bot on, for staff a few lines; departments do not
/// see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_off_banner_stays_short_on_a_phone() {
    let w = World::start_with_bot(false).await;
    let b = Browser::start().await;
    let height = "const e = document.querySelector('main .bot-off'); return e ? e.getBoundingClientRect().height : 0";
    // An eighth of the phone's first screen at most (two or three lines).
    for (role, at_most) in [("admin", 844.0 / 8.0), ("staff", 844.0 / 8.0)] {
        b.viewport(1280, 900, false).await;
        login(&b, &w, role).await;
        b.viewport(390, 844, true).await;
        let shown = b.execute(height).await.as_f64().unwrap();
        assert!(shown > 0.0 && shown <= at_most, "{role}: the banner is {shown} px high on a phone");
        if role == "admin" {
            b.find("main details.bot-off summary").await.click().await;
            b.wait_for_text("JIANYAN_BOT_TOKEN").await;
        }
        b.viewport(1280, 900, false).await;
        logout(&b).await;
    }
    login(&b, &w, "dept").await;
    assert_eq!(b.execute(height).await.as_f64(), Some(0.0), "departments are not told");
}

/// A roster import's button and an export's link say that the work is under way (assets/app.js),
/// in the console's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_imports_and_exports_say_they_are_working() {
    let w = World::start().await;
    let b = Browser::start().await;
    login(&b, &w, "staff").await;
    b.goto(&w.url("/members/import")).await;
    let roster = concat!(env!("CARGO_MANIFEST_DIR"), "/config/sample-roster.csv");
    b.find("form[action='/members/import'] input[type=file]").await.type_text(roster).await;
    // The test keeps the form from leaving the page, to read the button while "sending".
    b.execute(
        "const f = document.querySelector(\"form[action='/members/import']\");
         f.addEventListener('submit', e => e.preventDefault());
         f.requestSubmit();",
    )
    .await;
    b.find_with_text("form[action='/members/import'] button[disabled]", &w.bot.t("web.busy.import")).await;

    b.goto(&w.url("/suggestions")).await;
    b.execute(
        "const a = document.querySelector(\"a[href*='/export.csv']\");
         a.addEventListener('click', e => e.preventDefault());
         a.click();",
    )
    .await;
    b.find_with_text("a[aria-busy][href*='/export.csv']", &w.bot.t("web.busy.export")).await;
}
