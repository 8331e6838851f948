//! Invite codes: one-time, expiring, stored only as a hash, that bind a Telegram account to a member.

use rand::Rng;
use sha2::{Digest, Sha256};

/// No 0/O, 1/I/L: codes are read aloud and typed by hand.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_LEN: usize = 10;

pub fn generate(rng: &mut impl Rng) -> String {
    (0..CODE_LEN).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// A code as typed (any case, spaces or dashes) in canonical form, or `None` if it cannot be one.
pub fn normalize(input: &str) -> Option<String> {
    let code: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())).then_some(code)
}

pub fn hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

pub fn deep_link(bot_username: &str, code: &str) -> String {
    format!("https://t.me/{bot_username}?start={code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_normalize_to_themselves() {
        let mut rng = rand::thread_rng();
        for _ in 0..100 {
            let code = generate(&mut rng);
            assert_eq!(normalize(&code).as_deref(), Some(code.as_str()));
            assert_eq!(normalize(&code.to_lowercase()).as_deref(), Some(code.as_str()));
        }
        assert_eq!(normalize("abcde-fghjk"), Some("ABCDEFGHJK".into()));
        assert_eq!(normalize("short"), None);
        assert_eq!(normalize("提交建言提交建言提交建"), None);
        assert_ne!(hash("ABCDEFGHJK"), "ABCDEFGHJK");
        assert_eq!(hash("ABCDEFGHJK").len(), 64);
    }
}
