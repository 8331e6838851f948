//! The console's accounts, sessions, API tokens and audit log (`ConsoleStore`).

use chrono::Duration;
use jianyan::store::console::{AUDIT_ACTION_MAX_CHARS, AUDIT_DETAIL_MAX_CHARS, AuditFilter};
use jianyan::store::{Auditor, NewUser, Role};

use crate::backends::Backend;
use crate::fixtures::*;

fn new_user(username: &str, role: Role) -> NewUser {
    NewUser {
        username: username.into(),
        name: format!("{username} 的名字"),
        role,
        department_id: None,
        password_hash: format!("$argon2id$hash-of-{username}"),
    }
}

pub async fn users_are_unique_by_username(b: &Backend) {
    let s = &*b.store;
    let dept = s.add_department("区财政局", None).await.unwrap();
    let admin = s.add_user(new_user("admin", Role::Admin), t0()).await.unwrap().expect("created");
    assert_eq!((admin.username.as_str(), admin.role, admin.active), ("admin", Role::Admin, true));
    assert_eq!(s.add_user(new_user("admin", Role::Staff), t0()).await.unwrap(), None, "the username is taken");
    let mut d = new_user("caizheng", Role::Department);
    d.department_id = Some(dept.id);
    let d = s.add_user(d, t0()).await.unwrap().unwrap();
    assert_eq!((d.department_id, d.department_name.as_deref()), (Some(dept.id), Some("区财政局")));
    assert_eq!(s.users().await.unwrap().len(), 2);
    assert_eq!(s.user(admin.id).await.unwrap(), Some(admin.clone()));
    let (u, hash) = s.user_for_login("admin").await.unwrap().unwrap();
    assert_eq!((u.id, hash.as_str()), (admin.id, "$argon2id$hash-of-admin"));
    assert_eq!(s.user_for_login("nobody").await.unwrap().map(|x| x.0), None);
    assert!(s.set_password(admin.id, "$argon2id$new", t0()).await.unwrap());
    assert_eq!(s.user_for_login("admin").await.unwrap().unwrap().1, "$argon2id$new");
    assert!(!s.set_password(987_654, "x", t0()).await.unwrap(), "no such user");
    assert_eq!(s.count_admins().await.unwrap(), 1);
    s.add_user(new_user("admin2", Role::Admin), t0()).await.unwrap().unwrap();
    assert_eq!(s.count_admins().await.unwrap(), 2);
    assert!(s.set_user_active(admin.id, false, t0()).await.unwrap());
    assert_eq!(s.count_admins().await.unwrap(), 1, "only active admins count");
    assert!(!s.user(admin.id).await.unwrap().unwrap().active);
    assert!(!s.set_user_active(987_654, false, t0()).await.unwrap(), "no such user");
}

pub async fn sessions_end_on_expiry_logout_and_deactivation(b: &Backend) {
    let s = &*b.store;
    let u = s.add_user(new_user("staff1", Role::Staff), t0()).await.unwrap().unwrap();
    let other = s.add_user(new_user("staff2", Role::Staff), t0()).await.unwrap().unwrap();
    let until = t0() + Duration::hours(8);
    s.create_session("h1", u.id, "csrf-1", t0(), until).await.unwrap();
    s.create_session("h2", u.id, "csrf-2", t0(), until).await.unwrap();
    s.create_session("h3", other.id, "csrf-3", t0(), until).await.unwrap();
    let session = s.session("h1", t0()).await.unwrap().expect("a live session");
    assert_eq!((session.user.id, session.csrf_token.as_str(), session.expires_at), (u.id, "csrf-1", until));
    assert!(s.session("nope", t0()).await.unwrap().is_none());
    assert!(s.session("h1", until).await.unwrap().is_none(), "expired at `expires_at`");
    s.delete_session("h1").await.unwrap();
    assert!(s.session("h1", t0()).await.unwrap().is_none(), "logged out");
    assert!(s.session("h2", t0()).await.unwrap().is_some(), "the user's other session lives");
    s.delete_sessions_of(u.id).await.unwrap();
    assert!(s.session("h2", t0()).await.unwrap().is_none(), "every session of the user ended");
    assert!(s.session("h3", t0()).await.unwrap().is_some(), "not another user's");
    s.set_user_active(other.id, false, t0()).await.unwrap();
    assert!(s.session("h3", t0()).await.unwrap().is_none(), "an inactive user's session is no session");
}

pub async fn api_tokens_record_use_and_revocation(b: &Backend) {
    let s = &*b.store;
    let dept = s.add_department("区卫健委", None).await.unwrap();
    let token = s.create_api_token(dept.id, "OA 系统", "th1", None, t0()).await.unwrap();
    assert_eq!(
        (token.department_id, token.department_name.as_str(), token.name.as_str(), token.created_at),
        (dept.id, "区卫健委", "OA 系统", t0())
    );
    assert_eq!((token.last_used_at, token.revoked_at), (None, None));
    let used_at = t0() + Duration::minutes(5);
    assert_eq!(s.use_api_token("th1", used_at).await.unwrap().map(|t| t.id), Some(token.id));
    assert!(s.use_api_token("unknown", used_at).await.unwrap().is_none());
    let listed = s.api_tokens().await.unwrap();
    assert_eq!(
        listed.iter().map(|t| (t.id, t.last_used_at)).collect::<Vec<_>>(),
        vec![(token.id, Some(used_at))],
        "its use is recorded"
    );
    assert!(s.revoke_api_token(token.id, used_at).await.unwrap());
    assert!(!s.revoke_api_token(token.id, used_at).await.unwrap(), "revoked already");
    assert!(!s.revoke_api_token(987_654, used_at).await.unwrap(), "no such token");
    assert!(s.use_api_token("th1", used_at).await.unwrap().is_none(), "a revoked token is refused");
    assert_eq!(s.api_tokens().await.unwrap()[0].revoked_at, Some(used_at));
}

pub async fn audit_log_is_clipped_and_paged_newest_first(b: &Backend) {
    let s = &*b.store;
    let dept = s.add_department("区商务委", None).await.unwrap();
    let u = s.add_user(new_user("auditor", Role::Admin), t0()).await.unwrap().unwrap();
    let token = s.create_api_token(dept.id, "robot", "th", None, t0()).await.unwrap();
    for i in 0..5 {
        s.audit(Auditor::User(u.id), "suggestion.assign", &format!("PD-2026-000{i}"), "", t0() + Duration::minutes(i))
            .await
            .unwrap();
    }
    s.audit(Auditor::Token(token.id), "suggestion.reply", "PD-2026-0009", "", t0() + Duration::minutes(10))
        .await
        .unwrap();
    let long_action = "a".repeat(AUDIT_ACTION_MAX_CHARS + 10);
    let long_detail = format!("理由\u{202e}{}", "字".repeat(AUDIT_DETAIL_MAX_CHARS * 2));
    s.audit(Auditor::User(u.id), &long_action, "t", &long_detail, t0() + Duration::minutes(11)).await.unwrap();
    let log = s.audit_log(100).await.unwrap();
    assert_eq!(log.len(), 7);
    assert!(log.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let newest = &log[0];
    assert!(newest.action.chars().count() <= AUDIT_ACTION_MAX_CHARS, "action clipped");
    assert!(newest.detail.chars().count() <= AUDIT_DETAIL_MAX_CHARS, "detail clipped");
    assert!(!newest.detail.contains('\u{202e}'), "text-direction characters written out");
    assert_eq!(log[1].user.as_deref(), Some("token:robot"));
    assert_eq!(log[2].user.as_deref(), Some("auditor"));
    // Filters and pages.
    let by_token = AuditFilter { who: Some("token:robot".into()), ..Default::default() };
    assert_eq!(s.audit_page(&by_token, None, 10).await.unwrap().len(), 1);
    let assigns = AuditFilter { action: Some("suggestion.assign".into()), ..Default::default() };
    let page1 = s.audit_page(&assigns, None, 2).await.unwrap();
    let page2 = s.audit_page(&assigns, Some(page1[1].id), 2).await.unwrap();
    let page3 = s.audit_page(&assigns, Some(page2[1].id), 2).await.unwrap();
    let targets: Vec<String> = page1.iter().chain(&page2).chain(&page3).map(|e| e.target.clone()).collect();
    assert_eq!(targets, vec!["PD-2026-0004", "PD-2026-0003", "PD-2026-0002", "PD-2026-0001", "PD-2026-0000"]);
    let window = AuditFilter {
        from: Some(t0() + Duration::minutes(1)),
        until: Some(t0() + Duration::minutes(3)),
        ..Default::default()
    };
    let got: Vec<String> = s.audit_page(&window, None, 10).await.unwrap().into_iter().map(|e| e.target).collect();
    assert_eq!(got, vec!["PD-2026-0002", "PD-2026-0001"], "from inclusive, until exclusive");
}

/// Files a department uploads are kept once per content, under the SHA-256 of their bytes, and
/// come back byte for byte (every byte value, so BLOB and BYTEA are both exercised).
pub async fn files_are_kept_once_by_their_hash(b: &Backend) {
    use jianyan::store::StoredFile;
    let s = &*b.store;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let file = StoredFile::new("application/pdf", bytes.clone());
    assert_eq!(file.sha256.len(), 64);
    assert_eq!(s.stored_file(&file.sha256).await.unwrap(), None);
    s.keep_file(&file, t0()).await.unwrap();
    s.keep_file(&StoredFile::new("image/png", bytes), t0()).await.unwrap();
    let kept = s.stored_file(&file.sha256).await.unwrap().expect("kept");
    assert_eq!(kept, file, "the first keeping stands; the same bytes are not kept twice");
    assert_eq!(s.stored_file(&"0".repeat(64)).await.unwrap(), None);
}
