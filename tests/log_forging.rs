//! Log forging replayed through the real subscriber (`jianyan::logging::subscriber`) and the real
//! login handler: a username carrying a newline, a fake log line and an ANSI escape stays inside
//! its own line, in text and in JSON; ID-card and phone numbers right after Chinese text are masked.

mod support;

use std::sync::{Arc, Mutex};

use support::console::Console;

/// Where the subscriber writes in these tests.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

const FORGED: &str = "x\n2026-01-01T00:00:00Z  INFO jianyan: admin logged in\u{1b}[2K\r";

/// Logs a failed login with the forged username, then a member's details, through `format`.
async fn replay(format: &str) -> String {
    let c = Console::start().await;
    let mut config = (*c.app.config).clone();
    config.log.format = format.into();
    let sink = Captured::default();
    let _guard = tracing::subscriber::set_default(jianyan::logging::subscriber(&config, "info", sink.clone(), false));
    let refused = c.try_login(FORGED, "wrong-password-1").await.unwrap_err();
    assert_eq!(refused.status, axum::http::StatusCode::UNAUTHORIZED);
    tracing::info!(note = %"身份证310101199001011234，手机13812345678", "a member's details");
    tracing::warn!("multi-line\nmessage\u{1b}[31m");
    sink.text()
}

#[tokio::test]
async fn a_username_cannot_forge_a_text_log_line() {
    let log = replay("text").await;
    assert!(!log.contains('\u{1b}') && !log.contains('\r'), "no raw ESC or CR: {log:?}");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "one line per event: {log}");
    assert!(lines.iter().all(|l| !l.starts_with("2026-01-01")), "{log}");
    let failed = lines.iter().find(|l| l.contains("a console login failed")).expect("the failed login is logged");
    // The forged text stays inside the failed login's line (its start masked as a name).
    assert!(failed.contains("INFO jianyan: admin logged in\\u{1b}[2K"), "escaped in place: {failed}");
    assert!(log.contains("310101********1234") && !log.contains("310101199001011234"), "{log}");
    assert!(log.contains("138****") && !log.contains("13812345678"), "{log}");
    assert!(log.contains("multi-line\\nmessage\\u{1b}[31m"), "{log}");
}

#[tokio::test]
async fn a_username_cannot_forge_a_json_log_line() {
    let log = replay("json").await;
    assert!(!log.contains('\u{1b}') && !log.contains('\r'), "no raw ESC or CR: {log:?}");
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert_eq!(lines.len(), 3, "one JSON object per event: {log}");
    assert!(log.contains("310101********1234") && !log.contains("310101199001011234"), "{log}");
}
