//! The member-dialog preview: chat in the browser with the same dialog engine as a test member.
//!
//! Staff (and admins) talk to `dialog::handle_as` as their own test member (`store.preview_member`:
//! one per console account, marked test, left out of statistics, exports and the member list):
//! text, the bot's inline buttons, the persistent menu keys, and a reset. A newcomer without a
//! Telegram token sees exactly what members see. The preview is a sandbox: it never plays a real
//! member, so it cannot submit, rate or withdraw anything as one (the workflow's permission rules
//! refuse the test member every real member's suggestion, even with a forged button).
//!
//! Each console user has their own preview chat, under a synthetic chat id that
//! cannot be a Telegram chat (`store::console::is_preview_chat`). Its dialog state lives in the
//! `dialogs` table like any chat's, with the conversation so far kept beside it in the same JSON
//! (`preview_transcript`; the dialog ignores the extra field). Every input is committed through
//! `store.commit` like the bot does, so a suggestion submitted here is a test suggestion of the
//! test member and staff are alerted as usual. Nothing meant for the member is ever sent to Telegram:
//! messages addressed to the preview chat, or to the member's own Telegram chat, are taken out of
//! the commit and shown on the page instead; whatever might still reach the outbox for the preview
//! chat is marked cancelled right after (`discard_preview_outbox`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::auth::{self, CurrentUser};
use super::{WebError, WebState, layout};
use crate::choice::ChoiceId;
use crate::context::Ctx;
use crate::conversation;
use crate::dialog::{self, Dialog, Input, Person};
use crate::reply::{Action, Keyboard};
use crate::store::console::{PREVIEW_CHAT_BASE, is_preview_chat};
use crate::store::{Addressee, Commit, Committed, Identity, Member, OutMessage, ReceiptFn, Role};

/// Conversation entries kept per preview chat; older ones are dropped.
const MAX_BUBBLES: usize = 200;
/// Telegram's limit for one message, in characters (a longer one cannot be sent there either).
const MAX_TEXT_CHARS: usize = 4096;
/// Members' ids must stay below this to give every (user, member) pair its own chat id.
const MEMBER_ID_SPAN: i64 = 100_000;
/// The key beside the dialog state that holds the conversation.
const TRANSCRIPT_KEY: &str = "preview_transcript";
/// Planning again after the suggestion changed meanwhile, as the bot's retries do.
const CONFLICT_RETRIES: usize = 3;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/preview", get(page))
        .route("/preview/{member_id}/send", post(send))
        .route("/preview/{member_id}/button", post(button))
        .route("/preview/{member_id}/reset", post(reset))
}

/// Inputs to one preview chat are handled one at a time, as the bot's per-chat worker does for a
/// Telegram chat: a double click on 提交 must not file the suggestion twice. The console runs in
/// one process, so a lock per chat in it is enough; unused locks are dropped. One set lives in
/// `WebState::preview_locks`.
#[derive(Default)]
pub struct ChatLocks {
    locks: Mutex<HashMap<i64, Weak<tokio::sync::Mutex<()>>>>,
}

impl ChatLocks {
    /// Waits until no other input of preview chat `chat_id` is being handled; holds it until dropped.
    pub async fn lock(&self, chat_id: i64) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.retain(|_, l| l.strong_count() > 0);
            match locks.get(&chat_id).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    locks.insert(chat_id, Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

/// The preview chat of console user `user_id` with member `member_id`: never a Telegram chat.
pub fn preview_chat_id(user_id: i64, member_id: i64) -> Option<i64> {
    if !(0..MEMBER_ID_SPAN).contains(&member_id) || user_id < 0 {
        return None;
    }
    let id = user_id.checked_mul(MEMBER_ID_SPAN)?.checked_add(member_id)?.checked_add(PREVIEW_CHAT_BASE)?;
    Some(-id)
}

/// One entry of the conversation as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
enum Bubble {
    /// What the member typed, or the label of the button they pressed.
    Member { text: String },
    /// What the bot said or sent; `id` stands for Telegram's message id (buttons carry it).
    Bot { id: i32, action: Action },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Transcript {
    next_id: i32,
    bubbles: Vec<Bubble>,
    /// The short notice of the last button press (Telegram shows it as a toast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    toast: Option<String>,
}

impl Transcript {
    fn member(&mut self, text: String) {
        self.bubbles.push(Bubble::Member { text });
    }

    /// Adds what the bot did: messages become bubbles, `Retire` removes an earlier reply's choices.
    fn bot(&mut self, action: Action) {
        match action {
            Action::Retire { message_id } => {
                for b in &mut self.bubbles {
                    if let Bubble::Bot { id, action: Action::Send { keyboard, .. } } = b
                        && *id == message_id
                        && matches!(keyboard, Keyboard::Choices(_) | Keyboard::Inline(_))
                    {
                        *keyboard = Keyboard::None;
                    }
                }
            }
            action => {
                self.next_id += 1;
                self.bubbles.push(Bubble::Bot { id: self.next_id, action });
            }
        }
        let excess = self.bubbles.len().saturating_sub(MAX_BUBBLES);
        self.bubbles.drain(..excess);
    }

    /// The persistent menu: the last one the bot sent stays until another replaces it.
    fn menu(&self) -> Option<&Vec<Vec<String>>> {
        self.bubbles.iter().rev().find_map(|b| match b {
            Bubble::Bot { action: Action::Send { keyboard: Keyboard::Menu(rows), .. }, .. } => Some(rows),
            _ => None,
        })
    }

    /// The label of choice `choice` on bubble `message_id`, if it is still there to press.
    fn button_label(&self, message_id: i32, choice: &ChoiceId) -> Option<String> {
        self.bubbles.iter().find_map(|b| match b {
            Bubble::Bot { id, action: Action::Send { keyboard: Keyboard::Choices(rows), .. } } if *id == message_id => {
                rows.iter().flatten().find(|c| c.id == *choice).map(|c| c.text.clone())
            }
            _ => None,
        })
    }
}

/// The dialog state and the conversation of one preview chat, as kept in the `dialogs` table.
struct Chat {
    dialog: Dialog,
    transcript: Transcript,
}

impl Chat {
    async fn load(state: &WebState, chat_id: i64) -> Result<Self, WebError> {
        let Some(json) = state.app.store.dialog_state(chat_id).await? else {
            return Ok(Self { dialog: Dialog::default(), transcript: Transcript::default() });
        };
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        let transcript = value
            .as_object_mut()
            .and_then(|o| o.remove(TRANSCRIPT_KEY))
            .and_then(|t| serde_json::from_value(t).ok())
            .unwrap_or_default();
        let dialog = serde_json::from_value(value).unwrap_or_else(|e| {
            tracing::error!(error = %e, chat_id, "a saved preview dialog cannot be read; starting over");
            Dialog::default()
        });
        Ok(Self { dialog, transcript })
    }

    /// The dialog state with the conversation beside it.
    fn encode(dialog: &Dialog, transcript: &Transcript) -> Result<String, WebError> {
        let mut value = serde_json::to_value(dialog)?;
        if let Some(o) = value.as_object_mut() {
            o.insert(TRANSCRIPT_KEY.to_string(), serde_json::to_value(transcript)?);
        }
        Ok(serde_json::to_string(&value)?)
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    member: Option<String>,
}

/// The console user's own test member, created on first use.
async fn test_member(state: &WebState, user: &CurrentUser) -> Result<Member, WebError> {
    let name = state.ta("web.preview.test_member_name", &[("name", &user.user.name)]);
    Ok(state.app.store.preview_member(user.user.id, &name, state.app.clock.now()).await?)
}

/// The member a preview URL names: only the user's own test member; any other (a real member, or
/// another account's test member) is `NotFound`.
async fn chosen_member(state: &WebState, user: &CurrentUser, member_id: i64) -> Result<Member, WebError> {
    let member = test_member(state, user).await?;
    if member.id == member_id { Ok(member) } else { Err(WebError::NotFound) }
}

/// The user's preview chat: one per console account (member id 0 in `preview_chat_id`, which no
/// member has), whatever the test member's id.
fn chat_id_for(state: &WebState, user: &CurrentUser, _member_id: i64) -> Result<i64, WebError> {
    preview_chat_id(user.user.id, 0).ok_or_else(|| WebError::BadRequest(state.t("web.preview.unsupported_member")))
}

pub async fn page(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(query): Query<PageQuery>,
) -> Result<Markup, WebError> {
    user.require(&[Role::Admin, Role::Staff])?;
    let member_id = query.member.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::parse::<i64>);
    let member_id = match member_id {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return Err(WebError::BadRequest(state.t("web.preview.bad_member"))),
    };
    render(&state, &user, member_id, None, "").await
}

/// The whole page: the member picker, and the chosen member's chat.
async fn render(
    state: &WebState,
    user: &CurrentUser,
    member_id: Option<i64>,
    problem: Option<String>,
    typed: &str,
) -> Result<Markup, WebError> {
    let title = state.t("web.preview.title");
    let chosen = match member_id {
        Some(id) => Some(chosen_member(state, user, id).await?),
        None => Some(test_member(state, user).await?),
    };
    let chat = match &chosen {
        Some(m) => Some(Chat::load(state, chat_id_for(state, user, m.id)?).await?),
        None => None,
    };
    let body = html! {
        h1 { (title) }
        p.muted { (state.t("web.preview.intro")) }
        @if let (Some(member), Some(chat)) = (&chosen, &chat) {
            (chat_pane(state, user, member, chat, problem.as_deref(), typed))
        }
    };
    Ok(layout::page(state, Some((&user.user, &user.csrf)), "/preview", &title, body))
}

fn chat_pane(
    state: &WebState,
    user: &CurrentUser,
    member: &Member,
    chat: &Chat,
    problem: Option<&str>,
    typed: &str,
) -> Markup {
    let base = format!("/preview/{}", member.id);
    let default_menu;
    let menu = match chat.transcript.menu() {
        Some(menu) => menu,
        None => {
            // Before the bot has said anything here: the menu a registered member already has.
            default_menu = conversation::menu_labels(&state.app.texts, state.lang(), conversation::MEMBER_MENU);
            &default_menu
        }
    };
    html! {
        div.banner.warn { (state.ta("web.preview.sandbox", &[("name", &member.name)])) }
        section.chat-pane aria-label=(state.ta("web.preview.chat_with", &[("name", &member.name)])) {
            h2 { (state.ta("web.preview.chat_with", &[("name", &member.name)])) }
            @if chat.transcript.bubbles.is_empty() {
                p.muted { (state.t("web.preview.empty")) }
            }
            div.chat {
                @for bubble in &chat.transcript.bubbles {
                    @match bubble {
                        Bubble::Member { text } => div.bubble.me { (text) },
                        Bubble::Bot { id, action } => (bot_bubble(state, user, &base, *id, action)),
                    }
                }
            }
            @if let Some(toast) = &chat.transcript.toast {
                p.toast role="status" { (toast) }
            }
            @if let Some(problem) = problem {
                div.banner.error role="alert" { (problem) }
            }
            form.composer id="latest" method="post" action=(format!("{base}/send")) {
                (auth::csrf(user))
                input name="text" value=(typed) maxlength=(MAX_TEXT_CHARS) autocomplete="off"
                    aria-label=(state.t("web.preview.message")) placeholder=(state.t("web.preview.message"));
                button type="submit" { (state.t("web.preview.send")) }
            }
            form.menu-keys method="post" action=(format!("{base}/send")) aria-label=(state.t("web.preview.menu")) {
                (auth::csrf(user))
                @for row in menu {
                    div.keyrow {
                        @for key in row {
                            button.secondary type="submit" name="text" value=(key) { (key) }
                        }
                    }
                }
            }
            form.inline method="post" action=(format!("{base}/reset")) {
                (auth::csrf(user))
                button.secondary type="submit" { (state.t("web.preview.reset")) }
            }
        }
    }
}

/// A choice as the preview's form carries it: its id's JSON, in hex (nothing for HTML to escape).
fn choice_data(id: &ChoiceId) -> String {
    serde_json::to_string(id).unwrap_or_default().bytes().map(|b| format!("{b:02x}")).collect()
}

/// The choice a form sent back; `None` for anything `choice_data` did not write.
fn choice_from_data(data: &str) -> Option<ChoiceId> {
    let bytes = (0..data.len())
        .step_by(2)
        .map(|i| data.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()?;
    serde_json::from_slice(&bytes).ok()
}

fn bot_bubble(state: &WebState, user: &CurrentUser, base: &str, id: i32, action: &Action) -> Markup {
    html! {
        div.bubble.bot {
            @match action {
                Action::Send { text, keyboard, .. } => {
                    (text)
                    @if let Keyboard::Choices(rows) = keyboard {
                        div.inline-keys {
                            @for row in rows {
                                div.keyrow {
                                    @for c in row {
                                        form.inline method="post" action=(format!("{base}/button")) {
                                            (auth::csrf(user))
                                            input type="hidden" name="message_id" value=(id);
                                            input type="hidden" name="data" value=(choice_data(&c.id));
                                            button.key type="submit" { (c.text) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                Action::File { photo, caption, .. } => {
                    span.muted { (state.t(if *photo { "web.preview.photo" } else { "web.preview.document" })) }
                    @if !caption.is_empty() { "\n" (caption) }
                }
                Action::Upload { caption, .. } => {
                    span.muted { (state.t("web.preview.document")) }
                    @if !caption.is_empty() { "\n" (caption) }
                }
                Action::Retire { .. } => {}
            }
        }
    }
}

#[derive(Deserialize)]
pub struct SendForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
pub struct ButtonForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    message_id: String,
    #[serde(default)]
    data: String,
}

fn back_to(member_id: i64) -> Response {
    Redirect::to(&format!("/preview?member={member_id}#latest")).into_response()
}

pub async fn send(
    State(state): State<WebState>,
    user: CurrentUser,
    Path(member_id): Path<i64>,
    Form(form): Form<SendForm>,
) -> Result<Response, WebError> {
    user.require(&[Role::Admin, Role::Staff])?;
    user.check_csrf(&form.csrf)?;
    let member = chosen_member(&state, &user, member_id).await?;
    let text = form.text.trim();
    let problem = if text.is_empty() {
        Some(state.t("web.preview.text_empty"))
    } else if text.chars().count() > MAX_TEXT_CHARS {
        Some(state.ta("web.preview.text_too_long", &[("max", &MAX_TEXT_CHARS), ("len", &text.chars().count())]))
    } else {
        None
    };
    if let Some(problem) = problem {
        let page = render(&state, &user, Some(member.id), Some(problem), &form.text).await?;
        return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
    }
    let input: Input = conversation::typed(&state.app.texts, text).into();
    converse(&state, &user, &member, input, text.to_string()).await?;
    Ok(back_to(member.id))
}

pub async fn button(
    State(state): State<WebState>,
    user: CurrentUser,
    Path(member_id): Path<i64>,
    Form(form): Form<ButtonForm>,
) -> Result<Response, WebError> {
    user.require(&[Role::Admin, Role::Staff])?;
    user.check_csrf(&form.csrf)?;
    let member = chosen_member(&state, &user, member_id).await?;
    let Ok(message_id) = form.message_id.trim().parse::<i32>() else {
        return Err(WebError::BadRequest(state.t("web.preview.bad_button")));
    };
    let chat = Chat::load(&state, chat_id_for(&state, &user, member.id)?).await?;
    // The member's bubble shows the label pressed; a button no longer shown still goes to the
    // dialog (as a stale keyboard in Telegram would), which answers it politely.
    // Anything but what `choice_data` wrote is no choice of ours.
    let choice = choice_from_data(&form.data);
    let label = choice
        .as_ref()
        .and_then(|c| chat.transcript.button_label(message_id, c))
        .unwrap_or_else(|| state.t("web.preview.old_button"));
    let input = Input::Choice { message_id, choice };
    converse(&state, &user, &member, input, format!("[{label}]")).await?;
    Ok(back_to(member.id))
}

pub async fn reset(
    State(state): State<WebState>,
    user: CurrentUser,
    Path(member_id): Path<i64>,
    Form(form): Form<auth::CsrfOnly>,
) -> Result<Response, WebError> {
    user.require(&[Role::Admin, Role::Staff])?;
    user.check_csrf(&form.csrf)?;
    let member = chosen_member(&state, &user, member_id).await?;
    let chat_id = chat_id_for(&state, &user, member.id)?;
    let _one_at_a_time = state.preview_locks.lock(chat_id).await;
    let now = state.app.clock.now();
    let old = Chat::load(&state, chat_id).await?;
    // A fresh dialog; the nonce keeps counting so that no old button matches again.
    let dialog = Dialog { nonce: old.dialog.nonce + 1, ..Dialog::default() };
    let commit = Commit {
        update_id: None,
        chat_id,
        dialog: Some(Chat::encode(&dialog, &Transcript::default())?),
        messages: Vec::new(),
        submission: None,
        change: None,
        now,
    };
    state.app.store.commit(commit).await?;
    state.app.store.audit(user.auditor(), "preview_reset", &member.member_no.to_string(), "", now).await?;
    Ok(back_to(member.id))
}

/// Runs one input through the member dialog and commits it like the bot does, keeping everything
/// meant for the member on the page.
async fn converse(
    state: &WebState,
    user: &CurrentUser,
    member: &Member,
    input: Input,
    shown: String,
) -> Result<(), WebError> {
    let chat_id = chat_id_for(state, user, member.id)?;
    let _one_at_a_time = state.preview_locks.lock(chat_id).await;
    let person = Person { user_id: chat_id, chat_id, language_code: None };
    // Messages for the member: to the preview chat, or to the member's own Telegram chat.
    let own_chat = member.telegram_user_id;
    let kept_for_member = Some(Addressee::Member(member.id));
    let for_member = move |m: &OutMessage| {
        m.chat_id == chat_id
            || Some(m.chat_id) == own_chat
            || is_preview_chat(m.chat_id)
            || m.held.map(|h| h.to) == kept_for_member
    };
    let app = &state.app;
    for _ in 0..CONFLICT_RETRIES {
        let now = app.clock.now();
        let chat = Chat::load(state, chat_id).await?;
        let ctx = Ctx { store: app.store.as_ref(), texts: &app.texts, config: &app.config, now };
        let mut output =
            dialog::handle_as(&ctx, &person, Identity::Member(member.clone()), chat.dialog.clone(), input.clone())
                .await?;
        let mut transcript = chat.transcript.clone();
        transcript.member(shown.clone());
        transcript.toast = output.notice.take();
        for action in output.actions.drain(..) {
            transcript.bot(action);
        }
        // Pushes a change would send the member (a rating's new state) are shown here instead.
        if let Some(change) = output.change.as_mut() {
            let (mine, others): (Vec<_>, Vec<_>) = change.messages.drain(..).partition(|m| for_member(m));
            change.messages = others;
            for m in mine {
                if let Ok(action) = Action::decode(&m.payload) {
                    transcript.bot(action);
                }
            }
        }
        // The receipt is rendered inside the commit, once the reference number is known: the
        // member's part is kept back for the page, staff's alerts go out as usual.
        let receipt_for_member: Arc<Mutex<Vec<OutMessage>>> = Arc::default();
        let submission = output.submission.take().map(|(suggestion, receipt)| {
            let keep = receipt_for_member.clone();
            let wrapped: ReceiptFn = Box::new(move |reference, id| {
                let (mine, others): (Vec<_>, Vec<_>) = receipt(reference, id).into_iter().partition(|m| for_member(m));
                *keep.lock().unwrap_or_else(|e| e.into_inner()) = mine;
                others
            });
            (suggestion, wrapped)
        });
        let next = output.state.clone().unwrap_or_else(|| chat.dialog.clone());
        let commit = Commit {
            update_id: None,
            chat_id,
            dialog: Some(Chat::encode(&next, &transcript)?),
            messages: Vec::new(),
            submission,
            change: output.change.take(),
            now,
        };
        // A member's dialog asks for no other writes today (binding and broadcasts are not a
        // member's); should one come, it is applied like the bot applies it.
        match app.store.commit_with(commit, std::mem::take(&mut output.effects)).await? {
            Committed::Conflict => continue,
            Committed::AlreadyProcessed => {
                return Err(WebError::Internal(anyhow::anyhow!("a preview commit without an update")));
            }
            Committed::Done { reference, .. } => {
                let kept = std::mem::take(&mut *receipt_for_member.lock().unwrap_or_else(|e| e.into_inner()));
                if !kept.is_empty() {
                    for m in kept {
                        if let Ok(action) = Action::decode(&m.payload) {
                            transcript.bot(action);
                        }
                    }
                    let commit = Commit {
                        update_id: None,
                        chat_id,
                        dialog: Some(Chat::encode(&next, &transcript)?),
                        messages: Vec::new(),
                        submission: None,
                        change: None,
                        now,
                    };
                    app.store.commit(commit).await?;
                }
                // Nothing for the preview chat may wait in the outbox to be sent.
                app.store.discard_preview_outbox(chat_id, now).await?;
                let target = member.member_no.to_string();
                let detail = match &reference {
                    Some(r) => format!("{shown} → {r}"),
                    None => shown.clone(),
                };
                let action = if reference.is_some() { "preview_submit" } else { "preview_input" };
                app.store.audit(user.auditor(), action, &target, &conversation::truncate(&detail, 200), now).await?;
                return Ok(());
            }
        }
    }
    Err(WebError::BadRequest(state.t("web.preview.conflict")))
}
