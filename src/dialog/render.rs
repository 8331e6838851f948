//! Turns drafts, suggestions and topics into the texts members read.

use std::fmt::Write;

use chrono::FixedOffset;

use super::Draft;
use crate::domain::SuggestionState;
use crate::locale::{Lang, Texts};
use crate::store::{Attachment, AttachmentKind, Suggestion, SuggestionSummary, Topic};

fn attachments_line(texts: &Texts, lang: Lang, attachments: &[Attachment]) -> Option<String> {
    if attachments.is_empty() {
        return None;
    }
    let photos = attachments.iter().filter(|a| a.kind == AttachmentKind::Photo).count();
    let names: Vec<&str> = attachments
        .iter()
        .filter(|a| a.kind == AttachmentKind::Document)
        .map(|a| a.file_name.as_deref().unwrap_or("?"))
        .collect();
    Some(texts.t(
        lang,
        "render.attachments",
        &[("photos", &photos), ("documents", &names.len()), ("names", &names.join("、"))],
    ))
}

/// The draft as the member checks it before submitting, with the existing suggestions most like it
/// (`similar`: reference number, title and state only — another member's suggestion shows nothing
/// more) before the closing line.
pub fn preview(
    texts: &Texts,
    lang: Lang,
    draft: &Draft,
    topic: Option<&Topic>,
    similar: &[(String, String, SuggestionState)],
) -> String {
    let none = texts.t(lang, "render.no_topic", &[]);
    let topic = topic.map(|t| t.title.as_str()).unwrap_or(&none);
    let kind = draft.kind.map(|k| texts.t(lang, &format!("kind.{}", k.code()), &[])).unwrap_or_default();
    let title = draft.title.as_deref().unwrap_or_default();
    let mut out = texts.t(lang, "preview.header", &[("topic", &topic), ("kind", &kind), ("title", &title)]);
    out.push('\n');
    for (i, p) in draft.points.iter().enumerate() {
        let _ = write!(out, "\n{}. {p}", i + 1);
    }
    if let Some(line) = attachments_line(texts, lang, &draft.attachments) {
        let _ = write!(out, "\n\n{line}");
    }
    if !draft.cosigners.is_empty() {
        let names: Vec<&str> = draft.cosigners.iter().map(|c| c.name.as_str()).collect();
        let _ = write!(out, "\n\n{}", texts.t(lang, "preview.cosigners", &[("names", &names.join("、"))]));
    }
    if !similar.is_empty() {
        let _ = write!(out, "\n\n{}", texts.t(lang, "preview.similar_header", &[]));
        for (reference, title, state) in similar {
            // As members see states: a reply under review is still 办理中 to them.
            let state = texts.t(lang, &format!("state.{}", state.as_member_sees().code()), &[]);
            let item =
                texts.t(lang, "preview.similar_item", &[("reference", reference), ("title", title), ("state", &state)]);
            let _ = write!(out, "\n{item}");
        }
        let _ = write!(out, "\n{}", texts.t(lang, "preview.similar_footer", &[]));
    }
    let _ = write!(out, "\n\n{}", texts.t(lang, "preview.footer", &[]));
    out
}

/// The member's suggestions; those in `cosigned` (ids) are ones they co-sign (联名), marked so.
pub fn my_list(texts: &Texts, lang: Lang, list: &[SuggestionSummary], cosigned: &[i64], offset: FixedOffset) -> String {
    let mut out = texts.t(lang, "my.header", &[("count", &list.len())]);
    for s in list {
        let mark = if cosigned.contains(&s.id) { texts.t(lang, "my.cosigned_mark", &[]) } else { String::new() };
        let state = texts.t(lang, &format!("state.{}", s.state.as_member_sees().code()), &[]);
        let date = s.created_at.with_timezone(&offset).format("%Y-%m-%d");
        let _ = write!(
            out,
            "\n\n{mark}{}",
            texts.t(
                lang,
                "my.item",
                &[("reference", &s.reference_no), ("title", &s.title), ("state", &state), ("date", &date)]
            )
        );
    }
    let _ = write!(out, "\n\n{}", texts.t(lang, "my.footer", &[]));
    out
}

/// Timeline events between the committee and departments that members do not see: routing, and
/// a reply on its way (会签, 督办); the member sees the reply as it reached them (`replied`).
const INTERNAL_EVENTS: &[&str] = &[
    "co_opinion",
    "returned",
    "countersign_requested",
    "countersigned",
    "countersign_done",
    "reply_submitted",
    "reply_returned",
    "reply_approved",
    "reply_reclassified",
];

/// A suggestion as its member sees it: internal routing events left out, and a reply being
/// countersigned or reviewed shown as 办理中 (`SuggestionState::as_member_sees`).
pub fn suggestion_for_member(texts: &Texts, lang: Lang, s: &Suggestion, offset: FixedOffset) -> String {
    let mut visible = s.clone();
    visible.timeline.retain(|e| !INTERNAL_EVENTS.contains(&e.event.as_str()));
    visible.state = visible.state.as_member_sees();
    suggestion(texts, lang, &visible, offset)
}

/// A suggestion with its whole timeline, as staff and departments see it.
pub fn suggestion(texts: &Texts, lang: Lang, s: &Suggestion, offset: FixedOffset) -> String {
    let none = texts.t(lang, "render.no_topic", &[]);
    let topic = s.topic_title.as_deref().unwrap_or(&none);
    let kind = texts.t(lang, &format!("kind.{}", s.kind.code()), &[]);
    let state = texts.t(lang, &format!("state.{}", s.state.code()), &[]);
    let mut out = texts.t(
        lang,
        "show.header",
        &[("reference", &s.reference_no), ("topic", &topic), ("kind", &kind), ("title", &s.title), ("state", &state)],
    );
    out.push('\n');
    for (i, p) in s.points.iter().enumerate() {
        let _ = write!(out, "\n{}. {p}", i + 1);
    }
    if let Some(line) = attachments_line(texts, lang, &s.attachments) {
        let _ = write!(out, "\n\n{line}");
    }
    let _ = write!(out, "\n\n{}", texts.t(lang, "show.timeline", &[]));
    for e in &s.timeline {
        let at = e.at.with_timezone(&offset).format("%Y-%m-%d %H:%M");
        let what = texts.t(lang, &format!("event.{}", e.event), &[]);
        let _ = write!(out, "\n{at} {what}");
        if !e.text.is_empty() {
            let _ = write!(out, "：{}", e.text);
        }
    }
    out
}

pub fn topic_list(texts: &Texts, lang: Lang, topics: &[Topic], offset: FixedOffset) -> String {
    let mut out = texts.t(lang, "topics.header", &[]);
    for t in topics {
        let class = texts.t(lang, &format!("class.{}", t.class.code()), &[]);
        let pin = if t.pinned { texts.t(lang, "topics.pinned_mark", &[]) } else { String::new() };
        let _ = write!(out, "\n\n{pin}《{}》（{class}）", t.title);
        if !t.description.is_empty() {
            let _ = write!(out, "\n{}", t.description);
        }
        if let Some(closes) = t.closes_at {
            let date = closes.with_timezone(&offset).format("%Y-%m-%d");
            let _ = write!(out, "\n{}", texts.t(lang, "topics.closes", &[("date", &date)]));
        }
    }
    out
}
