//! End to end, 督办 review of replies and 会签 by co-departments (issue 12, parts 2 and 3): a member,
//! staff and department liaisons use the real bot through the fake Telegram server, staff and
//! departments the real console; we assert what each of them sees and what the database holds.
//!
//! Every test here turns `workflow.review_replies` on (the test harness turns it off for the tests
//! written before it); the 会签 tests turn `workflow.countersign` on too.

mod support;

use chrono::{NaiveDateTime, TimeZone};
use jianyan::domain::SuggestionState;
use jianyan::workflow::Command;
use support::console::Console;
use support::fake_telegram::{FakeConfig, SentMessage, TgUser};
use support::harness::{TestBot, joined, last};

const REVIEW_ON: (&str, &str) = ("JIANYAN_WORKFLOW__REVIEW_REPLIES", "true");
const COUNTERSIGN_ON: (&str, &str) = ("JIANYAN_WORKFLOW__COUNTERSIGN", "true");

/// Sets the bot's clock to a local (Shanghai) time, `2025-03-02 09:30`.
fn at(bot: &TestBot, local: &str) {
    let t = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    bot.clock.set(offset.from_local_datetime(&t).unwrap().with_timezone(&chrono::Utc));
}

struct People {
    member: TgUser,
    staff: TgUser,
    lead: TgUser,
    co: TgUser,
    co2: TgUser,
}

async fn people(bot: &TestBot) -> People {
    let p = People {
        member: TgUser::new(90001, "三"),
        staff: TgUser::new(80001, "晓"),
        lead: TgUser::new(70001, "陈"),
        co: TgUser::new(70002, "林"),
        co2: TgUser::new(70003, "赵"),
    };
    bot.register(&p.member, "PD001").await;
    bot.register_staff(&p.staff, "王晓").await;
    bot.register_liaison(&p.lead, "区教育局", "陈联络员").await;
    bot.register_liaison(&p.co, "区财政局", "林联络员").await;
    bot.register_liaison(&p.co2, "区绿化市容局", "赵联络员").await;
    p
}

/// How many messages each chat had, to see what one action sent to whom.
struct Watch(Vec<(i64, usize)>);

impl Watch {
    fn new(bot: &TestBot, p: &People) -> Self {
        Self(
            [&p.member, &p.staff, &p.lead, &p.co, &p.co2]
                .iter()
                .map(|u| (u.chat_id(), bot.fake.sent_to(u.chat_id()).len()))
                .collect(),
        )
    }

    fn new_for(&self, bot: &TestBot, user: &TgUser) -> Vec<SentMessage> {
        let before = self.0.iter().find(|(c, _)| *c == user.chat_id()).map(|(_, n)| *n).expect("a watched chat");
        bot.fake.sent_to(user.chat_id()).split_off(before)
    }
}

/// The member submits, staff accept and assign it (lead 区教育局, co-departments `co`), the lead
/// acknowledges it. Returns the lead's assignment push and each co-department's.
async fn assigned(bot: &TestBot, p: &People, co: &[&str]) -> (SentMessage, Vec<SentMessage>) {
    let w = Watch::new(bot, p);
    bot.submit(&p.member, "建言资政", "关于完善15分钟社区生活圈的建议", &["在每个街镇设立一站式便民服务中心。"]).await;
    let alert = w.new_for(bot, &p.staff);
    let accepted = bot.tap(&p.staff, last(&alert), "受理").await;
    let leads = bot.tap(&p.staff, last(&accepted), "交办").await;
    let mut step = bot.tap(&p.staff, last(&leads), "区教育局").await;
    for c in co {
        step = bot.tap(&p.staff, last(&step), c).await;
    }
    let deadline = bot.tap(&p.staff, last(&step), "下一步").await;
    let preview = bot.tap(&p.staff, last(&deadline), "默认").await;
    let w = Watch::new(bot, p);
    bot.tap(&p.staff, last(&preview), "确认交办").await;
    let lead_news = w.new_for(bot, &p.lead);
    let co_news: Vec<SentMessage> = [&p.co, &p.co2].iter().flat_map(|u| w.new_for(bot, u)).collect();
    let acked = bot.tap(&p.lead, &lead_news[0], "签收").await;
    (last(&acked).clone(), co_news)
}

/// The lead answers through its reply wizard, from a message with the 答复 button.
async fn reply(bot: &TestBot, p: &People, from: &SentMessage, class: &str, text: &str) -> Vec<SentMessage> {
    let classes = bot.tap(&p.lead, from, "答复").await;
    bot.tap(&p.lead, last(&classes), class).await;
    let ask_doc = bot.say(&p.lead, text).await;
    let preview = bot.tap(&p.lead, last(&ask_doc), "不附文件").await;
    bot.tap(&p.lead, last(&preview), "发送答复").await
}

async fn state(bot: &TestBot) -> String {
    bot.db.scalar("SELECT state FROM suggestions", &[]).await.text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_reaches_the_member_only_once_staff_approve_it() {
    let bot = TestBot::start_with(FakeConfig::default(), &[REVIEW_ON]).await;
    let p = people(&bot).await;
    let (acked, _) = assigned(&bot, &p, &[]).await;

    at(&bot, "2025-04-15 10:00");
    let w = Watch::new(&bot, &p);
    let sent = reply(&bot, &p, &acked, "A 已解决", "已列入2025年区政府实事项目。").await;
    assert_eq!(last(&sent).text, "📝 已提交 PD-2025-0001 的答复，区政协审核通过后发给委员。");
    assert!(w.new_for(&bot, &p.member).is_empty(), "the member hears nothing before approval");
    let review = w.new_for(&bot, &p.staff);
    assert_eq!(review.len(), 1, "{}", joined(&review));
    for part in ["答复待审 PD-2025-0001", "承办单位：区教育局", "答复分类：A 已解决或基本解决/采纳", "区政府实事项目"]
    {
        assert!(review[0].text.contains(part), "the staff's push lacks {part}: {}", review[0].text);
    }
    assert_eq!(review[0].button_texts(), vec!["✅ 通过", "🔤 改分类后通过", "↩️ 退回修改", "📝 领导批示", "⭐ 采纳"]);
    assert_eq!(state(&bot).await, "reply_review");
    assert_eq!(bot.count("SELECT COUNT(*) FROM replies").await, 0, "no reply the member could rate yet");

    // While it waits, the member sees 办理中 and not the reply; the department's to-do shows the step.
    let mine = bot.say(&p.member, "/my").await;
    assert!(joined(&mine).contains("办理中") && !joined(&mine).contains("答复待审"), "{}", joined(&mine));
    let todo = bot.say(&p.lead, "/todo").await;
    assert!(joined(&todo).contains("状态：答复待审"), "{}", joined(&todo));
    // The department cannot answer again meanwhile.
    let again = bot.tap(&p.lead, &acked, "答复").await;
    assert!(joined(&again).contains("答复待审"), "{}", joined(&again));
    // /review lists the waiting reply with its buttons.
    let queue = bot.say(&p.staff, "/review").await;
    assert!(queue[0].text.contains("待审答复1件"), "{}", joined(&queue));
    assert_eq!(queue[1].button_texts()[..3], ["✅ 通过", "🔤 改分类后通过", "↩️ 退回修改"]);

    at(&bot, "2025-04-16 09:00");
    let w = Watch::new(&bot, &p);
    let approved = bot.tap(&p.staff, &review[0], "通过").await;
    assert_eq!(last(&approved).text, "✅ 已通过 PD-2025-0001 的答复，已发给委员并通知承办单位。");
    let push = w.new_for(&bot, &p.member);
    assert_eq!(push.len(), 1, "{}", joined(&push));
    for part in ["当前状态：已答复", "区教育局 已答复", "答复分类：A 已解决或基本解决/采纳", "区政府实事项目"]
    {
        assert!(push[0].text.contains(part), "the member's push lacks {part}: {}", push[0].text);
    }
    assert_eq!(push[0].button_texts(), vec!["满意", "基本满意", "不满意"]);
    let told = w.new_for(&bot, &p.lead);
    assert_eq!(told.len(), 1);
    assert!(told[0].text.contains("已通过区政协审核"), "{}", told[0].text);
    assert_eq!(state(&bot).await, "replied");

    // A second tap does nothing twice; the member rates as always.
    let twice = bot.tap(&p.staff, &review[0], "通过").await;
    assert!(joined(&twice).contains("已答复"), "{}", joined(&twice));
    bot.tap(&p.member, &push[0], "满意").await;
    assert_eq!(state(&bot).await, "closed");
    let events = bot.db.texts("SELECT event FROM timeline_events ORDER BY id", &[]).await;
    let tail: Vec<&str> = events.iter().rev().take(4).rev().map(String::as_str).collect();
    assert_eq!(tail, ["reply_submitted", "reply_approved", "replied", "closed"]);
    // The member's timeline shows the reply as it reached them, and nothing of the review.
    let my = bot.say(&p.member, "/my").await;
    let detail = joined(&bot.tap(&p.member, last(&my), "PD-2025-0001").await);
    assert!(
        detail.contains("2025-04-16 09:00 承办单位答复：A 已解决或基本解决/采纳：已列入2025年区政府实事项目。"),
        "{detail}"
    );
    assert!(!detail.contains("审核") && !detail.contains("答复待审"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_approve_a_reply_under_another_class_with_a_reason() {
    let bot = TestBot::start_with(FakeConfig::default(), &[REVIEW_ON]).await;
    let p = people(&bot).await;
    let (acked, _) = assigned(&bot, &p, &[]).await;
    let w = Watch::new(&bot, &p);
    reply(&bot, &p, &acked, "A 已解决", "明年起分批建设便民服务中心。").await;
    let review = w.new_for(&bot, &p.staff);

    let ask = bot.tap(&p.staff, &review[0], "改分类后通过").await;
    assert!(last(&ask).text.contains("B 正在解决或列入计划"), "the classes are listed: {}", last(&ask).text);
    // An unknown class is refused and can be typed again.
    let wrong = bot.say(&p.staff, "X 不存在").await;
    assert!(joined(&wrong).contains("答复分类无效"), "{}", joined(&wrong));
    let w = Watch::new(&bot, &p);
    let done = bot.say(&p.staff, "B 尚未建成，属于列入计划").await;
    assert_eq!(last(&done).text, "✅ 已通过 PD-2025-0001 的答复，已发给委员并通知承办单位。");
    let push = w.new_for(&bot, &p.member);
    assert!(push[0].text.contains("答复分类：B 正在解决或列入计划"), "the member sees the new class: {}", push[0].text);
    let told = w.new_for(&bot, &p.lead);
    for part in ["由「A 已解决或基本解决/采纳」调整为「B 正在解决或列入计划」", "理由：尚未建成，属于列入计划"]
    {
        assert!(told[0].text.contains(part), "the department's news lacks {part}: {}", told[0].text);
    }
    assert_eq!(bot.db.scalar("SELECT reply_class FROM replies", &[]).await.text(), "B");
    let event = bot.db.scalar("SELECT text FROM timeline_events WHERE event = 'reply_reclassified'", &[]).await.text();
    assert_eq!(event, "A 已解决或基本解决/采纳 → B 正在解决或列入计划：尚未建成，属于列入计划");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_sent_back_is_revised_and_approved() {
    let bot = TestBot::start_with(FakeConfig::default(), &[REVIEW_ON]).await;
    let p = people(&bot).await;
    let (acked, _) = assigned(&bot, &p, &[]).await;
    let w = Watch::new(&bot, &p);
    reply(&bot, &p, &acked, "B 正在解决", "研究中。").await;
    let review = w.new_for(&bot, &p.staff);

    let ask = bot.tap(&p.staff, &review[0], "退回修改").await;
    assert!(last(&ask).text.contains("请发送修改意见"), "{}", last(&ask).text);
    let w = Watch::new(&bot, &p);
    let done = bot.say(&p.staff, "答复过于简单，请写明建设计划和时间表。").await;
    assert_eq!(last(&done).text, "↩️ 已把 PD-2025-0001 的答复退回承办单位修改。");
    assert!(w.new_for(&bot, &p.member).is_empty(), "the member hears nothing of it");
    let back = w.new_for(&bot, &p.lead);
    assert_eq!(back.len(), 1);
    assert!(back[0].text.contains("请写明建设计划和时间表"), "{}", back[0].text);
    assert!(back[0].button_texts().contains(&"✍️ 答复".to_string()), "{:?}", back[0].button_texts());
    assert_eq!(state(&bot).await, "in_progress");

    let w = Watch::new(&bot, &p);
    reply(&bot, &p, &back[0], "B 正在解决", "2025年在12个街镇试点，2026年底前全区推开。").await;
    assert!(w.new_for(&bot, &p.member).is_empty());
    let review = w.new_for(&bot, &p.staff);
    assert!(review[0].text.contains("2026年底前全区推开"), "{}", review[0].text);
    let w = Watch::new(&bot, &p);
    bot.tap(&p.staff, &review[0], "通过").await;
    let push = w.new_for(&bot, &p.member);
    assert_eq!(push.len(), 1);
    assert!(push[0].text.contains("2026年底前全区推开") && !push[0].text.contains("研究中"), "{}", push[0].text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM replies").await, 1, "only the approved reply is one");
    let statuses = bot.db.texts("SELECT status FROM reply_drafts ORDER BY id", &[]).await;
    assert_eq!(statuses, ["returned", "delivered"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn countersigned_by_two_co_departments_then_reviewed() {
    let bot = TestBot::start_with(FakeConfig::default(), &[REVIEW_ON, COUNTERSIGN_ON]).await;
    let p = people(&bot).await;
    let (acked, _) = assigned(&bot, &p, &["区财政局", "区绿化市容局"]).await;

    at(&bot, "2025-04-10 10:00");
    let w = Watch::new(&bot, &p);
    let sent = reply(&bot, &p, &acked, "B 正在解决", "拟于2025年在12个街镇试点。").await;
    assert!(last(&sent).text.contains("送协办单位会签"), "{}", last(&sent).text);
    assert!(w.new_for(&bot, &p.member).is_empty() && w.new_for(&bot, &p.staff).is_empty());
    let asks: Vec<SentMessage> = [&p.co, &p.co2].iter().flat_map(|u| w.new_for(&bot, u)).collect();
    assert_eq!(asks.len(), 2);
    for ask in &asks {
        for part in ["会签 PD-2025-0001", "主办单位区教育局", "2025-04-15", "12个街镇试点"] {
            assert!(ask.text.contains(part), "the countersign request lacks {part}: {}", ask.text);
        }
        assert_eq!(ask.button_texts(), vec!["✅ 同意", "✏️ 提修改意见"]);
    }
    assert_eq!(state(&bot).await, "countersigning");

    // The lead cannot send it on before both answered (deadline not passed).
    let early = bot.say(&p.lead, "/todo").await;
    assert!(joined(&early).contains("会签中"), "{}", joined(&early));

    let w = Watch::new(&bot, &p);
    let agreed = bot.tap(&p.co, &asks[0], "同意").await;
    assert_eq!(last(&agreed).text, "✅ 已把 PD-2025-0001 的会签意见发给主办单位。");
    let news = w.new_for(&bot, &p.lead);
    assert_eq!(news[0].text, "🖊 PD-2025-0001 会签：区财政局 同意");
    assert!(news[0].button_texts().is_empty());

    bot.tap(&p.co2, &asks[1], "提修改意见").await;
    let w = Watch::new(&bot, &p);
    bot.say(&p.co2, "建议写明绿化配套要求。").await;
    let news = w.new_for(&bot, &p.lead);
    assert!(news[0].text.contains("区绿化市容局 修改意见：建议写明绿化配套要求。"), "{}", news[0].text);
    assert_eq!(news[0].button_texts(), vec!["📤 送出答复"]);

    let w = Watch::new(&bot, &p);
    let on = bot.tap(&p.lead, &news[0], "送出答复").await;
    assert!(last(&on).text.contains("区政协审核通过后发给委员"), "{}", last(&on).text);
    assert!(w.new_for(&bot, &p.member).is_empty());
    let review = w.new_for(&bot, &p.staff);
    assert_eq!(review.len(), 1);
    let w = Watch::new(&bot, &p);
    bot.tap(&p.staff, &review[0], "通过").await;
    assert!(w.new_for(&bot, &p.member)[0].text.contains("12个街镇试点"));

    let done = bot.db.scalar("SELECT text FROM timeline_events WHERE event = 'countersign_done'", &[]).await.text();
    assert_eq!(done, "区财政局：同意；区绿化市容局：修改意见：建议写明绿化配套要求。");
    assert_eq!(bot.count("SELECT COUNT(*) FROM timeline_events WHERE event = 'countersigned'").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lead_sends_on_without_a_silent_co_department_once_the_deadline_passed() {
    // Without review: the countersigned reply goes straight to the member.
    let settings = [COUNTERSIGN_ON, ("JIANYAN_WORKFLOW__COUNTERSIGN_DAYS", "3")];
    let bot = TestBot::start_with(FakeConfig::default(), &settings).await;
    let p = people(&bot).await;
    let (acked, _) = assigned(&bot, &p, &["区财政局"]).await;
    at(&bot, "2025-04-10 10:00");
    reply(&bot, &p, &acked, "C 因条件限制", "受用地限制，暂不具备条件。").await;

    // No co-department answered: the lead's to-do offers to send it on, refused before the deadline.
    let todo = bot.say(&p.lead, "/todo").await;
    assert!(joined(&todo).contains("状态：会签中"), "{}", joined(&todo));
    let send_on = last(&todo).clone();
    assert_eq!(send_on.button_texts(), vec!["📤 送出答复"]);
    let facts = bot.store.facts(1).await.unwrap().unwrap();
    assert_eq!(facts.state, SuggestionState::Countersigning);
    let draft = facts.draft.expect("a draft being countersigned");
    assert_eq!(draft.countersign_deadline.map(|d| d.to_rfc3339()), Some("2025-04-13T02:00:00+00:00".to_string()));
    let early = bot.tap(&p.lead, &send_on, "送出答复").await;
    assert!(joined(&early).contains("还有协办单位没有会签"), "{}", joined(&early));
    at(&bot, "2025-04-13 10:01");
    let w = Watch::new(&bot, &p);
    let on = bot.tap(&p.lead, &send_on, "送出答复").await;
    assert!(last(&on).text.contains("委员会收到答复"), "{}", last(&on).text);
    let push = w.new_for(&bot, &p.member);
    assert!(push[0].text.contains("受用地限制") && push[0].text.contains("当前状态：已答复"), "{}", push[0].text);
    let done = bot.db.scalar("SELECT text FROM timeline_events WHERE event = 'countersign_done'", &[]).await.text();
    assert_eq!(done, "区财政局：未会签");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_reviews_replies_and_departments_cannot() {
    let c = Console::start_with(&[REVIEW_ON]).await;
    c.inbox_bind("PD001", 5001).await;
    let (id, reference) = c.inbox_assigned("关于加装电梯的建议", false).await;
    c.inbox_run_as("dept", id, Command::Acknowledge).await;
    let before = c.inbox_outbox(5001).await.len();
    let dept = c.login("dept").await;
    let page = c
        .post_confirmed(
            &format!("/suggestions/{id}/act/reply"),
            Some(&dept),
            &[("class", "A"), ("text", "已完成加装。")],
        )
        .await;
    assert!(page.status.is_redirection(), "{:?}", page.status);
    assert_eq!(c.inbox_state(id).await, SuggestionState::ReplyReview);
    assert_eq!(c.inbox_outbox(5001).await.len(), before, "nothing for the member yet");

    // The department sees the waiting reply but no review action; posting one is refused.
    let seen = c.get(&format!("/suggestions/{id}"), Some(&dept)).await;
    assert!(seen.body.contains("答复待审") && seen.body.contains("已完成加装。"), "{}", seen.body);
    assert!(!seen.body.contains("act-approve_reply"));
    let refused = c.post(&format!("/suggestions/{id}/act/approve_reply"), Some(&dept), &[]).await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.body);
    assert_eq!(c.inbox_state(id).await, SuggestionState::ReplyReview);

    // Staff see the same actions as in Telegram and reclassify it with a reason.
    let staff = c.login("staff").await;
    let page = c.get(&format!("/suggestions/{id}"), Some(&staff)).await;
    for form in ["act-approve_reply", "act-reclassify_reply", "act-return_reply"] {
        assert!(page.body.contains(form), "the staff's page lacks {form}");
    }
    let missing = c.post(&format!("/suggestions/{id}/act/reclassify_reply"), Some(&staff), &[("class", "B")]).await;
    assert_eq!(missing.status.as_u16(), 422, "a reason is needed");
    let done = c
        .post(
            &format!("/suggestions/{id}/act/reclassify_reply"),
            Some(&staff),
            &[("class", "B"), ("reason", "尚在施工")],
        )
        .await;
    assert!(done.status.is_redirection(), "{:?} {}", done.status, done.body);
    assert_eq!(c.inbox_state(id).await, SuggestionState::Replied);
    let pushed = c.inbox_outbox(5001).await;
    assert!(pushed.last().unwrap().contains("B 正在解决或列入计划"), "{pushed:?}");
    let page = c.get(&format!("/suggestions/{id}"), Some(&staff)).await;
    assert!(page.body.contains("尚在施工"), "the timeline shows the reason");
    assert!(c.inbox_audit_actions().await.iter().any(|a| a == &format!("suggestion.reclassify_reply {reference}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_posted_over_the_api_waits_for_review() {
    let c = Console::start_with(&[REVIEW_ON]).await;
    let (_, token) = c.api_token_for(c.department_id, "教育局办公系统").await;
    let (_, reference) = c.api_assigned("关于校园周边交通的建议", false).await;
    let answer = c
        .api(
            "POST",
            &format!("/api/v1/suggestions/{reference}/reply"),
            Some(&token),
            Some(r#"{"class":"A","text":"已增设护学岗。"}"#),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 200, "{}", answer.body);
    assert_eq!(answer.json["state"], "reply_review");
    assert_eq!(answer.json["state_label"], "答复待审");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_waiting_for_review_is_not_overdue_and_staff_see_it_in_their_digest() {
    let bot = TestBot::start_with(FakeConfig::default(), &[REVIEW_ON]).await;
    let p = people(&bot).await;
    let (acked, _) = assigned(&bot, &p, &[]).await;
    reply(&bot, &p, &acked, "A 已解决", "已在全区推开。").await;

    // Past the deadline (2025-06-01) and the digest hour: the department is not chased for a reply
    // it gave, and staff's digest lists the reply waiting for them.
    at(&bot, "2025-06-10 10:00");
    let before = bot.fake.sent_to(p.staff.chat_id()).len();
    let now = jianyan::clock::Clock::now(bot.clock.as_ref());
    let report = jianyan::reminders::tick(&bot.app, now).await.unwrap();
    assert_eq!((report.before, report.overdue, report.digest), (0, 0, Some(0)), "{report:?}");
    let digest = bot.fake.wait_for_new(p.staff.chat_id(), before, support::harness::WAIT).await;
    for part in
        ["待审核的答复（2025-06-10，共1条）", "PD-2025-0001《关于完善15分钟社区生活圈的建议》", "承办：区教育局"]
    {
        assert!(digest.text.contains(part), "the digest lacks {part}: {}", digest.text);
    }
    assert!(!digest.text.contains("逾期"), "nothing is overdue: {}", digest.text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM reminders").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn countersigning_and_review_in_the_console() {
    let c = Console::start_with(&[REVIEW_ON, COUNTERSIGN_ON]).await;
    c.inbox_bind("PD001", 5001).await;
    let (id, _) = c.inbox_assigned("关于老旧小区改造的建议", true).await;
    c.inbox_run_as("dept", id, Command::Acknowledge).await;
    let (lead, co, staff) = (c.login("dept").await, c.login("dept2").await, c.login("staff").await);
    let path = |act: &str| format!("/suggestions/{id}/act/{act}");
    let reply = [("class", "B"), ("text", "拟列入2026年改造计划。")];
    assert!(c.post_confirmed(&path("reply"), Some(&lead), &reply).await.status.is_redirection());
    assert_eq!(c.inbox_state(id).await, SuggestionState::Countersigning);

    // The co-department reads the draft with its two answers offered; the lead only sending on.
    let page = c.get(&format!("/suggestions/{id}"), Some(&co)).await;
    assert!(page.body.contains("会签中的答复") && page.body.contains("拟列入2026年改造计划。"), "{}", page.body);
    assert!(page.body.contains("act-countersign") && page.body.contains("act-propose_changes"));
    let page = c.get(&format!("/suggestions/{id}"), Some(&lead)).await;
    assert!(page.body.contains("act-send_on") && !page.body.contains("act-countersign"));
    let early = c.post(&path("send_on"), Some(&lead), &[]).await;
    assert_eq!(early.status.as_u16(), 422);
    assert!(early.body.contains("还有协办单位没有会签"), "{}", early.body);

    let proposed = c.post(&path("propose_changes"), Some(&co), &[("text", "请写明资金来源。")]).await;
    assert!(proposed.status.is_redirection(), "{:?} {}", proposed.status, proposed.body);
    let page = c.get(&format!("/suggestions/{id}"), Some(&co)).await;
    assert!(!page.body.contains("act-propose_changes"), "a co-department countersigns once");
    let page = c.get(&format!("/suggestions/{id}"), Some(&lead)).await;
    assert!(page.body.contains("修改意见：请写明资金来源。"), "{}", page.body);
    assert!(c.post(&path("send_on"), Some(&lead), &[]).await.status.is_redirection());
    assert_eq!(c.inbox_state(id).await, SuggestionState::ReplyReview);
    assert!(!c.inbox_outbox(5001).await.iter().any(|m| m.contains("改造计划")), "the member has nothing yet");

    assert!(c.post(&path("approve_reply"), Some(&staff), &[]).await.status.is_redirection());
    assert_eq!(c.inbox_state(id).await, SuggestionState::Replied);
    assert!(c.inbox_outbox(5001).await.last().unwrap().contains("拟列入2026年改造计划。"));
    let page = c.get(&format!("/suggestions/{id}"), Some(&staff)).await;
    for event in ["主办单位答复送会签", "协办单位会签", "会签完成，答复送出", "区政协审核通过答复"]
    {
        assert!(page.body.contains(event), "the timeline lacks {event}");
    }
}
