//! The Telegram side: durable intake, per-chat workers that run the dialog, and the outbox sender.
//!
//! An update is stored before Telegram is told it was received (the next getUpdates offset), and
//! processed after, in one transaction with the dialog state, the suggestion and the outbox. So a
//! kill at any moment loses nothing and a replayed update has no second effect.

pub mod callback;
pub mod convert;
pub mod delivery;
pub mod send;
pub mod update;

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::BotCommand;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;

use crate::app::App;
use crate::config::IntakeMode;
use crate::context::Ctx;
use crate::conversation::ChatCommand;
use crate::dialog::{self, AlbumPart, Dialog, Input};
use crate::locale::Lang;
use crate::reply::Action;
use crate::store::{Commit, Committed, IncomingUpdate, OutMessage, StoredUpdate};
use convert::Disposition;
use delivery::Delivery;
use update::{Polled, Update};

/// Processing attempts before an update is set aside with its error (and the member told).
const MAX_ATTEMPTS: i64 = 3;
/// The update kinds asked of Telegram (<https://core.telegram.org/bots/api#getupdates>).
const ALLOWED_UPDATES: &[&str] = &["message", "edited_message", "callback_query", "my_chat_member"];
/// How long a worker waits, after an album's latest item, for more items of the same album before
/// taking it in. Telegram sends an album's items within moments of each other.
const ALBUM_QUIET: Duration = Duration::from_millis(700);

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

/// How often an instance that does not lead tries to take the lead.
const LEAD_RETRY: Duration = Duration::from_secs(2);
/// In webhook mode, how often the leader looks for stored updates it was not told about (a
/// notification lost with a connection).
const STORED_LOOK: Duration = Duration::from_secs(2);

/// Runs the bot until `shutdown` turns true. With several instances on one database, only the
/// leader (`store::cluster`) runs the engine (intake, workers, delivery, reminders); the others
/// wait to take over, and any instance's console stores webhook updates meanwhile.
pub async fn run(app: App, bot: Bot, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut said_waiting = false;
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let mut lease = match app.store.try_lead().await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                if !said_waiting {
                    tracing::info!(
                        "another instance runs the bot; this one serves the console and takes over if that one stops"
                    );
                    said_waiting = true;
                }
                tokio::select! { _ = shutdown.changed() => return Ok(()), _ = tokio::time::sleep(LEAD_RETRY) => continue }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot ask the database which instance runs the bot; retrying");
                tokio::select! { _ = shutdown.changed() => return Ok(()), _ = tokio::time::sleep(LEAD_RETRY) => continue }
            }
        };
        if said_waiting {
            tracing::info!("this instance now runs the bot");
            said_waiting = false;
        }
        let (stop, stopped) = watch::channel(false);
        let mut engine = tokio::spawn(engine(app.clone(), bot.clone(), stopped));
        tokio::select! {
            finished = &mut engine => return finished?,
            _ = shutdown.changed() => {
                let _ = stop.send(true);
                return engine.await?;
            }
            why = lease.lost() => {
                tracing::error!(%why, "this instance no longer leads: stopping the bot's engine so another instance can take over");
                let _ = stop.send(true);
                let _ = engine.await;
                drop(lease);
            }
        }
    }
}

/// Runs intake, workers, delivery and reminders until `shutdown` turns true, then finishes what it
/// can: updates already received are processed (or stay stored), messages under way are sent.
async fn engine(app: App, bot: Bot, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let poller = with_timeout(&bot, Duration::from_secs(u64::from(app.config.telegram.poll_timeout_secs) + 15));
    let sender = with_timeout(&bot, Duration::from_secs(app.config.delivery.request_timeout_secs));
    set_commands(&app, &sender).await;
    let bot_username = bot_username(&app, &sender).await;
    let (stop_delivery, delivery_shutdown) = watch::channel(false);
    let (delivery, delivery_task) = delivery::start(app.clone(), sender.clone(), delivery_shutdown);
    let workers = Workers::start(&app, &sender, &delivery, &bot_username);
    tokio::spawn(crate::reminders::run(app.clone(), shutdown.clone()));

    let taken = match app.config.telegram.mode {
        IntakeMode::Polling => {
            // Updates a previous run stored but did not process come first.
            for update in app.store.pending_updates().await? {
                workers.dispatch(Job::new(update));
            }
            poll(&app, &poller, &workers, &mut shutdown).await
        }
        IntakeMode::Webhook => {
            set_webhook(&app, &sender).await;
            take_stored(&app, &workers, &mut shutdown).await
        }
    };
    tracing::info!("stopping: finishing the updates already received");
    let grace = Duration::from_secs(app.config.telegram.shutdown_grace_secs);
    workers.stop(grace).await;
    let _ = stop_delivery.send(true);
    if tokio::time::timeout(grace, delivery_task).await.is_err() {
        tracing::warn!("messages still under way at shutdown stay in the outbox for the next start");
    }
    tracing::info!("stopped");
    taken
}

/// Tells Telegram where to post updates (setWebhook, with the secret it sends back on every
/// request). Failing is logged, not fatal: the webhook set earlier, if any, still works, and the
/// updates Telegram keeps meanwhile arrive once it is set.
async fn set_webhook(app: &App, bot: &Bot) {
    let telegram = &app.config.telegram;
    let url = match url::Url::parse(&telegram.webhook_url) {
        Ok(url) => url,
        Err(e) => {
            tracing::error!(error = %e, "telegram.webhook_url is not a URL; the webhook is not set");
            return;
        }
    };
    let allowed: Vec<teloxide::types::AllowedUpdate> = ALLOWED_UPDATES
        .iter()
        .filter_map(|k| serde_json::from_value(serde_json::Value::String(k.to_string())).ok())
        .collect();
    let request =
        bot.set_webhook(url).secret_token(telegram.webhook_secret.expose().to_string()).allowed_updates(allowed);
    match request.await {
        Ok(_) => tracing::info!(url = %telegram.webhook_url, "Telegram posts updates to the webhook"),
        Err(e) => tracing::error!(error = %e, url = %telegram.webhook_url, "cannot set the webhook (setWebhook)"),
    }
}

/// Webhook mode: processes the updates any instance stored, as they are stored (and what earlier
/// runs left), each once: an update handed to a worker is not handed again while it is pending.
async fn take_stored(app: &App, workers: &Workers, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut stored = app.store.updates_stored();
    let mut handed: std::collections::HashSet<i64> = std::collections::HashSet::new();
    loop {
        stored.mark_unchanged();
        match app.store.pending_updates().await {
            Ok(pending) => {
                let ids: std::collections::HashSet<i64> = pending.iter().map(|u| u.update_id).collect();
                // Processed ones are no longer pending: forget them.
                handed.retain(|id| ids.contains(id));
                for update in pending {
                    if handed.insert(update.update_id) {
                        workers.dispatch(Job::new(update));
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the stored updates; retrying"),
        }
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            _ = stored.changed() => {}
            _ = tokio::time::sleep(STORED_LOOK) => {}
        }
    }
}

/// The bot's username, to tell commands addressed to it in groups (`/stats@name`): asked of
/// Telegram (getMe), else taken from `telegram.bot_username`.
async fn bot_username(app: &App, bot: &Bot) -> String {
    match bot.get_me().await {
        Ok(me) => me.user.username.clone().unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot ask Telegram for the bot's name (getMe); using telegram.bot_username");
            app.config.telegram.bot_username.trim().trim_start_matches('@').to_string()
        }
    }
}

async fn set_commands(app: &App, bot: &Bot) {
    for (lang, code) in [(Lang::Zh, None), (Lang::En, Some("en"))] {
        let commands: Vec<BotCommand> = ChatCommand::command_menu()
            .map(|c| BotCommand::new(c.name(), app.texts.t(lang, &format!("commands.{}", c.name()), &[])))
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
///
/// getUpdates is called with the bot's own HTTP client rather than through teloxide's types, so
/// each update is stored exactly as Telegram sent it, whatever fields it has that this version
/// does not know.
async fn poll(app: &App, bot: &Bot, workers: &Workers, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
    let mut offset: Option<i64> = match app.store.last_update_id().await {
        Ok(last) => last.map(|id| id + 1),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the last update id; starting from Telegram's queue");
            None
        }
    };
    let url = method_url(bot, "getUpdates");
    let mut backoff = Duration::from_millis(500);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let mut request = serde_json::json!({
            "timeout": app.config.telegram.poll_timeout_secs,
            "allowed_updates": ALLOWED_UPDATES,
        });
        if let Some(offset) = offset {
            request["offset"] = offset.into();
        }
        let call = async {
            let response = bot.client().post(url.clone()).json(&request).send().await?;
            response.text().await
        };
        let outcome = tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            // reqwest names the URL in its errors, and the URL holds the token: never log it.
            result = call => result
                .map_err(|e| e.without_url().to_string())
                .and_then(|body| update::parse_get_updates(&body).map_err(|e| format!("unreadable answer: {e}"))),
        };
        let wait = match outcome {
            Ok(Polled::Updates(updates)) => {
                backoff = Duration::from_millis(500);
                if updates.is_empty() {
                    continue;
                }
                let Some(next) = take_batch(app, workers, updates, shutdown).await else { return Ok(()) };
                offset = Some(next.max(offset.unwrap_or(0)));
                continue;
            }
            // 401 and 404 are how the Bot API answers a wrong token.
            Ok(Polled::Refused { code: 401 | 404, description, .. }) => {
                anyhow::bail!(
                    "Telegram does not accept the bot token (JIANYAN_BOT_TOKEN or telegram.token_file): copy it again from @BotFather ({description})"
                );
            }
            Ok(Polled::Refused { code: 429, retry_after, .. }) => Duration::from_secs(retry_after.unwrap_or(1).max(1)),
            // A webhook is set for this token (an earlier deployment, a test): while it is,
            // Telegram refuses getUpdates for good. It is removed, keeping the updates waiting.
            Ok(Polled::Refused { code: 409, description, .. }) if description.contains("webhook") => {
                match bot.delete_webhook().await {
                    Ok(_) => {
                        tracing::warn!(%description, "a webhook was set for this bot; removed it to receive updates by polling");
                        // Not at once: if something sets it again, the two do not race in a loop.
                        backoff
                    }
                    Err(e) => {
                        tracing::error!(error = %e, ?backoff, "a webhook is set for this bot and cannot be removed (deleteWebhook); retrying");
                        backoff
                    }
                }
            }
            Ok(Polled::Refused { code, description, .. }) => {
                // 409: another process polls with this token.
                tracing::warn!(code, %description, ?backoff, "getUpdates was refused; retrying");
                backoff
            }
            Err(e) => {
                tracing::warn!(error = %e, ?backoff, "getUpdates failed; retrying");
                backoff
            }
        };
        tokio::select! { _ = shutdown.changed() => return Ok(()), _ = tokio::time::sleep(wait) => {} }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// `<api_url>/bot<token>/<method>`, as teloxide builds it.
fn method_url(bot: &Bot, method: &str) -> url::Url {
    let mut url = bot.api_url();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(&format!("bot{}", bot.token())).push(method);
    }
    url
}

/// Reads an update as received (polled or posted to the webhook): what to store, and the update
/// read once for the worker (`Err` if it is not JSON at all).
pub fn read_update(raw: update::RawUpdate) -> (IncomingUpdate, Result<Update, String>) {
    let parsed = Update::parse(&raw.payload).map_err(|e| e.to_string());
    let (chat_id, kind, understood) = match &parsed {
        Ok(u) => (u.chat_id(), u.kind().to_string(), convert::understood(u)),
        Err(_) => (None, "unreadable".to_string(), false),
    };
    if !understood {
        tracing::warn!(update_id = raw.update_id, %kind, "an update jianyan does not understand; it is answered politely where possible and counted");
    }
    (IncomingUpdate { update_id: raw.update_id, chat_id, payload: raw.payload, kind, understood }, parsed)
}

/// Stores one batch, then hands its new updates to the workers. Returns the next offset, or
/// `None` if asked to stop before the batch could be stored (Telegram keeps it meanwhile).
async fn take_batch(
    app: &App,
    workers: &Workers,
    updates: Vec<update::RawUpdate>,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<i64> {
    // Each update is read once, here: the worker gets it read.
    let (incoming, parsed): (Vec<IncomingUpdate>, Vec<Result<Update, String>>) =
        updates.into_iter().map(read_update).unzip();
    let next = incoming.iter().map(|u| u.update_id + 1).max()?;
    let now = app.clock.now();
    // Not stored, not confirmed: keep trying, Telegram keeps the updates meanwhile.
    let new = loop {
        match app.store.store_updates(&incoming, now).await {
            Ok(new) => break new,
            Err(e) => {
                tracing::error!(error = %e, "cannot store updates; retrying before confirming them");
                tokio::select! { _ = shutdown.changed() => return None, _ = tokio::time::sleep(Duration::from_secs(1)) => {} }
            }
        }
    };
    for (u, update) in incoming.into_iter().zip(parsed).filter(|(u, _)| new.contains(&u.update_id)) {
        let stored = StoredUpdate { update_id: u.update_id, chat_id: u.chat_id, payload: u.payload, attempts: 0 };
        workers.dispatch(Job { stored, update });
    }
    Some(next)
}

/// An update handed to a worker, read once.
struct Job {
    stored: StoredUpdate,
    /// `Err` if the stored text is not JSON at all.
    update: Result<Update, String>,
}

impl Job {
    /// Reads an update stored by an earlier run.
    fn new(stored: StoredUpdate) -> Self {
        let update = Update::parse(&stored.payload).map_err(|e| e.to_string());
        Self { stored, update }
    }

    /// The chat and `media_group_id` of an item sent as part of an album in a private chat: a
    /// photo or file, or a video or audio file (an album may mix photos and videos).
    fn album(&self) -> Option<(i64, String)> {
        let m = self.update.as_ref().ok()?.message.as_ref()?;
        m.chat.is_private().then(|| Some((m.chat.id, m.media_group_id.clone()?)))?
    }

    /// Whether the update is a photo or a file, which jianyan can take as an attachment.
    fn is_attachment(&self) -> bool {
        self.update
            .as_ref()
            .ok()
            .and_then(|u| u.message.as_ref())
            .is_some_and(|m| m.photo.as_ref().is_some_and(|p| !p.is_empty()) || m.document.is_some())
    }
}

/// An album being gathered in a worker: its updates so far and when to stop waiting for more.
struct Gathering {
    chat_id: i64,
    album_id: String,
    jobs: Vec<Job>,
    until: Instant,
}

/// Worker tasks; one chat always goes to the same worker, so its messages are handled in order.
struct Workers {
    senders: Vec<mpsc::UnboundedSender<Job>>,
    tasks: JoinSet<()>,
}

impl Workers {
    fn start(app: &App, bot: &Bot, delivery: &Delivery, bot_username: &str) -> Self {
        let mut senders = Vec::new();
        let mut tasks = JoinSet::new();
        for _ in 0..app.config.telegram.workers {
            let (tx, rx) = mpsc::unbounded_channel::<Job>();
            senders.push(tx);
            let worker = Worker {
                app: app.clone(),
                bot: bot.clone(),
                delivery: delivery.clone(),
                bot_username: bot_username.to_string(),
            };
            tasks.spawn(worker.run(rx));
        }
        Self { senders, tasks }
    }

    fn dispatch(&self, job: Job) {
        let shard = job.stored.chat_id.unwrap_or(0).rem_euclid(self.senders.len() as i64) as usize;
        if self.senders[shard].send(job).is_err() {
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

/// One worker: takes its chats' updates in order; gathers an album's items before taking them in.
struct Worker {
    app: App,
    bot: Bot,
    delivery: Delivery,
    bot_username: String,
}

impl Worker {
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Job>) {
        let mut albums: Vec<Gathering> = Vec::new();
        loop {
            let received = match albums.iter().map(|a| a.until).min() {
                None => rx.recv().await,
                Some(until) => match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(received) => received,
                    Err(_) => {
                        let now = Instant::now();
                        while let Some(i) = albums.iter().position(|a| a.until <= now) {
                            self.take_album(albums.remove(i)).await;
                        }
                        continue;
                    }
                },
            };
            let Some(job) = received else { break };
            match job.album() {
                Some((chat_id, album_id)) => {
                    // Another album of the same chat is complete: take it first, in order.
                    if let Some(i) = albums.iter().position(|a| a.chat_id == chat_id && a.album_id != album_id) {
                        self.take_album(albums.remove(i)).await;
                    }
                    let until = Instant::now() + ALBUM_QUIET;
                    match albums.iter_mut().find(|a| a.chat_id == chat_id) {
                        Some(a) => {
                            a.jobs.push(job);
                            a.until = until;
                        }
                        None => albums.push(Gathering { chat_id, album_id, jobs: vec![job], until }),
                    }
                }
                None => {
                    // What the person did after an album comes after it.
                    if let Some(i) = albums.iter().position(|a| Some(a.chat_id) == job.stored.chat_id) {
                        self.take_album(albums.remove(i)).await;
                    }
                    self.process_with_retries(&job, None).await;
                }
            }
        }
        for album in albums {
            self.take_album(album).await;
        }
    }

    /// Takes an album in as one act: its photos and files go to the dialog as the album's parts,
    /// answered once; its other items (videos, audio) are counted in the answer and otherwise
    /// passed over. An album with no photo or file is answered once, for its first item.
    async fn take_album(&self, album: Gathering) {
        let (media, others): (Vec<&Job>, Vec<&Job>) = album.jobs.iter().partition(|j| j.is_attachment());
        let mut passed = others.as_slice();
        if let [first, rest @ ..] = passed
            && media.is_empty()
        {
            self.process_with_retries(first, None).await;
            passed = rest;
        }
        let (count, skipped) = (media.len(), passed.len());
        for (index, job) in media.into_iter().enumerate() {
            let part = AlbumPart { id: album.album_id.clone(), index, count, skipped };
            self.process_with_retries(job, Some(part)).await;
        }
        // After the answer: a stop before this leaves them stored, to be passed over next time.
        for job in passed {
            tracing::info!(update_id = job.stored.update_id, "an album item that is not a photo or file, passed over");
            if let Err(e) = self.done_silently(job.stored.update_id).await {
                tracing::error!(error = %e, update_id = job.stored.update_id, "cannot mark an album item done; it stays stored");
            }
        }
    }

    async fn process_with_retries(&self, job: &Job, album: Option<AlbumPart>) {
        let update = &job.stored;
        let span = tracing::info_span!("update", update_id = update.update_id, chat_id = update.chat_id);
        async {
            let mut attempts = update.attempts;
            loop {
                match self.process(job, album.clone()).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::error!(error = %e, attempts = attempts + 1, "processing an update failed");
                        attempts = self
                            .app
                            .store
                            .record_update_failure(update.update_id, &format!("{e:#}"))
                            .await
                            .unwrap_or(attempts + 1);
                        if attempts >= MAX_ATTEMPTS {
                            self.give_up(job).await;
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

    /// Sets an update aside after repeated failures: it stays stored with its error, and the
    /// person is told politely that something went wrong on our side.
    async fn give_up(&self, job: &Job) {
        let app = &self.app;
        let converted = match job.update.as_ref().map(|u| convert::dispose(u, &app.texts, &self.bot_username)) {
            Ok(Disposition::Act(c)) => Some(c),
            _ => None,
        };
        let (messages, callback) = match converted {
            Some(c) => {
                let lang = app.texts.lang_for(c.person.language_code.as_deref());
                let text = app.texts.t(lang, "error.internal", &[]);
                (vec![OutMessage::reply(c.person.chat_id, Action::text(text).encode())], c.callback_id)
            }
            None => (Vec::new(), None),
        };
        // Its rows reach the delivery worker through the store's hand-over.
        if let Err(e) = app.store.abandon_update(job.stored.update_id, messages, app.clock.now()).await {
            tracing::error!(error = %e, "cannot set aside a failing update; it will be retried on the next start")
        }
        if let Some(id) = callback {
            self.answer_callback(id, None).await;
        }
    }

    /// Marks an update done with nothing to say.
    async fn done_silently(&self, update_id: i64) -> anyhow::Result<()> {
        self.done_in_chat(update_id, 0).await
    }

    /// Marks an update from the private chat `chat_id` done with nothing to say: the person can be
    /// written to, so what was kept for them is queued now.
    async fn done_in_chat(&self, update_id: i64, chat_id: i64) -> anyhow::Result<()> {
        let commit = Commit {
            update_id: Some(update_id),
            chat_id,
            dialog: None,
            messages: Vec::new(),
            submission: None,
            change: None,
            now: self.app.clock.now(),
        };
        self.app.store.commit(commit).await?;
        Ok(())
    }

    /// Stops the button's spinner, with a short notice if there is one. Telegram refuses answers
    /// to queries older than a few minutes ("query is too old"): the person was answered in the
    /// chat anyway, so that refusal is only logged.
    async fn answer_callback(&self, id: String, toast: Option<String>) {
        let mut answer = self.bot.answer_callback_query(teloxide::types::CallbackQueryId(id));
        if let Some(toast) = toast {
            answer = answer.text(toast);
        }
        if let Err(e) = answer.await {
            tracing::debug!(error = %e, "cannot answer a callback query");
        }
    }

    async fn process(&self, job: &Job, album: Option<AlbumPart>) -> anyhow::Result<()> {
        let (app, stored) = (&self.app, &job.stored);
        let update = match &job.update {
            Ok(update) => update,
            Err(e) => {
                tracing::error!(error = %e, "a stored update is not JSON; set aside");
                return self.done_silently(stored.update_id).await;
            }
        };
        let mut converted = match convert::dispose(update, &app.texts, &self.bot_username) {
            Disposition::Act(converted) => converted,
            Disposition::Ignore(reason) => {
                tracing::debug!(kind = update.kind(), reason, "nothing to answer");
                return self.done_silently(stored.update_id).await;
            }
            Disposition::Migrate { from, to } => {
                // Idempotent: the delivery worker may have learnt the same move from a refused send.
                let ctx =
                    Ctx { store: app.store.as_ref(), texts: &app.texts, config: &app.config, now: app.clock.now() };
                if crate::workflow::chat_moved(&ctx, from, to).await? {
                    tracing::warn!(from, to, "a group was upgraded to a supergroup; its messages go to the new id");
                    self.delivery.chats_moved();
                }
                return self.done_silently(stored.update_id).await;
            }
            Disposition::Reachability { user_id, reachable: false } => {
                tracing::info!(user_id, "the person blocked the bot");
                app.store.set_reachable(user_id, false, app.clock.now()).await?;
                return self.done_silently(stored.update_id).await;
            }
            Disposition::Reachability { user_id, reachable: true } => {
                // Committing in their chat marks them reachable and queues what was kept for them.
                tracing::info!(user_id, "the person allowed the bot again");
                return self.done_in_chat(stored.update_id, user_id).await;
            }
        };
        if let (Some(part), Input::Attachment { album, .. }) = (album, &mut converted.input) {
            *album = Some(part);
        }
        let now = app.clock.now();
        let chat_id = converted.person.chat_id;
        let state: Dialog = match app.store.dialog_state(chat_id).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::error!(error = %e, "a saved dialog state cannot be read; starting over");
                Dialog::default()
            }),
            None => Dialog::default(),
        };
        let ctx = Ctx { store: app.store.as_ref(), texts: &app.texts, config: &app.config, now };
        let mut output = dialog::handle(&ctx, &converted.person, state, converted.input).await?;
        let effects = std::mem::take(&mut output.effects);
        let commit = Commit {
            update_id: Some(stored.update_id),
            chat_id,
            dialog: output.state.as_ref().map(serde_json::to_string).transpose()?,
            messages: output
                .actions
                .iter()
                .map(|a| OutMessage::reply(chat_id, a.clone().in_thread(converted.thread).encode()))
                .collect(),
            submission: output.submission,
            change: output.change,
            now,
        };
        match app.store.commit_with(commit, effects).await? {
            Committed::AlreadyProcessed => tracing::info!("update was processed before; nothing to do"),
            // Someone else changed the suggestion meanwhile: fail this attempt so it is planned again
            // on fresh facts (the retry then says, politely, what the state now allows).
            Committed::Conflict => anyhow::bail!("the suggestion changed while this update was handled"),
            // The replies reach the delivery worker through the store's hand-over.
            Committed::Done { reference, .. } => {
                if let Some(reference) = reference {
                    tracing::info!(%reference, "suggestion submitted");
                }
            }
        }
        // Every button press is answered, so the person's spinner stops.
        if let Some(id) = converted.callback_id {
            self.answer_callback(id, output.notice).await;
        }
        Ok(())
    }
}
