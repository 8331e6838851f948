//! SQLite for the console's inbox, suggestion pages and exports.

use async_trait::async_trait;

use super::*;
use crate::store::inbox::*;

#[async_trait]
impl InboxStore for SqliteStore {}
