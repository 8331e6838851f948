//! Starts the real web router on a fresh database, with accounts of every role, and drives it
//! like a browser would (cookies, CSRF tokens from the pages' forms).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use jianyan::app::{App, load_texts};
use jianyan::clock::ManualClock;
use jianyan::domain::{MemberLevel, MemberNo, TopicClass};
use jianyan::store::{ConsoleStore, NewTopic, NewUser, Role, RosterRow, SqliteStore, Store};
use jianyan::web::{WebState, auth};
use tower::ServiceExt;

pub const PASSWORD: &str = "Test-password-1";

pub struct Console {
    pub store: SqliteStore,
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
        let dir = tempfile::tempdir().unwrap();
        let config = jianyan::config::Config::from_layers(
            None,
            vec![
                ("JIANYAN_DATABASE__PATH".to_string(), dir.path().join("jianyan.db").display().to_string()),
                ("JIANYAN_WEB__SECURE_COOKIES".to_string(), "false".to_string()),
            ],
        )
        .unwrap();
        let store = SqliteStore::open(&config.database.path, Duration::from_secs(5), 4).await.unwrap();
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap()));
        let texts = load_texts(&config).unwrap();
        let app = App {
            config: Arc::new(config),
            store: Arc::new(store.clone()),
            texts: Arc::new(texts),
            clock: clock.clone(),
        };
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
        Self { store, app, state, router, clock, department_id, other_department_id, topic_id, _dir: dir }
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
