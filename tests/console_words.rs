//! Words, not codes: every state, action, timeline event, audit action and target, audience and
//! role the console shows has a label in both locale files that is not its code, and the audit log
//! reads the targets and details the console writes (with codes in them) back in words.

mod support;

use jianyan::domain::{SuggestionKind, SuggestionState, TopicClass, TopicStatus};
use jianyan::locale::{Lang, Texts};
use jianyan::store::Role;
use jianyan::store::inbox::InboxSort;
use jianyan::web::manage::audit::{ACTIONS, DetailWords, TARGET_KINDS, action_label, target_label};
use jianyan::workflow::Act;
use support::console::Console;

/// The label `key` gives `code`: present and not empty in both languages, and in Chinese (the
/// console's language) with Chinese characters in it. Returns the problems.
fn check(texts: &Texts, key: &str, code: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for lang in [Lang::Zh, Lang::En] {
        if !texts.keys(lang).contains(&key) {
            problems.push(format!("{key} is missing in {}", lang.file_name()));
            continue;
        }
        let label = texts.t(lang, key, &[]);
        if label.trim().is_empty() {
            problems.push(format!("{key} in {} is empty", lang.file_name()));
        }
        // English words may be spelt like their code («accepted»); Chinese ones never are.
        if lang == Lang::Zh && (label.trim() == code || !label.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
        {
            problems.push(format!("{key} in Chinese is «{label}», not words for {code}"));
        }
    }
    problems
}

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Source files under `src/<dir>`, with their text.
fn sources(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir)];
    while let Some(path) = todo.pop() {
        if path.is_dir() {
            todo.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    assert!(!out.is_empty(), "no sources under src/{dir}");
    out
}

#[test]
fn every_state_kind_class_status_role_audience_and_sort_has_words_in_both_languages() {
    let texts = Texts::built_in();
    let mut problems = Vec::new();
    for s in SuggestionState::ALL {
        problems.extend(check(&texts, &format!("state.{}", s.code()), s.code()));
    }
    for k in SuggestionKind::ALL {
        problems.extend(check(&texts, &format!("kind.{}", k.code()), k.code()));
    }
    for c in TopicClass::ALL {
        problems.extend(check(&texts, &format!("class.{}", c.code()), c.code()));
    }
    for s in TopicStatus::ALL {
        problems.extend(check(&texts, &format!("web.topics.status_{}", s.code()), s.code()));
    }
    for code in ["admin", "staff", "department"] {
        let role = Role::parse(code).expect("a role code");
        problems.extend(check(&texts, &format!("cli.role_{}", role.as_str()), code));
    }
    for kind in ["all", "level", "workstation", "sector"] {
        let kind = jianyan::store::AudienceKind::parse(kind).expect("an audience kind");
        problems.extend(check(&texts, &format!("broadcast.audience_{}", kind.as_str()), kind.as_str()));
    }
    for sort in ["newest", "oldest", "deadline"] {
        let sort = InboxSort::parse(sort).expect("a sort");
        problems.extend(check(&texts, &format!("web.inbox.sort_{}", sort.as_str()), sort.as_str()));
    }
    assert_none(problems);
}

#[test]
fn every_action_staff_and_departments_take_in_the_console_has_words() {
    let texts = Texts::built_in();
    let mut problems = Vec::new();
    for act in Act::ALL {
        // Viewing is no action, and only members rate, withdraw and co-sign (in Telegram).
        if matches!(act, Act::View | Act::Rate | Act::Withdraw | Act::Cosign | Act::CoRate | Act::JoinCosign) {
            continue;
        }
        let code = serde_json::to_value(act).unwrap().as_str().unwrap().to_string();
        problems.extend(check(&texts, &format!("web.inbox.detail.act_{code}"), &code));
    }
    assert_none(problems);
}

/// Every event the workflow and the store write to a suggestion's timeline (read from the source,
/// so a new one cannot go unlabelled) has words in `[event]`.
#[test]
fn every_timeline_event_written_has_words() {
    let texts = Texts::built_in();
    let change = regex::Regex::new(r#"change\(\s*[^,()]+,\s*"([a-z_]+)""#).unwrap();
    let insert = regex::Regex::new(r"INSERT INTO timeline_events[^;]*?VALUES \([^)]*'([a-z_]+)', \?\)").unwrap();
    // Who submitted, as the store picks it: `… => ("member", s.member_id, "submitted")`.
    let submitted_by = regex::Regex::new(r#"=> \("[a-z_]+", [a-z_.]+, "([a-z_]+)"\)"#).unwrap();
    let mut events = std::collections::BTreeSet::new();
    for (_, text) in sources("workflow").into_iter().chain(sources("store")) {
        events.extend(change.captures_iter(&text).map(|c| c[1].to_string()));
        events.extend(insert.captures_iter(&text).map(|c| c[1].to_string()));
        events.extend(submitted_by.captures_iter(&text).map(|c| c[1].to_string()));
    }
    for expected in ["submitted", "entered", "accepted", "assigned", "replied", "closed", "co_opinion"] {
        assert!(events.contains(expected), "the scan found no «{expected}» event: {events:?}");
    }
    assert_none(events.iter().flat_map(|e| check(&texts, &format!("event.{e}"), e)).collect());
}

/// Every action the console and the API write to the audit log (read from the source) is one of
/// `ACTIONS`, and each of those, and each kind of target, has words.
#[test]
fn every_audit_action_and_target_has_words() {
    let texts = Texts::built_in();
    let call = regex::Regex::new(r#"\.audit\(\s*[^,]+,\s*"([a-z_.]+)""#).unwrap();
    let field = regex::Regex::new(r#"audit: "([a-z_.]+)""#).unwrap();
    let mut written = std::collections::BTreeSet::new();
    for (path, text) in sources("web") {
        for c in call.captures_iter(&text).chain(field.captures_iter(&text)) {
            written.insert((c[1].to_string(), path.clone()));
        }
    }
    assert!(written.len() >= 15, "the scan found too few audit actions: {written:?}");
    for (action, path) in &written {
        assert!(ACTIONS.contains(&action.as_str()), "{path} writes «{action}», which audit::ACTIONS does not list");
    }
    let mut problems = Vec::new();
    for action in ACTIONS {
        problems.extend(check(&texts, &format!("web.audit.action.{}", action.replace('.', "_")), action));
    }
    for kind in TARGET_KINDS.iter().chain(&["roster"]) {
        problems.extend(check(&texts, &format!("web.audit.target.{kind}"), kind));
    }
    assert_none(problems);
}

/// The audit log page's words for what the console writes: actions, targets and details.
#[tokio::test]
async fn the_audit_log_reads_what_the_console_writes_in_words() {
    let c = Console::start().await;
    let state = &c.state;
    for action in ACTIONS {
        let label = action_label(state, action);
        assert!(!label.is_empty() && label != action, "{action} reads «{label}»");
    }
    assert_eq!(target_label(state, "topic:3"), "议题 #3");
    assert_eq!(target_label(state, "member:PD2025001"), "委员 PD2025001");
    assert_eq!(target_label(state, "roster"), "委员名册");
    assert_eq!(target_label(state, "PD-2026-0001"), "PD-2026-0001", "a reference number as written");
    let words = DetailWords::new();
    for (action, detail, expected) in [
        (
            "members.import",
            "inserted 10, updated 2, workstations created 8, rows skipped 1",
            "新增 10 人，更新 2 人，新建工作站 8 个，跳过 1 行",
        ),
        ("broadcast.create", "topic:4 | all: | 2 recipients", "议题 #4 | 全体委员 | 2 位委员"),
        ("broadcast.create", "topic:0 | level:区 | 1 recipients", "不针对议题 | 层级：区 | 1 位委员"),
        ("broadcast.create", "topic:0 | sector:教育界 | 0 recipients", "不针对议题 | 界别：教育界 | 0 位委员"),
        ("user.create", "staff | staff", "staff | 工作人员"),
        ("user.create", "liaison1 | department", "liaison1 | 承办单位"),
        ("topic.create", "世博水环建设 | 民生实事类 | pinned", "世博水环建设 | 民生实事类 | 置顶"),
        (
            "suggestions.export_csv",
            "导出 3 条；筛选：state=accepted kind=opinion sort=deadline q=电梯",
            "导出 3 条；筛选：状态=已受理 类别=社情民意信息 排序=答复期限最近在前 搜索=电梯",
        ),
        ("department.create", "区教育局", "区教育局"),
    ] {
        assert_eq!(words.label(state, action, detail), expected, "{action}: {detail}");
    }
}
