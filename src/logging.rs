//! Logs: human-readable or JSON, with phone numbers, ID-card numbers and names masked before writing.

use std::io::Write;
use std::sync::Arc;

use regex::Regex;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::Config;

/// Masks personal data in a log line.
#[derive(Clone)]
pub struct Masker {
    id_card: Regex,
    phone: Regex,
    name_field: Regex,
}

impl Default for Masker {
    fn default() -> Self {
        Self {
            // 18-digit resident ID numbers (the last may be X); checked before phones, which are shorter.
            id_card: Regex::new(r"\b\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]\b")
                .expect("valid regex"),
            // Mainland mobile numbers, optionally +86, and landlines like 021-12345678.
            phone: Regex::new(r"(?:\+?86[- ]?)?\b1[3-9]\d{9}\b|\b0\d{2,3}-\d{7,8}\b").expect("valid regex"),
            // Values of fields that hold names: name=张三, "name":"张三", 姓名：张三.
            name_field: Regex::new(
                r#"((?:\bname|\bfirst_name|\blast_name|\busername|姓名)"?\s*[=:：]\s*"?)([^",}\s]+)"#,
            )
            .expect("valid regex"),
        }
    }
}

impl Masker {
    pub fn mask(&self, line: &str) -> String {
        let line =
            self.id_card.replace_all(line, |c: &regex::Captures| format!("{}********{}", &c[0][..6], &c[0][14..]));
        let line = self.phone.replace_all(&line, |c: &regex::Captures| {
            let s = &c[0];
            let keep = s.len().saturating_sub(4);
            format!("{}****", &s[..keep.min(s.len())].chars().take(3).collect::<String>())
        });
        let line = self.name_field.replace_all(&line, |c: &regex::Captures| format!("{}{}", &c[1], mask_name(&c[2])));
        line.into_owned()
    }
}

/// 张三丰 → 张**: the first character stays so a log reader can tell lines apart.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

/// A writer that masks each buffer before passing it to stderr.
#[derive(Clone)]
pub struct MaskingWriter {
    masker: Arc<Masker>,
}

impl Write for MaskingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(self.masker.mask(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for MaskingWriter {
    type Writer = MaskingWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the global tracing subscriber (the one process-wide thing, set once in `main`).
pub fn init(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let writer = MaskingWriter { masker: Arc::new(Masker::default()) };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
    let result = if config.log.format == "json" { builder.json().try_init() } else { builder.try_init() };
    if let Err(e) = result {
        eprintln!("logging was already set up: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_phones_id_cards_and_names() {
        let m = Masker::default();
        let line = m.mask(
            r#"member name=张三丰 phone=13812345678 id=310115198001011234 tel 021-58881234 {"first_name":"李四"}"#,
        );
        assert!(!line.contains("13812345678"), "{line}");
        assert!(!line.contains("310115198001011234"), "{line}");
        assert!(!line.contains("58881234"), "{line}");
        assert!(!line.contains("张三丰") && line.contains("张**"), "{line}");
        assert!(!line.contains("李四") && line.contains("李*"), "{line}");
        assert!(line.contains("138****"), "{line}");
    }

    #[test]
    fn leaves_ordinary_numbers_alone() {
        let m = Masker::default();
        assert_eq!(m.mask("update_id=12345 chat_id=987654"), "update_id=12345 chat_id=987654");
    }
}
