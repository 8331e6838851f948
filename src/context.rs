//! What the dialog, the workflow and the adapters need from the outside world, passed in (no globals).

use chrono::{DateTime, Datelike, Utc};

use crate::config::Config;
use crate::domain::ReferenceNo;
use crate::locale::{Lang, Texts};
use crate::store::Store;

/// The store, the texts, the configuration and the current time, borrowed for one piece of work.
pub struct Ctx<'a> {
    pub store: &'a dyn Store,
    pub texts: &'a Texts,
    pub config: &'a Config,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    /// `texts.t`, with two more placeholders any text may use, filled from the clock so examples
    /// never show a past year: `{example_reference}` (this year's reference number 42, e.g.
    /// `PD-2026-0042`) and `{example_date}` (the last day of this year in the committee's time
    /// zone, or of next year within the last week of this one, as `YYYY-MM-DD`).
    pub fn t(&self, lang: Lang, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let (reference, date) = (self.reference_example(), self.date_example());
        let mut all: Vec<(&str, &dyn std::fmt::Display)> = args.to_vec();
        all.push(("example_reference", &reference));
        all.push(("example_date", &date));
        self.texts.t(lang, key, &all)
    }

    fn reference_example(&self) -> String {
        reference_example(self.config, self.now, 42)
    }

    fn date_example(&self) -> String {
        date_example(self.config, self.now)
    }
}

/// Reference number `seq` of the current year in the committee's time zone, to show as an example
/// of one to type (e.g. `PD-2026-0001`).
pub fn reference_example(config: &Config, now: DateTime<Utc>, seq: i64) -> String {
    let year = now.with_timezone(&config.offset()).year();
    ReferenceNo { prefix: config.references.prefix.clone(), year, seq }.to_string()
}

/// A date to show as an example of one to type (`YYYY-MM-DD`): the last day of the current year in
/// the committee's time zone, or of the next year within the last week of this one, so it is
/// never in the past nor about to be.
pub fn date_example(config: &Config, now: DateTime<Utc>) -> String {
    let today = now.with_timezone(&config.offset()).date_naive();
    let last_day = chrono::NaiveDate::from_ymd_opt(today.year(), 12, 31).map_or(365, |d| d.ordinal());
    let year = if today.ordinal() + 7 > last_day { today.year() + 1 } else { today.year() };
    format!("{year}-12-31")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_follow_the_clock_in_the_committees_time_zone() {
        let config = Config::from_layers(None, Vec::new()).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(date_example(&config, at("2026-11-29T12:00:00Z")), "2026-12-31");
        // 2026-12-24 20:00 UTC is already the 25th in Shanghai: within the last week.
        assert_eq!(date_example(&config, at("2026-12-24T20:00:00Z")), "2027-12-31");
        assert_eq!(date_example(&config, at("2026-12-24T08:00:00Z")), "2026-12-31");
    }

    #[tokio::test]
    async fn bot_texts_show_examples_of_the_current_year() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::SqliteStore::open(&dir.path().join("t.db"), std::time::Duration::from_secs(5), 1)
            .await
            .unwrap();
        let config = Config::from_layers(None, Vec::new()).unwrap();
        let texts = Texts::load(None, Lang::Zh, true).unwrap();
        let now = DateTime::parse_from_rfc3339("2027-03-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let ctx = Ctx { store: &store, texts: &texts, config: &config, now };
        for lang in [Lang::Zh, Lang::En] {
            let help = ctx.t(lang, "help.staff", &[]);
            assert!(help.contains("PD-2027-0042") && !help.contains('{'), "{help}");
            let bad = ctx.t(lang, "staff.assign_bad_date", &[("value", &"明天")]);
            assert!(bad.contains("2027-12-31") && bad.contains("明天"), "{bad}");
        }
    }
}
