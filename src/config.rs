//! Settings: built-in defaults, an optional local file, then `JIANYAN_…` environment variables.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::FixedOffset;
use serde::Deserialize;

/// The defaults, compiled in so the binary runs from any folder.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");
const ENV_PREFIX: &str = "JIANYAN_";
/// Environment variables with the `JIANYAN_` prefix that are not settings paths.
const ENV_NOT_SETTINGS: &[&str] = &["JIANYAN_BOT_TOKEN", "JIANYAN_CONFIG", "JIANYAN_NEW_PASSWORD"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub general: General,
    pub database: Database,
    pub telegram: Telegram,
    pub references: References,
    pub invites: Invites,
    pub limits: Limits,
    pub workflow: Workflow,
    pub topics: TopicSettings,
    pub staff: StaffSettings,
    pub reminders: Reminders,
    pub delivery: Delivery,
    pub web: Web,
    pub locale: LocaleSettings,
    pub log: Log,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("url", &redact_password(&self.url))
            .field("path", &self.path)
            .field("busy_timeout_ms", &self.busy_timeout_ms)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl Database {
    /// The PostgreSQL database to use, if one is configured (else SQLite at `path`).
    pub fn postgres_url(&self) -> Option<&str> {
        Some(self.url.trim()).filter(|u| !u.is_empty())
    }

    /// Where the data is, for messages: the SQLite file, or the PostgreSQL URL without its
    /// password.
    pub fn describe(&self) -> String {
        match self.postgres_url() {
            Some(url) => redact_password(url),
            None => self.path.display().to_string(),
        }
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://…` or `postgresql://…`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with its password, if any, replaced by `***`.
pub fn redact_password(url: &str) -> String {
    if url.is_empty() {
        return String::new();
    }
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "(an unreadable database.url)".to_string(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct General {
    pub utc_offset: String,
}

/// `Debug` leaves out the URL's password (`describe`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    /// A PostgreSQL database (`postgres://user:password@host:port/name`) instead of the SQLite file
    /// at `path`; empty for SQLite.
    #[serde(default)]
    pub url: String,
    pub path: PathBuf,
    pub busy_timeout_ms: u64,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Telegram {
    pub api_url: String,
    pub token_file: String,
    pub bot_username: String,
    pub poll_timeout_secs: u32,
    pub workers: usize,
    pub shutdown_grace_secs: u64,
    /// How updates arrive: Telegram is polled, or Telegram posts them to `webhook_url`.
    #[serde(default)]
    pub mode: IntakeMode,
    /// The public HTTPS address Telegram posts updates to in webhook mode; it must reach the
    /// console's `/telegram/webhook` route on every instance.
    #[serde(default)]
    pub webhook_url: String,
    /// The `secret_token` given to setWebhook, which Telegram sends back in the
    /// `X-Telegram-Bot-Api-Secret-Token` header of every request: 1–256 characters `A-Z a-z 0-9 _ -`
    /// (<https://core.telegram.org/bots/api#setwebhook>). Required in webhook mode.
    #[serde(default)]
    pub webhook_secret: Secret,
}

/// How the bot receives updates (<https://core.telegram.org/bots/api#getting-updates>).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntakeMode {
    /// getUpdates long polling; with several instances, the leading one polls.
    #[default]
    Polling,
    /// Telegram posts each update to `webhook_url`; any instance stores it.
    Webhook,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct References {
    pub prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invites {
    pub ttl_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub title_max_chars: usize,
    pub point_max_chars: usize,
    pub max_points: usize,
    pub max_attachments: usize,
    pub my_list_size: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub deadline_months: u32,
    pub reopen_days: i64,
    pub reply_classes: Vec<String>,
    /// 督办: a department's reply goes to staff, who approve it (perhaps with another class) or
    /// send it back, before the member sees it. Off: the reply reaches the member at once.
    pub review_replies: bool,
    /// 会签: the lead department's draft reply goes first to each co-department, which agrees or
    /// proposes changes; the lead sends it on when all have answered or `countersign_days` passed.
    pub countersign: bool,
    /// Days the co-departments have to countersign a draft reply before the lead may send it on
    /// without them.
    pub countersign_days: i64,
    /// Days an invitation to co-sign (联名) stays open after the suggestion is submitted; it
    /// also closes when staff accept the suggestion.
    pub cosign_days: i64,
    /// The most co-signers a lead member may invite to one suggestion.
    pub cosign_max: usize,
}

/// A reply class (答复分类): a short code and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyClass {
    pub code: String,
    pub label: String,
}

impl Workflow {
    pub fn reply_classes(&self) -> Vec<ReplyClass> {
        self.reply_classes
            .iter()
            .filter_map(|c| c.split_once(':'))
            .map(|(code, label)| ReplyClass { code: code.trim().to_string(), label: label.trim().to_string() })
            .collect()
    }
}

/// Settings for consultation topics.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSettings {
    /// The consultation forms (协商形式) a topic can be given, in order (`topics.forms`).
    pub forms: Vec<String>,
}

impl TopicSettings {
    /// The configured form equal to `typed` (trimmed), if there is one.
    pub fn form(&self, typed: &str) -> Option<&str> {
        let typed = typed.trim();
        self.forms.iter().map(|f| f.trim()).find(|f| *f == typed)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSettings {
    pub group_chat_id: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminders {
    pub before_days: i64,
    /// Days before a key suggestion's (重点建言) deadline that its departments are reminded.
    pub key_before_days: i64,
    pub digest_hour: u32,
    pub check_interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub global_per_second: u32,
    pub per_chat_per_second: u32,
    pub concurrency: usize,
    pub max_attempts: i64,
    pub request_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Web {
    pub listen: String,
    pub public_url: String,
    pub secure_cookies: bool,
    pub session_hours: i64,
    /// Password checks per username and per client address in a window (see `auth::login_limits`).
    pub max_failed_logins: u32,
    pub login_window_minutes: i64,
    /// Keys the login limiter holds at most (memory bound).
    pub login_limiter_entries: usize,
    pub trusted_device_days: i64,
    /// Argon2 computations at the same time.
    pub password_concurrency: usize,
    /// A header naming the client's address, believed only from `trusted_proxies`; empty: none.
    pub trusted_proxy_header: String,
    pub trusted_proxies: Vec<String>,
    pub header_read_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    /// Bytes, for forms and API bodies.
    pub max_body_bytes: usize,
    /// Bytes, for file uploads (the roster import).
    pub max_upload_bytes: usize,
    /// Largest document a department attaches to a reply through the API, in MiB (1–50: a bot
    /// may upload at most 50 MB to Telegram, Bot API `sendDocument`).
    #[serde(default = "default_api_max_upload_mb")]
    pub api_max_upload_mb: usize,
}

fn default_api_max_upload_mb() -> usize {
    20
}

/// Telegram's limit for a file a bot uploads, in MiB (Bot API: "up to 50 MB").
pub const TELEGRAM_UPLOAD_MAX_MB: usize = 50;

impl Web {
    /// `api_max_upload_mb` in bytes.
    pub fn api_max_upload_bytes(&self) -> usize {
        self.api_max_upload_mb * 1024 * 1024
    }
}

impl Web {
    /// The trusted proxies' addresses (already checked by `validate`).
    pub fn trusted_proxy_addrs(&self) -> Vec<std::net::IpAddr> {
        self.trusted_proxies.iter().filter_map(|a| a.trim().parse().ok()).collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocaleSettings {
    pub default: String,
    pub follow_telegram_language: bool,
    pub dir: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub format: String,
    pub level: String,
}

/// A setting that is missing or wrong, said so that the person starting jianyan can fix it.
#[derive(Debug, thiserror::Error)]
#[error("setting `{setting}`: {problem}. Fix: {fix}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
    pub fix: String,
}

impl ConfigError {
    fn new(setting: &str, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { setting: setting.into(), problem: problem.into(), fix: fix.into() }
    }
}

/// A secret that never shows up in `Debug` or `Display` output.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Config {
    /// Builds the settings from the defaults, an optional local file's text and environment pairs.
    pub fn from_layers<I>(local: Option<(&Path, &str)>, env: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut table: toml::Table = DEFAULT_TOML.parse().map_err(|e| {
            ConfigError::new("config/default.toml", format!("{e}"), "restore the file from the release")
        })?;
        if let Some((path, text)) = local {
            let name = path.display().to_string();
            let local: toml::Table = text
                .parse()
                .map_err(|e| ConfigError::new(&name, format!("is not valid TOML: {e}"), "correct the file's syntax"))?;
            merge(&mut table, local, "", &name)?;
        }
        for (key, value) in env {
            let Some(rest) = key.strip_prefix(ENV_PREFIX) else { continue };
            if ENV_NOT_SETTINGS.contains(&key.as_str()) {
                continue;
            }
            let Some((section, field)) = rest.split_once("__") else {
                return Err(ConfigError::new(
                    &key,
                    "is not a known environment variable",
                    "name settings as JIANYAN_<SECTION>__<KEY>, e.g. JIANYAN_DATABASE__PATH",
                ));
            };
            let (section, field) = (section.to_ascii_lowercase(), field.to_ascii_lowercase());
            let Some(toml::Value::Table(sect)) = table.get_mut(&section) else {
                return Err(ConfigError::new(
                    &key,
                    format!("there is no section [{section}]"),
                    "check the name against config/default.toml",
                ));
            };
            let Some(old) = sect.get(&field) else {
                return Err(ConfigError::new(
                    &key,
                    format!("there is no setting {section}.{field}"),
                    "check the name against config/default.toml",
                ));
            };
            let new = env_value(old, &value).ok_or_else(|| {
                ConfigError::new(
                    &key,
                    format!("`{value}` is not a valid {}", old.type_str()),
                    format!("give a value of type {}", old.type_str()),
                )
            })?;
            sect.insert(field, new);
        }
        let config: Config = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| {
            ConfigError::new("configuration", e.message().to_string(), "compare with config/default.toml")
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Loads the settings the way `jianyan` does at start-up.
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let env_file = std::env::var_os("JIANYAN_CONFIG").map(PathBuf::from);
        let path = explicit.map(Path::to_path_buf).or(env_file);
        let (path, required) = match path {
            Some(p) => (p, true),
            None => (PathBuf::from("config/local.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(ConfigError::new(
                    &path.display().to_string(),
                    format!("cannot be read: {e}"),
                    "give the path of an existing TOML file",
                ));
            }
        };
        Self::from_layers(text.as_deref().map(|t| (path.as_path(), t)), std::env::vars())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.utc_offset()?;
        let url = self.database.url.trim();
        if !url.is_empty() && !is_postgres_url(url) {
            return Err(ConfigError::new(
                "database.url",
                "names no PostgreSQL database (it must start with postgres://)",
                "use postgres://user:password@host:5432/jianyan, or leave it empty for the SQLite file at database.path",
            ));
        }
        let prefix_ok = !self.references.prefix.is_empty()
            && self.references.prefix.len() <= 8
            && self.references.prefix.chars().all(|c| c.is_ascii_uppercase());
        if !prefix_ok {
            return Err(ConfigError::new(
                "references.prefix",
                format!("`{}` is not 1–8 capital letters", self.references.prefix),
                "use something like \"PD\"",
            ));
        }
        if self.telegram.workers == 0 || self.telegram.workers > 1024 {
            return Err(ConfigError::new(
                "telegram.workers",
                "must be between 1 and 1024",
                "use 32 unless you measured otherwise",
            ));
        }
        if self.telegram.mode == IntakeMode::Webhook {
            let secret = self.telegram.webhook_secret.expose();
            let secret_ok = (1..=256).contains(&secret.len())
                && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !secret_ok {
                return Err(ConfigError::new(
                    "telegram.webhook_secret",
                    "webhook mode needs a secret of 1–256 characters A-Z, a-z, 0-9, _ and -",
                    "set a long random one, e.g. the output of `openssl rand -hex 32`, in JIANYAN_TELEGRAM__WEBHOOK_SECRET",
                ));
            }
            let url_ok = url::Url::parse(&self.telegram.webhook_url)
                .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some());
            if !url_ok {
                return Err(ConfigError::new(
                    "telegram.webhook_url",
                    format!("`{}` is not an address Telegram can post to", self.telegram.webhook_url),
                    "use the public HTTPS address of /telegram/webhook, e.g. https://jianyan.example.org/telegram/webhook",
                ));
            }
        }
        if self.telegram.poll_timeout_secs > 50 {
            return Err(ConfigError::new("telegram.poll_timeout_secs", "Telegram allows at most 50", "use 25"));
        }
        if let Err(e) = url::Url::parse(&self.telegram.api_url) {
            return Err(ConfigError::new(
                "telegram.api_url",
                format!("`{}` is not a URL ({e})", self.telegram.api_url),
                "use https://api.telegram.org/",
            ));
        }
        if self.invites.ttl_days < 1 {
            return Err(ConfigError::new("invites.ttl_days", "must be at least 1", "use 14"));
        }
        let l = &self.limits;
        if l.title_max_chars == 0
            || l.point_max_chars == 0
            || l.point_max_chars > 3500
            || l.max_points == 0
            || l.my_list_size == 0
            || l.my_list_size > 50
        {
            return Err(ConfigError::new(
                "limits",
                "a limit is 0 or too large (point_max_chars ≤ 3500, my_list_size ≤ 50)",
                "compare with config/default.toml",
            ));
        }
        let w = &self.workflow;
        let classes = w.reply_classes();
        let codes_ok = classes
            .iter()
            .all(|c| !c.code.is_empty() && c.code.len() <= 8 && c.code.chars().all(|ch| ch.is_ascii_alphanumeric()));
        if classes.len() != w.reply_classes.len() || classes.len() < 2 || !codes_ok {
            return Err(ConfigError::new(
                "workflow.reply_classes",
                "each entry must be \"CODE:label\" with a short letter or digit code, at least two",
                "use [\"A:已解决或基本解决/采纳\", \"B:正在解决或列入计划\", \"C:因条件限制暂时不能解决\", \"D:留作参考\"]",
            ));
        }
        if w.deadline_months == 0 || w.deadline_months > 24 || w.reopen_days < 1 {
            return Err(ConfigError::new(
                "workflow",
                "deadline_months must be 1–24 and reopen_days at least 1",
                "use 3 and 30",
            ));
        }
        if !(1..=90).contains(&w.cosign_days) || !(1..=50).contains(&w.cosign_max) {
            return Err(ConfigError::new("workflow", "cosign_days must be 1–90 and cosign_max 1–50", "use 7 and 10"));
        }
        let r = &self.reminders;
        if r.digest_hour > 23 || r.before_days < 0 || r.key_before_days < r.before_days || r.check_interval_secs == 0 {
            return Err(ConfigError::new(
                "reminders",
                "digest_hour must be 0–23, before_days ≥ 0, key_before_days ≥ before_days, check_interval_secs ≥ 1",
                "use 9, 7, 14 and 60",
            ));
        }
        let forms = &self.topics.forms;
        let mut seen = std::collections::HashSet::new();
        if forms.is_empty()
            || !forms.iter().all(|f| {
                let f = f.trim();
                !f.is_empty() && f.chars().count() <= 50 && seen.insert(f)
            })
        {
            return Err(ConfigError::new(
                "topics.forms",
                "list at least one form, each 1–50 characters, none twice",
                "compare with config/default.toml",
            ));
        }
        let d = &self.delivery;
        if d.global_per_second == 0
            || d.per_chat_per_second == 0
            || d.concurrency == 0
            || d.max_attempts < 1
            || d.request_timeout_secs == 0
        {
            return Err(ConfigError::new(
                "delivery",
                "every delivery setting must be at least 1",
                "use 30, 1, 8, 5 and 20",
            ));
        }
        if self.web.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::new(
                "web.listen",
                format!("`{}` is not an address like 127.0.0.1:8080", self.web.listen),
                "use 127.0.0.1:8080, or 0.0.0.0:8080 to listen on every interface",
            ));
        }
        if self.web.session_hours < 1 || self.web.max_failed_logins == 0 {
            return Err(ConfigError::new(
                "web",
                "session_hours and max_failed_logins must be at least 1",
                "use 12 and 5",
            ));
        }
        let w = &self.web;
        if w.login_window_minutes < 1
            || w.login_limiter_entries < 100
            || w.trusted_device_days < 1
            || w.password_concurrency == 0
            || w.header_read_timeout_secs == 0
            || w.request_timeout_secs == 0
            || w.max_connections == 0
            || w.max_connections_per_address == 0
            || w.max_body_bytes < 1024
            || w.max_upload_bytes < w.max_body_bytes
        {
            return Err(ConfigError::new(
                "web",
                "a login or connection limit is 0 or too small (login_limiter_entries ≥ 100, max_body_bytes ≥ 1024, max_upload_bytes ≥ max_body_bytes)",
                "compare with config/default.toml",
            ));
        }
        if w.api_max_upload_mb == 0 || w.api_max_upload_mb > TELEGRAM_UPLOAD_MAX_MB {
            return Err(ConfigError::new(
                "web.api_max_upload_mb",
                format!("must be between 1 and {TELEGRAM_UPLOAD_MAX_MB} (Telegram takes files up to 50 MB from a bot)"),
                "e.g. api_max_upload_mb = 20",
            ));
        }
        if let Some(bad) = w.trusted_proxies.iter().find(|a| a.trim().parse::<std::net::IpAddr>().is_err()) {
            return Err(ConfigError::new(
                "web.trusted_proxies",
                format!("`{bad}` is not an IP address"),
                "list the reverse proxies' addresses, e.g. [\"127.0.0.1\"]",
            ));
        }
        let header_ok = w.trusted_proxy_header.is_empty()
            || axum::http::HeaderName::from_bytes(w.trusted_proxy_header.as_bytes()).is_ok();
        if !header_ok || (!w.trusted_proxy_header.is_empty() && w.trusted_proxies.is_empty()) {
            return Err(ConfigError::new(
                "web.trusted_proxy_header",
                format!("`{}` is not a header name, or web.trusted_proxies is empty", w.trusted_proxy_header),
                "use X-Forwarded-For and list the proxies in web.trusted_proxies, or leave both empty",
            ));
        }
        if !["zh-CN", "en"].contains(&self.locale.default.as_str()) {
            return Err(ConfigError::new(
                "locale.default",
                format!("`{}` is not a language we have", self.locale.default),
                "use zh-CN or en",
            ));
        }
        if !["text", "json"].contains(&self.log.format.as_str()) {
            return Err(ConfigError::new(
                "log.format",
                format!("`{}` is neither text nor json", self.log.format),
                "use text or json",
            ));
        }
        Ok(())
    }

    pub fn utc_offset(&self) -> Result<FixedOffset, ConfigError> {
        parse_offset(&self.general.utc_offset).ok_or_else(|| {
            ConfigError::new(
                "general.utc_offset",
                format!("`{}` is not an offset like +08:00", self.general.utc_offset),
                "use +08:00 for China",
            )
        })
    }

    /// The offset, already checked by `validate`.
    pub fn offset(&self) -> FixedOffset {
        self.utc_offset().unwrap_or_else(|_| FixedOffset::east_opt(8 * 3600).expect("valid offset"))
    }

    /// The Bot API base URL: `TELOXIDE_API_URL` from `env` when set, otherwise `telegram.api_url`.
    pub fn api_url(&self, teloxide_api_url: Option<String>) -> Result<url::Url, ConfigError> {
        let (name, raw) = match teloxide_api_url.filter(|v| !v.is_empty()) {
            Some(v) => ("TELOXIDE_API_URL", v),
            None => ("telegram.api_url", self.telegram.api_url.clone()),
        };
        url::Url::parse(&raw)
            .map_err(|e| ConfigError::new(name, format!("`{raw}` is not a URL ({e})"), "use https://api.telegram.org/"))
    }

    /// The bot token from `JIANYAN_BOT_TOKEN` or `telegram.token_file`.
    pub fn bot_token(&self, env_token: Option<String>) -> Result<Secret, ConfigError> {
        if let Some(token) = env_token.filter(|t| !t.trim().is_empty()) {
            return check_token("JIANYAN_BOT_TOKEN", token.trim());
        }
        if !self.telegram.token_file.is_empty() {
            let text = std::fs::read_to_string(&self.telegram.token_file).map_err(|e| {
                ConfigError::new(
                    "telegram.token_file",
                    format!("`{}` cannot be read: {e}", self.telegram.token_file),
                    "point it at a file that holds only the bot token",
                )
            })?;
            return check_token("telegram.token_file", text.trim());
        }
        Err(ConfigError::new(
            "JIANYAN_BOT_TOKEN",
            "no Telegram bot token is configured",
            "create a bot with @BotFather and start jianyan with JIANYAN_BOT_TOKEN=<token>, or name a file holding it in telegram.token_file",
        ))
    }
}

fn check_token(setting: &str, token: &str) -> Result<Secret, ConfigError> {
    let ok = token
        .split_once(':')
        .is_some_and(|(id, rest)| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) && !rest.is_empty());
    if ok {
        Ok(Secret::new(token))
    } else {
        Err(ConfigError::new(
            setting,
            "does not look like a bot token (digits, a colon, then letters)",
            "copy the token exactly as @BotFather gave it",
        ))
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// Merges `over` into `base`, refusing keys the defaults do not have.
fn merge(base: &mut toml::Table, over: toml::Table, prefix: &str, file: &str) -> Result<(), ConfigError> {
    for (key, value) in over {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o, &path, file)?,
            (Some(old), value) if std::mem::discriminant(old) == std::mem::discriminant(&value) => *old = value,
            (Some(old), _) => {
                return Err(ConfigError::new(
                    &path,
                    format!("in {file} must be a {}", old.type_str()),
                    "compare with config/default.toml",
                ));
            }
            (None, _) => {
                return Err(ConfigError::new(
                    &path,
                    format!("in {file} is not a known setting"),
                    "remove it or check its spelling against config/default.toml",
                ));
            }
        }
    }
    Ok(())
}

fn env_value(old: &toml::Value, raw: &str) -> Option<toml::Value> {
    Some(match old {
        toml::Value::String(_) => toml::Value::String(raw.to_string()),
        toml::Value::Integer(_) => toml::Value::Integer(raw.trim().parse().ok()?),
        toml::Value::Boolean(_) => toml::Value::Boolean(match raw.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return None,
        }),
        toml::Value::Float(_) => toml::Value::Float(raw.trim().parse().ok()?),
        // A list of texts, comma-separated: JIANYAN_WEB__TRUSTED_PROXIES=10.0.0.1,10.0.0.2
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| toml::Value::String(s.into())).collect(),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_load_and_validate() {
        let c = Config::from_layers(None, env(&[])).unwrap();
        assert_eq!(c.references.prefix, "PD");
        assert_eq!(c.offset().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn local_file_and_env_override_in_that_order() {
        let local = "[references]\nprefix = \"XH\"\n[telegram]\nworkers = 4\n";
        let c = Config::from_layers(
            Some((Path::new("local.toml"), local)),
            env(&[("JIANYAN_TELEGRAM__WORKERS", "8"), ("OTHER", "x")]),
        )
        .unwrap();
        assert_eq!(c.references.prefix, "XH");
        assert_eq!(c.telegram.workers, 8);
    }

    #[test]
    fn errors_name_the_setting_and_the_fix() {
        let e = Config::from_layers(None, env(&[("JIANYAN_TELEGRAM__WORKERS", "many")])).unwrap_err();
        assert_eq!(e.setting, "JIANYAN_TELEGRAM__WORKERS");
        let e = Config::from_layers(Some((Path::new("l.toml"), "[database]\npaht = \"x\"\n")), env(&[])).unwrap_err();
        assert_eq!(e.setting, "database.paht");
        assert!(e.to_string().contains("spelling"), "{e}");
        let e = Config::from_layers(None, env(&[("JIANYAN_REFERENCES__PREFIX", "pd-1")])).unwrap_err();
        assert_eq!(e.setting, "references.prefix");
        let e = Config::from_layers(None, env(&[("JIANYAN_GENERAL__UTC_OFFSET", "8")])).unwrap_err();
        assert_eq!(e.setting, "general.utc_offset");
    }

    #[test]
    fn topic_forms_and_key_reminders_are_checked() {
        let c = Config::from_layers(None, env(&[])).unwrap();
        assert_eq!(c.topics.forms.len(), 11);
        assert_eq!(c.topics.form(" 专题协商会 "), Some("专题协商会"));
        assert_eq!(c.topics.form("圆桌会"), None);
        assert!(c.reminders.key_before_days >= c.reminders.before_days);
        let twice = "[topics]\nforms = [\"专题协商会\", \"专题协商会\"]\n";
        let e = Config::from_layers(Some((Path::new("l.toml"), twice)), env(&[])).unwrap_err();
        assert_eq!(e.setting, "topics.forms");
        let empty = "[topics]\nforms = []\n";
        assert_eq!(
            Config::from_layers(Some((Path::new("l.toml"), empty)), env(&[])).unwrap_err().setting,
            "topics.forms"
        );
        let e = Config::from_layers(None, env(&[("JIANYAN_REMINDERS__KEY_BEFORE_DAYS", "3")])).unwrap_err();
        assert_eq!(e.setting, "reminders");
    }

    #[test]
    fn token_comes_from_env_and_never_prints() {
        let c = Config::from_layers(None, env(&[])).unwrap();
        let e = c.bot_token(None).unwrap_err();
        assert_eq!(e.setting, "JIANYAN_BOT_TOKEN");
        assert!(c.bot_token(Some("not a token".into())).is_err());
        let t = c.bot_token(Some("123456:ABC-def".into())).unwrap();
        assert_eq!(t.expose(), "123456:ABC-def");
        assert!(!format!("{t:?} {t}").contains("ABC"));
    }

    #[test]
    fn teloxide_api_url_wins() {
        let c = Config::from_layers(None, env(&[])).unwrap();
        assert_eq!(c.api_url(Some("http://127.0.0.1:9/".into())).unwrap().as_str(), "http://127.0.0.1:9/");
        assert_eq!(c.api_url(None).unwrap().as_str(), "https://api.telegram.org/");
    }
}
