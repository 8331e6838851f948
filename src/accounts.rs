//! Console accounts' passwords: argon2id hashes, the strength rule, and where hashing runs.
//!
//! Used by the command line (`jianyan users add`, the first admin) and by the web console's login;
//! neither needs the other to hash or check a password.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use rand::RngCore;

/// A new argon2id PHC string (`$argon2id$…`) for `password`. CPU work of about a tenth of a
/// second: call it on a blocking thread (`Passwords::hash`, or `hash_password_blocking`).
///
/// Errors only if argon2 refuses its input (a password longer than 4 GiB).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash a password: {e}"))
}

/// Whether `password` matches the PHC string `hash`; false for a hash that does not parse.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// `hash_password` on Tokio's blocking threads, for callers without a `Passwords` budget (the
/// command line). Errors if hashing fails or the blocking task panicked.
pub async fn hash_password_blocking(password: &str) -> anyhow::Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

/// A password an account may have: 10 to 128 characters, not all of one kind of character
/// (lower case, upper case, digits, others).
pub fn password_is_acceptable(password: &str) -> bool {
    let n = password.chars().count();
    let kinds = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    (10..=128).contains(&n) && kinds.iter().filter(|k| **k).count() >= 2
}

/// A random token: 32 bytes from the thread's CSPRNG, as 64 hex characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Where argon2 runs: on Tokio's blocking threads, at most `web.password_concurrency` at once, so a
/// flood of logins waits its turn instead of taking the threads the bot and the console run on.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<tokio::sync::Semaphore>,
}

impl Passwords {
    /// At most `concurrency` (at least 1) hashes or checks at a time.
    pub fn new(concurrency: usize) -> Self {
        Self { permits: Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))) }
    }

    /// Whether `password` matches the PHC string `hash`.
    pub async fn verify(&self, password: &str, hash: &str) -> bool {
        let (password, hash) = (password.to_string(), hash.to_string());
        let Ok(_permit) = self.permits.acquire().await else { return false };
        tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false)
    }

    /// A new argon2id PHC string for `password`.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        hash_password_blocking(password).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("Correct-horse-9").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Correct-horse-9", &hash));
        assert!(!verify_password("correct-horse-9", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(!password_is_acceptable("short1A"));
        assert!(!password_is_acceptable("alllowercaseletters"));
        assert!(password_is_acceptable("Two-kinds-of-chars"));
    }
}
