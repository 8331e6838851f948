//! 年度统计 end to end: a seeded year in the console, counted by hand, on the figures page (the
//! sentence committees publish and the table), narrowed to a topic and to a department, and as an
//! XLSX read back with calamine. Runs on either backend (`JIANYAN_TEST_BACKEND`).

mod support;

use axum::http::StatusCode;
use chrono::Duration;
use jianyan::clock::Clock;
use jianyan::context::Ctx;
use jianyan::domain::{MemberNo, SuggestionKind};
use jianyan::store::{Commit, Committed, Member, NewSuggestion, Rating};
use jianyan::workflow::{self, Actor, Command};
use support::console::Console;
use support::xlsx::first_sheet;

async fn member(c: &Console, no: &str) -> Member {
    c.store.member_by_no(&MemberNo::parse(no).unwrap()).await.unwrap().unwrap()
}

/// Files a suggestion of `points` points for `member_id` in `year`, on the console's topic or none.
async fn file(c: &Console, member_id: i64, year: i32, on_topic: bool, points: usize) -> i64 {
    let suggestion = NewSuggestion {
        member_id,
        topic_id: on_topic.then_some(c.topic_id),
        kind: SuggestionKind::Advice,
        title: format!("{year}年的第{points}条建言"),
        points: (1..=points).map(|i| format!("第{i}条建议")).collect(),
        as_typed: String::new(),
        attachments: Vec::new(),
        year,
        prefix: "PD".into(),
        entered_by: None,
    };
    let commit = Commit {
        update_id: None,
        chat_id: 1,
        dialog: None,
        messages: Vec::new(),
        submission: Some((suggestion, Box::new(|_, _| Vec::new()))),
        change: None,
        now: c.clock.now(),
    };
    let Committed::Done { reference: Some(reference), .. } = c.store.commit(commit).await.unwrap() else {
        panic!("not filed")
    };
    c.store.suggestion_id_by_reference(&reference.to_string()).await.unwrap().unwrap()
}

async fn run(c: &Console, actor: Actor<'_>, id: i64, command: Command) {
    let now = c.clock.now();
    let ctx = Ctx { store: c.store.as_ref(), texts: &c.app.texts, config: &c.app.config, now };
    let change = workflow::plan(&ctx, &actor, id, command.clone()).await.unwrap();
    let change = change.unwrap_or_else(|r| panic!("{command:?} refused: {r:?}"));
    assert!(matches!(c.store.apply_change(change, now).await.unwrap(), Committed::Done { .. }));
}

/// The seeded year 2025, counted by hand:
///
/// | # | member | points | topic | what happened                                                    |
/// |---|--------|--------|-------|------------------------------------------------------------------|
/// | 1 | PD001  | 3      | yes   | 区教育局 leads; A on time; 满意; adopted                           |
/// | 2 | PD001  | 2      | yes   | 区教育局 leads, due in 5 days; B after 10 days (late); 基本满意      |
/// | 3 | PD002  | 1      | yes   | 区财政局 leads, 区教育局 co; C on time; 不满意; then A; 满意          |
/// | 4 | PD002  | 1      | yes   | accepted only                                                    |
/// | 5 | PD001  | 4      | no    | submitted only                                                   |
/// | 6 | PD002  | 2      | yes   | not accepted                                                     |
/// | – | PD001  | 1      | yes   | withdrawn: not counted                                           |
/// | – | test   | 2      | yes   | the dialog preview's test member: not counted                    |
/// | – | PD001  | 5      | yes   | year 2024                                                        |
async fn seed(c: &Console) {
    let (zhang, li) = (member(c, "PD001").await, member(c, "PD002").await);
    let staff = c.store.user_for_login("staff").await.unwrap().unwrap().0;
    let staff = Actor::User(&staff);
    let dept = c.store.user_for_login("dept").await.unwrap().unwrap().0;
    let dept2 = c.store.user_for_login("dept2").await.unwrap().unwrap().0;

    let s1 = file(c, zhang.id, 2025, true, 3).await;
    let s2 = file(c, zhang.id, 2025, true, 2).await;
    let s3 = file(c, li.id, 2025, true, 1).await;
    let s4 = file(c, li.id, 2025, true, 1).await;
    file(c, zhang.id, 2025, false, 4).await;
    let s6 = file(c, li.id, 2025, true, 2).await;
    let withdrawn = file(c, zhang.id, 2025, true, 1).await;
    let tester = c.store.preview_member(1, "预览委员", c.clock.now()).await.unwrap();
    let test = file(c, tester.id, 2025, true, 2).await;
    file(c, zhang.id, 2024, true, 5).await;

    for id in [s1, s2, s3, s4, test] {
        run(c, staff, id, Command::Accept).await;
    }
    run(c, staff, s6, Command::Reject { reason: "不属于协商范围".into() }).await;
    run(c, Actor::Member(&zhang), withdrawn, Command::Withdraw).await;
    let soon = Some(c.clock.now() + Duration::days(5));
    run(c, staff, s1, Command::Assign { lead: c.department_id, co: vec![], deadline: None }).await;
    run(c, staff, s2, Command::Assign { lead: c.department_id, co: vec![], deadline: soon }).await;
    let assign = Command::Assign { lead: c.other_department_id, co: vec![c.department_id], deadline: None };
    run(c, staff, s3, assign).await;
    run(c, staff, test, Command::Assign { lead: c.department_id, co: vec![], deadline: None }).await;
    c.clock.set(c.clock.now() + Duration::days(10));
    let reply = |class: &str| Command::Reply {
        class: class.into(),
        text: "答复".into(),
        document: None,
        letter: Default::default(),
    };
    run(c, Actor::User(&dept), s1, reply("A")).await;
    run(c, Actor::User(&dept), s2, reply("B")).await;
    run(c, Actor::User(&dept2), s3, reply("C")).await;
    run(c, Actor::User(&dept), test, reply("D")).await;
    run(c, staff, s1, Command::Adopt).await;
    let rate = |n, rating| Command::Rate { reply_no: n, rating, reason: String::new() };
    run(c, Actor::Member(&zhang), s1, rate(1, Rating::Satisfied)).await;
    run(c, Actor::Member(&zhang), s2, rate(1, Rating::BasicallySatisfied)).await;
    run(c, Actor::Member(&li), s3, rate(1, Rating::Dissatisfied)).await;
    run(c, Actor::User(&dept2), s3, reply("A")).await;
    run(c, Actor::Member(&li), s3, rate(2, Rating::Satisfied)).await;
    run(c, Actor::Member(&tester), test, rate(1, Rating::Dissatisfied)).await;
}

/// The figures table's rows as (label, count, share) text.
fn table_rows(html: &str) -> Vec<(String, String, String)> {
    let start = html.find("<table class=\"figures\"").expect("the figures table");
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let cell = regex::Regex::new(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>").unwrap();
    cell.captures_iter(table).map(|c| (c[1].to_string(), c[2].to_string(), c[3].to_string())).collect()
}

fn row<'a>(rows: &'a [(String, String, String)], label: &str) -> (&'a str, &'a str) {
    let r = rows.iter().find(|r| r.0 == label).unwrap_or_else(|| panic!("no row {label}: {rows:?}"));
    (r.1.as_str(), r.2.as_str())
}

#[tokio::test]
async fn a_seeded_year_is_counted_as_by_hand_on_the_page_and_in_the_xlsx() {
    let c = Console::start().await;
    seed(&c).await;
    let staff = c.login("staff").await;

    let page = c.get("/figures?year=2025", Some(&staff)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("2025年度建言办理情况统计"), "{}", page.body);
    let sentence = "共收到建言6篇13条，立案4件，交办3件，已答复3件，其中按期答复2件，占67%；\
        已解决或基本解决/采纳（A类）2件，占67%；正在解决或列入计划（B类）1件，占33%；\
        因条件限制暂时不能解决（C类）0件，占0%；留作参考（D类）0件，占0%；\
        委员评价满意2件、基本满意1件、不满意0件，满意率100%；被采纳1件。";
    assert!(page.body.contains(sentence), "{}", page.body);
    let rows = table_rows(&page.body);
    assert_eq!(row(&rows, "建言（篇）"), ("6", ""));
    assert_eq!(row(&rows, "建议（条）"), ("13", ""));
    assert_eq!(row(&rows, "立案（件）"), ("4", "67%"));
    assert_eq!(row(&rows, "交办（件）"), ("3", "75%"));
    assert_eq!(row(&rows, "已答复（件）"), ("3", "100%"));
    assert_eq!(row(&rows, "按期答复（件）"), ("2", "67%"));
    assert_eq!(row(&rows, "落实情况：A类 已解决或基本解决/采纳"), ("2", "67%"));
    assert_eq!(row(&rows, "落实情况：B类 正在解决或列入计划"), ("1", "33%"));
    assert_eq!(row(&rows, "满意"), ("2", "67%"));
    assert_eq!(row(&rows, "基本满意"), ("1", "33%"));
    assert_eq!(row(&rows, "不满意"), ("0", "0%"));
    assert_eq!(row(&rows, "满意率（满意+基本满意）"), ("3", "100%"));
    assert_eq!(row(&rows, "被采纳（件）"), ("1", "25%"));

    // One topic: suggestion 5 (no topic) is left out.
    let topic = c.get(&format!("/figures?year=2025&topic={}", c.topic_id), Some(&staff)).await;
    assert!(topic.body.contains("共收到建言5篇9条，立案4件"), "{}", topic.body);
    assert!(topic.body.contains("（议题：&quot;十五五&quot;规划编制）"), "{}", topic.body);
    // One department: 区教育局 leads 1 and 2 and co-handles 3.
    let dept = c.get(&format!("/figures?year=2025&department={}", c.department_id), Some(&staff)).await;
    assert!(dept.body.contains("共收到建言3篇6条，立案3件，交办3件，已答复3件，其中按期答复2件"), "{}", dept.body);
    let dept2 = c.get(&format!("/figures?year=2025&department={}", c.other_department_id), Some(&staff)).await;
    assert!(dept2.body.contains("共收到建言1篇1条") && dept2.body.contains("满意率100%"), "{}", dept2.body);
    // Another year.
    let y2024 = c.get("/figures?year=2024", Some(&staff)).await;
    assert!(y2024.body.contains("共收到建言1篇5条，立案0件"), "{}", y2024.body);
    assert!(y2024.body.contains("<option value=\"2025\">2025</option>"), "the years with suggestions are offered");
    let empty = c.get("/figures?year=2023", Some(&staff)).await;
    assert!(empty.body.contains("这一年度（在所选范围内）还没有建言"), "{}", empty.body);

    // The XLSX: Chinese headers, the same counts, numbers as numbers, the sentence under them.
    let file = c.get("/figures/export.xlsx?year=2025", Some(&staff)).await;
    assert_eq!(file.status, StatusCode::OK);
    let disposition = file.headers.get("content-disposition").unwrap().to_str().unwrap().to_string();
    assert!(disposition.contains("filename*=UTF-8''2025"), "{disposition}");
    let sheet = first_sheet(&file.bytes);
    let cells = sheet.rows();
    assert_eq!(cells[0][0], "2025年度建言办理情况统计");
    assert_eq!(cells[1][..3], ["指标", "数量", "占比"]);
    let find =
        |label: &str| cells.iter().find(|r| r[0] == label).unwrap_or_else(|| panic!("{label}: {cells:?}")).clone();
    assert_eq!(find("建言（篇）")[1], "6");
    assert_eq!(find("建议（条）")[1], "13");
    assert_eq!(find("落实情况：A类 已解决或基本解决/采纳")[1..3], ["2", "67%"]);
    assert_eq!(find("满意率（满意+基本满意）")[1..3], ["3", "100%"]);
    assert!(sheet.contains(sentence), "{cells:?}");
    assert!(sheet.formulas.is_empty(), "no formulas: {:?}", sheet.formulas);
    assert!(c.inbox_audit_actions().await.iter().any(|a| a.starts_with("figures.export_xlsx")));

    // Staff and admins only.
    let dept_user = c.login("dept").await;
    assert_eq!(c.get("/figures?year=2025", Some(&dept_user)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(c.get("/figures/export.xlsx?year=2025", Some(&dept_user)).await.status, StatusCode::FORBIDDEN);
}
