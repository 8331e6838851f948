//! The framework's own refusals (a path segment that is not a number, a query or form that cannot
//! be read, a wrong content type) answered like every other error: the console's Chinese page or
//! the API's JSON, never axum's English plain text; and nothing personal is cached.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use support::console::{Console, Page};

fn assert_console_error(page: &Page, status: StatusCode) {
    assert_eq!(page.status, status, "{}", page.body);
    let content_type = page.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("text/html"), "{content_type}: {}", page.body);
    for english in ["Cannot parse", "Failed to deserialize", "Invalid URL", "Form requests must", "Expected request"] {
        assert!(!page.body.contains(english), "framework text shown: {}", page.body);
    }
    assert!(page.body.contains("返回首页"), "the console's error page: {}", page.body);
}

#[tokio::test]
async fn path_query_and_form_rejections_are_the_consoles_chinese_page() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    // Path<i64> with `abc` (before: 400 "Cannot parse `abc` to a `i64`").
    let page = c.get("/topics/abc/edit", Some(&b)).await;
    assert_console_error(&page, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("提交的内容有误"), "{}", page.body);
    // Query<…> with a number that is not one.
    assert_console_error(&c.get("/?topic=abc", Some(&b)).await, StatusCode::BAD_REQUEST);
    assert_console_error(
        &c.get("/broadcasts/new?topic=9999999999999999999999", Some(&b)).await,
        StatusCode::BAD_REQUEST,
    );
    // A form post without its content type (415) and one with a body that is not a form.
    let request = Request::post("/topics").header(header::COOKIE, &b.cookie).body(Body::from("x")).unwrap();
    assert_console_error(&c.request(request).await, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let request = Request::post("/logout")
        .header(header::COOKIE, &b.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("_csrf=%ZZ&&=="))
        .unwrap();
    let page = c.request(request).await;
    assert!(page.status.is_client_error(), "{}", page.body);
    assert!(!page.body.contains("Failed to deserialize"), "{}", page.body);
    // A method a route does not take.
    let request = Request::delete("/topics").header(header::COOKIE, &b.cookie).body(Body::empty()).unwrap();
    assert_console_error(&c.request(request).await, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn api_rejections_are_json_in_the_one_error_shape() {
    let c = Console::start().await;
    let (_, token) = c.api_token_for(c.department_id, "教育局办公系统").await;
    let request = Request::get("/api/v1/suggestions?page=1&state=%ZZ")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let page = c.request(request).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap_or_else(|e| panic!("{e}: {}", page.body));
    assert!(json["error"]["code"].is_string(), "{}", page.body);
    let request = Request::delete("/api/openapi.json").body(Body::empty()).unwrap();
    let page = c.request(request).await;
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap_or_else(|e| panic!("{e}: {}", page.body));
    assert_eq!(json["error"]["code"], "method_not_allowed", "{}", page.body);
}

#[tokio::test]
async fn pages_and_exports_are_not_cached_but_the_stylesheet_is() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    for path in [
        "/",
        "/login",
        "/suggestions",
        "/suggestions/export.csv",
        "/suggestions/export.xlsx",
        "/members",
        "/no-such-page",
    ] {
        let page = c.get(path, Some(&b)).await;
        let cache = page.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(cache, "no-store", "{path} ({})", page.status);
    }
    let css = c.get("/assets/style.css", None).await;
    assert_eq!(css.headers.get(header::CACHE_CONTROL).unwrap(), "max-age=3600");
}
