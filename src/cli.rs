//! The admin command line: roster import, invites, topics, workstations. Each returns what to print.

use std::path::Path;

use chrono::{Duration, NaiveDate, TimeZone};

use crate::accounts;
use crate::app::App;
use crate::backup::{BackupError, LockError};
use crate::config::Config;
use crate::domain::{MemberNo, TopicClass};
use crate::invite;
use crate::locale::{Lang, Texts};
use crate::roster;
use crate::store::{InviteTarget, NewTopic, NewUser, Role};
use crate::transfer::TransferError;

/// A command's outcome: the text to print, and whether it succeeded.
#[derive(Debug)]
pub struct Outcome {
    pub ok: bool,
    pub text: String,
}

impl Outcome {
    fn ok(text: String) -> Self {
        Self { ok: true, text }
    }
    fn failed(text: String) -> Self {
        Self { ok: false, text }
    }
}

fn lang(app: &App) -> Lang {
    Lang::parse(&app.config.locale.default).unwrap_or(Lang::Zh)
}

/// Roster rows imported per store call, between updates of the progress bar.
const IMPORT_CHUNK_ROWS: usize = 500;

/// A progress bar of `len` steps labelled `message`, drawn on stderr only when stderr is a
/// terminal (indicatif hides it otherwise), so piped or redirected output stays clean.
fn progress_bar(len: usize, message: String) -> indicatif::ProgressBar {
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = indicatif::ProgressBar::with_draw_target(Some(len as u64), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(style);
    bar.set_message(message);
    bar
}

pub async fn members_import(app: &App, file: &Path, skip_invalid: bool) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let parsed = roster::parse(&bytes);
    let mut text = String::new();
    if !parsed.errors.is_empty() {
        let file_level = parsed.rows.is_empty();
        let key = if skip_invalid && !file_level { "cli.import_skipped" } else { "cli.import_failed" };
        text.push_str(&texts.t(lang, key, &[("count", &parsed.errors.len())]));
        for e in &parsed.errors {
            text.push_str("\n  ");
            text.push_str(&e.render(texts, lang));
        }
        if !skip_invalid || file_level {
            // --skip-invalid helps only when some rows are good and it was not given already.
            let hint = if skip_invalid || file_level { "cli.import_fix" } else { "cli.import_hint" };
            text.push('\n');
            text.push_str(&texts.t(lang, hint, &[]));
            return Ok(Outcome::failed(text));
        }
        text.push('\n');
    }
    // A roster of 100,000 takes a while: a bar on the terminal, nothing when piped.
    let bar = progress_bar(parsed.rows.len(), texts.t(lang, "cli.import_progress", &[]));
    let mut summary = crate::store::ImportSummary::default();
    for chunk in parsed.rows.chunks(IMPORT_CHUNK_ROWS) {
        let part = app.store.import_members(chunk, app.clock.now()).await?;
        summary.inserted += part.inserted;
        summary.updated += part.updated;
        summary.workstations_created += part.workstations_created;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    text.push_str(&texts.t(
        lang,
        "cli.import_done",
        &[
            ("inserted", &summary.inserted),
            ("updated", &summary.updated),
            ("workstations", &summary.workstations_created),
        ],
    ));
    Ok(Outcome::ok(text))
}

/// Creates an invite code for a member; `bot_username` is for the deep link, when known.
pub async fn members_invite(app: &App, member_no: &str, bot_username: Option<&str>) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let member = match MemberNo::parse(member_no) {
        Some(no) => app.store.member_by_no(&no).await?,
        None => None,
    };
    let Some(member) = member else {
        return Ok(Outcome::failed(texts.t(lang, "cli.member_not_found", &[("member_no", &member_no)])));
    };
    let who = format!("{}（{}）", member.name, member.member_no);
    invite_for(app, InviteTarget::Member(member.id), &who, bot_username).await
}

/// Lists the members who blocked the bot.
pub async fn members_unreachable(app: &App) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let members = app.store.unreachable_members().await?;
    if members.is_empty() {
        return Ok(Outcome::ok(texts.t(lang, "cli.unreachable_none", &[])));
    }
    let offset = app.config.offset();
    let mut text = texts.t(lang, "cli.unreachable_header", &[("count", &members.len())]);
    for (m, since) in &members {
        let since = since.with_timezone(&offset).format("%Y-%m-%d %H:%M");
        let workstation = m.workstation.as_deref().unwrap_or("-");
        text.push_str(&format!("\n{} {} {} {} {since}", m.member_no, m.name, workstation, m.phone));
    }
    Ok(Outcome::ok(text))
}

/// Creates a console account.
pub async fn users_add(
    app: &App,
    role: &str,
    username: &str,
    name: &str,
    department: Option<&str>,
    password: &str,
) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let Some(role) = Role::parse(role.trim()) else {
        return Ok(Outcome::failed(texts.t(lang, "cli.bad_role", &[("value", &role)])));
    };
    let username = username.trim();
    let username_ok = (2..=32).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !username_ok {
        return Ok(Outcome::failed(texts.t(lang, "cli.bad_username", &[])));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Ok(Outcome::failed(texts.t(lang, "cli.bad_name", &[])));
    }
    let department_id = match (role, department.map(str::trim).filter(|d| !d.is_empty())) {
        (Role::Department, Some(d)) => match app.store.department_by_name(d).await? {
            Some(dep) => Some(dep.id),
            None => return Ok(Outcome::failed(texts.t(lang, "cli.department_not_found", &[("name", &d)]))),
        },
        (Role::Department, None) => return Ok(Outcome::failed(texts.t(lang, "cli.department_needed", &[]))),
        (_, Some(_)) => return Ok(Outcome::failed(texts.t(lang, "cli.department_only_for_departments", &[]))),
        (_, None) => None,
    };
    if !accounts::password_is_acceptable(password) {
        return Ok(Outcome::failed(texts.t(lang, "cli.weak_password", &[])));
    }
    // Argon2 is CPU work: off the async threads.
    let password_hash = accounts::hash_password_blocking(password).await?;
    let new = NewUser { username: username.to_string(), name: name.to_string(), role, department_id, password_hash };
    match app.store.add_user(new, app.clock.now()).await? {
        Some(user) => Ok(Outcome::ok(texts.t(
            lang,
            "cli.user_added",
            &[("username", &user.username), ("role", &texts.t(lang, &format!("cli.role_{}", role.as_str()), &[]))],
        ))),
        None => Ok(Outcome::failed(texts.t(lang, "cli.username_taken", &[("username", &username)]))),
    }
}

/// Creates a staff account and its invite code.
pub async fn staff_invite(app: &App, name: &str, bot_username: Option<&str>) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Ok(Outcome::failed(texts.t(lang, "cli.bad_name", &[])));
    }
    let staff = app.store.add_staff(name, app.clock.now()).await?;
    let who = texts.t(lang, "cli.who_staff", &[("name", &staff.name)]);
    invite_for(app, InviteTarget::Staff(staff.id), &who, bot_username).await
}

pub async fn departments_add(app: &App, name: &str, short: Option<&str>) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Ok(Outcome::failed(texts.t(lang, "cli.bad_name", &[])));
    }
    let short = short.map(str::trim).filter(|s| !s.is_empty());
    let department = app.store.add_department(name, short).await?;
    Ok(Outcome::ok(texts.t(lang, "cli.department_added", &[("id", &department.id), ("name", &department.name)])))
}

pub async fn departments_list(app: &App) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let departments = app.store.departments().await?;
    if departments.is_empty() {
        return Ok(Outcome::ok(texts.t(lang, "cli.departments_empty", &[])));
    }
    let lines: Vec<String> = departments
        .iter()
        .map(|d| {
            format!(
                "#{:<4} {}{}",
                d.id,
                d.name,
                d.short_name.as_deref().map(|s| format!("（{s}）")).unwrap_or_default()
            )
        })
        .collect();
    Ok(Outcome::ok(lines.join("\n")))
}

/// Creates a liaison account for a department (by name or short name) and its invite code.
pub async fn departments_invite(
    app: &App,
    department: &str,
    name: Option<&str>,
    bot_username: Option<&str>,
) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let Some(department) = app.store.department_by_name(department.trim()).await? else {
        return Ok(Outcome::failed(texts.t(lang, "cli.department_not_found", &[("name", &department)])));
    };
    let default_name = texts.t(lang, "cli.default_liaison_name", &[]);
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&default_name);
    let liaison = app.store.add_liaison(department.id, name, app.clock.now()).await?;
    let who = texts.t(lang, "cli.who_liaison", &[("name", &liaison.name), ("department", &department.name)]);
    invite_for(app, InviteTarget::Liaison(liaison.id), &who, bot_username).await
}

async fn invite_for(app: &App, target: InviteTarget, who: &str, bot_username: Option<&str>) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let code = invite::generate(&mut rand::thread_rng());
    let now = app.clock.now();
    let expires = now + Duration::days(app.config.invites.ttl_days);
    app.store.create_invite_for(target, &invite::hash(&code), now, expires).await?;
    let link = match bot_username {
        Some(username) => invite::deep_link(username, &code),
        None => texts.t(lang, "cli.invite_no_link", &[]),
    };
    let expires = expires.with_timezone(&app.config.offset()).format("%Y-%m-%d %H:%M");
    let text =
        texts.t(lang, "cli.invite_done", &[("who", &who), ("expires", &expires), ("code", &code), ("link", &link)]);
    Ok(Outcome::ok(text))
}

pub struct TopicArgs {
    pub title: String,
    pub class: String,
    pub description: String,
    pub form: String,
    pub closes: Option<String>,
    pub pin: bool,
}

pub async fn topics_add(app: &App, args: TopicArgs) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let title = args.title.trim();
    if title.is_empty() {
        return Ok(Outcome::failed(texts.t(lang, "cli.empty_title", &[])));
    }
    let Some(class) = TopicClass::parse(&args.class) else {
        return Ok(Outcome::failed(texts.t(lang, "cli.bad_class", &[("value", &args.class)])));
    };
    let form = args.form.trim();
    let form = if form.is_empty() {
        ""
    } else if let Some(known) = app.config.topics.form(form) {
        known
    } else {
        let allowed = app.config.topics.forms.join("、");
        return Ok(Outcome::failed(texts.t(lang, "cli.bad_form", &[("value", &form), ("allowed", &allowed)])));
    };
    let closes_at = match &args.closes {
        None => None,
        Some(raw) => match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
            // Open through the whole closing day, local time.
            Ok(date) => app
                .config
                .offset()
                .from_local_datetime(&date.succ_opt().unwrap_or(date).and_hms_opt(0, 0, 0).expect("midnight exists"))
                .single()
                .map(|t| t.with_timezone(&chrono::Utc)),
            Err(_) => {
                let example = crate::context::date_example(&app.config, app.clock.now());
                return Ok(Outcome::failed(texts.t(lang, "cli.bad_date", &[("value", raw), ("example", &example)])));
            }
        },
    };
    let topic = NewTopic {
        title: title.to_string(),
        description: args.description.trim().to_string(),
        class,
        form: form.to_string(),
        closes_at,
        pinned: args.pin,
    };
    let topic = app.store.add_topic(topic, app.clock.now()).await?;
    Ok(Outcome::ok(texts.t(
        lang,
        "cli.topic_added",
        &[("id", &topic.id), ("title", &topic.title), ("class", &topic.class)],
    )))
}

pub async fn topics_list(app: &App) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let topics = app.store.topics().await?;
    if topics.is_empty() {
        return Ok(Outcome::ok(texts.t(lang, "cli.topics_empty", &[])));
    }
    let offset = app.config.offset();
    let now = app.clock.now();
    let lines: Vec<String> = topics
        .iter()
        .map(|t| {
            let closes = t
                .closes_at
                .map(|c| (c - Duration::seconds(1)).with_timezone(&offset).format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "-".into());
            let status = if t.is_open(now) {
                t.status.label()
            } else if t.status == crate::domain::TopicStatus::Open {
                "已截止"
            } else {
                t.status.label()
            };
            format!(
                "#{:<4} {}{} | {} | {} | {} | {}",
                t.id,
                if t.pinned { "📌 " } else { "" },
                t.title,
                t.class,
                t.form,
                status,
                closes
            )
        })
        .collect();
    Ok(Outcome::ok(lines.join("\n")))
}

pub async fn topics_close(app: &App, id: i64) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    if app.store.close_topic(id, app.clock.now()).await? {
        Ok(Outcome::ok(texts.t(lang, "cli.topic_closed", &[("id", &id)])))
    } else {
        Ok(Outcome::failed(texts.t(lang, "cli.topic_not_found", &[("id", &id)])))
    }
}

/// Imports workstations from a CSV with columns `name,kind` (like shared/data/pudong-workstations.csv).
pub async fn workstations_import(app: &App, file: &Path) -> anyhow::Result<Outcome> {
    let (texts, lang) = (&app.texts, lang(app));
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let name = record.get(0).unwrap_or_default().to_string();
        if !name.is_empty() {
            rows.push((name, record.get(1).unwrap_or_default().to_string()));
        }
    }
    app.store.upsert_workstations(&rows).await?;
    Ok(Outcome::ok(texts.t(lang, "cli.workstations_done", &[("count", &rows.len())])))
}

/// `jianyan backup FILE`: a consistent copy of the live SQLite database (`backup::backup`).
pub async fn backup(config: &Config, texts: &Texts, file: &Path) -> Outcome {
    let lang = Lang::parse(&config.locale.default).unwrap_or(Lang::Zh);
    match crate::backup::backup(config, file).await {
        Ok(c) => Outcome::ok(texts.t(
            lang,
            "cli.backup_done",
            &[
                ("file", &c.path.display()),
                ("size", &megabytes(c.bytes)),
                ("members", &c.members),
                ("suggestions", &c.suggestions),
            ],
        )),
        Err(e) => Outcome::failed(backup_error(texts, lang, e)),
    }
}

/// `jianyan restore FILE`: replaces the SQLite database with a backup (`backup::restore`).
pub async fn restore(config: &Config, texts: &Texts, file: &Path) -> Outcome {
    let lang = Lang::parse(&config.locale.default).unwrap_or(Lang::Zh);
    match crate::backup::restore(config, file, chrono::Utc::now()).await {
        Ok((kept, c)) => {
            let mut text = texts.t(
                lang,
                "cli.restore_done",
                &[("database", &c.path.display()), ("members", &c.members), ("suggestions", &c.suggestions)],
            );
            if let Some(kept) = kept {
                text.push('\n');
                text.push_str(&texts.t(lang, "cli.restore_kept", &[("file", &kept.display())]));
            }
            Outcome::ok(text)
        }
        Err(e) => Outcome::failed(backup_error(texts, lang, e)),
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1_048_576.0)
}

/// A backup or restore error in the admin's language.
fn backup_error(texts: &Texts, lang: Lang, e: BackupError) -> String {
    match e {
        BackupError::Postgres => texts.t(lang, "cli.backup_postgres", &[]),
        BackupError::NoDatabase(path) => texts.t(lang, "cli.backup_no_database", &[("path", &path)]),
        BackupError::Exists(file) => texts.t(lang, "cli.backup_exists", &[("file", &file)]),
        BackupError::NotADatabase { file, why } => {
            texts.t(lang, "cli.backup_not_database", &[("file", &file), ("why", &why)])
        }
        BackupError::Newer { file, found, known } => {
            texts.t(lang, "cli.backup_newer", &[("file", &file), ("found", &found), ("known", &known)])
        }
        BackupError::Running(LockError::Running { database, pid }) => {
            texts.t(lang, "cli.backup_running", &[("database", &database), ("pid", &pid)])
        }
        e @ (BackupError::Running(LockError::Io { .. }) | BackupError::Io(_)) => {
            texts.t(lang, "cli.backup_failed", &[("error", &e)])
        }
    }
}

/// `jianyan migrate-data --to URL`: copies the SQLite installation into PostgreSQL
/// (`transfer::migrate_data`) and lists what arrived.
pub async fn migrate_data(config: &Config, texts: &Texts, to: &str) -> Outcome {
    let lang = Lang::parse(&config.locale.default).unwrap_or(Lang::Zh);
    match crate::transfer::migrate_data(config, to).await {
        Ok(moved) => {
            let total: i64 = moved.tables.iter().map(|(_, n)| n).sum();
            let mut text = texts.t(
                lang,
                "cli.migrate_data_done",
                &[("url", &crate::config::redact_password(to)), ("tables", &moved.tables.len()), ("rows", &total)],
            );
            for (table, rows) in moved.tables.iter().filter(|(_, n)| *n > 0) {
                text.push_str(&format!("\n  {table}: {rows}"));
            }
            text.push('\n');
            text.push_str(&texts.t(lang, "cli.migrate_data_next", &[("url", &crate::config::redact_password(to))]));
            Outcome::ok(text)
        }
        Err(TransferError::Running(LockError::Running { database, pid })) => {
            Outcome::failed(texts.t(lang, "cli.migrate_data_running", &[("database", &database), ("pid", &pid)]))
        }
        Err(TransferError::NotEmpty { url, table, rows }) => Outcome::failed(texts.t(
            lang,
            "cli.migrate_data_not_empty",
            &[("url", &url), ("table", &table), ("rows", &rows)],
        )),
        Err(e) => Outcome::failed(texts.t(lang, "cli.migrate_data_failed", &[("error", &e)])),
    }
}

#[cfg(test)]
mod tests {
    use std::io::IsTerminal;

    /// Piped or redirected (as under CI), the import prints no bar; on a terminal it does.
    #[test]
    fn the_progress_bar_draws_only_on_a_terminal() {
        let bar = super::progress_bar(10, "导入".into());
        assert_eq!(bar.is_hidden(), !std::io::stderr().is_terminal());
    }
}
