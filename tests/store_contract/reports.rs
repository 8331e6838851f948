//! The dashboard, a topic's answers by workstation, and the audiences a broadcast can choose.

use chrono::Duration;
use jianyan::domain::{MemberLevel, MemberNo, SuggestionKind, SuggestionState, TopicClass};
use jianyan::store::reports::Scope;
use jianyan::store::{Audience, AudienceKind, ChangeOp, NewTopic, Store};

use crate::backends::Backend;
use crate::fixtures::*;
use crate::reads::by_code;

async fn by_no(s: &dyn Store, no: &str) -> jianyan::store::Member {
    s.member_by_no(&MemberNo::parse(no).unwrap()).await.unwrap().unwrap()
}

pub async fn dashboard_counts_within_its_scope(b: &Backend) {
    let s = &*b.store;
    s.import_members(&[row("D001", "甲", Some("塘桥"), "经济界"), row("D002", "乙", Some("花木"), "教育界")], t0())
        .await
        .unwrap();
    let (m1, m2) = (by_no(s, "D001").await, by_no(s, "D002").await);
    let topic = s
        .add_topic(
            NewTopic {
                title: "议题一".into(),
                description: String::new(),
                class: TopicClass::Livelihood,
                form: String::new(),
                closes_at: None,
                pinned: false,
            },
            t0(),
        )
        .await
        .unwrap();
    let d1 = s.add_department("区教育局", None).await.unwrap();
    let d2 = s.add_department("区卫健委", None).await.unwrap();
    // m1: one assigned to d1 and overdue, one assigned to d2 (due later); m2: one on the topic,
    // withdrawn, and one opinion; the preview's test member: one, never counted.
    let (late, _) = assigned(s, m1.id, d1.id, t0() - Duration::days(2)).await;
    let (fine, _) = assigned(s, m1.id, d2.id, t0() + Duration::days(2)).await;
    let mut on_topic = new_suggestion(m2.id, 2026);
    on_topic.topic_id = Some(topic.id);
    let (withdrawn, _) = submit_at(s, on_topic, t0()).await;
    done(
        s.apply_change(change(withdrawn, SuggestionState::Submitted, SuggestionState::Withdrawn, "withdrawn"), t0())
            .await
            .unwrap(),
    );
    let mut opinion = new_suggestion(m2.id, 2026);
    opinion.kind = SuggestionKind::PublicOpinion;
    opinion.topic_id = Some(topic.id);
    submit_at(s, opinion, t0()).await;
    let preview = s.preview_member(1, "预览", t0()).await.unwrap();
    submit(s, preview.id, 2026).await;
    // d2 replies to its suggestion a day after it was assigned; it is adopted.
    let mut reply = change(fine, SuggestionState::Assigned, SuggestionState::Replied, "replied");
    reply.ops = vec![
        ChangeOp::Reply {
            department_id: d2.id,
            reply_class: "A".into(),
            text: "答复".into(),
            document: None,
            letter: None,
        },
        ChangeOp::Adopt,
    ];
    done(s.apply_change(reply, t0() + Duration::days(1)).await.unwrap());

    let all = s.dashboard(Scope::All, t0()).await.unwrap();
    assert_eq!(
        by_code(all.by_state),
        by_code(vec![
            (SuggestionState::Submitted, 1),
            (SuggestionState::Withdrawn, 1),
            (SuggestionState::Assigned, 1),
            (SuggestionState::Replied, 1)
        ]),
        "test members left out"
    );
    let mut kinds = all.by_kind.clone();
    kinds.sort_by_key(|(k, _)| k.code());
    assert_eq!(kinds, vec![(SuggestionKind::Advice, 2), (SuggestionKind::PublicOpinion, 1)], "withdrawn left out");
    assert_eq!(all.by_topic, vec![(None, 2), (Some("议题一".to_string()), 1)], "the largest first");
    assert_eq!(all.by_workstation, vec![(Some("塘桥".to_string()), 2), (Some("花木".to_string()), 1)]);
    assert_eq!(all.overdue.iter().map(|o| (o.suggestion_id, o.lead)).collect::<Vec<_>>(), vec![(late, true)]);
    assert_eq!(all.answer_times, vec![(t0(), t0() + Duration::days(1))], "assigned, then first replied");
    assert_eq!((all.adopted, all.accepted_or_later), (1, 2));
    let d1_view = s.dashboard(Scope::Department(d1.id), t0()).await.unwrap();
    assert_eq!(d1_view.by_state, vec![(SuggestionState::Assigned, 1)], "only what is assigned to it");
    assert_eq!(d1_view.overdue.len(), 1);
    assert!(d1_view.answer_times.is_empty());
    let d2_view = s.dashboard(Scope::Department(d2.id), t0()).await.unwrap();
    assert!(d2_view.overdue.is_empty(), "only its own overdue assignments");
    assert_eq!((d2_view.adopted, d2_view.answer_times.len()), (1, 1));

    let answers = s.topic_by_workstation(topic.id).await.unwrap();
    let mut got: Vec<(String, i64, i64, i64)> =
        answers.into_iter().map(|a| (a.name, a.members, a.suggestions, a.points)).collect();
    got.sort();
    assert_eq!(got, vec![("塘桥".into(), 0, 0, 0), ("花木".into(), 1, 1, 2)], "every workstation; withdrawn left out");
}

/// On equal counts the dashboard lists suggestions without a topic before the topics, and those
/// of members without a workstation before the workstations.
pub async fn dashboard_ties_list_no_topic_and_no_workstation_first(b: &Backend) {
    let s = &*b.store;
    s.import_members(&[row("D101", "甲", Some("塘桥"), "经济界"), row("D102", "乙", None, "教育界")], t0())
        .await
        .unwrap();
    let (with_station, without) = (by_no(s, "D101").await, by_no(s, "D102").await);
    let topic = s
        .add_topic(
            NewTopic {
                title: "议题二".into(),
                description: String::new(),
                class: TopicClass::Livelihood,
                form: String::new(),
                closes_at: None,
                pinned: false,
            },
            t0(),
        )
        .await
        .unwrap();
    let mut on_topic = new_suggestion(with_station.id, 2026);
    on_topic.topic_id = Some(topic.id);
    submit_at(s, on_topic, t0()).await;
    submit(s, without.id, 2026).await;
    let all = s.dashboard(Scope::All, t0()).await.unwrap();
    assert_eq!(all.by_topic, vec![(None, 1), (Some("议题二".to_string()), 1)]);
    assert_eq!(all.by_workstation, vec![(None, 1), (Some("塘桥".to_string()), 1)]);
}

pub async fn audience_options_count_whom_they_reach(b: &Backend) {
    let s = &*b.store;
    let mut street = row("A001", "甲", Some("塘桥"), "经济界");
    street.level = MemberLevel::Street;
    s.import_members(
        &[street, row("A002", "乙", Some("塘桥"), "教育界"), row("A003", "丙", Some("花木"), "教育界")],
        t0(),
    )
    .await
    .unwrap();
    for (no, account) in [("A001", 1701), ("A002", 1702)] {
        let m = by_no(s, no).await;
        s.create_invite(m.id, &format!("code-{no}"), t0(), t0() + Duration::days(1)).await.unwrap();
        s.redeem_invite(&format!("code-{no}"), account, account, None, t0()).await.unwrap();
    }
    let all = s.audience_options(AudienceKind::All).await.unwrap();
    assert_eq!(all.iter().map(|o| (o.audience.clone(), o.reachable)).collect::<Vec<_>>(), vec![(Audience::All, 2)]);
    let levels = s.audience_options(AudienceKind::Level).await.unwrap();
    let reach = |l| levels.iter().find(|o| o.audience == Audience::Level(l)).map(|o| o.reachable);
    assert_eq!(
        (reach(MemberLevel::City), reach(MemberLevel::District), reach(MemberLevel::Street)),
        (Some(0), Some(1), Some(1))
    );
    let stations = s.audience_options(AudienceKind::Workstation).await.unwrap();
    let mut got: Vec<(String, i64)> = stations.iter().map(|o| (o.label.clone(), o.reachable)).collect();
    got.sort();
    assert_eq!(got, vec![("塘桥".into(), 2), ("花木".into(), 0)], "also one nobody can be reached in yet");
    for o in &stations {
        assert_eq!(s.audience_reach(&o.audience).await.unwrap(), o.reachable, "{}", o.label);
    }
    let sectors = s.audience_options(AudienceKind::Sector).await.unwrap();
    let mut got: Vec<(String, i64)> = sectors.iter().map(|o| (o.label.clone(), o.reachable)).collect();
    got.sort();
    let mut want = vec![("教育界".to_string(), 1), ("经济界".to_string(), 1)];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(s.audience_reach(&Audience::Sector("教育界".into())).await.unwrap(), 1);
}
