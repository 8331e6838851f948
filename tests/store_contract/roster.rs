//! The roster, invites, reachability and topics.

use chrono::Duration;
use jianyan::domain::{MemberNo, TopicClass, TopicStatus};
use jianyan::store::{Identity, ImportSummary, InviteTarget, NewTopic, Redeemed, Store};

use crate::backends::Backend;
use crate::fixtures::*;

/// Members in member-number order (`members` promises no order), to compare.
fn by_number(mut members: Vec<jianyan::store::Member>) -> Vec<jianyan::store::Member> {
    members.sort_by(|a, b| a.member_no.as_str().cmp(b.member_no.as_str()));
    members
}

pub async fn import_members_twice_changes_nothing(b: &Backend) {
    let s = &*b.store;
    let rows = vec![
        row("R001", "张三", Some("塘桥"), "经济界"),
        row("R002", "李四", Some("陆家嘴"), "教育界"),
        row("R003", "王五", None, "经济界"),
    ];
    let first = s.import_members(&rows, t0()).await.unwrap();
    assert_eq!(first, ImportSummary { inserted: 3, updated: 0, workstations_created: 2 });
    // A member binds Telegram between the two imports: importing again must not undo it.
    let code = "code-R001";
    let r001 = s.member_by_no(&MemberNo::parse("R001").unwrap()).await.unwrap().unwrap();
    s.create_invite(r001.id, code, t0(), t0() + Duration::days(1)).await.unwrap();
    s.redeem_invite(code, 701, 701, None, t0()).await.unwrap();
    let members = by_number(s.members().await.unwrap());
    let workstations = s.workstations().await.unwrap();
    let second = s.import_members(&rows, t0() + Duration::hours(1)).await.unwrap();
    assert_eq!(second, ImportSummary { inserted: 0, updated: 3, workstations_created: 0 });
    assert_eq!(by_number(s.members().await.unwrap()), members, "the same rows again change no member");
    assert_eq!(s.workstations().await.unwrap(), workstations, "nor a workstation");
    assert_eq!(members.iter().map(|m| m.member_no.as_str()).collect::<Vec<_>>(), vec!["R001", "R002", "R003"]);
    assert_eq!(members[0].telegram_user_id, Some(701));
    assert_eq!(members[0].workstation.as_deref(), Some("塘桥"));
    assert_eq!(s.member_by_telegram(701).await.unwrap().map(|m| m.id), Some(r001.id));
}

pub async fn import_members_updates_by_member_number(b: &Backend) {
    let s = &*b.store;
    s.import_members(&[row("R010", "张三", Some("塘桥"), "经济界")], t0()).await.unwrap();
    let before = s.member_by_no(&MemberNo::parse("R010").unwrap()).await.unwrap().unwrap();
    let summary = s
        .import_members(&[row("R010", "张三丰", Some("花木"), "科技界"), row("R011", "李四", None, "")], t0())
        .await
        .unwrap();
    assert_eq!(summary, ImportSummary { inserted: 1, updated: 1, workstations_created: 1 });
    let after = s.member_by_no(&MemberNo::parse("R010").unwrap()).await.unwrap().unwrap();
    assert_eq!(after.id, before.id, "the same member, by number");
    assert_eq!(
        (after.name.as_str(), after.workstation.as_deref(), after.sector.as_str()),
        ("张三丰", Some("花木"), "科技界")
    );
    assert_eq!(s.member_by_id(after.id).await.unwrap(), Some(after));
    assert_eq!(s.members().await.unwrap().len(), 2);
}

pub async fn redeem_invite_answers_every_case(b: &Backend) {
    let s = &*b.store;
    let now = t0();
    let a = member(s, "I001").await;
    let c = member(s, "I002").await;
    let d = member(s, "I003").await;
    let e = member(s, "I004").await;
    s.create_invite(a.id, "code-a", now, now + Duration::days(7)).await.unwrap();
    s.create_invite(c.id, "code-c", now, now + Duration::days(7)).await.unwrap();
    s.create_invite(d.id, "code-d", now - Duration::days(8), now - Duration::days(1)).await.unwrap();
    s.create_invite(e.id, "code-e", now, now + Duration::days(7)).await.unwrap();

    assert_eq!(s.redeem_invite("no-such-code", 801, 801, None, now).await.unwrap(), Redeemed::Unknown);
    assert_eq!(s.redeem_invite("code-d", 801, 801, None, now).await.unwrap(), Redeemed::Expired);
    let bound = s.redeem_invite("code-a", 801, 801, Some("zh-hans"), now).await.unwrap();
    let Redeemed::Bound(Identity::Member(m)) = &bound else { panic!("bound: {bound:?}") };
    assert_eq!((m.id, m.telegram_user_id), (a.id, Some(801)));
    assert_eq!(s.identity_by_telegram(801).await.unwrap(), Some(Identity::Member(m.clone())));
    // The same account sends the same code again (a replayed message): nothing changes.
    let again = s.redeem_invite("code-a", 801, 801, Some("zh-hans"), now).await.unwrap();
    assert_eq!(again, Redeemed::AlreadyBound(Identity::Member(m.clone())));
    // Someone else with a used code.
    assert_eq!(s.redeem_invite("code-a", 802, 802, None, now).await.unwrap(), Redeemed::Used);
    assert_eq!(s.member_by_id(a.id).await.unwrap().unwrap().telegram_user_id, Some(801), "still the first account");
    // An account already bound to someone else.
    assert_eq!(s.redeem_invite("code-c", 801, 801, None, now).await.unwrap(), Redeemed::AccountTaken);
    assert_eq!(s.member_by_id(c.id).await.unwrap().unwrap().telegram_user_id, None, "nothing bound");
    let later = s.redeem_invite("code-c", 803, 803, None, now).await.unwrap();
    assert!(
        matches!(later, Redeemed::Bound(Identity::Member(ref m)) if m.id == c.id),
        "the code is still good: {later:?}"
    );
    // An inactive member.
    b.outside.deactivate_member(e.id).await;
    assert_eq!(s.redeem_invite("code-e", 804, 804, None, now).await.unwrap(), Redeemed::Inactive);
    assert_eq!(s.member_by_telegram(804).await.unwrap(), None);
    assert_eq!(s.identity_by_telegram(899).await.unwrap(), None);
}

pub async fn invites_bind_staff_and_liaisons(b: &Backend) {
    let s = &*b.store;
    let now = t0();
    let staff = s.add_staff("王秘书", now).await.unwrap();
    let dept = s.add_department("区住建委", Some("住建委")).await.unwrap();
    let liaison = s.add_liaison(dept.id, "赵联络", now).await.unwrap();
    assert_eq!((liaison.department_id, liaison.department_name.as_str()), (dept.id, "区住建委"));
    s.create_invite_for(InviteTarget::Staff(staff.id), "code-s", now, now + Duration::days(1)).await.unwrap();
    s.create_invite_for(InviteTarget::Liaison(liaison.id), "code-l", now, now + Duration::days(1)).await.unwrap();
    assert!(s.staff_recipients().await.unwrap().is_empty());
    let r = s.redeem_invite("code-s", 901, 901, Some("zh"), now).await.unwrap();
    assert!(
        matches!(r, Redeemed::Bound(Identity::Staff(ref x)) if x.id == staff.id && x.telegram_user_id == Some(901))
    );
    let r = s.redeem_invite("code-l", 902, 902, None, now).await.unwrap();
    assert!(matches!(r, Redeemed::Bound(Identity::Liaison(ref x)) if x.id == liaison.id));
    let staff_chats: Vec<(i64, Option<String>)> =
        s.staff_recipients().await.unwrap().into_iter().map(|r| (r.chat_id, r.language)).collect();
    assert_eq!(staff_chats, vec![(901, Some("zh".to_string()))]);
    assert_eq!(s.liaison_recipients(dept.id).await.unwrap().iter().map(|r| r.chat_id).collect::<Vec<_>>(), vec![902]);
    assert!(matches!(s.identity_by_telegram(902).await.unwrap(), Some(Identity::Liaison(_))));
    // One Telegram account is one person, across members, staff and liaisons.
    let m = member(s, "I010").await;
    s.create_invite(m.id, "code-m", now, now + Duration::days(1)).await.unwrap();
    assert_eq!(s.redeem_invite("code-m", 901, 901, None, now).await.unwrap(), Redeemed::AccountTaken);
    // Departments: found by name or short name; adding one again keeps it.
    assert_eq!(s.department_by_name("住建委").await.unwrap().map(|d| d.id), Some(dept.id));
    assert_eq!(s.add_department("区住建委", None).await.unwrap().id, dept.id);
    assert_eq!(s.department(dept.id).await.unwrap().and_then(|d| d.short_name).as_deref(), Some("住建委"));
}

pub async fn set_reachable_marks_and_unmarks(b: &Backend) {
    let s = &*b.store;
    let m = bound_member(s, "U001", 1001, None).await;
    bound_member(s, "U002", 1002, None).await;
    let all = jianyan::store::Audience::All;
    assert_eq!(s.audience_reach(&all).await.unwrap(), 2);
    s.set_reachable(1001, false, t0()).await.unwrap();
    s.set_reachable(1001, false, t0() + Duration::hours(1)).await.unwrap();
    let unreachable = s.unreachable_members().await.unwrap();
    assert_eq!(
        unreachable.iter().map(|(x, at)| (x.id, *at)).collect::<Vec<_>>(),
        vec![(m.id, t0())],
        "noticed once, when first"
    );
    assert_eq!(s.audience_reach(&all).await.unwrap(), 1, "a broadcast does not reach them");
    assert_eq!(s.totals(t0()).await.unwrap().unreachable_members, 1);
    s.set_reachable(1001, true, t0()).await.unwrap();
    assert!(s.unreachable_members().await.unwrap().is_empty());
    assert_eq!(s.audience_reach(&all).await.unwrap(), 2);
    // An account that is no member changes nothing.
    s.set_reachable(5555, false, t0()).await.unwrap();
    assert!(s.unreachable_members().await.unwrap().is_empty());
}

fn topic(title: &str, pinned: bool, closes_in: Option<Duration>) -> NewTopic {
    NewTopic {
        title: title.into(),
        description: String::new(),
        class: TopicClass::Livelihood,
        form: String::new(),
        closes_at: closes_in.map(|d| t0() + d),
        pinned,
    }
}

pub async fn open_topics_pinned_first_then_newest(b: &Backend) {
    let s: &dyn Store = &*b.store;
    let a = s.add_topic(topic("A", false, None), t0()).await.unwrap();
    let p = s.add_topic(topic("P", true, None), t0()).await.unwrap();
    let c = s.add_topic(topic("C", false, Some(Duration::days(1))), t0()).await.unwrap();
    let ended = s.add_topic(topic("D", false, Some(-Duration::hours(1))), t0()).await.unwrap();
    assert_eq!(a.status, TopicStatus::Open);
    let titles = |ts: Vec<jianyan::store::Topic>| ts.into_iter().map(|t| t.title).collect::<Vec<_>>();
    assert_eq!(
        titles(s.open_topics(t0()).await.unwrap()),
        vec!["P", "C", "A"],
        "pinned, then newest; not past closing"
    );
    assert_eq!(titles(s.open_topics(t0() + Duration::days(2)).await.unwrap()), vec!["P", "A"]);
    assert!(s.close_topic(c.id, t0()).await.unwrap());
    assert!(!s.close_topic(c.id, t0()).await.unwrap(), "already closed");
    assert!(!s.close_topic(987_654, t0()).await.unwrap(), "no such topic");
    assert_eq!(s.topic(c.id).await.unwrap().unwrap().status, TopicStatus::Closed);
    assert_eq!(titles(s.open_topics(t0()).await.unwrap()), vec!["P", "A"]);
    // Pinning another unpins the first.
    let q = s.add_topic(topic("Q", true, None), t0()).await.unwrap();
    assert!(!s.topic(p.id).await.unwrap().unwrap().pinned);
    assert_eq!(titles(s.open_topics(t0()).await.unwrap()), vec!["Q", "P", "A"]);
    assert_eq!(s.topics().await.unwrap().len(), 5, "closed and ended ones are still topics");
    assert_eq!(s.topic(q.id).await.unwrap().map(|t| t.pinned), Some(true));
    assert!(s.topic(ended.id).await.unwrap().is_some());
}
