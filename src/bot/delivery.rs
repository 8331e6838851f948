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
//!
//! The worker schedules from memory (`Queue`), not by reading the table per send: rows this process
//! commits are handed over by the store (`Store::subscribe_outbox`); the table is read in pages in
//! `(priority, id)` order at start-up and as memory runs low (a long broadcast: one read per
//! `PAGE` sends), and from its last id on now and then for rows other processes add
//! (`Store::outbox_since`). At most `CAP` rows are held; the rest wait in the table for their page.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use teloxide::Bot;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use super::send::{self, Attempt};
use crate::app::App;
use crate::context::Ctx;
use crate::reply::Action;
use crate::store::{DeliveryResult, DueMessage, PendingPayload, Priority, QueuedMessage};
use crate::workflow;

/// Rows held in memory at most; the rest of a longer queue waits in the table for its page.
const CAP: usize = 2048;
/// Memory is topped up from the table once this many rows of a longer queue have gone: one read of
/// the table per `PAGE` sends.
const PAGE: usize = 512;
/// New rows read per look at what was written since the last one. A fuller answer means another
/// process queued a lot (a broadcast from the CLI): the queue is then read again in pages instead.
const TAIL_PAGE: usize = 256;
/// Kept between a chat's or the whole bot's sends on top of Telegram's limits, so that network
/// jitter never makes two sends land inside one of Telegram's windows.
const MARGIN: Duration = Duration::from_millis(20);
/// How often new rows are looked for in the table while the store has not handed any over (every
/// row then comes this way): with work under way, and with nothing to do.
const LOOK_BUSY: Duration = Duration::from_millis(100);
const LOOK_IDLE: Duration = Duration::from_millis(500);
/// Once the store hands this process's rows over, only other processes' rows are looked for, this often.
const LOOK_FED: Duration = Duration::from_secs(2);
/// After a failed read of the outbox, it is tried again this much later.
const READ_RETRY: Duration = Duration::from_secs(1);

/// A handle to the worker: wakes it for rows it was not handed, tells it chats moved, and counts
/// its reads of the table.
#[derive(Clone, Default)]
pub struct Delivery {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    wake: Notify,
    /// Pending rows were re-addressed: what is held is forgotten and the queue read again.
    reload: AtomicBool,
    /// Pages of the pending queue read (`Store::pending_outbox`).
    scans: AtomicU64,
    /// Looks at the rows written since the last one (`Store::outbox_since`).
    looks: AtomicU64,
    /// Rows taken up to be sent (each reads its payload and makes at most one request).
    sends: AtomicU64,
    /// The most rows held in memory at once.
    peak_held: AtomicU64,
    /// Rows taken from the store's hand-over (`Store::subscribe_outbox`).
    handed_over: AtomicU64,
}

impl Delivery {
    /// Rows were committed that the store did not hand over (through another store value, or by
    /// another process): look at the table's new rows now (reads only rows written since the last
    /// look). Not needed after this process's own commits.
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// Pending rows were re-addressed (`workflow::chat_moved`): the worker forgets the rows it
    /// holds (not those being sent) and reads the queue again.
    pub fn chats_moved(&self) {
        self.shared.reload.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }

    /// Pages of the pending queue read since the worker started (start-up, a moved chat, a long
    /// queue topped up every `PAGE` sends) — not one per send.
    pub fn scans(&self) -> u64 {
        self.shared.scans.load(Ordering::Relaxed)
    }

    /// Looks at the rows written since the previous look (each reads only those rows).
    pub fn looks(&self) -> u64 {
        self.shared.looks.load(Ordering::Relaxed)
    }

    /// Rows taken up to be sent since the worker started (a retry counts again).
    pub fn sends(&self) -> u64 {
        self.shared.sends.load(Ordering::Relaxed)
    }

    /// Rows the store handed over as it committed them (found without reading the table).
    pub fn handed_over(&self) -> u64 {
        self.shared.handed_over.load(Ordering::Relaxed)
    }

    /// The most outbox rows the worker has held in memory at once (at most `CAP`, plus the sends
    /// under way), however long the queue.
    pub fn peak_held(&self) -> u64 {
        self.shared.peak_held.load(Ordering::Relaxed)
    }
}

/// Starts the worker; it stops when `shutdown` turns true, after the sends under way finish.
pub fn start(app: App, bot: Bot, shutdown: watch::Receiver<bool>) -> (Delivery, tokio::task::JoinHandle<()>) {
    let delivery = Delivery::default();
    let task = tokio::spawn(run(app, bot, delivery.shared.clone(), shutdown));
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

/// A row's place in the sending order: `(priority, id)`. A chat's rows go in this order.
type Key = (i64, i64);

/// Below every key: nothing is known yet.
const NOTHING_KNOWN: Key = (i64::MIN, i64::MIN);

/// A pending row the worker holds.
struct Held {
    chat_id: i64,
    attempts: i64,
    /// Not before this (a retry's backoff, Telegram's 429).
    due: Option<Instant>,
    /// Being sent now.
    sending: bool,
}

/// The pending rows the worker knows, in sending order, at most `CAP` of them (plus those being
/// sent).
struct Queue {
    rows: BTreeMap<Key, Held>,
    /// Every pending row with a key below this is in `rows`; rows from here on may be only in the
    /// table, and none of them is sent before its page is read. `None`: every pending row is known.
    known_below: Option<Key>,
    /// The highest outbox id looked at (`Store::outbox_since` goes on from there); `None` before
    /// the first read.
    last_id: Option<i64>,
    /// Rows being sent.
    sending: usize,
}

impl Queue {
    fn new() -> Self {
        Self { rows: BTreeMap::new(), known_below: Some(NOTHING_KNOWN), last_id: None, sending: 0 }
    }

    fn knows(&self, key: Key) -> bool {
        self.known_below.is_none_or(|below| key < below)
    }

    /// Forgets the rows not being sent: the queue is read again from its start.
    fn forget(&mut self) {
        self.rows.retain(|_, r| r.sending);
        self.known_below = Some(NOTHING_KNOWN);
    }

    /// Adds a row known to be pending, once; a row beyond `known_below` is left for its page.
    fn add(&mut self, key: Key, chat_id: i64, attempts: i64, due: Option<Instant>) {
        if !self.knows(key) {
            return;
        }
        self.rows.entry(key).or_insert(Held { chat_id, attempts, due, sending: false });
        // Over the cap, the last rows go back to the table's side of the line.
        while self.rows.len() > CAP {
            let Some(last) = self.rows.iter().rev().find(|(_, r)| !r.sending).map(|(k, _)| *k) else {
                break;
            };
            self.rows.remove(&last);
            self.known_below = Some(self.known_below.map_or(last, |below| below.min(last)));
        }
    }

    /// Adds rows read from the table (`clock_ms`: the app clock's now in unix ms, read at `now`).
    fn add_read(&mut self, row: &QueuedMessage, clock_ms: i64, now: Instant) {
        let due = row
            .next_attempt_ms
            .filter(|at| *at > clock_ms)
            .map(|at| now + Duration::from_millis((at - clock_ms) as u64));
        self.add((row.priority, row.id), row.chat_id, row.attempts, due);
    }

    /// How many rows to read from `known_below` on, if the queue goes on in the table and memory
    /// has room for a page.
    fn page_wanted(&self) -> Option<(Key, usize)> {
        let from = self.known_below?;
        (self.rows.len() + PAGE <= CAP).then(|| (from, CAP - self.rows.len()))
    }

    /// Takes a page read from `known_below` on, `limit` asked for.
    fn add_page(&mut self, page: &[QueuedMessage], limit: usize, clock_ms: i64, now: Instant) {
        self.known_below = match page.last() {
            Some(last) if page.len() >= limit => Some((last.priority, last.id.saturating_add(1))),
            _ => None,
        };
        for row in page {
            self.add_read(row, clock_ms, now);
        }
    }
}

/// At most `per_second` messages in any window of one second, as Telegram can count them: a
/// message counts from when its request leaves until a second (plus the margin) after its answer
/// came back — the latest moment it can have arrived. So however requests bunch on the way (a busy
/// machine, a slow network), Telegram never sees more than `per_second` in one second.
struct Window {
    per_second: usize,
    /// Requests under way: they count until they are answered.
    in_flight: usize,
    /// When recent requests were answered, oldest first.
    answered: VecDeque<Instant>,
}

impl Window {
    /// A window that starts full, as if `per_second` messages had just been answered.
    fn full(per_second: usize, now: Instant) -> Self {
        Self { per_second, in_flight: 0, answered: std::iter::repeat_n(now, per_second).collect() }
    }

    /// Takes a slot now, or says when one frees: at a time, or (`None`) when a request under way
    /// is answered.
    fn take(&mut self, now: Instant) -> Result<(), Option<Instant>> {
        let span = Duration::from_secs(1) + MARGIN;
        while self.answered.front().is_some_and(|t| now.duration_since(*t) >= span) {
            self.answered.pop_front();
        }
        if self.in_flight + self.answered.len() < self.per_second.max(1) {
            self.in_flight += 1;
            Ok(())
        } else {
            Err(self.answered.front().map(|t| *t + span))
        }
    }

    /// A request taken with `take` was answered (or failed) at `now`.
    fn answered(&mut self, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.answered.push_back(now);
    }
}

/// The global limit, shared by the sends under way: a slot is taken just before each request
/// leaves and given back, counted for one more second, when it is answered.
struct Limiter {
    window: std::sync::Mutex<Window>,
    answered: Notify,
}

impl Limiter {
    fn new(window: Window) -> Self {
        Self { window: std::sync::Mutex::new(window), answered: Notify::new() }
    }

    /// Waits for a free slot and takes it; the request may leave while the `Slot` is held.
    async fn acquire(self: &Arc<Self>) -> Slot {
        loop {
            let answered = self.answered.notified();
            tokio::pin!(answered);
            answered.as_mut().enable();
            let taken = self.window.lock().unwrap_or_else(|e| e.into_inner()).take(Instant::now());
            match taken {
                Ok(()) => return Slot { limiter: self.clone() },
                Err(Some(free_at)) => tokio::select! {
                    _ = tokio::time::sleep_until(free_at) => {}
                    _ = answered => {}
                },
                Err(None) => answered.await,
            }
        }
    }
}

/// A request's place in the window; dropping it (the answer came, or the send was given up)
/// starts its last second.
struct Slot {
    limiter: Arc<Limiter>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.limiter.window.lock().unwrap_or_else(|e| e.into_inner()).answered(Instant::now());
        self.limiter.answered.notify_waiters();
    }
}

/// What becomes of a row after an attempt.
#[derive(Debug)]
enum Next {
    /// Recorded as done (or no longer pending): forgotten.
    Forget,
    /// Still pending: sent again from `due` on, with `attempts` counted.
    Again { due: Option<Instant>, attempts: i64 },
    /// Its chat moved and the chat's rows were re-addressed: the queue is read again.
    Moved,
}

struct Done {
    chat_id: i64,
    key: Key,
    /// When the request left (for per-chat pacing), if one did.
    sent_at: Option<Instant>,
    /// Telegram asked this chat to wait until then.
    held_until: Option<Instant>,
    next: Next,
}

async fn run(app: App, bot: Bot, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let settings = app.config.delivery.clone();
    let per_chat = Duration::from_secs_f64(1.0 / settings.per_chat_per_second as f64) + MARGIN;
    // The window starts full: Telegram counts the last second's messages, which the process (or
    // the instance that led) before this one may have sent just before it stopped. So the first
    // message leaves a second after the worker starts, and the limits hold across a restart or a
    // takeover too.
    let limiter = Arc::new(Limiter::new(Window::full(settings.global_per_second as usize, Instant::now())));
    // Subscribed before the first read: a row committed meanwhile is in one or the other.
    let mut feed = app.store.subscribe_outbox();
    let mut fed = false;
    let mut queue = Queue::new();
    let mut chats: HashMap<i64, ChatState> = HashMap::new();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    let mut woken = false;
    let mut next_look = Instant::now();
    let mut read_again_at: Option<Instant> = None;
    loop {
        let stopping = *shutdown.borrow();
        if stopping && queue.sending == 0 {
            return;
        }
        let now = Instant::now();
        let mut next_wake = now + LOOK_FED;
        if !stopping {
            if shared.reload.swap(false, Ordering::SeqCst) {
                queue.forget();
            }
            if read_again_at.is_none_or(|t| t <= now) {
                let look = woken || next_look <= now;
                match read_table(&app, &shared, &mut queue, look).await {
                    Ok(()) => {
                        read_again_at = None;
                        if look {
                            woken = false;
                            let idle = queue.rows.is_empty() && queue.sending == 0;
                            next_look = Instant::now()
                                + if fed {
                                    LOOK_FED
                                } else if idle {
                                    LOOK_IDLE
                                } else {
                                    LOOK_BUSY
                                };
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the outbox");
                        read_again_at = Some(Instant::now() + READ_RETRY);
                    }
                }
            }
            next_wake = next_wake.min(next_look);
            if let Some(t) = read_again_at {
                next_wake = next_wake.min(t);
            }
            let now = Instant::now();
            let mut passed_over: HashSet<i64> = HashSet::new();
            for (key, row) in queue.rows.iter_mut() {
                if queue.sending >= settings.concurrency || queue.known_below.is_some_and(|below| *key >= below) {
                    break;
                }
                // One message per chat at a time, in order: a chat held back holds its later rows.
                if row.sending || passed_over.contains(&row.chat_id) {
                    passed_over.insert(row.chat_id);
                    continue;
                }
                let chat = chats.entry(row.chat_id).or_default();
                let paced = if key.0 >= Priority::Notification as i64 { chat.paced_until } else { None };
                let ready_at = [paced, chat.held_until, row.due].into_iter().flatten().max();
                if chat.busy || ready_at.is_some_and(|t| t > now) {
                    if let Some(t) = ready_at.filter(|t| *t > now) {
                        next_wake = next_wake.min(t);
                    }
                    passed_over.insert(row.chat_id);
                    continue;
                }
                // One row is one message; the global limit is kept by `Limiter` as it leaves.
                chat.busy = true;
                row.sending = true;
                queue.sending += 1;
                shared.sends.fetch_add(1, Ordering::Relaxed);
                let message = DueMessage { id: key.1, chat_id: row.chat_id, priority: key.0, attempts: row.attempts };
                tokio::spawn(deliver_one(app.clone(), bot.clone(), message, limiter.clone(), done_tx.clone()));
            }
        }
        shared.peak_held.fetch_max(queue.rows.len() as u64, Ordering::Relaxed);
        tokio::select! {
            _ = shared.wake.notified() => woken = true,
            Some(rows) = feed.recv() => {
                fed = true;
                take_fed(&mut queue, &shared, rows);
            }
            Some(done) = done_rx.recv() => finish(&mut chats, &mut queue, &shared, done, per_chat),
            _ = tokio::time::sleep_until(next_wake) => {}
            _ = shutdown.changed(), if !stopping => {}
        }
        while let Ok(done) = done_rx.try_recv() {
            finish(&mut chats, &mut queue, &shared, done, per_chat);
        }
        while let Ok(rows) = feed.try_recv() {
            fed = true;
            take_fed(&mut queue, &shared, rows);
        }
        // Forget idle chats whose limits have passed, so the map stays small.
        if chats.len() > 10_000 {
            let now = Instant::now();
            chats.retain(|_, c| c.busy || [c.paced_until, c.held_until].into_iter().flatten().any(|t| t > now));
        }
    }
}

/// Reads from the outbox what the worker needs: the highest id at start-up, the rows written since
/// the last look if `look`, and a page of the pending queue if memory has room and the queue goes
/// on in the table.
async fn read_table(app: &App, shared: &Shared, queue: &mut Queue, look: bool) -> crate::store::Result<()> {
    match queue.last_id {
        None => queue.last_id = Some(app.store.outbox_last_id().await?),
        Some(after) if look => {
            shared.looks.fetch_add(1, Ordering::Relaxed);
            let rows = app.store.outbox_since(after, TAIL_PAGE).await?;
            if rows.len() >= TAIL_PAGE {
                // Many rows from elsewhere: read the queue again in pages rather than row by row.
                queue.last_id = Some(app.store.outbox_last_id().await?);
                queue.forget();
            } else {
                let (clock_ms, now) = (app.clock.now().timestamp_millis(), Instant::now());
                for row in &rows {
                    if row.pending {
                        queue.add_read(row, clock_ms, now);
                    }
                }
                queue.last_id = rows.last().map(|r| r.id.max(after)).or(Some(after));
            }
        }
        Some(_) => {}
    }
    if let Some((from, limit)) = queue.page_wanted() {
        shared.scans.fetch_add(1, Ordering::Relaxed);
        let page = app.store.pending_outbox(from, limit).await?;
        queue.add_page(&page, limit, app.clock.now().timestamp_millis(), Instant::now());
    }
    Ok(())
}

/// Takes rows the store handed over as committed: pending and due now. Ids are given out one
/// after the other, so while the rows handed over follow on from `last_id` without a gap, nobody
/// else wrote in between and the next look at new rows can start after them (reading nothing).
fn take_fed(queue: &mut Queue, shared: &Shared, rows: Vec<DueMessage>) {
    if rows.is_empty() {
        // Rows may have been missed (`OutboxStore::subscribe_outbox`): read the queue again.
        shared.reload.store(true, Ordering::SeqCst);
        return;
    }
    shared.handed_over.fetch_add(rows.len() as u64, Ordering::Relaxed);
    if let Some(last) = queue.last_id.as_mut() {
        let mut ids: Vec<i64> = rows.iter().map(|r| r.id).filter(|id| *id > *last).collect();
        ids.sort_unstable();
        for id in ids {
            if id != *last + 1 {
                break;
            }
            *last = id;
        }
    }
    for row in rows {
        queue.add((row.priority, row.id), row.chat_id, row.attempts, None);
    }
}

fn finish(chats: &mut HashMap<i64, ChatState>, queue: &mut Queue, shared: &Shared, done: Done, per_chat: Duration) {
    queue.sending = queue.sending.saturating_sub(1);
    match done.next {
        Next::Again { due, attempts } if queue.knows(done.key) => {
            if let Some(row) = queue.rows.get_mut(&done.key) {
                row.sending = false;
                row.due = due;
                row.attempts = attempts;
            }
        }
        // A row beyond `known_below` comes back with its page.
        Next::Again { .. } | Next::Forget => {
            queue.rows.remove(&done.key);
        }
        Next::Moved => {
            queue.rows.remove(&done.key);
            shared.reload.store(true, Ordering::SeqCst);
        }
    }
    let chat = chats.entry(done.chat_id).or_default();
    chat.busy = false;
    // Paced from when the request was answered (the latest it arrived), not from when it was
    // scheduled or left.
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
    let key = (row.priority, row.id);
    // Read now, not when scheduled: a broadcast stopped meanwhile is not sent.
    let PendingPayload { payload, part } = match app.store.pending_payload(row.id).await {
        Ok(Some(payload)) => payload,
        Ok(None) => {
            let _ = done.send(Done { chat_id: row.chat_id, key, sent_at: None, held_until: None, next: Next::Forget });
            return;
        }
        Err(e) => {
            tracing::error!(outbox_id = row.id, error = %e, "cannot read an outbox message; will try again");
            let next = Next::Again { due: Some(Instant::now() + READ_RETRY), attempts: row.attempts };
            let _ = done.send(Done { chat_id: row.chat_id, key, sent_at: None, held_until: None, next });
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
                    let slot = limiter.acquire().await;
                    let attempt = send::attempt(&bot, app.store.as_ref(), row.chat_id, &parts.swap_remove(p)).await;
                    drop(slot);
                    // The chat's next message is paced from the answer, the latest this one arrived.
                    sent_at = Some(Instant::now());
                    (attempt, p + 1 < count)
                }
                None => (Attempt::Sent, false),
            }
        }
        Err(e) => (Attempt::Rejected(format!("unreadable outbox payload: {e}")), false),
    };
    let now = app.clock.now();
    let mut held_until = None;
    let (result, error, next) = match attempt {
        Attempt::Sent if more_parts => {
            (DeliveryResult::PartSent { part }, None, Next::Again { due: None, attempts: 0 })
        }
        Attempt::Sent => (DeliveryResult::Sent, None, Next::Forget),
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
                        Next::Moved,
                    )
                }
                Err(e) => {
                    tracing::error!(chat_id = row.chat_id, new_chat_id, error = %e, "cannot record a chat move; will try again");
                    let at_ms = now.timestamp_millis() + 1000;
                    let next = Next::Again { due: Some(Instant::now() + READ_RETRY), attempts: row.attempts + 1 };
                    (
                        DeliveryResult::Retry { at_ms },
                        Some(format!("moved to chat {new_chat_id}; not recorded: {e}")),
                        next,
                    )
                }
            }
        }
        Attempt::RetryAfter(wait) => {
            tracing::warn!(chat_id = row.chat_id, ?wait, "Telegram asked to slow down (429) for this chat");
            held_until = Some(Instant::now() + wait + MARGIN);
            let at_ms = now.timestamp_millis() + wait.as_millis() as i64;
            let next = Next::Again { due: held_until, attempts: row.attempts };
            (DeliveryResult::Postpone { at_ms }, Some(format!("429: retry after {wait:?}")), next)
        }
        Attempt::Blocked(e) => {
            tracing::info!(chat_id = row.chat_id, "the person blocked the bot; marked unreachable");
            (DeliveryResult::Blocked, Some(e), Next::Forget)
        }
        Attempt::Rejected(e) => {
            tracing::warn!(chat_id = row.chat_id, outbox_id = row.id, error = %e, "Telegram refused a message");
            (DeliveryResult::Failed, Some(e), Next::Forget)
        }
        Attempt::Uncertain(e) => {
            tracing::warn!(chat_id = row.chat_id, outbox_id = row.id, error = %e, "a send timed out; it may have arrived, so it is not repeated");
            (DeliveryResult::Uncertain, Some(e), Next::Forget)
        }
        Attempt::Transient(e) if row.attempts + 1 >= settings.max_attempts => {
            tracing::error!(chat_id = row.chat_id, outbox_id = row.id, error = %e, attempts = row.attempts + 1, "giving up on a message");
            (DeliveryResult::Failed, Some(e), Next::Forget)
        }
        Attempt::Transient(e) => {
            let backoff = Duration::from_secs(1 << row.attempts.clamp(0, 8));
            tracing::warn!(chat_id = row.chat_id, outbox_id = row.id, error = %e, ?backoff, "send failed; will retry");
            let next = Next::Again { due: Some(Instant::now() + backoff), attempts: row.attempts + 1 };
            (DeliveryResult::Retry { at_ms: now.timestamp_millis() + backoff.as_millis() as i64 }, Some(e), next)
        }
    };
    if let Err(e) = app.store.outbox_result(row.id, result, error.as_deref(), now).await {
        tracing::error!(outbox_id = row.id, error = %e, "cannot record a delivery; the message may be sent again");
    }
    // Recorded or not, the worker goes on from what was decided: a row whose final state could not
    // be recorded stays pending in the table and is sent again after a restart.
    let _ = done.send(Done { chat_id: row.chat_id, key, sent_at, held_until, next });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_counts_a_message_until_a_second_after_its_answer() {
        let start = Instant::now();
        let span = Duration::from_secs(1) + MARGIN;
        let mut w = Window { per_second: 3, in_flight: 0, answered: VecDeque::new() };
        for _ in 0..3 {
            assert!(w.take(start).is_ok());
        }
        // All three under way: a slot frees only when one is answered.
        assert_eq!(w.take(start + Duration::from_secs(5)), Err(None));
        let answered = start + Duration::from_millis(300);
        w.answered(answered);
        // Answered at 300 ms: it still counts until a second after that.
        assert_eq!(w.take(answered + Duration::from_millis(900)), Err(Some(answered + span)));
        assert!(w.take(answered + span).is_ok());
        // A worker starting fills its window: nothing leaves in its first second.
        let mut w = Window::full(30, start);
        assert_eq!(w.take(start), Err(Some(start + span)));
        assert!(w.take(start + span).is_ok());
    }

    fn row(id: i64, chat_id: i64, priority: i64) -> QueuedMessage {
        QueuedMessage { id, chat_id, priority, attempts: 0, next_attempt_ms: None, pending: true }
    }

    #[test]
    fn a_long_queue_is_held_a_page_at_a_time_and_nothing_past_the_page_goes_first() {
        let now = Instant::now();
        let mut q = Queue::new();
        // Nothing is known before the first page: the whole memory is asked for.
        assert_eq!(q.page_wanted(), Some((NOTHING_KNOWN, CAP)));
        let page: Vec<_> = (1..=CAP as i64).map(|id| row(id, id, 2)).collect();
        q.add_page(&page, CAP, 0, now);
        assert_eq!(q.known_below, Some((2, CAP as i64 + 1)));
        // A broadcast row committed meanwhile past the page waits for its page; a reply does not.
        q.add((2, 9_000), 1, 0, None);
        q.add((0, 9_001), 1, 0, None);
        assert!(!q.rows.contains_key(&(2, 9_000)) && q.rows.contains_key(&(0, 9_001)));
        // Over the cap, the last row went back to the table's side of the line.
        assert_eq!(q.rows.len(), CAP);
        assert_eq!(q.known_below, Some((2, CAP as i64)));
        // Memory is topped up only once a page's worth has gone.
        assert_eq!(q.page_wanted(), None);
        for id in 1..=PAGE as i64 {
            q.rows.remove(&(2, id));
        }
        assert_eq!(q.page_wanted(), Some(((2, CAP as i64), PAGE)));
        // A short page: every pending row is known, and rows handed over later are all taken.
        q.add_page(&[row(CAP as i64, 5, 2), row(9_000, 1, 2)], PAGE, 0, now);
        assert_eq!(q.known_below, None);
        q.add((2, 9_100), 3, 0, None);
        assert!(q.rows.contains_key(&(2, 9_000)) && q.rows.contains_key(&(2, 9_100)));
    }

    #[test]
    fn rows_being_sent_are_kept_when_the_queue_is_forgotten_or_over_the_cap() {
        let now = Instant::now();
        let mut q = Queue::new();
        let page: Vec<_> = (1..=CAP as i64).map(|id| row(id, id, 2)).collect();
        q.add_page(&page, CAP + 1, 0, now);
        assert_eq!(q.known_below, None);
        q.rows.get_mut(&(2, CAP as i64)).unwrap().sending = true;
        q.add((1, 10_000), 7, 0, None);
        assert!(q.rows.contains_key(&(2, CAP as i64)) && !q.rows.contains_key(&(2, CAP as i64 - 1)));
        assert_eq!(q.known_below, Some((2, CAP as i64 - 1)));
        q.forget();
        assert_eq!(q.rows.len(), 1);
        assert_eq!(q.known_below, Some(NOTHING_KNOWN));
        // A retry read from the table waits its time, counted from the app clock.
        q.add_page(&[QueuedMessage { next_attempt_ms: Some(5_000), ..row(3, 3, 1) }], 10, 2_000, now);
        assert_eq!(q.rows[&(1, 3)].due, Some(now + Duration::from_secs(3)));
    }

    #[test]
    fn rows_handed_over_without_a_gap_need_no_look_and_a_gap_is_looked_at() {
        let mut q = Queue::new();
        let shared = Shared::default();
        let fed =
            |ids: &[i64]| ids.iter().map(|id| DueMessage { id: *id, chat_id: 1, priority: 0, attempts: 0 }).collect();
        q.last_id = Some(10);
        take_fed(&mut q, &shared, fed(&[9, 12, 11]));
        assert_eq!(q.last_id, Some(12));
        // Id 13 was written by someone else: looked for from 12 on.
        take_fed(&mut q, &shared, fed(&[14, 15]));
        assert_eq!(q.last_id, Some(12));
        assert_eq!(shared.handed_over.load(Ordering::Relaxed), 5);
    }
}
