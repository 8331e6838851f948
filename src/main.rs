//! The `jianyan` command: runs the bot, and the admin commands for roster, invites and topics.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use jianyan::app::App;
use jianyan::cli::{self, Outcome, TopicArgs};
use jianyan::clock::SystemClock;
use jianyan::config::Config;
use jianyan::web::{self, WebState};
use jianyan::{bot, logging};
use teloxide::requests::Requester;

#[derive(Parser)]
#[command(name = "jianyan", version, about = "建言: committee members send suggestions from Telegram and hear back")]
struct Cli {
    /// A TOML file overriding config/default.toml (default: config/local.toml if it exists).
    #[arg(long, global = true, env = "JIANYAN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Telegram bot and its workers until SIGINT or SIGTERM.
    Run,
    /// Create the database or bring its schema up to date.
    Migrate,
    /// Copy the live SQLite database to FILE, consistent as of one moment, while the service runs.
    Backup { file: PathBuf },
    /// Replace the SQLite database with the backup FILE (refused while `jianyan run` runs).
    Restore { file: PathBuf },
    /// Copy this installation's SQLite database into an empty PostgreSQL database, then check it.
    MigrateData {
        /// The PostgreSQL database: postgres://user:password@host:5432/name
        #[arg(long)]
        to: String,
    },
    /// The member roster.
    #[command(subcommand)]
    Members(Members),
    /// Consultation topics.
    #[command(subcommand)]
    Topics(Topics),
    /// Member workstations (委员工作站).
    #[command(subcommand)]
    Workstations(Workstations),
    /// Committee office staff accounts.
    #[command(subcommand)]
    Staff(StaffCmd),
    /// Departments (承办单位) and their liaisons.
    #[command(subcommand)]
    Departments(Departments),
    /// Accounts for the web console.
    #[command(subcommand)]
    Users(Users),
}

#[derive(Subcommand)]
enum Users {
    /// Create a console account. The password is read from JIANYAN_NEW_PASSWORD or, if that is
    /// not set, from the first line of standard input.
    Add {
        /// admin | staff | department
        #[arg(long)]
        role: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// For department accounts: the department's name or short name.
        #[arg(long)]
        department: Option<String>,
    },
}

#[derive(Subcommand)]
enum StaffCmd {
    /// Create a staff account and print its one-time invite code and deep link.
    Invite { name: String },
}

#[derive(Subcommand)]
enum Departments {
    /// Add a department (or update its short name).
    Add {
        name: String,
        /// A short name staff can also use, e.g. 区发改委.
        #[arg(long)]
        short: Option<String>,
    },
    /// List the departments.
    List,
    /// Create a liaison account for a department and print its invite code and deep link.
    Invite {
        /// The department's name or short name.
        department: String,
        /// The liaison's name.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum Members {
    /// Import or update members from a CSV: member_no,name,level,workstation,sector,phone.
    Import {
        file: PathBuf,
        /// Import the valid rows even if some rows have problems.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Print a one-time invite code and deep link for a member.
    Invite { member_no: String },
    /// List the members who blocked the bot (pushes cannot reach them).
    Unreachable,
}

#[derive(Subcommand)]
enum Topics {
    /// Publish a consultation topic.
    Add {
        #[arg(long)]
        title: String,
        /// 规划计划类 | 重大工作决策类 | 民生实事类 | 立法类
        #[arg(long)]
        class: String,
        #[arg(long, default_value = "")]
        description: String,
        /// The consultation form, one of `topics.forms` (e.g. 专题协商会); empty for none.
        #[arg(long, default_value = "")]
        form: String,
        /// Last day members can answer (YYYY-MM-DD, local time).
        #[arg(long)]
        closes: Option<String>,
        /// Make it the pinned topic (第一协商议题), shown first.
        #[arg(long)]
        pin: bool,
    },
    /// List all topics.
    List,
    /// Stop taking suggestions for a topic.
    Close { id: i64 },
}

#[derive(Subcommand)]
enum Workstations {
    /// Import workstations from a CSV with columns name,kind.
    Import { file: PathBuf },
}

fn main() -> ExitCode {
    keep_memory_small();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(start()),
        Err(e) => {
            eprintln!("jianyan cannot start: {e}");
            ExitCode::from(1)
        }
    }
}

/// glibc's allocator raises its mmap threshold to the size of the largest block freed so far (up to
/// 32 MiB): after the first Argon2 hash (19 MiB, `accounts`) every later one would be carved from
/// the heap and kept there, and each thread's arena keeps its own. A fixed threshold returns such
/// blocks to the system when freed, and two arenas bound what idle threads keep
/// (<https://man7.org/linux/man-pages/man3/mallopt.3.html>, `M_MMAP_THRESHOLD`, `M_ARENA_MAX`).
/// Measured in BENCHMARKS.md (memory).
fn keep_memory_small() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator settings; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

async fn start() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("jianyan cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config);
    match run(cli.command, config).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("jianyan: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<bool> {
    let env = |name: &str| std::env::var(name).ok();
    // Check the bot settings before touching the database, so a missing token is said first.
    let bot_settings = || -> anyhow::Result<_> {
        let token = config.bot_token(env("JIANYAN_BOT_TOKEN"))?;
        let url = config.api_url(env("TELOXIDE_API_URL"))?;
        Ok(bot::client(token.expose(), url))
    };
    if let Command::Run = command {
        // Without a token the console still runs, and says how to turn the bot on.
        let client = match bot_settings() {
            Ok(client) => Some(client),
            Err(e) if env("JIANYAN_BOT_TOKEN").is_none() && config.telegram.token_file.is_empty() => {
                tracing::warn!("{e}");
                tracing::warn!("the Telegram bot is off; the web console runs alone");
                None
            }
            Err(e) => return Err(e),
        };
        let listener = tokio::net::TcpListener::bind(&config.web.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {} (setting web.listen): {e}", config.web.listen))?;
        // The address actually served (web.listen may name port 0, or every interface).
        let served = listener.local_addr()?;
        // One service per SQLite file (several share a PostgreSQL database): held until exit.
        let _running = match config.database.postgres_url() {
            Some(_) => None,
            None => Some(jianyan::backup::RunLock::acquire(&config.database.path)?),
        };
        let app = App::open(config, Arc::new(SystemClock)).await?;
        first_admin(&app).await?;
        tracing::info!(
            database = %app.config.database.describe(),
            listening = %served,
            console = %app.config.web.public_url,
            "jianyan is running; stop it with Ctrl-C"
        );
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = tx.send(true);
        });
        let web = tokio::spawn(web::serve(WebState::new(app.clone(), client.is_some()), listener, rx.clone()));
        if let Some(client) = client {
            bot::run(app, client, rx).await?;
        }
        web.await??;
        return Ok(true);
    }
    // Neither opens the database as the other commands do (which would apply migrations to it).
    let outcome = match &command {
        Command::Backup { file } => Some(cli::backup(&config, &jianyan::app::load_texts(&config)?, file).await),
        Command::Restore { file } => Some(cli::restore(&config, &jianyan::app::load_texts(&config)?, file).await),
        Command::MigrateData { to } => Some(cli::migrate_data(&config, &jianyan::app::load_texts(&config)?, to).await),
        _ => None,
    };
    if let Some(outcome) = outcome {
        return Ok(print(outcome));
    }
    let app = App::open(config.clone(), Arc::new(SystemClock)).await?;
    let outcome: Outcome = match command {
        Command::Run | Command::Backup { .. } | Command::Restore { .. } | Command::MigrateData { .. } => {
            unreachable!("handled above")
        }
        Command::Migrate => {
            let path = app.config.database.describe();
            Outcome { ok: true, text: app.texts.t(jianyan::locale::Lang::Zh, "cli.migrated", &[("path", &path)]) }
        }
        Command::Members(Members::Import { file, skip_invalid }) => {
            cli::members_import(&app, &file, skip_invalid).await?
        }
        Command::Members(Members::Invite { member_no }) => {
            cli::members_invite(&app, &member_no, bot_username(&config, bot_settings).await.as_deref()).await?
        }
        Command::Members(Members::Unreachable) => cli::members_unreachable(&app).await?,
        Command::Users(Users::Add { role, username, name, department }) => {
            let password = match env("JIANYAN_NEW_PASSWORD") {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            cli::users_add(&app, &role, &username, &name, department.as_deref(), &password).await?
        }
        Command::Staff(StaffCmd::Invite { name }) => {
            cli::staff_invite(&app, &name, bot_username(&config, bot_settings).await.as_deref()).await?
        }
        Command::Departments(Departments::Add { name, short }) => {
            cli::departments_add(&app, &name, short.as_deref()).await?
        }
        Command::Departments(Departments::List) => cli::departments_list(&app).await?,
        Command::Departments(Departments::Invite { department, name }) => {
            let username = bot_username(&config, bot_settings).await;
            cli::departments_invite(&app, &department, name.as_deref(), username.as_deref()).await?
        }
        Command::Topics(Topics::Add { title, class, description, form, closes, pin }) => {
            cli::topics_add(&app, TopicArgs { title, class, description, form, closes, pin }).await?
        }
        Command::Topics(Topics::List) => cli::topics_list(&app).await?,
        Command::Topics(Topics::Close { id }) => cli::topics_close(&app, id).await?,
        Command::Workstations(Workstations::Import { file }) => cli::workstations_import(&app, &file).await?,
    };
    Ok(print(outcome))
}

/// Prints a command's outcome (errors on stderr); returns whether it succeeded.
fn print(outcome: Outcome) -> bool {
    if outcome.ok {
        println!("{}", outcome.text);
    } else {
        eprintln!("{}", outcome.text);
    }
    outcome.ok
}

/// On the very first start there is no console account: make an `admin` with a random password
/// and print it once on the terminal (not in the log), so the console can be used at once.
async fn first_admin(app: &App) -> anyhow::Result<()> {
    use jianyan::store::{NewUser, Role};
    if app.store.count_admins().await? > 0 {
        return Ok(());
    }
    let password = format!("Jy-{}", &jianyan::accounts::random_token()[..16]);
    let user = NewUser {
        username: "admin".into(),
        name: app.texts.t(app.texts.lang_for(None), "cli.role_admin", &[]),
        role: Role::Admin,
        department_id: None,
        password_hash: jianyan::accounts::hash_password_blocking(&password).await?,
    };
    if app.store.add_user(user, app.clock.now()).await?.is_some() {
        tracing::warn!("created the first console account `admin`; its password is printed on the terminal once");
        eprintln!(
            "\n  ┌ {}\n  │ {} admin\n  │ {} {password}\n  └ {}\n",
            app.config.web.public_url,
            app.texts.t(app.texts.lang_for(None), "web.login.username", &[]),
            app.texts.t(app.texts.lang_for(None), "web.login.password", &[]),
            app.texts.t(app.texts.lang_for(None), "cli.first_admin_hint", &[]),
        );
    }
    Ok(())
}

/// The bot's @username for deep links: from the settings, else asked from Telegram if it can be.
async fn bot_username(config: &Config, client: impl FnOnce() -> anyhow::Result<teloxide::Bot>) -> Option<String> {
    if !config.telegram.bot_username.is_empty() {
        return Some(config.telegram.bot_username.clone());
    }
    let client = client().ok()?;
    match tokio::time::timeout(std::time::Duration::from_secs(10), client.get_me()).await {
        Ok(Ok(me)) => me.user.username.clone(),
        _ => None,
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops jianyan");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
