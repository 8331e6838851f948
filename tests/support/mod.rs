//! Test support: a fake Telegram Bot API server and a harness that runs the real bot against it.
#![allow(dead_code)]

pub mod console;
pub mod fake_telegram;
pub mod harness;
pub mod transcript;
pub mod xlsx;
