//! End to end, 联名 (co-signing): the lead member invites co-signers from the preview (names and
//! member numbers as typed, members of one name told apart by workstation and level), invitees
//! accept or decline, invitations close at their deadline or when staff accept, co-signers follow
//! and rate the answer — through the real bot and the fake Telegram server, on either backend.

mod support;

use chrono::{NaiveDateTime, TimeZone};
use jianyan::domain::{MemberLevel, MemberNo};
use jianyan::store::RosterRow;
use support::fake_telegram::{SentMessage, TgUser};
use support::harness::{NowUtc, TestBot, joined, last};

/// Sets the bot's clock to a local (Shanghai) time, `2025-03-02 09:30`.
fn at(bot: &TestBot, local: &str) {
    let t = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    bot.clock.set(offset.from_local_datetime(&t).unwrap().with_timezone(&chrono::Utc));
}

fn row(no: &str, name: &str, level: MemberLevel, workstation: &str) -> RosterRow {
    RosterRow {
        member_no: MemberNo::parse(no).unwrap(),
        name: name.into(),
        level,
        workstation: Some(workstation.into()),
        sector: "经济界".into(),
        phone: String::new(),
    }
}

struct People {
    lead: TgUser,
    li: TgUser,
    wang: TgUser,
    zhao: TgUser,
    staff: TgUser,
    dept: TgUser,
}

/// 张三 PD001 leads; 李四 PD002, 王五 PD003 and 赵六 PD005 (of two 赵六) are on Telegram.
async fn people(bot: &TestBot) -> People {
    let now = bot.clock.now_utc();
    bot.store
        .import_members(
            &[
                row("PD003", "王五", MemberLevel::District, "花木街道"),
                row("PD004", "赵六", MemberLevel::District, "陆家嘴街道"),
                row("PD005", "赵六", MemberLevel::Street, "金杨新村街道"),
            ],
            now,
        )
        .await
        .unwrap();
    let p = People {
        lead: TgUser::new(90001, "三"),
        li: TgUser::new(90002, "四"),
        wang: TgUser::new(90003, "五"),
        zhao: TgUser::new(90005, "六"),
        staff: TgUser::new(80001, "晓"),
        dept: TgUser::new(70001, "陈"),
    };
    bot.register(&p.lead, "PD001").await;
    bot.register(&p.li, "PD002").await;
    bot.register(&p.wang, "PD003").await;
    bot.register(&p.zhao, "PD005").await;
    bot.register_staff(&p.staff, "王晓").await;
    bot.register_liaison(&p.dept, "区教育局", "陈联络员").await;
    p
}

fn since(bot: &TestBot, user: &TgUser, before: usize) -> Vec<SentMessage> {
    bot.fake.sent_to(user.chat_id()).split_off(before)
}

fn count(bot: &TestBot, user: &TgUser) -> usize {
    bot.fake.sent_to(user.chat_id()).len()
}

/// The lead writes a one-point suggestion up to the preview; returns the preview.
async fn draft(bot: &TestBot, lead: &TgUser, title: &str) -> SentMessage {
    let topics = bot.say(lead, "/new").await;
    let kinds = bot.tap(lead, last(&topics), "📌").await;
    bot.tap(lead, last(&kinds), "建言资政").await;
    bot.say(lead, title).await;
    let noted = bot.say(lead, "在每个街镇设立一站式服务中心").await;
    let preview = bot.tap(lead, last(&noted), "完成").await;
    last(&preview).clone()
}

/// From the preview: invites `typed` (one message) and goes back to the preview; returns it.
async fn invite(bot: &TestBot, lead: &TgUser, preview: &SentMessage, typed: &str) -> SentMessage {
    bot.tap(lead, preview, "邀请联名").await;
    let step = bot.say(lead, typed).await;
    let back = bot.tap(lead, last(&step), "完成").await;
    last(&back).clone()
}

/// The invitation pushed to `user` since `before`.
fn invitation(bot: &TestBot, user: &TgUser, before: usize) -> SentMessage {
    let new = since(bot, user, before);
    new.iter()
        .find(|m| m.text.contains("联名邀请"))
        .cloned()
        .unwrap_or_else(|| panic!("no invitation: {}", joined(&new)))
}

async fn cosigner_status(bot: &TestBot, member_no: &str) -> String {
    bot.db
        .scalar(
            "SELECT c.status FROM cosigners c JOIN members m ON m.id = c.member_id WHERE m.member_no = $1",
            &[member_no.into()],
        )
        .await
        .text()
}

/// Staff accept and assign to 区教育局 (default deadline); the department replies (class A).
/// Returns nothing: each member's push is read by the caller.
async fn accept_assign_reply(bot: &TestBot, p: &People) {
    let alert = bot.fake.sent_to(p.staff.chat_id()).into_iter().rev().find(|m| m.text.contains("新建言")).unwrap();
    let accepted = bot.tap(&p.staff, &alert, "受理").await;
    let leads = bot.tap(&p.staff, last(&accepted), "交办").await;
    let co = bot.tap(&p.staff, last(&leads), "区教育局").await;
    let deadline = bot.tap(&p.staff, last(&co), "下一步").await;
    let confirm = bot.tap(&p.staff, last(&deadline), "默认").await;
    bot.tap(&p.staff, last(&confirm), "确认交办").await;
    let news = bot.fake.sent_to(p.dept.chat_id()).into_iter().rev().find(|m| m.text.contains("新交办")).unwrap();
    let classes = bot.tap(&p.dept, &news, "答复").await;
    bot.tap(&p.dept, last(&classes), "A 已解决").await;
    let ask_doc = bot.say(&p.dept, "已在全区推开。").await;
    let preview = bot.tap(&p.dept, last(&ask_doc), "不附文件").await;
    bot.tap(&p.dept, last(&preview), "发送答复").await;
}

#[tokio::test]
async fn a_co_signed_suggestion_from_the_invitations_to_every_rating() {
    let bot = TestBot::start().await;
    let p = people(&bot).await;
    at(&bot, "2025-03-02 09:30");
    let preview = draft(&bot, &p.lead, "关于推进街镇便民服务中心建设的建议").await;
    assert!(preview.button_texts().contains(&"✍️ 邀请联名".to_string()), "{:?}", preview.buttons);

    // Names and numbers as typed (full-width, lower case, 、 and ，), the lead, and a stranger.
    let step = bot.tap(&p.lead, &preview, "邀请联名").await;
    assert!(last(&step).text.contains("尚未邀请") || last(&step).text.contains("还没有邀请"), "{}", last(&step).text);
    let typed = bot.say(&p.lead, "李四，ｐｄ００３、张三、钱七").await;
    let said = joined(&typed);
    for part in ["已加入邀请名单：李四", "已加入邀请名单：王五", "不需要邀请自己", "没有找到「钱七」"]
    {
        assert!(said.contains(part), "{part}: {said}");
    }
    // Two members named 赵六: told apart by number, workstation and level.
    let typed = bot.say(&p.lead, "赵六").await;
    let choose = last(&typed);
    assert!(choose.text.contains("有多位委员名叫「赵六」"), "{}", choose.text);
    let options: Vec<String> = choose.button_texts().into_iter().filter(|b| b.starts_with("赵六")).collect();
    assert_eq!(options, ["赵六（PD004 · 陆家嘴街道 · 区级）", "赵六（PD005 · 金杨新村街道 · 街镇级）"]);
    let picked = bot.tap(&p.lead, choose, "金杨新村街道").await;
    // 王五 is taken off the list again.
    let removed = bot.tap(&p.lead, last(&picked), "移除王五").await;
    let list = last(&removed).text.clone();
    assert!(list.contains("1. 李四（PD002") && list.contains("2. 赵六（PD005") && !list.contains("王五"), "{list}");
    let back = bot.tap(&p.lead, last(&removed), "完成").await;
    let preview = last(&back).clone();
    assert!(preview.text.contains("联名邀请：李四、赵六"), "{}", preview.text);
    assert!(preview.button_texts().contains(&"✍️ 邀请联名（2位）".to_string()), "{:?}", preview.buttons);

    let (li0, wang0, zhao0) = (count(&bot, &p.li), count(&bot, &p.wang), count(&bot, &p.zhao));
    let staff0 = count(&bot, &p.staff);
    let receipt = bot.tap(&p.lead, &preview, "提交").await;
    assert!(last(&receipt).text.contains("提交成功"), "{}", joined(&receipt));
    let alert = joined(&since(&bot, &p.staff, staff0));
    assert!(alert.contains("委员：张三") && alert.contains("邀请联名：李四、赵六（待答复）"), "{alert}");
    let li_invite = invitation(&bot, &p.li, li0);
    for part in ["张三委员邀请您联名", "PD-2025-0001", "关于推进街镇便民服务中心建设的建议", "2025-03-09 09:30"]
    {
        assert!(li_invite.text.contains(part), "{part}: {}", li_invite.text);
    }
    assert_eq!(li_invite.button_texts(), ["✅ 同意联名", "不同意"]);
    let zhao_invite = invitation(&bot, &p.zhao, zhao0);
    assert!(since(&bot, &p.wang, wang0).is_empty(), "王五 was taken off the list");
    assert_eq!(bot.count("SELECT COUNT(*) FROM cosigners WHERE status = 'invited'").await, 2);

    // 李四 accepts, 赵六 declines: each is recorded on the timeline and the lead is told.
    let lead0 = count(&bot, &p.lead);
    let accepted = bot.tap(&p.li, &li_invite, "同意联名").await;
    assert!(joined(&accepted).contains("您已同意联名"), "{}", joined(&accepted));
    let declined = bot.tap(&p.zhao, &zhao_invite, "不同意").await;
    assert!(joined(&declined).contains("谢绝"), "{}", joined(&declined));
    let told = joined(&since(&bot, &p.lead, lead0));
    assert!(told.contains("李四委员同意联名") && told.contains("赵六委员不同意联名"), "{told}");
    assert_eq!(cosigner_status(&bot, "PD002").await, "accepted");
    assert_eq!(cosigner_status(&bot, "PD005").await, "declined");
    let events =
        bot.count("SELECT COUNT(*) FROM timeline_events WHERE event IN ('cosign_accepted', 'cosign_declined')");
    assert_eq!(events.await, 2);
    // A second tap on the old invitation is refused politely, and changes nothing.
    let again = bot.handle(&p.zhao, |f| f.click(&p.zhao, &zhao_invite, "✅ 同意联名")).await;
    assert!(joined(&again).contains("已经答复过"), "{}", joined(&again));
    assert_eq!(cosigner_status(&bot, "PD005").await, "declined");

    // 李四 finds it in 我的建言, marked 联名, with 领衔 and 联名; 赵六 does not see it.
    let mine = bot.say(&p.li, "/my").await;
    assert!(last(&mine).text.contains("【联名】PD-2025-0001"), "{}", last(&mine).text);
    let shown = bot.tap(&p.li, last(&mine), "PD-2025-0001").await;
    assert!(last(&shown).text.contains("领衔：张三　联名：李四"), "{}", last(&shown).text);
    assert!(last(&shown).button_texts().is_empty(), "a co-signer cannot withdraw: {:?}", last(&shown).buttons);
    let forged = bot.handle(&p.zhao, |f| f.push_callback(&p.zhao, 1, "s:1")).await;
    assert!(joined(&forged).contains("只能查看自己"), "{}", joined(&forged));
    // 李四 may not withdraw it either (a forged button).
    let forged = bot.handle(&p.li, |f| f.push_callback(&p.li, 1, "wd:1:y")).await;
    assert!(joined(&forged).contains("没有权限"), "{}", joined(&forged));

    // Every push the lead gets, the co-signer gets: accepted, assigned, replied (with ratings).
    let (lead0, li0) = (count(&bot, &p.lead), count(&bot, &p.li));
    accept_assign_reply(&bot, &p).await;
    let lead_news = since(&bot, &p.lead, lead0);
    let li_news = since(&bot, &p.li, li0);
    assert_eq!(lead_news.len(), li_news.len(), "lead: {}\nco-signer: {}", joined(&lead_news), joined(&li_news));
    assert!(li_news.iter().all(|m| m.text.contains("您联名的建言有新进展")), "{}", joined(&li_news));
    let li_reply = li_news.last().unwrap().clone();
    assert!(li_reply.text.contains("已在全区推开"), "{}", li_reply.text);
    assert_eq!(li_reply.button_texts(), ["满意", "基本满意", "不满意"]);
    let lead_reply = lead_news.last().unwrap().clone();

    // The co-signer's rating is recorded and counted; the state stays 已答复; the lead is told.
    let lead0 = count(&bot, &p.lead);
    bot.tap(&p.li, &li_reply, "基本满意").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM cosigner_ratings WHERE rating = 'basically_satisfied'").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'replied'").await, 1);
    assert!(joined(&since(&bot, &p.lead, lead0)).contains("联名委员李四对答复的评价：基本满意"));
    let again = bot.handle(&p.li, |f| f.click(&p.li, &li_reply, "满意")).await;
    assert!(joined(&again).contains("已经做过"), "{}", joined(&again));
    assert_eq!(bot.count("SELECT COUNT(*) FROM cosigner_ratings").await, 1);

    // The lead's rating decides: 办结; the co-signer hears of it.
    let li0 = count(&bot, &p.li);
    bot.tap(&p.lead, &lead_reply, "满意").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'closed'").await, 1);
    assert!(joined(&since(&bot, &p.li, li0)).contains("办结"), "{}", joined(&since(&bot, &p.li, li0)));
    assert_eq!(bot.count("SELECT COUNT(*) FROM ratings").await, 1);
    assert_eq!(bot.count("SELECT COUNT(*) FROM timeline_events WHERE event = 'cosigner_rated'").await, 1);
}

#[tokio::test]
async fn a_co_signer_rates_after_the_lead_closed_it() {
    let bot = TestBot::start().await;
    let p = people(&bot).await;
    // An inactive member cannot be invited.
    bot.db.execute("UPDATE members SET status = 'inactive' WHERE member_no = 'PD003'", &[]).await;
    let preview = draft(&bot, &p.lead, "关于增设社区食堂的建议").await;
    bot.tap(&p.lead, &preview, "邀请联名").await;
    let typed = bot.say(&p.lead, "王五、PD002").await;
    assert!(joined(&typed).contains("没有找到「王五」"), "{}", joined(&typed));
    let back = bot.tap(&p.lead, last(&typed), "完成").await;
    let preview = last(&back).clone();
    assert!(preview.text.contains("联名邀请：李四") && !preview.text.contains("王五"), "{}", preview.text);
    let li0 = count(&bot, &p.li);
    bot.tap(&p.lead, &preview, "提交").await;
    bot.tap(&p.li, &invitation(&bot, &p.li, li0), "同意联名").await;
    let lead0 = count(&bot, &p.lead);
    accept_assign_reply(&bot, &p).await;
    let lead_reply = since(&bot, &p.lead, lead0).last().unwrap().clone();
    bot.tap(&p.lead, &lead_reply, "满意").await;
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'closed'").await, 1);

    // From 我的建言: the rating buttons are still there for the co-signer.
    let mine = bot.say(&p.li, "/my").await;
    let shown = bot.tap(&p.li, last(&mine), "PD-2025-0001").await;
    assert_eq!(last(&shown).button_texts(), ["满意", "基本满意", "不满意"]);
    let ask = bot.tap(&p.li, last(&shown), "不满意").await;
    assert_eq!(last(&ask).text, bot.t("rating.ask_reason"));
    bot.say(&p.li, "希望扩大覆盖范围").await;
    assert_eq!(
        bot.count(
            "SELECT COUNT(*) FROM cosigner_ratings WHERE rating = 'dissatisfied' AND reason = '希望扩大覆盖范围'"
        )
        .await,
        1
    );
    assert_eq!(bot.count("SELECT COUNT(*) FROM suggestions WHERE state = 'closed'").await, 1, "still 办结");
    let shown = bot.tap(&p.li, last(&mine), "PD-2025-0001").await;
    assert!(last(&shown).button_texts().is_empty(), "rated once: {:?}", last(&shown).buttons);
}

#[tokio::test]
async fn invitations_close_when_staff_accept_or_at_their_deadline() {
    let bot = TestBot::start().await;
    let p = people(&bot).await;
    at(&bot, "2025-03-02 09:30");
    let preview = draft(&bot, &p.lead, "关于优化公交线路的建议").await;
    let preview = invite(&bot, &p.lead, &preview, "李四、王五").await;
    let (li0, wang0) = (count(&bot, &p.li), count(&bot, &p.wang));
    bot.tap(&p.lead, &preview, "提交").await;
    let li_invite = invitation(&bot, &p.li, li0);
    let wang_invite = invitation(&bot, &p.wang, wang0);
    assert!(li_invite.text.contains("2025-03-09 09:30"), "seven days: {}", li_invite.text);

    // A second suggestion: staff accept it before 王五 answers, which closes the invitation.
    at(&bot, "2025-03-02 10:00");
    let preview = draft(&bot, &p.lead, "关于增设公共充电桩的建议").await;
    let preview = invite(&bot, &p.lead, &preview, "王五").await;
    let (wang0, staff0) = (count(&bot, &p.wang), count(&bot, &p.staff));
    bot.tap(&p.lead, &preview, "提交").await;
    let second_invite = invitation(&bot, &p.wang, wang0);
    let alert = since(&bot, &p.staff, staff0).into_iter().find(|m| m.text.contains("新建言")).unwrap();
    bot.tap(&p.staff, &alert, "受理").await;
    let late = bot.tap(&p.wang, &second_invite, "同意联名").await;
    assert!(joined(&late).contains("联名邀请已经截止"), "{}", joined(&late));
    let closed = bot.db.scalar(
        "SELECT c.status FROM cosigners c JOIN suggestions s ON s.id = c.suggestion_id WHERE s.reference_no = 'PD-2025-0002'",
        &[],
    );
    assert_eq!(closed.await.text(), "expired");
    // 王五's invitation to the first suggestion is still open (within its week), and its button
    // works under a message Telegram no longer shows the bot (older than 48 hours).
    let data = wang_invite.callback_for("✅ 同意联名").unwrap();
    let old = serde_json::json!({"callback_query": {
        "id": "old-invitation",
        "from": p.wang.to_json(),
        "chat_instance": "1",
        "data": data,
        "message": {"chat": {"id": p.wang.chat_id(), "type": "private", "first_name": p.wang.first_name}, "message_id": wang_invite.message_id, "date": 0},
    }});
    let ok = bot.handle(&p.wang, |f| f.push_raw(old)).await;
    assert!(joined(&ok).contains("您已同意联名"), "{}", joined(&ok));

    // Past the deadline (workflow.cosign_days = 7): 李四's late tap is refused politely.
    at(&bot, "2025-03-09 09:31");
    let late = bot.tap(&p.li, &li_invite, "同意联名").await;
    assert!(joined(&late).contains("联名邀请已经截止"), "{}", joined(&late));
    assert_eq!(cosigner_status(&bot, "PD002").await, "invited", "left as it was, read as expired");
    let answers = bot.count("SELECT COUNT(*) FROM timeline_events WHERE event LIKE 'cosign%'").await;
    assert_eq!(answers, 1, "王五's acceptance only");
}
