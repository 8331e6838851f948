//! What the store answers for the dashboard and the console's topic, department and roster pages.

use async_trait::async_trait;

#[async_trait]
pub trait ReportStore: Send + Sync {}
