//! Invite codes: one-time, expiring, stored only as a hash, that bind a Telegram account to a member.

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::domain::{fold_typed, fold_width};

/// No 0/O, 1/I/L: codes are read aloud and typed by hand.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_LEN: usize = 10;

/// A new code: `CODE_LEN` characters of `ALPHABET`, at least one of them a digit, so that `find`
/// tells it from an ordinary word in any case, inside any sentence (a code of letters only, about
/// 1 in 20 draws, is drawn again).
pub fn generate(rng: &mut impl Rng) -> String {
    loop {
        let code: String = (0..CODE_LEN).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
        if code.bytes().any(|b| b.is_ascii_digit()) {
            return code;
        }
    }
}

/// A code typed on its own (any case, full-width, spaces or dashes) in canonical form, or `None`
/// if it cannot be one. For a code inside a message, use `find`.
pub fn normalize(input: &str) -> Option<String> {
    let code: String = fold_typed(input).chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    fits(&code).then_some(code)
}

/// The invite code in a message, as people paste or type it: alone, with the label the CLI prints
/// (`邀请码：6GKASJ7JWU`), in lower case, in full-width letters and digits, in groups separated by
/// spaces or dashes, or inside a sentence (`我的邀请码是 6gkasj7jwu 谢谢`). Canonical form, or `None`.
///
/// A code is `CODE_LEN` characters of `ALPHABET` (no 0/O, 1/I/L). So that an ordinary word of that
/// shape ("I understand you", "{department} 已签收") is not taken for a code, a candidate must
/// contain a digit, or be typed in capitals, or be the whole message (after a label such as
/// `邀请码：`). Codes are generated with a digit; codes of letters only issued by earlier versions
/// are still found when sent alone, labelled or in capitals.
pub fn find(message: &str) -> Option<String> {
    let folded = fold_width(message);
    let mut bare = folded.trim();
    for label in ["邀请码是", "邀请码", "INVITE CODE", "Invite code", "invite code", "CODE", "Code", "code"] {
        if let Some(rest) = bare.strip_prefix(label) {
            bare = rest.trim_start_matches([':', ' ', '是']).trim();
            break;
        }
    }
    let is_code_char = |c: char| c.is_ascii_alphanumeric();
    // Runs of Latin letters and digits, with single spaces or dashes between their groups.
    let runs: Vec<&str> = folded
        .split(|c: char| !(is_code_char(c) || c == ' ' || c == '-'))
        .map(|r| r.trim_matches(|c| c == ' ' || c == '-'))
        .filter(|r| r.chars().any(is_code_char))
        .collect();
    let plausible =
        |typed: &str| typed.chars().any(|c| c.is_ascii_digit()) || !typed.chars().any(|c| c.is_ascii_lowercase());
    for run in &runs {
        let code: String = run.chars().filter(|c| is_code_char(*c)).map(|c| c.to_ascii_uppercase()).collect();
        if fits(&code) && (*run == bare || plausible(run)) {
            return Some(code);
        }
        // A code among other words: consecutive groups that make one up.
        let groups: Vec<&str> = run.split([' ', '-']).filter(|g| !g.is_empty()).collect();
        for start in 0..groups.len() {
            let mut typed = String::new();
            for group in &groups[start..] {
                typed.push_str(group);
                if typed.len() >= CODE_LEN {
                    break;
                }
            }
            let code = typed.to_ascii_uppercase();
            if fits(&code) && plausible(&typed) {
                return Some(code);
            }
        }
    }
    None
}

/// `CODE_LEN` characters of `ALPHABET`.
fn fits(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))
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
    fn every_generated_code_is_found_in_lower_case_inside_a_sentence() {
        let mut rng = rand::thread_rng();
        for _ in 0..2000 {
            let code = generate(&mut rng);
            assert!(code.bytes().any(|b| b.is_ascii_digit()), "{code}");
            let full_width: String =
                code.to_lowercase().chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
            assert_eq!(find(&format!("我的邀请码是 {full_width} 谢谢")).as_deref(), Some(code.as_str()));
            assert_eq!(find(&format!("my code is {} thanks", code.to_lowercase())).as_deref(), Some(code.as_str()));
        }
    }

    #[test]
    fn generated_codes_normalize_to_themselves() {
        let mut rng = rand::thread_rng();
        for _ in 0..100 {
            let code = generate(&mut rng);
            assert_eq!(normalize(&code).as_deref(), Some(code.as_str()));
            assert_eq!(normalize(&code.to_lowercase()).as_deref(), Some(code.as_str()));
        }
        assert_eq!(normalize("abcde-fghjk"), Some("ABCDEFGHJK".into()));
        assert_eq!(normalize("ＡＢＣＤＥ－ＦＧＨＪＫ"), Some("ABCDEFGHJK".into()));
        assert_eq!(normalize("short"), None);
        assert_eq!(normalize("提交建言提交建言提交建"), None);
        assert_eq!(normalize("ABCDEFGHJ0"), None, "0 is not in the alphabet");
    }

    /// The store keeps `hash(code)` only, and a code is looked up by hashing what the member typed
    /// after `normalize`/`find`. So the hash must be the SHA-256 of the canonical code in lower-case
    /// hex (the value pinned here was computed with `printf ABCDEFGHJK | sha256sum`), and every way
    /// of typing one code must reach the same hash, or issued invites stop working.
    #[test]
    fn the_stored_hash_is_the_sha256_hex_of_the_canonical_code() {
        const PINNED: &str = "f57cbf1e3e471b25db4b8ad0844df41b2dae9c7d1944944d128e49294d412f66";
        assert_eq!(hash("ABCDEFGHJK"), PINNED);
        for typed in ["abcdefghjk", "ＡＢＣＤＥ－ＦＧＨＪＫ", "ABCDE FGHJK", " abcde-fghjk ", "ａｂｃｄｅｆｇｈｊｋ"]
        {
            let code = normalize(typed).unwrap_or_else(|| panic!("{typed:?} is the code"));
            assert_eq!(hash(&code), PINNED, "{typed:?}");
            assert_eq!(find(typed).map(|c| hash(&c)).as_deref(), Some(PINNED), "{typed:?} inside a message");
        }
        assert_eq!(
            hash("6GKASJ7JWU"),
            "104c65562f1452209f2362958d93c2c0e11fee72dcfa54adc542750f47a40b7e",
            "another code, another pinned value"
        );
        assert_ne!(hash("abcdefghjk"), PINNED, "the hash itself does not fold case: callers normalize first");
    }

    #[test]
    fn codes_are_found_as_people_paste_and_type_them() {
        for typed in [
            "6GKASJ7JWU",
            "6gkasj7jwu",
            " 6GKASJ7JWU\n",
            "邀请码：6GKASJ7JWU",
            "邀请码:6GKASJ7JWU",
            "邀请码：6GKASJ7JWU\n邀请链接：https://t.me/jianyan_bot?start=6GKASJ7JWU",
            "６ＧＫＡＳＪ７ＪＷＵ",
            "６ｇｋａｓｊ７ｊｗｕ",
            "6GKA SJ7J WU",
            "6GKAS-J7JWU",
            "6GKAS－J7JWU",
            "6GKAS—J7JWU",
            "6GK\u{3000}ASJ\u{3000}7JWU",
            "我的邀请码是 6gkasj7jwu 谢谢",
            "我的邀请码是6GKASJ7JWU，谢谢",
            "您好，邀请码 6GKA-SJ7J-WU 请查收",
            "my code is 6gka sj7j wu thanks",
            "Invite code: 6GKA-SJ7J-WU",
        ] {
            assert_eq!(find(typed).as_deref(), Some("6GKASJ7JWU"), "{typed:?}");
        }
        // A code with no digit: alone or labelled it is one; a word of that shape in a sentence is not.
        assert_eq!(find("understand").as_deref(), Some("UNDERSTAND"));
        assert_eq!(find("邀请码：abcdefghjk").as_deref(), Some("ABCDEFGHJK"));
        assert_eq!(find("我的邀请码是 ABCDEFGHJK").as_deref(), Some("ABCDEFGHJK"));
        assert_eq!(find("Invite code: abcdefghjk").as_deref(), Some("ABCDEFGHJK"));
        assert_eq!(find("abcde fghjk").as_deref(), Some("ABCDEFGHJK"));
        assert_eq!(find("我是 department 的"), None);
        assert_eq!(find("{department} 已签收，正在办理中。"), None);
        for not_a_code in [
            "I understand what you mean",
            "please help me register",
            "你好，我想提建议",
            "我的电话是 13800138000",
            "6GKASJ7JW",
            "6GKASJ7JWUX",
            "编号 PD-2025-0042",
            "",
        ] {
            assert_eq!(find(not_a_code), None, "{not_a_code:?}");
        }
    }

    #[test]
    fn no_text_the_bot_or_console_says_is_taken_for_a_code() {
        // Every text of both locales: a member who sends a bot message back is not "registering".
        fn strings(value: &toml::Value, out: &mut Vec<String>) {
            match value {
                toml::Value::String(s) => out.push(s.clone()),
                toml::Value::Table(t) => t.values().for_each(|v| strings(v, out)),
                toml::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
                _ => {}
            }
        }
        let mut texts = Vec::new();
        for file in [include_str!("../config/locales/zh-CN.toml"), include_str!("../config/locales/en.toml")] {
            strings(&file.parse::<toml::Value>().expect("a locale parses"), &mut texts);
        }
        assert!(texts.len() > 500, "{} texts", texts.len());
        // A message that is only a word of a code's shape ("department") is read as a code (and
        // answered as an unknown one): codes without a digit can be typed in lower case.
        let word_of_code_shape = |t: &str| t.len() == CODE_LEN && t.chars().all(|c| c.is_ascii_alphabetic());
        let taken: Vec<_> = texts.iter().filter(|t| find(t).is_some() && !word_of_code_shape(t)).collect();
        assert!(taken.is_empty(), "{taken:?}");
        println!("{} locale texts, none taken for an invite code", texts.len());
    }
}
