//! A staff member's and an admin's first day in the console: the departments page says how each
//! department receives work, changing one's own password says what happened and keeps one signed
//! in, and every menu entry leads to a page of the same name.

mod support;

use axum::http::StatusCode;
use support::console::{Browser, Console, set_cookie_value};

/// The table row of the departments page that names `department`.
fn row<'a>(html: &'a str, department: &str) -> &'a str {
    html.split("<tr>").find(|r| r.contains(&format!("<td>{department}</td>"))).unwrap_or_else(|| panic!("{department}"))
}

#[tokio::test]
async fn the_departments_page_shows_every_way_each_department_receives_work() {
    let c = Console::start().await;
    let staff = c.login("staff").await;
    let water = c.store.add_department("区水务局", None).await.unwrap();
    let health = c.store.add_department("区卫健委", None).await.unwrap();
    let civil = c.store.add_department("区民政局", None).await.unwrap();
    c.api_token_for(health.id, "卫健委系统").await;
    let invite = c.post(&format!("/departments/{}/liaisons", civil.id), Some(&staff), &[("name", "王联络")]).await;
    assert_eq!(invite.status, StatusCode::OK, "{}", invite.body);

    let page = c.get("/departments", Some(&staff)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Telegram 联络员") && page.body.contains("控制台账号") && page.body.contains("接口令牌")
    );
    let warning = "目前无法接收交办";
    let water_row = row(&page.body, &water.name);
    assert!(water_row.contains(warning), "no way at all: {water_row}");
    let civil_row = row(&page.body, &civil.name);
    assert!(civil_row.contains("王联络") && civil_row.contains("尚未绑定"), "{civil_row}");
    assert!(civil_row.contains(warning), "an unused invite reaches nobody yet: {civil_row}");
    let health_row = row(&page.body, &health.name);
    assert!(health_row.contains("1 个有效") && !health_row.contains(warning), "{health_row}");
    let education_row = row(&page.body, "区教育局");
    assert!(education_row.contains("1 个") && !education_row.contains(warning), "a console account: {education_row}");
    assert!(page.body.contains("href=\"/api-tokens\""), "staff are led to where tokens are made");
    assert!(!page.body.contains("href=\"/users\">新建账号"), "accounts are made by admins");
    let admin = c.login("admin").await;
    assert!(c.get("/departments", Some(&admin)).await.body.contains("href=\"/users\">新建账号"));
}

#[tokio::test]
async fn changing_ones_own_password_says_so_and_signs_in_again() {
    let c = Console::start().await;
    let admin = c.login("admin").await;
    let other = c.login("admin").await;
    let me = c.store.users().await.unwrap().into_iter().find(|u| u.username == "admin").unwrap();
    let changed =
        c.post(&format!("/users/{}/password", me.id), Some(&admin), &[("password", "Brand-new-pass-9")]).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(changed.location(), Some("/users?ok=own_password"));
    let session = set_cookie_value(&changed, "jianyan_session").expect("signed in again");
    let again = Browser { cookie: format!("jianyan_session={session}"), csrf: String::new() };
    let page = c.get("/users?ok=own_password", Some(&again)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("您的密码已修改") && page.body.contains("重新登录"), "{}", page.body);
    // The old sessions, this browser's and another device's, ended with the old password.
    for old in [&admin, &other] {
        assert_eq!(c.get("/users", Some(old)).await.location(), Some("/login"));
    }
    assert!(c.try_login("admin", support::console::PASSWORD).await.is_err());
    c.try_login("admin", "Brand-new-pass-9").await.expect("the new password works");
}

#[tokio::test]
async fn every_menu_entry_leads_to_a_page_of_the_same_name() {
    let c = Console::start().await;
    let admin = c.login("admin").await;
    let home = c.get("/", Some(&admin)).await;
    let nav = home.body.split("<nav>").nth(1).unwrap().split("</nav>").next().unwrap().to_string();
    let link = regex::Regex::new(r#"<a href="([^"]+)"[^>]*>([^<]+)</a>"#).unwrap();
    let entries: Vec<(String, String)> =
        link.captures_iter(&nav).map(|m| (m[1].to_string(), m[2].to_string())).collect();
    assert!(entries.len() >= 9, "{nav}");
    let h1 = regex::Regex::new(r"<h1>([^<]+)</h1>").unwrap();
    for (path, name) in entries {
        let page = c.get(&path, Some(&admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains(&format!("<title>{name} · ")), "{path}: the tab says «{name}»");
        let heading = h1.captures(&page.body).map(|m| m[1].to_string());
        assert_eq!(heading.as_deref(), Some(name.as_str()), "{path}: the page is called «{name}»");
    }
}

#[tokio::test]
async fn every_account_changes_its_own_password_and_is_told_so() {
    let c = Console::start().await;
    let dept = c.login("dept").await;
    let form = c.get("/account/password", Some(&dept)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<h1>修改密码</h1>") && form.body.contains("自动重新登录"), "{}", form.body);

    let path = "/account/password";
    let wrong = [("current", "Not-my-password-1"), ("password", "Brand-new-pass-9"), ("repeat", "Brand-new-pass-9")];
    let page = c.post(path, Some(&dept), &wrong).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("当前密码不正确，密码没有修改"), "{}", page.body);
    let differ =
        [("current", support::console::PASSWORD), ("password", "Brand-new-pass-9"), ("repeat", "Brand-new-pass-8")];
    let page = c.post(path, Some(&dept), &differ).await;
    assert!(page.body.contains("两次输入的新密码不一致"), "{}", page.body);
    assert_eq!(c.get("/", Some(&dept)).await.status, StatusCode::OK, "nothing changed, still signed in");

    let good =
        [("current", support::console::PASSWORD), ("password", "Brand-new-pass-9"), ("repeat", "Brand-new-pass-9")];
    let changed = c.post(path, Some(&dept), &good).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let session = set_cookie_value(&changed, "jianyan_session").expect("signed in again");
    let again = Browser { cookie: format!("jianyan_session={session}"), csrf: String::new() };
    let told = c.get(changed.location().unwrap(), Some(&again)).await;
    assert!(told.body.contains("您的密码已修改"), "{}", told.body);
    assert_eq!(c.get("/", Some(&dept)).await.location(), Some("/login"), "the old session ended");
    c.try_login("dept", "Brand-new-pass-9").await.expect("the new password works");
}
