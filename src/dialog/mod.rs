//! The member dialog: registration, the guided suggestion, `/my`, `/topics` — plain Rust, no Telegram.
//!
//! `handle` takes what a person did and the chat's saved state (`Dialog`: one `Flow` at a time)
//! and returns the new state, what to say (text, choices, files), the suggestion to file or the
//! change to make, and any other writes as `Effect`s. The dialog never writes to the store: the
//! caller applies all of it in one transaction (`Store::commit_with`).

mod render;
mod state;

use chrono::Datelike;

use crate::choice::{ChoiceId, PreviewAction};
pub(crate) use crate::context::Ctx;
use crate::conversation::{self, ChatCommand, Typed};
pub use crate::conversation::{menu_command, truncate};
use crate::domain::{Point, SuggestionKind, SuggestionState};
use crate::invite;
use crate::locale::{Lang, Texts};
use crate::reply::{Action, Choice, Keyboard};
use crate::store::{
    Attachment, Effect, Identity, Member, NewSuggestion, OutMessage, ReceiptFn, Redeemed, RedeemedFn, StoreError, Topic,
};

pub mod broadcast;
mod cosign;
use cosign::Alike;
pub use cosign::Invitation;
pub use state::{
    AlbumProgress, AssignDraft, AssignStep, DepartmentAsk, Dialog, Draft, Flow, Invitee, RatingTask, ReplyDraft,
    ReplyStep, StaffAsk, Step, Submission, Task, TopicChoice,
};
mod department;
mod rating;
mod staff;
mod task;
mod withdraw;
mod workflow_ui;

/// Who is talking: their Telegram account and private chat.
#[derive(Debug, Clone)]
pub struct Person {
    pub user_id: i64,
    pub chat_id: i64,
    pub language_code: Option<String>,
}

/// One thing a person did, already told apart from Telegram's update.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// `/name arg`, or a menu key that stands for a command.
    Command {
        name: String,
        arg: Option<String>,
    },
    Text(String),
    Attachment {
        attachment: Attachment,
        caption: Option<String>,
        /// Set when the attachment is one item of an album (several photos or files sent at once).
        album: Option<AlbumPart>,
    },
    /// Voice, sticker, location, …: named by the kind, for the reply.
    Unsupported(UnsupportedKind),
    /// A choice made under an earlier reply (`message_id`, the reply it was offered on); `None`
    /// when what came back is no choice of ours (forged, garbled or from an old release).
    Choice {
        message_id: i32,
        choice: Option<ChoiceId>,
    },
    /// An edit of a message sent earlier.
    Edited,
    /// Anything in a group or channel: the bot serves members only in private chats.
    NotPrivate,
}

/// One item of an album: Telegram delivers each photo or file of an album as its own update, all
/// with the same `media_group_id` (<https://core.telegram.org/bots/api#message>). The Telegram
/// adapter gathers them so the dialog can answer the album once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbumPart {
    /// The album's `media_group_id`.
    pub id: String,
    /// This item's place in the album as gathered, from 0.
    pub index: usize,
    /// How many photos and files were gathered.
    pub count: usize,
    /// Items of the same album that are not photos or files (videos, audio): not taken, only
    /// mentioned in the answer.
    pub skipped: usize,
}

impl AlbumPart {
    pub fn is_first(&self) -> bool {
        self.index == 0
    }

    pub fn is_last(&self) -> bool {
        self.index + 1 >= self.count
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsupportedKind {
    Voice,
    Sticker,
    Location,
    Video,
    Contact,
    Poll,
    Other,
}

impl UnsupportedKind {
    fn key(self) -> &'static str {
        match self {
            Self::Voice => "media.voice",
            Self::Sticker => "media.sticker",
            Self::Location => "media.location",
            Self::Video => "media.video",
            Self::Contact => "media.contact",
            Self::Poll => "media.poll",
            Self::Other => "media.other",
        }
    }
}

/// What handling one input produced.
#[derive(Default)]
pub struct Output {
    /// The chat's new state; `None` leaves it unchanged.
    pub state: Option<Dialog>,
    pub actions: Vec<Action>,
    /// A short notice about the choice made (Telegram shows it as the answer to the button).
    pub notice: Option<String>,
    pub submission: Option<(NewSuggestion, ReceiptFn)>,
    /// A workflow change to apply with this update (accept, assign, reply, rate, …).
    pub change: Option<crate::store::Change>,
    /// Other writes to apply with this update (binding an invite, writing or stopping a
    /// broadcast), each with its answer rendered from how it went: `Store::commit_with`.
    pub effects: Vec<Effect>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("state", &self.state)
            .field("actions", &self.actions)
            .field("notice", &self.notice)
            .field("submission", &self.submission.as_ref().map(|(s, _)| s))
            .field("effects", &self.effects)
            .finish()
    }
}

impl Output {
    fn say(&mut self, action: Action) {
        self.actions.push(action);
    }
}

/// Handles one input. Store errors are returned for the caller to log and retry; never shown.
pub async fn handle(ctx: &Ctx<'_>, person: &Person, dialog: Dialog, input: Input) -> Result<Output, StoreError> {
    let lang = ctx.texts.lang_for(person.language_code.as_deref());
    let mut d = Dialogue { ctx, person, lang, dialog, out: Output::default(), member_id: None };
    if input == Input::NotPrivate {
        let text = d.t("chat.private_only");
        d.out.say(Action::text(text));
        return Ok(d.out);
    }
    let identity = ctx.store.identity_by_telegram(person.user_id).await?;
    d.dispatch(identity, input).await?;
    Ok(d.out)
}

/// Handles one input as `identity`, without looking the person up by their Telegram account.
///
/// This is `handle` after its lookup: the same dialog, the same rules, the same output. It exists
/// for the web console's dialog preview (`web::preview`), where staff chat in the browser as a
/// chosen test member who may have no Telegram account; `person` then carries a synthetic chat id
/// that cannot be a Telegram chat. An inactive identity is treated as unregistered, as in `handle`.
pub async fn handle_as(
    ctx: &Ctx<'_>,
    person: &Person,
    identity: Identity,
    dialog: Dialog,
    input: Input,
) -> Result<Output, StoreError> {
    let lang = ctx.texts.lang_for(person.language_code.as_deref());
    let mut d = Dialogue { ctx, person, lang, dialog, out: Output::default(), member_id: None };
    if input == Input::NotPrivate {
        let text = d.t("chat.private_only");
        d.out.say(Action::text(text));
        return Ok(d.out);
    }
    d.dispatch(Some(identity), input).await?;
    Ok(d.out)
}

/// What a typed message means, by the same rules for every channel (`conversation::typed`).
pub fn text_input(texts: &Texts, text: &str) -> Input {
    conversation::typed(texts, text).into()
}

impl From<Typed> for Input {
    fn from(typed: Typed) -> Self {
        match typed {
            Typed::Command { name, arg } => Input::Command { name, arg },
            Typed::Text(text) => Input::Text(text),
        }
    }
}

fn member_menu(texts: &Texts, lang: Lang) -> Keyboard {
    conversation::menu(texts, lang, conversation::MEMBER_MENU)
}

fn staff_menu(texts: &Texts, lang: Lang) -> Keyboard {
    conversation::menu(texts, lang, conversation::STAFF_MENU)
}

fn department_menu(texts: &Texts, lang: Lang) -> Keyboard {
    conversation::menu(texts, lang, conversation::DEPARTMENT_MENU)
}

struct Dialogue<'a, 'c> {
    ctx: &'a Ctx<'c>,
    person: &'a Person,
    lang: Lang,
    dialog: Dialog,
    out: Output,
    /// The member whose dialog this is, once known (`dispatch`): whom the preview offers to co-sign
    /// alike suggestions.
    member_id: Option<i64>,
}

impl Dialogue<'_, '_> {
    /// Runs the dialog of whoever `identity` is (the inactive and the unknown are unregistered).
    async fn dispatch(&mut self, identity: Option<Identity>, input: Input) -> Result<(), StoreError> {
        // An album is one act of the person's, delivered as one update per item, and is answered
        // once. Only a member's step that collects attachments takes each item in; anywhere else
        // the earlier items pass silently and the last one gets the answer. Staff and liaisons are
        // answered at the first item (a liaison's reply takes one file: the first).
        if let Input::Attachment { album: Some(part), .. } = &input {
            let answered_here = match &identity {
                Some(Identity::Staff(s)) if s.active => part.is_first(),
                Some(Identity::Liaison(l)) if l.active => part.is_first(),
                _ => {
                    let collecting = matches!(&self.dialog.flow, Flow::Submission(s) if s.step == Step::Body);
                    collecting || part.is_last()
                }
            };
            if !answered_here {
                return Ok(());
            }
        }
        match identity {
            Some(Identity::Member(member)) if member.active => {
                self.member_id = Some(member.id);
                self.member(&member, input).await
            }
            Some(Identity::Staff(staff)) if staff.active => self.staff(&staff, input).await,
            Some(Identity::Liaison(liaison)) if liaison.active => self.department(&liaison, input).await,
            _ => self.unregistered(input).await,
        }
    }

    fn t(&self, key: &str) -> String {
        self.ctx.t(self.lang, key, &[])
    }

    fn ta(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        self.ctx.t(self.lang, key, args)
    }

    fn staff_menu(&self) -> Keyboard {
        staff_menu(self.ctx.texts, self.lang)
    }

    fn department_menu(&self) -> Keyboard {
        department_menu(self.ctx.texts, self.lang)
    }

    fn menu(&self) -> Keyboard {
        member_menu(self.ctx.texts, self.lang)
    }

    /// Whether a suggestion is being written (also while a rating reason is asked for in between).
    fn in_dialog(&self) -> bool {
        self.dialog.submission().is_some()
    }

    /// The suggestion being written. Called only where one is (the step was checked); should there
    /// be none, an empty one is begun, as `/new` would.
    fn sub(&mut self) -> &mut Submission {
        if self.dialog.submission().is_none() {
            let draft = Draft { since: self.dialog.nonce, ..Draft::default() };
            self.dialog.flow = Flow::Submission(Submission { step: Step::Topic, draft });
        }
        let Some(submission) = self.dialog.submission_mut() else { unreachable!("begun above") };
        submission
    }

    // ---- people who are not registered ----

    async fn unregistered(&mut self, input: Input) -> Result<(), StoreError> {
        let code = match &input {
            Input::Command { name, arg: Some(arg) } if ChatCommand::parse(name) == Some(ChatCommand::Start) => {
                Some(arg.clone())
            }
            Input::Text(text) => invite::find(text),
            _ => None,
        };
        if let Input::Choice { .. } = input {
            self.out.notice = Some(self.t("register.toast_not_registered"));
        }
        let Some(code) = code else {
            let text = self.t("register.not_registered");
            self.out.say(Action::with_keyboard(text, Keyboard::None));
            return Ok(());
        };
        let Some(code) = invite::find(&code) else {
            let text = self.t("register.code_unknown");
            self.out.say(Action::text(text));
            return Ok(());
        };
        // Bound in the update's transaction; the answer is worded from how it went.
        let (texts, lang, chat_id) = (self.ctx.texts.clone(), self.lang, self.person.chat_id);
        let reply: RedeemedFn = Box::new(move |redeemed| {
            let t = |key: &str| texts.t(lang, key, &[]);
            let action = match redeemed {
                Redeemed::Bound(identity) | Redeemed::AlreadyBound(identity) => match identity {
                    Identity::Member(m) => Action::with_keyboard(
                        texts.t(lang, "register.welcome", &[("name", &m.name)]),
                        member_menu(&texts, lang),
                    ),
                    Identity::Staff(s) => Action::with_keyboard(
                        texts.t(lang, "register.welcome_staff", &[("name", &s.name)]),
                        staff_menu(&texts, lang),
                    ),
                    Identity::Liaison(l) => Action::with_keyboard(
                        texts.t(
                            lang,
                            "register.welcome_liaison",
                            &[("name", &l.name), ("department", &l.department_name)],
                        ),
                        department_menu(&texts, lang),
                    ),
                },
                Redeemed::Unknown => Action::text(t("register.code_unknown")),
                Redeemed::Expired => Action::text(t("register.code_expired")),
                Redeemed::Used => Action::text(t("register.code_used")),
                Redeemed::AccountTaken => Action::text(t("register.account_taken")),
                Redeemed::Inactive => Action::text(t("register.member_inactive")),
            };
            vec![OutMessage::reply(chat_id, action.encode())]
        });
        self.out.effects.push(Effect::RedeemInvite {
            code_hash: invite::hash(&code),
            telegram_user_id: self.person.user_id,
            chat_id,
            language: self.person.language_code.clone(),
            reply,
        });
        // Whoever it binds starts afresh; someone it does not bind had nothing to keep.
        self.dialog = Dialog { nonce: self.dialog.nonce + 1, ..Dialog::default() };
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    // ---- members ----

    async fn member(&mut self, member: &Member, input: Input) -> Result<(), StoreError> {
        if self.rating_input(member, &input).await? {
            return Ok(());
        }
        match input {
            Input::NotPrivate => unreachable!("handled before"),
            Input::Command { name, arg } => self.command(member, &name, arg).await,
            Input::Choice { message_id, choice } => self.button(member, message_id, choice).await,
            Input::Edited => {
                let text = self.t("input.edited");
                self.out.say(Action::text(text));
                self.reask().await
            }
            input => self.step_input(member, input).await,
        }
    }

    async fn command(&mut self, member: &Member, name: &str, arg: Option<String>) -> Result<(), StoreError> {
        match ChatCommand::parse(name) {
            Some(ChatCommand::Cancel) => {
                let key = if self.in_dialog() { "dialog.cancelled" } else { "dialog.nothing_to_cancel" };
                let text = self.t(key);
                self.out.say(Action::with_keyboard(text, self.menu()));
                self.finish();
                Ok(())
            }
            Some(ChatCommand::Help) => {
                let text = self.t("help.text");
                self.out.say(Action::with_keyboard(text, self.menu()));
                self.reask().await
            }
            _ if self.in_dialog() => {
                let text = self.t("dialog.busy");
                self.out.say(Action::text(text));
                self.reask().await
            }
            Some(ChatCommand::Start) => match arg.as_deref().and_then(parse_topic_link) {
                Some(topic_id) => self.start_new(Some(topic_id)).await,
                None => {
                    let text = self.ta("register.welcome_back", &[("name", &member.name)]);
                    self.out.say(Action::with_keyboard(text, self.menu()));
                    Ok(())
                }
            },
            Some(ChatCommand::New) => self.start_new(None).await,
            Some(ChatCommand::My) => self.my_list(member).await,
            Some(ChatCommand::Topics) => self.topic_list().await,
            _ => {
                let text = self.ta("input.unknown_command", &[("command", &name)]);
                self.out.say(Action::with_keyboard(text, self.menu()));
                Ok(())
            }
        }
    }

    /// Leaves the dialog; the nonce keeps counting so that no old button matches again.
    fn finish(&mut self) {
        self.dialog = Dialog { nonce: self.dialog.nonce + 1, ..Dialog::default() };
        self.out.state = Some(self.dialog.clone());
    }

    async fn start_new(&mut self, topic_id: Option<i64>) -> Result<(), StoreError> {
        let nonce = self.dialog.nonce;
        let draft = Draft { since: nonce, ..Draft::default() };
        self.dialog = Dialog { nonce, flow: Flow::Submission(Submission { step: Step::Topic, draft }) };
        if let Some(id) = topic_id {
            match self.ctx.store.topic(id).await? {
                Some(topic) if topic.is_open(self.ctx.now) => {
                    let sub = self.sub();
                    sub.draft.topic = Some(TopicChoice::Topic(topic.id));
                    sub.step = Step::Kind;
                    let text = self.ta("dialog.topic_chosen", &[("title", &topic.title)]);
                    self.out.say(Action::text(text));
                }
                _ => {
                    let text = self.t("dialog.topic_closed");
                    self.out.say(Action::text(text));
                }
            }
        }
        self.ask().await
    }

    /// Asks the current step's question again (after a help text, a bad input, a stale button).
    async fn reask(&mut self) -> Result<(), StoreError> {
        if self.in_dialog() { self.ask().await } else { Ok(()) }
    }

    /// Asks the question of the current step, with fresh buttons, and saves the state.
    async fn ask(&mut self) -> Result<(), StoreError> {
        self.dialog.nonce += 1;
        let nonce = self.dialog.nonce;
        let Some(Submission { step, draft }) = self.dialog.submission().cloned() else {
            self.out.state = Some(self.dialog.clone());
            return Ok(());
        };
        match step {
            Step::Topic => {
                let (store, texts, now) = (self.ctx.store, self.ctx.texts, self.ctx.now);
                let options = crate::outreach::topic_picker(store, texts, self.lang, "dialog.topic_none", now).await?;
                let key = if options.len() == 1 { "dialog.ask_topic_empty" } else { "dialog.ask_topic" };
                let rows = options
                    .into_iter()
                    .map(|o| vec![Choice::new(o.label, ChoiceId::Topic { nonce, topic_id: o.id })])
                    .collect();
                let text = self.t(key);
                self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
            }
            Step::Kind => {
                let buttons: Vec<Choice> = SuggestionKind::ALL
                    .iter()
                    .map(|k| Choice::new(self.t(&format!("kind.{}", k.code())), ChoiceId::Kind { nonce, kind: *k }))
                    .collect();
                let rows = buttons.chunks(2).map(|c| c.to_vec()).collect();
                let text = self.t("dialog.ask_kind");
                self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
            }
            Step::Title => {
                let text = self.ta("dialog.ask_title", &[("max", &self.ctx.config.limits.title_max_chars)]);
                self.out.say(Action::text(text));
            }
            Step::Body => {
                let text = if draft.points.is_empty() {
                    self.ta("dialog.ask_body", &[("max", &self.ctx.config.limits.point_max_chars)])
                } else {
                    self.ta("dialog.ask_more", &[("count", &draft.points.len())])
                };
                let keyboard = self.done_keyboard(nonce);
                self.out.say(Action::with_keyboard(text, keyboard));
            }
            Step::Preview => {
                let topic = match draft.topic.and_then(TopicChoice::id) {
                    Some(id) => self.ctx.store.topic(id).await?,
                    None => None,
                };
                let similar = self.similar_to(&draft).await?;
                let listed: Vec<(String, String, SuggestionState)> =
                    similar.iter().map(|a| (a.reference.clone(), a.title.clone(), a.state)).collect();
                let text = render::preview(self.ctx.texts, self.lang, &draft, topic.as_ref(), &listed);
                let b = |key: &str, action| Choice::new(self.t(key), ChoiceId::Preview { nonce, action });
                let mut rows = vec![
                    vec![b("preview.submit", PreviewAction::Submit), b("preview.discard", PreviewAction::Discard)],
                    vec![
                        b("preview.edit_topic", PreviewAction::EditTopic),
                        b("preview.edit_kind", PreviewAction::EditKind),
                        b("preview.edit_title", PreviewAction::EditTitle),
                    ],
                    vec![
                        b("preview.add_body", PreviewAction::AddBody),
                        b("preview.rewrite_body", PreviewAction::RewriteBody),
                    ],
                    vec![Choice::new(
                        match draft.cosigners.len() {
                            0 => self.t("preview.cosign"),
                            count => self.ta("preview.cosign_count", &[("count", &count)]),
                        },
                        ChoiceId::Preview { nonce, action: PreviewAction::Cosign },
                    )],
                ];
                // 联名 an alike suggestion instead, where it is open to co-signing (`Alike::joinable`).
                rows.extend(similar.iter().filter(|a| a.joinable).map(|a| {
                    let label = self.ta("preview.join", &[("reference", &a.reference)]);
                    vec![Choice::new(label, ChoiceId::JoinCosign { nonce, suggestion_id: a.id, confirmed: false })]
                }));
                self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
            }
            Step::Cosigners => self.ask_cosigners(nonce),
        }
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    /// Up to three existing suggestions on the draft's topic most like it (`crate::similar`):
    /// reference number, title and state, what the member may see of others' suggestions. The
    /// member goes on or changes the draft with the preview's buttons, or co-signs (联名) one that
    /// is open to it instead (`Alike::joinable`, `cosign::join_cosign`).
    async fn similar_to(&mut self, draft: &Draft) -> Result<Vec<Alike>, StoreError> {
        let (Some(title), Some(topic)) = (draft.title.as_deref(), draft.topic) else { return Ok(Vec::new()) };
        let limit = crate::store::inbox::SIMILAR_CANDIDATES;
        let candidates = self.ctx.store.similar_candidates(topic.id(), None, limit).await?;
        let profiles: Vec<(usize, crate::similar::Profile)> = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (i, crate::similar::Profile::new(&c.title, &[c.body.as_str()])))
            .collect();
        let points: Vec<&str> = draft.points.iter().map(String::as_str).collect();
        let wanted = crate::similar::Profile::new(title, &points);
        // The console's preview is a sandbox: its test member co-signs nothing real.
        let me = self.member_id.filter(|_| !crate::store::console::is_preview_chat(self.person.chat_id));
        let mut alike = Vec::new();
        for (i, _) in crate::similar::most_alike(&wanted, &profiles, 3) {
            let c = &candidates[i];
            let joinable = match me {
                Some(me) if c.state == SuggestionState::Submitted => {
                    self.ctx.store.facts(c.id).await?.is_some_and(|f| f.member_id != me && f.cosigner(me).is_none())
                }
                _ => false,
            };
            alike.push(Alike {
                id: c.id,
                reference: c.reference_no.clone(),
                title: c.title.clone(),
                state: c.state,
                joinable,
            });
        }
        Ok(alike)
    }

    fn done_keyboard(&self, nonce: u32) -> Keyboard {
        if self.dialog.submission().is_none_or(|s| s.draft.points.is_empty()) {
            Keyboard::None
        } else {
            Keyboard::Choices(vec![vec![Choice::new(self.t("dialog.done_button"), ChoiceId::Done { nonce })]])
        }
    }

    /// Moves on after a step was answered: back to the preview when editing, else to `next`.
    async fn advance(&mut self, next: Step) -> Result<(), StoreError> {
        let sub = self.sub();
        sub.step = if sub.draft.editing { Step::Preview } else { next };
        if sub.step == Step::Preview {
            sub.draft.editing = false;
        }
        self.ask().await
    }

    async fn button(&mut self, member: &Member, message_id: i32, data: Option<ChoiceId>) -> Result<(), StoreError> {
        let Some(data) = data else {
            self.out.notice = Some(self.t("button.invalid"));
            return Ok(());
        };
        // Rating choices, and staff or department choices a member should not have.
        if workflow_ui::workflow_target(&data).is_some() {
            return self.member_workflow_button(member, message_id, data).await;
        }
        match data {
            ChoiceId::Show { suggestion_id } => return self.show(member, suggestion_id).await,
            ChoiceId::New { topic_id } => {
                if self.in_dialog() {
                    self.out.notice = Some(self.t("dialog.busy"));
                    let text = self.t("dialog.busy");
                    self.out.say(Action::text(text));
                    return self.reask().await;
                }
                return self.start_new(topic_id).await;
            }
            _ => {}
        }
        let step = self.dialog.step();
        let (nonce, fits_step) = match &data {
            ChoiceId::Topic { nonce, .. } => (*nonce, step == Some(Step::Topic)),
            ChoiceId::Kind { nonce, .. } => (*nonce, step == Some(Step::Kind)),
            ChoiceId::Done { nonce } => (*nonce, step == Some(Step::Body)),
            ChoiceId::Preview { nonce, .. } => (*nonce, step == Some(Step::Preview)),
            ChoiceId::Cosigners { nonce, .. } => (*nonce, step == Some(Step::Cosigners)),
            ChoiceId::JoinCosign { nonce, .. } => (*nonce, step == Some(Step::Preview)),
            _ => {
                // Another role's choice (a wizard, a page, a broadcast): not the member's.
                self.out.notice = Some(self.t("button.invalid"));
                return Ok(());
            }
        };
        // 完成 on any earlier acknowledgement of this draft's points is as good as on the last one.
        let done_of_this_draft =
            matches!(data, ChoiceId::Done { .. }) && self.dialog.submission().is_some_and(|s| nonce > s.draft.since);
        if (nonce != self.dialog.nonce && !done_of_this_draft) || !fits_step {
            self.out.notice = Some(self.t("button.stale"));
            let text = self.t("button.stale");
            self.out.say(Action::text(text));
            return self.reask().await;
        }
        self.out.say(Action::Retire { message_id });
        match data {
            ChoiceId::Topic { topic_id: 0, .. } => {
                self.sub().draft.topic = Some(TopicChoice::General);
                self.advance(Step::Kind).await
            }
            ChoiceId::Topic { topic_id, .. } => match self.ctx.store.topic(topic_id).await? {
                Some(topic) if topic.is_open(self.ctx.now) => {
                    self.sub().draft.topic = Some(TopicChoice::Topic(topic.id));
                    let text = self.ta("dialog.topic_chosen", &[("title", &topic.title)]);
                    self.out.say(Action::text(text));
                    self.advance(Step::Kind).await
                }
                _ => {
                    self.out.notice = Some(self.t("dialog.topic_closed"));
                    let text = self.t("dialog.topic_closed");
                    self.out.say(Action::text(text));
                    self.ask().await
                }
            },
            ChoiceId::Kind { kind, .. } => {
                self.sub().draft.kind = Some(kind);
                self.advance(Step::Title).await
            }
            ChoiceId::Done { .. } => {
                if self.sub().draft.points.is_empty() {
                    let text = self.t("dialog.body_needs_point");
                    self.out.say(Action::text(text));
                    return self.ask().await;
                }
                let sub = self.sub();
                sub.draft.editing = false;
                sub.step = Step::Preview;
                self.ask().await
            }
            ChoiceId::Preview { action, .. } => self.preview_action(member, action).await,
            ChoiceId::Cosigners { op, .. } => self.cosigners_button(member, op).await,
            ChoiceId::JoinCosign { suggestion_id, confirmed, .. } => {
                self.join_cosign(member, suggestion_id, confirmed).await
            }
            _ => unreachable!("refused above"),
        }
    }

    async fn preview_action(&mut self, member: &Member, action: PreviewAction) -> Result<(), StoreError> {
        let step = match action {
            PreviewAction::Submit => return self.submit(member).await,
            PreviewAction::Discard => {
                let text = self.t("dialog.discarded");
                self.out.say(Action::with_keyboard(text, self.menu()));
                self.finish();
                return Ok(());
            }
            PreviewAction::EditTopic => Step::Topic,
            PreviewAction::EditKind => Step::Kind,
            PreviewAction::EditTitle => Step::Title,
            PreviewAction::AddBody => Step::Body,
            PreviewAction::Cosign => Step::Cosigners,
            PreviewAction::Back => return self.ask().await,
            PreviewAction::RewriteBody => {
                let draft = &mut self.sub().draft;
                draft.points.clear();
                draft.typed.clear();
                draft.attachments.clear();
                Step::Body
            }
        };
        let sub = self.sub();
        sub.draft.editing = true;
        sub.step = step;
        self.ask().await
    }

    async fn submit(&mut self, member: &Member) -> Result<(), StoreError> {
        let draft = self.sub().draft.clone();
        let (Some(topic), Some(kind), Some(title)) = (draft.topic, draft.kind, draft.title.clone()) else {
            return Err(StoreError::Corrupt("a preview without topic, kind or title".into()));
        };
        let topic = topic.id();
        if let Some(id) = topic {
            let open = self.ctx.store.topic(id).await?.is_some_and(|t| t.is_open(self.ctx.now));
            if !open {
                let text = self.t("dialog.topic_closed_at_submit");
                self.out.say(Action::text(text));
                let sub = self.sub();
                sub.draft.editing = true;
                sub.step = Step::Topic;
                return self.ask().await;
            }
        }
        let year = self.ctx.now.with_timezone(&self.ctx.config.offset()).year();
        let suggestion = NewSuggestion {
            member_id: member.id,
            topic_id: topic,
            kind,
            title: title.clone(),
            points: draft.points.clone(),
            as_typed: if draft.typed.is_empty() {
                String::new()
            } else {
                self.ta("dialog.as_typed", &[("text", &draft.typed.join("\n\n"))])
            },
            attachments: draft.attachments.clone(),
            year,
            prefix: self.ctx.config.references.prefix.clone(),
            entered_by: None,
        };
        let texts = self.ctx.texts.clone();
        let lang = self.lang;
        let chat_id = self.person.chat_id;
        let menu = self.menu();
        let points = draft.points.len();
        // Staff hear of every new suggestion, with the review buttons.
        let staff = crate::workflow::staff_recipients(self.ctx).await?;
        let topic_title = match topic {
            Some(id) => self.ctx.store.topic(id).await?.map(|t| t.title),
            None => None,
        };
        let member_name = member.name.clone();
        let draft_points = draft.points.clone();
        // 联名: the invitations are written with the suggestion and pushed with the receipt.
        let cosign_days = self.ctx.config.workflow.cosign_days;
        let expires_at = self.ctx.now + chrono::Duration::days(cosign_days);
        let deadline = expires_at.with_timezone(&self.ctx.config.offset()).format("%Y-%m-%d %H:%M").to_string();
        let mut invitees = Vec::new();
        // The console's preview is a sandbox: its test member invites nobody real.
        let sandbox = crate::store::console::is_preview_chat(self.person.chat_id);
        for c in draft.cosigners.iter().filter(|_| !sandbox) {
            invitees.push((c.member_id, self.ctx.store.member_recipient(c.member_id).await?));
        }
        let invited_names: Vec<String> = draft.cosigners.iter().filter(|_| !sandbox).map(|c| c.name.clone()).collect();
        if !invitees.is_empty() {
            let member_ids = invitees.iter().map(|(id, _)| *id).collect();
            self.out.effects.push(crate::store::Effect::InviteCosigners { member_ids, expires_at });
        }
        let receipt: ReceiptFn = Box::new(move |reference, suggestion_id| {
            let text =
                texts.t(lang, "dialog.receipt", &[("reference", reference), ("title", &title), ("points", &points)]);
            let mut messages =
                vec![crate::store::OutMessage::reply(chat_id, Action::with_keyboard(text, menu).encode())];
            let invitation = cosign::Invitation {
                lead: &member_name,
                reference: &reference.to_string(),
                title: &title,
                points: &draft_points,
                deadline: &deadline,
                suggestion_id,
            };
            for (member_id, recipient) in &invitees {
                messages.push(invitation.message(&texts, *member_id, recipient.as_ref()));
            }
            // No staff group and no staff member registered yet: the alert is kept for the first.
            let kept = staff.is_empty().then_some(crate::store::Recipient { chat_id: 0, language: None });
            for r in staff.iter().chain(&kept) {
                let lang = texts.lang_for(r.language.as_deref());
                let topic = topic_title.clone().unwrap_or_else(|| texts.t(lang, "render.no_topic", &[]));
                let kind_label = texts.t(lang, &format!("kind.{}", kind.code()), &[]);
                let listed: String =
                    draft_points.iter().enumerate().map(|(i, p)| format!("{}. {p}\n", i + 1)).collect();
                let mut text = texts.t(
                    lang,
                    "notify.staff_new",
                    &[
                        ("reference", reference),
                        ("title", &title),
                        ("member", &member_name),
                        ("topic", &topic),
                        ("kind", &kind_label),
                        ("points", &listed.trim_end()),
                    ],
                );
                if !invited_names.is_empty() {
                    let names = invited_names.join("、");
                    text = format!("{text}\n\n{}", texts.t(lang, "cosign.staff_invited", &[("names", &names)]));
                }
                let keyboard = crate::workflow::review_keyboard(
                    &texts,
                    lang,
                    suggestion_id,
                    crate::domain::SuggestionState::Submitted,
                );
                let payload = Action::with_keyboard(text, keyboard).encode();
                messages.push(match kept {
                    Some(_) => {
                        crate::store::OutMessage::held(crate::store::Addressee::Staff, Some(suggestion_id), payload)
                    }
                    None => crate::store::OutMessage::notification(r.chat_id, payload),
                });
            }
            messages
        });
        self.out.submission = Some((suggestion, receipt));
        self.finish();
        Ok(())
    }

    async fn step_input(&mut self, member: &Member, input: Input) -> Result<(), StoreError> {
        let limits = &self.ctx.config.limits;
        match (self.dialog.step(), input) {
            (_, Input::Unsupported(kind)) => {
                let what = self.t(kind.key());
                let key = if self.in_dialog() { "input.unsupported_in_dialog" } else { "input.unsupported" };
                let text = self.ta(key, &[("what", &what)]);
                self.out.say(Action::text(text));
                self.reask().await
            }
            (None, Input::Text(text)) if invite::find(&text).is_some() => {
                let text = self.t("register.already_registered");
                self.out.say(Action::with_keyboard(text, self.menu()));
                Ok(())
            }
            (None, _) => {
                let text = self.t("input.idle");
                self.out.say(Action::with_keyboard(text, self.menu()));
                Ok(())
            }
            (Some(Step::Topic | Step::Kind | Step::Preview), Input::Attachment { .. } | Input::Text(_)) => {
                let key = if self.dialog.step() == Some(Step::Preview) {
                    "input.use_preview_buttons"
                } else {
                    "input.use_buttons"
                };
                let text = self.t(key);
                self.out.say(Action::text(text));
                self.ask().await
            }
            (Some(Step::Title), Input::Attachment { .. }) => {
                let text = self.t("dialog.title_needs_text");
                self.out.say(Action::text(text));
                self.ask().await
            }
            (Some(Step::Title), Input::Text(text)) => {
                let title = text.trim();
                let len = title.chars().count();
                if title.is_empty() {
                    let text = self.t("dialog.title_empty");
                    self.out.say(Action::text(text));
                    return self.ask().await;
                }
                if len > limits.title_max_chars {
                    let text = self.ta("dialog.title_too_long", &[("max", &limits.title_max_chars), ("len", &len)]);
                    self.out.say(Action::text(text));
                    return self.ask().await;
                }
                self.sub().draft.title = Some(title.to_string());
                self.advance(Step::Body).await
            }
            (Some(Step::Body), Input::Text(text)) => self.add_point(&text),
            (Some(Step::Cosigners), Input::Text(text)) => self.cosigners_typed(member, &text).await,
            (Some(Step::Cosigners), Input::Attachment { .. }) => {
                let text = self.t("cosign.needs_text");
                self.out.say(Action::text(text));
                self.ask().await
            }
            (Some(Step::Body), Input::Attachment { attachment, caption, album }) => {
                self.add_attachment(attachment, caption, album).await
            }
            (_, Input::Command { .. } | Input::Choice { .. } | Input::Edited | Input::NotPrivate) => {
                unreachable!("handled by the caller")
            }
        }
    }

    /// Takes one attachment (and its caption, as a point) into the draft. An album is checked
    /// against the limit as a whole when its first item arrives, refused once if it does not fit,
    /// and acknowledged once, after its last item.
    async fn add_attachment(
        &mut self,
        attachment: Attachment,
        caption: Option<String>,
        album: Option<AlbumPart>,
    ) -> Result<(), StoreError> {
        let max = self.ctx.config.limits.max_attachments;
        let have = self.sub().draft.attachments.len();
        if let Some(part) = &album {
            match self.sub().draft.album.clone().filter(|a| a.id == part.id) {
                Some(progress) if progress.refused => return Ok(()),
                // The rest of an album already begun, gathered apart (its items came in two
                // getUpdates batches, or a restart came in the middle): checked like a new one.
                Some(_) if !part.is_first() => {}
                progress => {
                    // Items of this album already taken are counted in `have`, not twice.
                    let added = progress.map_or(0, |p| p.added);
                    let room = max.saturating_sub(have);
                    if part.count > room {
                        self.sub().draft.album = Some(AlbumProgress { id: part.id.clone(), added, refused: true });
                        let text = self.ta(
                            "dialog.album_too_large",
                            &[("count", &part.count), ("max", &max), ("room", &room), ("have", &have)],
                        );
                        // No new question: the buttons of the last acknowledgement stay valid.
                        self.out.say(Action::text(text));
                        self.out.state = Some(self.dialog.clone());
                        return Ok(());
                    }
                    self.sub().draft.album = Some(AlbumProgress { id: part.id.clone(), added, refused: false });
                }
            }
        }
        if have >= max {
            let text = self.ta("dialog.too_many_attachments", &[("max", &max)]);
            self.out.say(Action::text(text));
            return self.ask().await;
        }
        if let Some(caption) = caption.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            let points = Point::split(caption);
            if let Err(text) = self.check_points(&points) {
                self.out.say(Action::text(text));
                return self.ask().await;
            }
            self.keep_points(caption, points);
        }
        self.sub().draft.attachments.push(attachment);
        let in_album = match (&album, self.sub().draft.album.as_mut()) {
            (Some(part), Some(progress)) if progress.id == part.id => {
                progress.added += 1;
                if !part.is_last() {
                    // Kept quietly; the album is acknowledged after its last item.
                    self.out.state = Some(self.dialog.clone());
                    return Ok(());
                }
                Some(progress.added)
            }
            _ => None,
        };
        let nonce = self.dialog.nonce + 1;
        self.dialog.nonce = nonce;
        let draft = &self.sub().draft;
        let (attachments, points) = (draft.attachments.len(), draft.points.len());
        let text = match in_album {
            Some(n) => {
                let mut text =
                    self.ta("dialog.album_added", &[("count", &n), ("attachments", &attachments), ("points", &points)]);
                if let Some(skipped) = album.as_ref().map(|p| p.skipped).filter(|n| *n > 0) {
                    text.push('\n');
                    text.push_str(&self.ta("dialog.album_skipped", &[("skipped", &skipped)]));
                }
                text
            }
            None => self.ta("dialog.attachment_added", &[("attachments", &attachments), ("points", &points)]),
        };
        let keyboard = self.done_keyboard(nonce);
        self.out.say(Action::with_keyboard(text, keyboard));
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    /// Whether `points` (from one message) fit: each within the length limit, and all of them
    /// within the number of points a suggestion may have.
    fn check_points(&self, points: &[Point]) -> Result<(), String> {
        let limits = &self.ctx.config.limits;
        for point in points {
            let len = point.as_str().chars().count();
            if len > limits.point_max_chars {
                return Err(self.ta("dialog.point_too_long", &[("max", &limits.point_max_chars), ("len", &len)]));
            }
        }
        let have = self.dialog.submission().map_or(0, |s| s.draft.points.len());
        if have >= limits.max_points {
            return Err(self.ta("dialog.too_many_points", &[("max", &limits.max_points)]));
        }
        if have + points.len() > limits.max_points {
            let args: [(&str, &dyn std::fmt::Display); 3] =
                [("count", &points.len()), ("have", &have), ("max", &limits.max_points)];
            return Err(self.ta("dialog.too_many_points_split", &args));
        }
        Ok(())
    }

    /// Adds the points of one message to the draft, keeping the message as typed when the points
    /// differ from it.
    fn keep_points(&mut self, typed: &str, points: Vec<Point>) {
        let typed = typed.trim();
        if !(points.len() == 1 && points[0].as_str() == typed) {
            self.sub().draft.typed.push(typed.to_string());
        }
        self.sub().draft.points.extend(points.into_iter().map(Point::into_string));
    }

    fn add_point(&mut self, text: &str) -> Result<(), StoreError> {
        let points = Point::split(text);
        let nonce = self.dialog.nonce + 1;
        self.dialog.nonce = nonce;
        let reply = if points.is_empty() {
            self.t("dialog.point_empty")
        } else {
            match self.check_points(&points) {
                Err(text) => text,
                Ok(()) => {
                    let first = self.sub().draft.points.len() + 1;
                    let count = points.len();
                    self.keep_points(text, points);
                    let last = self.sub().draft.points.len();
                    if count == 1 {
                        self.ta("dialog.point_added", &[("n", &last)])
                    } else {
                        self.ta("dialog.points_added", &[("count", &count), ("first", &first), ("last", &last)])
                    }
                }
            }
        };
        let keyboard = self.done_keyboard(nonce);
        self.out.say(Action::with_keyboard(reply, keyboard));
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    async fn my_list(&mut self, member: &Member) -> Result<(), StoreError> {
        let size = self.ctx.config.limits.my_list_size;
        let mut list = self.ctx.store.suggestions_of_member(member.id, size).await?;
        // 联名: the suggestions the member co-signs are theirs to follow too, marked so.
        let cosigned_list = self.ctx.store.cosigned_suggestions(member.id, size).await?;
        let cosigned: Vec<i64> = cosigned_list.iter().map(|s| s.id).collect();
        list.extend(cosigned_list);
        list.sort_by_key(|s| std::cmp::Reverse(s.id));
        list.truncate(size);
        if list.is_empty() {
            let text = self.t("my.empty");
            self.out.say(Action::with_keyboard(text, self.menu()));
            return Ok(());
        }
        let offset = self.ctx.config.offset();
        let text = render::my_list(self.ctx.texts, self.lang, &list, &cosigned, offset);
        let rows = list
            .iter()
            .map(|s| {
                vec![Choice::new(
                    format!("{} {}", s.reference_no, truncate(&s.title, 20)),
                    ChoiceId::Show { suggestion_id: s.id },
                )]
            })
            .collect();
        self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
        Ok(())
    }

    async fn show(&mut self, member: &Member, suggestion_id: i64) -> Result<(), StoreError> {
        use crate::workflow::{Act, Actor};
        let actor = Actor::Member(member);
        let facts = self.ctx.store.facts(suggestion_id).await?;
        let suggestion = match &facts {
            // The lead member and those who co-sign it (联名) may see it.
            Some(f) if crate::workflow::permitted(&actor, Act::View, f) => {
                self.ctx.store.suggestion(suggestion_id).await?
            }
            _ => None,
        };
        match (suggestion, facts) {
            (Some(s), Some(f)) => {
                let offset = self.ctx.config.offset();
                let mut text = render::suggestion_for_member(self.ctx.texts, self.lang, &s, offset);
                if let Some(line) = self.signers_line(&f).await? {
                    text = format!("{line}\n{text}");
                }
                // An answer waiting for the member's rating can be rated from here too (a
                // co-signer's until they rated it), and a suggestion staff have not decided on
                // yet can be withdrawn by its lead member.
                let rate = crate::workflow::act_as(&actor, Act::Rate, &f);
                let rated = crate::workflow::once_key(
                    &actor,
                    &crate::workflow::Command::Rate {
                        reply_no: f.replies,
                        rating: crate::store::Rating::Satisfied,
                        reason: String::new(),
                    },
                    &f,
                )
                .is_some_and(|k| f.done(&k));
                let keyboard = if f.replies > 0
                    && !rated
                    && crate::workflow::permitted(&actor, rate, &f)
                    && crate::workflow::allowed_in(rate, f.state)
                {
                    self.rating_keyboard(f.id, f.replies)
                } else if f.member_id == member.id {
                    match self.withdraw_button(f.id, f.state) {
                        Some(button) => Keyboard::Choices(vec![vec![button]]),
                        None => Keyboard::None,
                    }
                } else {
                    Keyboard::None
                };
                self.out.say(Action::with_keyboard(text, keyboard));
            }
            _ => {
                tracing::warn!(
                    suggestion_id,
                    member_id = member.id,
                    "refused a button for a suggestion that is not the member's"
                );
                self.out.notice = Some(self.t("button.not_yours"));
                let text = self.t("button.not_yours");
                self.out.say(Action::text(text));
            }
        }
        Ok(())
    }

    async fn topic_list(&mut self) -> Result<(), StoreError> {
        let topics: Vec<Topic> = self.ctx.store.open_topics(self.ctx.now).await?;
        if topics.is_empty() {
            let text = self.t("topics.empty");
            self.out.say(Action::with_keyboard(text, self.menu()));
            return Ok(());
        }
        let text = render::topic_list(self.ctx.texts, self.lang, &topics, self.ctx.config.offset());
        let rows = topics
            .iter()
            .map(|t| {
                vec![Choice::new(
                    self.ta("topics.answer_button", &[("title", &truncate(&t.title, 30))]),
                    ChoiceId::New { topic_id: Some(t.id) },
                )]
            })
            .collect();
        self.out.say(Action::with_keyboard(text, Keyboard::Choices(rows)));
        Ok(())
    }
}

/// `/start t12` (a deep link to topic 12).
fn parse_topic_link(arg: &str) -> Option<i64> {
    arg.strip_prefix('t')?.parse().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod legacy_tests;
/// A button press as Telegram delivers it: its callback data, decoded as the adapter decodes it.
#[cfg(test)]
fn pressed(message_id: i32, data: impl AsRef<str>) -> Input {
    Input::Choice { message_id, choice: crate::bot::callback::decode(data.as_ref()) }
}

/// The callback data Telegram would carry for `choice`.
#[cfg(test)]
fn callback_data(choice: &Choice) -> String {
    crate::bot::callback::encode(&choice.id).unwrap_or_default()
}

#[cfg(test)]
mod tests;
