//! End to end, the closed loop (建言报送 — 批示抄告 — 意见办理 — 结果反馈): a member, staff and
//! department liaisons use the real bot through the fake Telegram server; we assert what each of
//! them sees and what the database holds.

mod support;

use chrono::{NaiveDateTime, TimeZone};
use support::fake_telegram::{SentMessage, TgUser};
use support::harness::{TestBot, joined, last};

/// Sets the bot's clock to a local (Shanghai) time, `2025-03-02 09:30`.
fn at(bot: &TestBot, local: &str) {
    let t = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    bot.clock.set(offset.from_local_datetime(&t).unwrap().with_timezone(&chrono::Utc));
}

/// Everyone who takes part, registered through `/start CODE`.
struct People {
    member: TgUser,
    other_member: TgUser,
    staff: TgUser,
    lead: TgUser,
    co: TgUser,
    other_dept: TgUser,
    stranger: TgUser,
}

async fn people(bot: &TestBot) -> People {
    let p = People {
        member: TgUser::new(90001, "三"),
        other_member: TgUser::new(90002, "四"),
        staff: TgUser::new(80001, "晓"),
        lead: TgUser::new(70001, "陈"),
        co: TgUser::new(70002, "林"),
        other_dept: TgUser::new(70003, "赵"),
        stranger: TgUser::new(99999, "路人"),
    };
    bot.register(&p.member, "PD001").await;
    bot.register(&p.other_member, "PD002").await;
    let hello = bot.register_staff(&p.staff, "王晓").await;
    assert!(hello.text.contains("王晓") && hello.text.contains("工作人员"), "{}", hello.text);
    assert_eq!(hello.reply_keyboard.concat(), vec!["📋 待审建言", "📊 统计", "📢 发布通知", "❓ 帮助"]);
    let (hello, _) = bot.register_liaison(&p.lead, "区教育局", "陈联络员").await;
    assert!(hello.text.contains("区教育局"), "{}", hello.text);
    assert_eq!(hello.reply_keyboard.concat(), vec!["📥 待办", "❓ 帮助"]);
    bot.register_liaison(&p.co, "区财政局", "林联络员").await;
    bot.register_liaison(&p.other_dept, "区绿化市容局", "赵联络员").await;
    p
}

/// How many messages each chat had, to see what one action sent to whom.
struct Watch(Vec<(i64, usize)>);

impl Watch {
    fn new(bot: &TestBot, users: &[&TgUser]) -> Self {
        Self(users.iter().map(|u| (u.chat_id(), bot.fake.sent_to(u.chat_id()).len())).collect())
    }

    fn new_for(&self, bot: &TestBot, user: &TgUser) -> Vec<SentMessage> {
        let before = self.0.iter().find(|(c, _)| *c == user.chat_id()).map(|(_, n)| *n).expect("a watched chat");
        bot.fake.sent_to(user.chat_id()).split_off(before)
    }
}

/// The member submits a one-point suggestion on the pinned topic; returns the staff's alert.
async fn submit(bot: &TestBot, p: &People, title: &str, point: &str) -> SentMessage {
    let topics = bot.say(&p.member, "/new").await;
    let kinds = bot.tap(&p.member, last(&topics), "📌").await;
    bot.tap(&p.member, last(&kinds), "建言资政").await;
    bot.say(&p.member, title).await;
    let noted = bot.say(&p.member, point).await;
    let preview = bot.tap(&p.member, last(&noted), "完成").await;
    let watch = Watch::new(bot, &[&p.staff]);
    let receipt = bot.tap(&p.member, last(&preview), "提交").await;
    assert!(last(&receipt).text.contains("提交成功"), "{}", joined(&receipt));
    let alert = watch.new_for(bot, &p.staff);
    assert_eq!(alert.len(), 1, "one alert for staff: {}", joined(&alert));
    alert[0].clone()
}

async fn text_of(bot: &TestBot, sql: &str) -> String {
    bot.db.scalar(sql, &[]).await.text()
}

/// Everything a workflow change could touch, as one string to compare before and after (on
/// either backend: the rows are read as they are and formatted here).
async fn snapshot(bot: &TestBot) -> String {
    let db = &bot.db;
    let suggestions = db.rows("SELECT id, state, merged_into, adopted_at, deadline FROM suggestions ORDER BY id", &[]);
    let suggestions = suggestions.await;
    let timeline = db.count("SELECT COUNT(*) FROM timeline_events").await;
    let assignments = db.rows("SELECT id, status, acknowledged_at FROM assignments ORDER BY id", &[]).await;
    let replies = db.count("SELECT COUNT(*) FROM replies").await;
    let ratings = db.count("SELECT COUNT(*) FROM ratings").await;
    let opinions = db.count("SELECT COUNT(*) FROM opinions").await;
    format!("{suggestions:?}|{timeline}|{assignments:?}|{replies}|{ratings}|{opinions}")
}

fn last_toast(bot: &TestBot) -> String {
    bot.fake.calls_of("answerCallbackQuery").last().expect("an answered button").body["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Walks the staff's assignment wizard from a message with the 交办 button: lead, co-departments,
/// default deadline, confirm. Returns the staff's confirmation.
async fn assign(bot: &TestBot, staff: &TgUser, from: &SentMessage, lead: &str, co: &[&str]) -> Vec<SentMessage> {
    let leads = bot.tap(staff, from, "交办").await;
    let mut step = bot.tap(staff, last(&leads), lead).await;
    for c in co {
        step = bot.tap(staff, last(&step), c).await;
        assert!(last(&step).button_texts().contains(&format!("✓ {c}")), "{c} is ticked: {:?}", last(&step).buttons);
    }
    let deadline = bot.tap(staff, last(&step), "下一步").await;
    let preview = bot.tap(staff, last(&deadline), "默认").await;
    bot.tap(staff, last(&preview), "确认交办").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_suggestion_s_whole_life() {
    let mut bot = TestBot::start().await;
    let p = people(&bot).await;
    let everyone = [&p.member, &p.staff, &p.lead, &p.co, &p.other_dept];

    // 1. The member submits; staff are alerted with the review buttons.
    let alert = submit(&bot, &p, "关于完善15分钟社区生活圈的建议", "在每个街镇设立一站式便民服务中心。").await;
    for part in ["PD-2025-0001", "关于完善15分钟社区生活圈的建议", "委员：张三", "建言资政", "1. 在每个街镇设立"]
    {
        assert!(alert.text.contains(part), "the alert lacks {part}: {}", alert.text);
    }
    // Only what a submitted suggestion allows: adopting comes after acceptance.
    assert_eq!(alert.button_texts(), vec!["✅ 受理", "❌ 不予受理", "🔗 并案", "📝 领导批示"]);

    // 2. Staff accept it the next morning: a line for staff with the next buttons, a push for the member.
    at(&bot, "2025-03-02 09:30");
    let w = Watch::new(&bot, &everyone);
    let accepted = bot.tap(&p.staff, &alert, "受理").await;
    assert_eq!(last(&accepted).text, "✅ 已受理 PD-2025-0001，已通知委员。接下来可以交办承办单位。");
    assert_eq!(last(&accepted).button_texts(), vec!["📤 交办", "🔗 并案", "📝 领导批示", "⭐ 采纳", "🔺 列为重点"]);
    assert_eq!(last_toast(&bot), last(&accepted).text);
    let push = w.new_for(&bot, &p.member);
    assert_eq!(push.len(), 1);
    assert!(
        push[0].text.contains("编号：PD-2025-0001") && push[0].text.contains("当前状态：已受理"),
        "{}",
        push[0].text
    );
    let edits = bot.fake.calls_of("editMessageReplyMarkup");
    assert_eq!(edits.last().unwrap().body["message_id"].as_i64(), Some(alert.message_id), "the alert's buttons go");

    // 3. Staff assign it: lead 区教育局, co 区财政局, the default deadline (3 months).
    at(&bot, "2025-03-03 14:00");
    let leads = bot.tap(&p.staff, last(&accepted), "交办").await;
    assert!(last(&leads).text.contains("请选择主办单位"), "{}", last(&leads).text);
    assert_eq!(last(&leads).button_texts(), vec!["区教育局", "区绿化市容局", "区财政局", "取消"]);
    let co = bot.tap(&p.staff, last(&leads), "区教育局").await;
    assert!(!last(&co).button_texts().contains(&"区教育局".to_string()), "the lead is not offered as co");
    let co = bot.tap(&p.staff, last(&co), "区财政局").await;
    assert!(last(&co).text.contains("已选：区财政局"), "{}", last(&co).text);
    let deadline = bot.tap(&p.staff, last(&co), "下一步").await;
    assert!(last(&deadline).text.contains("2025-06-03"), "{}", last(&deadline).text);
    // A date in the past is refused, the question stays.
    let past = bot.say(&p.staff, "2025-02-01").await;
    assert_eq!(past[0].text, "答复期限 2025-02-01 必须在今天之后，请重新发送。");
    let bad = bot.say(&p.staff, "下个月").await;
    assert!(bad[0].text.contains("不是有效的日期"), "{}", bad[0].text);
    let preview = bot.tap(&p.staff, last(&deadline), "默认").await;
    let pv = &last(&preview).text;
    for part in ["主办单位：区教育局", "协办单位：区财政局", "答复期限：2025-06-03"] {
        assert!(pv.contains(part), "the preview lacks {part}: {pv}");
    }
    let w = Watch::new(&bot, &everyone);
    let assigned = bot.tap(&p.staff, last(&preview), "确认交办").await;
    assert_eq!(
        last(&assigned).text,
        "📤 已交办 PD-2025-0001：主办 区教育局，协办 区财政局，答复期限 2025-06-03。已通知委员和承办单位。"
    );
    let push = w.new_for(&bot, &p.member);
    assert_eq!(push.len(), 1);
    for part in ["当前状态：已交办", "区教育局", "区财政局", "2025-06-03"] {
        assert!(push[0].text.contains(part), "the member's push lacks {part}: {}", push[0].text);
    }
    let lead_news = w.new_for(&bot, &p.lead);
    assert_eq!(lead_news.len(), 1);
    for part in ["新交办（主办）", "PD-2025-0001", "答复期限：2025-06-03", "协办单位：区财政局", "1. 在每个街镇"]
    {
        assert!(lead_news[0].text.contains(part), "the lead's news lacks {part}: {}", lead_news[0].text);
    }
    assert_eq!(lead_news[0].button_texts(), vec!["📥 签收", "✍️ 答复", "↩️ 退回"]);
    let co_news = w.new_for(&bot, &p.co);
    assert_eq!(co_news.len(), 1);
    assert!(co_news[0].text.contains("新交办（协办）") && co_news[0].text.contains("主办单位：区教育局"));
    assert_eq!(co_news[0].button_texts(), vec!["📥 签收", "✍️ 协办意见", "↩️ 退回"]);
    assert!(w.new_for(&bot, &p.other_dept).is_empty(), "another department hears nothing");

    // The lead's to-do list has it.
    let todo = bot.say(&p.lead, "📥 待办").await;
    assert_eq!(todo[0].text, "本单位待办建言共1篇：");
    assert!(last(&todo).text.contains("PD-2025-0001") && last(&todo).text.contains("未签收"), "{}", joined(&todo));

    // 4. The lead acknowledges: the member hears it is being worked on.
    at(&bot, "2025-03-05 09:00");
    let w = Watch::new(&bot, &everyone);
    let acked = bot.tap(&p.lead, &lead_news[0], "签收").await;
    assert_eq!(last(&acked).text, "📥 已签收 PD-2025-0001，已通知委员。办理后请点「答复」。");
    assert_eq!(last(&acked).button_texts(), vec!["✍️ 答复", "↩️ 退回"]);
    let push = w.new_for(&bot, &p.member);
    assert_eq!(push.len(), 1);
    assert!(push[0].text.contains("当前状态：办理中") && push[0].text.contains("区教育局 已签收"), "{}", push[0].text);

    // 5. The co-department sends its view; the lead sees it.
    at(&bot, "2025-03-10 16:00");
    let ask = bot.tap(&p.co, &co_news[0], "协办意见").await;
    assert!(last(&ask).text.contains("主办单位区教育局"), "{}", last(&ask).text);
    let w = Watch::new(&bot, &everyone);
    let sent = bot.say(&p.co, "建议纳入明年区级财政预算统筹安排。").await;
    assert_eq!(last(&sent).text, "✅ 已把 PD-2025-0001 的协办意见发给主办单位。");
    let view = w.new_for(&bot, &p.lead);
    assert_eq!(view.len(), 1);
    assert_eq!(view[0].text, "📎 PD-2025-0001 的协办意见（区财政局）：\n建议纳入明年区级财政预算统筹安排。");
    assert!(w.new_for(&bot, &p.member).is_empty(), "the co-department's view is not pushed to the member");

    // 6. The lead replies: class B, a text, no document.
    at(&bot, "2025-04-15 10:00");
    let classes = bot.tap(&p.lead, last(&acked), "答复").await;
    let c = last(&classes);
    assert!(c.text.contains("协办单位意见") && c.text.contains("区财政局：建议纳入明年"), "{}", c.text);
    assert_eq!(
        c.button_texts(),
        vec!["A 已解决或基本解决/采纳", "B 正在解决或列入计划", "C 因条件限制暂时不能解决", "D 留作参考", "取消"]
    );
    let ask_text = bot.tap(&p.lead, c, "B 正在解决").await;
    assert!(last(&ask_text).text.contains("答复分类：B 正在解决或列入计划"), "{}", last(&ask_text).text);
    let ask_doc = bot.say(&p.lead, "已列入2025年区政府实事项目，年内在12个街镇试点建设一站式便民服务中心。").await;
    let preview = bot.tap(&p.lead, last(&ask_doc), "不附文件").await;
    assert!(last(&preview).text.contains("年内在12个街镇试点"), "{}", last(&preview).text);
    let w = Watch::new(&bot, &everyone);
    let replied = bot.tap(&p.lead, last(&preview), "发送答复").await;
    assert_eq!(last(&replied).text, "✅ 已答复 PD-2025-0001，委员会收到答复并进行评价。");
    let push = w.new_for(&bot, &p.member);
    assert_eq!(push.len(), 1);
    let reply = push[0].clone();
    for part in ["当前状态：已答复", "区教育局 已答复", "答复分类：B 正在解决或列入计划", "年内在12个街镇试点"]
    {
        assert!(reply.text.contains(part), "the member's push lacks {part}: {}", reply.text);
    }
    assert_eq!(reply.button_texts(), vec!["满意", "基本满意", "不满意"]);

    // 7. The member is dissatisfied and says why: reopened (30 days); member, lead and staff are told.
    at(&bot, "2025-04-16 20:00");
    let ask_reason = bot.tap(&p.member, &reply, "不满意").await;
    assert_eq!(last(&ask_reason).text, bot.t("rating.ask_reason"));
    assert_eq!(last(&ask_reason).button_texts(), vec!["跳过"]);
    let w = Watch::new(&bot, &everyone);
    bot.say(&p.member, "试点范围太小，希望明确全区推开的时间表。").await;
    let push = w.new_for(&bot, &p.member);
    assert_eq!(push.len(), 1, "{}", joined(&push));
    assert!(push[0].text.contains("当前状态：重新办理") && push[0].text.contains("2025-05-16"), "{}", push[0].text);
    let lead_news = w.new_for(&bot, &p.lead);
    assert_eq!(lead_news.len(), 1);
    for part in ["PD-2025-0001", "不满意", "试点范围太小", "新的答复期限：2025-05-16"] {
        assert!(lead_news[0].text.contains(part), "the lead's news lacks {part}: {}", lead_news[0].text);
    }
    assert_eq!(lead_news[0].button_texts(), vec!["📥 签收", "✍️ 答复", "↩️ 退回"]);
    let staff_news = w.new_for(&bot, &p.staff);
    assert_eq!(staff_news.len(), 1);
    for part in ["PD-2025-0001", "区教育局", "不满意", "试点范围太小"] {
        assert!(staff_news[0].text.contains(part), "the staff's news lacks {part}: {}", staff_news[0].text);
    }
    assert!(w.new_for(&bot, &p.co).is_empty());
    // The old rating buttons are gone and no longer work.
    let edits = bot.fake.calls_of("editMessageReplyMarkup");
    assert!(edits.iter().any(|e| e.body["message_id"].as_i64() == Some(reply.message_id)), "rating buttons removed");
    let stale = bot.tap(&p.member, &reply, "满意").await;
    assert_eq!(stale[0].text, "这条建言目前的状态是「重新办理」，不能进行这项操作。");

    // 8. The lead replies again (class A), this time with a document; a document sent before the
    // text is refused, and the reply can be started over from the preview.
    at(&bot, "2025-05-06 11:00");
    let classes = bot.tap(&p.lead, &lead_news[0], "答复").await;
    bot.tap(&p.lead, last(&classes), "D 留作参考").await;
    let early = bot.handle(&p.lead, |f| f.push_document(&p.lead, "答复函.pdf", "application/pdf")).await;
    assert_eq!(early[0].text, bot.t("department.reply_text_first"));
    let ask_doc = bot.say(&p.lead, "先这样答复。").await;
    let preview = bot.tap(&p.lead, last(&ask_doc), "不附文件").await;
    let classes = bot.tap(&p.lead, last(&preview), "重写").await;
    bot.tap(&p.lead, last(&classes), "A 已解决").await;
    let ask_doc = bot.say(&p.lead, "经研究，将于2025年底前在全区36个街镇全面推开。").await;
    assert_eq!(last(&ask_doc).button_texts(), vec!["不附文件", "取消"]);
    let preview = bot.handle(&p.lead, |f| f.push_document(&p.lead, "答复函.pdf", "application/pdf")).await;
    let pv = &last(&preview).text;
    for part in ["答复分类：A 已解决或基本解决/采纳", "36个街镇", "附件：答复函.pdf"] {
        assert!(pv.contains(part), "the reply preview lacks {part}: {pv}");
    }
    assert!(!pv.contains("先这样答复"), "{pv}");
    let w = Watch::new(&bot, &everyone);
    bot.tap(&p.lead, last(&preview), "发送答复").await;
    let push = w.new_for(&bot, &p.member);
    assert_eq!(push.len(), 2, "the answer, then the department's file");
    let second = push[0].clone();
    assert!(push[1].method.eq_ignore_ascii_case("sendDocument"), "{:?}", push[1]);
    assert!(
        push[1].text.contains("PD-2025-0001") || push[1].raw.to_string().contains("PD-2025-0001"),
        "{:?}",
        push[1].raw
    );
    for part in ["答复分类：A 已解决或基本解决/采纳", "36个街镇", "（附答复文件）"] {
        assert!(second.text.contains(part), "the second answer lacks {part}: {}", second.text);
    }
    let document: String = text_of(&bot, "SELECT document FROM replies ORDER BY id DESC LIMIT 1").await;
    assert!(document.contains("答复函.pdf"), "{document}");
    // The first answer's buttons are stale now.
    let old = bot
        .handle(&p.member, |f| f.push_callback(&p.member, reply.message_id, &reply.callback_for("满意").unwrap()))
        .await;
    assert_eq!(old[0].text, bot.t("workflow.refused.stale_rating"));

    // 9. Satisfied: closed.
    at(&bot, "2025-05-07 08:00");
    let w = Watch::new(&bot, &everyone);
    bot.tap(&p.member, &second, "满意").await;
    assert_eq!(last_toast(&bot), bot.t("rating.thanks"));
    let push = w.new_for(&bot, &p.member);
    assert_eq!(push.len(), 1);
    assert!(push[0].text.contains("当前状态：已办结") && push[0].text.contains("（满意）"), "{}", push[0].text);
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'closed'").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM replies").await, 2);
    assert_eq!(bot.count("SELECT COUNT(*) FROM ratings").await, 2);

    // /my shows the timeline with every event a member sees, in order (co-department views are
    // between the departments, not shown to the member).
    let my = bot.say(&p.member, "/my").await;
    assert!(last(&my).text.contains("状态：已办结"), "{}", last(&my).text);
    let detail = bot.tap(&p.member, last(&my), "PD-2025-0001").await;
    let d = joined(&detail);
    let events = [
        "2025-03-01 10:00 委员提交",
        "2025-03-02 09:30 区政协受理",
        "2025-03-03 14:00 交办承办单位：区教育局",
        "2025-03-05 09:00 承办单位签收：区教育局",
        "2025-04-15 10:00 承办单位答复：B 正在解决或列入计划：已列入2025年",
        "2025-04-16 20:00 重新办理：不满意：试点范围太小",
        "2025-05-06 11:00 承办单位答复：A 已解决或基本解决/采纳：经研究",
        "2025-05-07 08:00 办结：满意",
    ];
    let mut at = 0;
    for e in events {
        let found = d[at..].find(e).unwrap_or_else(|| panic!("the timeline lacks «{e}» (in order): {d}"));
        at += found + e.len();
    }
    assert!(!d.contains("协办单位意见"), "{d}");
    assert_eq!(bot.count("SELECT COUNT(*) FROM updates WHERE error IS NOT NULL").await, 0, "no update failed");

    println!("--- transcript of the member ---\n{}", bot.fake.transcript(p.member.chat_id()));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_staff_and_department_buttons_are_refused_and_change_nothing() {
    let mut bot = TestBot::start().await;
    let p = people(&bot).await;
    // A: submitted. B: accepted and assigned to 区教育局 (lead) and 区财政局 (co).
    submit(&bot, &p, "建言甲", "第一条").await;
    let alert_b = submit(&bot, &p, "建言乙", "第一条").await;
    let accepted = bot.tap(&p.staff, &alert_b, "受理").await;
    assign(&bot, &p.staff, last(&accepted), "区教育局", &["区财政局"]).await;
    let (a, b) = (1, 2);
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE id = 2 AND state = 'assigned'").await, 1);
    let before = snapshot(&bot).await;

    let denied = bot.t("workflow.refused.denied");
    let not_found = bot.t("workflow.refused.not_found");
    let not_registered = bot.t("register.not_registered");
    let everyone = [&p.member, &p.other_member, &p.staff, &p.lead, &p.co, &p.other_dept, &p.stranger];
    let w = Watch::new(&bot, &everyone);
    let mut presses = 0;
    let mut press = async |who: &TgUser, data: String, said: &str, toast: &str| {
        let replies = bot.handle(who, |f| f.push_callback(who, 1, &data)).await;
        assert_eq!(joined(&replies), said, "{data} pressed by {}", who.first_name);
        assert_eq!(last_toast(&bot), toast, "{data} pressed by {}", who.first_name);
        presses += 1;
    };
    // Every staff button, on A and on B.
    for action in ['a', 'r', 'm', 's', 'i', 'd'] {
        for id in [a, b] {
            let data = format!("r:{action}:{id}");
            press(&p.member, data.clone(), &denied, &denied).await;
            press(&p.other_member, data.clone(), &not_found, &not_found).await;
            press(&p.other_dept, data.clone(), &not_found, &not_found).await;
            press(&p.stranger, data.clone(), &not_registered, &bot.t("register.toast_not_registered")).await;
        }
        // The departments of B may see B, not act as staff on it; A is not theirs.
        press(&p.lead, format!("r:{action}:{b}"), &denied, &denied).await;
        press(&p.co, format!("r:{action}:{b}"), &denied, &denied).await;
        press(&p.lead, format!("r:{action}:{a}"), &not_found, &not_found).await;
    }
    // Every department button, on B.
    for action in ['k', 'r', 'y', 'o'] {
        let data = format!("d:{action}:{b}");
        press(&p.member, data.clone(), &denied, &denied).await;
        press(&p.other_member, data.clone(), &not_found, &not_found).await;
        press(&p.staff, data.clone(), &denied, &denied).await;
        press(&p.other_dept, data.clone(), &not_found, &not_found).await;
        press(&p.stranger, data.clone(), &not_registered, &bot.t("register.toast_not_registered")).await;
        // A department pressing on a suggestion that is not assigned to it.
        press(&p.lead, format!("d:{action}:{a}"), &not_found, &not_found).await;
    }
    // The co-department may not answer for the lead, nor the lead send a co-department's view.
    press(&p.co, format!("d:y:{b}"), &denied, &denied).await;
    press(&p.lead, format!("d:o:{b}"), &denied, &denied).await;
    // Rating buttons from anyone but the member, or before there is an answer.
    press(&p.staff, format!("rt:{b}:1:s"), &denied, &denied).await;
    press(&p.lead, format!("rt:{b}:1:s"), &denied, &denied).await;
    press(&p.other_member, format!("rt:{b}:1:d"), &not_found, &not_found).await;
    let wrong_state = "这条建言目前的状态是「已交办」，不能进行这项操作。";
    press(&p.member, format!("rt:{b}:1:s"), wrong_state, wrong_state).await;
    press(&p.member, format!("rt:{b}:1:x"), &bot.t("button.stale"), &bot.t("button.stale")).await;
    // Nonsense that looks like a workflow button.
    let replies = bot.handle(&p.staff, |f| f.push_callback(&p.staff, 1, "r:a:1; DROP TABLE suggestions")).await;
    assert!(replies.is_empty());
    assert_eq!(last_toast(&bot), bot.t("button.invalid"));
    assert!(presses > 80, "{presses}");

    // Nothing changed, and nobody but the people who pressed heard anything.
    assert_eq!(snapshot(&bot).await, before);
    for user in everyone {
        for m in w.new_for(&bot, user) {
            assert!(
                [denied.as_str(), not_found.as_str(), not_registered.as_str(), wrong_state, &bot.t("button.stale")]
                    .contains(&m.text.as_str()),
                "{} was sent: {}",
                user.first_name,
                m.text
            );
        }
    }
    assert!(bot.fake.calls_of("editMessageReplyMarkup").iter().all(|c| c.body["message_id"].as_i64() != Some(1)));

    // Looking a suggestion up by its number: a department sees only its own.
    let other = bot.say(&p.other_dept, "PD-2025-0002").await;
    assert_eq!(other[0].text, not_found);
    let mine = bot.say(&p.lead, "pd-2025-0002").await;
    assert!(last(&mine).text.contains("编号：PD-2025-0002") && last(&mine).text.contains("主办：区教育局（未签收"));
    assert_eq!(last(&mine).button_texts(), vec!["📥 签收", "✍️ 答复", "↩️ 退回"]);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_see_the_review_queue_statistics_and_look_suggestions_up() {
    let mut bot = TestBot::start().await;
    let p = people(&bot).await;
    let empty = bot.say(&p.staff, "/review").await;
    assert_eq!(empty[0].text, bot.t("staff.queue_empty"));
    let stats = bot.say(&p.staff, "📊 统计").await;
    assert_eq!(stats[0].text, format!("{}\n\n{}", bot.t("staff.stats_empty"), bot.t("staff.stats_no_group")));

    for i in 1..=6 {
        submit(&bot, &p, &format!("第{i}篇建言"), &format!("第{i}篇的建议内容")).await;
    }
    let queue = bot.say(&p.staff, "📋 待审建言").await;
    assert_eq!(queue[0].text, "待审建言共6篇，按提交先后排列：");
    assert_eq!(queue.len(), 1 + 5 + 1, "header, five suggestions, more: {}", joined(&queue));
    for (i, item) in queue[1..6].iter().enumerate() {
        let n = i + 1;
        for part in [
            format!("PD-2025-000{n}《第{n}篇建言》"),
            "委员：张三".to_string(),
            "类别：建言资政".to_string(),
            "议题：\"十五五\"总体发展规划编制".to_string(),
            format!("1. 第{n}篇的建议内容"),
        ] {
            assert!(item.text.contains(&part), "item {n} lacks {part}: {}", item.text);
        }
        assert_eq!(item.button_texts(), vec!["✅ 受理", "❌ 不予受理", "🔗 并案", "📝 领导批示"]);
    }
    assert_eq!(last(&queue).text, "还有1篇待审建言。");
    let more = bot.tap(&p.staff, last(&queue), "下一页").await;
    assert_eq!(more.len(), 1, "{}", joined(&more));
    assert!(more[0].text.contains("PD-2025-0006"));

    // Accepting from the queue takes it off the queue.
    bot.tap(&p.staff, &queue[1], "受理").await;
    let queue = bot.say(&p.staff, "/review").await;
    assert_eq!(queue[0].text, "待审建言共5篇，按提交先后排列：");
    assert!(!joined(&queue).contains("PD-2025-0001"));

    let stats = bot.say(&p.staff, "/stats").await;
    let s = &stats[0].text;
    for part in ["已提交：5篇", "已受理：1篇", "合计：6篇，共6条建议", "已采纳：0篇"] {
        assert!(s.contains(part), "the statistics lack {part}: {s}");
    }
    assert!(!s.contains("办结"), "states without suggestions are left out: {s}");

    // Lookup by reference number, typed loosely.
    let found = bot.say(&p.staff, " pd-2025-0001 ").await;
    let f = last(&found);
    for part in ["编号：PD-2025-0001", "状态：已受理", "办理进程", "委员提交", "区政协受理", "委员：张三"]
    {
        assert!(f.text.contains(part), "the lookup lacks {part}: {}", f.text);
    }
    assert_eq!(f.button_texts(), vec!["📤 交办", "🔗 并案", "📝 领导批示", "⭐ 采纳", "🔺 列为重点"]);
    let unknown = bot.say(&p.staff, "PD-2025-0099").await;
    assert_eq!(unknown[0].text, bot.t("workflow.refused.unknown_reference"));
    // Anything else: the staff help with the menu.
    let help = bot.say(&p.staff, "你好").await;
    assert_eq!(help[0].text, bot.t("help.staff"));
    assert_eq!(help[0].reply_keyboard.concat()[0], "📋 待审建言");

    // Adopted: the member hears it, and the button is not offered again.
    let adopted = bot.tap(&p.staff, f, "采纳").await;
    assert_eq!(last(&adopted).text, "⭐ 已将 PD-2025-0001 标为采纳，已通知委员。");
    assert!(!last(&adopted).button_texts().iter().any(|b| b.contains("采纳")));
    assert!(bot.fake.last_sent(p.member.chat_id()).unwrap().text.contains("已被采纳"));
    let again = bot.tap(&p.staff, f, "采纳").await;
    assert_eq!(again[0].text, bot.t("workflow.refused.already_done"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_returns_a_suggestion_and_staff_route_it_again() {
    let mut bot = TestBot::start().await;
    let p = people(&bot).await;
    let alert = submit(&bot, &p, "关于河道整治的建议", "加快中小河道综合整治。").await;
    let accepted = bot.tap(&p.staff, &alert, "受理").await;
    let w = Watch::new(&bot, &[&p.other_dept]);
    assign(&bot, &p.staff, last(&accepted), "区绿化市容局", &[]).await;
    let news = w.new_for(&bot, &p.other_dept);
    assert!(news[0].text.contains("新交办（主办）"), "{}", news[0].text);

    // 退回 asks for the reason; /cancel leaves it; a second try sends it back.
    let ask = bot.tap(&p.other_dept, &news[0], "退回").await;
    assert!(last(&ask).text.contains("请发送退回理由"), "{}", last(&ask).text);
    let cancelled = bot.say(&p.other_dept, "/cancel").await;
    assert_eq!(cancelled[0].text, bot.t("task.cancelled"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'assigned'").await, 1);
    bot.tap(&p.other_dept, &news[0], "退回").await;
    let everyone = [&p.member, &p.staff, &p.other_dept];
    let w = Watch::new(&bot, &everyone);
    let returned = bot.say(&p.other_dept, "河道整治属于区水务局职责，请改交区水务局。").await;
    assert_eq!(last(&returned).text, "↩️ 已退回 PD-2025-0001，区政协工作人员会重新交办。");
    let staff_news = w.new_for(&bot, &p.staff);
    assert_eq!(staff_news.len(), 1);
    assert_eq!(
        staff_news[0].text,
        "↩️ 区绿化市容局 退回了 PD-2025-0001\n理由：河道整治属于区水务局职责，请改交区水务局。\n请重新交办。"
    );
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'accepted' AND deadline IS NULL").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM assignments WHERE status = 'returned'").await, 1);
    let todo = bot.say(&p.other_dept, "/todo").await;
    assert_eq!(todo[0].text, bot.t("department.todo_empty"));
    // The old assignment buttons do nothing now.
    let old = bot.tap(&p.other_dept, &news[0], "签收").await;
    assert_eq!(old[0].text, bot.t("workflow.refused.denied"));

    // Staff look it up and route it again, to 区教育局.
    let found = bot.say(&p.staff, "PD-2025-0001").await;
    assert!(
        last(&found).text.contains("承办单位退回：区绿化市容局：河道整治属于区水务局职责"),
        "{}",
        last(&found).text
    );
    assert!(last(&found).text.contains("主办：区绿化市容局（已退回"), "{}", last(&found).text);
    let w = Watch::new(&bot, &[&p.lead, &p.member]);
    assign(&bot, &p.staff, last(&found), "区教育局", &[]).await;
    assert_eq!(w.new_for(&bot, &p.lead).len(), 1);
    assert!(w.new_for(&bot, &p.member)[0].text.contains("当前状态：已交办"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM assignments WHERE status = 'active'").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM assignments WHERE status = 'superseded'").await, 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_reject_with_a_reason_and_merge_into_another_suggestion() {
    let mut bot = TestBot::start().await;
    let p = people(&bot).await;
    let first = submit(&bot, &p, "第一篇", "内容一").await;
    let second = submit(&bot, &p, "第二篇", "内容二").await;
    submit(&bot, &p, "第三篇", "内容三").await;

    // 不予受理 asks for the reason, which the member reads.
    let ask = bot.tap(&p.staff, &first, "不予受理").await;
    assert!(last(&ask).text.contains("PD-2025-0001《第一篇》不予受理"), "{}", last(&ask).text);
    let w = Watch::new(&bot, &[&p.member]);
    let done = bot.say(&p.staff, "不属于本次协商议题范围。").await;
    assert_eq!(last(&done).text, "已将 PD-2025-0001 标为不予受理，已通知委员。");
    let push = w.new_for(&bot, &p.member);
    assert!(push[0].text.contains("当前状态：不予受理") && push[0].text.contains("理由：不属于本次协商议题范围。"));
    assert!(
        bot.fake
            .calls_of("editMessageReplyMarkup")
            .iter()
            .any(|c| c.body["message_id"].as_i64() == Some(first.message_id))
    );

    // 并案: its own number and an unknown one are refused, the question stays; then a good one.
    bot.tap(&p.staff, &second, "并案").await;
    let own = bot.say(&p.staff, "PD-2025-0002").await;
    assert_eq!(own[0].text, bot.t("workflow.refused.merge_into_itself"));
    let unknown = bot.say(&p.staff, "PD-2025-0042").await;
    assert_eq!(unknown[0].text, bot.t("workflow.refused.unknown_reference"));
    let closed = bot.say(&p.staff, "PD-2025-0001").await;
    assert_eq!(closed[0].text, bot.t("workflow.refused.merge_target_closed"));
    let w = Watch::new(&bot, &[&p.member]);
    let merged = bot.say(&p.staff, "pd-2025-0003").await;
    assert_eq!(last(&merged).text, "🔗 已将 PD-2025-0002 并入 PD-2025-0003，已通知委员。");
    let push = w.new_for(&bot, &p.member);
    assert!(push[0].text.contains("当前状态：已并案") && push[0].text.contains("PD-2025-0003"), "{}", push[0].text);
    assert_eq!(
        bot.count("SELECT COUNT(*) FROM suggestions WHERE id = 2 AND state = 'merged' AND merged_into = 3").await,
        1
    );

    // A task left with /cancel: a reference number is then a lookup again.
    let third = bot.say(&p.staff, "PD-2025-0003").await;
    bot.tap(&p.staff, last(&third), "领导批示").await;
    let cancelled = bot.say(&p.staff, "/cancel").await;
    assert_eq!(cancelled[0].text, bot.t("task.cancelled"));
    let lookup = bot.say(&p.staff, "PD-2025-0003").await;
    assert!(last(&lookup).text.contains("编号：PD-2025-0003"), "{}", last(&lookup).text);
    // A leader's instruction reaches the member.
    bot.tap(&p.staff, last(&lookup), "领导批示").await;
    let w = Watch::new(&bot, &[&p.member]);
    bot.say(&p.staff, "请区发改委牵头研究。").await;
    assert!(w.new_for(&bot, &p.member)[0].text.contains("请区发改委牵头研究。"));
    assert_eq!(bot.count("SELECT COUNT(*) FROM timeline_events WHERE event = 'instructed'").await, 1);
    // Buttons of a finished suggestion are refused with its state.
    let stale = bot.tap(&p.staff, &first, "受理").await;
    assert_eq!(stale[0].text, "这条建言目前的状态是「不予受理」，不能进行这项操作。");
    bot.stop().await;
}
