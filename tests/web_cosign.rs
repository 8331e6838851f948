//! 联名 where staff and departments read it: the console's suggestion page (领衔, 联名, each
//! invitation's answer, co-signers' ratings), the inbox exports' 联名委员 column (CSV and XLSX),
//! and the API's suggestion (`lead_member`, `cosigners`, in the OpenAPI document).

mod support;

use axum::http::StatusCode;
use jianyan::domain::{MemberLevel, MemberNo, ReferenceNo, SuggestionKind};
use jianyan::store::{Commit, Effect, NewSuggestion, Rating, RosterRow};
use jianyan::workflow::{Actor, Command, plan};
use support::console::Console;
use support::xlsx::first_sheet;

/// PD001 张三 leads a suggestion and invites PD002 李四 (who accepts), PD003 王五 (who declines)
/// and PD004 赵六 (who does not answer); staff accept and assign it to 区教育局. Returns its id
/// and reference number.
async fn co_signed(c: &Console) -> (i64, String) {
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    let row = |no: &str, name: &str| RosterRow {
        member_no: MemberNo::parse(no).unwrap(),
        name: name.into(),
        level: MemberLevel::District,
        workstation: None,
        sector: "经济界".into(),
        phone: String::new(),
    };
    c.store.import_members(&[row("PD003", "王五"), row("PD004", "赵六")], now).await.unwrap();
    let by_no =
        |no: &'static str| async move { c.store.member_by_no(&MemberNo::parse(no).unwrap()).await.unwrap().unwrap() };
    let (lead, li, wang, zhao) =
        (by_no("PD001").await, by_no("PD002").await, by_no("PD003").await, by_no("PD004").await);
    let suggestion = NewSuggestion {
        member_id: lead.id,
        topic_id: Some(c.topic_id),
        kind: SuggestionKind::Advice,
        title: "关于推进街镇便民服务中心建设的建议".into(),
        points: vec!["在每个街镇设立一站式服务中心".into()],
        as_typed: String::new(),
        attachments: Vec::new(),
        year: 2025,
        prefix: "PD".into(),
        entered_by: None,
    };
    let commit = Commit {
        update_id: None,
        chat_id: 0,
        dialog: None,
        messages: Vec::new(),
        submission: Some((suggestion, Box::new(|_: &ReferenceNo, _: i64| Vec::new()))),
        change: None,
        now,
    };
    let invite = Effect::InviteCosigners {
        member_ids: vec![li.id, wang.id, zhao.id],
        expires_at: now + chrono::Duration::days(7),
    };
    c.store.commit_with(commit, vec![invite]).await.unwrap();
    let reference = "PD-2025-0001".to_string();
    let id = c.store.suggestion_id_by_reference(&reference).await.unwrap().unwrap();
    let ctx = jianyan::context::Ctx { store: c.app.store.as_ref(), texts: &c.app.texts, config: &c.app.config, now };
    for (m, accept) in [(&li, true), (&wang, false)] {
        let change = plan(&ctx, &Actor::Member(m), id, Command::Cosign { accept }).await.unwrap().unwrap();
        c.store.apply_change(change, now).await.unwrap();
    }
    c.api_run_as("staff", id, Command::Accept).await;
    c.api_run_as("staff", id, Command::Assign { lead: c.department_id, co: Vec::new(), deadline: None }).await;
    (id, reference)
}

#[tokio::test]
async fn the_suggestion_page_shows_lead_co_signers_invitations_and_their_ratings() {
    let c = Console::start().await;
    let (id, _) = co_signed(&c).await;
    c.api_run_as(
        "dept",
        id,
        Command::Reply {
            class: "A".into(), text: "已在全区推开。".into(), document: None, letter: Default::default()
        },
    )
    .await;
    let now = jianyan::clock::Clock::now(c.clock.as_ref());
    let ctx = jianyan::context::Ctx { store: c.app.store.as_ref(), texts: &c.app.texts, config: &c.app.config, now };
    let li = c.store.member_by_no(&MemberNo::parse("PD002").unwrap()).await.unwrap().unwrap();
    let rate = Command::Rate { reply_no: 1, rating: Rating::BasicallySatisfied, reason: "还可更快".into() };
    let change = plan(&ctx, &Actor::Member(&li), id, rate).await.unwrap().unwrap();
    c.store.apply_change(change, now).await.unwrap();

    let b = c.login("staff").await;
    let page = c.get(&format!("/suggestions/{id}"), Some(&b)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = page.body;
    for part in [
        "联名委员",
        "<dd>李四</dd>",
        "联名邀请",
        "同意联名",
        "不同意",
        "已截止",
        "联名委员评价",
        "第1次答复",
        "基本满意",
        "还可更快",
    ] {
        assert!(html.contains(part), "the page lacks {part}");
    }
    // The co-signer's rating left the state as it was.
    assert_eq!(c.inbox_state(id).await, jianyan::domain::SuggestionState::Replied);

    // The printed suggestion names the co-signer after the lead member; the one who declined is not.
    let docx = c.get(&format!("/suggestions/{id}/document.docx"), Some(&b)).await;
    assert_eq!(docx.status, StatusCode::OK);
    let text = support::docx::paragraphs(&support::docx::part(&docx.bytes, "word/document.xml")).join("\n");
    assert!(text.contains("领衔：张三") && text.contains("联名：李四") && !text.contains("王五"), "{text}");
}

#[tokio::test]
async fn exports_and_the_api_name_the_co_signers() {
    let c = Console::start().await;
    let (_, reference) = co_signed(&c).await;
    c.inbox_submit("PD002", SuggestionKind::Advice, "另一条建言", &["一条"], Vec::new()).await;
    let b = c.login("staff").await;

    let csv = c.get("/suggestions/export.csv", Some(&b)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let mut reader = csv::Reader::from_reader(&csv.bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let column = headers.iter().position(|h| h == "联名委员").expect("a 联名委员 column");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cell = |no: &str| rows.iter().find(|r| &r[0] == no).map(|r| r[column].to_string()).unwrap();
    assert_eq!(cell(&reference), "李四", "accepted co-signers only");
    assert_eq!(cell("PD-2025-0002"), "");

    let xlsx = c.get("/suggestions/export.xlsx", Some(&b)).await;
    assert_eq!(xlsx.status, StatusCode::OK, "{}", xlsx.body);
    let sheet = first_sheet(&xlsx.bytes).rows();
    let column = sheet[0].iter().position(|h| h == "联名委员").expect("a 联名委员 column");
    let row = sheet.iter().find(|r| r[0] == reference).expect("the co-signed row");
    assert_eq!(row[column], "李四");

    let (_, token) = c.api_token_for(c.department_id, "办公系统").await;
    let detail = c.api("GET", &format!("/api/v1/suggestions/{reference}"), Some(&token), None).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert_eq!(detail.json["lead_member"], "张三");
    assert_eq!(detail.json["cosigners"], serde_json::json!(["李四"]));
    let doc = c.api("GET", "/api/openapi.json", None, None).await;
    let fields = &doc.json["components"]["schemas"]["SuggestionDetail"]["properties"];
    assert!(fields["lead_member"].is_object() && fields["cosigners"].is_object(), "{fields}");
}
