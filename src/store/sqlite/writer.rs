//! The one writer: every write goes through one connection, and the work of callers that arrive
//! together is committed in one transaction (group commit), with one fsync for all of them.
//!
//! A caller takes the connection (`Writer::begin`), does its statements inside its own savepoint
//! and commits (`WriteTx::commit`). If other callers are waiting for the connection, the
//! transaction is left open for them and the caller waits until someone commits it; the last
//! caller of the group (the one that sees nobody waiting), or the one that hits `MAX_BATCH` or
//! `MAX_OPEN`, commits it. `commit` returns only once the transaction holding the caller's work is
//! durable, so whatever it confirms (a Telegram offset, a web page) survives a power cut under
//! `synchronous = FULL`.
//!
//! A caller that fails (or drops its `WriteTx`) rolls back only its own savepoint: the others'
//! work in the same transaction stays. Only if SQLite itself aborts the whole transaction (a full
//! disk, an I/O error) is the group's work lost; each of its callers then gets an error, as it
//! would have without grouping, and retries as it always did.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::SqliteConnection;
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, watch};
use tokio::time::Instant;

use crate::store::{DueMessage, Result, StoreError};

/// At most this many callers' work in one transaction.
const MAX_BATCH: usize = 256;
/// A group stays open at most this long after its first caller's work is done, for more callers;
/// also how long a caller waits for its group to be committed by someone else before committing it
/// itself (if the caller expected to follow went away).
const MAX_OPEN: Duration = Duration::from_millis(10);
/// Outcomes of finished groups kept for callers still to read theirs.
const OUTCOMES_KEPT: usize = 4096;

/// Where rows committed to the outbox are handed over (`Store::subscribe_outbox`).
pub(crate) type Feed = std::sync::Mutex<Option<mpsc::UnboundedSender<Vec<DueMessage>>>>;

/// The write connection and the group being built on it.
struct State {
    conn: SqliteConnection,
    group: Option<Group>,
    next_group: u64,
    /// A caller went away without committing: its savepoint is still to be rolled back.
    abandoned: bool,
}

/// The open transaction: callers whose work it holds.
struct Group {
    id: u64,
    /// When its first caller's work was done (and that caller began to wait).
    first_done: Option<Instant>,
    members: usize,
    /// Outbox rows its callers added, handed to the feed once it is committed.
    added: Vec<DueMessage>,
}

struct Shared {
    state: Arc<Mutex<State>>,
    /// Callers waiting to take the connection: while there are some, a group stays open for them.
    waiting: AtomicUsize,
    /// The highest finished group, to wake callers waiting for theirs.
    finished: watch::Sender<u64>,
    /// Failed groups among the recent ones, with why (a group not listed committed).
    failed: std::sync::Mutex<BTreeMap<u64, String>>,
    feed: Arc<Feed>,
    /// Callers' work committed, and the transactions that held it (`WriterStats`).
    writes: AtomicU64,
    transactions: AtomicU64,
    max_open: Duration,
}

/// What the writer has committed since the store was opened: `writes` callers' work in
/// `transactions` transactions (one fsync each), so `writes / transactions` is the group size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    pub writes: u64,
    pub transactions: u64,
}

/// The store's single writer (cheap to clone).
#[derive(Clone)]
pub(crate) struct Writer(Arc<Shared>);

impl Writer {
    /// Takes ownership of the write connection (opened with `synchronous = FULL`).
    pub(crate) fn new(conn: SqliteConnection, feed: Arc<Feed>) -> Self {
        let state = State { conn, group: None, next_group: 1, abandoned: false };
        Self::on(Arc::new(Mutex::new(state)), feed, MAX_OPEN)
    }

    /// A writer on the same connection whose groups stay open up to `max_open` (tests).
    #[cfg(test)]
    fn with_max_open(writer: &Writer, max_open: Duration) -> Writer {
        Self::on(writer.0.state.clone(), writer.0.feed.clone(), max_open)
    }

    fn on(state: Arc<Mutex<State>>, feed: Arc<Feed>, max_open: Duration) -> Self {
        Writer(Arc::new(Shared {
            state,
            waiting: AtomicUsize::new(0),
            finished: watch::channel(0).0,
            failed: std::sync::Mutex::new(BTreeMap::new()),
            feed,
            writes: AtomicU64::new(0),
            transactions: AtomicU64::new(0),
            max_open,
        }))
    }

    pub(crate) fn stats(&self) -> WriterStats {
        WriterStats {
            writes: self.0.writes.load(Ordering::Relaxed),
            transactions: self.0.transactions.load(Ordering::Relaxed),
        }
    }

    /// Starts a caller's work: waits for the connection, joins (or opens) the group's transaction
    /// and opens the caller's savepoint. Errors if SQLite cannot start a write transaction (e.g.
    /// another process holds the lock for longer than the busy timeout).
    pub(crate) async fn begin(&self) -> Result<WriteTx> {
        // In a task of its own: a caller that goes away (a web client disconnecting, a timeout)
        // while the transaction or its savepoint is being opened must not leave the connection
        // in a transaction the writer does not know of. If it went away, the `WriteTx` is dropped
        // when the task ends, which undoes it like any other.
        let writer = self.clone();
        tokio::spawn(async move { writer.open().await }).await.map_err(stopped)?
    }

    async fn open(self) -> Result<WriteTx> {
        let shared = &self.0;
        let mut guard = {
            let _waiting = Waiting::enter(&shared.waiting);
            shared.state.clone().lock_owned().await
        };
        settle(shared, &mut guard).await;
        if guard.group.is_none() {
            sqlx::query("BEGIN IMMEDIATE").execute(&mut guard.conn).await?;
            let id = guard.next_group;
            guard.next_group += 1;
            guard.group = Some(Group { id, first_done: None, members: 0, added: Vec::new() });
        }
        if let Err(e) = sqlx::query("SAVEPOINT caller").execute(&mut guard.conn).await {
            // Nothing of this caller's is in the group; close it if nobody else is coming.
            close_if_idle(shared, &mut guard).await;
            return Err(e.into());
        }
        let group = guard.group.as_ref().map_or(0, |g| g.id);
        Ok(WriteTx { guard: Some(guard), writer: self.clone(), group, added: Vec::new() })
    }
}

/// Counts a caller waiting for the connection for as long as it waits (also if it goes away).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One caller's work in progress: derefs to the connection, inside the caller's savepoint.
/// `commit` keeps the work (returning once it is durable); dropping it undoes the work.
pub(crate) struct WriteTx {
    guard: Option<OwnedMutexGuard<State>>,
    writer: Writer,
    group: u64,
    /// Outbox rows this caller added (see `added`).
    added: Vec<DueMessage>,
}

impl WriteTx {
    /// Records outbox rows inserted by this work, to be handed to the delivery worker once
    /// committed.
    pub(crate) fn added(&mut self, rows: impl IntoIterator<Item = DueMessage>) {
        self.added.extend(rows);
    }

    /// Keeps the caller's work and returns once the transaction holding it is committed (durable).
    /// Errors if the caller's savepoint cannot be released, or if the group's commit fails (then
    /// nothing of the caller's work is stored).
    pub async fn commit(mut self) -> Result<()> {
        let shared = self.writer.0.clone();
        let guard = self.guard.take().expect("a WriteTx holds the connection until it is finished");
        let added = std::mem::take(&mut self.added);
        // In a task of its own, so that a caller going away cannot interrupt it halfway.
        tokio::spawn(keep(shared.clone(), guard, added)).await.map_err(stopped)??;
        wait_for(&shared, self.group).await
    }

    /// Undoes the caller's work, and returns once the work of others it may have read in the same
    /// group is durable: an answer drawn from what it read ("already done", "changed meanwhile")
    /// is then never ahead of what every reader sees. Errors if that group's commit failed.
    pub async fn rollback(mut self) -> Result<()> {
        let shared = self.writer.0.clone();
        let mut guard = self.guard.take().expect("a WriteTx holds the connection until it is finished");
        let group = self.group;
        // Whether others' work is in the group (read before undoing: if the undo finds the whole
        // transaction aborted, waiting for the group reports that its work is lost).
        let others = guard.group.as_ref().is_some_and(|g| g.id == group && g.members > 0);
        let undone = {
            let shared = shared.clone();
            async move { undo(&shared, &mut guard).await }
        };
        tokio::spawn(undone).await.map_err(stopped)?;
        if others { wait_for(&shared, group).await } else { Ok(()) }
    }
}

/// Releases a caller's savepoint into its group, and commits the group unless others are about
/// to add their work (they, or this caller after `max_open`, commit it then).
async fn keep(shared: Arc<Shared>, mut guard: OwnedMutexGuard<State>, mut added: Vec<DueMessage>) -> Result<()> {
    if let Err(e) = sqlx::query("RELEASE caller").execute(&mut guard.conn).await {
        undo(&shared, &mut guard).await;
        return Err(e.into());
    }
    let Some(group) = guard.group.as_mut() else {
        return Err(StoreError::Corrupt("the write transaction disappeared".into()));
    };
    group.members += 1;
    group.added.append(&mut added);
    let first_done = *group.first_done.get_or_insert_with(Instant::now);
    let full = group.members >= MAX_BATCH || first_done.elapsed() >= shared.max_open;
    if full || shared.waiting.load(Ordering::SeqCst) == 0 {
        finish(&shared, &mut guard).await;
    }
    Ok(())
}

fn stopped(e: tokio::task::JoinError) -> StoreError {
    StoreError::Io(format!("the database writer stopped: {e}"))
}

impl Deref for WriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.guard.as_ref().expect("a WriteTx holds the connection until it is finished").conn
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.guard.as_mut().expect("a WriteTx holds the connection until it is finished").conn
    }
}

impl Drop for WriteTx {
    /// Not committed (an error, a conflict, a caller that went away): its savepoint is rolled back
    /// before anyone else uses the connection, and the group is committed if nobody else comes.
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else { return };
        let shared = self.writer.0.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move { undo(&shared, &mut guard).await })),
            // Without a runtime the guard is released here and the next caller settles it.
            Err(_) => guard.abandoned = true,
        }
    }
}

/// Undoes a caller's work: rolls back its savepoint, then commits the group (the others' work)
/// if nobody is waiting to add to it.
async fn undo(shared: &Shared, state: &mut State) {
    state.abandoned = true;
    settle(shared, state).await;
    close_if_idle(shared, state).await;
}

/// Rolls back the savepoint of a caller that went away, if there is one. If SQLite had already
/// aborted the whole transaction, the group is lost: its callers are told.
async fn settle(shared: &Shared, state: &mut State) {
    if !std::mem::take(&mut state.abandoned) {
        return;
    }
    let undone = async {
        sqlx::query("ROLLBACK TO caller").execute(&mut state.conn).await?;
        sqlx::query("RELEASE caller").execute(&mut state.conn).await
    }
    .await;
    if let Err(e) = undone {
        tracing::error!(error = %e, "the write transaction was aborted; the work grouped with it is lost and will be retried by its callers");
        let _ = sqlx::query("ROLLBACK").execute(&mut state.conn).await;
        if let Some(group) = state.group.take() {
            record(shared, group.id, Some(format!("the write transaction was aborted: {e}")));
        }
    }
}

/// Commits the open group if no caller is waiting to add to it (used after a caller left nothing).
async fn close_if_idle(shared: &Shared, state: &mut State) {
    if state.group.is_some() && shared.waiting.load(Ordering::SeqCst) == 0 {
        finish(shared, state).await;
    }
}

/// Commits the open group, hands its outbox rows over, and wakes its callers.
async fn finish(shared: &Shared, state: &mut State) {
    let Some(group) = state.group.take() else { return };
    match sqlx::query("COMMIT").execute(&mut state.conn).await {
        Ok(_) => {
            shared.writes.fetch_add(group.members as u64, Ordering::Relaxed);
            shared.transactions.fetch_add(1, Ordering::Relaxed);
            if !group.added.is_empty() {
                let feed = shared.feed.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(feed) = feed.as_ref() {
                    let _ = feed.send(group.added);
                }
            }
            record(shared, group.id, None);
        }
        Err(e) => {
            tracing::error!(error = %e, callers = group.members, "a write transaction could not be committed");
            let _ = sqlx::query("ROLLBACK").execute(&mut state.conn).await;
            record(shared, group.id, Some(e.to_string()));
        }
    }
}

fn record(shared: &Shared, group: u64, failure: Option<String>) {
    if let Some(why) = failure {
        let mut failed = shared.failed.lock().unwrap_or_else(|e| e.into_inner());
        failed.insert(group, why);
        while failed.len() > OUTCOMES_KEPT {
            failed.pop_first();
        }
    }
    shared.finished.send_modify(|latest| *latest = (*latest).max(group));
}

/// Waits until `group` is finished and says how it ended. If nobody commits it within `MAX_OPEN`
/// (the caller expected to follow went away), commits it.
async fn wait_for(shared: &Arc<Shared>, group: u64) -> Result<()> {
    let mut finished = shared.finished.subscribe();
    loop {
        if *finished.borrow_and_update() >= group {
            let failed = shared.failed.lock().unwrap_or_else(|e| e.into_inner());
            return match failed.get(&group) {
                None => Ok(()),
                Some(why) => Err(StoreError::Io(format!("the write was not committed: {why}"))),
            };
        }
        if tokio::time::timeout(shared.max_open, finished.changed()).await.is_err() {
            let shared = shared.clone();
            let close = async move {
                let mut state = shared.state.lock().await;
                settle(&shared, &mut state).await;
                if state.group.as_ref().is_some_and(|g| g.id == group) {
                    finish(&shared, &mut state).await;
                }
            };
            tokio::spawn(close).await.map_err(stopped)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::Row;

    use crate::store::SqliteStore;

    async fn store() -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("w.db"), Duration::from_secs(5), 2).await.unwrap();
        let mut w = store.write().await.unwrap();
        sqlx::query("CREATE TABLE t (v TEXT NOT NULL)").execute(&mut *w).await.unwrap();
        w.commit().await.unwrap();
        (store, dir)
    }

    async fn insert(w: &mut super::WriteTx, v: &str) {
        sqlx::query("INSERT INTO t (v) VALUES (?)").bind(v).execute(&mut **w).await.unwrap();
    }

    async fn values(store: &SqliteStore) -> Vec<String> {
        let rows = sqlx::query("SELECT v FROM t ORDER BY v").fetch_all(store.pool()).await.unwrap();
        rows.iter().map(|r| r.get::<String, _>("v")).collect()
    }

    async fn until_waiting(store: &SqliteStore, n: usize) {
        while store.writer.0.waiting.load(super::Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_arriving_together_share_one_transaction_and_a_failing_one_undoes_only_its_own_work() {
        let (mut store, _dir) = store().await;
        // However slowly this machine runs the callers, the group waits for them.
        store.writer = super::Writer::with_max_open(&store.writer, Duration::from_secs(30));
        let mut first = store.write().await.unwrap();
        insert(&mut first, "first").await;
        let mut callers = Vec::new();
        for i in 0..10 {
            let caller = store.clone();
            callers.push(tokio::spawn(async move {
                let mut w = caller.write().await?;
                insert(&mut w, &format!("caller {i}")).await;
                if i == 3 {
                    // This chat's work fails halfway: what it wrote is undone, nobody else's.
                    sqlx::query("INSERT INTO missing (v) VALUES (1)").execute(&mut *w).await?;
                }
                w.commit().await
            }));
            until_waiting(&store, i + 1).await;
        }
        let before = store.writer_stats();
        first.commit().await.unwrap();
        let mut results = Vec::new();
        for caller in callers {
            results.push(caller.await.unwrap().is_ok());
        }
        assert_eq!(results, (0..10).map(|i| i != 3).collect::<Vec<_>>());
        let after = store.writer_stats();
        assert_eq!((after.writes - before.writes, after.transactions - before.transactions), (10, 1));
        let mut expected: Vec<String> = (0..10).filter(|i| *i != 3).map(|i| format!("caller {i}")).collect();
        expected.push("first".into());
        expected.sort();
        assert_eq!(values(&store).await, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_left_waiting_is_committed_when_the_one_after_it_gives_up() {
        let (store, _dir) = store().await;
        let mut first = store.write().await.unwrap();
        insert(&mut first, "kept").await;
        let next = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut w = store.write().await.unwrap();
                insert(&mut w, "dropped").await;
                // Returns without committing (an error, a conflict): its work is undone.
            })
        };
        until_waiting(&store, 1).await;
        // Someone is waiting, so the transaction is left open for it; it goes away without
        // committing, and the first caller's work is still committed.
        tokio::time::timeout(Duration::from_secs(5), first.commit()).await.expect("not left hanging").unwrap();
        next.await.unwrap();
        assert_eq!(values(&store).await, vec!["kept".to_string()]);
        // The writer is usable afterwards.
        let mut w = store.write().await.unwrap();
        insert(&mut w, "later").await;
        w.commit().await.unwrap();
        assert_eq!(values(&store).await, vec!["kept".to_string(), "later".to_string()]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_drawn_from_others_work_waits_until_that_work_is_durable() {
        let (mut store, _dir) = store().await;
        store.writer = super::Writer::with_max_open(&store.writer, Duration::from_secs(30));
        let mut first = store.write().await.unwrap();
        insert(&mut first, "done by the first").await;
        let second = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut w = store.write().await.unwrap();
                // It sees the first caller's work (same transaction) and answers "already done"…
                let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(&mut *w).await.unwrap();
                w.rollback().await.unwrap();
                // …only once every reader sees it too.
                let visible = values(&store).await;
                (seen, visible)
            })
        };
        until_waiting(&store, 1).await;
        let committing = tokio::spawn(first.commit());
        let (seen, visible) = second.await.unwrap();
        committing.await.unwrap().unwrap();
        assert_eq!((seen, visible), (1, vec!["done by the first".to_string()]));
    }

    #[tokio::test]
    async fn writes_are_durable_across_power_loss() {
        // synchronous = FULL in WAL mode: each commit syncs the WAL before it returns
        // (<https://www.sqlite.org/pragma.html#pragma_synchronous>); 2 is FULL.
        let (store, _dir) = store().await;
        let mut w = store.write().await.unwrap();
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *w).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *w).await.unwrap();
        w.commit().await.unwrap();
        assert_eq!((level, mode.as_str()), (2, "wal"));
    }

    #[tokio::test]
    async fn committed_outbox_rows_are_handed_to_the_subscriber_only_once_committed() {
        use crate::store::{DueMessage, prelude::*};
        let (store, _dir) = store().await;
        let mut feed = store.subscribe_outbox();
        let row = DueMessage { id: 7, chat_id: 42, priority: 0, attempts: 0 };
        let mut undone = store.write().await.unwrap();
        undone.added([row.clone()]);
        drop(undone);
        let mut w = store.write().await.unwrap();
        w.added([DueMessage { id: 8, ..row.clone() }]);
        w.commit().await.unwrap();
        let handed = feed.recv().await.unwrap();
        assert_eq!(handed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![8]);
        assert!(feed.try_recv().is_err());
    }
}
