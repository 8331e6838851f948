//! Password guessing replayed against the real router: 100 parallel attempts, huge and many
//! usernames, strangers locking out `admin`, addresses named by a reverse proxy, and a login
//! flood beside ordinary pages.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use jianyan::app::App;
use jianyan::web::WebState;
use support::console::{Console, PASSWORD, csrf_of, urlencode};
use tower::ServiceExt;

/// A router over the console's database with the defaults changed by `change`.
fn router_with(c: &Console, change: impl FnOnce(&mut jianyan::config::Config)) -> (WebState, Router) {
    let mut config = (*c.app.config).clone();
    change(&mut config);
    let state = WebState::new(App { config: Arc::new(config), ..c.app.clone() }, false);
    (state.clone(), jianyan::web::router(state))
}

/// One login attempt as a browser makes it: the login page's cookie and token, then the post.
/// `peer` is the connection's address (as the server sets it); `extra` more request headers.
struct Attempt<'a> {
    username: &'a str,
    password: &'a str,
    peer: Option<&'a str>,
    extra: Vec<(&'a str, String)>,
}

impl<'a> Attempt<'a> {
    fn new(username: &'a str, password: &'a str) -> Self {
        Self { username, password, peer: None, extra: Vec::new() }
    }
    fn from(mut self, peer: &'a str) -> Self {
        self.peer = Some(peer);
        self
    }
    fn header(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }
}

struct Answer {
    status: StatusCode,
    body: String,
    device: Option<String>,
}

async fn attempt(router: &Router, a: &Attempt<'_>) -> Answer {
    let page = router.clone().oneshot(Request::get("/login").body(Body::empty()).unwrap()).await.unwrap();
    let cookie = page
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("jianyan_login=")?.split(';').next().map(str::to_string))
        .unwrap();
    let html = String::from_utf8_lossy(&page.into_body().collect().await.unwrap().to_bytes()).into_owned();
    let token = csrf_of(&html).unwrap();
    let body = format!("_csrf={token}&username={}&password={}", urlencode(a.username), urlencode(a.password));
    let mut r = Request::post("/login").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").header(
        header::COOKIE,
        {
            let mut c = format!("jianyan_login={cookie}");
            for (name, value) in &a.extra {
                if *name == "cookie" {
                    c.push_str(&format!("; {value}"));
                }
            }
            c
        },
    );
    for (name, value) in a.extra.iter().filter(|(n, _)| *n != "cookie") {
        r = r.header(*name, value);
    }
    let mut request = r.body(Body::from(body)).unwrap();
    if let Some(peer) = a.peer {
        let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(addr));
    }
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let device = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("jianyan_device=")?.split(';').next().map(str::to_string));
    let body = String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned();
    Answer { status, body, device }
}

/// 100 parallel attempts: how many got a password check (401) and how many were held back (429).
async fn parallel(router: &Router, attempts: Vec<Attempt<'static>>) -> (usize, usize) {
    let mut set = tokio::task::JoinSet::new();
    for a in attempts {
        let router = router.clone();
        set.spawn(async move { attempt(&router, &a).await.status });
    }
    let (mut checked, mut held) = (0, 0);
    while let Some(status) = set.join_next().await {
        match status.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => held += 1,
            other => panic!("unexpected {other}"),
        }
    }
    (checked, held)
}

/// Before: 100 parallel wrong passwords for one username got 60 real checks. Now the check is
/// reserved before it is made: exactly `max_failed_logins` (5) of 100, per username and per address.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_most_five_checks_of_100_parallel_attempts() {
    let c = Console::start().await;
    let (_, router) = router_with(&c, |_| {});
    let same_user = (0..100).map(|_| Attempt::new("staff", "wrong-password-1")).collect();
    let (checked, held) = parallel(&router, same_user).await;
    eprintln!("one username, 100 parallel: {checked} checks, {held} held back");
    assert_eq!((checked, held), (5, 95));

    let names: Vec<&'static str> = (0..100).map(|i| &*Box::leak(format!("guess{i}").into_boxed_str())).collect();
    let same_address = names.iter().map(|n| Attempt::new(n, "wrong-password-1").from("192.0.2.7")).collect();
    let (checked, held) = parallel(&router, same_address).await;
    eprintln!("one address, 100 usernames in parallel: {checked} checks, {held} held back");
    assert_eq!((checked, held), (5, 95));
}

/// Strangers who spend `admin`'s budget lock out strangers only: the real person's browser (its
/// device cookie from an earlier login) and an address that logged in before still get in.
#[tokio::test]
async fn strangers_cannot_lock_the_real_person_out() {
    let c = Console::start().await;
    let (_, router) = router_with(&c, |_| {});
    let home = attempt(&router, &Attempt::new("admin", PASSWORD).from("198.51.100.1")).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER, "{}", home.body);
    let device = home.device.expect("a successful login leaves a device cookie");
    for i in 0..5 {
        let stranger = format!("203.0.113.{i}");
        let a = attempt(&router, &Attempt::new("admin", "guess-Password-1").from(&stranger)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let stranger = attempt(&router, &Attempt::new("admin", PASSWORD).from("203.0.113.99")).await;
    assert_eq!(stranger.status, StatusCode::TOO_MANY_REQUESTS, "admin is locked for strangers");
    assert!(stranger.body.contains("分钟后再试"), "{}", stranger.body);
    // The real person's browser, even from a stranger's address (a café, a phone network).
    let cookie = format!("jianyan_device={device}");
    let real =
        attempt(&router, &Attempt::new("admin", PASSWORD).from("203.0.113.99").header("cookie", cookie.clone())).await;
    assert_eq!(real.status, StatusCode::SEE_OTHER, "{}", real.body);
    // The office address that logged in before, in a browser without the cookie.
    let office = attempt(&router, &Attempt::new("admin", PASSWORD).from("198.51.100.1")).await;
    assert_eq!(office.status, StatusCode::SEE_OTHER, "{}", office.body);
    // A forged device cookie counts as a stranger.
    let forged = format!("jianyan_device={}", device.replace(|ch: char| ch.is_ascii_hexdigit() && ch != '0', "0"));
    let fake = attempt(&router, &Attempt::new("admin", PASSWORD).from("203.0.113.98").header("cookie", forged)).await;
    assert_eq!(fake.status, StatusCode::TOO_MANY_REQUESTS);
    // The trusted browser has a budget of its own, which wrong passwords spend too.
    for _ in 0..5 {
        let a = attempt(&router, &Attempt::new("admin", "guess-Password-1").header("cookie", cookie.clone())).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let spent = attempt(&router, &Attempt::new("admin", PASSWORD).header("cookie", cookie)).await;
    assert_eq!(spent.status, StatusCode::TOO_MANY_REQUESTS);
}

/// A username of 100,000 bytes is cut to 64 before the limiter, the page and the log; 2,000
/// distinct usernames from 2,000 addresses leave the limiter at its configured size.
#[tokio::test]
async fn huge_and_many_usernames_keep_memory_bounded() {
    let c = Console::start().await;
    let (state, router) = router_with(&c, |config| config.web.login_limiter_entries = 100);
    let huge = "a".repeat(100_000);
    let a = attempt(&router, &Attempt::new(&huge, "wrong-password-1")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(!a.body.contains(&"a".repeat(65)), "the page shows at most 64 bytes of it");
    assert!(a.body.contains(&"a".repeat(64)));
    for i in 0..2_000 {
        // Over 64 bytes: refused without a hash, so the loop is quick; still counted.
        let name = format!("{i:05}{}", "x".repeat(70));
        let peer = format!("10.{}.{}.1", i / 256, i % 256);
        let a = attempt(&router, &Attempt::new(&name, "wrong-password-1").from(&peer)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(state.logins.len() <= 100, "{} keys after {i}", state.logins.len());
    }
    eprintln!("limiter keys after 2,000 usernames from 2,000 addresses: {}", state.logins.len());
}

/// Behind a reverse proxy the client's address comes from the configured header, and only when
/// the connection is from a trusted proxy; a client naming itself in the header changes nothing.
#[tokio::test]
async fn the_client_address_comes_only_from_a_trusted_proxy() {
    let c = Console::start().await;
    let (_, router) = router_with(&c, |config| {
        config.web.trusted_proxy_header = "X-Forwarded-For".into();
        config.web.trusted_proxies = vec!["10.0.0.1".into()];
    });
    let via_proxy = |name: &'static str, client: &str| {
        Attempt::new(name, "wrong-password-1").from("10.0.0.1").header("x-forwarded-for", format!("6.6.6.6, {client}"))
    };
    for name in ["a1", "a2", "a3", "a4", "a5"] {
        assert_eq!(attempt(&router, &via_proxy(name, "203.0.113.7")).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt(&router, &via_proxy("a6", "203.0.113.7")).await.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not held back by the first one's budget.
    assert_eq!(attempt(&router, &via_proxy("a6", "203.0.113.8")).await.status, StatusCode::UNAUTHORIZED);
    // A direct client cannot escape its budget by naming other addresses in the header.
    for (i, name) in ["b1", "b2", "b3", "b4", "b5", "b6"].into_iter().enumerate() {
        let a = Attempt::new(name, "wrong-password-1")
            .from("198.51.100.9")
            .header("x-forwarded-for", format!("203.0.113.{}", 50 + i));
        let expected = if i < 5 { StatusCode::UNAUTHORIZED } else { StatusCode::TOO_MANY_REQUESTS };
        assert_eq!(attempt(&router, &a).await.status, expected, "attempt {i}");
    }
}

/// Password checks run on blocking threads, a few at a time: while 40 logins are being checked on
/// a single-threaded runtime, an ordinary page is answered before they are done.
#[tokio::test(flavor = "current_thread")]
async fn a_login_flood_does_not_stall_other_requests() {
    let c = Console::start().await;
    let (_, router) = router_with(&c, |config| config.web.password_concurrency = 1);
    let done = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (router, done) = (router.clone(), done.clone());
        let peer: &'static str = Box::leak(format!("192.0.2.{i}").into_boxed_str());
        let name: &'static str = Box::leak(format!("user{i}").into_boxed_str());
        set.spawn(async move {
            attempt(&router, &Attempt::new(name, "wrong-password-1").from(peer)).await;
            done.fetch_add(1, Ordering::SeqCst);
        });
    }
    // Let every login reach its password check.
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    let page = router.clone().oneshot(Request::get("/login").body(Body::empty()).unwrap()).await.unwrap();
    let finished_when_answered = done.load(Ordering::SeqCst);
    assert_eq!(page.status(), StatusCode::OK);
    while set.join_next().await.is_some() {}
    eprintln!("logins finished when the page was answered: {finished_when_answered} of 40");
    assert!(finished_when_answered < 40, "the page waited for every password check");
}
