//! The main conversations as a person sees them — registration, a member's submission, the whole
//! loop, a broadcast, and a co-signed suggestion's life with 督办 review — run through the real bot against the fake Telegram server and compared
//! with the reviewed snapshots in tests/snapshots/ (insta). A changed text, button or notice
//! fails here and shows up as a diff to review; `cargo insta review` accepts a deliberate change.
//!
//! Under CI (`CI=true`) insta compares only and writes nothing, so a missing or changed snapshot
//! fails the run.

mod support;

use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeZone};
use support::fake_telegram::{FakeConfig, SentMessage, TgUser};
use support::harness::{TestBot, WAIT, last};
use support::transcript::Transcript;

/// Sets the bot's clock to a local (Shanghai) time, `2025-03-02 09:30`.
fn at(bot: &TestBot, local: &str) {
    let t = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    bot.clock.set(offset.from_local_datetime(&t).unwrap().with_timezone(&chrono::Utc));
}

/// Says `text` as `who` and writes it down.
async fn say(bot: &TestBot, t: &mut Transcript, who: &TgUser, text: &str) -> Vec<SentMessage> {
    let replies = bot.say(who, text).await;
    t.record(&bot.fake);
    replies
}

/// Presses the button labelled `label` on `message` as `who` and writes it down.
async fn tap(bot: &TestBot, t: &mut Transcript, who: &TgUser, message: &SentMessage, label: &str) -> Vec<SentMessage> {
    let replies = bot.tap(who, message, label).await;
    t.record(&bot.fake);
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration() {
    let mut bot = TestBot::start().await;
    let zhang = TgUser::new(90001, "三");
    let mut t = Transcript::new(&bot.fake, &[("张三", &zhang)]);

    t.section("陌生人打招呼");
    say(&bot, &mut t, &zhang, "你好").await;
    t.section("发来一个不存在的邀请码");
    say(&bot, &mut t, &zhang, "邀请码：ABCDEFGHJK").await;
    t.section("打开邀请链接");
    bot.register(&zhang, "PD001").await;
    t.record(&bot.fake);
    t.section("帮助");
    say(&bot, &mut t, &zhang, "❓ 帮助").await;

    insta::assert_snapshot!(t.finish());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submission() {
    let mut bot = TestBot::start().await;
    let (member, staff) = (TgUser::new(90001, "三"), TgUser::new(80001, "晓"));
    bot.register(&member, "PD001").await;
    bot.register_staff(&staff, "王晓").await;
    let mut t = Transcript::new(&bot.fake, &[("张三（委员）", &member), ("王晓（工作人员）", &staff)]);

    t.section("委员点菜单「提交建言」，选议题和类别");
    let topics = say(&bot, &mut t, &member, "📝 提交建言").await;
    let kinds = tap(&bot, &mut t, &member, last(&topics), "📌").await;
    tap(&bot, &mut t, &member, last(&kinds), "建言资政").await;
    t.section("标题和两条建议");
    say(&bot, &mut t, &member, "关于完善15分钟社区生活圈的建议").await;
    say(&bot, &mut t, &member, "在每个街镇设立一站式便民服务中心。").await;
    let noted = say(&bot, &mut t, &member, "推动社区食堂向老年人提供助餐服务。").await;
    t.section("预览并提交；工作人员收到提醒");
    let preview = tap(&bot, &mut t, &member, last(&noted), "完成").await;
    tap(&bot, &mut t, &member, last(&preview), "提交").await;
    t.section("委员查看「我的建言」");
    let my = say(&bot, &mut t, &member, "/my").await;
    tap(&bot, &mut t, &member, last(&my), "PD-2025-0001").await;

    insta::assert_snapshot!(t.finish());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_loop() {
    let mut bot = TestBot::start().await;
    let member = TgUser::new(90001, "三");
    let staff = TgUser::new(80001, "晓");
    let (lead, co) = (TgUser::new(70001, "陈"), TgUser::new(70002, "林"));
    bot.register(&member, "PD001").await;
    bot.register_staff(&staff, "王晓").await;
    bot.register_liaison(&lead, "区教育局", "陈联络员").await;
    bot.register_liaison(&co, "区财政局", "林联络员").await;
    let topics = bot.say(&member, "/new").await;
    let kinds = bot.tap(&member, last(&topics), "📌").await;
    bot.tap(&member, last(&kinds), "建言资政").await;
    bot.say(&member, "关于完善15分钟社区生活圈的建议").await;
    let noted = bot.say(&member, "在每个街镇设立一站式便民服务中心。").await;
    let preview = bot.tap(&member, last(&noted), "完成").await;
    let mut t = Transcript::new(
        &bot.fake,
        &[
            ("张三（委员）", &member),
            ("王晓（工作人员）", &staff),
            ("陈（区教育局，主办）", &lead),
            ("林（区财政局，协办）", &co),
        ],
    );

    t.section("1. 委员提交");
    tap(&bot, &mut t, &member, last(&preview), "提交").await;
    let alert = bot.fake.sent_to(staff.chat_id()).last().cloned().expect("the staff's alert");

    t.section("2. 工作人员受理");
    at(&bot, "2025-03-02 09:30");
    let accepted = tap(&bot, &mut t, &staff, &alert, "受理").await;

    t.section("3. 工作人员交办：主办区教育局，协办区财政局，默认期限");
    at(&bot, "2025-03-03 14:00");
    let leads = tap(&bot, &mut t, &staff, last(&accepted), "交办").await;
    let cos = tap(&bot, &mut t, &staff, last(&leads), "区教育局").await;
    let cos = tap(&bot, &mut t, &staff, last(&cos), "区财政局").await;
    let deadline = tap(&bot, &mut t, &staff, last(&cos), "下一步").await;
    let confirm = tap(&bot, &mut t, &staff, last(&deadline), "默认").await;
    tap(&bot, &mut t, &staff, last(&confirm), "确认交办").await;
    let lead_news = bot.fake.sent_to(lead.chat_id()).last().cloned().expect("the lead's assignment");
    let co_news = bot.fake.sent_to(co.chat_id()).last().cloned().expect("the co-department's assignment");

    t.section("4. 主办单位签收");
    at(&bot, "2025-03-05 09:00");
    let acked = tap(&bot, &mut t, &lead, &lead_news, "签收").await;

    t.section("5. 协办单位发送协办意见");
    at(&bot, "2025-03-10 16:00");
    tap(&bot, &mut t, &co, &co_news, "协办意见").await;
    say(&bot, &mut t, &co, "建议纳入明年区级财政预算统筹安排。").await;

    t.section("6. 主办单位答复");
    at(&bot, "2025-04-15 10:00");
    let classes = tap(&bot, &mut t, &lead, last(&acked), "答复").await;
    tap(&bot, &mut t, &lead, last(&classes), "B 正在解决").await;
    let ask_doc =
        say(&bot, &mut t, &lead, "已列入2025年区政府实事项目，年内在12个街镇试点建设一站式便民服务中心。").await;
    let reply_preview = tap(&bot, &mut t, &lead, last(&ask_doc), "不附文件").await;
    tap(&bot, &mut t, &lead, last(&reply_preview), "发送答复").await;
    let reply = bot.fake.sent_to(member.chat_id()).last().cloned().expect("the member's answer");

    t.section("7. 委员评价：满意，办结");
    at(&bot, "2025-04-16 20:00");
    tap(&bot, &mut t, &member, &reply, "满意").await;

    insta::assert_snapshot!(t.finish());
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast() {
    let mut bot = TestBot::start().await;
    // PD001 张三 and PD002 李四 are both at 潍坊新村街道 (tests/support/harness.rs).
    let (zhang, li) = (TgUser::new(91001, "三"), TgUser::new(91002, "四"));
    let staff = TgUser::new(80001, "晓");
    bot.register(&zhang, "PD001").await;
    bot.register(&li, "PD002").await;
    bot.register_staff(&staff, "王晓").await;
    let mut t =
        Transcript::new(&bot.fake, &[("王晓（工作人员）", &staff), ("张三（委员）", &zhang), ("李四（委员）", &li)]);

    t.section("工作人员撰写通知：议题、正文、发送对象");
    let topics = say(&bot, &mut t, &staff, "📢 发布通知").await;
    tap(&bot, &mut t, &staff, last(&topics), "📌").await;
    let text = "3月20日区政协将召开专题协商会，请各位委员围绕\"十五五\"规划编制提出意见建议。";
    let audience = say(&bot, &mut t, &staff, text).await;
    let workstations = tap(&bot, &mut t, &staff, last(&audience), "按委员工作站").await;
    let preview = tap(&bot, &mut t, &staff, last(&workstations), "潍坊新村街道").await;

    t.section("确认发送；两位委员各收到一条");
    let before: Vec<usize> = [&zhang, &li].iter().map(|u| bot.fake.sent_to(u.chat_id()).len()).collect();
    let queued = tap(&bot, &mut t, &staff, last(&preview), "确认发送").await;
    let mut received = Vec::new();
    for (user, before) in [&zhang, &li].iter().zip(before) {
        received.push(bot.fake.wait_for_new(user.chat_id(), before, WAIT).await);
    }
    let deadline = Instant::now() + WAIT;
    while bot.count("SELECT COUNT(*) FROM outbox WHERE broadcast_id = 1 AND status = 'sent'").await < 2 {
        assert!(Instant::now() < deadline, "the broadcast was not recorded as sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    t.record(&bot.fake);

    t.section("李四点通知上的议题按钮，开始建言");
    tap(&bot, &mut t, &li, &received[1], "就《").await;
    t.section("工作人员刷新进度");
    tap(&bot, &mut t, &staff, last(&queued), "刷新进度").await;

    insta::assert_snapshot!(t.finish());
    bot.stop().await;
}

/// 联名 and 督办 together: the lead member invites a co-signer, who accepts; staff accept and
/// assign; the department's reply waits for staff's review; once approved both members get it,
/// the co-signer's rating is recorded and the lead's closes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_co_signed_suggestion() {
    let mut bot = TestBot::start_with(FakeConfig::default(), &[("JIANYAN_WORKFLOW__REVIEW_REPLIES", "true")]).await;
    let (zhang, li) = (TgUser::new(90001, "三"), TgUser::new(90002, "四"));
    let (staff, dept) = (TgUser::new(80001, "晓"), TgUser::new(70001, "陈"));
    bot.register(&zhang, "PD001").await;
    bot.register(&li, "PD002").await;
    bot.register_staff(&staff, "王晓").await;
    bot.register_liaison(&dept, "区教育局", "陈联络员").await;
    at(&bot, "2025-03-02 09:30");
    let topics = bot.say(&zhang, "/new").await;
    let kinds = bot.tap(&zhang, last(&topics), "📌").await;
    bot.tap(&zhang, last(&kinds), "建言资政").await;
    bot.say(&zhang, "关于推进街镇便民服务中心建设的建议").await;
    let noted = bot.say(&zhang, "在每个街镇设立一站式便民服务中心。").await;
    let preview = bot.tap(&zhang, last(&noted), "完成").await;
    let mut t = Transcript::new(
        &bot.fake,
        &[
            ("张三（领衔委员）", &zhang),
            ("李四（联名委员）", &li),
            ("王晓（工作人员）", &staff),
            ("陈（区教育局）", &dept),
        ],
    );

    t.section("1. 领衔委员邀请李四联名，然后提交");
    tap(&bot, &mut t, &zhang, last(&preview), "邀请联名").await;
    let listed = say(&bot, &mut t, &zhang, "李四").await;
    let back = tap(&bot, &mut t, &zhang, last(&listed), "完成").await;
    tap(&bot, &mut t, &zhang, last(&back), "提交").await;

    t.section("2. 李四同意联名");
    at(&bot, "2025-03-02 12:00");
    let invitation = bot.fake.sent_to(li.chat_id()).last().cloned().expect("the invitation");
    tap(&bot, &mut t, &li, &invitation, "同意联名").await;

    t.section("3. 工作人员受理并交办区教育局");
    at(&bot, "2025-03-03 09:30");
    let alert = bot.fake.sent_to(staff.chat_id()).into_iter().rev().find(|m| m.text.contains("新建言")).unwrap();
    let accepted = tap(&bot, &mut t, &staff, &alert, "受理").await;
    let leads = tap(&bot, &mut t, &staff, last(&accepted), "交办").await;
    let co = tap(&bot, &mut t, &staff, last(&leads), "区教育局").await;
    let deadline = tap(&bot, &mut t, &staff, last(&co), "下一步").await;
    let confirm = tap(&bot, &mut t, &staff, last(&deadline), "默认").await;
    tap(&bot, &mut t, &staff, last(&confirm), "确认交办").await;

    t.section("4. 区教育局答复，先送区政协审核（督办）");
    at(&bot, "2025-04-15 10:00");
    let news = bot.fake.sent_to(dept.chat_id()).into_iter().rev().find(|m| m.text.contains("新交办")).unwrap();
    let classes = tap(&bot, &mut t, &dept, &news, "答复").await;
    tap(&bot, &mut t, &dept, last(&classes), "A 已解决").await;
    let ask_doc = say(&bot, &mut t, &dept, "已列入2025年区政府实事项目，年内在12个街镇建成便民服务中心。").await;
    let reply_preview = tap(&bot, &mut t, &dept, last(&ask_doc), "不附文件").await;
    tap(&bot, &mut t, &dept, last(&reply_preview), "发送答复").await;

    t.section("5. 工作人员审核通过；两位委员收到答复");
    at(&bot, "2025-04-16 09:00");
    let review = bot.fake.sent_to(staff.chat_id()).into_iter().rev().find(|m| m.text.contains("答复待审")).unwrap();
    tap(&bot, &mut t, &staff, &review, "通过").await;

    t.section("6. 联名委员评价（记录在案），领衔委员评价后办结");
    at(&bot, "2025-04-16 20:00");
    let li_reply = bot.fake.sent_to(li.chat_id()).last().cloned().expect("the co-signer's answer");
    tap(&bot, &mut t, &li, &li_reply, "基本满意").await;
    let zhang_reply = bot
        .fake
        .sent_to(zhang.chat_id())
        .into_iter()
        .rev()
        .find(|m| m.button_texts().contains(&"满意".to_string()))
        .expect("the lead's answer");
    tap(&bot, &mut t, &zhang, &zhang_reply, "满意").await;

    insta::assert_snapshot!(t.finish());
    bot.stop().await;
}
