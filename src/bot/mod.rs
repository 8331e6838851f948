//! The Telegram side: durable intake, per-chat workers that run the dialog, and the outbox sender.
//!
//! An update is stored before Telegram is told it was received (the next getUpdates offset), and
//! processed after, in one transaction with the dialog state, the suggestion and the outbox. So a
//! kill at any moment loses nothing and a replayed update has no second effect.

pub mod convert;
pub mod delivery;
pub mod send;

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, BotCommand, Update};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::app::App;
use crate::dialog::{self, Ctx, Dialog};
use crate::locale::Lang;
use crate::reply::Action;
use crate::store::{Commit, Committed, IncomingUpdate, OutMessage, StoredUpdate};
use delivery::Delivery;

/// Processing attempts before an update is set aside with its error (and the member told).
const MAX_ATTEMPTS: i64 = 3;

/// Builds the Bot API client from the settings and the environment's token and API URL.
pub fn client(token: &str, api_url: url::Url) -> Bot {
    Bot::new(token).set_api_url(api_url)
}

/// The same bot with an HTTP client whose timeout is `timeout` (teloxide's default is 17 s, shorter
/// than a long poll, and a send's timeout decides when it counts as uncertain).
fn with_timeout(bot: &Bot, timeout: Duration) -> Bot {
    match teloxide::net::default_reqwest_settings().timeout(timeout).build() {
        Ok(client) => Bot::with_client(bot.token(), client).set_api_url(bot.api_url()),
        Err(e) => {
            tracing::error!(error = %e, "cannot build an HTTP client; using the default one");
            bot.clone()
        }
    }
}

/// Runs intake, workers, delivery and reminders until `shutdown` turns true, then finishes what it
/// can: updates already received are processed (or stay stored), messages under way are sent.
pub async fn run(app: App, bot: Bot, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let poller = with_timeout(&bot, Duration::from_secs(u64::from(app.config.telegram.poll_timeout_secs) + 15));
    let sender = with_timeout(&bot, Duration::from_secs(app.config.delivery.request_timeout_secs));
    set_commands(&app, &sender).await;
    let (stop_delivery, delivery_shutdown) = watch::channel(false);
    let (delivery, delivery_task) = delivery::start(app.clone(), sender.clone(), delivery_shutdown);
    let workers = Workers::start(&app, &sender, &delivery);
    tokio::spawn(crate::reminders::run(app.clone(), shutdown.clone()));

    // Updates a previous run stored but did not process come first.
    for update in app.store.pending_updates().await? {
        workers.dispatch(update);
    }

    let polled = poll(&app, &poller, &workers, &mut shutdown).await;
    tracing::info!("stopping: finishing the updates already received");
    let grace = Duration::from_secs(app.config.telegram.shutdown_grace_secs);
    workers.stop(grace).await;
    let _ = stop_delivery.send(true);
    if tokio::time::timeout(grace, delivery_task).await.is_err() {
        tracing::warn!("messages still under way at shutdown stay in the outbox for the next start");
    }
    tracing::info!("stopped");
    polled
}

async fn set_commands(app: &App, bot: &Bot) {
    for (lang, code) in [(Lang::Zh, None), (Lang::En, Some("en"))] {
        let commands: Vec<BotCommand> = ["new", "my", "topics", "help", "cancel"]
            .iter()
            .map(|c| BotCommand::new(*c, app.texts.t(lang, &format!("commands.{c}"), &[])))
            .collect();
        let mut request = bot.set_my_commands(commands);
        if let Some(code) = code {
            request = request.language_code(code);
        }
        if let Err(e) = request.await {
            tracing::warn!(error = %e, "cannot set the command menu (setMyCommands)");
        }
    }
}

/// Long-polls Telegram, storing each batch before confirming it with the next call's offset.
async fn poll(app: &App, bot: &Bot, workers: &Workers, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut offset: Option<i32> = match app.store.last_update_id().await {
        Ok(last) => last.map(|id| id as i32 + 1),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the last update id; starting from Telegram's queue");
            None
        }
    };
    let mut backoff = Duration::from_millis(500);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let mut request = bot.get_updates().timeout(app.config.telegram.poll_timeout_secs).allowed_updates([
            AllowedUpdate::Message,
            AllowedUpdate::EditedMessage,
            AllowedUpdate::CallbackQuery,
        ]);
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        let updates: Vec<Update> = tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            result = request.send() => match result {
                Ok(updates) => { backoff = Duration::from_millis(500); updates }
                Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
                    anyhow::bail!("Telegram does not accept the bot token (JIANYAN_BOT_TOKEN or telegram.token_file): copy it again from @BotFather");
                }
                Err(e) => {
                    tracing::warn!(error = %e, ?backoff, "getUpdates failed; retrying");
                    tokio::select! { _ = shutdown.changed() => return Ok(()), _ = tokio::time::sleep(backoff) => {} }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            }
        };
        if updates.is_empty() {
            continue;
        }
        let incoming: Vec<IncomingUpdate> = updates
            .iter()
            .filter_map(|u| match serde_json::to_string(u) {
                Ok(payload) => Some(IncomingUpdate { update_id: u.id.0 as i64, chat_id: convert::chat_of(u), payload }),
                Err(e) => {
                    tracing::error!(update_id = u.id.0, error = %e, "cannot serialize an update");
                    None
                }
            })
            .collect();
        let now = app.clock.now();
        // Not stored, not confirmed: keep trying, Telegram keeps the updates meanwhile.
        let new = loop {
            match app.store.store_updates(&incoming, now).await {
                Ok(new) => break new,
                Err(e) => {
                    tracing::error!(error = %e, "cannot store updates; retrying before confirming them");
                    tokio::select! { _ = shutdown.changed() => return Ok(()), _ = tokio::time::sleep(Duration::from_secs(1)) => {} }
                }
            }
        };
        offset = updates.iter().map(|u| u.id.0 as i32 + 1).max().or(offset);
        for u in incoming.into_iter().filter(|u| new.contains(&u.update_id)) {
            workers.dispatch(StoredUpdate {
                update_id: u.update_id,
                chat_id: u.chat_id,
                payload: u.payload,
                attempts: 0,
            });
        }
    }
}

/// Worker tasks; one chat always goes to the same worker, so its messages are handled in order.
struct Workers {
    senders: Vec<mpsc::UnboundedSender<StoredUpdate>>,
    tasks: JoinSet<()>,
}

impl Workers {
    fn start(app: &App, bot: &Bot, delivery: &Delivery) -> Self {
        let mut senders = Vec::new();
        let mut tasks = JoinSet::new();
        for _ in 0..app.config.telegram.workers {
            let (tx, mut rx) = mpsc::unbounded_channel::<StoredUpdate>();
            senders.push(tx);
            let (app, bot, delivery) = (app.clone(), bot.clone(), delivery.clone());
            tasks.spawn(async move {
                while let Some(update) = rx.recv().await {
                    process_with_retries(&app, &bot, &delivery, update).await;
                }
            });
        }
        Self { senders, tasks }
    }

    fn dispatch(&self, update: StoredUpdate) {
        let shard = update.chat_id.unwrap_or(0).rem_euclid(self.senders.len() as i64) as usize;
        if self.senders[shard].send(update).is_err() {
            tracing::error!("a worker has stopped; the update stays stored for the next start");
        }
    }

    async fn stop(mut self, grace: Duration) {
        self.senders.clear();
        let drained = tokio::time::timeout(grace, async { while self.tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(
                ?grace,
                "workers did not finish in time; unprocessed updates stay stored for the next start"
            );
            self.tasks.shutdown().await;
        }
    }
}

async fn process_with_retries(app: &App, bot: &Bot, delivery: &Delivery, update: StoredUpdate) {
    let span = tracing::info_span!("update", update_id = update.update_id, chat_id = update.chat_id);
    async {
        let mut attempts = update.attempts;
        loop {
            match process(app, bot, delivery, &update).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!(error = %e, attempts = attempts + 1, "processing an update failed");
                    attempts = app
                        .store
                        .record_update_failure(update.update_id, &format!("{e:#}"))
                        .await
                        .unwrap_or(attempts + 1);
                    if attempts >= MAX_ATTEMPTS {
                        give_up(app, bot, delivery, &update).await;
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(200 * attempts as u64)).await;
                }
            }
        }
    }
    .instrument(span)
    .await
}

/// Sets an update aside after repeated failures: it stays stored with its error, and the person
/// is told politely that something went wrong on our side.
async fn give_up(app: &App, bot: &Bot, delivery: &Delivery, update: &StoredUpdate) {
    let (messages, callback) =
        match serde_json::from_str::<Update>(&update.payload).ok().and_then(|u| convert::convert(&u, &app.texts)) {
            Some(c) => {
                let lang = app.texts.lang_for(c.person.language_code.as_deref());
                let text = app.texts.t(lang, "error.internal", &[]);
                (vec![OutMessage::reply(c.person.chat_id, Action::text(text).encode())], c.callback_id)
            }
            None => (Vec::new(), None),
        };
    match app.store.abandon_update(update.update_id, messages, app.clock.now()).await {
        Ok(_) => delivery.wake(),
        Err(e) => {
            tracing::error!(error = %e, "cannot set aside a failing update; it will be retried on the next start")
        }
    }
    if let Some(id) = callback {
        let _ = bot.answer_callback_query(teloxide::types::CallbackQueryId(id)).await;
    }
}

async fn process(app: &App, bot: &Bot, delivery: &Delivery, stored: &StoredUpdate) -> anyhow::Result<()> {
    let now = app.clock.now();
    let update: Update = serde_json::from_str(&stored.payload)?;
    let Some(converted) = convert::convert(&update, &app.texts) else {
        let commit = Commit {
            update_id: Some(stored.update_id),
            chat_id: 0,
            dialog: None,
            messages: Vec::new(),
            submission: None,
            change: None,
            now,
        };
        app.store.commit(commit).await?;
        return Ok(());
    };
    let chat_id = converted.person.chat_id;
    let state: Dialog = match app.store.dialog_state(chat_id).await? {
        Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a saved dialog state cannot be read; starting over");
            Dialog::default()
        }),
        None => Dialog::default(),
    };
    let ctx = Ctx { store: app.store.as_ref(), texts: &app.texts, config: &app.config, now };
    let output = dialog::handle(&ctx, &converted.person, state, converted.input).await?;
    let commit = Commit {
        update_id: Some(stored.update_id),
        chat_id,
        dialog: output.state.as_ref().map(serde_json::to_string).transpose()?,
        messages: output.actions.iter().map(|a| OutMessage::reply(chat_id, a.encode())).collect(),
        submission: output.submission,
        change: output.change,
        now,
    };
    match app.store.commit(commit).await? {
        Committed::AlreadyProcessed => tracing::info!("update was processed before; nothing to do"),
        // Someone else changed the suggestion meanwhile: fail this attempt so it is planned again
        // on fresh facts (the retry then says, politely, what the state now allows).
        Committed::Conflict => anyhow::bail!("the suggestion changed while this update was handled"),
        Committed::Done { outbox, reference } => {
            if let Some(reference) = reference {
                tracing::info!(%reference, "suggestion submitted");
            }
            if let Some(id) = &converted.callback_id {
                let mut answer = bot.answer_callback_query(teloxide::types::CallbackQueryId(id.clone()));
                if let Some(toast) = output.toast {
                    answer = answer.text(toast);
                }
                if let Err(e) = answer.await {
                    tracing::debug!(error = %e, "cannot answer a callback query");
                }
            }
            if !outbox.is_empty() {
                delivery.wake();
            }
        }
    }
    Ok(())
}
