//! What the store answers for the console's suggestion inbox, detail pages and exports.

use async_trait::async_trait;

#[async_trait]
pub trait InboxStore: Send + Sync {}
