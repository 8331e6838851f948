//! Staff compose topic announcements for members: topic → text → audience → preview → confirm.
//!
//! Confirming asks for the broadcast and one outbox message per member reached (an
//! `Effect::CreateBroadcast`), written in the update's transaction together with this chat's
//! dialog state without the draft: a confirmation handled again (a retry, a replayed update)
//! finds no draft and sends nothing twice.
//! The delivery worker sends the messages at Telegram's pace; staff follow and stop them here.
//!
//! Choices are `ChoiceId::Broadcast`: draft choices carry the dialog's nonce (an old keyboard is
//! stale), progress choices carry the broadcast id and are checked against the store.

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

use super::{Dialogue, Flow, Input, TopicChoice, truncate};
use crate::choice::{BroadcastChoice, ChoiceId, DraftAction};
use crate::conversation::ChatCommand;
use crate::locale::{Lang, Texts};
use crate::outreach::{self, Refusal};
use crate::reply::{Action, Choice, Keyboard};
use crate::store::{
    Audience, AudienceKind, AudienceOption, BroadcastProgress, Effect, MemberCopyFn, NewBroadcast, OutMessage,
    QueuedFn, Staff, StoppedFn, StoreError, Topic,
};

pub use crate::outreach::{TEXT_MAX_UTF16, text_len};

/// Workstation or sector buttons per page (Pudong has 36 workstations).
const PAGE_SIZE: usize = 12;
/// Broadcasts listed with their progress.
const RECENT: usize = 5;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BroadcastStep {
    #[default]
    Topic,
    Text,
    Audience,
    Level,
    Workstation,
    Sector,
    Preview,
}

/// A broadcast being composed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BroadcastDraft {
    pub step: BroadcastStep,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<TopicChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// The page of the workstation or sector list on screen.
    #[serde(default)]
    pub page: usize,
    /// The sectors offered, in button order: buttons carry the index (names can be long).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<String>,
    /// Came from the preview to change the text: back to the preview after it.
    #[serde(default)]
    pub editing: bool,
}

impl DraftAction {
    /// The steps at which the button can be pressed.
    fn fits(self, step: BroadcastStep) -> bool {
        use BroadcastStep as S;
        match self {
            Self::Topic(_) => step == S::Topic,
            Self::All | Self::Narrow(_) => step == S::Audience,
            Self::Level(_) => step == S::Level,
            Self::Workstation(_) => step == S::Workstation,
            Self::Sector(_) => step == S::Sector,
            Self::Page(_) => matches!(step, S::Workstation | S::Sector),
            Self::Back => matches!(step, S::Level | S::Workstation | S::Sector),
            Self::Confirm | Self::EditText | Self::EditAudience => step == S::Preview,
            Self::Cancel | Self::PreviewButton => true,
        }
    }
}

/// The member's copy of an announcement (`outreach::member_copy`) as the bot sends it.
pub fn member_copy(texts: &Texts, lang: Lang, text: &str, topic: Option<&Topic>) -> Action {
    let copy = outreach::member_copy(texts, lang, text, topic);
    let button = Choice::new(copy.button, ChoiceId::New { topic_id: copy.topic_id });
    Action::with_keyboard(copy.text, Keyboard::Choices(vec![vec![button]]))
}

/// A broadcast's progress for staff, after `note` if given, with refresh (and stop while sending).
fn progress_action(
    texts: &Texts,
    lang: Lang,
    offset: FixedOffset,
    p: &BroadcastProgress,
    note: Option<String>,
) -> Action {
    let t = |key: &str| texts.t(lang, key, &[]);
    let date = p.created_at.with_timezone(&offset).format("%Y-%m-%d %H:%M").to_string();
    let topic = p.topic_title.clone().unwrap_or_else(|| t("broadcast.topic_none"));
    let audience = outreach::audience_label(texts, lang, p.audience_kind, &p.audience_value);
    let status = t(if p.cancelled {
        "broadcast.status_cancelled"
    } else if p.pending > 0 {
        "broadcast.status_sending"
    } else {
        "broadcast.status_done"
    });
    let mut text = texts.t(
        lang,
        "broadcast.progress",
        &[
            ("id", &p.id),
            ("date", &date),
            ("topic", &topic),
            ("audience", &audience),
            ("total", &p.total),
            ("sent", &p.sent),
            ("pending", &p.pending),
            ("failed", &p.failed),
            ("blocked", &p.blocked),
            ("uncertain", &p.uncertain),
            ("not_sent", &p.not_sent),
            ("status", &status),
        ],
    );
    if let Some(note) = note {
        text = format!("{note}\n\n{text}");
    }
    let id = p.id;
    let mut row = vec![Choice::new(t("broadcast.refresh"), ChoiceId::Broadcast(BroadcastChoice::Progress { id }))];
    if !p.cancelled && p.pending > 0 {
        row.push(Choice::new(t("broadcast.stop"), ChoiceId::Broadcast(BroadcastChoice::Stop { id })));
    }
    Action::with_keyboard(text, Keyboard::Choices(vec![row]))
}

fn pages(len: usize) -> usize {
    len.div_ceil(PAGE_SIZE).max(1)
}

impl Dialogue<'_, '_> {
    pub(super) async fn broadcast_input(&mut self, staff: &Staff, input: Input) -> Result<(), StoreError> {
        match input {
            Input::Choice { message_id, choice: Some(ChoiceId::Broadcast(choice)) } => {
                self.broadcast_button(staff, message_id, choice).await
            }
            Input::Choice { .. } => {
                tracing::warn!(staff_id = staff.id, "refused a broadcast choice that cannot be read");
                self.out.notice = Some(self.t("button.invalid"));
                Ok(())
            }
            Input::Command { name, arg } => {
                let wants_list = ChatCommand::parse(&name) == Some(ChatCommand::Broadcasts)
                    || arg.as_deref().is_some_and(|a| matches!(a.trim(), "list" | "progress" | "进度"));
                if wants_list {
                    return self.broadcast_list().await;
                }
                if self.dialog.broadcast().is_some() {
                    let text = self.t("broadcast.busy");
                    self.out.say(Action::text(text));
                } else {
                    self.drop_task();
                    self.dialog.flow = Flow::Broadcast(BroadcastDraft::default());
                }
                self.broadcast_ask().await
            }
            _ if self.dialog.broadcast().is_none() => {
                let text = self.t("help.staff");
                self.out.say(Action::with_keyboard(text, self.staff_menu()));
                Ok(())
            }
            Input::Text(text) => self.broadcast_text(&text).await,
            Input::Attachment { .. } | Input::Unsupported(_) => {
                let key = if self.broadcast_step() == Some(BroadcastStep::Text) {
                    "broadcast.text_only"
                } else {
                    "broadcast.use_buttons"
                };
                let text = self.t(key);
                self.out.say(Action::text(text));
                self.broadcast_ask().await
            }
            Input::Edited => {
                let text = self.t("input.edited");
                self.out.say(Action::text(text));
                self.broadcast_ask().await
            }
            Input::NotPrivate => Ok(()),
        }
    }

    fn broadcast_step(&self) -> Option<BroadcastStep> {
        self.dialog.broadcast().map(|d| d.step)
    }

    fn draft_mut(&mut self) -> &mut BroadcastDraft {
        if self.dialog.broadcast().is_none() {
            self.dialog.flow = Flow::Broadcast(BroadcastDraft::default());
        }
        let Flow::Broadcast(draft) = &mut self.dialog.flow else { unreachable!("begun above") };
        draft
    }

    fn draft_button(&self, key: &str, nonce: u32, action: DraftAction) -> Choice {
        Choice::new(self.t(key), ChoiceId::Broadcast(BroadcastChoice::Draft { nonce, action }))
    }

    fn option_button(&self, option: &AudienceOption, nonce: u32, action: DraftAction) -> Choice {
        let label =
            self.ta("broadcast.option", &[("label", &truncate(&option.label, 16)), ("count", &option.reachable)]);
        Choice::new(label, ChoiceId::Broadcast(BroadcastChoice::Draft { nonce, action }))
    }

    /// Leaves the composer; the nonce moves on so that no old button matches.
    fn broadcast_finish(&mut self) {
        if self.dialog.broadcast().is_some() {
            self.dialog.flow = Flow::Idle;
        }
        self.dialog.nonce += 1;
        self.out.state = Some(self.dialog.clone());
    }

    /// Moves on after a step was answered: back to the preview when editing, else to `next`.
    async fn broadcast_advance(&mut self, next: BroadcastStep) -> Result<(), StoreError> {
        let draft = self.draft_mut();
        draft.step = if draft.editing { BroadcastStep::Preview } else { next };
        draft.editing = false;
        self.broadcast_ask().await
    }

    /// Asks the question of the current step, with fresh buttons, and saves the state.
    async fn broadcast_ask(&mut self) -> Result<(), StoreError> {
        let Some(draft) = self.dialog.broadcast().cloned() else { return Ok(()) };
        self.dialog.nonce += 1;
        let nonce = self.dialog.nonce;
        let cancel = self.draft_button("broadcast.cancel", nonce, DraftAction::Cancel);
        match draft.step {
            BroadcastStep::Topic => {
                let (store, texts, now) = (self.ctx.store, self.ctx.texts, self.ctx.now);
                let options = outreach::topic_picker(store, texts, self.lang, "broadcast.topic_none", now).await?;
                let key = if options.len() == 1 { "broadcast.ask_topic_empty" } else { "broadcast.ask_topic" };
                let mut rows: Vec<Vec<Choice>> = options
                    .into_iter()
                    .map(|o| {
                        vec![Choice::new(
                            o.label,
                            ChoiceId::Broadcast(BroadcastChoice::Draft { nonce, action: DraftAction::Topic(o.id) }),
                        )]
                    })
                    .collect();
                rows.push(vec![
                    Choice::new(self.t("broadcast.list_button"), ChoiceId::Broadcast(BroadcastChoice::List)),
                    cancel,
                ]);
                let text = self.t(key);
                self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
            }
            BroadcastStep::Text => {
                let text = self.ta("broadcast.ask_text", &[("max", &TEXT_MAX_UTF16)]);
                self.out.say(Action::with_keyboard(text, Keyboard::Choices(vec![vec![cancel]])));
            }
            BroadcastStep::Audience => {
                let everyone = self.ctx.store.audience_reach(&Audience::All).await?;
                let all = Choice::new(
                    self.ta("broadcast.audience_all_button", &[("count", &everyone)]),
                    ChoiceId::Broadcast(BroadcastChoice::Draft { nonce, action: DraftAction::All }),
                );
                let rows = vec![
                    vec![all],
                    vec![
                        self.draft_button("broadcast.by_level", nonce, DraftAction::Narrow(AudienceKind::Level)),
                        self.draft_button(
                            "broadcast.by_workstation",
                            nonce,
                            DraftAction::Narrow(AudienceKind::Workstation),
                        ),
                        self.draft_button("broadcast.by_sector", nonce, DraftAction::Narrow(AudienceKind::Sector)),
                    ],
                    vec![cancel],
                ];
                let text = self.t("broadcast.ask_audience");
                self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
            }
            BroadcastStep::Level => {
                let options = self.ctx.store.audience_options(AudienceKind::Level).await?;
                let levels: Vec<Choice> = options
                    .iter()
                    .filter_map(|o| match o.audience {
                        Audience::Level(level) => Some(self.option_button(o, nonce, DraftAction::Level(level))),
                        _ => None,
                    })
                    .collect();
                let rows = vec![levels, vec![self.draft_button("broadcast.back", nonce, DraftAction::Back), cancel]];
                let text = self.t("broadcast.ask_level");
                self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
            }
            BroadcastStep::Workstation | BroadcastStep::Sector => {
                let workstations = draft.step == BroadcastStep::Workstation;
                let kind = if workstations { AudienceKind::Workstation } else { AudienceKind::Sector };
                let options = self.ctx.store.audience_options(kind).await?;
                if options.is_empty() {
                    let key = if workstations { "broadcast.no_workstations" } else { "broadcast.no_sectors" };
                    let text = self.t(key);
                    self.out.say(Action::text(text));
                    self.draft_mut().step = BroadcastStep::Audience;
                    return Box::pin(self.broadcast_ask()).await;
                }
                let pages = pages(options.len());
                let page = draft.page.min(pages - 1);
                let draft = self.draft_mut();
                draft.page = page;
                draft.sectors =
                    if workstations { Vec::new() } else { options.iter().map(|o| o.label.clone()).collect() };
                let buttons: Vec<Choice> = options
                    .iter()
                    .enumerate()
                    .skip(page * PAGE_SIZE)
                    .take(PAGE_SIZE)
                    .map(|(i, o)| {
                        let action = match o.audience {
                            Audience::Workstation(id) => DraftAction::Workstation(id),
                            _ => DraftAction::Sector(i),
                        };
                        self.option_button(o, nonce, action)
                    })
                    .collect();
                let mut rows: Vec<Vec<Choice>> = buttons.chunks(2).map(<[Choice]>::to_vec).collect();
                let mut nav = Vec::new();
                if page > 0 {
                    nav.push(self.draft_button("broadcast.prev_page", nonce, DraftAction::Page(page - 1)));
                }
                if page + 1 < pages {
                    nav.push(self.draft_button("broadcast.next_page", nonce, DraftAction::Page(page + 1)));
                }
                if !nav.is_empty() {
                    rows.push(nav);
                }
                rows.push(vec![self.draft_button("broadcast.back", nonce, DraftAction::Back), cancel]);
                let key = if workstations { "broadcast.ask_workstation" } else { "broadcast.ask_sector" };
                let text = self.ta(key, &[("page", &(page + 1)), ("pages", &pages)]);
                self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
            }
            BroadcastStep::Preview => self.broadcast_preview(&draft, nonce, cancel).await?,
        }
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    async fn broadcast_preview(
        &mut self,
        draft: &BroadcastDraft,
        nonce: u32,
        cancel: Choice,
    ) -> Result<(), StoreError> {
        let (Some(topic), Some(text), Some(audience)) = (draft.topic, draft.text.as_deref(), draft.audience.as_ref())
        else {
            return Err(StoreError::Corrupt("a broadcast preview without topic, text or audience".into()));
        };
        let topic = match topic.id() {
            Some(id) => self.ctx.store.topic(id).await?,
            None => None,
        };
        // The member's copy exactly as members get it; its button only explains itself here.
        let copy = match member_copy(self.ctx.texts, self.lang, text, topic.as_ref()) {
            Action::Send { text, keyboard: Keyboard::Choices(rows), .. } => {
                let rows = rows
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|b| {
                                let id = BroadcastChoice::Draft { nonce, action: DraftAction::PreviewButton };
                                Choice::new(b.text, ChoiceId::Broadcast(id))
                            })
                            .collect()
                    })
                    .collect();
                Action::with_keyboard(text, Keyboard::Choices(rows))
            }
            other => other,
        };
        self.out.say(copy);
        let count = self.ctx.store.audience_reach(audience).await?;
        let topic_title = match &topic {
            Some(t) => t.title.clone(),
            None => self.t("broadcast.topic_none"),
        };
        let audience_label = self.audience_label(audience).await?;
        let args: [(&str, &dyn std::fmt::Display); 3] =
            [("topic", &topic_title), ("audience", &audience_label), ("count", &count)];
        let change = self.draft_button("broadcast.edit_audience", nonce, DraftAction::EditAudience);
        let (text, rows) = if count == 0 {
            (self.ta("broadcast.preview_nobody", &args), vec![vec![change, cancel]])
        } else {
            (
                self.ta("broadcast.preview", &args),
                vec![
                    vec![self.draft_button("broadcast.confirm", nonce, DraftAction::Confirm)],
                    vec![self.draft_button("broadcast.edit_text", nonce, DraftAction::EditText), change],
                    vec![cancel],
                ],
            )
        };
        self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
        Ok(())
    }

    async fn audience_label(&mut self, audience: &Audience) -> Result<String, StoreError> {
        let value = outreach::audience_value(self.ctx.store, audience).await?;
        Ok(self.stored_audience_label(audience.kind(), &value))
    }

    fn stored_audience_label(&self, kind: AudienceKind, value: &str) -> String {
        outreach::audience_label(self.ctx.texts, self.lang, kind, value)
    }

    async fn broadcast_text(&mut self, text: &str) -> Result<(), StoreError> {
        if self.broadcast_step() != Some(BroadcastStep::Text) {
            let text = self.t("broadcast.use_buttons");
            self.out.say(Action::text(text));
            return self.broadcast_ask().await;
        }
        let text = match outreach::announcement_text(text) {
            Ok(text) => text,
            Err(refusal) => {
                let problem = match refusal {
                    Refusal::TextTooLong { len } => {
                        self.ta("broadcast.text_too_long", &[("max", &TEXT_MAX_UTF16), ("len", &len)])
                    }
                    _ => self.t("broadcast.text_empty"),
                };
                self.out.say(Action::text(problem));
                return self.broadcast_ask().await;
            }
        };
        self.draft_mut().text = Some(text);
        self.broadcast_advance(BroadcastStep::Audience).await
    }

    async fn broadcast_button(
        &mut self,
        staff: &Staff,
        message_id: i32,
        button: BroadcastChoice,
    ) -> Result<(), StoreError> {
        let (nonce, action) = match button {
            BroadcastChoice::List => return self.broadcast_list().await,
            BroadcastChoice::Progress { id } => return self.broadcast_show(id, None).await,
            BroadcastChoice::Stop { id } => return self.broadcast_stop_ask(id).await,
            BroadcastChoice::StopConfirmed { id } => return self.broadcast_stop(staff, id).await,
            BroadcastChoice::Draft { nonce, action } => (nonce, action),
        };
        if action == DraftAction::PreviewButton {
            self.out.notice = Some(self.t("broadcast.preview_button"));
            return Ok(());
        }
        let current = self.broadcast_step().filter(|step| nonce == self.dialog.nonce && action.fits(*step));
        let Some(step) = current else {
            self.out.notice = Some(self.t("button.stale"));
            let text = self.t("button.stale");
            self.out.say(Action::text(text));
            return self.broadcast_ask().await;
        };
        self.out.say(Action::Retire { message_id });
        match action {
            DraftAction::Topic(0) => {
                self.draft_mut().topic = Some(TopicChoice::General);
                self.broadcast_advance(BroadcastStep::Text).await
            }
            DraftAction::Topic(id) => match outreach::open_topic(self.ctx.store, id, self.ctx.now).await? {
                Some(topic) => {
                    let text = self.ta("broadcast.topic_chosen", &[("title", &topic.title)]);
                    self.out.say(Action::text(text));
                    self.draft_mut().topic = Some(TopicChoice::Topic(topic.id));
                    self.broadcast_advance(BroadcastStep::Text).await
                }
                _ => {
                    self.out.notice = Some(self.t("broadcast.topic_closed"));
                    let text = self.t("broadcast.topic_closed");
                    self.out.say(Action::text(text));
                    self.broadcast_ask().await
                }
            },
            DraftAction::All => self.broadcast_choose(Audience::All).await,
            DraftAction::Level(level) => self.broadcast_choose(Audience::Level(level)).await,
            DraftAction::Workstation(id) => {
                if let Some(known) = outreach::known_audience(self.ctx.store, Audience::Workstation(id)).await? {
                    self.broadcast_choose(known).await
                } else {
                    self.out.notice = Some(self.t("button.invalid"));
                    self.broadcast_ask().await
                }
            }
            DraftAction::Sector(i) => match self.draft_mut().sectors.get(i).cloned() {
                Some(sector) => self.broadcast_choose(Audience::Sector(sector)).await,
                None => {
                    self.out.notice = Some(self.t("button.invalid"));
                    self.broadcast_ask().await
                }
            },
            DraftAction::Narrow(kind) => {
                let draft = self.draft_mut();
                draft.page = 0;
                draft.step = match kind {
                    AudienceKind::All => return self.broadcast_choose(Audience::All).await,
                    AudienceKind::Level => BroadcastStep::Level,
                    AudienceKind::Workstation => BroadcastStep::Workstation,
                    AudienceKind::Sector => BroadcastStep::Sector,
                };
                self.broadcast_ask().await
            }
            DraftAction::Page(page) => {
                self.draft_mut().page = page;
                self.broadcast_ask().await
            }
            DraftAction::Back | DraftAction::EditAudience => {
                self.draft_mut().step = BroadcastStep::Audience;
                self.broadcast_ask().await
            }
            DraftAction::EditText => {
                let draft = self.draft_mut();
                draft.editing = true;
                draft.step = BroadcastStep::Text;
                self.broadcast_ask().await
            }
            DraftAction::Confirm => self.broadcast_confirm(staff).await,
            DraftAction::Cancel => {
                let text = self.t("broadcast.cancelled");
                self.out.say(Action::with_keyboard(text, self.staff_menu()));
                self.broadcast_finish();
                Ok(())
            }
            DraftAction::PreviewButton => {
                unreachable!("answered above, at step {step:?}")
            }
        }
    }

    async fn broadcast_choose(&mut self, audience: Audience) -> Result<(), StoreError> {
        let draft = self.draft_mut();
        draft.audience = Some(audience);
        draft.sectors.clear();
        draft.editing = false;
        draft.step = BroadcastStep::Preview;
        self.broadcast_ask().await
    }

    async fn broadcast_confirm(&mut self, staff: &Staff) -> Result<(), StoreError> {
        let draft = self.dialog.broadcast().cloned().unwrap_or_default();
        let (Some(choice), Some(text), Some(audience)) = (draft.topic, draft.text.clone(), draft.audience.clone())
        else {
            return Err(StoreError::Corrupt("a broadcast confirmed without topic, text or audience".into()));
        };
        let topic = match outreach::plan(self.ctx.store, choice.id(), &audience, self.ctx.now).await? {
            Ok(plan) => plan.topic,
            Err(Refusal::TopicClosed) => {
                let text = self.t("broadcast.topic_closed");
                self.out.say(Action::text(text));
                let draft = self.draft_mut();
                draft.step = BroadcastStep::Topic;
                draft.editing = true;
                return self.broadcast_ask().await;
            }
            Err(_) => {
                let text = self.t("broadcast.nobody");
                self.out.say(Action::text(text));
                self.draft_mut().step = BroadcastStep::Audience;
                return self.broadcast_ask().await;
            }
        };
        // The chat leaves the composer in the update's transaction, the one that writes the
        // broadcast: a confirmation handled again finds no draft.
        self.broadcast_finish();
        let new = NewBroadcast {
            topic_id: topic.as_ref().map(|t| t.id),
            text: text.clone(),
            audience,
            staff_id: Some(staff.id),
            dialog: None,
            request_key: None,
        };
        let texts = self.ctx.texts.clone();
        let render: MemberCopyFn = Box::new(move |language: Option<&str>| {
            member_copy(&texts, texts.lang_for(language), &text, topic.as_ref()).encode()
        });
        let (texts, lang, chat_id, staff_id) = (self.ctx.texts.clone(), self.lang, self.person.chat_id, staff.id);
        let reply: QueuedFn = Box::new(move |id, count| {
            tracing::info!(broadcast_id = id, recipients = count, staff_id, "broadcast queued");
            let text = texts.t(lang, "broadcast.queued", &[("id", &id), ("count", &count)]);
            let rows = vec![vec![
                Choice::new(
                    texts.t(lang, "broadcast.refresh", &[]),
                    ChoiceId::Broadcast(BroadcastChoice::Progress { id }),
                ),
                Choice::new(texts.t(lang, "broadcast.stop", &[]), ChoiceId::Broadcast(BroadcastChoice::Stop { id })),
            ]];
            vec![OutMessage::reply(chat_id, Action::with_keyboard(text, Keyboard::Choices(rows)).encode())]
        });
        self.out.effects.push(Effect::CreateBroadcast { broadcast: new, render, reply });
        Ok(())
    }

    /// Shows a broadcast's progress, after `note` if given, with refresh (and stop while sending).
    async fn broadcast_show(&mut self, id: i64, note: Option<String>) -> Result<(), StoreError> {
        let Some(p) = self.ctx.store.broadcast_progress(id).await? else {
            return self.broadcast_not_found(id);
        };
        let action = progress_action(self.ctx.texts, self.lang, self.ctx.config.offset(), &p, note);
        self.out.say(action);
        Ok(())
    }

    fn broadcast_not_found(&mut self, id: i64) -> Result<(), StoreError> {
        tracing::warn!(broadcast_id = id, "refused a button for a broadcast that does not exist");
        self.out.notice = Some(self.t("broadcast.not_found"));
        let text = self.t("broadcast.not_found");
        self.out.say(Action::text(text));
        Ok(())
    }

    async fn broadcast_stop_ask(&mut self, id: i64) -> Result<(), StoreError> {
        let Some(p) = self.ctx.store.broadcast_progress(id).await? else {
            return self.broadcast_not_found(id);
        };
        if p.cancelled || p.pending == 0 {
            let key = if p.cancelled { "broadcast.already_stopped" } else { "broadcast.nothing_to_stop" };
            let note = self.ta(key, &[("id", &id)]);
            return self.broadcast_show(id, Some(note)).await;
        }
        let text = self.ta("broadcast.stop_ask", &[("id", &id), ("pending", &p.pending)]);
        let rows = vec![vec![
            Choice::new(self.t("broadcast.stop_yes"), ChoiceId::Broadcast(BroadcastChoice::StopConfirmed { id })),
            Choice::new(self.t("broadcast.stop_no"), ChoiceId::Broadcast(BroadcastChoice::Progress { id })),
        ]];
        self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
        Ok(())
    }

    async fn broadcast_stop(&mut self, staff: &Staff, id: i64) -> Result<(), StoreError> {
        let Some(p) = self.ctx.store.broadcast_progress(id).await? else {
            return self.broadcast_not_found(id);
        };
        if p.cancelled {
            let note = self.ta("broadcast.already_stopped", &[("id", &id)]);
            return self.broadcast_show(id, Some(note)).await;
        }
        // Stopped in the update's transaction; the answer shows the progress after it.
        let (texts, lang, offset) = (self.ctx.texts.clone(), self.lang, self.ctx.config.offset());
        let (chat_id, staff_id) = (self.person.chat_id, staff.id);
        let reply: StoppedFn = Box::new(move |stopped| {
            let action = match stopped {
                Some((stopped, p)) => {
                    tracing::info!(broadcast_id = id, stopped, staff_id, "broadcast stopped");
                    let note = texts.t(lang, "broadcast.stopped", &[("id", &id), ("count", &stopped)]);
                    progress_action(&texts, lang, offset, &p, Some(note))
                }
                None => Action::text(texts.t(lang, "broadcast.not_found", &[])),
            };
            vec![OutMessage::reply(chat_id, action.encode())]
        });
        self.out.effects.push(Effect::CancelBroadcast { id, reply });
        Ok(())
    }

    async fn broadcast_list(&mut self) -> Result<(), StoreError> {
        let list = self.ctx.store.recent_broadcasts(RECENT).await?;
        if list.is_empty() {
            let text = self.t("broadcast.list_empty");
            self.out.say(Action::text(text));
            return Ok(());
        }
        let offset = self.ctx.config.offset();
        let mut text = self.t("broadcast.list_header");
        for p in &list {
            let date = p.created_at.with_timezone(&offset).format("%m-%d %H:%M").to_string();
            let audience = self.stored_audience_label(p.audience_kind, &p.audience_value);
            let status = self.t(if p.cancelled {
                "broadcast.short_cancelled"
            } else if p.pending > 0 {
                "broadcast.short_sending"
            } else {
                "broadcast.short_done"
            });
            let line = self.ta(
                "broadcast.list_item",
                &[
                    ("id", &p.id),
                    ("date", &date),
                    ("audience", &audience),
                    ("sent", &p.sent),
                    ("total", &p.total),
                    ("status", &status),
                ],
            );
            text.push_str("\n\n");
            text.push_str(&line);
        }
        let buttons: Vec<Choice> = list
            .iter()
            .map(|p| {
                Choice::new(
                    self.ta("broadcast.list_open", &[("id", &p.id)]),
                    ChoiceId::Broadcast(BroadcastChoice::Progress { id: p.id }),
                )
            })
            .collect();
        let rows = buttons.chunks(3).map(<[Choice]>::to_vec).collect();
        self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
        Ok(())
    }
}

#[cfg(test)]
#[path = "broadcast_tests.rs"]
mod tests;
