//! Large lists are paged and searchable: the member roster (paged in SQL), departments, accounts,
//! API tokens and broadcasts (fifty to a page, with a search box).

mod support;

use axum::http::StatusCode;
use jianyan::domain::{MemberLevel, MemberNo};
use jianyan::store::RosterRow;
use support::console::{Console, urlencode};

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\" href=\"")? + "rel=\"next\" href=\"".len();
    Some(html[at..].split('"').next()?.replace("&amp;", "&"))
}

#[tokio::test]
async fn the_roster_comes_in_pages_of_a_hundred_and_is_searchable() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    let rows: Vec<RosterRow> = (0..250usize)
        .map(|i| RosterRow {
            member_no: MemberNo::parse(&format!("BK{i:04}")).unwrap(),
            name: if i == 7 { "欧阳_百分%".into() } else { format!("委员{i}") },
            level: if i.is_multiple_of(2) { MemberLevel::City } else { MemberLevel::District },
            workstation: None,
            sector: "经济界".into(),
            phone: String::new(),
        })
        .collect();
    c.store.import_members(&rows, now).await.unwrap();
    // The preview's test member is never listed.
    c.get("/preview", Some(&b)).await;

    let mut seen = 0;
    let mut pages = 0;
    let mut next = Some("/members".to_string());
    while let Some(href) = next {
        let page = c.get(&href, Some(&b)).await;
        assert_eq!(page.status, StatusCode::OK);
        let n = count(&page.body, "/invite\"");
        assert!(n <= 100, "{n} on one page");
        assert!(!page.body.contains("TEST-"), "the test member is not listed");
        seen += n;
        pages += 1;
        next = next_link(&page.body);
    }
    assert_eq!((seen, pages), (252, 3), "every member once, a hundred to a page");

    let found = c.get(&format!("/members?q={}", urlencode("委员12")), Some(&b)).await;
    assert_eq!(count(&found.body, "/invite\""), 11, "委员12 and 委员120–129");
    let by_no = c.get("/members?q=bk0249", Some(&b)).await;
    assert_eq!(count(&by_no.body, "/invite\""), 1, "member numbers in any case");
    let wildcard = c.get(&format!("/members?q={}", urlencode("_百分%")), Some(&b)).await;
    assert_eq!(count(&wildcard.body, "/invite\""), 1, "LIKE wildcards are searched as themselves");
    let city = c.get(&format!("/members?level={}", urlencode("市")), Some(&b)).await;
    let shown = c.app.texts.t(jianyan::locale::Lang::Zh, "web.members.shown", &[("count", &125)]);
    assert!(city.body.contains(&shown), "the count of matches: {shown}");
    assert_eq!(count(&city.body, "/invite\""), 100);
    let huge = c.get(&format!("/members?q={}", urlencode(&"查".repeat(3000))), Some(&b)).await;
    assert_eq!(huge.status, StatusCode::OK, "a long search is cut, not refused");
}

#[tokio::test]
async fn departments_accounts_tokens_and_broadcasts_are_paged_and_searchable() {
    let c = Console::start().await;
    let admin = c.login("admin").await;
    for i in 0..60 {
        c.store.add_department(&format!("测试单位{i:02}"), None).await.unwrap();
    }
    let first = c.get("/departments", Some(&admin)).await;
    assert_eq!(count(&first.body, "/liaisons\""), 50, "fifty to a page");
    let second = c.get(&next_link(&first.body).expect("a next page"), Some(&admin)).await;
    assert_eq!(count(&second.body, "/liaisons\""), 12, "62 departments in all");
    assert!(next_link(&second.body).is_none());
    let found = c.get(&format!("/departments?q={}", urlencode("财政")), Some(&admin)).await;
    assert_eq!(count(&found.body, "/liaisons\""), 1);
    assert!(found.body.contains("区财政局"));

    let found = c.get(&format!("/users?q={}", urlencode("教育局")), Some(&admin)).await;
    let resets = regex::Regex::new(r#"action="/users/\d+/password""#).unwrap();
    assert_eq!(resets.find_iter(&found.body).count(), 1, "the account of 区教育局's liaison");

    for i in 0..55 {
        c.api_token_for(c.department_id, &format!("系统{i:02}")).await;
    }
    let tokens = c.get("/api-tokens", Some(&admin)).await;
    assert_eq!(count(&tokens.body, "/revoke\""), 50);
    let rest = c.get(&next_link(&tokens.body).expect("a next page"), Some(&admin)).await;
    assert_eq!(count(&rest.body, "/revoke\""), 5);
    let one = c.get(&format!("/api-tokens?q={}", urlencode("系统07")), Some(&admin)).await;
    assert_eq!(count(&one.body, "/revoke\""), 1);

    let broadcasts = c.get(&format!("/broadcasts?q={}", urlencode("没有这样的通知")), Some(&admin)).await;
    assert_eq!(broadcasts.status, StatusCode::OK);
    assert!(broadcasts.body.contains("共 0 条"), "{}", broadcasts.body);
}
