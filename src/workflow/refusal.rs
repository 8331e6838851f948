//! Why a workflow request was refused, and how that is said to the person.

use crate::context::Ctx;
use crate::domain::SuggestionState;
use crate::letter::LetterProblem;
use crate::locale::Lang;

/// Why a request was refused; each is said politely to the person (`workflow.refused.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    Denied,
    WrongState(SuggestionState),
    AlreadyDone,
    EmptyText,
    TooLong(usize),
    UnknownDepartment,
    UnknownReplyClass,
    UnknownReference,
    MergeIntoItself,
    MergeTargetClosed,
    StaleRating,
    /// 会签: the lead sends the draft on before every co-department answered or the deadline passed.
    CountersignPending,
    /// An invitation to co-sign answered after it closed (its deadline passed, or staff decided).
    InvitationClosed,
    /// Asking to co-sign a suggestion staff already took up (or closed).
    CosignClosed,
    /// An invitation to co-sign answered a second time.
    AlreadyAnswered,
    /// A reply letter's field (文号, 标题, 联系人, 电话) is not acceptable.
    Letter(LetterProblem),
}

impl Refusal {
    pub fn render(&self, ctx: &Ctx<'_>, lang: Lang) -> String {
        let t = |key: &str, args: &[(&str, &dyn std::fmt::Display)]| ctx.t(lang, key, args);
        match self {
            Refusal::NotFound => t("workflow.refused.not_found", &[]),
            Refusal::Denied => t("workflow.refused.denied", &[]),
            Refusal::WrongState(state) => {
                let state = t(&format!("state.{}", state.code()), &[]);
                t("workflow.refused.wrong_state", &[("state", &state)])
            }
            Refusal::AlreadyDone => t("workflow.refused.already_done", &[]),
            Refusal::EmptyText => t("workflow.refused.empty_text", &[]),
            Refusal::TooLong(max) => t("workflow.refused.too_long", &[("max", max)]),
            Refusal::UnknownDepartment => t("workflow.refused.unknown_department", &[]),
            Refusal::UnknownReplyClass => t("workflow.refused.unknown_reply_class", &[]),
            Refusal::UnknownReference => t("workflow.refused.unknown_reference", &[]),
            Refusal::MergeIntoItself => t("workflow.refused.merge_into_itself", &[]),
            Refusal::MergeTargetClosed => t("workflow.refused.merge_target_closed", &[]),
            Refusal::StaleRating => t("workflow.refused.stale_rating", &[]),
            Refusal::CountersignPending => t("workflow.refused.countersign_pending", &[]),
            Refusal::InvitationClosed => t("workflow.refused.invitation_closed", &[]),
            Refusal::CosignClosed => t("workflow.refused.cosign_closed", &[]),
            Refusal::AlreadyAnswered => t("workflow.refused.already_answered", &[]),
            Refusal::Letter(problem) => letter_problem(ctx, lang, *problem),
        }
    }
}

/// What is wrong with a reply letter's fields, in the person's words (`letter.*`).
pub fn letter_problem(ctx: &Ctx<'_>, lang: Lang, problem: LetterProblem) -> String {
    let field = |f: crate::letter::LetterField| ctx.t(lang, &format!("letter.{}", f.name()), &[]);
    match problem {
        LetterProblem::TooLong(f) => ctx.t(lang, "letter.too_long", &[("field", &field(f)), ("max", &f.max_chars())]),
        LetterProblem::Forbidden(f) => ctx.t(lang, "letter.forbidden", &[("field", &field(f))]),
        LetterProblem::BadPhone => ctx.t(lang, "letter.bad_phone", &[("min", &crate::letter::PHONE_MIN_DIGITS)]),
        LetterProblem::UnknownLine => ctx.t(lang, "letter.unknown_line", &[]),
    }
}
