//! The console's front door: login, sessions, CSRF, login limits, security headers, roles.

mod support;

use axum::http::StatusCode;
use support::console::{Console, PASSWORD};

#[tokio::test]
async fn pages_need_a_login_and_logging_in_works() {
    let c = Console::start().await;
    let page = c.get("/", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login"));
    let b = c.login("staff").await;
    let home = c.get("/", Some(&b)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("王工作人员"), "{}", home.body);
    assert!(home.body.contains("Telegram 机器人未启用"), "the dashboard says the bot is off");
    assert!(
        !home.body.contains("JIANYAN_BOT_TOKEN") && !home.body.contains("jianyan run"),
        "no setting or command for staff"
    );
    let admin = c.login("admin").await;
    let home = c.get("/", Some(&admin)).await;
    assert!(
        home.body.contains("Telegram 机器人未启用") && home.body.contains("@BotFather"),
        "admins learn how to turn it on"
    );
    let dept = c.login("dept").await;
    let home = c.get("/", Some(&dept)).await;
    assert!(!home.body.contains("机器人未启用"), "departments work without the bot and are not told");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_repeated_failures_wait() {
    let c = Console::start().await;
    let page = c.try_login("staff", "wrong-password-1").await.unwrap_err();
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("用户名或密码不正确"));
    let unknown = c.try_login("nobody", PASSWORD).await.unwrap_err();
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED, "unknown users get the same answer");
    for _ in 0..4 {
        let _ = c.try_login("staff", "wrong-password-1").await;
    }
    let blocked = c.try_login("staff", PASSWORD).await.unwrap_err();
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.body.contains("分钟后再试"), "{}", blocked.body);
    // Another account is not held back by someone else's failures.
    c.login("admin").await;
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let forged = c.post("/logout", Some(&b), &[("_csrf", "forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("页面已过期"));
    assert_eq!(c.get("/", Some(&b)).await.status, StatusCode::OK, "still logged in");
    // A login post without the login page's cookie is refused too.
    let page = c.post("/login", None, &[("_csrf", "x"), ("username", "staff"), ("password", PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let out = c.post("/logout", Some(&b), &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/", Some(&b)).await.location(), Some("/login"), "the old cookie no longer works");
}

#[tokio::test]
async fn sessions_expire() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    c.clock.set(jianyan::clock::Clock::now(c.clock.as_ref()) + chrono::Duration::hours(13));
    assert_eq!(c.get("/", Some(&b)).await.location(), Some("/login"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_cookies_are_http_only() {
    let c = Console::start().await;
    let login = c.get("/login", None).await;
    for h in ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"] {
        assert!(login.headers.contains_key(h), "missing {h}");
    }
    let cookie = login.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let missing = c.get("/no-such-page", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("页面不存在"));
}
