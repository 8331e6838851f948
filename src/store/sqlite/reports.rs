//! SQLite for the dashboard and the console's topic, department and roster pages.

use async_trait::async_trait;

use super::*;
use crate::store::reports::*;

#[async_trait]
impl ReportStore for SqliteStore {}
