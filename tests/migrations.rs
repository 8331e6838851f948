//! The migrations run over a database full of data, as an installation that upgrades has one (the
//! way rust-lang/bors tests its migrations): a database is built migration by migration up to
//! 0003, filled with sample rows as that version wrote them, then taken through every later
//! migration one at a time — each must keep every row — and finally opened by the app, which
//! must read the rows and carry on with them (a pending update, a dialog half done, a queued
//! message, an unused invite).

mod support;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use jianyan::clock::ManualClock;
use jianyan::domain::{MemberNo, SuggestionState};
use jianyan::store::{AssignmentRole, AssignmentStatus, prelude::*};
use sqlx::Connection;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use support::fake_telegram::{FakeTelegram, TgUser};
use support::harness::{WAIT, open};
use tokio::sync::watch;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The last migration the sample rows are written for: they use the tables 0001–0003 created.
const FILLED_AT: i64 = 3;

/// An invite code of PD002's, issued before the upgrade and not yet used.
const UNUSED_CODE: &str = "6GKASJ7JWU";

/// Sample rows as version 0003 wrote them. Times are in the format sqlx writes a `DateTime<Utc>`.
fn sample_rows() -> String {
    let dialog = r#"{"nonce":4,"step":"body","draft":{"topic":{"topic":1},"kind":"Advice","title":"关于加装电梯的建议","points":["第一条：简化审批。"],"attachments":[],"editing":false,"since":1}}"#;
    let pending_update = r#"{"update_id":2,"message":{"message_id":31,"date":1745110800,"chat":{"id":90001,"type":"private","first_name":"三"},"from":{"id":90001,"is_bot":false,"first_name":"三","language_code":"zh-hans"},"text":"第二条：财政补贴一部分费用。"}}"#;
    let processed_update = r#"{"update_id":1,"message":{"message_id":30,"date":1745107200,"chat":{"id":90001,"type":"private","first_name":"三"},"from":{"id":90001,"is_bot":false,"first_name":"三","language_code":"zh-hans"},"text":"关于加装电梯的建议"}}"#;
    let redeem_update = r#"{"update_id":3,"message":{"message_id":40,"date":1745110900,"chat":{"id":90002,"type":"private","first_name":"四"},"from":{"id":90002,"is_bot":false,"first_name":"四","language_code":"zh-hans"},"text":"/start 6GKASJ7JWU","entities":[{"type":"bot_command","offset":0,"length":6}]}}"#;
    let queued = r#"{"type":"send","text":"升级前排队的通知：PD-2025-0003 已交办。","keyboard":{"kind":"none"}}"#;
    let sent = r#"{"type":"send","text":"已发出的消息","keyboard":{"kind":"none"}}"#;
    let invite_hash = jianyan::invite::hash(UNUSED_CODE);
    format!(
        r#"
INSERT INTO workstations (id, name, kind) VALUES (1, '潍坊新村街道', '街道');
INSERT INTO departments (id, name, short_name) VALUES (1, '区教育局', NULL), (2, '区财政局', '财政');
INSERT INTO members (id, member_no, name, level, workstation_id, sector, phone, telegram_user_id, telegram_chat_id,
                     language, status, bound_at, created_at, updated_at) VALUES
  (1, 'PD001', '张三', '街镇', 1, '教育界', '13800138000', 90001, 90001, 'zh-hans', 'active',
   '2025-03-01T02:00:00+00:00', '2025-03-01T02:00:00+00:00', '2025-03-01T02:00:00+00:00'),
  (2, 'PD002', '李四', '区', 1, '经济界', '', NULL, NULL, NULL, 'active',
   NULL, '2025-03-01T02:00:00+00:00', '2025-03-01T02:00:00+00:00'),
  (3, 'PD003', '王五', '市', NULL, '', '', NULL, NULL, NULL, 'inactive',
   NULL, '2025-03-01T02:00:00+00:00', '2025-03-01T02:00:00+00:00');
INSERT INTO staff (id, name, telegram_user_id, telegram_chat_id, language, status, created_at, updated_at) VALUES
  (1, '王晓', 80001, 80001, 'zh-hans', 'active', '2025-03-01T02:00:00+00:00', '2025-03-01T02:00:00+00:00');
INSERT INTO liaisons (id, department_id, name, telegram_user_id, telegram_chat_id, language, status, created_at, updated_at) VALUES
  (1, 1, '陈联络员', 70001, 70001, 'zh-hans', 'active', '2025-03-01T02:00:00+00:00', '2025-03-01T02:00:00+00:00');
INSERT INTO invite_codes (code_hash, member_id, created_at, expires_at) VALUES
  ('{invite_hash}', 2, '2025-04-10T02:00:00+00:00', '2025-05-10T02:00:00+00:00');
INSERT INTO topics (id, title, description, class, form, status, pinned, created_at, updated_at) VALUES
  (1, '"十五五"总体发展规划编制', '区政协2025年协商议题', '规划计划类', '议政性常委会', 'open', 1,
   '2025-03-01T02:00:00+00:00', '2025-03-01T02:00:00+00:00');
INSERT INTO reference_counters (year, last_seq) VALUES (2025, 6);
INSERT INTO suggestions (id, reference_no, year, seq, member_id, topic_id, kind, title, body, state, merged_into,
                         deadline, adopted_at, source_update_id, created_at, updated_at) VALUES
  (1, 'PD-2025-0001', 2025, 1, 1, 1, '建言资政', '已提交的建议', '1. 甲', 'submitted', NULL, NULL, NULL, NULL,
   '2025-03-02T02:00:00+00:00', '2025-03-02T02:00:00+00:00'),
  (2, 'PD-2025-0002', 2025, 2, 1, 1, '社情民意信息', '已受理并两次采纳的建议', '1. 乙', 'accepted', NULL, NULL,
   '2025-03-04T02:00:00+00:00', NULL, '2025-03-02T03:00:00+00:00', '2025-03-04T02:00:00+00:00'),
  (3, 'PD-2025-0003', 2025, 3, 1, 1, '建言资政', '办理中的建议', '1. 丙', 'in_progress', NULL,
   '2025-06-03T06:00:00+00:00', NULL, NULL, '2025-03-02T04:00:00+00:00', '2025-03-05T01:00:00+00:00'),
  (4, 'PD-2025-0004', 2025, 4, 1, NULL, '议政调研', '已答复的建议', '1. 丁', 'replied', NULL,
   '2025-06-03T06:00:00+00:00', NULL, NULL, '2025-03-02T05:00:00+00:00', '2025-04-15T02:00:00+00:00'),
  (5, 'PD-2025-0005', 2025, 5, 1, NULL, '视察', '已办结的建议', '1. 戊', 'closed', NULL,
   '2025-06-03T06:00:00+00:00', NULL, NULL, '2025-03-02T06:00:00+00:00', '2025-04-16T12:00:00+00:00'),
  (6, 'PD-2025-0006', 2025, 6, 2, NULL, '建言资政', '不予受理的建议', '1. 己', 'not_accepted', NULL, NULL, NULL, NULL,
   '2025-03-02T07:00:00+00:00', '2025-03-03T02:00:00+00:00');
INSERT INTO suggestion_points (suggestion_id, position, text) VALUES
  (1, 1, '甲'), (2, 1, '乙'), (3, 1, '丙'), (4, 1, '丁'), (5, 1, '戊'), (6, 1, '己');
INSERT INTO attachments (suggestion_id, position, kind, file_id, file_unique_id, file_name, mime_type, file_size) VALUES
  (3, 1, 'document', 'BQACAgOld', 'AgADold', '现场照片说明.pdf', 'application/pdf', 20480);
INSERT INTO timeline_events (suggestion_id, at, actor_kind, actor_id, event, text) VALUES
  (1, '2025-03-02T02:00:00+00:00', 'member', 1, 'submitted', ''),
  (2, '2025-03-02T03:00:00+00:00', 'member', 1, 'submitted', ''),
  (2, '2025-03-03T02:00:00+00:00', 'staff', 1, 'accepted', ''),
  (2, '2025-03-04T02:00:00+00:00', 'staff', 1, 'adopted', ''),
  (2, '2025-03-04T02:00:05+00:00', 'console_staff', 1, 'adopted', ''),
  (3, '2025-03-02T04:00:00+00:00', 'member', 1, 'submitted', ''),
  (3, '2025-03-03T06:00:00+00:00', 'staff', 1, 'assigned', '主办：区教育局；协办：区财政局'),
  (3, '2025-03-05T01:00:00+00:00', 'department', 1, 'acknowledged', '区教育局'),
  (4, '2025-03-02T05:00:00+00:00', 'member', 1, 'submitted', ''),
  (4, '2025-04-15T02:00:00+00:00', 'department', 1, 'replied', 'B 正在解决或列入计划：已列入计划'),
  (5, '2025-03-02T06:00:00+00:00', 'member', 1, 'submitted', ''),
  (5, '2025-04-16T12:00:00+00:00', 'member', 1, 'closed', '满意'),
  (6, '2025-03-02T07:00:00+00:00', 'member', 2, 'submitted', ''),
  (6, '2025-03-03T02:00:00+00:00', 'staff', 1, 'not_accepted', '不属于建言范围');
INSERT INTO assignments (id, suggestion_id, department_id, role, deadline, assigned_at, acknowledged_at, status) VALUES
  (1, 3, 1, 'lead', '2025-06-03T06:00:00+00:00', '2025-03-03T06:00:00+00:00', '2025-03-05T01:00:00+00:00', 'active'),
  (2, 3, 2, 'co', '2025-06-03T06:00:00+00:00', '2025-03-03T06:00:00+00:00', NULL, 'active'),
  (3, 4, 1, 'lead', '2025-06-03T06:00:00+00:00', '2025-03-03T06:00:00+00:00', '2025-03-05T01:00:00+00:00', 'answered'),
  (4, 5, 1, 'lead', '2025-06-03T06:00:00+00:00', '2025-03-03T06:00:00+00:00', '2025-03-05T01:00:00+00:00', 'answered');
INSERT INTO opinions (assignment_id, text, at) VALUES (2, '建议纳入明年预算。', '2025-03-10T08:00:00+00:00');
INSERT INTO replies (id, suggestion_id, department_id, reply_class, text, document, at) VALUES
  (1, 4, 1, 'B', '已列入计划', NULL, '2025-04-15T02:00:00+00:00'),
  (2, 5, 1, 'A', '已解决', NULL, '2025-04-10T02:00:00+00:00');
INSERT INTO ratings (suggestion_id, reply_id, rating, reason, at) VALUES
  (5, 2, 'satisfied', '', '2025-04-16T12:00:00+00:00');
INSERT INTO dialogs (chat_id, state, updated_at) VALUES (90001, '{dialog}', '2025-04-20T01:00:00+00:00');
INSERT INTO updates (update_id, chat_id, payload, received_at, processed_at, attempts, error) VALUES
  (1, 90001, '{processed_update}', '2025-04-20T00:00:00+00:00', '2025-04-20T00:00:01+00:00', 1, NULL),
  (2, 90001, '{pending_update}', '2025-04-20T01:00:00+00:00', NULL, 0, NULL),
  (3, 90002, '{redeem_update}', '2025-04-20T01:00:01+00:00', NULL, 0, NULL);
INSERT INTO broadcasts (id, topic_id, text, audience_kind, audience_value, staff_id, total, status, created_at) VALUES
  (1, 1, '请各位委员围绕议题建言。', 'workstation', '潍坊新村街道', 1, 1, 'sending', '2025-03-20T02:00:00+00:00');
INSERT INTO outbox (id, chat_id, payload, priority, update_id, broadcast_id, created_at, status, attempts, sent_at) VALUES
  (1, 90001, '{sent}', 2, NULL, 1, '2025-03-20T02:00:00+00:00', 'sent', 1, '2025-03-20T02:00:01+00:00'),
  (2, 90001, '{queued}', 1, NULL, NULL, '2025-04-20T01:00:00+00:00', 'pending', 0, NULL);
INSERT INTO users (id, username, name, role, department_id, password_hash, active, created_at, updated_at) VALUES
  (1, 'admin', '管理员', 'admin', NULL, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', 1,
   '2025-03-01T02:00:00+00:00', '2025-03-01T02:00:00+00:00'),
  (2, 'jyj', '教育局', 'department', 1, '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', 1,
   '2025-03-01T02:00:00+00:00', '2025-03-01T02:00:00+00:00');
INSERT INTO api_tokens (id, department_id, name, token_hash, created_by, created_at) VALUES
  (1, 1, '办公系统', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 1, '2025-03-01T02:00:00+00:00');
INSERT INTO audit_log (at, user_id, token_id, action, target, detail) VALUES
  ('2025-03-03T06:00:00+00:00', 1, NULL, 'suggestion.assign', 'PD-2025-0003', ''),
  ('2025-03-05T01:00:00+00:00', NULL, 1, 'api.acknowledge', 'PD-2025-0003', '');
"#
    )
}

/// What must survive every migration: each sample table's rows, as text.
async fn contents(conn: &mut SqliteConnection) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for (table, columns) in [
        ("members", "id, member_no, name, level, workstation_id, telegram_user_id, status"),
        ("staff", "id, name, telegram_user_id, status"),
        ("liaisons", "id, department_id, name, telegram_user_id"),
        ("invite_codes", "code_hash, member_id, used_at"),
        ("topics", "id, title, class, status, pinned"),
        ("suggestions", "id, reference_no, member_id, kind, title, state, deadline, adopted_at"),
        ("suggestion_points", "suggestion_id, position, text"),
        ("attachments", "suggestion_id, file_id, file_name"),
        ("timeline_events", "id, suggestion_id, at, actor_kind, event, text"),
        ("assignments", "id, suggestion_id, department_id, role, status, acknowledged_at"),
        ("opinions", "assignment_id, text"),
        ("replies", "id, suggestion_id, reply_class, text"),
        ("ratings", "suggestion_id, reply_id, rating"),
        ("dialogs", "chat_id, state"),
        ("updates", "update_id, chat_id, payload, processed_at"),
        ("broadcasts", "id, text, audience_kind, total, status"),
        ("outbox", "id, chat_id, payload, priority, status, broadcast_id"),
        ("users", "id, username, role, department_id, active"),
        ("api_tokens", "id, department_id, token_hash, revoked_at"),
        ("audit_log", "id, user_id, token_id, action, target"),
    ] {
        let concat =
            columns.split(", ").map(|c| format!("COALESCE({c}, 'NULL')")).collect::<Vec<_>>().join(" || '|' || ");
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT {concat} FROM {table} ORDER BY rowid"))
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        out.push((table.to_string(), rows));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_migration_keeps_the_data_of_an_installation_and_the_app_carries_on_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jianyan.db");
    let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true).foreign_keys(true);
    let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
    conn.ensure_migrations_table().await.unwrap();
    let migrations: Vec<_> = MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).collect();
    assert!(migrations.len() > FILLED_AT as usize + 1, "there are migrations after the sample rows");

    for m in migrations.iter().filter(|m| m.version <= FILLED_AT) {
        conn.apply(m).await.unwrap_or_else(|e| panic!("migration {} {}: {e}", m.version, m.description));
    }
    sqlx::raw_sql(&sample_rows()).execute(&mut conn).await.expect("the sample rows fit schema 0003");
    let before = contents(&mut conn).await;
    assert!(before.iter().all(|(_, rows)| !rows.is_empty()), "every sample table has rows: {before:?}");

    // Every later migration but the last, one at a time; the app's own migrator applies the last.
    let later: Vec<_> = migrations.iter().filter(|m| m.version > FILLED_AT).collect();
    let (last, between) = later.split_last().expect("migrations after the sample rows");
    for m in between {
        conn.apply(m).await.unwrap_or_else(|e| panic!("migration {} {}: {e}", m.version, m.description));
        let after = contents(&mut conn).await;
        for ((table, was), (_, now)) in before.iter().zip(&after) {
            assert_eq!(was, now, "migration {} {} changed {table}", m.version, m.description);
        }
    }
    // 0009: of the two adoptions of PD-2025-0002 recorded before once-only actions, the first counts.
    let once: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT id, once_key FROM timeline_events WHERE suggestion_id = 2 AND event = 'adopted' ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(once, vec![(4, Some("adopted".to_string())), (5, None)]);
    conn.close().await.unwrap();

    // The app opens the database (applying the last migration) and reads what was there.
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2025, 4, 20, 2, 0, 0).unwrap()));
    let (store, app) = open(dir.path(), clock, &[]).await;
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(applied, migrations.len() as i64, "the last migration ({}) was applied at start", last.version);
    let mut conn = store.pool().acquire().await.unwrap();
    assert_eq!(contents(&mut conn).await, before, "the app's start changed nothing");
    drop(conn);

    let zhang = store.member_by_no(&MemberNo::parse("PD001").unwrap()).await.unwrap().expect("PD001");
    assert_eq!((zhang.name.as_str(), zhang.telegram_user_id, zhang.active), ("张三", Some(90001), true));
    assert!(!store.member_by_no(&MemberNo::parse("PD003").unwrap()).await.unwrap().expect("PD003").active);
    let states: Vec<SuggestionState> = {
        let mut states = Vec::new();
        for id in 1..=6 {
            states.push(store.facts(id).await.unwrap().expect("a suggestion").state);
        }
        states
    };
    use SuggestionState::*;
    assert_eq!(states, vec![Submitted, Accepted, InProgress, Replied, Closed, NotAccepted]);
    let adopted = store.facts(2).await.unwrap().unwrap();
    assert!(adopted.adopted && adopted.done("adopted"), "adopting again is refused as done: {adopted:?}");
    let in_progress = store.facts(3).await.unwrap().unwrap();
    let lead = in_progress.active_assignment(1).expect("the lead's assignment");
    assert_eq!((lead.role, lead.status, lead.acknowledged), (AssignmentRole::Lead, AssignmentStatus::Active, true));
    assert_eq!(in_progress.active_assignment(2).map(|a| a.role), Some(AssignmentRole::Co));
    assert_eq!(store.co_opinions(3).await.unwrap().len(), 1);
    let mine = store.suggestions_of_member(zhang.id, 10).await.unwrap();
    assert_eq!(mine.len(), 5, "PD001's five suggestions are listed");
    assert!(store.pending_updates().await.unwrap().iter().map(|u| u.update_id).eq([2, 3]));

    // The bot starts on it: the stored updates are handled (the half-done dialog takes its second
    // point, the invite from before the upgrade binds PD002) and the queued message goes out.
    let fake = FakeTelegram::start().await;
    let (tx, rx) = watch::channel(false);
    let client = jianyan::bot::client("123456:TEST-token", url::Url::parse(&fake.api_url()).unwrap());
    let task = tokio::spawn(jianyan::bot::run(app, client, rx));
    let (zhang_chat, li_chat) = (TgUser::new(90001, "三").chat_id(), TgUser::new(90002, "四").chat_id());
    let to_zhang = fake.wait_for_sent(zhang_chat, 2, WAIT).await;
    let texts: Vec<&str> = to_zhang.iter().map(|m| m.text.as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("升级前排队的通知")), "the queued message is delivered: {texts:?}");
    assert!(texts.iter().any(|t| t.contains("第2条")), "the second point is taken: {texts:?}");
    let greeting = fake.wait_for_sent(li_chat, 1, WAIT).await;
    assert!(greeting[0].text.contains("李四"), "PD002 is greeted: {}", greeting[0].text);
    let li = store.member_by_no(&MemberNo::parse("PD002").unwrap()).await.unwrap().unwrap();
    assert_eq!(li.telegram_user_id, Some(90002));
    let dialog = store.dialog_state(90001).await.unwrap().expect("the dialog is kept");
    assert!(dialog.contains("简化审批") && dialog.contains("财政补贴一部分费用"), "{dialog}");
    let _ = tx.send(true);
    tokio::time::timeout(WAIT, task).await.expect("the bot stops").expect("no panic").expect("no error");
}
