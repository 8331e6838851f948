//! Test support: a fake Telegram Bot API server, a harness that runs the real bot against it, and fresh PostgreSQL databases.
#![allow(dead_code)]

pub mod console;
pub mod db;
pub mod docx;
pub mod fake_telegram;
pub mod harness;
pub mod postgres;
pub mod transcript;
pub mod xlsx;
