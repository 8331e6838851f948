//! Leadership and signals between instances on PostgreSQL: a session advisory lock held on a
//! connection of its own, and LISTEN/NOTIFY.

use std::sync::{Arc, Once};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::watch;

use crate::store::{Lease, Result};

/// The advisory lock key the leader holds ("jianyan" in ASCII).
const LEADER_LOCK: i64 = 0x006a_6961_6e79_616e;
/// How often the leader checks its connection (and so its lock) is still there, and how long a
/// check may take before the lead counts as lost.
const CHECK_EVERY: Duration = Duration::from_secs(1);
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// The channel `store_updates` notifies on commit when it stored new updates.
pub(super) const UPDATES_CHANNEL: &str = "jianyan_updates";

/// The lock connection's TCP keepalive, set for the server's side: if the leader's machine
/// vanishes without closing the connection, PostgreSQL notices within about
/// `idle + interval × count` seconds and releases the lock for another instance
/// (<https://www.postgresql.org/docs/15/runtime-config-connection.html>).
const KEEPALIVE: [&str; 3] =
    ["SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2", "SET tcp_keepalives_count = 3"];

/// Tries to take the leader's lock on a new connection of its own; `None` if another session
/// holds it.
pub(super) async fn try_lead(options: &PgConnectOptions) -> Result<Option<Box<dyn Lease>>> {
    // Named with the process id, so that an administrator (and the tests) can tell which
    // instance leads: `SELECT application_name FROM pg_stat_activity`.
    let name = format!("jianyan leader {}", std::process::id());
    let mut conn = options.clone().application_name(&name).connect().await?;
    for setting in KEEPALIVE {
        sqlx::query(setting).execute(&mut conn).await?;
    }
    let got: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(LEADER_LOCK).fetch_one(&mut conn).await?;
    if !got {
        let _ = conn.close().await;
        return Ok(None);
    }
    Ok(Some(Box::new(PgLease { conn: Some(conn) })))
}

/// The leader's connection: the lock lasts as long as the session.
struct PgLease {
    conn: Option<PgConnection>,
}

#[async_trait]
impl Lease for PgLease {
    async fn lost(&mut self) -> String {
        let Some(conn) = self.conn.as_mut() else { return std::future::pending().await };
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            match tokio::time::timeout(CHECK_TIMEOUT, sqlx::query("SELECT 1").execute(&mut *conn)).await {
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => return format!("the connection holding the lead failed: {e}"),
                Err(_) => return format!("the database did not answer within {CHECK_TIMEOUT:?}"),
            }
        }
    }
}

/// Signals from other instances: counts notifications of stored updates.
pub(super) struct Signals {
    updates: Arc<watch::Sender<u64>>,
    listening: Once,
}

impl Default for Signals {
    fn default() -> Self {
        Self { updates: Arc::new(watch::Sender::new(0)), listening: Once::new() }
    }
}

impl Signals {
    /// Counts this process's own stored updates.
    pub(super) fn updates_stored_here(&self) {
        self.updates.send_modify(|n| *n += 1);
    }

    /// Subscribes to stored updates, starting (once) the task that listens for other instances'.
    pub(super) fn updates(&self, pool: &PgPool) -> watch::Receiver<u64> {
        self.listening.call_once(|| {
            tokio::spawn(listen(pool.clone(), self.updates.clone()));
        });
        self.updates.subscribe()
    }
}

/// A connection listening on `channel`, retried every 2 s until it is made (`what` names the
/// notifications in the log).
async fn listening(pool: &PgPool, channel: &str, what: &str) -> PgListener {
    loop {
        match PgListener::connect_with(pool).await {
            Ok(mut listener) => match listener.listen(channel).await {
                Ok(()) => return listener,
                Err(e) => tracing::warn!(error = %e, "cannot listen for other instances' {what}; retrying"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot listen for other instances' {what}; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Listens for other instances' notifications; after a lost connection (when notifications may
/// have been missed) it counts one too, so that the leader looks at the table again.
async fn listen(pool: PgPool, updates: Arc<watch::Sender<u64>>) {
    loop {
        let mut listener = listening(&pool, UPDATES_CHANNEL, "updates").await;
        updates.send_modify(|n| *n += 1);
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => updates.send_modify(|n| *n += 1),
                // The connection was lost; `try_recv` reconnects on the next call.
                Ok(None) => updates.send_modify(|n| *n += 1),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the connection listening for other instances' updates");
                    break;
                }
            }
            if updates.is_closed() {
                return;
            }
        }
    }
}

/// Hands the leader's delivery worker the outbox rows other instances commit (a console action,
/// an API call, a command on another machine), as `PgTx::commit` notifies them: the rows of each
/// notification still pending, read by their ids. On every (re)connection an empty batch tells the
/// worker that notifications may have been missed, so it reads the queue again.
pub(super) async fn listen_outbox(pool: PgPool, feed: Arc<super::tx::Feed>) {
    loop {
        let mut listener = listening(&pool, super::tx::OUTBOX_CHANNEL, "outbox rows").await;
        feed.send(Vec::new());
        loop {
            let notification = match listener.try_recv().await {
                Ok(Some(n)) => n,
                // The connection was lost and is made again on the next call: read the queue again.
                Ok(None) => {
                    feed.send(Vec::new());
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lost the connection listening for other instances' outbox rows");
                    break;
                }
            };
            let mut parts = notification.payload().split(':');
            let (Some(instance), Some(first), Some(last)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if instance == feed.instance {
                continue;
            }
            let (Ok(first), Ok(last)) = (first.parse::<i64>(), last.parse::<i64>()) else { continue };
            let rows = sqlx::query_as::<_, (i64, i64, i64, i64)>(
                "SELECT id, chat_id, priority, attempts FROM outbox WHERE id BETWEEN $1 AND $2 AND status = 'pending' ORDER BY id",
            )
            .bind(first)
            .bind(last)
            .fetch_all(&pool)
            .await;
            match rows {
                Ok(rows) if !rows.is_empty() => feed.send(
                    rows.into_iter()
                        .map(|(id, chat_id, priority, attempts)| crate::store::DueMessage {
                            id,
                            chat_id,
                            priority,
                            attempts,
                        })
                        .collect(),
                ),
                Ok(_) => {}
                // Not read: the worker reads the queue again instead.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read other instances' outbox rows; reading the queue again");
                    feed.send(Vec::new());
                }
            }
        }
    }
}
