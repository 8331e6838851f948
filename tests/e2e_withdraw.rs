//! End to end, the member's 撤回 from 我的建言: the button on a suggestion staff have not decided
//! on, the confirmation, the new state for the member, the timeline and staff's notice; a stale
//! tap after staff accepted is refused politely.

mod support;

use support::fake_telegram::TgUser;
use support::harness::{TestBot, joined, last};

struct People {
    member: TgUser,
    staff: TgUser,
}

async fn people(bot: &TestBot) -> People {
    let p = People { member: TgUser::new(90001, "三"), staff: TgUser::new(80001, "晓") };
    bot.register(&p.member, "PD001").await;
    bot.register_staff(&p.staff, "王晓").await;
    p
}

#[tokio::test]
async fn a_member_withdraws_a_submitted_suggestion_after_confirming() {
    let bot = TestBot::start().await;
    let p = people(&bot).await;
    bot.submit(&p.member, "建言资政", "关于加强社区养老服务的建议", &["增加社区日间照料中心"]).await;
    let list = bot.say(&p.member, "/my").await;
    let shown = bot.tap(&p.member, last(&list), "关于加强社区养老").await;
    assert!(last(&shown).button_texts().iter().any(|b| b.contains("撤回")), "{:?}", last(&shown).buttons);

    let asked = bot.tap(&p.member, last(&shown), "撤回").await;
    assert!(last(&asked).text.contains("撤回后不可恢复"), "{}", joined(&asked));
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'withdrawn'").await, 0, "only asked");

    let staff_before = bot.fake.sent_to(p.staff.chat_id()).len();
    let done = bot.tap(&p.member, last(&asked), "确认撤回").await;
    assert!(joined(&done).contains("已撤回"), "the member sees the new state: {}", joined(&done));
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'withdrawn'").await, 1);
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM timeline_events WHERE event = 'withdrawn' AND actor_kind = 'member'").await,
        1
    );
    let staff_new = bot.fake.sent_to(p.staff.chat_id()).split_off(staff_before);
    assert!(
        staff_new.iter().any(|m| m.text.contains("撤回了建言") && m.text.contains("张三")),
        "staff are told: {}",
        joined(&staff_new)
    );

    // Shown again: no 撤回 any more; the same confirmation tapped twice is refused politely.
    let list = bot.say(&p.member, "/my").await;
    let shown = bot.tap(&p.member, last(&list), "关于加强社区养老").await;
    assert!(last(&shown).text.contains("已撤回"), "{}", last(&shown).text);
    assert!(!last(&shown).button_texts().iter().any(|b| b.contains("撤回")), "{:?}", last(&shown).buttons);
    let again = bot.tap(&p.member, last(&asked), "确认撤回").await;
    assert!(joined(&again).contains("不能进行这项操作"), "{}", joined(&again));
    assert_eq!(bot.count("SELECT COUNT(*) FROM timeline_events WHERE event = 'withdrawn'").await, 1);
}

#[tokio::test]
async fn a_stale_withdraw_after_staff_accepted_is_refused_politely() {
    let bot = TestBot::start().await;
    let p = people(&bot).await;
    let staff_before = bot.fake.sent_to(p.staff.chat_id()).len();
    bot.submit(&p.member, "建言资政", "关于优化公交线路的建议", &["增开夜间公交"]).await;
    let alert = bot.fake.sent_to(p.staff.chat_id()).split_off(staff_before);
    let list = bot.say(&p.member, "/my").await;
    let shown = bot.tap(&p.member, last(&list), "关于优化公交线路").await;
    let asked = bot.tap(&p.member, last(&shown), "撤回").await;

    bot.tap(&p.staff, last(&alert), "受理").await;
    let refused = bot.tap(&p.member, last(&asked), "确认撤回").await;
    let text = joined(&refused);
    assert!(text.contains("已受理") && text.contains("不能进行这项操作"), "{text}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'accepted'").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM timeline_events WHERE event = 'withdrawn'").await, 0);

    // An accepted suggestion offers no 撤回.
    let shown = bot.tap(&p.member, last(&list), "关于优化公交线路").await;
    assert!(!last(&shown).button_texts().iter().any(|b| b.contains("撤回")), "{:?}", last(&shown).buttons);
}
