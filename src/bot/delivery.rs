//! The delivery worker: sends the outbox at Telegram's pace. Replies go first, then notifications,
//! then broadcasts; at most `delivery.global_per_second` messages in any second and, for
//! notifications and broadcasts, `delivery.per_chat_per_second` per chat; a 429 holds back only that
//! chat; 403 marks the person unreachable; server and network errors are retried with backoff up to
//! `delivery.max_attempts`; a timeout after the request left is recorded as uncertain, not resent;
//! a group that became a supergroup is followed (`workflow::chat_moved`) and the message resent there.
//!
//! The outbox table is the queue, so a restart picks up exactly what was not recorded as sent. Each
//! row is one message Telegram receives (a long text is queued as one row per part), and a chat's
//! rows go strictly one after the other: a part that waits (a retry, a 429) holds the parts after it,
//! and a part that arrived is never sent again.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use teloxide::Bot;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use super::send::{self, Attempt};
use crate::app::App;
use crate::context::Ctx;
use crate::reply::Action;
use crate::store::{DeliveryResult, DueMessage, PendingPayload, Priority};
use crate::workflow;

/// Rows looked at per pass.
const BATCH: usize = 256;
/// Kept between a chat's or the whole bot's sends on top of Telegram's limits, so that network
/// jitter never makes two sends land inside one of Telegram's windows.
const MARGIN: Duration = Duration::from_millis(20);
/// With nothing to do, the outbox is looked at this often (for rows other processes add).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// A handle to wake the worker when new rows are committed.
#[derive(Clone, Default)]
pub struct Delivery {
    wake: Arc<Notify>,
}

impl Delivery {
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Starts the worker; it stops when `shutdown` turns true, after the sends under way finish.
pub fn start(app: App, bot: Bot, shutdown: watch::Receiver<bool>) -> (Delivery, tokio::task::JoinHandle<()>) {
    let delivery = Delivery::default();
    let task = tokio::spawn(run(app, bot, delivery.wake.clone(), shutdown));
    (delivery, task)
}

#[derive(Default)]
struct ChatState {
    busy: bool,
    /// Earliest next notification or broadcast (per-chat pacing).
    paced_until: Option<Instant>,
    /// Telegram's 429 for this chat: nothing before this.
    held_until: Option<Instant>,
}

/// At most `per_second` sends in any window of one second (plus the margin).
struct Window {
    per_second: usize,
    starts: VecDeque<Instant>,
}

impl Window {
    /// Takes `n` slots now, or says when they will be free.
    fn take(&mut self, n: usize, now: Instant) -> Result<(), Instant> {
        let span = Duration::from_secs(1) + MARGIN;
        while self.starts.front().is_some_and(|t| now.duration_since(*t) >= span) {
            self.starts.pop_front();
        }
        let n = n.min(self.per_second);
        if self.starts.len() + n <= self.per_second {
            self.starts.extend(std::iter::repeat_n(now, n));
            Ok(())
        } else {
            Err(self.starts[self.starts.len() + n - self.per_second - 1] + span)
        }
    }
}

/// The global limit, shared by the sends under way: a slot is taken just before each request
/// leaves, so that however long reading the outbox takes, the requests themselves stay apart.
struct Limiter(std::sync::Mutex<Window>);

impl Limiter {
    /// Waits for a free slot and takes it; returns when the request may leave.
    async fn acquire(&self) -> Instant {
        loop {
            let now = Instant::now();
            let taken = self.0.lock().unwrap_or_else(|e| e.into_inner()).take(1, now);
            match taken {
                Ok(()) => return now,
                Err(free_at) => tokio::time::sleep_until(free_at).await,
            }
        }
    }
}

struct Done {
    chat_id: i64,
    row_id: i64,
    /// When the request left (for per-chat pacing), if one did.
    sent_at: Option<Instant>,
    /// Telegram asked this chat to wait until then.
    held_until: Option<Instant>,
}

async fn run(app: App, bot: Bot, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    let settings = app.config.delivery.clone();
    let per_chat = Duration::from_secs_f64(1.0 / settings.per_chat_per_second as f64) + MARGIN;
    let limiter = Arc::new(Limiter(std::sync::Mutex::new(Window {
        per_second: settings.global_per_second as usize,
        starts: VecDeque::new(),
    })));
    let mut chats: HashMap<i64, ChatState> = HashMap::new();
    let mut in_flight: HashSet<i64> = HashSet::new();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    loop {
        let stopping = *shutdown.borrow();
        if stopping && in_flight.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut next_wake = now + IDLE_POLL;
        if !stopping {
            let rows = match app.store.due_outbox(BATCH, app.clock.now().timestamp_millis()).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox");
                    Vec::new()
                }
            };
            let now = Instant::now();
            let mut passed_over: HashSet<i64> = HashSet::new();
            for row in rows {
                if in_flight.len() >= settings.concurrency {
                    break;
                }
                // One message per chat at a time, in order: a chat held back holds its later rows.
                if in_flight.contains(&row.id) || passed_over.contains(&row.chat_id) {
                    passed_over.insert(row.chat_id);
                    continue;
                }
                let chat = chats.entry(row.chat_id).or_default();
                let paced = if row.priority >= Priority::Notification as i64 { chat.paced_until } else { None };
                let ready_at = [paced, chat.held_until].into_iter().flatten().max();
                if chat.busy || ready_at.is_some_and(|t| t > now) {
                    if let Some(t) = ready_at.filter(|t| *t > now) {
                        next_wake = next_wake.min(t);
                    }
                    passed_over.insert(row.chat_id);
                    continue;
                }
                // One row is one message; the global limit is kept by `Limiter` as it leaves.
                chat.busy = true;
                in_flight.insert(row.id);
                tokio::spawn(deliver_one(app.clone(), bot.clone(), row, limiter.clone(), done_tx.clone()));
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            Some(done) = done_rx.recv() => finish(&mut chats, &mut in_flight, done, per_chat),
            _ = tokio::time::sleep_until(next_wake) => {}
            _ = shutdown.changed(), if !stopping => {}
        }
        while let Ok(done) = done_rx.try_recv() {
            finish(&mut chats, &mut in_flight, done, per_chat);
        }
        // Forget idle chats whose limits have passed, so the map stays small.
        if chats.len() > 10_000 {
            let now = Instant::now();
            chats.retain(|_, c| c.busy || [c.paced_until, c.held_until].into_iter().flatten().any(|t| t > now));
        }
    }
}

fn finish(chats: &mut HashMap<i64, ChatState>, in_flight: &mut HashSet<i64>, done: Done, per_chat: Duration) {
    in_flight.remove(&done.row_id);
    let chat = chats.entry(done.chat_id).or_default();
    chat.busy = false;
    // Paced from when the request left, not from when it was scheduled.
    if let Some(sent_at) = done.sent_at {
        chat.paced_until = Some(sent_at + per_chat);
    }
    if done.held_until.is_some() {
        chat.held_until = done.held_until;
    }
}

/// Sends one row, records the outcome, and reports back to the scheduler.
async fn deliver_one(app: App, bot: Bot, row: DueMessage, limiter: Arc<Limiter>, done: mpsc::UnboundedSender<Done>) {
    let settings = &app.config.delivery;
    // Read now, not when scheduled: a broadcast stopped meanwhile is not sent.
    let PendingPayload { payload, part } = match app.store.pending_payload(row.id).await {
        Ok(Some(payload)) => payload,
        Ok(None) => {
            let _ = done.send(Done { chat_id: row.chat_id, row_id: row.id, sent_at: None, held_until: None });
            return;
        }
        Err(e) => {
            tracing::error!(outbox_id = row.id, error = %e, "cannot read an outbox message; will try again");
            let _ = done.send(Done { chat_id: row.chat_id, row_id: row.id, sent_at: None, held_until: None });
            return;
        }
    };
    // A row is one message, except a long text queued as one row by an older version: that is sent
    // part by part, `part` counting the parts that already arrived.
    let mut sent_at = None;
    let (attempt, more_parts) = match Action::decode(&payload) {
        Ok(action) => {
            let mut parts = action.into_parts();
            let count = parts.len();
            match usize::try_from(part).ok().filter(|p| *p < count) {
                Some(p) => {
                    sent_at = Some(limiter.acquire().await);
                    (send::attempt(&bot, row.chat_id, &parts.swap_remove(p)).await, p + 1 < count)
                }
                None => (Attempt::Sent, false),
            }
        }
        Err(e) => (Attempt::Rejected(format!("unreadable outbox payload: {e}")), false),
    };
    let now = app.clock.now();
    let mut held_until = None;
    let (result, error) = match attempt {
        Attempt::Sent if more_parts => (DeliveryResult::PartSent { part }, None),
        Attempt::Sent => (DeliveryResult::Sent, None),
        Attempt::Migrated(new_chat_id) => {
            let ctx = Ctx { store: app.store.as_ref(), texts: &app.texts, config: &app.config, now };
            match workflow::chat_moved(&ctx, row.chat_id, new_chat_id).await {
                // This row was re-addressed with the others: it goes to the new chat next.
                Ok(_) => {
                    tracing::warn!(
                        old_chat_id = row.chat_id,
                        new_chat_id,
                        "the group became a supergroup; following it"
                    );
                    (
                        DeliveryResult::Postpone { at_ms: now.timestamp_millis() },
                        Some(format!("moved to chat {new_chat_id}")),
                    )
                }
                Err(e) => {
                    tracing::error!(chat_id = row.chat_id, new_chat_id, error = %e, "cannot record a chat move; will try again");
                    let at_ms = now.timestamp_millis() + 1000;
                    (DeliveryResult::Retry { at_ms }, Some(format!("moved to chat {new_chat_id}; not recorded: {e}")))
                }
            }
        }
        Attempt::RetryAfter(wait) => {
            tracing::warn!(chat_id = row.chat_id, ?wait, "Telegram asked to slow down (429) for this chat");
            held_until = Some(Instant::now() + wait + MARGIN);
            let at_ms = now.timestamp_millis() + wait.as_millis() as i64;
            (DeliveryResult::Postpone { at_ms }, Some(format!("429: retry after {wait:?}")))
        }
        Attempt::Blocked(e) => {
            tracing::info!(chat_id = row.chat_id, "the person blocked the bot; marked unreachable");
            (DeliveryResult::Blocked, Some(e))
        }
        Attempt::Rejected(e) => {
            tracing::warn!(chat_id = row.chat_id, outbox_id = row.id, error = %e, "Telegram refused a message");
            (DeliveryResult::Failed, Some(e))
        }
        Attempt::Uncertain(e) => {
            tracing::warn!(chat_id = row.chat_id, outbox_id = row.id, error = %e, "a send timed out; it may have arrived, so it is not repeated");
            (DeliveryResult::Uncertain, Some(e))
        }
        Attempt::Transient(e) if row.attempts + 1 >= settings.max_attempts => {
            tracing::error!(chat_id = row.chat_id, outbox_id = row.id, error = %e, attempts = row.attempts + 1, "giving up on a message");
            (DeliveryResult::Failed, Some(e))
        }
        Attempt::Transient(e) => {
            let backoff = Duration::from_secs(1 << row.attempts.clamp(0, 8));
            tracing::warn!(chat_id = row.chat_id, outbox_id = row.id, error = %e, ?backoff, "send failed; will retry");
            (DeliveryResult::Retry { at_ms: now.timestamp_millis() + backoff.as_millis() as i64 }, Some(e))
        }
    };
    if let Err(e) = app.store.outbox_result(row.id, result, error.as_deref(), now).await {
        tracing::error!(outbox_id = row.id, error = %e, "cannot record a delivery; the message may be sent again");
    }
    let _ = done.send(Done { chat_id: row.chat_id, row_id: row.id, sent_at, held_until });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_never_allows_more_than_the_limit_in_a_second() {
        let start = Instant::now();
        let mut w = Window { per_second: 3, starts: VecDeque::new() };
        assert!(w.take(1, start).is_ok());
        assert!(w.take(2, start).is_ok());
        let free = w.take(1, start + Duration::from_millis(500)).unwrap_err();
        assert_eq!(free, start + Duration::from_secs(1) + MARGIN);
        assert!(w.take(1, free).is_ok());
        // A message split in more pieces than the limit still goes, alone.
        let mut w = Window { per_second: 2, starts: VecDeque::new() };
        assert!(w.take(5, start).is_ok());
        assert!(w.take(1, start).is_err());
    }
}
