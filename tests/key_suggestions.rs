//! 重点建言 end to end: staff mark a suggestion key with its supervising leader (督办领导) in the
//! console and in Telegram, change the leader and take the mark off; the inbox filters by it, the
//! dashboard lists key suggestions with their progress, and the timeline records each step.

mod support;

use axum::http::StatusCode;
use chrono::Duration;
use jianyan::clock::Clock;
use jianyan::domain::SuggestionKind;
use support::console::Console;
use support::harness::{TestBot, joined, last};

fn now(c: &Console) -> chrono::DateTime<chrono::Utc> {
    c.clock.now()
}

/// The dashboard's row for a key suggestion (`data-key="…"`), as text without tags.
fn key_row(html: &str, reference: &str) -> Option<String> {
    let start = html.find(&format!("data-key=\"{reference}\""))?;
    let row = &html[start..start + html[start..].find("</tr>").unwrap()];
    Some(regex::Regex::new(r"<[^>]+>").unwrap().replace_all(row, " ").to_string())
}

#[tokio::test]
async fn staff_mark_a_key_suggestion_in_the_console_and_the_inbox_and_dashboard_follow() {
    let c = Console::start().await;
    let staff = c.login("staff").await;
    let (key_id, key_ref) = c.inbox_assigned("关于世博水环安全照明的建议", false).await;
    let (_other_id, other_ref) = c.inbox_assigned("关于母婴友好空间的建议", false).await;
    let (submitted, submitted_ref) =
        c.inbox_submit("PD002", SuggestionKind::Advice, "关于适老适幼设施的建议", &["增加座椅"], Vec::new()).await;

    // The detail page offers the mark to staff, not to the department.
    let page = c.get(&format!("/suggestions/{key_id}"), Some(&staff)).await;
    assert!(page.body.contains("id=\"act-key\"") && page.body.contains("列为重点建言"), "{}", page.body);
    let dept = c.login("dept").await;
    assert!(!c.get(&format!("/suggestions/{key_id}"), Some(&dept)).await.body.contains("id=\"act-key\""));
    let refused = c.post(&format!("/suggestions/{key_id}/act/key"), Some(&dept), &[("leader", "王某某")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "a department may not: {}", refused.body);
    assert_eq!(c.store.facts(key_id).await.unwrap().unwrap().key_leader, None);

    // An empty leader is said back; then staff mark it.
    let empty = c.post(&format!("/suggestions/{key_id}/act/key"), Some(&staff), &[("leader", "  ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done =
        c.post(&format!("/suggestions/{key_id}/act/key"), Some(&staff), &[("leader", "区政协副主席 王某某")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = c.get(done.location().unwrap(), Some(&staff)).await;
    assert!(page.body.contains("重点建言 · 督办领导：区政协副主席 王某某"), "{}", page.body);
    assert!(page.body.contains("列为重点建言") && page.body.contains("取消重点"), "change and unmark offered");
    // Also on a suggestion still waiting for acceptance.
    let done = c.post(&format!("/suggestions/{submitted}/act/key"), Some(&staff), &[("leader", "李主席")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let timeline = c.store.timeline_of(key_id).await.unwrap();
    let marked = timeline.iter().find(|e| e.event == "key_marked").expect("on the timeline");
    assert_eq!((marked.actor_kind.as_str(), marked.text.as_str()), ("console_staff", "区政协副主席 王某某"));

    // The inbox filters by it, and marks key rows.
    let list = c.get("/suggestions?key=1", Some(&staff)).await;
    assert!(list.body.contains(&key_ref) && list.body.contains(&submitted_ref), "{}", list.body);
    assert!(!list.body.contains(&other_ref), "only key suggestions: {}", list.body);
    assert!(list.body.contains("name=\"key\" value=\"1\" checked"), "the box stays ticked");
    let all = c.get("/suggestions", Some(&staff)).await;
    assert!(all.body.contains(&other_ref) && all.body.matches(">重点<").count() == 2, "{}", all.body);

    // The dashboard lists them with their progress: the one with a department first.
    let deadline = c.store.facts(key_id).await.unwrap().unwrap().deadline.expect("assigned with a deadline");
    let left = ((deadline - now(&c)).num_seconds() as f64 / 86_400.0).ceil() as i64;
    let dash = c.get("/", Some(&staff)).await;
    let row = key_row(&dash.body, &key_ref).unwrap_or_else(|| panic!("listed: {}", dash.body));
    for part in ["区政协副主席 王某某", "已交办", "区教育局", &format!("剩 {left} 天")] {
        assert!(row.contains(part), "{part:?} not in {row:?}");
    }
    let waiting = key_row(&dash.body, &submitted_ref).expect("the submitted one too");
    assert!(waiting.contains("李主席") && waiting.contains("已提交") && !waiting.contains("剩"), "{waiting:?}");
    assert!(
        dash.body.find(&format!("data-key=\"{key_ref}\"")) < dash.body.find(&format!("data-key=\"{submitted_ref}\""))
    );
    assert!(key_row(&dash.body, &other_ref).is_none());
    // The department's dashboard lists its own key suggestion only.
    let dept_dash = c.get("/", Some(&dept)).await;
    assert!(key_row(&dept_dash.body, &key_ref).is_some() && key_row(&dept_dash.body, &submitted_ref).is_none());

    // Past the deadline it says how many days overdue.
    c.clock.set(deadline + Duration::days(3) - Duration::hours(1));
    let staff = c.login("staff").await;
    let row = key_row(&c.get("/", Some(&staff)).await.body, &key_ref).unwrap();
    assert!(row.contains("超期 3 天"), "{row:?}");

    // Unmarked, it leaves the list; the audit log has each step.
    let done =
        c.post(&format!("/suggestions/{key_id}/act/key"), Some(&staff), &[("leader", ""), ("unmark", "1")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(c.store.facts(key_id).await.unwrap().unwrap().key_leader, None);
    assert!(key_row(&c.get("/", Some(&staff)).await.body, &key_ref).is_none());
    let events: Vec<String> = c.store.timeline_of(key_id).await.unwrap().into_iter().map(|e| e.event).collect();
    assert!(events.ends_with(&["key_marked".to_string(), "key_unmarked".to_string()]), "{events:?}");
    let audit = c.inbox_audit_actions().await;
    assert_eq!(audit.iter().filter(|a| a.starts_with("suggestion.key ")).count(), 3, "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_mark_and_unmark_a_key_suggestion_in_telegram() {
    let mut bot = TestBot::start().await;
    let member = support::fake_telegram::TgUser::new(90001, "三");
    let staff = support::fake_telegram::TgUser::new(80001, "晓");
    bot.register(&member, "PD001").await;
    bot.register_staff(&staff, "王晓").await;
    bot.submit(&member, "建言资政", "关于完善15分钟社区生活圈的建议", &["在每个街镇设立一站式便民服务中心。"]).await;

    // Looked up by its number, the suggestion offers 列为重点; the leader is asked for.
    let shown = bot.say(&staff, "PD-2025-0001").await;
    assert!(last(&shown).button_texts().contains(&"🔺 列为重点".to_string()), "{:?}", last(&shown).buttons);
    let asked = bot.tap(&staff, last(&shown), "列为重点").await;
    assert!(last(&asked).text.contains("请发送督办领导的姓名"), "{}", joined(&asked));
    let empty = bot.say(&staff, "   ").await;
    assert!(!joined(&empty).contains("已将"), "nothing done on an empty name: {}", joined(&empty));
    let marked = bot.say(&staff, "区政协副主席 王某某").await;
    assert!(
        joined(&marked).contains("🔺 已将 PD-2025-0001 列为重点建言，督办领导：区政协副主席 王某某"),
        "{}",
        joined(&marked)
    );
    assert!(last(&marked).button_texts().contains(&"取消重点".to_string()), "{:?}", last(&marked).buttons);
    let id = bot.store.suggestion_id_by_reference("PD-2025-0001").await.unwrap().unwrap();
    assert_eq!(bot.store.facts(id).await.unwrap().unwrap().key_leader.as_deref(), Some("区政协副主席 王某某"));

    // Looked up again, it says so; 取消重点 takes the mark off.
    let shown = bot.say(&staff, "pd-2025-0001").await;
    assert!(last(&shown).text.contains("🔺 重点建言 · 督办领导：区政协副主席 王某某"), "{}", last(&shown).text);
    let unmarked = bot.tap(&staff, last(&shown), "取消重点").await;
    assert!(joined(&unmarked).contains("已取消 PD-2025-0001 的重点建言标记"), "{}", joined(&unmarked));
    assert_eq!(bot.store.facts(id).await.unwrap().unwrap().key_leader, None);
    let events: Vec<String> = bot.store.timeline_of(id).await.unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(events, ["submitted", "key_marked", "key_unmarked"]);
    // The member was not pushed anything about it.
    assert!(!joined(&bot.fake.sent_to(member.chat_id())).contains("重点"));
    bot.stop().await;
}
