//! What the console and the workflow read: the inbox (search, filters, keyset pages), a
//! suggestion's replies, opinions and timeline, the roster pages, topics, and the preview's test member.

use chrono::Duration;
use jianyan::domain::{SuggestionKind, SuggestionState, TopicClass, TopicStatus};
use jianyan::store::inbox::{InboxFilter, InboxPage, InboxSort, PageCursor};
use jianyan::store::reports::MemberFilter;
use jianyan::store::{AssignmentRole, ChangeOp, NewTopic, Rating, Store};

use crate::backends::Backend;
use crate::fixtures::*;

fn ids(page: &InboxPage) -> Vec<i64> {
    page.rows.iter().map(|r| r.id).collect()
}

async fn search(s: &dyn Store, words: &str) -> Vec<i64> {
    let filter = InboxFilter { search: words.into(), ..Default::default() };
    let mut found = ids(&s.inbox(&filter, InboxSort::Oldest, &PageCursor::First, 100).await.unwrap());
    found.sort();
    found
}

pub async fn inbox_search_finds_words_inside_sentences(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "S001").await;
    let mut one = new_suggestion(m.id, 2026);
    one.title = "关于老旧小区加装电梯的建议".into();
    one.points = vec!["建议简化审批流程，由街道统一协调".into()];
    let mut two = new_suggestion(m.id, 2026);
    two.title = "关于停车难的建议".into();
    two.points = vec!["利用夜间空闲的学校操场停车".into()];
    let (a, _) = submit_at(s, one, t0()).await;
    let (c, _) = submit_at(s, two, t0()).await;
    assert_eq!(search(s, "电梯").await, vec![a], "two characters inside a title");
    assert_eq!(search(s, "加装电梯").await, vec![a], "four characters inside a title");
    assert_eq!(search(s, "审批流程").await, vec![a], "inside the body");
    assert_eq!(search(s, "停车").await, vec![c]);
    assert_eq!(search(s, "建议").await, vec![a, c]);
    assert_eq!(search(s, "电梯 停车").await, Vec::<i64>::new(), "all the words");
    assert_eq!(search(s, "学校操场 停车").await, vec![c]);
    assert_eq!(search(s, "地铁").await, Vec::<i64>::new());
    assert_eq!(search(s, "pd－2026－0002").await, vec![c], "a reference number as typed");
}

/// A search term is matched as typed: `%`, `_` and `\` are themselves, not wildcards, in short
/// terms and long ones alike; ASCII case is ignored; full-width characters are found as typed.
pub async fn inbox_search_takes_wildcards_literally(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "S010").await;
    let mut one = new_suggestion(m.id, 2026);
    one.title = "关于100%覆盖（试点）的建议".into();
    one.points = vec![r"推行A_B方案，文件见C:\data和ＡＰＰ".into()];
    let mut two = new_suggestion(m.id, 2026);
    two.title = "关于1000覆盖的建议".into();
    two.points = vec!["推行AxB方案，文件见C:data和APP".into()];
    let (a, _) = submit_at(s, one, t0()).await;
    let (c, _) = submit_at(s, two, t0()).await;
    assert_eq!(search(s, "覆盖").await, vec![a, c]);
    assert_eq!(search(s, "%").await, vec![a], "one character");
    assert_eq!(search(s, "0%").await, vec![a], "two characters");
    assert_eq!(search(s, "00%覆").await, vec![a], "four characters");
    assert_eq!(search(s, "_").await, vec![a]);
    assert_eq!(search(s, "a_b").await, vec![a], "ASCII case ignored, `_` as itself");
    assert_eq!(search(s, r"\").await, vec![a]);
    assert_eq!(search(s, r"c:\d").await, vec![a]);
    assert_eq!(search(s, "（试点）").await, vec![a], "full-width brackets");
    assert_eq!(search(s, "ＡＰＰ").await, vec![a], "full-width letters, three");
    assert_eq!(search(s, "ＰＰ").await, vec![a], "full-width letters, two");
}

pub async fn inbox_pages_by_keyset_both_ways(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "S002").await;
    let mut all = Vec::new();
    for _ in 0..5 {
        all.push(submit(s, m.id, 2026).await.0);
    }
    let f = &InboxFilter::default();
    let page = |sort, cursor| async move { s.inbox(f, sort, &cursor, 2).await.unwrap() };
    let p1 = page(InboxSort::Newest, PageCursor::First).await;
    assert_eq!((ids(&p1), p1.has_prev, p1.has_next), (vec![all[4], all[3]], false, true));
    let p2 = page(InboxSort::Newest, PageCursor::After(p1.rows[1].cursor(InboxSort::Newest))).await;
    assert_eq!((ids(&p2), p2.has_prev, p2.has_next), (vec![all[2], all[1]], true, true));
    let p3 = page(InboxSort::Newest, PageCursor::After(p2.rows[1].cursor(InboxSort::Newest))).await;
    assert_eq!((ids(&p3), p3.has_prev, p3.has_next), (vec![all[0]], true, false));
    let back = page(InboxSort::Newest, PageCursor::Before(p2.rows[0].cursor(InboxSort::Newest))).await;
    assert_eq!(
        (ids(&back), back.has_prev, back.has_next),
        (vec![all[4], all[3]], false, true),
        "back to the first page"
    );
    let o1 = page(InboxSort::Oldest, PageCursor::First).await;
    assert_eq!(ids(&o1), vec![all[0], all[1]]);
    let o2 = page(InboxSort::Oldest, PageCursor::After(o1.rows[1].cursor(InboxSort::Oldest))).await;
    assert_eq!(ids(&o2), vec![all[2], all[3]]);
}

pub async fn inbox_deadline_order_puts_no_deadline_last(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "S003").await;
    let dept = s.add_department("区城管局", None).await.unwrap();
    let (late, _) = assigned(s, m.id, dept.id, t0() + Duration::days(9)).await;
    let (none1, _) = submit(s, m.id, 2026).await;
    let (soon, _) = assigned(s, m.id, dept.id, t0() + Duration::days(1)).await;
    let (none2, _) = submit(s, m.id, 2026).await;
    let (mid, _) = assigned(s, m.id, dept.id, t0() + Duration::days(5)).await;
    let f = InboxFilter::default();
    let mut seen = Vec::new();
    let mut cursor = PageCursor::First;
    loop {
        let p = s.inbox(&f, InboxSort::Deadline, &cursor, 2).await.unwrap();
        seen.extend(ids(&p));
        if !p.has_next {
            break;
        }
        cursor = PageCursor::After(p.rows.last().unwrap().cursor(InboxSort::Deadline));
    }
    assert_eq!(seen, vec![soon, mid, late, none1, none2], "due soonest first, then the rest by id");
    let last = s.inbox(&f, InboxSort::Deadline, &PageCursor::After(cursor_of(s, &f, none1).await), 2).await.unwrap();
    assert_eq!(ids(&last), vec![none2]);
    let before = s.inbox(&f, InboxSort::Deadline, &PageCursor::Before(cursor_of(s, &f, late).await), 2).await.unwrap();
    assert_eq!((ids(&before), before.has_prev), (vec![soon, mid], false));
}

async fn cursor_of(s: &dyn Store, f: &InboxFilter, id: i64) -> String {
    let all = s.inbox(f, InboxSort::Deadline, &PageCursor::First, 100).await.unwrap();
    all.rows.iter().find(|r| r.id == id).unwrap().cursor(InboxSort::Deadline)
}

pub async fn inbox_filters_narrow(b: &Backend) {
    let s = &*b.store;
    s.import_members(&[row("S010", "甲", Some("塘桥"), "经济界"), row("S011", "乙", Some("花木"), "教育界")], t0())
        .await
        .unwrap();
    let m1 = s.member_by_no(&jianyan::domain::MemberNo::parse("S010").unwrap()).await.unwrap().unwrap();
    let m2 = s.member_by_no(&jianyan::domain::MemberNo::parse("S011").unwrap()).await.unwrap().unwrap();
    let topic = s
        .add_topic(
            NewTopic {
                title: "议题".into(),
                description: String::new(),
                class: TopicClass::Plan,
                form: String::new(),
                closes_at: None,
                pinned: false,
            },
            t0(),
        )
        .await
        .unwrap();
    let d1 = s.add_department("区发改委", None).await.unwrap();
    let d2 = s.add_department("区科委", None).await.unwrap();
    let (a, _) = assigned(s, m1.id, d1.id, t0() + Duration::days(3)).await;
    let mut on_topic = new_suggestion(m2.id, 2026);
    on_topic.topic_id = Some(topic.id);
    on_topic.kind = SuggestionKind::PublicOpinion;
    let (c, _) = submit_at(s, on_topic, t0() + Duration::days(1)).await;
    let (d, _) = submit_at(s, new_suggestion(m1.id, 2026), t0() + Duration::days(2)).await;
    let preview = s.preview_member(1, "预览", t0()).await.unwrap();
    let (p, _) = submit_at(s, new_suggestion(preview.id, 2026), t0()).await;
    let list = |f: InboxFilter| async move {
        let mut got = ids(&s.inbox(&f, InboxSort::Oldest, &PageCursor::First, 100).await.unwrap());
        got.sort();
        got
    };
    assert_eq!(list(InboxFilter::default()).await, vec![a, c, d, p]);
    assert_eq!(list(InboxFilter { exclude_test: true, ..Default::default() }).await, vec![a, c, d]);
    assert_eq!(list(InboxFilter { topic_id: Some(topic.id), ..Default::default() }).await, vec![c]);
    assert_eq!(list(InboxFilter { state: Some(SuggestionState::Assigned), ..Default::default() }).await, vec![a]);
    assert_eq!(list(InboxFilter { kind: Some(SuggestionKind::PublicOpinion), ..Default::default() }).await, vec![c]);
    let ws = s.workstations().await.unwrap();
    let huamu = ws.iter().find(|(_, n)| n == "花木").unwrap().0;
    assert_eq!(list(InboxFilter { workstation_id: Some(huamu), ..Default::default() }).await, vec![c]);
    assert_eq!(list(InboxFilter { department_id: Some(d1.id), ..Default::default() }).await, vec![a]);
    assert_eq!(list(InboxFilter { visible_to_department: Some(d1.id), ..Default::default() }).await, vec![a]);
    assert_eq!(list(InboxFilter { visible_to_department: Some(d2.id), ..Default::default() }).await, Vec::<i64>::new());
    let window = InboxFilter {
        submitted_from: Some(t0() + Duration::days(1)),
        submitted_before: Some(t0() + Duration::days(2)),
        ..Default::default()
    };
    assert_eq!(list(window).await, vec![c], "from inclusive, before exclusive");
    let row = s.inbox(&InboxFilter::default(), InboxSort::Oldest, &PageCursor::First, 1).await.unwrap().rows.remove(0);
    assert_eq!(
        (row.id, row.points, row.departments.as_str(), row.workstation.as_deref()),
        (a, 2, "区发改委", Some("塘桥"))
    );
    assert_eq!(row.body, "1. 老旧小区加装电梯\n2. 简化审批");
}

pub async fn replies_opinions_and_timeline_read_oldest_first(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "S020").await;
    let staff = s.add_staff("王秘书", t0()).await.unwrap();
    let lead = s.add_department("区交通委", None).await.unwrap();
    let co = s.add_department("区公安分局", None).await.unwrap();
    let co2 = s.add_department("区规划局", None).await.unwrap();
    let (id, _) = submit(s, m.id, 2026).await;
    let mut accept = change(id, SuggestionState::Submitted, SuggestionState::Accepted, "accepted");
    accept.actor_id = Some(staff.id);
    done(s.apply_change(accept, t0()).await.unwrap());
    let mut assign = change(id, SuggestionState::Accepted, SuggestionState::Assigned, "assigned");
    let deadline = t0() + Duration::days(30);
    assign.ops = vec![
        ChangeOp::Assign { department_id: lead.id, role: AssignmentRole::Lead, deadline },
        ChangeOp::Assign { department_id: co.id, role: AssignmentRole::Co, deadline },
        ChangeOp::Assign { department_id: co2.id, role: AssignmentRole::Co, deadline },
        ChangeOp::SetDeadline(Some(deadline)),
    ];
    done(s.apply_change(assign, t0()).await.unwrap());
    let facts = s.facts(id).await.unwrap().unwrap();
    assert_eq!(facts.lead().map(|a| a.department_id), Some(lead.id));
    assert_eq!((facts.deadline, facts.assignments.len()), (Some(deadline), 3));
    let co_assignment = facts.active_assignment(co.id).unwrap().id;
    let co2_assignment = facts.active_assignment(co2.id).unwrap().id;
    assert_eq!(
        s.department_assignments(co.id, 0, 10).await.unwrap().iter().map(|a| a.assignment_id).collect::<Vec<_>>(),
        vec![co_assignment]
    );
    for (aid, text, at) in [(co2_assignment, "规划意见", 1), (co_assignment, "公安意见", 2)] {
        let mut c = change(id, SuggestionState::Assigned, SuggestionState::Assigned, "co_opinion");
        c.ops = vec![
            ChangeOp::Opinion { assignment_id: aid, text: text.into() },
            ChangeOp::SetAssignmentStatus { assignment_id: aid, status: jianyan::store::AssignmentStatus::Answered },
        ];
        c.once_key = Some(format!("co_opinion:{aid}"));
        done(s.apply_change(c, t0() + Duration::hours(at)).await.unwrap());
    }
    let opinions: Vec<(String, String)> =
        s.co_opinions(id).await.unwrap().into_iter().map(|o| (o.department_name, o.text)).collect();
    assert_eq!(opinions, vec![("区规划局".into(), "规划意见".into()), ("区公安分局".into(), "公安意见".into())]);
    assert!(s.department_assignments(co.id, 0, 10).await.unwrap().is_empty(), "answered: off the to-do list");
    let mut reply = change(id, SuggestionState::Assigned, SuggestionState::Replied, "replied");
    reply.ops = vec![ChangeOp::Reply {
        department_id: lead.id,
        reply_class: "A".into(),
        text: "已解决".into(),
        document: None,
        letter: Some(r#"{"number":"浦交函〔2026〕3号","phone":"021-50123456"}"#.into()),
    }];
    done(s.apply_change(reply, t0() + Duration::hours(3)).await.unwrap());
    let mut rate = change(id, SuggestionState::Replied, SuggestionState::Closed, "rated");
    rate.actor_kind = "member";
    rate.actor_id = Some(m.id);
    rate.ops = vec![ChangeOp::Rate { rating: Rating::Satisfied, reason: "很好".into(), entered_by: None }];
    done(s.apply_change(rate, t0() + Duration::hours(4)).await.unwrap());
    let replies = s.replies_of(id).await.unwrap();
    assert_eq!(replies.len(), 1);
    assert_eq!((replies[0].department_name.as_str(), replies[0].text.as_str()), ("区交通委", "已解决"));
    assert_eq!(replies[0].department_id, lead.id);
    assert_eq!(replies[0].letter.number.as_deref(), Some("浦交函〔2026〕3号"), "the 答复函 fields are kept");
    assert_eq!(
        (replies[0].letter.phone.as_deref(), replies[0].letter.contact.as_deref()),
        (Some("021-50123456"), None)
    );
    assert_eq!(replies[0].rating, Some(("satisfied".into(), "很好".into(), t0() + Duration::hours(4))));
    assert_eq!(s.facts(id).await.unwrap().unwrap().replies, 1);
    let timeline = s.timeline_of(id).await.unwrap();
    let events: Vec<(&str, Option<&str>)> =
        timeline.iter().map(|e| (e.event.as_str(), e.actor_name.as_deref())).collect();
    assert_eq!(
        events,
        vec![
            ("submitted", Some("委员S020")),
            ("accepted", Some("王秘书")),
            ("assigned", None),
            ("co_opinion", None),
            ("co_opinion", None),
            ("replied", None),
            ("rated", Some("委员S020")),
        ]
    );
    assert_eq!(s.state_counts().await.unwrap(), vec![(SuggestionState::Closed, 1)]);
}

pub async fn review_queue_pages_oldest_first(b: &Backend) {
    let s = &*b.store;
    let m = member(s, "S030").await;
    let mut all = Vec::new();
    for _ in 0..4 {
        all.push(submit(s, m.id, 2026).await.0);
    }
    done(
        s.apply_change(change(all[1], SuggestionState::Submitted, SuggestionState::Accepted, "accepted"), t0())
            .await
            .unwrap(),
    );
    let first: Vec<i64> = s.review_queue(2).await.unwrap().iter().map(|x| x.id).collect();
    assert_eq!(first, vec![all[0], all[2]], "waiting for staff, oldest first");
    let next: Vec<i64> = s.review_queue_after(all[2], 2).await.unwrap().iter().map(|x| x.id).collect();
    assert_eq!(next, vec![all[3]]);
    assert_eq!(s.suggestions_of_member(m.id, 3).await.unwrap().len(), 3, "at most `limit`");
    assert_eq!(s.suggestions_of_member(m.id, 10).await.unwrap().len(), 4);
    assert_eq!(
        by_code(s.state_counts().await.unwrap()),
        by_code(vec![(SuggestionState::Submitted, 3), (SuggestionState::Accepted, 1)])
    );
}

pub async fn preview_member_is_a_test_member_left_out(b: &Backend) {
    let s = &*b.store;
    let real = member(s, "P001").await;
    let p = s.preview_member(7, "试用委员", t0()).await.unwrap();
    assert_eq!((p.member_no.as_str(), p.telegram_user_id), ("TEST-7", None));
    assert_eq!(s.preview_member(7, "别的名字", t0()).await.unwrap().id, p.id, "created on first use only");
    submit(s, p.id, 2026).await;
    submit(s, real.id, 2026).await;
    assert_eq!(
        s.members().await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![real.id],
        "not in the member list"
    );
    assert_eq!(s.member_counts().await.unwrap().total, 1);
    assert_eq!(s.count_members(&MemberFilter::default()).await.unwrap(), 1);
    let totals = s.totals(t0()).await.unwrap();
    assert_eq!((totals.suggestions, totals.points), (1, 2), "not in statistics");
    // A real member numbered TEST-… is never played.
    s.import_members(&[row("TEST-8", "真委员", None, "")], t0()).await.unwrap();
    assert!(s.preview_member(8, "x", t0()).await.is_err());
}

pub async fn members_page_and_counts_follow_the_filter(b: &Backend) {
    let s = &*b.store;
    s.import_members(
        &[
            row("R101", "张三", Some("塘桥"), "经济界"),
            row("R102", "李四", Some("花木"), "教育界"),
            row("R103", "张五", Some("塘桥"), "教育界"),
            row("R104", "赵六", None, "经济界"),
        ],
        t0(),
    )
    .await
    .unwrap();
    let code = "code-R102";
    let r102 = s.member_by_no(&jianyan::domain::MemberNo::parse("R102").unwrap()).await.unwrap().unwrap();
    s.create_invite(r102.id, code, t0(), t0() + Duration::days(1)).await.unwrap();
    s.redeem_invite(code, 1102, 1102, None, t0()).await.unwrap();
    s.set_reachable(1102, false, t0()).await.unwrap();
    let nos = |ms: Vec<jianyan::store::Member>| ms.into_iter().map(|m| m.member_no.to_string()).collect::<Vec<_>>();
    let all = MemberFilter::default();
    assert_eq!(nos(s.members_page(&all, None, 3).await.unwrap()), vec!["R101", "R102", "R103"]);
    assert_eq!(nos(s.members_page(&all, Some("R103"), 3).await.unwrap()), vec!["R104"], "after the cursor");
    let zhang = MemberFilter { search: "张".into(), ..Default::default() };
    assert_eq!(nos(s.members_page(&zhang, None, 10).await.unwrap()), vec!["R101", "R103"]);
    assert_eq!(s.count_members(&zhang).await.unwrap(), 2);
    let f = MemberFilter { workstation: Some("塘桥".into()), sector: Some("教育界".into()), ..Default::default() };
    assert_eq!(nos(s.members_page(&f, None, 10).await.unwrap()), vec!["R103"]);
    let bound = MemberFilter { bound: Some(true), ..Default::default() };
    assert_eq!(nos(s.members_page(&bound, None, 10).await.unwrap()), vec!["R102"]);
    assert_eq!(s.count_members(&MemberFilter { bound: Some(false), ..Default::default() }).await.unwrap(), 3);
    let blocked = MemberFilter { unreachable_only: true, ..Default::default() };
    assert_eq!(nos(s.members_page(&blocked, None, 10).await.unwrap()), vec!["R102"]);
    let counts = s.member_counts().await.unwrap();
    assert_eq!((counts.total, counts.bound, counts.unreachable), (4, 1, 1));
    let (workstations, sectors) = s.roster_facets().await.unwrap();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(workstations, sorted(vec!["塘桥".into(), "花木".into()]), "each sorted (by code point)");
    assert_eq!(sectors, sorted(vec!["教育界".into(), "经济界".into()]));
    let literal = MemberFilter { search: "%".into(), ..Default::default() };
    assert_eq!(s.count_members(&literal).await.unwrap(), 0, "a wildcard is searched as itself");
}

pub async fn topic_status_and_update_keep_one_pinned(b: &Backend) {
    let s = &*b.store;
    let t = |title: &str, pinned| NewTopic {
        title: title.into(),
        description: "说明".into(),
        class: TopicClass::Legislation,
        form: String::new(),
        closes_at: None,
        pinned,
    };
    let a = s.add_topic(t("A", true), t0()).await.unwrap();
    let c = s.add_topic(t("C", false), t0()).await.unwrap();
    let updated = s.update_topic(c.id, t("C2", true), t0()).await.unwrap().unwrap();
    assert_eq!((updated.title.as_str(), updated.pinned, updated.class), ("C2", true, TopicClass::Legislation));
    assert!(!s.topic(a.id).await.unwrap().unwrap().pinned, "pinning it unpins the others");
    assert_eq!(s.update_topic(987_654, t("X", false), t0()).await.unwrap(), None);
    assert!(s.set_topic_status(c.id, TopicStatus::Closed, t0()).await.unwrap());
    let closed = s.topic(c.id).await.unwrap().unwrap();
    assert_eq!((closed.status, closed.pinned), (TopicStatus::Closed, false), "closing also unpins");
    assert!(!s.set_topic_status(c.id, TopicStatus::Closed, t0()).await.unwrap(), "already closed");
    assert!(!s.set_topic_status(987_654, TopicStatus::Open, t0()).await.unwrap(), "no such topic");
    assert!(s.set_topic_status(c.id, TopicStatus::Open, t0()).await.unwrap());
    assert_eq!(s.open_topics(t0()).await.unwrap().len(), 2);
}

/// Counts per state in a fixed order (the trait promises no order), to compare.
pub fn by_code(mut counts: Vec<(SuggestionState, i64)>) -> Vec<(SuggestionState, i64)> {
    counts.sort_by_key(|(state, _)| state.code());
    counts
}
