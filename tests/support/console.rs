//! Starts the real web router on a fresh database (SQLite, or PostgreSQL when
//! `JIANYAN_TEST_BACKEND=postgres`), with accounts of every role, and drives it like a browser
//! would (cookies, CSRF tokens from the pages' forms).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use jianyan::app::{App, load_texts};
use jianyan::clock::ManualClock;
use jianyan::domain::{MemberLevel, MemberNo, TopicClass};
use jianyan::store::{NewTopic, NewUser, Role, RosterRow, Store};
use jianyan::web::{WebState, auth};
use tower::ServiceExt;

use super::db::{Place, TestDb};

pub const PASSWORD: &str = "Test-password-1";

pub struct Console {
    /// The app's store, on the backend `JIANYAN_TEST_BACKEND` names.
    pub store: Arc<dyn Store>,
    /// Raw SQL on the same database (either backend; parameters as `$1`…).
    pub db: TestDb,
    pub app: App,
    pub state: WebState,
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub department_id: i64,
    pub other_department_id: i64,
    pub topic_id: i64,
    _dir: tempfile::TempDir,
}

/// A logged-in browser: its session cookie and the CSRF token its pages carry.
#[derive(Clone, Debug)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
    }
}

/// The value of the first `name="_csrf"` field in a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"_csrf\" value=\"")? + "name=\"_csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

/// The nonce of a confirmation page (`form#confirm`'s `_once` field), if the page is one.
pub fn once_of(html: &str) -> Option<String> {
    html.find("id=\"confirm\"")?;
    let at = html.find("name=\"_once\" value=\"")? + "name=\"_once\" value=\"".len();
    Some(html[at..].split('"').next()?.to_string())
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Console {
    /// A fresh database with accounts `admin`, `staff`, `dept` (区教育局) and `dept2` (区财政局),
    /// all with password [`PASSWORD`], members PD001 张三 and PD002 李四, and one open topic.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Like `start`, with settings changed by `extra` (environment-style keys). Replies reach the
    /// member at once (`workflow.review_replies` off) unless `extra` turns 督办 on.
    pub async fn start_with(extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let place = Place::create().await;
        let mut settings = place.settings(dir.path());
        settings.push(("JIANYAN_WEB__SECURE_COOKIES".to_string(), "false".to_string()));
        settings.push(("JIANYAN_WORKFLOW__REVIEW_REPLIES".to_string(), "false".to_string()));
        settings.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = jianyan::config::Config::from_layers(None, settings).unwrap();
        let (store, db) = place.open(&config, 4).await;
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap()));
        let texts = load_texts(&config).unwrap();
        let app = App { config: Arc::new(config), store: store.clone(), texts: Arc::new(texts), clock: clock.clone() };
        let now = jianyan::clock::Clock::now(clock.as_ref());
        let department_id = store.add_department("区教育局", Some("教育局")).await.unwrap().id;
        let other_department_id = store.add_department("区财政局", Some("财政局")).await.unwrap().id;
        let hash = auth::hash_password(PASSWORD).unwrap();
        for (username, name, role, dep) in [
            ("admin", "系统管理员", Role::Admin, None),
            ("staff", "王工作人员", Role::Staff, None),
            ("dept", "教育局联络员", Role::Department, Some(department_id)),
            ("dept2", "财政局联络员", Role::Department, Some(other_department_id)),
        ] {
            let user = NewUser {
                username: username.into(),
                name: name.into(),
                role,
                department_id: dep,
                password_hash: hash.clone(),
            };
            store.add_user(user, now).await.unwrap().unwrap();
        }
        let member = |no: &str, name: &str| RosterRow {
            member_no: MemberNo::parse(no).unwrap(),
            name: name.into(),
            level: MemberLevel::Street,
            workstation: Some("陆家嘴街道".into()),
            sector: "经济界".into(),
            phone: "13800138000".into(),
        };
        store.import_members(&[member("PD001", "张三"), member("PD002", "李四")], now).await.unwrap();
        let topic = NewTopic {
            title: "\"十五五\"规划编制".into(),
            description: "第一协商议题".into(),
            class: TopicClass::Plan,
            form: "议政性常委会".into(),
            closes_at: None,
            pinned: true,
        };
        let topic_id = store.add_topic(topic, now).await.unwrap().id;
        let state = WebState::new(app.clone(), false);
        let router = jianyan::web::router(state.clone());
        Self { store, db, app, state, router, clock, department_id, other_department_id, topic_id, _dir: dir }
    }

    pub async fn request(&self, request: Request<Body>) -> Page {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Page { status, headers, body: String::from_utf8_lossy(&bytes).into_owned(), bytes }
    }

    pub async fn get(&self, path: &str, browser: Option<&Browser>) -> Page {
        let mut r = Request::get(path);
        if let Some(b) = browser {
            r = r.header(header::COOKIE, &b.cookie);
        }
        self.request(r.body(Body::empty()).unwrap()).await
    }

    /// Posts a form; the browser's CSRF token is added as `_csrf` unless the fields carry one.
    pub async fn post(&self, path: &str, browser: Option<&Browser>, fields: &[(&str, &str)]) -> Page {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        if let Some(b) = browser
            && !fields.iter().any(|(k, _)| *k == "_csrf")
        {
            fields.push(("_csrf", b.csrf.as_str()));
        }
        let mut r = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(b) = browser {
            r = r.header(header::COOKIE, &b.cookie);
        }
        self.request(r.body(Body::from(form_body(&fields))).unwrap()).await
    }

    /// Posts an action form and, when the console asks first (a confirmation page, `form#confirm`),
    /// confirms it as shown: returns the confirmation's answer, or the first answer otherwise.
    pub async fn post_confirmed(&self, path: &str, browser: Option<&Browser>, fields: &[(&str, &str)]) -> Page {
        let asked = self.post(path, browser, fields).await;
        let Some(once) = once_of(&asked.body) else { return asked };
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        fields.push(("_step", "confirm"));
        fields.push(("_once", &once));
        self.post(path, browser, &fields).await
    }

    /// Logs in through the login page, as a browser does.
    pub async fn login(&self, username: &str) -> Browser {
        self.try_login(username, PASSWORD).await.unwrap_or_else(|page| panic!("login as {username} failed: {page:?}"))
    }

    pub async fn try_login(&self, username: &str, password: &str) -> Result<Browser, Page> {
        let login = self.get("/login", None).await;
        let token = csrf_of(&login.body).expect("the login form has a token");
        let cookie = set_cookie_value(&login, "jianyan_login").expect("the login page sets its cookie");
        let mut r = Request::post("/login").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        r = r.header(header::COOKIE, format!("jianyan_login={cookie}"));
        let body = form_body(&[("_csrf", &token), ("username", username), ("password", password)]);
        let page = self.request(r.body(Body::from(body)).unwrap()).await;
        if page.status != StatusCode::SEE_OTHER {
            return Err(page);
        }
        let session = set_cookie_value(&page, "jianyan_session").expect("a session cookie");
        let cookie = format!("jianyan_session={session}");
        let home = self.get("/", Some(&Browser { cookie: cookie.clone(), csrf: String::new() })).await;
        let csrf = csrf_of(&home.body).expect("pages carry the CSRF token");
        Ok(Browser { cookie, csrf })
    }
}

pub fn set_cookie_value(page: &Page, name: &str) -> Option<String> {
    page.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}="))?.split(';').next().map(str::to_string))
}

// --- department API helpers (tests/web_api.rs) ---------------------------------------------------

/// An answer of the JSON API: status, headers, the body and the body parsed as JSON.
#[derive(Debug)]
pub struct ApiAnswer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    pub json: serde_json::Value,
}

impl ApiAnswer {
    /// `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

impl Console {
    /// Creates a token for a department the way the token page does (only its hash is kept);
    /// returns its id and the token.
    pub async fn api_token_for(&self, department_id: i64, name: &str) -> (i64, String) {
        let token = jianyan::web::api::tokens::new_token();
        let now = jianyan::clock::Clock::now(self.clock.as_ref());
        let created = self.store.create_api_token(department_id, name, &auth::token_hash(&token), None, now).await;
        (created.unwrap().id, token)
    }

    /// Calls the API: `token` as a bearer token (none: no Authorization header), `body` as the raw
    /// request body (sent as application/json).
    pub async fn api(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> ApiAnswer {
        let mut r = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            r = r.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if body.is_some() {
            r = r.header(header::CONTENT_TYPE, "application/json");
        }
        let page = self.request(r.body(Body::from(body.unwrap_or("").to_string())).unwrap()).await;
        let json = serde_json::from_slice(&page.bytes).unwrap_or(serde_json::Value::Null);
        ApiAnswer { status: page.status, headers: page.headers, body: page.body, json }
    }

    /// Binds a member to a Telegram chat (their invite redeemed), so pushes to them reach the outbox.
    pub async fn api_bind_member(&self, member_no: &str, chat_id: i64) {
        let now = jianyan::clock::Clock::now(self.clock.as_ref());
        let member = self.store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
        let hash = auth::token_hash(&format!("invite-{member_no}"));
        self.store.create_invite(member.id, &hash, now, now + chrono::Duration::days(1)).await.unwrap();
        let redeemed = self.store.redeem_invite(&hash, chat_id, chat_id, None, now).await.unwrap();
        assert!(matches!(redeemed, jianyan::store::Redeemed::Bound(_)), "{redeemed:?}");
    }

    /// Files a suggestion by a member on the topic, as the bot does; returns its id and reference.
    pub async fn api_submit(&self, member_no: &str, title: &str, points: &[&str]) -> (i64, String) {
        use jianyan::store::{Commit, Committed, NewSuggestion};
        let now = jianyan::clock::Clock::now(self.clock.as_ref());
        let member = self.store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
        let suggestion = NewSuggestion {
            member_id: member.id,
            topic_id: Some(self.topic_id),
            kind: jianyan::domain::SuggestionKind::Advice,
            title: title.into(),
            points: points.iter().map(|p| p.to_string()).collect(),
            as_typed: String::new(),
            attachments: Vec::new(),
            year: 2025,
            prefix: "PD".into(),
            entered_by: None,
        };
        let commit = Commit {
            update_id: None,
            chat_id: member.telegram_user_id.unwrap_or(1),
            dialog: None,
            messages: Vec::new(),
            submission: Some((suggestion, Box::new(|_, _| Vec::new()))),
            change: None,
            now,
        };
        let Committed::Done { reference: Some(reference), .. } = self.store.commit(commit).await.unwrap() else {
            panic!("not submitted")
        };
        let reference = reference.to_string();
        (self.store.suggestion_id_by_reference(&reference).await.unwrap().unwrap(), reference)
    }

    /// Plans and applies a command as a console account, through the workflow; panics if refused.
    pub async fn api_run_as(&self, username: &str, id: i64, command: jianyan::workflow::Command) {
        use jianyan::workflow::{Actor, plan};
        let (user, _) = self.store.user_for_login(username).await.unwrap().unwrap();
        let now = jianyan::clock::Clock::now(self.clock.as_ref());
        let ctx = jianyan::context::Ctx {
            store: self.app.store.as_ref(),
            texts: &self.app.texts,
            config: &self.app.config,
            now,
        };
        let change = plan(&ctx, &Actor::User(&user), id, command.clone()).await.unwrap();
        let change = change.unwrap_or_else(|r| panic!("{command:?} refused: {r:?}"));
        let done = self.store.apply_change(change, now).await.unwrap();
        assert!(matches!(done, jianyan::store::Committed::Done { .. }), "{done:?}");
    }

    /// A suggestion by PD001 accepted by staff and assigned to 区教育局 (`dept`) as lead, with
    /// 区财政局 (`dept2`) as co-department if `with_co`.
    pub async fn api_assigned(&self, title: &str, with_co: bool) -> (i64, String) {
        use jianyan::workflow::Command;
        let (id, reference) = self.api_submit("PD001", title, &["第一条建议", "第二条建议"]).await;
        self.api_run_as("staff", id, Command::Accept).await;
        let co = if with_co { vec![self.other_department_id] } else { Vec::new() };
        self.api_run_as("staff", id, Command::Assign { lead: self.department_id, co, deadline: None }).await;
        (id, reference)
    }
}

// --- inbox helpers (tests/web_inbox.rs) -----------------------------------------------------------

impl Console {
    /// Files a suggestion by a member on the console's topic, as the bot does (`store.commit` with a
    /// `NewSuggestion`); returns its id and reference number.
    pub async fn inbox_submit(
        &self,
        member_no: &str,
        kind: jianyan::domain::SuggestionKind,
        title: &str,
        points: &[&str],
        attachments: Vec<jianyan::store::Attachment>,
    ) -> (i64, String) {
        use jianyan::store::{Commit, Committed, NewSuggestion};
        let now = jianyan::clock::Clock::now(self.clock.as_ref());
        let member = self.store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
        let suggestion = NewSuggestion {
            member_id: member.id,
            topic_id: Some(self.topic_id),
            kind,
            title: title.into(),
            points: points.iter().map(|p| p.to_string()).collect(),
            as_typed: String::new(),
            attachments,
            year: 2025,
            prefix: "PD".into(),
            entered_by: None,
        };
        let commit = Commit {
            update_id: None,
            chat_id: member.telegram_user_id.unwrap_or(1),
            dialog: None,
            messages: Vec::new(),
            submission: Some((suggestion, Box::new(|_, _| Vec::new()))),
            change: None,
            now,
        };
        let Committed::Done { reference: Some(reference), .. } = self.store.commit(commit).await.unwrap() else {
            panic!("not submitted")
        };
        let reference = reference.to_string();
        (self.store.suggestion_id_by_reference(&reference).await.unwrap().unwrap(), reference)
    }

    /// Binds a member to a Telegram chat, so pushes to them are queued in the outbox.
    pub async fn inbox_bind(&self, member_no: &str, chat_id: i64) {
        let now = jianyan::clock::Clock::now(self.clock.as_ref());
        let member = self.store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
        let hash = auth::token_hash(&format!("inbox-invite-{member_no}"));
        self.store.create_invite(member.id, &hash, now, now + chrono::Duration::days(1)).await.unwrap();
        let redeemed = self.store.redeem_invite(&hash, chat_id, chat_id, None, now).await.unwrap();
        assert!(matches!(redeemed, jianyan::store::Redeemed::Bound(_)), "{redeemed:?}");
    }

    /// The payloads queued in the outbox for a chat, oldest first.
    pub async fn inbox_outbox(&self, chat_id: i64) -> Vec<String> {
        self.db.texts("SELECT payload FROM outbox WHERE chat_id = $1 ORDER BY id", &[chat_id.into()]).await
    }

    /// A suggestion's state now.
    pub async fn inbox_state(&self, id: i64) -> jianyan::domain::SuggestionState {
        self.store.facts(id).await.unwrap().unwrap().state
    }

    /// Plans and applies a command as a console account, through the workflow; panics if refused.
    pub async fn inbox_run_as(&self, username: &str, id: i64, command: jianyan::workflow::Command) {
        use jianyan::workflow::{Actor, plan};
        let (user, _) = self.store.user_for_login(username).await.unwrap().unwrap();
        let now = jianyan::clock::Clock::now(self.clock.as_ref());
        let ctx = jianyan::context::Ctx {
            store: self.app.store.as_ref(),
            texts: &self.app.texts,
            config: &self.app.config,
            now,
        };
        let change = plan(&ctx, &Actor::User(&user), id, command.clone()).await.unwrap();
        let change = change.unwrap_or_else(|r| panic!("{command:?} refused: {r:?}"));
        let done = self.store.apply_change(change, now).await.unwrap();
        assert!(matches!(done, jianyan::store::Committed::Done { .. }), "{done:?}");
    }

    /// A suggestion by PD001, accepted and assigned by staff to 区教育局 (`dept`) as lead, with
    /// 区财政局 (`dept2`) as co-department if `with_co`.
    pub async fn inbox_assigned(&self, title: &str, with_co: bool) -> (i64, String) {
        use jianyan::workflow::Command;
        let kind = jianyan::domain::SuggestionKind::Advice;
        let (id, reference) = self.inbox_submit("PD001", kind, title, &["第一条建议", "第二条建议"], Vec::new()).await;
        self.inbox_run_as("staff", id, Command::Accept).await;
        let co = if with_co { vec![self.other_department_id] } else { Vec::new() };
        self.inbox_run_as("staff", id, Command::Assign { lead: self.department_id, co, deadline: None }).await;
        (id, reference)
    }

    /// The audit log's actions, newest first.
    pub async fn inbox_audit_actions(&self) -> Vec<String> {
        self.store.audit_log(1000).await.unwrap().into_iter().map(|e| format!("{} {}", e.action, e.target)).collect()
    }
}

// --- roster upload (tests/roster_bounds.rs) ---------------------------------------------------------

impl Console {
    /// Uploads a roster file on the console's import page, as a browser's form does.
    pub async fn upload_roster(&self, b: &Browser, file: &[u8], skip_invalid: bool) -> Page {
        let boundary = "----jianyanRosterBoundary";
        let mut body = Vec::new();
        let mut part = |name: &str, filename: Option<&str>, data: &[u8]| {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let disposition = match filename {
                Some(f) => format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
                ),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        };
        part("_csrf", None, b.csrf.as_bytes());
        part("file", Some("roster.csv"), file);
        if skip_invalid {
            part("skip_invalid", None, b"on");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let r = Request::post("/members/import")
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .header(header::COOKIE, &b.cookie)
            .body(Body::from(body))
            .unwrap();
        self.request(r).await
    }
}
