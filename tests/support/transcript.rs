//! Several people's chats with the bot written down step by step as plain text, for snapshot tests.
//!
//! Each step names who acted and shows, person by person, what they sent or pressed (`>> `) and
//! what the bot showed them (`<< `, buttons as `[label]`, the reply keyboard as `⌨ [label]`,
//! notices as `(提示)`/`(弹窗)`, an edit that drops buttons as `(去掉了«message…»的按钮)`).
//! Everything in it is what the person saw: buttons by their label, edited messages by the
//! beginning of their text, no callback data or message ids, and the random invite code of `/start CODE` replaced by `<邀请码>`.

use std::fmt::Write as _;

use regex::Regex;

use super::fake_telegram::{Detail, EntryKind, FakeTelegram, TgUser, TranscriptEntry};

struct Person {
    name: String,
    chat_id: i64,
    /// Entries of this chat already written (or left out because they came before `Transcript::new`).
    seen: usize,
}

pub struct Transcript {
    people: Vec<Person>,
    out: String,
    /// Index of the person whose lines were written last, to write a name only when it changes.
    last_person: Option<usize>,
}

impl Transcript {
    /// Follows `people` (the name the transcript gives them, their Telegram account) from now on:
    /// what they did and saw before is left out.
    pub fn new(fake: &FakeTelegram, people: &[(&str, &TgUser)]) -> Self {
        let people = people
            .iter()
            .map(|(name, user)| Person {
                name: name.to_string(),
                chat_id: user.chat_id(),
                seen: fake.transcript_entries(user.chat_id(), Detail::Seen).len(),
            })
            .collect();
        Self { people, out: String::new(), last_person: None }
    }

    /// Starts a titled part of the transcript.
    pub fn section(&mut self, title: &str) {
        let _ = write!(self.out, "\n## {title}\n");
        self.last_person = None;
    }

    /// Writes what happened in each followed chat since the last call: first the person who
    /// acted, then the others in the order given to `new`. Call it after every action, once the
    /// bot has settled: within one action the notice answering a pressed button is written right
    /// after the press, before the messages, because the two are sent concurrently and their
    /// order is not part of the behaviour.
    pub fn record(&mut self, fake: &FakeTelegram) {
        let mut news: Vec<(usize, Vec<TranscriptEntry>)> = (0..self.people.len())
            .map(|i| {
                let entries = fake.transcript_entries(self.people[i].chat_id, Detail::Seen);
                (i, entries.into_iter().skip(self.people[i].seen).collect::<Vec<_>>())
            })
            .filter(|(_, new)| !new.is_empty())
            .collect();
        // A stable sort: whoever sent or pressed something comes first.
        news.sort_by_key(|(_, new)| !new.iter().any(|e| e.kind == EntryKind::Person));
        for (i, new) in news {
            self.people[i].seen += new.len();
            if self.last_person != Some(i) {
                let _ = writeln!(self.out, "{}:", self.people[i].name);
                self.last_person = Some(i);
            }
            for entry in toasts_after_their_press(new) {
                for line in entry.text.lines() {
                    let _ = writeln!(self.out, "  {line}");
                }
            }
        }
    }

    /// The transcript with its volatile parts redacted.
    pub fn finish(self) -> String {
        // The harness generates a random invite code for every `/start CODE`.
        let code = Regex::new(r"/start [A-HJ-NP-Z2-9]{10}\b").expect("a valid pattern");
        code.replace_all(self.out.trim_start(), "/start <邀请码>").into_owned()
    }
}

/// The entries of each action (a press or message and what followed it) with its notices first.
fn toasts_after_their_press(entries: Vec<TranscriptEntry>) -> Vec<TranscriptEntry> {
    let mut actions: Vec<Vec<TranscriptEntry>> = Vec::new();
    for entry in entries {
        match actions.last_mut() {
            Some(action) if entry.kind != EntryKind::Person => action.push(entry),
            _ => actions.push(vec![entry]),
        }
    }
    actions
        .into_iter()
        .flat_map(|mut action| {
            // A stable sort: the person's entry first, then notices, then the bot's messages.
            action.sort_by_key(|e| match e.kind {
                EntryKind::Person => 0,
                EntryKind::Toast => 1,
                EntryKind::Bot => 2,
            });
            action
        })
        .collect()
}
