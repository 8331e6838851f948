//! `jianyan migrate-data`: an SQLite installation filled through the real bot (members, staff and
//! a department registered, suggestions submitted, a console account) is copied into a fresh
//! PostgreSQL database, and the PostgreSQL store then answers every read exactly as the SQLite
//! store did; new rows continue after the copied ids.

mod support;

use chrono::Utc;
use jianyan::store::{NewTopic, NewUser, PgStore, Role, Store, prelude::*};
use jianyan::transfer::{self, TransferError};
use support::fake_telegram::TgUser;
use support::harness::{NowUtc, TestBot};
use support::postgres::TestDatabase;

/// Everything the two stores are asked, rendered for comparison.
async fn reads(store: &dyn Store, users: &[i64], now: chrono::DateTime<Utc>) -> Vec<String> {
    let mut out = vec![
        format!("{:?}", store.members().await.unwrap()),
        format!("{:?}", store.departments().await.unwrap()),
        format!("{:?}", store.topics().await.unwrap()),
        format!("{:?}", store.state_counts().await.unwrap()),
        format!("{:?}", store.totals(now).await.unwrap()),
        format!("{:?}", store.last_update_id().await.unwrap()),
        format!("{:?}", store.outbox_last_id().await.unwrap()),
        format!("{:?}", store.review_queue(100).await.unwrap()),
        format!("{:?}", store.staff_recipients().await.unwrap()),
    ];
    for user in users {
        out.push(format!("{:?}", store.identity_by_telegram(*user).await.unwrap()));
        out.push(format!("{:?}", store.dialog_state(*user).await.unwrap()));
    }
    for id in 1..=3 {
        out.push(format!("{:?}", store.suggestion(id).await.unwrap()));
        out.push(format!("{:?}", store.facts(id).await.unwrap()));
    }
    for member in 1..=2 {
        out.push(format!("{:?}", store.suggestions_of_member(member, 10).await.unwrap()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_filled_through_the_bot_arrives_whole_in_postgresql() {
    let mut bot = TestBot::start().await;
    let (zhang, li, staff, liaison) =
        (TgUser::new(92001, "三"), TgUser::new(92002, "四"), TgUser::new(82001, "晓"), TgUser::new(72001, "陈"));
    bot.register(&zhang, "PD001").await;
    bot.register(&li, "PD002").await;
    bot.register_staff(&staff, "王晓").await;
    bot.register_liaison(&liaison, "区教育局", "陈联络员").await;
    bot.submit(&zhang, "建言资政", "关于加强社区养老服务的建议", &["增加日间照料中心", "完善助餐服务"]).await;
    bot.submit(&li, "社情民意信息", "关于学校周边交通安全的建议", &["增设上下学时段护学岗"]).await;
    // A half-written suggestion stays in its dialog state.
    bot.say(&zhang, "/new").await;
    let now = bot.clock.now_utc();
    let hash = jianyan::accounts::hash_password_blocking("Correct-horse-9").await.unwrap();
    let user = NewUser {
        username: "wang".into(),
        name: "王晓".into(),
        role: Role::Staff,
        department_id: None,
        password_hash: hash,
    };
    bot.app.store.add_user(user, now).await.unwrap().expect("a console account");
    // A document a department uploaded through the API: its bytes travel too (BLOB to BYTEA).
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..=255u8).cycle().take(70_000));
    let file = jianyan::store::StoredFile::new("application/pdf", pdf);
    bot.app.store.keep_file(&file, now).await.unwrap();
    bot.stop().await;

    let db = TestDatabase::create().await;
    let moved = transfer::migrate_data(&bot.app.config, db.url()).await.expect("migrate-data");
    let rows = |t: &str| moved.tables.iter().find(|(name, _)| *name == t).map(|(_, n)| *n).unwrap();
    assert_eq!(rows("suggestions"), 2);
    assert_eq!(rows("suggestion_points"), 3);
    assert_eq!(rows("members"), 2);
    assert_eq!(rows("users"), 1);
    assert_eq!(rows("stored_files"), 1);
    assert!(rows("updates") > 10 && rows("outbox") > 10 && rows("timeline_events") >= 2);

    let pg = PgStore::open(db.url(), 2).await.unwrap();
    let users = [zhang.id, li.id, staff.id, liaison.id];
    let sqlite = reads(bot.app.store.as_ref(), &users, now).await;
    let postgres = reads(&pg, &users, now).await;
    for (s, p) in sqlite.iter().zip(&postgres) {
        assert_eq!(s, p);
    }
    assert_eq!(bot.app.store.user_for_login("wang").await.unwrap(), pg.user_for_login("wang").await.unwrap());
    assert_eq!(bot.app.store.users().await.unwrap(), pg.users().await.unwrap());
    assert_eq!(pg.stored_file(&file.sha256).await.unwrap(), Some(file.clone()), "the same bytes");

    // New rows go on after the copied ones, and numbers continue.
    let topic = NewTopic {
        title: "建设现代化产业体系".into(),
        description: String::new(),
        class: jianyan::domain::TopicClass::Plan,
        form: String::new(),
        closes_at: None,
        pinned: false,
    };
    let copied_topics = pg.topics().await.unwrap();
    let added = pg.add_topic(topic, now).await.unwrap();
    assert_eq!(added.id, copied_topics.iter().map(|t| t.id).max().unwrap() + 1);
    let last_seq: i64 =
        sqlx::query_scalar("SELECT last_seq FROM reference_counters").fetch_one(pg.pool()).await.unwrap();
    assert_eq!(last_seq, 2);

    // A second copy into the same database is refused: it is no longer empty.
    match transfer::migrate_data(&bot.app.config, db.url()).await {
        Err(TransferError::NotEmpty { table, .. }) => assert_eq!(table, "workstations"),
        other => panic!("a second copy: {other:?}"),
    }
}
