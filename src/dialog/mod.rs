//! The member dialog: registration, the guided suggestion, `/my`, `/topics` — plain Rust, no Telegram.
//!
//! `handle` takes what a person did and the chat's saved state and returns the new state, what to
//! say, and the suggestion to file, if any. The caller applies all of it in one transaction.

mod render;

use chrono::Datelike;
use serde::{Deserialize, Serialize};

pub(crate) use crate::context::Ctx;
use crate::domain::{Point, SuggestionKind};
use crate::invite;
use crate::locale::{Lang, Texts};
use crate::reply::{Action, Button, Keyboard};
use crate::store::{Attachment, Identity, Member, NewSuggestion, ReceiptFn, Redeemed, StoreError, Topic};

pub mod broadcast;
mod department;
mod rating;
mod staff;
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
    Button {
        message_id: i32,
        data: String,
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

/// Where a chat is, with the draft collected so far. Saved as JSON after every update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dialog {
    /// Bumped with every question asked: buttons carry it, so an old keyboard is recognised as stale.
    pub nonce: u32,
    pub step: Step,
    pub draft: Draft,
    /// A staff member's action waiting for more input (a reason, a reference number, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_task: Option<staff::StaffTask>,
    /// A liaison's action waiting for more input (a reply being written, a reason, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_task: Option<department::DepartmentTask>,
    /// A broadcast being composed by staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<broadcast::BroadcastDraft>,
    /// A member's "dissatisfied" rating waiting for the optional reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_task: Option<RatingTask>,
}

/// The member tapped 不满意 on a reply: the reason is asked for (it may be skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingTask {
    pub suggestion_id: i64,
    pub reply_no: i64,
    /// The answer whose rating buttons were pressed: they are removed once the rating is made.
    #[serde(default)]
    pub message_id: i32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    #[default]
    Idle,
    Topic,
    Kind,
    Title,
    Body,
    Preview,
}

/// The topic a draft answers, once chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopicChoice {
    /// "No particular topic" (common for 社情民意信息).
    General,
    Topic(i64),
}

impl TopicChoice {
    pub fn id(self) -> Option<i64> {
        match self {
            Self::General => None,
            Self::Topic(id) => Some(id),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub topic: Option<TopicChoice>,
    pub kind: Option<SuggestionKind>,
    pub title: Option<String>,
    pub points: Vec<String>,
    /// Messages whose points are stored otherwise than typed (the member's own numbers left out,
    /// several numbered lines split into points), as typed: they go on the timeline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub typed: Vec<String>,
    pub attachments: Vec<Attachment>,
    /// Came from the preview to change one part: go back to the preview after it.
    pub editing: bool,
    /// The dialog's nonce when this draft was begun. Every point acknowledged carries a 完成
    /// button; any of them (a nonce above this) still works while the content is being sent, as
    /// the action it stands for is still valid.
    #[serde(default)]
    pub since: u32,
    /// The album being received, item by item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub album: Option<AlbumProgress>,
}

/// How far an album has been taken into the draft.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlbumProgress {
    /// The album's `media_group_id`.
    pub id: String,
    /// Items added to the draft so far.
    pub added: usize,
    /// The album was refused as a whole (over the attachment limit): its other items are ignored.
    pub refused: bool,
}

/// What handling one input produced.
#[derive(Default)]
pub struct Output {
    /// The chat's new state; `None` leaves it unchanged.
    pub state: Option<Dialog>,
    pub actions: Vec<Action>,
    /// A short notice for the button press (Telegram's answerCallbackQuery).
    pub toast: Option<String>,
    pub submission: Option<(NewSuggestion, ReceiptFn)>,
    /// A workflow change to apply with this update (accept, assign, reply, rate, …).
    pub change: Option<crate::store::Change>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("state", &self.state)
            .field("actions", &self.actions)
            .field("toast", &self.toast)
            .field("submission", &self.submission.as_ref().map(|(s, _)| s))
            .finish()
    }
}

impl Output {
    fn say(&mut self, action: Action) {
        self.actions.push(action);
    }
}

/// Data carried by buttons. Dialog buttons carry the nonce; the others are checked against the member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonData {
    Topic {
        nonce: u32,
        topic_id: i64,
    },
    Kind {
        nonce: u32,
        kind: SuggestionKind,
    },
    Done {
        nonce: u32,
    },
    Preview {
        nonce: u32,
        action: PreviewAction,
    },
    /// Open one of the member's suggestions.
    Show {
        suggestion_id: i64,
    },
    /// Start a suggestion, optionally on a topic (from /topics or a broadcast).
    New {
        topic_id: Option<i64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewAction {
    Submit,
    Discard,
    EditTopic,
    EditKind,
    EditTitle,
    AddBody,
    RewriteBody,
}

impl PreviewAction {
    const ALL: [(PreviewAction, &'static str); 7] = [
        (Self::Submit, "submit"),
        (Self::Discard, "discard"),
        (Self::EditTopic, "topic"),
        (Self::EditKind, "kind"),
        (Self::EditTitle, "title"),
        (Self::AddBody, "add"),
        (Self::RewriteBody, "rewrite"),
    ];
    fn code(self) -> &'static str {
        Self::ALL.iter().find(|(a, _)| *a == self).map(|(_, c)| *c).unwrap_or("submit")
    }
}

impl ButtonData {
    /// The callback data, at most 64 bytes.
    pub fn encode(&self) -> String {
        match self {
            Self::Topic { nonce, topic_id } => format!("n:{nonce}:t:{topic_id}"),
            Self::Kind { nonce, kind } => format!("n:{nonce}:k:{}", kind.code()),
            Self::Done { nonce } => format!("n:{nonce}:done"),
            Self::Preview { nonce, action } => format!("n:{nonce}:p:{}", action.code()),
            Self::Show { suggestion_id } => format!("s:{suggestion_id}"),
            Self::New { topic_id: Some(id) } => format!("new:{id}"),
            Self::New { topic_id: None } => "new".to_string(),
        }
    }

    pub fn parse(data: &str) -> Option<Self> {
        let parts: Vec<&str> = data.split(':').collect();
        match parts.as_slice() {
            ["n", nonce, rest @ ..] => {
                let nonce: u32 = nonce.parse().ok()?;
                match rest {
                    ["t", id] => Some(Self::Topic { nonce, topic_id: id.parse().ok().filter(|n| *n >= 0)? }),
                    ["k", code] => Some(Self::Kind { nonce, kind: SuggestionKind::parse(code)? }),
                    ["done"] => Some(Self::Done { nonce }),
                    ["p", code] => {
                        Some(Self::Preview { nonce, action: PreviewAction::ALL.iter().find(|(_, c)| c == code)?.0 })
                    }
                    _ => None,
                }
            }
            ["s", id] => Some(Self::Show { suggestion_id: id.parse().ok()? }),
            ["new"] => Some(Self::New { topic_id: None }),
            ["new", id] => Some(Self::New { topic_id: Some(id.parse().ok()?) }),
            _ => None,
        }
    }
}

/// Commands members can type; menu keys map to the first four.
pub const COMMANDS: &[&str] = &["new", "my", "topics", "help", "cancel", "start"];

/// Handles one input. Store errors are returned for the caller to log and retry; never shown.
pub async fn handle(ctx: &Ctx<'_>, person: &Person, dialog: Dialog, input: Input) -> Result<Output, StoreError> {
    let lang = ctx.texts.lang_for(person.language_code.as_deref());
    let mut d = Dialogue { ctx, person, lang, dialog, out: Output::default() };
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
    let mut d = Dialogue { ctx, person, lang, dialog, out: Output::default() };
    if input == Input::NotPrivate {
        let text = d.t("chat.private_only");
        d.out.say(Action::text(text));
        return Ok(d.out);
    }
    d.dispatch(Some(identity), input).await?;
    Ok(d.out)
}

/// What a typed message means, by the same rules as the Telegram adapter: `/name arg` is a
/// command, a menu key's text stands for its command, anything else is text.
pub fn text_input(texts: &Texts, text: &str) -> Input {
    if let Some(rest) = text.strip_prefix('/') {
        let (word, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let name = word.split('@').next().unwrap_or_default().to_lowercase();
        let arg = arg.trim();
        return Input::Command { name, arg: (!arg.is_empty()).then(|| arg.to_string()) };
    }
    if let Some(cmd) = menu_command(texts, text) {
        return Input::Command { name: cmd.to_string(), arg: None };
    }
    Input::Text(text.to_string())
}

/// Maps a menu key's text (in any language) to the command it stands for.
pub fn menu_command(texts: &Texts, text: &str) -> Option<&'static str> {
    let text = text.trim();
    [Lang::Zh, Lang::En].into_iter().find_map(|lang| {
        [
            ("menu.new", "new"),
            ("menu.my", "my"),
            ("menu.topics", "topics"),
            ("menu.help", "help"),
            ("menu.review", "review"),
            ("menu.stats", "stats"),
            ("menu.broadcast", "broadcast"),
            ("menu.todo", "todo"),
        ]
        .into_iter()
        .find(|(key, _)| texts.t(lang, key, &[]) == text)
        .map(|(_, cmd)| cmd)
    })
}

struct Dialogue<'a, 'c> {
    ctx: &'a Ctx<'c>,
    person: &'a Person,
    lang: Lang,
    dialog: Dialog,
    out: Output,
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
                    let collecting = self.dialog.step == Step::Body && self.dialog.rating_task.is_none();
                    collecting || part.is_last()
                }
            };
            if !answered_here {
                return Ok(());
            }
        }
        match identity {
            Some(Identity::Member(member)) if member.active => self.member(&member, input).await,
            Some(Identity::Staff(staff)) if staff.active => self.staff(&staff, input).await,
            Some(Identity::Liaison(liaison)) if liaison.active => self.department(&liaison, input).await,
            _ => self.unregistered(input).await,
        }
    }

    fn t(&self, key: &str) -> String {
        self.ctx.texts.t(self.lang, key, &[])
    }

    fn ta(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        self.ctx.texts.t(self.lang, key, args)
    }

    fn staff_menu(&self) -> Keyboard {
        Keyboard::Menu(vec![
            vec![self.t("menu.review"), self.t("menu.stats")],
            vec![self.t("menu.broadcast"), self.t("menu.help")],
        ])
    }

    fn department_menu(&self) -> Keyboard {
        Keyboard::Menu(vec![vec![self.t("menu.todo"), self.t("menu.help")]])
    }

    fn menu(&self) -> Keyboard {
        Keyboard::Menu(vec![
            vec![self.t("menu.new"), self.t("menu.my")],
            vec![self.t("menu.topics"), self.t("menu.help")],
        ])
    }

    fn in_dialog(&self) -> bool {
        self.dialog.step != Step::Idle
    }

    // ---- people who are not registered ----

    async fn unregistered(&mut self, input: Input) -> Result<(), StoreError> {
        let code = match &input {
            Input::Command { name, arg: Some(arg) } if name == "start" => Some(arg.clone()),
            Input::Text(text) => invite::find(text),
            _ => None,
        };
        if let Input::Button { .. } = input {
            self.out.toast = Some(self.t("register.toast_not_registered"));
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
        let store = self.ctx.store;
        let result = store
            .redeem_invite(
                &invite::hash(&code),
                self.person.user_id,
                self.person.chat_id,
                self.person.language_code.as_deref(),
                self.ctx.now,
            )
            .await?;
        let key = match &result {
            Redeemed::Bound(identity) | Redeemed::AlreadyBound(identity) => {
                let (text, keyboard) = match identity {
                    Identity::Member(m) => (self.ta("register.welcome", &[("name", &m.name)]), self.menu()),
                    Identity::Staff(s) => (self.ta("register.welcome_staff", &[("name", &s.name)]), self.staff_menu()),
                    Identity::Liaison(l) => (
                        self.ta("register.welcome_liaison", &[("name", &l.name), ("department", &l.department_name)]),
                        self.department_menu(),
                    ),
                };
                self.out.say(Action::with_keyboard(text, keyboard));
                self.dialog = Dialog { nonce: self.dialog.nonce + 1, ..Dialog::default() };
                self.out.state = Some(self.dialog.clone());
                return Ok(());
            }
            Redeemed::Unknown => "register.code_unknown",
            Redeemed::Expired => "register.code_expired",
            Redeemed::Used => "register.code_used",
            Redeemed::AccountTaken => "register.account_taken",
            Redeemed::Inactive => "register.member_inactive",
        };
        let text = self.t(key);
        self.out.say(Action::text(text));
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
            Input::Button { message_id, data } => self.button(member, message_id, &data).await,
            Input::Edited => {
                let text = self.t("input.edited");
                self.out.say(Action::text(text));
                self.reask().await
            }
            input => self.step_input(member, input).await,
        }
    }

    async fn command(&mut self, member: &Member, name: &str, arg: Option<String>) -> Result<(), StoreError> {
        match name {
            "cancel" => {
                let key = if self.in_dialog() { "dialog.cancelled" } else { "dialog.nothing_to_cancel" };
                let text = self.t(key);
                self.out.say(Action::with_keyboard(text, self.menu()));
                self.finish();
                Ok(())
            }
            "help" => {
                let text = self.t("help.text");
                self.out.say(Action::with_keyboard(text, self.menu()));
                self.reask().await
            }
            _ if self.in_dialog() => {
                let text = self.t("dialog.busy");
                self.out.say(Action::text(text));
                self.reask().await
            }
            "start" => match arg.as_deref().and_then(parse_topic_link) {
                Some(topic_id) => self.start_new(Some(topic_id)).await,
                None => {
                    let text = self.ta("register.welcome_back", &[("name", &member.name)]);
                    self.out.say(Action::with_keyboard(text, self.menu()));
                    Ok(())
                }
            },
            "new" => self.start_new(None).await,
            "my" => self.my_list(member).await,
            "topics" => self.topic_list().await,
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
        self.dialog = Dialog { nonce, step: Step::Topic, draft, ..Dialog::default() };
        if let Some(id) = topic_id {
            match self.ctx.store.topic(id).await? {
                Some(topic) if topic.is_open(self.ctx.now) => {
                    self.dialog.draft.topic = Some(TopicChoice::Topic(topic.id));
                    let text = self.ta("dialog.topic_chosen", &[("title", &topic.title)]);
                    self.out.say(Action::text(text));
                    self.dialog.step = Step::Kind;
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
        match self.dialog.step {
            Step::Idle => {}
            Step::Topic => {
                let (store, texts, now) = (self.ctx.store, self.ctx.texts, self.ctx.now);
                let options = crate::outreach::topic_picker(store, texts, self.lang, "dialog.topic_none", now).await?;
                let key = if options.len() == 1 { "dialog.ask_topic_empty" } else { "dialog.ask_topic" };
                let rows = options
                    .into_iter()
                    .map(|o| vec![Button::new(o.label, ButtonData::Topic { nonce, topic_id: o.id }.encode())])
                    .collect();
                let text = self.t(key);
                self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
            }
            Step::Kind => {
                let buttons: Vec<Button> = SuggestionKind::ALL
                    .iter()
                    .map(|k| {
                        Button::new(
                            self.t(&format!("kind.{}", k.code())),
                            ButtonData::Kind { nonce, kind: *k }.encode(),
                        )
                    })
                    .collect();
                let rows = buttons.chunks(2).map(|c| c.to_vec()).collect();
                let text = self.t("dialog.ask_kind");
                self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
            }
            Step::Title => {
                let text = self.ta("dialog.ask_title", &[("max", &self.ctx.config.limits.title_max_chars)]);
                self.out.say(Action::text(text));
            }
            Step::Body => {
                let text = if self.dialog.draft.points.is_empty() {
                    self.ta("dialog.ask_body", &[("max", &self.ctx.config.limits.point_max_chars)])
                } else {
                    self.ta("dialog.ask_more", &[("count", &self.dialog.draft.points.len())])
                };
                let keyboard = self.done_keyboard(nonce);
                self.out.say(Action::with_keyboard(text, keyboard));
            }
            Step::Preview => {
                let topic = match self.dialog.draft.topic.and_then(TopicChoice::id) {
                    Some(id) => self.ctx.store.topic(id).await?,
                    None => None,
                };
                let text = render::preview(self.ctx.texts, self.lang, &self.dialog.draft, topic.as_ref());
                let b = |key: &str, action| Button::new(self.t(key), ButtonData::Preview { nonce, action }.encode());
                let rows = vec![
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
                ];
                self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
            }
        }
        self.out.state = Some(self.dialog.clone());
        Ok(())
    }

    fn done_keyboard(&self, nonce: u32) -> Keyboard {
        if self.dialog.draft.points.is_empty() {
            Keyboard::None
        } else {
            Keyboard::Inline(vec![vec![Button::new(self.t("dialog.done_button"), ButtonData::Done { nonce }.encode())]])
        }
    }

    /// Moves on after a step was answered: back to the preview when editing, else to `next`.
    async fn advance(&mut self, next: Step) -> Result<(), StoreError> {
        self.dialog.step = if self.dialog.draft.editing { Step::Preview } else { next };
        if self.dialog.step == Step::Preview {
            self.dialog.draft.editing = false;
        }
        self.ask().await
    }

    async fn button(&mut self, member: &Member, message_id: i32, data: &str) -> Result<(), StoreError> {
        // Rating buttons, and staff or department buttons a member should not have.
        if let Some(button) = workflow_ui::WorkflowButton::parse(data) {
            return self.member_workflow_button(member, message_id, button).await;
        }
        let Some(data) = ButtonData::parse(data) else {
            self.out.toast = Some(self.t("button.invalid"));
            return Ok(());
        };
        match data {
            ButtonData::Show { suggestion_id } => return self.show(member, suggestion_id).await,
            ButtonData::New { topic_id } => {
                if self.in_dialog() {
                    self.out.toast = Some(self.t("dialog.busy"));
                    let text = self.t("dialog.busy");
                    self.out.say(Action::text(text));
                    return self.reask().await;
                }
                return self.start_new(topic_id).await;
            }
            _ => {}
        }
        let (nonce, fits_step) = match &data {
            ButtonData::Topic { nonce, .. } => (*nonce, self.dialog.step == Step::Topic),
            ButtonData::Kind { nonce, .. } => (*nonce, self.dialog.step == Step::Kind),
            ButtonData::Done { nonce } => (*nonce, self.dialog.step == Step::Body),
            ButtonData::Preview { nonce, .. } => (*nonce, self.dialog.step == Step::Preview),
            ButtonData::Show { .. } | ButtonData::New { .. } => unreachable!("handled above"),
        };
        // 完成 on any earlier acknowledgement of this draft's points is as good as on the last one.
        let done_of_this_draft = matches!(data, ButtonData::Done { .. }) && nonce > self.dialog.draft.since;
        if (nonce != self.dialog.nonce && !done_of_this_draft) || !fits_step {
            self.out.toast = Some(self.t("button.stale"));
            let text = self.t("button.stale");
            self.out.say(Action::text(text));
            return self.reask().await;
        }
        self.out.say(Action::ClearButtons { message_id });
        match data {
            ButtonData::Topic { topic_id: 0, .. } => {
                self.dialog.draft.topic = Some(TopicChoice::General);
                self.advance(Step::Kind).await
            }
            ButtonData::Topic { topic_id, .. } => match self.ctx.store.topic(topic_id).await? {
                Some(topic) if topic.is_open(self.ctx.now) => {
                    self.dialog.draft.topic = Some(TopicChoice::Topic(topic.id));
                    let text = self.ta("dialog.topic_chosen", &[("title", &topic.title)]);
                    self.out.say(Action::text(text));
                    self.advance(Step::Kind).await
                }
                _ => {
                    self.out.toast = Some(self.t("dialog.topic_closed"));
                    let text = self.t("dialog.topic_closed");
                    self.out.say(Action::text(text));
                    self.ask().await
                }
            },
            ButtonData::Kind { kind, .. } => {
                self.dialog.draft.kind = Some(kind);
                self.advance(Step::Title).await
            }
            ButtonData::Done { .. } => {
                if self.dialog.draft.points.is_empty() {
                    let text = self.t("dialog.body_needs_point");
                    self.out.say(Action::text(text));
                    return self.ask().await;
                }
                self.dialog.draft.editing = false;
                self.dialog.step = Step::Preview;
                self.ask().await
            }
            ButtonData::Preview { action, .. } => self.preview_action(member, action).await,
            ButtonData::Show { .. } | ButtonData::New { .. } => unreachable!("handled above"),
        }
    }

    async fn preview_action(&mut self, member: &Member, action: PreviewAction) -> Result<(), StoreError> {
        let draft = &mut self.dialog.draft;
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
            PreviewAction::RewriteBody => {
                draft.points.clear();
                draft.typed.clear();
                draft.attachments.clear();
                Step::Body
            }
        };
        draft.editing = true;
        self.dialog.step = step;
        self.ask().await
    }

    async fn submit(&mut self, member: &Member) -> Result<(), StoreError> {
        let draft = self.dialog.draft.clone();
        let (Some(topic), Some(kind), Some(title)) = (draft.topic, draft.kind, draft.title.clone()) else {
            return Err(StoreError::Corrupt("a preview without topic, kind or title".into()));
        };
        let topic = topic.id();
        if let Some(id) = topic {
            let open = self.ctx.store.topic(id).await?.is_some_and(|t| t.is_open(self.ctx.now));
            if !open {
                let text = self.t("dialog.topic_closed_at_submit");
                self.out.say(Action::text(text));
                self.dialog.draft.editing = true;
                self.dialog.step = Step::Topic;
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
        let receipt: ReceiptFn = Box::new(move |reference, suggestion_id| {
            let text =
                texts.t(lang, "dialog.receipt", &[("reference", reference), ("title", &title), ("points", &points)]);
            let mut messages =
                vec![crate::store::OutMessage::reply(chat_id, Action::with_keyboard(text, menu).encode())];
            // No staff group and no staff member registered yet: the alert is kept for the first.
            let kept = staff.is_empty().then_some(crate::store::Recipient { chat_id: 0, language: None });
            for r in staff.iter().chain(&kept) {
                let lang = texts.lang_for(r.language.as_deref());
                let topic = topic_title.clone().unwrap_or_else(|| texts.t(lang, "render.no_topic", &[]));
                let kind_label = texts.t(lang, &format!("kind.{}", kind.code()), &[]);
                let listed: String =
                    draft_points.iter().enumerate().map(|(i, p)| format!("{}. {p}\n", i + 1)).collect();
                let text = texts.t(
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

    async fn step_input(&mut self, _member: &Member, input: Input) -> Result<(), StoreError> {
        let limits = &self.ctx.config.limits;
        match (self.dialog.step, input) {
            (_, Input::Unsupported(kind)) => {
                let what = self.t(kind.key());
                let key = if self.in_dialog() { "input.unsupported_in_dialog" } else { "input.unsupported" };
                let text = self.ta(key, &[("what", &what)]);
                self.out.say(Action::text(text));
                self.reask().await
            }
            (Step::Idle, Input::Text(text)) if invite::find(&text).is_some() => {
                let text = self.t("register.already_registered");
                self.out.say(Action::with_keyboard(text, self.menu()));
                Ok(())
            }
            (Step::Idle, _) => {
                let text = self.t("input.idle");
                self.out.say(Action::with_keyboard(text, self.menu()));
                Ok(())
            }
            (Step::Topic | Step::Kind | Step::Preview, Input::Attachment { .. } | Input::Text(_)) => {
                let key =
                    if self.dialog.step == Step::Preview { "input.use_preview_buttons" } else { "input.use_buttons" };
                let text = self.t(key);
                self.out.say(Action::text(text));
                self.ask().await
            }
            (Step::Title, Input::Attachment { .. }) => {
                let text = self.t("dialog.title_needs_text");
                self.out.say(Action::text(text));
                self.ask().await
            }
            (Step::Title, Input::Text(text)) => {
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
                self.dialog.draft.title = Some(title.to_string());
                self.advance(Step::Body).await
            }
            (Step::Body, Input::Text(text)) => self.add_point(&text),
            (Step::Body, Input::Attachment { attachment, caption, album }) => {
                self.add_attachment(attachment, caption, album).await
            }
            (_, Input::Command { .. } | Input::Button { .. } | Input::Edited | Input::NotPrivate) => {
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
        let have = self.dialog.draft.attachments.len();
        if let Some(part) = &album {
            match self.dialog.draft.album.as_ref().filter(|a| a.id == part.id) {
                Some(progress) if progress.refused => return Ok(()),
                // The rest of an album already begun, gathered apart (its items came in two
                // getUpdates batches, or a restart came in the middle): checked like a new one.
                Some(_) if !part.is_first() => {}
                progress => {
                    // Items of this album already taken are counted in `have`, not twice.
                    let added = progress.map_or(0, |p| p.added);
                    let room = max.saturating_sub(have);
                    if part.count > room {
                        self.dialog.draft.album = Some(AlbumProgress { id: part.id.clone(), added, refused: true });
                        let text = self.ta(
                            "dialog.album_too_large",
                            &[("count", &part.count), ("max", &max), ("room", &room), ("have", &have)],
                        );
                        // No new question: the buttons of the last acknowledgement stay valid.
                        self.out.say(Action::text(text));
                        self.out.state = Some(self.dialog.clone());
                        return Ok(());
                    }
                    self.dialog.draft.album = Some(AlbumProgress { id: part.id.clone(), added, refused: false });
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
        self.dialog.draft.attachments.push(attachment);
        let in_album = match (&album, self.dialog.draft.album.as_mut()) {
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
        let (attachments, points) = (self.dialog.draft.attachments.len(), self.dialog.draft.points.len());
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
        let have = self.dialog.draft.points.len();
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
            self.dialog.draft.typed.push(typed.to_string());
        }
        self.dialog.draft.points.extend(points.into_iter().map(Point::into_string));
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
                    let first = self.dialog.draft.points.len() + 1;
                    let count = points.len();
                    self.keep_points(text, points);
                    let last = self.dialog.draft.points.len();
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
        let list = self.ctx.store.suggestions_of_member(member.id, self.ctx.config.limits.my_list_size).await?;
        if list.is_empty() {
            let text = self.t("my.empty");
            self.out.say(Action::with_keyboard(text, self.menu()));
            return Ok(());
        }
        let offset = self.ctx.config.offset();
        let text = render::my_list(self.ctx.texts, self.lang, &list, offset);
        let rows = list
            .iter()
            .map(|s| {
                vec![Button::new(
                    format!("{} {}", s.reference_no, truncate(&s.title, 20)),
                    ButtonData::Show { suggestion_id: s.id }.encode(),
                )]
            })
            .collect();
        self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
        Ok(())
    }

    async fn show(&mut self, member: &Member, suggestion_id: i64) -> Result<(), StoreError> {
        let suggestion = self.ctx.store.suggestion(suggestion_id).await?;
        match suggestion {
            Some(s) if s.member_id == member.id => {
                let text = render::suggestion_for_member(self.ctx.texts, self.lang, &s, self.ctx.config.offset());
                // An answer waiting for the member's rating can be rated from here too.
                let keyboard = match self.ctx.store.facts(s.id).await? {
                    Some(f) if f.state == crate::domain::SuggestionState::Replied => {
                        self.rating_keyboard(f.id, f.replies)
                    }
                    _ => Keyboard::None,
                };
                self.out.say(Action::with_keyboard(text, keyboard));
            }
            _ => {
                tracing::warn!(
                    suggestion_id,
                    member_id = member.id,
                    "refused a button for a suggestion that is not the member's"
                );
                self.out.toast = Some(self.t("button.not_yours"));
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
                vec![Button::new(
                    self.ta("topics.answer_button", &[("title", &truncate(&t.title, 30))]),
                    ButtonData::New { topic_id: Some(t.id) }.encode(),
                )]
            })
            .collect();
        self.out.say(Action::with_keyboard(text, Keyboard::Inline(rows)));
        Ok(())
    }
}

/// `/start t12` (a deep link to topic 12).
fn parse_topic_link(arg: &str) -> Option<i64> {
    arg.strip_prefix('t')?.parse().ok().filter(|n| *n > 0)
}

pub fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests;
