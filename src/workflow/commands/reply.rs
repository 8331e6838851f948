//! The lead department (主办) replies with a reply class, a text and perhaps a file (已答复); the
//! member is told, with buttons to rate this reply, and gets the file after it.

use crate::domain::SuggestionState::Replied;
use crate::letter::ReplyLetter;
use crate::locale::Lang;
use crate::reply::Action;
use crate::store::{AssignmentStatus, Attachment, AttachmentKind, ChangeOp};
use crate::workflow::{Planned, Planner, Refusal, rating_keyboard, text_of};

pub(super) async fn plan(
    p: &mut Planner<'_, '_>,
    class: &str,
    text: &str,
    document: Option<Attachment>,
    letter: &ReplyLetter,
) -> Planned {
    let (ctx, f) = (p.ctx, p.facts);
    let assignment = p.own_assignment()?;
    let class =
        ctx.config.workflow.reply_classes().into_iter().find(|c| c.code == class).ok_or(Refusal::UnknownReplyClass)?;
    let text = text_of(text)?;
    let letter = letter.checked().map_err(Refusal::Letter)?;
    let reply_no = f.replies + 1;
    let lang = f.member.as_ref().map(|m| p.lang(m)).unwrap_or(Lang::Zh);
    let keyboard = rating_keyboard(ctx.texts, lang, f.id, reply_no);
    let class_label = format!("{} {}", class.code, class.label);
    let has_document =
        if document.is_some() { ctx.texts.t(lang, "notify.reply_has_document", &[]) } else { String::new() };
    p.notify_member(
        "notify.replied",
        Replied,
        &[
            ("department", &assignment.department_name),
            ("class", &class_label),
            ("text", &text),
            ("document", &has_document),
        ],
        keyboard,
    );
    // The department's file follows the reply: sent again by its Telegram file id, or uploaded
    // from the database when it came through the API.
    if let Some(doc) = &document {
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
    let document_json = document.as_ref().map(|d| serde_json::to_string(d).unwrap_or_default());
    let ops = vec![
        ChangeOp::Reply {
            department_id: assignment.department_id,
            reply_class: class.code.clone(),
            text: text.clone(),
            document: document_json,
            letter: (!letter.is_empty()).then(|| serde_json::to_string(&letter).unwrap_or_default()),
        },
        ChangeOp::Acknowledge { assignment_id: assignment.id },
        ChangeOp::SetAssignmentStatus { assignment_id: assignment.id, status: AssignmentStatus::Answered },
    ];
    Ok(p.change(Replied, "replied", format!("{class_label}：{text}"), ops))
}
