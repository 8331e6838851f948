//! Choice ids as Telegram callback data: at most 64 bytes
//! (<https://core.telegram.org/bots/api#inlinekeyboardbutton>, `callback_data`).
//!
//! The format is the one buttons have always carried, so a button still on someone's phone from
//! before choices were typed decodes to the same choice:
//! - the member's draft: `n:<nonce>:t:<topic>`, `n:<nonce>:k:<kind>`, `n:<nonce>:done`,
//!   `n:<nonce>:p:<action>`; `s:<id>` opens a suggestion; `new` and `new:<topic>` start one;
//! - notifications: `r:<a|r|m|s|i|d|p|c|b>:<id>` (staff), `d:<k|r|y|o|g|h|n>:<id>` (departments),
//!   `rt:<id>:<reply_no>:<s|b|d|x>` (ratings);
//! - wizards: `w:<nonce>:<op>` (staff), `dw:<nonce>:<op>` (liaisons); pages `q:<id>`, `dq:<id>`;
//! - the member's 撤回: `wd:<id>` (asks), `wd:<id>:y` (confirmed);
//! - 联名: `jc:<nonce>:<id>` and `jc:<nonce>:<id>:y` (co-sign an alike suggestion instead of the
//!   draft: asked, confirmed), `cs:<id>:<y|n>` (an invitation answered), `ci:<nonce>:<p|r>:<member>` and `ci:<nonce>:ok`
//!   (choosing co-signers);
//! - broadcasts: `b:<nonce>:<action>`, `b:l`, `b:p:<id>`, `b:c:<id>`, `b:cc:<id>`.

use crate::choice::{BroadcastChoice, ChoiceId, CosignerOp, DraftAction, PreviewAction, RatingChoice, WizardOp};
use crate::domain::{Act, MemberLevel, SuggestionKind};
use crate::store::{AudienceKind, Rating};

/// Telegram's limit for `callback_data`, in bytes.
pub const MAX_BYTES: usize = 64;

const PREVIEW: [(PreviewAction, &str); 9] = [
    (PreviewAction::Submit, "submit"),
    (PreviewAction::Discard, "discard"),
    (PreviewAction::EditTopic, "topic"),
    (PreviewAction::EditKind, "kind"),
    (PreviewAction::EditTitle, "title"),
    (PreviewAction::AddBody, "add"),
    (PreviewAction::RewriteBody, "rewrite"),
    (PreviewAction::Cosign, "cosign"),
    (PreviewAction::Back, "back"),
];

const REVIEW: [(Act, &str); 10] = [
    (Act::Accept, "a"),
    (Act::Reject, "r"),
    (Act::Merge, "m"),
    (Act::Assign, "s"),
    (Act::Instruct, "i"),
    (Act::Adopt, "d"),
    (Act::ApproveReply, "p"),
    (Act::ReclassifyReply, "c"),
    (Act::ReturnReply, "b"),
    (Act::Key, "e"),
];

const DEPARTMENT: [(Act, &str); 7] = [
    (Act::Acknowledge, "k"),
    (Act::Return, "r"),
    (Act::Reply, "y"),
    (Act::CoOpinion, "o"),
    (Act::Countersign, "g"),
    (Act::ProposeChanges, "h"),
    (Act::SendOn, "n"),
];

const RATING: [(RatingChoice, &str); 4] = [
    (RatingChoice::Rate(Rating::Satisfied), "s"),
    (RatingChoice::Rate(Rating::BasicallySatisfied), "b"),
    (RatingChoice::Rate(Rating::Dissatisfied), "d"),
    (RatingChoice::SkipReason, "x"),
];

fn code_of<T: PartialEq + Copy>(table: &[(T, &'static str)], value: T) -> Option<&'static str> {
    table.iter().find(|(v, _)| *v == value).map(|(_, c)| *c)
}

fn value_of<T: Copy>(table: &[(T, &'static str)], code: &str) -> Option<T> {
    table.iter().find(|(_, c)| *c == code).map(|(v, _)| *v)
}

/// The callback data of `choice`; `None` for an id no button carries (a review act that is not
/// a review button, a text over 64 bytes).
pub fn encode(choice: &ChoiceId) -> Option<String> {
    let data = match choice {
        ChoiceId::Topic { nonce, topic_id } => format!("n:{nonce}:t:{topic_id}"),
        ChoiceId::Kind { nonce, kind } => format!("n:{nonce}:k:{}", kind.code()),
        ChoiceId::Done { nonce } => format!("n:{nonce}:done"),
        ChoiceId::Preview { nonce, action } => format!("n:{nonce}:p:{}", code_of(&PREVIEW, *action)?),
        ChoiceId::Show { suggestion_id } => format!("s:{suggestion_id}"),
        ChoiceId::New { topic_id: Some(id) } => format!("new:{id}"),
        ChoiceId::New { topic_id: None } => "new".to_string(),
        ChoiceId::Review { act, suggestion_id } => format!("r:{}:{suggestion_id}", code_of(&REVIEW, *act)?),
        ChoiceId::Department { act, suggestion_id } => format!("d:{}:{suggestion_id}", code_of(&DEPARTMENT, *act)?),
        ChoiceId::Rating { suggestion_id, reply_no, choice } => {
            format!("rt:{suggestion_id}:{reply_no}:{}", code_of(&RATING, *choice)?)
        }
        ChoiceId::StaffWizard { nonce, op } => format!("w:{nonce}:{}", wizard_op(op)),
        ChoiceId::DepartmentWizard { nonce, op } => format!("dw:{nonce}:{}", wizard_op(op)),
        ChoiceId::ReviewPage { after_id } => format!("q:{after_id}"),
        ChoiceId::TodoPage { after_id } => format!("dq:{after_id}"),
        ChoiceId::Broadcast(b) => broadcast(b),
        ChoiceId::Withdraw { suggestion_id, confirmed: false } => format!("wd:{suggestion_id}"),
        ChoiceId::Withdraw { suggestion_id, confirmed: true } => format!("wd:{suggestion_id}:y"),
        ChoiceId::Cosign { suggestion_id, accept } => format!("cs:{suggestion_id}:{}", if *accept { "y" } else { "n" }),
        ChoiceId::JoinCosign { nonce, suggestion_id, confirmed: false } => format!("jc:{nonce}:{suggestion_id}"),
        ChoiceId::JoinCosign { nonce, suggestion_id, confirmed: true } => format!("jc:{nonce}:{suggestion_id}:y"),
        ChoiceId::Cosigners { nonce, op: CosignerOp::Pick(id) } => format!("ci:{nonce}:p:{id}"),
        ChoiceId::Cosigners { nonce, op: CosignerOp::Remove(id) } => format!("ci:{nonce}:r:{id}"),
        ChoiceId::Cosigners { nonce, op: CosignerOp::Done } => format!("ci:{nonce}:ok"),
    };
    (data.len() <= MAX_BYTES).then_some(data)
}

fn wizard_op(op: &WizardOp) -> String {
    match op {
        WizardOp::Cancel => "x".into(),
        WizardOp::Lead(id) => format!("l:{id}"),
        WizardOp::Co(id) => format!("c:{id}"),
        WizardOp::Next => "n".into(),
        WizardOp::DefaultDeadline => "d".into(),
        WizardOp::Confirm => "ok".into(),
        WizardOp::Class(code) => format!("c:{code}"),
        WizardOp::SkipDocument => "s".into(),
        WizardOp::Rewrite => "e".into(),
        WizardOp::Letter => "f".into(),
    }
}

fn broadcast(choice: &BroadcastChoice) -> String {
    match choice {
        BroadcastChoice::List => "b:l".into(),
        BroadcastChoice::Progress { id } => format!("b:p:{id}"),
        BroadcastChoice::Stop { id } => format!("b:c:{id}"),
        BroadcastChoice::StopConfirmed { id } => format!("b:cc:{id}"),
        BroadcastChoice::Draft { nonce, action } => {
            let action = match action {
                DraftAction::Topic(id) => format!("t:{id}"),
                DraftAction::All => "all".into(),
                DraftAction::Narrow(kind) => format!("k:{}", kind.as_str()),
                DraftAction::Level(level) => format!("l:{}", level.code()),
                DraftAction::Workstation(id) => format!("w:{id}"),
                DraftAction::Sector(i) => format!("s:{i}"),
                DraftAction::Page(p) => format!("pg:{p}"),
                DraftAction::Back => "back".into(),
                DraftAction::Confirm => "ok".into(),
                DraftAction::EditText => "et".into(),
                DraftAction::EditAudience => "ea".into(),
                DraftAction::Cancel => "x".into(),
                DraftAction::PreviewButton => "pv".into(),
            };
            format!("b:{nonce}:{action}")
        }
    }
}

/// The choice a button's callback data stands for; `None` for data no button of ours carries.
pub fn decode(data: &str) -> Option<ChoiceId> {
    let parts: Vec<&str> = data.split(':').collect();
    let positive = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0);
    Some(match parts.as_slice() {
        ["n", nonce, rest @ ..] => {
            let nonce: u32 = nonce.parse().ok()?;
            match rest {
                ["t", id] => ChoiceId::Topic { nonce, topic_id: id.parse().ok().filter(|n| *n >= 0)? },
                ["k", code] => ChoiceId::Kind { nonce, kind: SuggestionKind::parse(code)? },
                ["done"] => ChoiceId::Done { nonce },
                ["p", code] => ChoiceId::Preview { nonce, action: value_of(&PREVIEW, code)? },
                _ => return None,
            }
        }
        ["s", id] => ChoiceId::Show { suggestion_id: id.parse().ok()? },
        ["new"] => ChoiceId::New { topic_id: None },
        ["new", id] => ChoiceId::New { topic_id: Some(id.parse().ok()?) },
        ["r", code, id] => ChoiceId::Review { act: value_of(&REVIEW, code)?, suggestion_id: positive(id)? },
        ["d", code, id] => ChoiceId::Department { act: value_of(&DEPARTMENT, code)?, suggestion_id: positive(id)? },
        ["rt", id, reply_no, code] => ChoiceId::Rating {
            suggestion_id: positive(id)?,
            reply_no: positive(reply_no)?,
            choice: value_of(&RATING, code)?,
        },
        ["w", nonce, op @ ..] => ChoiceId::StaffWizard { nonce: nonce.parse().ok()?, op: decode_op(op, false)? },
        ["dw", nonce, op @ ..] => ChoiceId::DepartmentWizard { nonce: nonce.parse().ok()?, op: decode_op(op, true)? },
        ["q", id] => ChoiceId::ReviewPage { after_id: id.parse().ok()? },
        ["dq", id] => ChoiceId::TodoPage { after_id: id.parse().ok()? },
        ["b", ..] => ChoiceId::Broadcast(decode_broadcast(&parts)?),
        ["wd", id] => ChoiceId::Withdraw { suggestion_id: positive(id)?, confirmed: false },
        ["wd", id, "y"] => ChoiceId::Withdraw { suggestion_id: positive(id)?, confirmed: true },
        ["jc", nonce, id] => {
            ChoiceId::JoinCosign { nonce: nonce.parse().ok()?, suggestion_id: positive(id)?, confirmed: false }
        }
        ["jc", nonce, id, "y"] => {
            ChoiceId::JoinCosign { nonce: nonce.parse().ok()?, suggestion_id: positive(id)?, confirmed: true }
        }
        ["cs", id, "y"] => ChoiceId::Cosign { suggestion_id: positive(id)?, accept: true },
        ["cs", id, "n"] => ChoiceId::Cosign { suggestion_id: positive(id)?, accept: false },
        ["ci", nonce, rest @ ..] => {
            let nonce: u32 = nonce.parse().ok()?;
            let op = match rest {
                ["p", id] => CosignerOp::Pick(positive(id)?),
                ["r", id] => CosignerOp::Remove(positive(id)?),
                ["ok"] => CosignerOp::Done,
                _ => return None,
            };
            ChoiceId::Cosigners { nonce, op }
        }
        _ => return None,
    })
}

/// A wizard's op; `c:` is a co-department for staff and a reply class for liaisons.
fn decode_op(op: &[&str], department: bool) -> Option<WizardOp> {
    let id = |s: &str| s.parse::<i64>().ok();
    Some(match op {
        ["x"] => WizardOp::Cancel,
        ["ok"] => WizardOp::Confirm,
        ["l", lead] if !department => WizardOp::Lead(id(lead)?),
        ["c", co] if !department => WizardOp::Co(id(co)?),
        ["n"] if !department => WizardOp::Next,
        ["d"] if !department => WizardOp::DefaultDeadline,
        ["c", code] if department => WizardOp::Class((*code).to_string()),
        ["s"] if department => WizardOp::SkipDocument,
        ["e"] if department => WizardOp::Rewrite,
        ["f"] if department => WizardOp::Letter,
        _ => return None,
    })
}

fn decode_broadcast(parts: &[&str]) -> Option<BroadcastChoice> {
    let id = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0);
    Some(match parts {
        ["b", "l"] => BroadcastChoice::List,
        ["b", "p", n] => BroadcastChoice::Progress { id: id(n)? },
        ["b", "c", n] => BroadcastChoice::Stop { id: id(n)? },
        ["b", "cc", n] => BroadcastChoice::StopConfirmed { id: id(n)? },
        ["b", nonce, rest @ ..] => {
            let nonce: u32 = nonce.parse().ok()?;
            let action = match rest {
                ["t", n] => DraftAction::Topic(n.parse().ok().filter(|n: &i64| *n >= 0)?),
                ["all"] => DraftAction::All,
                ["k", kind] => match AudienceKind::parse(kind)? {
                    AudienceKind::All => return None,
                    kind => DraftAction::Narrow(kind),
                },
                ["l", code] => DraftAction::Level(MemberLevel::parse(code)?),
                ["w", n] => DraftAction::Workstation(id(n)?),
                ["s", i] => DraftAction::Sector(i.parse().ok()?),
                ["pg", p] => DraftAction::Page(p.parse().ok()?),
                ["back"] => DraftAction::Back,
                ["ok"] => DraftAction::Confirm,
                ["et"] => DraftAction::EditText,
                ["ea"] => DraftAction::EditAudience,
                ["x"] => DraftAction::Cancel,
                ["pv"] => DraftAction::PreviewButton,
                _ => return None,
            };
            BroadcastChoice::Draft { nonce, action }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At least one id of every kind, with the largest numbers they can carry.
    fn every_kind() -> Vec<ChoiceId> {
        let big = i64::MAX;
        let mut all = vec![
            ChoiceId::Topic { nonce: u32::MAX, topic_id: big },
            ChoiceId::Topic { nonce: 1, topic_id: 0 },
            ChoiceId::Done { nonce: u32::MAX },
            ChoiceId::Show { suggestion_id: big },
            ChoiceId::New { topic_id: None },
            ChoiceId::New { topic_id: Some(big) },
            ChoiceId::ReviewPage { after_id: big },
            ChoiceId::TodoPage { after_id: big },
            ChoiceId::Broadcast(BroadcastChoice::List),
            ChoiceId::Broadcast(BroadcastChoice::Progress { id: big }),
            ChoiceId::Broadcast(BroadcastChoice::Stop { id: big }),
            ChoiceId::Broadcast(BroadcastChoice::StopConfirmed { id: big }),
            ChoiceId::Withdraw { suggestion_id: big, confirmed: false },
            ChoiceId::Withdraw { suggestion_id: big, confirmed: true },
            ChoiceId::Cosign { suggestion_id: big, accept: true },
            ChoiceId::Cosign { suggestion_id: big, accept: false },
            ChoiceId::Cosigners { nonce: u32::MAX, op: CosignerOp::Pick(big) },
            ChoiceId::Cosigners { nonce: u32::MAX, op: CosignerOp::Remove(big) },
            ChoiceId::Cosigners { nonce: u32::MAX, op: CosignerOp::Done },
            ChoiceId::JoinCosign { nonce: u32::MAX, suggestion_id: big, confirmed: false },
            ChoiceId::JoinCosign { nonce: u32::MAX, suggestion_id: big, confirmed: true },
        ];
        all.extend(SuggestionKind::ALL.iter().map(|kind| ChoiceId::Kind { nonce: u32::MAX, kind: *kind }));
        all.extend(PreviewAction::ALL.iter().map(|action| ChoiceId::Preview { nonce: u32::MAX, action: *action }));
        all.extend(REVIEW.iter().map(|(act, _)| ChoiceId::Review { act: *act, suggestion_id: big }));
        all.extend(DEPARTMENT.iter().map(|(act, _)| ChoiceId::Department { act: *act, suggestion_id: big }));
        all.extend(RATING.iter().map(|(choice, _)| ChoiceId::Rating {
            suggestion_id: big,
            reply_no: big,
            choice: *choice,
        }));
        for op in [
            WizardOp::Cancel,
            WizardOp::Lead(big),
            WizardOp::Co(big),
            WizardOp::Next,
            WizardOp::DefaultDeadline,
            WizardOp::Confirm,
        ] {
            all.push(ChoiceId::StaffWizard { nonce: u32::MAX, op });
        }
        for op in [
            WizardOp::Cancel,
            WizardOp::Class("A".into()),
            WizardOp::SkipDocument,
            WizardOp::Rewrite,
            WizardOp::Letter,
            WizardOp::Confirm,
        ] {
            all.push(ChoiceId::DepartmentWizard { nonce: u32::MAX, op });
        }
        let actions = [
            DraftAction::Topic(big),
            DraftAction::All,
            DraftAction::Narrow(AudienceKind::Level),
            DraftAction::Narrow(AudienceKind::Workstation),
            DraftAction::Narrow(AudienceKind::Sector),
            DraftAction::Workstation(big),
            DraftAction::Sector(usize::MAX),
            DraftAction::Page(usize::MAX),
            DraftAction::Back,
            DraftAction::Confirm,
            DraftAction::EditText,
            DraftAction::EditAudience,
            DraftAction::Cancel,
            DraftAction::PreviewButton,
        ];
        all.extend(actions.map(|action| ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: u32::MAX, action })));
        all.extend(
            MemberLevel::ALL
                .iter()
                .map(|l| ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 1, action: DraftAction::Level(*l) })),
        );
        all
    }

    #[test]
    fn every_choice_round_trips_within_64_bytes() {
        for choice in every_kind() {
            let data = encode(&choice).unwrap_or_else(|| panic!("{choice:?} has no callback data"));
            assert!(data.len() <= MAX_BYTES, "{data} is {} bytes", data.len());
            assert_eq!(decode(&data), Some(choice), "{data}");
        }
        // Acts that are not buttons have no data.
        assert_eq!(encode(&ChoiceId::Review { act: Act::View, suggestion_id: 1 }), None);
        assert_eq!(encode(&ChoiceId::Department { act: Act::Accept, suggestion_id: 1 }), None);
    }

    #[test]
    fn buttons_made_before_choices_were_typed_still_decode() {
        // Exactly as the earlier code wrote them (ButtonData, BroadcastButton, workflow::buttons,
        // the wizards and the pages).
        let old = [
            ("n:7:t:12", ChoiceId::Topic { nonce: 7, topic_id: 12 }),
            ("n:7:t:0", ChoiceId::Topic { nonce: 7, topic_id: 0 }),
            ("n:8:k:advice", ChoiceId::Kind { nonce: 8, kind: SuggestionKind::Advice }),
            ("n:8:k:opinion", ChoiceId::Kind { nonce: 8, kind: SuggestionKind::PublicOpinion }),
            ("n:9:done", ChoiceId::Done { nonce: 9 }),
            ("n:10:p:submit", ChoiceId::Preview { nonce: 10, action: PreviewAction::Submit }),
            ("n:10:p:discard", ChoiceId::Preview { nonce: 10, action: PreviewAction::Discard }),
            ("n:10:p:topic", ChoiceId::Preview { nonce: 10, action: PreviewAction::EditTopic }),
            ("n:10:p:kind", ChoiceId::Preview { nonce: 10, action: PreviewAction::EditKind }),
            ("n:10:p:title", ChoiceId::Preview { nonce: 10, action: PreviewAction::EditTitle }),
            ("n:10:p:add", ChoiceId::Preview { nonce: 10, action: PreviewAction::AddBody }),
            ("n:10:p:rewrite", ChoiceId::Preview { nonce: 10, action: PreviewAction::RewriteBody }),
            ("s:42", ChoiceId::Show { suggestion_id: 42 }),
            ("new", ChoiceId::New { topic_id: None }),
            ("new:3", ChoiceId::New { topic_id: Some(3) }),
            ("r:a:5", ChoiceId::Review { act: Act::Accept, suggestion_id: 5 }),
            ("r:r:5", ChoiceId::Review { act: Act::Reject, suggestion_id: 5 }),
            ("r:m:5", ChoiceId::Review { act: Act::Merge, suggestion_id: 5 }),
            ("r:s:5", ChoiceId::Review { act: Act::Assign, suggestion_id: 5 }),
            ("r:i:5", ChoiceId::Review { act: Act::Instruct, suggestion_id: 5 }),
            ("r:d:5", ChoiceId::Review { act: Act::Adopt, suggestion_id: 5 }),
            ("d:k:6", ChoiceId::Department { act: Act::Acknowledge, suggestion_id: 6 }),
            ("d:r:6", ChoiceId::Department { act: Act::Return, suggestion_id: 6 }),
            ("d:y:6", ChoiceId::Department { act: Act::Reply, suggestion_id: 6 }),
            ("d:o:6", ChoiceId::Department { act: Act::CoOpinion, suggestion_id: 6 }),
            (
                "rt:3:2:s",
                ChoiceId::Rating { suggestion_id: 3, reply_no: 2, choice: RatingChoice::Rate(Rating::Satisfied) },
            ),
            (
                "rt:3:2:b",
                ChoiceId::Rating {
                    suggestion_id: 3,
                    reply_no: 2,
                    choice: RatingChoice::Rate(Rating::BasicallySatisfied),
                },
            ),
            (
                "rt:3:2:d",
                ChoiceId::Rating { suggestion_id: 3, reply_no: 2, choice: RatingChoice::Rate(Rating::Dissatisfied) },
            ),
            ("rt:3:2:x", ChoiceId::Rating { suggestion_id: 3, reply_no: 2, choice: RatingChoice::SkipReason }),
            ("w:12:x", ChoiceId::StaffWizard { nonce: 12, op: WizardOp::Cancel }),
            ("w:12:l:4", ChoiceId::StaffWizard { nonce: 12, op: WizardOp::Lead(4) }),
            ("w:12:c:5", ChoiceId::StaffWizard { nonce: 12, op: WizardOp::Co(5) }),
            ("w:12:n", ChoiceId::StaffWizard { nonce: 12, op: WizardOp::Next }),
            ("w:12:d", ChoiceId::StaffWizard { nonce: 12, op: WizardOp::DefaultDeadline }),
            ("w:12:ok", ChoiceId::StaffWizard { nonce: 12, op: WizardOp::Confirm }),
            ("dw:13:c:B", ChoiceId::DepartmentWizard { nonce: 13, op: WizardOp::Class("B".into()) }),
            ("dw:13:s", ChoiceId::DepartmentWizard { nonce: 13, op: WizardOp::SkipDocument }),
            ("dw:13:e", ChoiceId::DepartmentWizard { nonce: 13, op: WizardOp::Rewrite }),
            ("dw:13:ok", ChoiceId::DepartmentWizard { nonce: 13, op: WizardOp::Confirm }),
            ("dw:13:x", ChoiceId::DepartmentWizard { nonce: 13, op: WizardOp::Cancel }),
            ("q:9", ChoiceId::ReviewPage { after_id: 9 }),
            ("dq:9", ChoiceId::TodoPage { after_id: 9 }),
            ("b:l", ChoiceId::Broadcast(BroadcastChoice::List)),
            ("b:p:2", ChoiceId::Broadcast(BroadcastChoice::Progress { id: 2 })),
            ("b:c:2", ChoiceId::Broadcast(BroadcastChoice::Stop { id: 2 })),
            ("b:cc:2", ChoiceId::Broadcast(BroadcastChoice::StopConfirmed { id: 2 })),
            ("b:4:t:0", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::Topic(0) })),
            ("b:4:all", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::All })),
            (
                "b:4:k:sector",
                ChoiceId::Broadcast(BroadcastChoice::Draft {
                    nonce: 4,
                    action: DraftAction::Narrow(AudienceKind::Sector),
                }),
            ),
            (
                "b:4:l:street",
                ChoiceId::Broadcast(BroadcastChoice::Draft {
                    nonce: 4,
                    action: DraftAction::Level(MemberLevel::Street),
                }),
            ),
            ("b:4:w:3", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::Workstation(3) })),
            ("b:4:s:1", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::Sector(1) })),
            ("b:4:pg:2", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::Page(2) })),
            ("b:4:back", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::Back })),
            ("b:4:ok", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::Confirm })),
            ("b:4:et", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::EditText })),
            ("b:4:ea", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::EditAudience })),
            ("b:4:x", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::Cancel })),
            ("b:4:pv", ChoiceId::Broadcast(BroadcastChoice::Draft { nonce: 4, action: DraftAction::PreviewButton })),
        ];
        for (data, choice) in old {
            assert_eq!(decode(data), Some(choice.clone()), "{data}");
            assert_eq!(encode(&choice).as_deref(), Some(data), "{choice:?} is written as before");
        }
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "x",
            "n:1",
            "n:x:done",
            "n:1:t:-1",
            "n:1:k:poem",
            "n:1:p:maybe",
            "s:x",
            "new:x",
            "r:z:1",
            "r:a:-1",
            "r:a:x",
            "d:a:1",
            "rt:1:1:q",
            "rt:1:0:s",
            "r:a:1:2",
            "w:x:ok",
            "w:1:zz",
            "w:1:c:x",
            "dw:1:n",
            "q:x",
            "b:",
            "b:zz",
            "b:1:w:abc",
            "b:p:-3",
            "b:1:k:all",
            "n",
            "s:abc",
            "p:submit",
            "n:1:p:nuke",
            "n:1:t:-5",
            "b",
            "b:p",
            "b:p:0",
            "b:p:x",
            "b:1",
            "b:1:l:省",
            "b:x:ok",
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
