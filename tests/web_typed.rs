//! Reference numbers as staff type them into the console (`pd－2025－0001`, `编号：PD 2025 0001`):
//! the lookup box, the search box, the suggestion's address and the 并案 form all read them alike.

mod support;

use axum::http::StatusCode;
use jianyan::domain::{SuggestionKind, SuggestionState};
use support::console::{Console, urlencode};

#[tokio::test]
async fn the_console_reads_reference_numbers_as_staff_type_them() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let (first, reference) =
        c.inbox_submit("PD001", SuggestionKind::Advice, "关于学区划分", &["内容"], Vec::new()).await;
    let (second, other) = c.inbox_submit("PD001", SuggestionKind::Advice, "关于公交线路", &["内容"], Vec::new()).await;
    assert_eq!((reference.as_str(), other.as_str()), ("PD-2025-0001", "PD-2025-0002"));

    for typed in ["编号：ｐｄ－２０２５－０００１", "pd 2025 0001", "PD—2025—0001"] {
        let lookup = c.get(&format!("/suggestions/lookup?reference={}", urlencode(typed)), Some(&b)).await;
        assert_eq!(lookup.location(), Some("/suggestions/ref/PD-2025-0001"), "{typed}");
        let page = c.get(&format!("/suggestions/ref/{}", urlencode(typed)), Some(&b)).await;
        assert_eq!(page.status, StatusCode::OK, "{typed}");
        assert!(page.body.contains("关于学区划分"), "{typed}");
    }
    // The search box finds a suggestion by its number, typed any way.
    let page = c.get(&format!("/suggestions?q={}", urlencode("ｐｄ－2025－0002")), Some(&b)).await;
    assert!(page.body.contains("关于公交线路") && !page.body.contains("关于学区划分"), "{}", page.body);

    // 并案 into a number typed in a sentence, full-width.
    let merged = c
        .post_confirmed(
            &format!("/suggestions/{first}/act/merge"),
            Some(&b),
            &[("reference", "并入 ＰＤ－２０２５－０００２")],
        )
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    assert_eq!(c.inbox_state(first).await, SuggestionState::Merged);
    let into = c.db.scalar("SELECT merged_into FROM suggestions WHERE id = $1", &[first.into()]).await.opt_int();
    assert_eq!(into, Some(second));
}

#[tokio::test]
async fn the_department_api_reads_reference_numbers_as_typed_too() {
    let c = Console::start().await;
    let (_, reference) = c.api_assigned("关于学区划分", false).await;
    assert_eq!(reference, "PD-2025-0001");
    let (_, token) = c.api_token_for(c.department_id, "教育局系统").await;
    for typed in ["PD-2025-0001", "pd-2025-0001", "ｐｄ－２０２５－０００１", "PD 2025 0001"] {
        let got = c.api("GET", &format!("/api/v1/suggestions/{}", urlencode(typed)), Some(&token), None).await;
        assert_eq!(got.status, StatusCode::OK, "{typed}: {}", got.body);
        assert_eq!(got.json["reference"], "PD-2025-0001", "{typed}: {}", got.body);
    }
    let unknown = c.api("GET", "/api/v1/suggestions/PD-2025-0002", Some(&token), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
