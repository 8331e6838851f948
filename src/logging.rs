//! Logs: human-readable or JSON, one line per event whatever a request put in it (control
//! characters escaped, so nobody can forge a line), with phone numbers, ID-card numbers and names
//! masked before writing.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;

use regex::Regex;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::Config;

/// Masks personal data in a log line.
#[derive(Clone)]
pub struct Masker {
    /// Runs of digits (with a final X of an ID card): ID cards and mobile numbers are told apart
    /// by the whole run, so they are found right after Chinese text (身份证3101…, 手机138…) and
    /// never inside a longer number.
    digits: Regex,
    id_card: Regex,
    mobile: Regex,
    landline: Regex,
    name_field: Regex,
}

impl Default for Masker {
    fn default() -> Self {
        Self {
            digits: Regex::new(r"[0-9]+[Xx]?").expect("valid regex"),
            // 18-digit resident ID numbers (the last may be X).
            id_card: Regex::new(
                r"^[0-9]{6}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]$",
            )
            .expect("valid regex"),
            // Mainland mobile numbers, optionally with 86 in front.
            mobile: Regex::new(r"^(?:86)?1[3-9][0-9]{9}$").expect("valid regex"),
            // Landlines like 021-12345678, not inside a longer number.
            landline: Regex::new(r"(^|[^0-9])(0[0-9]{2,3}-[0-9]{7,8})([^0-9]|$)").expect("valid regex"),
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
        let line = self.digits.replace_all(line, |c: &regex::Captures| {
            let s = &c[0];
            if self.id_card.is_match(s) {
                format!("{}********{}", &s[..6], &s[14..])
            } else if self.mobile.is_match(s) {
                let start = s.len() - 11;
                format!("{}{}****", &s[..start], &s[start..start + 3])
            } else {
                s.to_string()
            }
        });
        let line = self.landline.replace_all(&line, |c: &regex::Captures| {
            let number = &c[2];
            let (area, _) = number.split_once('-').unwrap_or((number, ""));
            format!("{}{area}-****{}", &c[1], &c[3])
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

/// `text` with every control character (newline, carriage return, ESC, NUL, DEL, C1) and every
/// bidirectional override written as a visible escape (`\n`, `\u{1b}`), so a value from a
/// request cannot start a line of its own or recolour the terminal.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let needs = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(needs) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A writer that masks each event's line and passes it to `inner` (stderr in `init`).
///
/// The formatter writes one event per call. Unless the terminal is shown colours (`ansi`), every
/// control character in it but the final newline is escaped here too, whatever produced it.
#[derive(Clone)]
pub struct MaskingWriter<M> {
    masker: Arc<Masker>,
    inner: M,
    ansi: bool,
}

impl<M> MaskingWriter<M> {
    pub fn new(inner: M, ansi: bool) -> Self {
        Self { masker: Arc::new(Masker::default()), inner, ansi }
    }
}

/// One event's writer, from [`MaskingWriter`].
pub struct MaskingLine<W> {
    masker: Arc<Masker>,
    inner: W,
    ansi: bool,
}

impl<W: Write> Write for MaskingLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, newline) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        let body = if self.ansi { body.replace(['\n', '\r'], " ") } else { escape_controls(body).into_owned() };
        self.inner.write_all(format!("{}{newline}", self.masker.mask(&body)).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for MaskingWriter<M> {
    type Writer = MaskingLine<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        MaskingLine { masker: self.masker.clone(), inner: self.inner.make_writer(), ansi: self.ansi }
    }
}

/// The subscriber `init` installs, writing to `sink`: events as `filter` (EnvFilter syntax)
/// selects, text or JSON as `log.format` says, fields escaped (`escape_controls`) and lines masked
/// (`Masker`). Tests give their own sink.
pub fn subscriber<M>(config: &Config, filter: &str, sink: M, ansi: bool) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    M: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::new(filter);
    let writer = MaskingWriter::new(sink, ansi);
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
    if config.log.format == "json" {
        // serde_json escapes every control character in strings.
        Box::new(builder.json().finish())
    } else {
        let fields = tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
            let value = format!("{value:?}");
            if field.name() == "message" {
                write!(w, "{}", escape_controls(&value))
            } else {
                write!(w, "{}={}", field.name(), escape_controls(&value))
            }
        })
        .delimited(" ");
        Box::new(builder.fmt_fields(fields).finish())
    }
}

/// Installs the global tracing subscriber (the one process-wide thing, set once in `main`).
pub fn init(config: &Config) {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let filter = std::env::var("RUST_LOG").ok().filter(|f| !f.trim().is_empty()).unwrap_or(config.log.level.clone());
    if let Err(e) = tracing::subscriber::set_global_default(subscriber(config, &filter, std::io::stderr, ansi)) {
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
        let long = "n=3101011990010112345 m=138123456789 d=2025-03-01";
        assert_eq!(m.mask(long), long, "longer numbers are not IDs or phones");
    }

    #[test]
    fn masks_numbers_right_after_chinese_text() {
        let m = Masker::default();
        let line = m.mask("身份证310101199001011234，手机13812345678，电话021-58881234。旧号码31010119900101123X号");
        assert!(!line.contains("310101199001011234") && line.contains("310101********1234"), "{line}");
        assert!(!line.contains("13812345678") && line.contains("138****"), "{line}");
        assert!(!line.contains("58881234") && line.contains("021-****"), "{line}");
        assert!(!line.contains("31010119900101123X"), "{line}");
        let line = m.mask("tel:+8613812345678 and 8613912345678");
        assert!(!line.contains("12345678"), "{line}");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_controls("admin\n2025 INFO forged\u{1b}[31m\u{202e}"),
            "admin\\n2025 INFO forged\\u{1b}[31m\\u{202e}"
        );
        assert!(matches!(escape_controls("普通文字 plain"), std::borrow::Cow::Borrowed(_)));
    }
}
