//! How alike two suggestions are, to show a member the existing ones like theirs before they submit
//! (Decidim's "compare" step) and staff the ones they might merge (并案).
//!
//! The method, and why:
//! - Chinese has no spaces between words and a word tokenizer would be one more dictionary to keep
//!   up to date, so a text is compared by its **character bigrams** (each pair of neighbouring
//!   characters: 社区生活圈 → 社区 区生 生活 活圈), which catch most two-character words.
//! - Before that the text is **NFKC-normalised** (full-width ＡＢ１２ and half-width forms become
//!   the same characters) and lower-cased; the phrases every suggestion uses (关于, 的建议, 建议,
//!   意见, 进一步, 有关) are taken out; punctuation, spaces, symbols and **stop characters** (的
//!   了 和 与 及 …, which carry no topic) split the text into runs, and bigrams never cross a split.
//!   A run of one character counts as itself; a run of digits alone (a point's number) not at all.
//! - Two bags of bigrams are compared with the **Dice coefficient**, 2·|A∩B| / (|A|+|B|) counting
//!   repeats, from 0 (nothing shared) to 1 (the same bigrams).
//! - The **title weighs more** than the points: score = 0.7·Dice(titles) + 0.3·Dice(points), or
//!   the titles' Dice alone when either has no points.
//! - Suggestions scoring at least [`THRESHOLD`] (0.3) are "alike": on real titles this keeps
//!   「建设现代化产业体系」 and 「关于加快建设现代化产业体系的建议」 (0.89) or two suggestions on
//!   加装电梯 with different wording (0.3 and up), and leaves out two titles that only share 建设
//!   (0.15). See the tests.
//!
//! Cheapness comes from the store: only the newest suggestions on the same topic are compared
//! (`InboxStore::similar_candidates`), a few hundred short texts at most.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// The score from which two suggestions are shown as alike.
pub const THRESHOLD: f64 = 0.3;
/// How much the title counts when both have points (the points count the rest).
const TITLE_WEIGHT: f64 = 0.7;

/// Phrases nearly every suggestion uses, taken out before comparing.
const STOP_PHRASES: &[&str] = &["关于", "的建议", "建议", "意见", "进一步", "有关"];
/// Characters that carry no topic; they split the text like punctuation.
const STOP_CHARS: &str = "的了和与及或在对为是将把等之其并而于以从向让使着个这那们也都就还要";

/// A text's bigrams with how often each occurs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bigrams {
    counts: HashMap<(char, char), u32>,
    total: u32,
}

impl Bigrams {
    /// The bigrams of `text` after normalising it (see the module's header). A run of one
    /// character counts as the pair of it with itself.
    pub fn of(text: &str) -> Self {
        let mut normal: String = text.nfkc().collect::<String>().to_lowercase();
        for phrase in STOP_PHRASES {
            normal = normal.replace(phrase, " ");
        }
        let mut b = Bigrams::default();
        let runs = normal.split(|c: char| !c.is_alphanumeric() || STOP_CHARS.contains(c));
        // Digits alone are a point's number (`1. …`), not its topic.
        for run in runs.filter(|r| !r.is_empty() && !r.chars().all(|c| c.is_ascii_digit())) {
            let chars: Vec<char> = run.chars().collect();
            if chars.len() == 1 {
                b.add((chars[0], chars[0]));
            }
            for pair in chars.windows(2) {
                b.add((pair[0], pair[1]));
            }
        }
        b
    }

    fn add(&mut self, pair: (char, char)) {
        *self.counts.entry(pair).or_default() += 1;
        self.total += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The Dice coefficient of two bags, repeats counted: 0 when either is empty.
    pub fn dice(&self, other: &Bigrams) -> f64 {
        if self.is_empty() || other.is_empty() {
            return 0.0;
        }
        let shared: u32 = self.counts.iter().map(|(k, n)| (*n).min(other.counts.get(k).copied().unwrap_or(0))).sum();
        2.0 * f64::from(shared) / f64::from(self.total + other.total)
    }
}

/// A suggestion as compared: its title's and its points' bigrams.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    title: Bigrams,
    points: Bigrams,
}

impl Profile {
    /// `points` are its points (条), in any number of strings.
    pub fn new(title: &str, points: &[&str]) -> Self {
        Self { title: Bigrams::of(title), points: Bigrams::of(&points.join("\n")) }
    }

    /// How alike two suggestions are, from 0 to 1 (see the module's header).
    pub fn score(&self, other: &Profile) -> f64 {
        let title = self.title.dice(&other.title);
        if self.points.is_empty() || other.points.is_empty() {
            return title;
        }
        TITLE_WEIGHT * title + (1.0 - TITLE_WEIGHT) * self.points.dice(&other.points)
    }
}

/// The `limit` candidates most like `wanted` that score at least [`THRESHOLD`], the most alike
/// first (the earlier one first on a tie), each with its score. `candidates` are an id and a
/// profile.
pub fn most_alike<T: Clone>(wanted: &Profile, candidates: &[(T, Profile)], limit: usize) -> Vec<(T, f64)> {
    let mut scored: Vec<(usize, f64)> = candidates
        .iter()
        .enumerate()
        .map(|(i, (_, p))| (i, wanted.score(p)))
        .filter(|(_, s)| *s >= THRESHOLD)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.into_iter().take(limit).map(|(i, s)| (candidates[i].0.clone(), s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn title_score(a: &str, b: &str) -> f64 {
        Profile::new(a, &[]).score(&Profile::new(b, &[]))
    }

    #[test]
    fn bigrams_are_normalised_and_split_at_punctuation_and_stop_characters() {
        let b = Bigrams::of("关于“15分钟社区生活圈”的建议");
        let full_width = Bigrams::of("关于＂１５分钟社区生活圈＂的建议");
        assert_eq!(b, full_width, "NFKC: full-width digits and quotes read as half-width");
        assert_eq!(b.total, 8, "15 5分 分钟 钟社 社区 区生 生活 活圈: {b:?}");
        // 的 splits: 社区 | 养老 share nothing with 区的 or 的养.
        let split = Bigrams::of("社区的养老");
        assert_eq!(split.total, 2);
        assert!(Bigrams::of("。，！？").is_empty());
    }

    /// Titles from the district's 2025 consultation topics (sample-topics.csv) and the article on
    /// them, against suggestions members might write.
    #[test]
    fn real_titles_that_are_alike_score_above_the_threshold_and_others_below() {
        let alike = [
            ("建设现代化产业体系", "关于加快建设现代化产业体系的建议"),
            ("\"15分钟社区生活圈\"建设", "关于完善15分钟社区生活圈的建议"),
            ("世博水环建设", "关于世博水环沿线增设安全照明的建议"),
            ("\"十五五\"总体发展规划及重大专项规划编制", "关于做好“十五五”规划编制工作的建议"),
            ("关于加强老旧小区加装电梯的建议", "关于推进既有多层住宅加装电梯的建议"),
        ];
        for (a, b) in alike {
            let s = title_score(a, b);
            assert!(s >= THRESHOLD, "{a} / {b}: {s:.2}");
            assert!((s - title_score(b, a)).abs() < 1e-9, "symmetric");
        }
        let different = [
            ("建设现代化产业体系", "世博水环建设"),
            ("\"15分钟社区生活圈\"建设", "国际金融机构集聚"),
            ("关于世博水环沿线增设母婴友好空间的建议", "关于加快建设现代化产业体系的建议"),
            ("专业服务业高质量发展", "关于加强老旧小区加装电梯的建议"),
        ];
        for (a, b) in different {
            let s = title_score(a, b);
            assert!(s < THRESHOLD, "{a} / {b}: {s:.2}");
        }
        assert!((title_score("世博水环建设", "世博水环建设") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn points_count_less_than_the_title_and_only_when_both_have_some() {
        let a = Profile::new("关于世博水环安全照明的建议", &["在水环沿线增设夜间照明设施。"]);
        let same_points = Profile::new("关于滨江步道的建议", &["在水环沿线增设夜间照明设施。"]);
        let s = a.score(&same_points);
        assert!((s - 0.3).abs() < 1e-9, "the same points, a title sharing nothing: the points' 0.3 only: {s:.2}");
        let no_points = Profile::new("关于世博水环安全照明的建议", &[]);
        assert!((a.score(&no_points) - 1.0).abs() < 1e-9, "the title alone when one has no points");
    }

    #[test]
    fn the_most_alike_come_first_and_at_most_the_limit() {
        let wanted = Profile::new("关于完善15分钟社区生活圈的建议", &["每个街镇设便民服务中心"]);
        let candidates: Vec<(i64, Profile)> = vec![
            (1, Profile::new("建设现代化产业体系", &["集聚国际金融机构"])),
            (2, Profile::new("15分钟社区生活圈建设", &["完善便民服务"])),
            (3, Profile::new("关于完善15分钟社区生活圈的建议", &["每个街镇设便民服务中心"])),
            (4, Profile::new("社区生活圈里的养老服务", &["街镇便民服务中心增设助餐点"])),
            (5, Profile::new("15分钟社区生活圈", &[])),
        ];
        let found = most_alike(&wanted, &candidates, 3);
        let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids[0], 3, "{found:?}");
        assert_eq!(ids.len(), 3);
        assert!(!ids.contains(&1));
        assert!(found.windows(2).all(|w| w[0].1 >= w[1].1));
    }
}
