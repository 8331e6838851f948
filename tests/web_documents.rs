//! The 答复函 fields a department fills in the console, and the Word documents the console offers
//! (a suggestion, a reply's 答复函, a 汇编 of the inbox's filter), read back as Word opens them.

mod support;

use axum::http::{StatusCode, header};
use jianyan::domain::SuggestionKind;
use jianyan::letter::ReplyLetter;
use jianyan::workflow::Command;
use support::console::Console;
use support::docx;

fn assert_docx(page: &support::console::Page) {
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let content_type = page.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!(content_type, jianyan::documents::DOCX_MIME);
    let disposition = page.headers.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(disposition.starts_with("attachment;") && disposition.contains(".docx"), "{disposition}");
}

/// The layout every document shares: A4, the margins in twips, the Chinese fonts as East Asian
/// fonts, and `— PAGE —` in a footer.
fn assert_layout(bytes: &[u8]) {
    let document = docx::part(bytes, "word/document.xml");
    let styles = docx::part(bytes, "word/styles.xml");
    assert!(document.contains(r#"w:w="11906""#) && document.contains(r#"w:h="16838""#), "A4: {document}");
    for margin in [r#"w:top="2098""#, r#"w:bottom="1984""#, r#"w:left="1587""#, r#"w:right="1474""#] {
        assert!(document.contains(margin), "margin {margin}");
    }
    assert!(document.contains(r#"w:eastAsia="方正小标宋简体""#), "the title font");
    assert!(document.contains(r#"w:eastAsia="仿宋_GB2312""#), "the body font");
    assert!(styles.contains(r#"w:eastAsia="仿宋_GB2312""#), "the body font is the default");
    assert!(styles.contains(r#"w:eastAsia="黑体""#), "the heading style's font");
    assert!(document.contains(r#"w:sz w:val="32""#), "三号 body text");
    let footers = docx::parts(bytes, "word/footer");
    assert!(!footers.is_empty(), "a footer");
    let footer = docx::part(bytes, &footers[0]);
    assert!(footer.contains("PAGE"), "a page number field: {footer}");
    assert_eq!(docx::text(&footer), "— 1 —");
}

#[tokio::test]
async fn a_department_fills_the_reply_letter_in_the_console_and_its_letter_reads_back() {
    let c = Console::start().await;
    c.inbox_bind("PD001", 7001).await;
    let (id, reference) = c.inbox_assigned("学校周边交通安全", false).await;
    let dept = c.login("dept").await;
    let path = format!("/suggestions/{id}/act/reply");
    let mut fields = vec![
        ("class", "A"),
        ("text", "经研究，已将学校周边交通整治纳入明年计划。\n具体由区交警支队落实。"),
        ("letter_number", "浦教函〔2025〕12号"),
        ("letter_title", "关于学校周边交通安全建言的答复"),
        ("letter_contact", "王老师"),
        ("letter_phone", "请打办公室"),
    ];

    // A phone that is no phone number: refused, the form kept as typed.
    let refused = c.post(&path, Some(&dept), &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("电话只能包含数字"), "{}", refused.body);
    assert!(refused.body.contains("浦教函〔2025〕12号"), "the form keeps what was typed");

    fields[5] = ("letter_phone", "０２１－５０１２３４５６");
    let asked = c.post(&path, Some(&dept), &fields).await;
    assert!(asked.body.contains("浦教函〔2025〕12号") && asked.body.contains("021-50123456"), "{}", asked.body);
    let done = c.post_confirmed(&path, Some(&dept), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let replies = c.store.replies_of(id).await.unwrap();
    let expected = ReplyLetter {
        number: Some("浦教函〔2025〕12号".into()),
        title: Some("关于学校周边交通安全建言的答复".into()),
        contact: Some("王老师".into()),
        phone: Some("021-50123456".into()),
    };
    assert_eq!(replies[0].letter, expected, "stored as checked (full-width digits read as ASCII)");

    let page = c.get(&format!("/suggestions/{id}"), Some(&dept)).await;
    for part in ["浦教函〔2025〕12号", "王老师", "021-50123456", "letter.docx", "document.docx"] {
        assert!(page.body.contains(part), "the detail page shows {part}");
    }

    let letter_path = format!("/suggestions/{id}/replies/{}/letter.docx", replies[0].id);
    let letter = c.get(&letter_path, Some(&dept)).await;
    assert_docx(&letter);
    assert_layout(&letter.bytes);
    let text = docx::paragraphs(&docx::part(&letter.bytes, "word/document.xml"));
    assert_eq!(text[0], "浦教函〔2025〕12号");
    assert_eq!(text[1], "关于学校周边交通安全建言的答复");
    assert_eq!(text[2], "张三委员：");
    assert!(text[3].contains("《学校周边交通安全》") && text[3].contains(&reference), "{}", text[3]);
    assert_eq!(text[4], "经研究，已将学校周边交通整治纳入明年计划。");
    assert_eq!(text[5], "具体由区交警支队落实。");
    let rest = text[6..].join("\n");
    for part in ["区教育局", "2025年3月1日", "联系人：王老师", "联系电话：021-50123456"] {
        assert!(rest.contains(part), "the letter ends with {part}: {rest}");
    }

    // Who may not view the suggestion may not download it either.
    let other = c.login("dept2").await;
    assert_eq!(c.get(&letter_path, Some(&other)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.get(&format!("/suggestions/{id}/document.docx"), Some(&other)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        c.get(&format!("/suggestions/{id}/replies/999/letter.docx"), Some(&dept)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(c.get(&letter_path, None).await.status, StatusCode::SEE_OTHER, "to the login page");
}

#[tokio::test]
async fn a_reply_without_letter_fields_still_prints_a_letter_titled_after_the_suggestion() {
    let c = Console::start().await;
    let (id, _) = c.inbox_assigned("老旧小区加装电梯", false).await;
    let reply = Command::Reply {
        class: "B".into(),
        text: "已列入明年计划。".into(),
        document: None,
        letter: Default::default(),
    };
    c.inbox_run_as("dept", id, reply).await;
    let r = &c.store.replies_of(id).await.unwrap()[0];
    assert!(r.letter.is_empty());
    let staff = c.login("staff").await;
    let letter = c.get(&format!("/suggestions/{id}/replies/{}/letter.docx", r.id), Some(&staff)).await;
    assert_docx(&letter);
    let text = docx::paragraphs(&docx::part(&letter.bytes, "word/document.xml"));
    assert_eq!(text[0], "关于《老旧小区加装电梯》的答复", "no 文号 line; the default title");
    assert!(!text.join("\n").contains("联系人"), "no contact line without contact or phone");
}

#[tokio::test]
async fn a_suggestion_prints_with_its_number_lead_topic_kind_and_points() {
    let c = Console::start().await;
    let kind = SuggestionKind::Advice;
    let points = ["在学校门口设置限速标志", "上下学时段安排交警值守"];
    let (id, reference) = c.inbox_submit("PD001", kind, "学校周边交通安全", &points, Vec::new()).await;
    let staff = c.login("staff").await;
    let page = c.get(&format!("/suggestions/{id}/document.docx"), Some(&staff)).await;
    assert_docx(&page);
    assert_layout(&page.bytes);
    let text = docx::text(&docx::part(&page.bytes, "word/document.xml"));
    for part in [
        "委员建言",
        "学校周边交通安全",
        &format!("编号：{reference}"),
        "领衔：张三",
        "议题：\"十五五\"规划编制",
        &format!("类别：{}", c.state.t(&format!("kind.{}", kind.code()))),
        "日期：2025年3月1日",
        "1. 在学校门口设置限速标志",
        "2. 上下学时段安排交警值守",
    ] {
        assert!(text.contains(part), "the suggestion shows {part}: {text}");
    }
    assert!(!text.contains("联名"), "no co-signers' line without co-signers");
}

#[tokio::test]
async fn a_compilation_of_the_filtered_list_has_a_table_of_contents_and_every_suggestion() {
    let c = Console::start().await;
    let kind = SuggestionKind::Advice;
    let (_, first) = c.inbox_assigned("学校周边交通安全", false).await;
    let (_, second) = c.inbox_assigned("老旧小区加装电梯", false).await;
    let (_, left_out) = c.inbox_submit("PD002", kind, "还没有受理的建言", &["第一条"], Vec::new()).await;
    let staff = c.login("staff").await;

    let inbox = c.get("/suggestions?state=assigned", Some(&staff)).await;
    assert!(inbox.body.contains("/suggestions/compilation.docx?state=assigned"), "the inbox links its filter");

    let page = c.get("/suggestions/compilation.docx?state=assigned", Some(&staff)).await;
    assert_docx(&page);
    assert_layout(&page.bytes);
    let document = docx::part(&page.bytes, "word/document.xml");
    assert!(
        document.contains(r#"TOC \o &quot;1-1&quot; \h"#) || document.contains(r#"TOC \o "1-1" \h"#),
        "a TOC field"
    );
    for (i, reference) in [&second, &first].iter().enumerate() {
        let key = format!("_Toc{:08}", i + 1);
        assert!(document.contains(&format!(r#"w:name="{key}""#)), "the heading of {reference} is bookmarked");
        assert!(document.contains(&format!("PAGEREF {key}")), "the TOC points at {key}");
    }
    let text = docx::paragraphs(&document);
    let titled = |r: &str, title: &str| format!("{r}　{title}");
    assert_eq!(text[0], "委员建言汇编");
    assert!(text[1].contains("状态：已交办") && text[1].contains("共 2 件"), "{}", text[1]);
    // The TOC's entries are written in, then the numbered list, then each suggestion, in the
    // inbox's order (newest first).
    assert_eq!(text[2], "目\u{3000}录");
    assert_eq!(text[3], titled(&second, "老旧小区加装电梯"));
    assert_eq!(text[4], titled(&first, "学校周边交通安全"));
    assert_eq!(text[5], "篇目（共 2 件）");
    assert_eq!(text[6], format!("1．{second}　老旧小区加装电梯（领衔：张三）"));
    assert_eq!(text[7], format!("2．{first}　学校周边交通安全（领衔：张三）"));
    assert_eq!(text[8], titled(&second, "老旧小区加装电梯"));
    assert_eq!(text[9], format!("编号：{second}"));
    let headings = text.iter().filter(|p| **p == titled(&first, "学校周边交通安全")).count();
    assert_eq!(headings, 2, "in the TOC and as the suggestion's heading");
    assert!(!document.contains(&left_out), "only the filtered list");
    assert!(document.contains(r#"w:pStyle w:val="Heading1""#), "headings the TOC collects");

    assert!(c.inbox_audit_actions().await.iter().any(|a| a.starts_with("suggestions.export_docx")));

    // A department compiles only what it may see.
    let (_, finance_only) = c.inbox_submit("PD002", kind, "财政资金绩效", &["第一条"], Vec::new()).await;
    let dept = c.login("dept").await;
    let page = c.get("/suggestions/compilation.docx", Some(&dept)).await;
    assert_docx(&page);
    let document = docx::part(&page.bytes, "word/document.xml");
    assert!(document.contains(&first) && !document.contains(&finance_only), "the department's own");
}
