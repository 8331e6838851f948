//! 联名 in the member dialog: the lead member invites co-signers from the preview (typed names or
//! member numbers; members of the same name told apart by workstation and level), the invitations
//! pushed on submission, and an invited member's 同意联名 / 不同意 (through `workflow::plan`); and
//! co-signing an alike suggestion listed at the preview instead of filing the draft.

use std::fmt::Write;

use super::{Dialogue, Invitee, Step, TopicChoice};
use crate::choice::{ChoiceId, CosignerOp, PreviewAction};
use crate::domain::SuggestionState;
use crate::locale::{Lang, Texts};
use crate::reply::{Action, Choice, Keyboard};
use crate::store::{Addressee, CosignStatus, Facts, Member, OutMessage, Recipient, StoreError};
use crate::workflow::{self, Actor, Command};

/// An existing suggestion like the draft, as listed at the preview.
pub(super) struct Alike {
    pub id: i64,
    pub reference: String,
    pub title: String,
    pub state: SuggestionState,
    /// Whether the member may co-sign it instead (`workflow::commands::join_cosign` says what
    /// that takes): it awaits staff (已提交), it is not theirs, and they are not on it already.
    pub joinable: bool,
}

/// Most members of one name offered to choose from.
const CANDIDATES_MAX: usize = 8;

/// The names or member numbers in what the lead typed: one per comma, 、, semicolon or line.
fn typed_names(text: &str) -> Vec<String> {
    text.split([',', '，', '、', ';', '；', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// An invitation to co-sign, as pushed to an invited member, with its deadline and its buttons.
pub struct Invitation<'a> {
    pub lead: &'a str,
    pub reference: &'a str,
    pub title: &'a str,
    pub points: &'a [String],
    /// When it closes, local time, `YYYY-MM-DD HH:MM`.
    pub deadline: &'a str,
    pub suggestion_id: i64,
}

impl Invitation<'_> {
    /// The push to one invited member: to their chat, or kept until they write to the bot.
    pub fn message(&self, texts: &Texts, member_id: i64, recipient: Option<&Recipient>) -> OutMessage {
        let lang = texts.lang_for(recipient.and_then(|r| r.language.as_deref()));
        let payload = Action::with_keyboard(self.text(texts, lang), self.keyboard(texts, lang)).encode();
        match recipient {
            Some(r) => OutMessage::notification(r.chat_id, payload),
            None => OutMessage::held(Addressee::Member(member_id), Some(self.suggestion_id), payload),
        }
    }

    fn text(&self, texts: &Texts, lang: Lang) -> String {
        let points: String = self.points.iter().enumerate().map(|(i, p)| format!("{}. {p}\n", i + 1)).collect();
        texts.t(
            lang,
            "cosign.invitation",
            &[
                ("lead", &self.lead),
                ("reference", &self.reference),
                ("title", &self.title),
                ("points", &points.trim_end()),
                ("deadline", &self.deadline),
            ],
        )
    }

    fn keyboard(&self, texts: &Texts, lang: Lang) -> Keyboard {
        let b = |key: &str, accept| {
            Choice::new(texts.t(lang, key, &[]), ChoiceId::Cosign { suggestion_id: self.suggestion_id, accept })
        };
        Keyboard::Choices(vec![vec![b("cosign.accept", true), b("cosign.decline", false)]])
    }
}

impl Dialogue<'_, '_> {
    /// The question of the co-signers step: who is invited so far, the members of one name to
    /// choose between, and the buttons to take one off or go back to the preview.
    pub(super) fn ask_cosigners(&mut self, nonce: u32) {
        let Some(sub) = self.dialog.submission() else { return };
        let (invited, choosing) = (sub.draft.cosigners.clone(), sub.draft.choosing.clone());
        let max = self.ctx.config.workflow.cosign_max;
        let mut text = self.ta("cosign.ask", &[("max", &max)]);
        if invited.is_empty() {
            let _ = write!(text, "\n\n{}", self.t("cosign.none_yet"));
        } else {
            let _ = write!(text, "\n\n{}", self.t("cosign.invited_header"));
            for (i, c) in invited.iter().enumerate() {
                let _ = write!(text, "\n{}. {}（{}）", i + 1, c.name, c.detail);
            }
        }
        let b = |label: String, op| Choice::new(label, ChoiceId::Cosigners { nonce, op });
        let mut rows: Vec<Vec<Choice>> = Vec::new();
        if let Some(first) = choosing.first() {
            let _ = write!(text, "\n\n{}", self.ta("cosign.choose", &[("name", &first.name)]));
            rows.extend(
                choosing.iter().map(|c| vec![b(format!("{}（{}）", c.name, c.detail), CosignerOp::Pick(c.member_id))]),
            );
        }
        let removes: Vec<Choice> = invited
            .iter()
            .map(|c| b(self.ta("cosign.remove", &[("name", &c.name)]), CosignerOp::Remove(c.member_id)))
            .collect();
        rows.extend(Self::button_rows(removes, 2));
        rows.push(vec![b(self.t("cosign.done"), CosignerOp::Done)]);
        self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
    }

    /// Names or member numbers typed at the co-signers step: each found member is invited (not
    /// the lead, not twice, not past `workflow.cosign_max`); several of one name are offered to
    /// choose from; what was not found is said.
    pub(super) async fn cosigners_typed(&mut self, lead: &Member, text: &str) -> Result<(), StoreError> {
        let mut said = Vec::new();
        let mut choosing = Vec::new();
        for name in typed_names(text) {
            let found = self.ctx.store.cosign_candidates(&name, CANDIDATES_MAX).await?;
            match found.as_slice() {
                [] => said.push(self.ta("cosign.not_found", &[("name", &name)])),
                [one] => said.push(self.invite(lead, one)),
                several => {
                    choosing = several.iter().map(|m| self.invitee(m)).collect();
                }
            }
        }
        self.sub().draft.choosing = choosing;
        if !said.is_empty() {
            self.out.say(Action::text(said.join("\n")));
        }
        self.ask().await
    }

    /// A button of the co-signers step.
    pub(super) async fn cosigners_button(&mut self, lead: &Member, op: CosignerOp) -> Result<(), StoreError> {
        match op {
            CosignerOp::Pick(member_id) => {
                let offered = self.sub().draft.choosing.iter().any(|c| c.member_id == member_id);
                let member = match offered {
                    true => self.ctx.store.member_by_id(member_id).await?,
                    false => None,
                };
                self.sub().draft.choosing.clear();
                if let Some(member) = member {
                    let said = self.invite(lead, &member);
                    self.out.say(Action::text(said));
                }
                self.ask().await
            }
            CosignerOp::Remove(member_id) => {
                self.sub().draft.cosigners.retain(|c| c.member_id != member_id);
                self.ask().await
            }
            CosignerOp::Done => {
                let sub = self.sub();
                sub.draft.choosing.clear();
                sub.draft.editing = false;
                sub.step = Step::Preview;
                self.ask().await
            }
        }
    }

    fn invitee(&self, m: &Member) -> Invitee {
        let workstation = m.workstation.clone().unwrap_or_else(|| self.t("cosign.no_workstation"));
        let detail = self.ta(
            "cosign.detail",
            &[("member_no", &m.member_no), ("workstation", &workstation), ("level", &m.level.label())],
        );
        Invitee { member_id: m.id, name: m.name.clone(), detail }
    }

    /// Adds `m` to the draft's co-signers if they may be invited; says what became of it.
    fn invite(&mut self, lead: &Member, m: &Member) -> String {
        let max = self.ctx.config.workflow.cosign_max;
        let invitee = self.invitee(m);
        let list = &self.sub().draft.cosigners;
        let (listed, full) = (list.iter().any(|c| c.member_id == m.id), list.len() >= max);
        if m.id == lead.id {
            self.t("cosign.not_yourself")
        } else if !m.active {
            self.ta("cosign.not_found", &[("name", &m.name)])
        } else if listed {
            self.ta("cosign.already_listed", &[("name", &m.name)])
        } else if full {
            self.ta("cosign.too_many", &[("max", &max)])
        } else {
            self.sub().draft.cosigners.push(invitee);
            self.ta("cosign.added", &[("name", &m.name)])
        }
    }

    /// 领衔 and 联名 (the members who accepted) of a suggestion with invitations; `None` without.
    pub(super) async fn signers_line(&mut self, f: &Facts) -> Result<Option<String>, StoreError> {
        if f.cosigners.is_empty() {
            return Ok(None);
        }
        let lead = self.ctx.store.member_by_id(f.member_id).await?.map(|m| m.name).unwrap_or_default();
        let accepted: Vec<&str> =
            f.cosigners.iter().filter(|c| c.status == CosignStatus::Accepted).map(|c| c.name.as_str()).collect();
        let cosigners = if accepted.is_empty() { self.t("cosign.nobody") } else { accepted.join("、") };
        Ok(Some(self.ta("cosign.signers", &[("lead", &lead), ("cosigners", &cosigners)])))
    }

    /// 「🤝 联名 PD-…」 at the preview: first asks whether to co-sign that suggestion instead, saying
    /// that the draft is then discarded (the member chose to support the other one rather than file
    /// a second on the same matter); once confirmed, plans `Command::JoinCosign` and ends the
    /// dialog. A refusal (staff accepted it meanwhile, …) is said and the preview shown again, the
    /// draft kept.
    pub(super) async fn join_cosign(
        &mut self,
        member: &Member,
        suggestion_id: i64,
        confirmed: bool,
    ) -> Result<(), StoreError> {
        let nonce = self.dialog.nonce;
        let topic_id = self.sub().draft.topic.and_then(TopicChoice::id);
        if !confirmed {
            let Some(f) = self.ctx.store.facts(suggestion_id).await? else {
                self.refuse(&workflow::Refusal::NotFound, true);
                return self.ask().await;
            };
            let text = self.ta("preview.join_confirm", &[("reference", &f.reference_no), ("title", &f.title)]);
            let rows = vec![vec![
                Choice::new(self.t("preview.join_yes"), ChoiceId::JoinCosign { nonce, suggestion_id, confirmed: true }),
                Choice::new(self.t("preview.back"), ChoiceId::Preview { nonce, action: PreviewAction::Back }),
            ]];
            self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
            self.out.state = Some(self.dialog.clone());
            return Ok(());
        }
        // The console's preview is a sandbox: its test member co-signs nothing real.
        let planned = if crate::store::console::is_preview_chat(self.person.chat_id) {
            Err(workflow::Refusal::Denied)
        } else {
            workflow::plan(self.ctx, &Actor::Member(member), suggestion_id, Command::JoinCosign { topic_id }).await?
        };
        match planned {
            Ok(change) => {
                let reference = self.ctx.store.facts(suggestion_id).await?.map(|f| f.reference_no).unwrap_or_default();
                self.out.change = Some(change);
                let text = self.ta("preview.joined", &[("reference", &reference)]);
                self.out.notice = Some(self.t("preview.join_yes"));
                self.out.say(Action::with_keyboard(text, self.menu()));
                self.finish();
                Ok(())
            }
            Err(refusal) => {
                self.refuse(&refusal, true);
                self.ask().await
            }
        }
    }

    /// An invited member's 同意联名 / 不同意, planned as `Command::Cosign`.
    pub(super) async fn cosign_answer(
        &mut self,
        member: &Member,
        message_id: i32,
        suggestion_id: i64,
        accept: bool,
    ) -> Result<(), StoreError> {
        let planned =
            workflow::plan(self.ctx, &Actor::Member(member), suggestion_id, Command::Cosign { accept }).await?;
        self.clear_buttons(&[message_id]);
        match planned {
            Ok(change) => {
                self.out.change = Some(change);
                let key = if accept { "cosign.accepted" } else { "cosign.declined" };
                let text = self.t(key);
                self.out.notice = Some(text.clone());
                self.out.say(Action::text(text));
            }
            Err(refusal) => self.refuse(&refusal, true),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::typed_names;

    #[test]
    fn names_are_split_on_chinese_and_western_separators() {
        assert_eq!(typed_names("张三，李四、PD003;王 五\n\n赵六 "), ["张三", "李四", "PD003", "王 五", "赵六"]);
        assert!(typed_names(" ，、 ").is_empty());
    }
}
