//! A reply goes to the member (已答复): the push with the reply class, the text and the buttons to
//! rate it, the department's file after it, and the reply recorded. Shared by a reply sent at
//! once, one approved by staff (督办) and one sent on after 会签.

use crate::domain::SuggestionState::Replied;
use crate::locale::Lang;
use crate::reply::Action;
use crate::store::{AssignmentInfo, AssignmentStatus, Attachment, AttachmentKind, ChangeOp};
use crate::workflow::{Planner, rating_keyboard};

/// The reply of `lead` (its assignment) under `class_label` (`"A 已解决…"`, code `class`), with
/// `text`, perhaps `document` and the 答复函 fields (`letter`, JSON): pushes it to the member and
/// returns the ops recording it.
pub(super) fn deliver(
    p: &mut Planner<'_, '_>,
    lead: &AssignmentInfo,
    class: &str,
    class_label: &str,
    text: &str,
    document: Option<&Attachment>,
    letter: Option<&str>,
) -> Vec<ChangeOp> {
    let (ctx, f) = (p.ctx, p.facts);
    let reply_no = f.replies + 1;
    let lang = f.member.as_ref().map(|m| p.lang(m)).unwrap_or(Lang::Zh);
    let keyboard = rating_keyboard(ctx.texts, lang, f.id, reply_no);
    let has_document =
        if document.is_some() { ctx.texts.t(lang, "notify.reply_has_document", &[]) } else { String::new() };
    p.notify_member(
        "notify.replied",
        Replied,
        &[("department", &lead.department_name), ("class", &class_label), ("text", &text), ("document", &has_document)],
        keyboard,
    );
    // The department's file follows the reply: sent again by its Telegram file id, or uploaded
    // from the database when it came through the API.
    if let Some(doc) = document {
        let caption = ctx.texts.t(lang, "notify.reply_document_caption", &[("reference", &f.reference_no)]);
        let action = match doc.kind {
            AttachmentKind::Stored => Action::Upload {
                sha256: doc.file_unique_id.clone(),
                file_name: doc.file_name.clone().unwrap_or_else(|| "document".to_string()),
                caption,
            },
            kind => Action::File { file_id: doc.file_id.clone(), photo: kind == AttachmentKind::Photo, caption },
        };
        p.messages.push(p.to_member(action.encode()));
    }
    vec![
        ChangeOp::Reply {
            department_id: lead.department_id,
            reply_class: class.to_string(),
            text: text.to_string(),
            document: document.map(|d| serde_json::to_string(d).unwrap_or_default()),
            letter: letter.map(str::to_string),
        },
        ChangeOp::Acknowledge { assignment_id: lead.id },
        ChangeOp::SetAssignmentStatus { assignment_id: lead.id, status: AssignmentStatus::Answered },
    ]
}

/// `"A 已解决或基本解决/采纳"` for the code `A`; the code alone for one no longer configured.
pub(super) fn class_label(p: &Planner<'_, '_>, code: &str) -> String {
    let classes = p.ctx.config.workflow.reply_classes();
    classes.iter().find(|c| c.code == code).map_or_else(|| code.to_string(), |c| format!("{} {}", c.code, c.label))
}
