//! Running several jianyan instances on one database: which one leads, and the signals they send
//! each other.
//!
//! One instance at a time — the leader — runs the bot's engine: it polls Telegram (in polling
//! mode), processes stored updates, sends the outbox and runs the reminders and the overdue
//! digest. Every instance serves the console, the API and Telegram's webhook requests, storing
//! each update before answering. One engine keeps each chat's updates in order and Telegram's
//! limits (30 messages a second, one a second per chat) true for the whole bot without instances
//! having to agree on every send; when the leader dies, another takes over within seconds and
//! goes on from what is stored.

use async_trait::async_trait;
use tokio::sync::watch;

use super::Result;

/// Held by the leading instance; dropping it hands the lead on.
#[async_trait]
pub trait Lease: Send {
    /// Returns (with why) once this instance may no longer be the leader: its hold on the
    /// database was lost. The engine must then stop at once: another instance may take over.
    async fn lost(&mut self) -> String;
}

#[async_trait]
pub trait ClusterStore: Send + Sync {
    /// Tries to become the leader. `None`: another live instance leads (try again later).
    async fn try_lead(&self) -> Result<Option<Box<dyn Lease>>>;
    /// Changes to a counter that grows whenever new updates are stored, by this instance or
    /// (on PostgreSQL) any other: the leader then reads the pending updates.
    fn updates_stored(&self) -> watch::Receiver<u64>;
}

/// The lease of a store that one process uses alone (SQLite: `backup::RunLock` keeps a second
/// `jianyan run` away): never lost.
pub struct SoleLease;

#[async_trait]
impl Lease for SoleLease {
    async fn lost(&mut self) -> String {
        std::future::pending().await
    }
}
