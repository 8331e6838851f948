//! The console's suggestion page shows the pushes kept for someone the bot cannot write to yet,
//! and when they went out; the dashboard counts the pushes still kept.

mod support;

use jianyan::store::Commit;
use jianyan::workflow::Command;
use support::console::Console;

/// The dashboard's card of pushes kept for later: its label, its count and its explanation.
async fn held_card(c: &Console, b: &support::console::Browser) -> String {
    let page = c.get("/", Some(b)).await;
    let start = page.body.find("id=\"held-pushes\"").unwrap_or_else(|| panic!("no held card: {}", page.body));
    let card = &page.body[start..];
    let card = &card[..card.find("</div></div>").map_or(card.len(), |e| e + 12)];
    for key in ["web.dashboard.held", "web.dashboard.held_detail"] {
        let text = c.app.texts.t(jianyan::locale::Lang::Zh, key, &[]);
        assert!(card.contains(&text), "{key} missing from {card}");
    }
    card.to_string()
}

#[tokio::test]
async fn the_suggestion_page_shows_pushes_waiting_for_the_member_and_when_they_went_out() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let (id, reference) = c.api_submit("PD001", "关于学区划分", &["内容"]).await;
    let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert!(!page.body.contains("id=\"held\""), "nothing kept, nothing shown");
    assert!(held_card(&c, &b).await.contains("<div class=\"n\">0</div>"));

    // The member has not redeemed an invite: the push of the acceptance is kept, not dropped.
    c.api_run_as("staff", id, Command::Accept).await;
    let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    let held = c.app.texts.t(jianyan::locale::Lang::Zh, "web.inbox.detail.held", &[("count", &1)]);
    assert!(page.body.contains(&held), "{}", page.body);
    let section = &page.body[page.body.find("id=\"held\"").unwrap()..];
    assert!(section.contains(&reference) && section.contains("已受理") && section.contains("等待发送"), "{section}");
    let pending = c.db.count("SELECT COUNT(*) FROM outbox").await;
    assert_eq!(pending, 0, "nothing was queued for a chat that does not exist");
    let card = held_card(&c, &b).await;
    assert!(card.contains("<div class=\"n\">1</div>"), "{card}");

    // The member registers and writes to the bot: the push is queued for their chat.
    c.api_bind_member("PD001", 7001).await;
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    let commit = Commit {
        update_id: Some(1),
        chat_id: 7001,
        dialog: None,
        messages: Vec::new(),
        submission: None,
        change: None,
        now,
    };
    c.store.commit(commit).await.unwrap();
    let queued: Vec<(i64, String)> =
        c.db.rows("SELECT chat_id, payload FROM outbox", &[]).await.iter().map(|r| (r[0].int(), r[1].text())).collect();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].0 == 7001 && queued[0].1.contains("已受理"), "{queued:?}");
    let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    let held = c.app.texts.t(jianyan::locale::Lang::Zh, "web.inbox.detail.held", &[("count", &0)]);
    assert!(page.body.contains(&held) && page.body.contains("已于"), "{}", page.body);
    let card = held_card(&c, &b).await;
    assert!(card.contains("<div class=\"n\">0</div>"), "released pushes are no longer counted: {card}");
}
