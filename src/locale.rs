//! Every text a person reads, loaded from the locale files in `config/locales/` and rendered in one place.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};

const BUILT_IN: &[(Lang, &str)] =
    &[(Lang::Zh, include_str!("../config/locales/zh-CN.toml")), (Lang::En, include_str!("../config/locales/en.toml"))];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    pub fn file_name(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN.toml",
            Lang::En => "en.toml",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zh-CN" | "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// All texts of all languages, checked at load to have the same keys.
#[derive(Debug, Clone)]
pub struct Texts {
    zh: BTreeMap<String, String>,
    en: BTreeMap<String, String>,
    default: Lang,
    follow_telegram: bool,
}

impl Texts {
    /// The built-in texts, or the files in `dir` when it is given.
    pub fn load(dir: Option<&Path>, default: Lang, follow_telegram: bool) -> anyhow::Result<Self> {
        let mut maps = Vec::new();
        for (lang, built_in) in BUILT_IN {
            let text = match dir {
                Some(dir) => {
                    let path = dir.join(lang.file_name());
                    std::fs::read_to_string(&path).with_context(|| {
                        format!("locale file {} cannot be read (setting locale.dir)", path.display())
                    })?
                }
                None => built_in.to_string(),
            };
            maps.push(flatten(&text).with_context(|| format!("locale file {}", lang.file_name()))?);
        }
        let en = maps.pop().unwrap_or_default();
        let zh = maps.pop().unwrap_or_default();
        let missing_en: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        let missing_zh: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        if !missing_en.is_empty() || !missing_zh.is_empty() {
            bail!("locale files differ: missing in en.toml: {missing_en:?}; missing in zh-CN.toml: {missing_zh:?}");
        }
        Ok(Self { zh, en, default, follow_telegram })
    }

    /// The built-in texts with Chinese as the default, as most tests want them.
    pub fn built_in() -> Self {
        Self::load(None, Lang::Zh, true).expect("built-in locale files are valid")
    }

    /// The language for a person whose Telegram client reports `language_code`.
    pub fn lang_for(&self, language_code: Option<&str>) -> Lang {
        if !self.follow_telegram {
            return self.default;
        }
        match language_code {
            Some(code) if code.starts_with("zh") => Lang::Zh,
            Some(code) if code.starts_with("en") => Lang::En,
            _ => self.default,
        }
    }

    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        self.map(lang).keys().map(String::as_str).collect()
    }

    fn map(&self, lang: Lang) -> &BTreeMap<String, String> {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// The text for `key`, with `{name}` placeholders replaced by `args`.
    pub fn t(&self, lang: Lang, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let Some(template) = self.map(lang).get(key) else {
            tracing::error!(key, "locale key missing");
            return key.to_string();
        };
        if args.is_empty() {
            return template.clone();
        }
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after.find('}') {
                Some(end) if args.iter().any(|(n, _)| *n == &after[..end]) => {
                    let (_, value) = args.iter().find(|(n, _)| *n == &after[..end]).expect("found above");
                    out.push_str(&value.to_string());
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

fn flatten(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
        for (k, v) in table {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                toml::Value::Table(t) => walk(&key, t, out)?,
                _ => bail!("`{key}` must be a string"),
            }
        }
        Ok(())
    }
    let table: toml::Table = text.parse()?;
    let mut out = BTreeMap::new();
    walk("", &table, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::BTreeSet;

    /// The `{name}` placeholders of a template, each once.
    fn placeholders(template: &str) -> BTreeSet<&str> {
        template
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .collect()
    }

    /// Reads the locale files themselves (not `Texts`, whose loader already refuses files that
    /// differ), so a key added to one language only, or a placeholder renamed in one, fails here
    /// with its name before it fails at start-up.
    #[test]
    fn both_locales_have_the_same_keys() {
        let mut files = BUILT_IN.iter().map(|(lang, text)| (*lang, flatten(text).expect("a locale file parses")));
        let (zh, en) = (files.next().expect("zh-CN.toml").1, files.next().expect("en.toml").1);
        let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "only in zh-CN.toml: {only_zh:?}; only in en.toml: {only_en:?}"
        );
        assert!(zh.len() > 200, "{} keys: the files were not read whole", zh.len());

        let differing: Vec<String> = zh
            .iter()
            .filter(|(key, text)| placeholders(text) != placeholders(&en[*key]))
            .map(|(key, text)| format!("{key}: zh-CN {:?}, en {:?}", placeholders(text), placeholders(&en[key])))
            .collect();
        assert!(differing.is_empty(), "placeholders differ between the languages:\n{}", differing.join("\n"));
        let with_placeholders = zh.values().filter(|t| !placeholders(t).is_empty()).count();
        assert!(with_placeholders > 50, "only {with_placeholders} texts have placeholders: the parser lost them");
    }

    #[test]
    fn placeholders_are_read_from_a_template() {
        assert_eq!(placeholders("你好，{name}！{department} 的 {name}"), BTreeSet::from(["name", "department"]));
        assert_eq!(placeholders("no braces, {} or { spaced }"), BTreeSet::new());
    }

    #[test]
    fn placeholders_are_filled() {
        let texts = Texts::built_in();
        let s = texts.t(Lang::Zh, "register.welcome", &[("name", &"张三")]);
        assert!(s.contains("张三"), "{s}");
        assert!(!s.contains("{name}"));
    }

    #[test]
    fn language_follows_telegram_when_allowed() {
        let texts = Texts::built_in();
        assert_eq!(texts.lang_for(Some("en-GB")), Lang::En);
        assert_eq!(texts.lang_for(Some("zh-hans")), Lang::Zh);
        assert_eq!(texts.lang_for(Some("fr")), Lang::Zh);
        let fixed = Texts::load(None, Lang::Zh, false).unwrap();
        assert_eq!(fixed.lang_for(Some("en")), Lang::Zh);
    }
}
