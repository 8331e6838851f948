//! Staff compose topic announcements for members: topic → text → audience → preview → confirm.
//!
//! Confirming writes the broadcast and one outbox message per member reached in one transaction
//! (`Store::create_broadcast`), together with this chat's dialog state without the draft: a
//! confirmation handled again (a retry, a replayed update) finds no draft and sends nothing twice.
//! The delivery worker sends the messages at Telegram's pace; staff follow and stop them here.
//!
//! Buttons carry `b:…` data: draft buttons carry the dialog's nonce (an old keyboard is stale),
//! progress buttons carry the broadcast id and are checked against the store.

use serde::{Deserialize, Serialize};

use super::{ButtonData, Dialogue, Input, TopicChoice, truncate};
use crate::domain::MemberLevel;
use crate::locale::{Lang, Texts};
use crate::outreach::{self, Refusal};
use crate::reply::{Action, Button, Keyboard};
use crate::store::{Audience, AudienceKind, AudienceOption, BroadcastProgress, NewBroadcast, Staff, StoreError, Topic};

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

/// What a draft button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftAction {
    /// A topic; 0 is "no particular topic".
    Topic(i64),
    All,
    Narrow(AudienceKind),
    Level(MemberLevel),
    Workstation(i64),
    /// An index into the sectors offered.
    Sector(usize),
    Page(usize),
    Back,
    Confirm,
    EditText,
    EditAudience,
    Cancel,
    /// The button on the preview of the member's copy: it only explains itself.
    PreviewButton,
}

/// Callback data of the broadcast buttons (`b:…`, at most 64 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastButton {
    Draft {
        nonce: u32,
        action: DraftAction,
    },
    /// The recent broadcasts with their progress.
    List,
    Progress {
        id: i64,
    },
    /// Asks to confirm stopping.
    Stop {
        id: i64,
    },
    StopConfirmed {
        id: i64,
    },
}

impl BroadcastButton {
    pub fn encode(&self) -> String {
        match self {
            Self::List => "b:l".into(),
            Self::Progress { id } => format!("b:p:{id}"),
            Self::Stop { id } => format!("b:c:{id}"),
            Self::StopConfirmed { id } => format!("b:cc:{id}"),
            Self::Draft { nonce, action } => {
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

    pub fn parse(data: &str) -> Option<Self> {
        let parts: Vec<&str> = data.split(':').collect();
        let id = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0);
        Some(match parts.as_slice() {
            ["b", "l"] => Self::List,
            ["b", "p", n] => Self::Progress { id: id(n)? },
            ["b", "c", n] => Self::Stop { id: id(n)? },
            ["b", "cc", n] => Self::StopConfirmed { id: id(n)? },
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
                Self::Draft { nonce, action }
            }
            _ => return None,
        })
    }
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
    let button = Button::new(copy.button, ButtonData::New { topic_id: copy.topic_id }.encode());
    Action::with_keyboard(copy.text, Keyboard::Inline(vec![vec![button]]))
}

fn pages(len: usize) -> usize {
    len.div_ceil(PAGE_SIZE).max(1)
}

impl Dialogue<'_, '_> {
    pub(super) async fn broadcast_input(&mut self, staff: &Staff, input: Input) -> Result<(), StoreError> {
        match input {
            Input::Button { message_id, data } => self.broadcast_button(staff, message_id, &data).await,
            Input::Command { name, arg } => {
                let wants_list = name == "broadcasts"
                    || arg.as_deref().is_some_and(|a| matches!(a.trim(), "list" | "progress" | "进度"));
                if wants_list {
                    return self.broadcast_list().await;
                }
                if self.dialog.broadcast.is_some() {
                    let text = self.t("broadcast.busy");
                    self.out.say(Action::text(text));
                } else {
                    self.dialog.broadcast = Some(BroadcastDraft::default());
                }
                self.broadcast_ask().await
            }
            _ if self.dialog.broadcast.is_none() => {
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
        self.dialog.broadcast.as_ref().map(|d| d.step)
    }

    fn draft_mut(&mut self) -> &mut BroadcastDraft {
        self.dialog.broadcast.get_or_insert_with(BroadcastDraft::default)
    }

    fn draft_button(&self, key: &str, nonce: u32, action: DraftAction) -> Button {
        Button::new(self.t(key), BroadcastButton::Draft { nonce, action }.encode())
    }

    fn option_button(&self, option: &AudienceOption, nonce: u32, action: DraftAction) -> Button {
        let label =
            self.ta("broadcast.option", &[("label", &truncate(&option.label, 16)), ("count", &option.reachable)]);
        Button::new(label, BroadcastButton::Draft { nonce, action }.encode())
    }

    /// Leaves the composer; the nonce moves on so that no old button matches.
    fn broadcast_finish(&mut self) {
        self.dialog.broadcast = None;
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
        let Some(draft) = self.dialog.broadcast.clone() else { return Ok(()) };
        self.dialog.nonce += 1;
        let nonce = self.dialog.nonce;
        let cancel = self.draft_button("broadcast.cancel", nonce, DraftAction::Cancel);
        match draft.step {
            BroadcastStep::Topic => {
                let (store, texts, now) = (self.ctx.store, self.ctx.texts, self.ctx.now);
                let options = outreach::topic_picker(store, texts, self.lang, "broadcast.topic_none", now).await?;
                let key = if options.len() == 1 { "broadcast.ask_topic_empty" } else { "broadcast.ask_topic" };
                let mut rows: Vec<Vec<Button>> = options
                    .into_iter()
                    .map(|o| {
                        vec![Button::new(
                            o.label,
                            BroadcastButton::Draft { nonce, action: DraftAction::Topic(o.id) }.encode(),
                        )]
                    })
                    .collect();
                rows.push(vec![Button::new(self.t("broadcast.list_button"), BroadcastButton::List.encode()), cancel]);
                let text = self.t(key);
                self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
            }
            BroadcastStep::Text => {
                let text = self.ta("broadcast.ask_text", &[("max", &TEXT_MAX_UTF16)]);
                self.out.say(Action::with_keyboard(text, Keyboard::Inline(vec![vec![cancel]])));
            }
            BroadcastStep::Audience => {
                let everyone = self.ctx.store.audience_reach(&Audience::All).await?;
                let all = Button::new(
                    self.ta("broadcast.audience_all_button", &[("count", &everyone)]),
                    BroadcastButton::Draft { nonce, action: DraftAction::All }.encode(),
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
                self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
            }
            BroadcastStep::Level => {
                let options = self.ctx.store.audience_options(AudienceKind::Level).await?;
                let levels: Vec<Button> = options
                    .iter()
                    .filter_map(|o| match o.audience {
                        Audience::Level(level) => Some(self.option_button(o, nonce, DraftAction::Level(level))),
                        _ => None,
                    })
                    .collect();
                let rows = vec![levels, vec![self.draft_button("broadcast.back", nonce, DraftAction::Back), cancel]];
                let text = self.t("broadcast.ask_level");
                self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
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
                let buttons: Vec<Button> = options
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
                let mut rows: Vec<Vec<Button>> = buttons.chunks(2).map(<[Button]>::to_vec).collect();
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
                self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
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
        cancel: Button,
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
            Action::Send { text, keyboard: Keyboard::Inline(rows), .. } => {
                let rows = rows
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|b| {
                                let data = BroadcastButton::Draft { nonce, action: DraftAction::PreviewButton };
                                Button::new(b.text, data.encode())
                            })
                            .collect()
                    })
                    .collect();
                Action::with_keyboard(text, Keyboard::Inline(rows))
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
        self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
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

    async fn broadcast_button(&mut self, staff: &Staff, message_id: i32, data: &str) -> Result<(), StoreError> {
        let Some(button) = BroadcastButton::parse(data) else {
            tracing::warn!(staff_id = staff.id, data, "refused a broadcast button that cannot be read");
            self.out.toast = Some(self.t("button.invalid"));
            return Ok(());
        };
        let (nonce, action) = match button {
            BroadcastButton::List => return self.broadcast_list().await,
            BroadcastButton::Progress { id } => return self.broadcast_show(id, None).await,
            BroadcastButton::Stop { id } => return self.broadcast_stop_ask(id).await,
            BroadcastButton::StopConfirmed { id } => return self.broadcast_stop(staff, id).await,
            BroadcastButton::Draft { nonce, action } => (nonce, action),
        };
        if action == DraftAction::PreviewButton {
            self.out.toast = Some(self.t("broadcast.preview_button"));
            return Ok(());
        }
        let current = self.broadcast_step().filter(|step| nonce == self.dialog.nonce && action.fits(*step));
        let Some(step) = current else {
            self.out.toast = Some(self.t("button.stale"));
            let text = self.t("button.stale");
            self.out.say(Action::text(text));
            return self.broadcast_ask().await;
        };
        self.out.say(Action::ClearButtons { message_id });
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
                    self.out.toast = Some(self.t("broadcast.topic_closed"));
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
                    self.out.toast = Some(self.t("button.invalid"));
                    self.broadcast_ask().await
                }
            }
            DraftAction::Sector(i) => match self.draft_mut().sectors.get(i).cloned() {
                Some(sector) => self.broadcast_choose(Audience::Sector(sector)).await,
                None => {
                    self.out.toast = Some(self.t("button.invalid"));
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
        let draft = self.dialog.broadcast.clone().unwrap_or_default();
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
        // The chat leaves the composer in the same transaction as the broadcast is written.
        self.broadcast_finish();
        let state = serde_json::to_string(&self.dialog).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let texts = self.ctx.texts;
        let render =
            |language: Option<&str>| member_copy(texts, texts.lang_for(language), &text, topic.as_ref()).encode();
        let new = NewBroadcast {
            topic_id: topic.as_ref().map(|t| t.id),
            text: text.clone(),
            audience,
            staff_id: Some(staff.id),
            dialog: Some((self.person.chat_id, state)),
            // The dialog state saved with it already makes a repeated confirmation find no draft.
            request_key: None,
        };
        let (id, count) = self.ctx.store.create_broadcast(new, &render, self.ctx.now).await?;
        tracing::info!(broadcast_id = id, recipients = count, staff_id = staff.id, "broadcast queued");
        let text = self.ta("broadcast.queued", &[("id", &id), ("count", &count)]);
        let rows = vec![vec![
            Button::new(self.t("broadcast.refresh"), BroadcastButton::Progress { id }.encode()),
            Button::new(self.t("broadcast.stop"), BroadcastButton::Stop { id }.encode()),
        ]];
        self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
        Ok(())
    }

    fn progress_text(&self, p: &BroadcastProgress) -> String {
        let date = p.created_at.with_timezone(&self.ctx.config.offset()).format("%Y-%m-%d %H:%M").to_string();
        let topic = p.topic_title.clone().unwrap_or_else(|| self.t("broadcast.topic_none"));
        let audience = self.stored_audience_label(p.audience_kind, &p.audience_value);
        let status = self.t(if p.cancelled {
            "broadcast.status_cancelled"
        } else if p.pending > 0 {
            "broadcast.status_sending"
        } else {
            "broadcast.status_done"
        });
        self.ta(
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
        )
    }

    /// Shows a broadcast's progress, after `note` if given, with refresh (and stop while sending).
    async fn broadcast_show(&mut self, id: i64, note: Option<String>) -> Result<(), StoreError> {
        let Some(p) = self.ctx.store.broadcast_progress(id).await? else {
            return self.broadcast_not_found(id);
        };
        let mut text = self.progress_text(&p);
        if let Some(note) = note {
            text = format!("{note}\n\n{text}");
        }
        let mut row = vec![Button::new(self.t("broadcast.refresh"), BroadcastButton::Progress { id }.encode())];
        if !p.cancelled && p.pending > 0 {
            row.push(Button::new(self.t("broadcast.stop"), BroadcastButton::Stop { id }.encode()));
        }
        self.out.say(Action::with_keyboard(text, Keyboard::Inline(vec![row])));
        Ok(())
    }

    fn broadcast_not_found(&mut self, id: i64) -> Result<(), StoreError> {
        tracing::warn!(broadcast_id = id, "refused a button for a broadcast that does not exist");
        self.out.toast = Some(self.t("broadcast.not_found"));
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
            Button::new(self.t("broadcast.stop_yes"), BroadcastButton::StopConfirmed { id }.encode()),
            Button::new(self.t("broadcast.stop_no"), BroadcastButton::Progress { id }.encode()),
        ]];
        self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
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
        let Some(stopped) = self.ctx.store.cancel_broadcast(id).await? else {
            return self.broadcast_not_found(id);
        };
        tracing::info!(broadcast_id = id, stopped, staff_id = staff.id, "broadcast stopped");
        let note = self.ta("broadcast.stopped", &[("id", &id), ("count", &stopped)]);
        self.broadcast_show(id, Some(note)).await
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
        let buttons: Vec<Button> = list
            .iter()
            .map(|p| {
                Button::new(
                    self.ta("broadcast.list_open", &[("id", &p.id)]),
                    BroadcastButton::Progress { id: p.id }.encode(),
                )
            })
            .collect();
        let rows = buttons.chunks(3).map(<[Button]>::to_vec).collect();
        self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
        Ok(())
    }
}

#[cfg(test)]
#[path = "broadcast_tests.rs"]
mod tests;
