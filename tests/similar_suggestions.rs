//! Similar suggestions end to end: before submitting, a member is shown up to three existing
//! suggestions on the same topic most like theirs (reference, title and state only), with real
//! titles of the district's topics; staff see the similar ones on the detail page, 并案 one click
//! (and a confirmation) away.

mod support;

use axum::http::StatusCode;
use jianyan::domain::{SuggestionKind, SuggestionState};
use jianyan::workflow::Command;
use support::console::Console;
use support::fake_telegram::TgUser;
use support::harness::{TestBot, joined, last};

/// The member walks the dialog on the pinned topic up to the preview; returns it.
async fn preview(bot: &TestBot, user: &TgUser, title: &str, point: &str) -> String {
    let topics = bot.say(user, "/new").await;
    let kinds = bot.tap(user, last(&topics), "📌").await;
    bot.tap(user, last(&kinds), "建言资政").await;
    bot.say(user, title).await;
    let noted = bot.say(user, point).await;
    let preview = bot.tap(user, last(&noted), "完成").await;
    last(&preview).text.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_submitting_a_member_sees_the_existing_suggestions_like_theirs() {
    let mut bot = TestBot::start().await;
    let (zhang, li) = (TgUser::new(90001, "三"), TgUser::new(90002, "四"));
    bot.register(&zhang, "PD001").await;
    bot.register(&li, "PD002").await;

    // Nothing yet: no hint.
    let first = preview(&bot, &zhang, "关于做好“十五五”规划编制工作的建议", "建议在规划编制中听取社区居民意见。").await;
    assert!(!first.contains("已有类似建言"), "{first}");
    let receipt = bot.tap(&zhang, &bot.fake.sent_to(zhang.chat_id()).last().unwrap().clone(), "提交").await;
    assert!(joined(&receipt).contains("PD-2025-0001"), "{}", joined(&receipt));
    bot.submit(&zhang, "建言资政", "关于国际金融机构集聚的建议", &["吸引国际金融机构在陆家嘴设立总部。"]).await;
    bot.submit(&zhang, "建言资政", "关于十五五期间老旧小区加装电梯的建议", &["简化审批流程。"]).await;
    let id = bot.store.suggestion_id_by_reference("PD-2025-0001").await.unwrap().unwrap();
    let staff = bot.store.add_staff("王晓", jianyan::clock::Clock::now(bot.clock.as_ref())).await.unwrap();
    let ctx = jianyan::context::Ctx {
        store: bot.store.as_ref(),
        texts: &bot.app.texts,
        config: &bot.app.config,
        now: jianyan::clock::Clock::now(bot.clock.as_ref()),
    };
    let accept = jianyan::workflow::plan(&ctx, &jianyan::workflow::Actor::Staff(&staff), id, Command::Accept)
        .await
        .unwrap()
        .unwrap();
    bot.store.apply_change(accept, jianyan::clock::Clock::now(bot.clock.as_ref())).await.unwrap();

    // Another member on the same topic: the alike one is shown, with its state; the others not.
    let text =
        preview(&bot, &li, "关于“十五五”规划编制中加强社区养老的建议", "在规划编制中统筹社区养老设施布局。").await;
    assert!(text.contains("已有类似建言：\nPD-2025-0001《关于做好“十五五”规划编制工作的建议》（已受理）"), "{text}");
    assert!(!text.contains("国际金融机构"), "an unrelated one is not listed: {text}");
    assert!(!text.contains("张三"), "nothing about the other member: {text}");
    assert!(text.contains("您可以照常提交") && text.ends_with("确认无误请点击「提交」。"), "{text}");
    // The member may go on: submitting works as ever.
    let last_preview = bot.fake.sent_to(li.chat_id()).last().unwrap().clone();
    assert!(last_preview.button_texts().iter().any(|b| b.contains("改标题")));
    let receipt = bot.tap(&li, &last_preview, "提交").await;
    assert!(joined(&receipt).contains("提交成功"), "{}", joined(&receipt));
    bot.stop().await;
}

#[tokio::test]
async fn staff_see_similar_suggestions_on_the_detail_page_and_merge_in_one_click() {
    let c = Console::start().await;
    let advice = SuggestionKind::Advice;
    let (older, older_ref) = c
        .inbox_submit(
            "PD001",
            advice,
            "关于世博水环沿线增设安全照明的建议",
            &["在水环沿线增设夜间照明设施。"],
            Vec::new(),
        )
        .await;
    let (_unrelated, unrelated_ref) =
        c.inbox_submit("PD002", advice, "关于加快建设现代化产业体系的建议", &["集聚国际金融机构。"], Vec::new()).await;
    let (newer, newer_ref) = c
        .inbox_submit(
            "PD002",
            advice,
            "世博水环夜间照明不足的建议",
            &["水环沿线夜间照明设施不足，建议增设。"],
            Vec::new(),
        )
        .await;
    let (withdrawn, withdrawn_ref) =
        c.inbox_submit("PD001", advice, "关于世博水环安全照明的建议", &["增设照明。"], Vec::new()).await;
    let zhang = c.store.member_by_no(&jianyan::domain::MemberNo::parse("PD001").unwrap()).await.unwrap().unwrap();
    let ctx = jianyan::context::Ctx {
        store: c.store.as_ref(),
        texts: &c.app.texts,
        config: &c.app.config,
        now: jianyan::clock::Clock::now(c.clock.as_ref()),
    };
    let member = jianyan::workflow::Actor::Member(&zhang);
    let w = jianyan::workflow::plan(&ctx, &member, withdrawn, Command::Withdraw).await.unwrap().unwrap();
    c.store.apply_change(w, ctx.now).await.unwrap();

    let staff = c.login("staff").await;
    let page = c.get(&format!("/suggestions/{newer}"), Some(&staff)).await;
    assert!(page.body.contains("类似建言"), "{}", page.body);
    assert!(page.body.contains(&format!("data-similar=\"{older_ref}\"")), "{}", page.body);
    assert!(!page.body.contains(&format!("data-similar=\"{unrelated_ref}\"")), "unrelated");
    assert!(!page.body.contains(&format!("data-similar=\"{withdrawn_ref}\"")), "withdrawn ones are not offered");
    assert!(!page.body.contains(&format!("data-similar=\"{newer_ref}\"")), "not itself");
    assert!(page.body.contains("并入此建言"));

    // The button posts the merge; the console asks first, then merges.
    let asked = c.post(&format!("/suggestions/{newer}/act/merge"), Some(&staff), &[("reference", &older_ref)]).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.body.contains(&older_ref), "the confirmation names the target: {}", asked.body);
    let path = format!("/suggestions/{newer}/act/merge");
    let done = c.post_confirmed(&path, Some(&staff), &[("reference", &older_ref)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(c.inbox_state(newer).await, SuggestionState::Merged);
    // The older one no longer lists the merged one.
    let page = c.get(&format!("/suggestions/{older}"), Some(&staff)).await;
    assert!(!page.body.contains(&format!("data-similar=\"{newer_ref}\"")), "{}", page.body);

    // A department account sees no such section.
    c.inbox_run_as("staff", older, Command::Accept).await;
    let assign = Command::Assign { lead: c.department_id, co: vec![], deadline: None };
    c.inbox_run_as("staff", older, assign).await;
    let dept = c.login("dept").await;
    let page = c.get(&format!("/suggestions/{older}"), Some(&dept)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("类似建言"));
}

/// Staff accept `reference` from its 新建言 alert in the bot.
async fn staff_accepts(bot: &TestBot, staff: &TgUser, reference: &str) {
    let alert = bot
        .fake
        .sent_to(staff.chat_id())
        .into_iter()
        .rev()
        .find(|m| m.text.contains("新建言") && m.text.contains(reference))
        .unwrap_or_else(|| panic!("no alert for {reference}"));
    bot.tap(staff, &alert, "受理").await;
}

/// 联名 instead (part 7): at the preview a member may co-sign an alike suggestion that still awaits
/// staff instead of filing theirs; one staff already accepted has no such button, and a tap that
/// became stale is refused politely with the draft kept. The lead is told; the member finds it in
/// 我的建言 marked 联名 and gets its pushes; their own suggestion is never filed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_co_signs_an_alike_suggestion_instead_of_filing_theirs() {
    let mut bot = TestBot::start().await;
    let (zhang, li, staff) = (TgUser::new(90001, "三"), TgUser::new(90002, "四"), TgUser::new(80001, "晓"));
    bot.register(&zhang, "PD001").await;
    bot.register(&li, "PD002").await;
    bot.register_staff(&staff, "王晓").await;
    let advice = "建言资政";
    bot.submit(&zhang, advice, "关于做好“十五五”规划编制工作的建议", &["在规划编制中听取社区居民意见。"]).await;
    bot.submit(&zhang, advice, "关于“十五五”规划编制听取居民意见的建议", &["规划编制中听取居民意见。"]).await;
    bot.submit(&zhang, advice, "关于“十五五”规划编制中加强社区服务的建议", &["统筹社区服务设施。"]).await;
    staff_accepts(&bot, &staff, "PD-2025-0003").await;

    let text =
        preview(&bot, &li, "关于“十五五”规划编制中加强社区养老的建议", "在规划编制中统筹社区养老设施布局。").await;
    let shown = bot.fake.sent_to(li.chat_id()).last().unwrap().clone();
    let buttons = shown.button_texts();
    assert!(text.contains("PD-2025-0003"), "the accepted one is listed: {text}");
    assert!(buttons.contains(&"🤝 联名 PD-2025-0001".to_string()), "{buttons:?}");
    assert!(buttons.contains(&"🤝 联名 PD-2025-0002".to_string()), "{buttons:?}");
    assert!(!buttons.iter().any(|b| b.contains("联名 PD-2025-0003")), "accepted already: {buttons:?}");
    for b in shown.buttons.iter().flatten() {
        assert!(b.callback_data.as_deref().is_none_or(|d| d.len() <= 64), "{b:?}");
    }
    // The lead sees no button to co-sign their own.
    let own = preview(&bot, &zhang, "关于“十五五”规划编制中加强社区养老的建议", "统筹社区养老设施布局。").await;
    let own_buttons = bot.fake.sent_to(zhang.chat_id()).last().unwrap().button_texts();
    assert!(own.contains("PD-2025-0001") && !own_buttons.iter().any(|b| b.contains("🤝")), "{own_buttons:?}");

    // Staff accept 0002 meanwhile: the tap is stale, refused politely, the draft kept.
    staff_accepts(&bot, &staff, "PD-2025-0002").await;
    let ask = bot.tap(&li, &shown, "联名 PD-2025-0002").await;
    assert!(last(&ask).text.contains("草稿将放弃"), "{}", last(&ask).text);
    let refused = bot.tap(&li, last(&ask), "确认联名").await;
    assert!(joined(&refused).contains("不再接受联名"), "{}", joined(&refused));
    let again = last(&refused).clone();
    assert!(again.text.contains("请核对您的建言"), "back at the preview: {}", again.text);
    assert!(!again.button_texts().iter().any(|b| b.contains("联名 PD-2025-0002")), "{:?}", again.button_texts());

    // Asked first; 返回草稿 keeps the draft; then confirmed.
    let ask = bot.tap(&li, &again, "联名 PD-2025-0001").await;
    assert!(last(&ask).text.contains("PD-2025-0001《关于做好“十五五”规划编制工作的建议》"), "{}", last(&ask).text);
    let back = bot.tap(&li, last(&ask), "返回草稿").await;
    assert!(last(&back).text.contains("请核对您的建言"), "{}", last(&back).text);
    let ask = bot.tap(&li, last(&back), "联名 PD-2025-0001").await;
    let lead_before = bot.fake.sent_to(zhang.chat_id()).len();
    let done = bot.tap(&li, last(&ask), "确认联名").await;
    assert!(joined(&done).contains("您已联名 PD-2025-0001"), "{}", joined(&done));
    let told = joined(&bot.fake.sent_to(zhang.chat_id()).split_off(lead_before));
    assert!(told.contains("李四委员") && told.contains("联名") && told.contains("PD-2025-0001"), "{told}");

    // Stored: an accepted co-signer, on the timeline; 李四's own suggestion was never filed.
    let status = bot
        .db
        .scalar(
            "SELECT c.status FROM cosigners c JOIN members m ON m.id = c.member_id WHERE m.member_no = 'PD002'",
            &[],
        )
        .await
        .text();
    assert_eq!(status, "accepted");
    let filed = bot
        .db
        .scalar(
            "SELECT COUNT(*) FROM suggestions s JOIN members m ON m.id = s.member_id WHERE m.member_no = 'PD002'",
            &[],
        )
        .await
        .int();
    assert_eq!(filed, 0);

    // 我的建言 marks it 联名; its timeline says so; staff accepting it is pushed to 李四 too.
    let mine = bot.say(&li, "/my").await;
    assert!(last(&mine).text.contains("【联名】PD-2025-0001"), "{}", last(&mine).text);
    let detail = bot.tap(&li, last(&mine), "PD-2025-0001").await;
    assert!(last(&detail).text.contains("加入联名"), "{}", last(&detail).text);
    let li_before = bot.fake.sent_to(li.chat_id()).len();
    staff_accepts(&bot, &staff, "PD-2025-0001").await;
    let pushed = joined(&bot.fake.sent_to(li.chat_id()).split_off(li_before));
    assert!(pushed.contains("PD-2025-0001") && pushed.contains("已受理"), "{pushed}");
    bot.stop().await;
}
