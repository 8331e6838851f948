//! Files kept in the database: documents departments upload with a reply through the API.
//!
//! A file is named by the SHA-256 of its bytes (lowercase hex), so keeping the same file twice
//! keeps it once and a name can never point at other bytes. The reply's document
//! (`Attachment` of kind `Stored`) carries the file's name, type and size; the bytes are here.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Result;

/// A kept file's bytes and their declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub sha256: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

impl StoredFile {
    /// A file to keep: its name is the SHA-256 of `bytes`.
    pub fn new(mime_type: &str, bytes: Vec<u8>) -> Self {
        use sha2::{Digest, Sha256};
        Self { sha256: hex::encode(Sha256::digest(&bytes)), mime_type: mime_type.to_string(), bytes }
    }
}

#[async_trait]
pub trait FileStore: Send + Sync {
    /// Keeps the file (nothing happens if a file with its SHA-256 is kept already).
    async fn keep_file(&self, file: &StoredFile, now: DateTime<Utc>) -> Result<()>;
    /// The file with this SHA-256, if kept.
    async fn stored_file(&self, sha256: &str) -> Result<Option<StoredFile>>;
}
