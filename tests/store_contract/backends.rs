//! The backends the contract suite runs against: each factory makes a fresh, empty, migrated store.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jianyan::store::{PgStore, SqliteStore, Store};

use crate::test_database::TestDatabase;

/// A fresh store, what it needs kept alive (its folder, its database), and the few fixtures the
/// `Store` trait has no method for.
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub outside: Box<dyn Outside>,
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

/// Fixtures written from outside the store's interface, as an administrator would (one statement each).
#[async_trait]
pub trait Outside: Send + Sync {
    /// Marks a member inactive (no `Store` method does; an administrator does it in the database).
    async fn deactivate_member(&self, member_id: i64);
}

pub async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteStore::open(&dir.path().join("contract.db"), Duration::from_secs(10), 4)
        .await
        .expect("open a fresh SQLite store");
    Backend { store: Arc::new(store.clone()), outside: Box::new(SqliteOutside(store)), _keep: Box::new(dir) }
}

struct SqliteOutside(SqliteStore);

#[async_trait]
impl Outside for SqliteOutside {
    async fn deactivate_member(&self, member_id: i64) {
        sqlx::query("UPDATE members SET status = 'inactive' WHERE id = ?")
            .bind(member_id)
            .execute(self.0.pool())
            .await
            .expect("deactivate a member");
    }
}

/// A fresh database on the test PostgreSQL server (`JIANYAN_TEST_POSTGRES`), dropped with the
/// backend.
pub async fn postgres() -> Backend {
    let database = TestDatabase::create().await;
    let store = PgStore::open(database.url(), 8).await.expect("open a fresh PostgreSQL store");
    Backend { store: Arc::new(store.clone()), outside: Box::new(PgOutside(store)), _keep: Box::new(database) }
}

struct PgOutside(PgStore);

#[async_trait]
impl Outside for PgOutside {
    async fn deactivate_member(&self, member_id: i64) {
        sqlx::query("UPDATE members SET status = 'inactive' WHERE id = $1")
            .bind(member_id)
            .execute(self.0.pool())
            .await
            .expect("deactivate a member");
    }
}
