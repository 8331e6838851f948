//! What a typed message means, the same for every channel: the commands people send (declared
//! once, with their menu keys and Telegram command-menu entries), the menus, and cutting text to
//! a label's length. The dialog, the Telegram adapter and the web preview all read it from here.

use crate::locale::{Lang, Texts};
use crate::reply::Keyboard;

/// A command, typed as `/name` or tapped as its menu key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatCommand {
    Start,
    New,
    My,
    Topics,
    Help,
    Cancel,
    Review,
    Stats,
    Broadcast,
    Broadcasts,
    Todo,
}

/// One row of the command table.
struct Entry {
    command: ChatCommand,
    /// What is typed after `/`.
    name: &'static str,
    /// The locale key of its menu key's label, if it has a menu key.
    menu_key: Option<&'static str>,
    /// Listed in Telegram's command menu (`setMyCommands`), described by `commands.<name>`.
    in_command_menu: bool,
}

/// Every command, once.
const TABLE: [Entry; 11] = [
    Entry { command: ChatCommand::New, name: "new", menu_key: Some("menu.new"), in_command_menu: true },
    Entry { command: ChatCommand::My, name: "my", menu_key: Some("menu.my"), in_command_menu: true },
    Entry { command: ChatCommand::Topics, name: "topics", menu_key: Some("menu.topics"), in_command_menu: true },
    Entry { command: ChatCommand::Help, name: "help", menu_key: Some("menu.help"), in_command_menu: true },
    Entry { command: ChatCommand::Cancel, name: "cancel", menu_key: None, in_command_menu: true },
    Entry { command: ChatCommand::Start, name: "start", menu_key: None, in_command_menu: false },
    Entry { command: ChatCommand::Review, name: "review", menu_key: Some("menu.review"), in_command_menu: false },
    Entry { command: ChatCommand::Stats, name: "stats", menu_key: Some("menu.stats"), in_command_menu: false },
    Entry {
        command: ChatCommand::Broadcast,
        name: "broadcast",
        menu_key: Some("menu.broadcast"),
        in_command_menu: false,
    },
    Entry { command: ChatCommand::Broadcasts, name: "broadcasts", menu_key: None, in_command_menu: false },
    Entry { command: ChatCommand::Todo, name: "todo", menu_key: Some("menu.todo"), in_command_menu: false },
];

/// The menu keys of a member, of staff and of a department liaison, row by row.
pub const MEMBER_MENU: &[&[ChatCommand]] =
    &[&[ChatCommand::New, ChatCommand::My], &[ChatCommand::Topics, ChatCommand::Help]];
pub const STAFF_MENU: &[&[ChatCommand]] =
    &[&[ChatCommand::Review, ChatCommand::Stats], &[ChatCommand::Broadcast, ChatCommand::Help]];
pub const DEPARTMENT_MENU: &[&[ChatCommand]] = &[&[ChatCommand::Todo, ChatCommand::Help]];

impl ChatCommand {
    fn entry(self) -> &'static Entry {
        TABLE.iter().find(|e| e.command == self).expect("every command is in the table")
    }

    /// The command typed as `/name` (already lower-cased, without `@bot`); `None` if unknown.
    pub fn parse(name: &str) -> Option<Self> {
        TABLE.iter().find(|e| e.name == name).map(|e| e.command)
    }

    /// What is typed after `/`.
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// The commands in Telegram's command menu, in its order; each is described by the locale
    /// key `commands.<name>`.
    pub fn command_menu() -> impl Iterator<Item = Self> {
        TABLE.iter().filter(|e| e.in_command_menu).map(|e| e.command)
    }
}

/// The menu keys of `layout` (one of `MEMBER_MENU`, `STAFF_MENU`, `DEPARTMENT_MENU`) in `lang`.
pub fn menu(texts: &Texts, lang: Lang, layout: &[&[ChatCommand]]) -> Keyboard {
    Keyboard::Menu(menu_labels(texts, lang, layout))
}

/// The labels of `menu`'s keys, row by row.
pub fn menu_labels(texts: &Texts, lang: Lang, layout: &[&[ChatCommand]]) -> Vec<Vec<String>> {
    let label = |c: &ChatCommand| c.entry().menu_key.map(|key| texts.t(lang, key, &[])).unwrap_or_default();
    layout.iter().map(|row| row.iter().map(label).collect()).collect()
}

/// Maps a menu key's text (in any language) to the command it stands for.
pub fn menu_command(texts: &Texts, text: &str) -> Option<ChatCommand> {
    let text = text.trim();
    [Lang::Zh, Lang::En].into_iter().find_map(|lang| {
        TABLE.iter().find(|e| e.menu_key.is_some_and(|key| texts.t(lang, key, &[]) == text)).map(|e| e.command)
    })
}

/// A typed message: `/name arg` (a command, `name` lower-cased and without `@bot`), a menu key's
/// text (the command it stands for), or anything else (text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    Command { name: String, arg: Option<String> },
    Text(String),
}

/// What a typed message means, by the same rules for every channel.
pub fn typed(texts: &Texts, text: &str) -> Typed {
    if let Some(rest) = text.strip_prefix('/') {
        let (word, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let name = word.split('@').next().unwrap_or_default().to_lowercase();
        let arg = arg.trim();
        return Typed::Command { name, arg: (!arg.is_empty()).then(|| arg.to_string()) };
    }
    if let Some(command) = menu_command(texts, text) {
        return Typed::Command { name: command.name().to_string(), arg: None };
    }
    Typed::Text(text.to_string())
}

/// `s` cut to `max_chars` characters, the last one `…` when something was cut.
pub fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_in_the_table_once_and_parses_back() {
        for entry in &TABLE {
            assert_eq!(ChatCommand::parse(entry.name), Some(entry.command));
            assert_eq!(TABLE.iter().filter(|e| e.command == entry.command).count(), 1, "{}", entry.name);
        }
        assert_eq!(ChatCommand::parse("nope"), None);
        let menu: Vec<&str> = ChatCommand::command_menu().map(ChatCommand::name).collect();
        assert_eq!(menu, ["new", "my", "topics", "help", "cancel"]);
    }

    #[test]
    fn each_help_names_its_menu_s_commands_and_only_commands_of_the_table() {
        let texts = Texts::built_in();
        for lang in [Lang::Zh, Lang::En] {
            for (key, layout) in
                [("help.text", MEMBER_MENU), ("help.staff", STAFF_MENU), ("help.department", DEPARTMENT_MENU)]
            {
                let help = texts.t(lang, key, &[]);
                for command in layout.iter().flat_map(|row| row.iter()).filter(|c| **c != ChatCommand::Help) {
                    assert!(
                        help.contains(&format!("/{}", command.name())),
                        "{key} ({lang:?}) lacks /{}",
                        command.name()
                    );
                }
                let named = help
                    .split('/')
                    .skip(1)
                    .map(|rest| rest.split(|c: char| !c.is_ascii_lowercase()).next().unwrap_or_default().to_string());
                for name in named {
                    assert!(ChatCommand::parse(&name).is_some(), "{key} ({lang:?}) names /{name}, not a command");
                }
            }
        }
    }

    #[test]
    fn menu_keys_stand_for_their_commands_in_both_languages() {
        let texts = Texts::built_in();
        for lang in [Lang::Zh, Lang::En] {
            for layout in [MEMBER_MENU, STAFF_MENU, DEPARTMENT_MENU] {
                let Keyboard::Menu(rows) = menu(&texts, lang, layout) else { panic!("a menu") };
                for (row, commands) in rows.iter().zip(layout) {
                    for (label, command) in row.iter().zip(*commands) {
                        assert_eq!(menu_command(&texts, label), Some(*command), "{label}");
                        assert_eq!(
                            typed(&texts, label),
                            Typed::Command { name: command.name().to_string(), arg: None }
                        );
                    }
                }
            }
        }
        assert_eq!(
            typed(&texts, "/Start@jianyan_bot  t12 "),
            Typed::Command { name: "start".into(), arg: Some("t12".into()) }
        );
        assert_eq!(typed(&texts, "你好"), Typed::Text("你好".into()));
    }
}
