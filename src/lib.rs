//! jianyan (建言): committee members send suggestions from Telegram and hear back.
//!
//! The feature modules, each with one job:
//! - `dialog`: the member dialog, plain Rust (registration, the guided suggestion, /my, /topics).
//! - `conversation`: what a typed message means for every channel (commands, menu keys).
//! - `choice`: what a person can choose under a reply, as typed ids (channels encode them).
//! - `bot`: the Telegram adapter — durable intake, per-chat workers, sending.
//! - `store`: the data-access interface and its SQLite implementation.
//! - `roster`: importing the member roster from CSV.
//! - `invite`: one-time invite codes.
//! - `letter`: a reply letter's (答复函) fields, checked once; `documents`: printable Word files.
//! - `bounds`: refused control and text-direction characters, and cutting free text to size.
//! - `accounts`: console accounts' password hashes and strength rule (CLI and web).
//! - `outreach`: broadcast rules shared by the bot's and the console's composers.
//! - `config`, `locale`, `logging`, `clock`: settings, texts, logs and time, all passed in.

pub mod accounts;
pub mod app;
pub mod backup;
pub mod bot;
pub mod bounds;
pub mod choice;
pub mod cli;
pub mod clock;
pub mod config;
pub mod context;
pub mod conversation;
pub mod dialog;
pub mod documents;
pub mod domain;
pub mod figures;
pub mod invite;
pub mod letter;
pub mod locale;
pub mod logging;
pub mod outreach;
pub mod reminders;
pub mod reply;
pub mod roster;
pub mod similar;
pub mod store;
pub mod transfer;
pub mod web;
pub mod workflow;
