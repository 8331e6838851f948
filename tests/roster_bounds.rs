//! Roster fields are bounded: control and text-direction characters and overlong fields are
//! refused in the console's import with the line and column named, and a long import commits in
//! batches so that other writers get through while it runs.

mod support;

use axum::http::StatusCode;
use jianyan::domain::{MemberLevel, MemberNo};
use jianyan::store::RosterRow;
use support::console::Console;
use support::db::Backend;

const HEADER: &str = "member_no,name,level,workstation,sector,phone\n";

#[tokio::test]
async fn the_console_refuses_control_and_direction_characters_and_overlong_fields_naming_line_and_column() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let file = format!(
        "{HEADER}PD010,admin\u{202E}nimda,区,,,\nPD011,钱七,区,陆家嘴\u{1b}[31m街道,,\nPD012,孙八,区,,{},\nPD013,周九,区,,,{}\nPD014,吴十,区,,,\n",
        "界".repeat(31),
        "1".repeat(31)
    );
    let page = c.upload_roster(&b, file.as_bytes(), false).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.body);
    let cell = regex::Regex::new(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>").unwrap();
    let problems: Vec<(String, String)> = cell.captures_iter(&page.body).map(|c| (c[1].into(), c[2].into())).collect();
    assert_eq!(problems.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["2", "3", "4", "5"], "{problems:?}");
    assert!(problems[0].1.contains("「姓名」列") && problems[0].1.contains("U+202E"), "{problems:?}");
    assert!(problems[1].1.contains("「工作站」列") && problems[1].1.contains("U+001B"), "{problems:?}");
    assert!(problems[2].1.contains("「界别」列超过30个字"), "{problems:?}");
    assert!(problems[3].1.contains("「电话」列超过30个字"), "{problems:?}");
    assert!(!page.body.contains('\u{202E}') && !page.body.contains('\u{1b}'), "never shown back");
    assert_eq!(c.store.members().await.unwrap().len(), 2, "nothing imported");

    // Skipping the bad rows imports only the clean one.
    let page = c.upload_roster(&b, file.as_bytes(), true).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let members = c.store.members().await.unwrap();
    assert_eq!(members.len(), 3);
    assert!(members.iter().all(|m| !m.name.chars().any(jianyan::bounds::is_forbidden)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_import_lets_another_writer_through_before_it_ends() {
    let c = Console::start().await;
    // About SQLite's single writer (the import commits in batches so the lock is let go between
    // them); PostgreSQL has no such lock: another writer is never kept waiting there.
    if c.db.backend() != Backend::Sqlite {
        return;
    }
    let rows: Vec<RosterRow> = (0..6_000)
        .map(|i| RosterRow {
            member_no: MemberNo::parse(&format!("BULK{i:06}")).unwrap(),
            name: format!("委员{i}"),
            level: MemberLevel::District,
            workstation: Some(format!("工作站{}", i % 36)),
            sector: "经济界".into(),
            phone: String::new(),
        })
        .collect();
    let store = c.store.clone();
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    let import = tokio::spawn(async move { store.import_members(&rows, now).await.unwrap() });
    // Once the first batch is in, another writer asks for the lock.
    loop {
        let n = c.db.count("SELECT COUNT(*) FROM members").await;
        if n > 2 {
            break;
        }
        tokio::task::yield_now().await;
    }
    c.store.add_department("区建设管理委员会", None).await.unwrap();
    assert!(!import.is_finished(), "the other writer got in while the import was still running");
    let summary = import.await.unwrap();
    assert_eq!((summary.inserted, summary.updated, summary.workstations_created), (6_000, 0, 36));
    let n = c.db.count("SELECT COUNT(*) FROM members").await;
    assert_eq!(n, 6_002);
}
