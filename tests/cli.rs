//! The `jianyan` command line, run as the real binary: roster import, invites, topics,
//! workstations, settings and migrations.
//!
//! Every test works in its own temporary folder (also the working directory, so no
//! `config/local.toml` of the developer is picked up) with its own database, and the child
//! process gets none of the caller's `JIANYAN_*` / `TELOXIDE_*` variables.

#[path = "support/fake_telegram.rs"]
mod fake_telegram;

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use jianyan::domain::{MemberLevel, MemberNo, TopicClass, TopicStatus};
use jianyan::store::{SqliteStore, Topic, prelude::*};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const HEADER: &str = "member_no,name,level,workstation,sector,phone\n";
const SAMPLE_ROSTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/sample-roster.csv");
const SAMPLE_WORKSTATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/sample-workstations.csv");
/// SHA-256 of the reference list of Pudong's 36 member workstations (pudong-workstations.csv, as the
/// committee published it), of which config/sample-workstations.csv is a byte-for-byte copy. The
/// digest is pinned here so the test needs nothing outside the repository.
const REFERENCE_WORKSTATIONS_SHA256: &str = "2e0443af9fc30f984fb7ab5cefbfea03ece876de0fb71dae597d1f9e488b2ee5";
const FOUR_CLASSES: [&str; 4] = ["规划计划类", "重大工作决策类", "民生实事类", "立法类"];

/// One temporary folder with its database, and the `jianyan` binary run inside it.
struct Jianyan {
    dir: TempDir,
}

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "exit code\n--- stdout:\n{}\n--- stderr:\n{}", self.stdout, self.stderr);
        self
    }

    fn stdout_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    fn stderr_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    fn output_lacks(&self, text: &str) -> &Self {
        assert!(
            !self.stdout.contains(text) && !self.stderr.contains(text),
            "output shows {text:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// The invite code printed after `邀请码：`.
    fn invite_code(&self) -> String {
        let line =
            self.stdout.lines().find_map(|l| l.strip_prefix("邀请码：")).unwrap_or_else(|| {
                panic!("no 邀请码 line\n--- stdout:\n{}\n--- stderr:\n{}", self.stdout, self.stderr)
            });
        line.trim().to_string()
    }
}

impl Jianyan {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn db(&self) -> PathBuf {
        self.path("j.db")
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// The command with a clean environment: only our database path and what `env` adds.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jianyan"));
        cmd.args(args).current_dir(self.dir.path()).stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            let inherited_setting = key
                .to_str()
                .is_some_and(|k| k.starts_with("JIANYAN_") || k.starts_with("TELOXIDE_") || k == "RUST_LOG");
            if inherited_setting {
                cmd.env_remove(&key);
            }
        }
        // The fake Telegram server is on loopback: never go through a proxy to reach it.
        cmd.env("NO_PROXY", "127.0.0.1,localhost").env("no_proxy", "127.0.0.1,localhost");
        cmd.env("JIANYAN_DATABASE__PATH", self.db());
        // `jianyan run` also serves the console: on a free port, never one a developer uses.
        cmd.env("JIANYAN_WEB__LISTEN", "127.0.0.1:0");
        cmd.envs(env.iter().copied());
        cmd
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = self.command(args, env).output().expect("run jianyan");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// Imports `csv` as roster.csv and expects success.
    fn import_roster(&self, csv: &str) -> Run {
        self.write("roster.csv", csv);
        let run = self.run(&["members", "import", "roster.csv"]);
        run.expect_code(0);
        run
    }

    async fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.db(), Duration::from_secs(5), 2).await.expect("open the test database")
    }
}

fn no(s: &str) -> MemberNo {
    MemberNo::parse(s).expect("valid member number")
}

fn data_rows(path: &str) -> usize {
    std::fs::read_to_string(path).expect("read csv").lines().skip(1).filter(|l| !l.trim().is_empty()).count()
}

async fn count(store: &SqliteStore, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}")).fetch_one(store.pool()).await.expect("count rows")
}

fn topic(topics: &[Topic], id: i64) -> &Topic {
    topics.iter().find(|t| t.id == id).unwrap_or_else(|| panic!("no topic #{id} in {topics:?}"))
}

// ---------------------------------------------------------------------------------------------
// The shipped sample files
// ---------------------------------------------------------------------------------------------

#[test]
fn sample_files_are_consistent() {
    let workstations = std::fs::read_to_string(SAMPLE_WORKSTATIONS).expect("sample workstations");
    assert_eq!(
        hex::encode(Sha256::digest(workstations.as_bytes())),
        REFERENCE_WORKSTATIONS_SHA256,
        "config/sample-workstations.csv must be an unchanged copy of the reference workstation list"
    );
    let names: HashSet<&str> = workstations.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    assert_eq!(names.len(), 36);

    let bytes = std::fs::read(SAMPLE_ROSTER).expect("sample roster");
    assert!(bytes.starts_with(HEADER.as_bytes()), "header must be {HEADER:?}");
    let parsed = jianyan::roster::parse(&bytes);
    assert_eq!(parsed.errors, vec![], "the sample roster must import cleanly");
    assert!((35..=45).contains(&parsed.rows.len()), "about 40 members, got {}", parsed.rows.len());
    let sectors = [
        "中共",
        "民革",
        "民盟",
        "民建",
        "民进",
        "农工党",
        "致公党",
        "九三学社",
        "无党派人士",
        "共青团",
        "工商联",
        "科技界",
        "经济界",
        "教育界",
        "医药卫生界",
        "文化艺术界",
        "社会福利和社会保障界",
    ];
    let city = parsed.rows.iter().filter(|r| r.level == MemberLevel::City).count();
    assert!(city * 4 < parsed.rows.len(), "most members sit at 区 or 街镇 level, {city} are 市");
    assert!(parsed.rows.iter().any(|r| r.phone.is_empty()), "some phones are empty");
    for row in &parsed.rows {
        assert!(row.member_no.as_str().starts_with("PD2025"), "{row:?}");
        let ws = row.workstation.as_deref().unwrap_or_default();
        assert!(names.contains(ws), "workstation {ws:?} is not one of Pudong's 36: {row:?}");
        assert!(sectors.contains(&row.sector.as_str()), "sector {:?}: {row:?}", row.sector);
        let fictional_mobile = row.phone.len() == 11 && (row.phone.starts_with("138") || row.phone.starts_with("139"));
        assert!(row.phone.is_empty() || fictional_mobile, "phone {:?}: {row:?}", row.phone);
    }
}

// ---------------------------------------------------------------------------------------------
// members import
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_sample_roster_imports_every_member() {
    let j = Jianyan::new();
    let expected = data_rows(SAMPLE_ROSTER);
    let run = j.run(&["members", "import", SAMPLE_ROSTER]);
    run.expect_code(0).stdout_has(&format!("新增{expected}人，更新0人，新建工作站36个"));
    assert_eq!(run.stderr, "");

    let store = j.store().await;
    let members = store.members().await.unwrap();
    assert_eq!(members.len(), expected);
    let first = store.member_by_no(&no("PD2025001")).await.unwrap().expect("PD2025001 imported");
    assert_eq!(first.name, "张伟");
    assert_eq!(first.level, MemberLevel::City);
    assert_eq!(first.workstation.as_deref(), Some("陆家嘴街道"));
    assert_eq!(first.sector, "经济界");
    assert_eq!(first.phone, "13800000101");
    assert_eq!(first.telegram_user_id, None);
    assert!(first.active);
    let no_phone = store.member_by_no(&no("PD2025003")).await.unwrap().expect("PD2025003 imported");
    assert_eq!(no_phone.phone, "");
}

#[tokio::test]
async fn a_file_with_a_utf8_bom_imports() {
    let j = Jianyan::new();
    let run = j.import_roster(&format!("\u{FEFF}{HEADER}PD001,张三,区,陆家嘴街道,经济界,13800000001\n"));
    run.stdout_has("新增1人");
    let member = j.store().await.member_by_no(&no("PD001")).await.unwrap().expect("imported");
    assert_eq!(member.name, "张三");
    assert_eq!(member.workstation.as_deref(), Some("陆家嘴街道"));
}

#[tokio::test]
async fn a_gbk_file_is_refused_with_its_line_numbers() {
    let j = Jianyan::new();
    let mut bytes = HEADER.as_bytes().to_vec();
    // "张三" and "区" in GBK on lines 2 and 4; line 3 is plain ASCII.
    bytes.extend_from_slice(b"PD001,\xD5\xC5\xC8\xFD,\xC7\xF8,,,\n");
    bytes.extend_from_slice(b"PD002,Li Si,district,,,\n");
    bytes.extend_from_slice(b"PD003,\xD5\xC5\xC8\xFD,\xC7\xF8,,,\n");
    j.write("gbk.csv", &bytes);

    for args in [&["members", "import", "gbk.csv"][..], &["members", "import", "gbk.csv", "--skip-invalid"]] {
        let run = j.run(args);
        run.expect_code(1)
            .stderr_has("共发现2个问题，没有导入任何数据")
            .stderr_has("第2行：不是 UTF-8 编码")
            .stderr_has("第4行：不是 UTF-8 编码")
            .stderr_has("CSV UTF-8");
        assert!(!run.stderr.contains("第3行"), "{}", run.stderr);
        assert_eq!(run.stdout, "");
    }
    assert!(j.store().await.members().await.unwrap().is_empty());
}

#[tokio::test]
async fn missing_columns_are_named() {
    let j = Jianyan::new();
    j.write("roster.csv", "member_no,name,phone\nPD001,张三,13800000001\n");
    j.run(&["members", "import", "roster.csv"])
        .expect_code(1)
        .stderr_has("第1行：缺少列：level, workstation, sector。")
        .stderr_has("member_no,name,level,workstation,sector,phone");
    assert!(j.store().await.members().await.unwrap().is_empty());
}

#[tokio::test]
async fn duplicate_member_numbers_name_both_lines() {
    let j = Jianyan::new();
    j.write("roster.csv", format!("{HEADER}PD001,张三,区,,,\nPD002,李四,区,,,\nPD001,王五,街镇,,,\n"));
    let run = j.run(&["members", "import", "roster.csv"]);
    run.expect_code(1).stderr_has("共发现1个问题").stderr_has("第4行：委员编号与第2行重复");
    assert!(j.store().await.members().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_level_is_reported_with_line_and_value() {
    let j = Jianyan::new();
    j.write("roster.csv", format!("{HEADER}PD001,张三,区,,,\nPD002,李四,省,,,\n"));
    j.run(&["members", "import", "roster.csv"])
        .expect_code(1)
        .stderr_has("第3行：层级「省」无效，只能是 市、区 或 街镇");
    assert!(j.store().await.members().await.unwrap().is_empty());
}

/// Good rows on lines 2 and 4; five problems in the rows on lines 3, 5 (two), 6 and 7.
const MIXED: &str = "member_no,name,level,workstation,sector,phone
PD001,张三,区,陆家嘴街道,经济界,13800000001
PD 3,李四,区,,,
PD004,王五,街镇,花木街道,教育界,
PD005,,市级,,,
PD006,赵六,区,,,12ab
PD007,钱七,省,,,
";

#[tokio::test]
async fn every_problem_is_reported_and_nothing_is_imported() {
    let j = Jianyan::new();
    j.write("roster.csv", MIXED);
    let run = j.run(&["members", "import", "roster.csv"]);
    run.expect_code(1)
        .stderr_has("导入失败，共发现5个问题，没有导入任何数据")
        .stderr_has("第3行：委员编号「PD 3」无效")
        .stderr_has("第5行：姓名为空")
        .stderr_has("第5行：层级「市级」无效")
        .stderr_has("第6行：电话「12ab」无效")
        .stderr_has("第7行：层级「省」无效")
        .stderr_has("请修正后重新导入")
        .stderr_has("--skip-invalid");
    assert!(!run.stderr.contains("第2行") && !run.stderr.contains("第4行"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(j.store().await.members().await.unwrap().is_empty(), "nothing is imported when a row is invalid");
}

#[tokio::test]
async fn control_direction_characters_and_overlong_fields_are_refused_with_line_and_column() {
    let j = Jianyan::new();
    let roster = format!(
        "{HEADER}PD001,张\u{202E}三,区,,,\nPD002,李四,区,,经济\0界,\nPD003,王五,区,{},,\nPD004,赵六,区,,,\n",
        "站".repeat(51)
    );
    j.write("roster.csv", roster);
    let run = j.run(&["members", "import", "roster.csv"]);
    run.expect_code(1)
        .stderr_has("第2行：「姓名」列含有不允许的控制字符或文字方向字符（U+202E）")
        .stderr_has("第3行：「界别」列含有不允许的控制字符或文字方向字符（U+0000）")
        .stderr_has("第4行：「工作站」列超过50个字");
    assert!(!run.stderr.contains('\u{202E}') && !run.stderr.contains('\0'), "never printed: {}", run.stderr);
    assert!(j.store().await.members().await.unwrap().is_empty(), "nothing is imported");
}

#[tokio::test]
async fn skip_invalid_imports_the_good_rows_and_lists_the_skipped() {
    let j = Jianyan::new();
    j.write("roster.csv", MIXED);
    let run = j.run(&["members", "import", "roster.csv", "--skip-invalid"]);
    run.expect_code(0)
        .stdout_has("以下有问题的行已跳过（共5个问题）")
        .stdout_has("第3行：委员编号「PD 3」无效")
        .stdout_has("第5行：姓名为空")
        .stdout_has("第6行：电话「12ab」无效")
        .stdout_has("第7行：层级「省」无效")
        .stdout_has("新增2人，更新0人，新建工作站2个");
    let members = j.store().await.members().await.unwrap();
    let nos: Vec<&str> = members.iter().map(|m| m.member_no.as_str()).collect();
    assert_eq!(nos, ["PD001", "PD004"]);
}

#[tokio::test]
async fn importing_again_updates_members_by_number() {
    let j = Jianyan::new();
    j.import_roster(&format!(
        "{HEADER}PD001,张三,区,陆家嘴街道,经济界,13800000001\nPD002,李四,街镇,花木街道,教育界,\n"
    ))
    .stdout_has("新增2人，更新0人");
    j.import_roster(&format!("{HEADER}PD001,张三丰,市,张江镇,科技界,13900000009\nPD003,王五,区,,,\n"))
        .stdout_has("新增1人，更新1人，新建工作站1个");

    let store = j.store().await;
    assert_eq!(store.members().await.unwrap().len(), 3, "no duplicate for PD001");
    let updated = store.member_by_no(&no("PD001")).await.unwrap().expect("PD001");
    assert_eq!(updated.name, "张三丰");
    assert_eq!(updated.phone, "13900000009");
    assert_eq!(updated.level, MemberLevel::City);
    assert_eq!(updated.workstation.as_deref(), Some("张江镇"));
    assert_eq!(updated.sector, "科技界");
    let untouched = store.member_by_no(&no("PD002")).await.unwrap().expect("PD002");
    assert_eq!(untouched.name, "李四");
    assert_eq!(untouched.workstation.as_deref(), Some("花木街道"));
    assert_eq!(count(&store, "members WHERE member_no = 'PD001'").await, 1);
}

#[tokio::test]
async fn an_empty_file_is_refused() {
    let j = Jianyan::new();
    j.write("empty.csv", "");
    j.write("header-only.csv", HEADER);
    for file in ["empty.csv", "header-only.csv"] {
        let run = j.run(&["members", "import", file]);
        run.expect_code(1).stderr_has("文件是空的，没有委员数据");
        assert_eq!(run.stdout, "");
    }
    assert!(j.store().await.members().await.unwrap().is_empty());
}

#[test]
fn a_missing_file_is_named() {
    let j = Jianyan::new();
    let run = j.run(&["members", "import", "no-such-roster.csv"]);
    run.expect_code(1).stderr_has("jianyan: no-such-roster.csv: No such file or directory");
    assert_eq!(run.stdout, "");
}

/// Excel on Windows saves CSV with CRLF line endings: the reported lines must still be right.
#[tokio::test]
async fn crlf_files_report_the_right_lines() {
    let j = Jianyan::new();
    j.write("roster.csv", "member_no,name,level,workstation,sector,phone\r\nPD001,张三,区,,,\r\nPD001,李四,省,,,\r\n");
    j.run(&["members", "import", "roster.csv"])
        .expect_code(1)
        .stderr_has("第3行：层级「省」无效")
        .stderr_has("第3行：委员编号与第2行重复");
}

#[tokio::test]
async fn crlf_files_import() {
    let j = Jianyan::new();
    j.import_roster("member_no,name,level,workstation,sector,phone\r\nPD001,张三,区,陆家嘴街道,经济界,13800000001\r\n")
        .stdout_has("新增1人");
    let member = j.store().await.member_by_no(&no("PD001")).await.unwrap().expect("imported");
    assert_eq!(member.phone, "13800000001", "no stray carriage return");
}

#[tokio::test]
async fn english_texts_follow_locale_default() {
    let j = Jianyan::new();
    j.write("roster.csv", format!("{HEADER}PD001,张三,区,,,\nPD002,李四,省,,,\n"));
    j.run_with(&["members", "import", "roster.csv"], &[("JIANYAN_LOCALE__DEFAULT", "en")])
        .expect_code(1)
        .stderr_has("Import failed: 1 problem(s) found, nothing was imported")
        .stderr_has("line 3: level «省» is not valid");
}

// ---------------------------------------------------------------------------------------------
// members invite
// ---------------------------------------------------------------------------------------------

const ONE_MEMBER: &str = "member_no,name,level,workstation,sector,phone\nPD001,张三,区,陆家嘴街道,经济界,13800000001\n";

fn assert_code_shape(code: &str) {
    assert_eq!(code.chars().count(), 10, "code {code:?}");
    assert!(code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "code {code:?}");
    assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "ambiguous characters in {code:?}");
}

#[tokio::test]
async fn invite_prints_code_and_deep_link_and_stores_only_the_hash() {
    let j = Jianyan::new();
    j.import_roster(ONE_MEMBER);
    let run = j.run_with(&["members", "invite", "PD001"], &[("JIANYAN_TELEGRAM__BOT_USERNAME", "jianyan_test_bot")]);
    run.expect_code(0).stdout_has("已为张三（PD001）生成邀请码").stdout_has("有效期至");
    let code = run.invite_code();
    assert_code_shape(&code);
    run.stdout_has(&format!("邀请链接：https://t.me/jianyan_test_bot?start={code}"));

    let store = j.store().await;
    let member = store.member_by_no(&no("PD001")).await.unwrap().expect("PD001");
    let rows: Vec<(String, i64, String, Option<String>)> =
        sqlx::query_as("SELECT code_hash, member_id, created_at || ' ' || expires_at, used_at FROM invite_codes")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    let (hash, member_id, times, used_at) = &rows[0];
    assert_eq!(*hash, hex::encode(Sha256::digest(code.as_bytes())));
    assert_eq!(*member_id, member.id);
    assert_eq!(*used_at, None);
    assert!(!hash.contains(&code) && !times.contains(&code));
    drop(store);
    // Nowhere in the database files, WAL included.
    for file in ["j.db", "j.db-wal"] {
        if let Ok(bytes) = std::fs::read(j.path(file)) {
            assert!(!bytes.windows(code.len()).any(|w| w == code.as_bytes()), "{file} holds the plain code");
        }
    }
}

#[tokio::test]
async fn two_invites_give_two_codes() {
    let j = Jianyan::new();
    j.import_roster(ONE_MEMBER);
    let env = [("JIANYAN_TELEGRAM__BOT_USERNAME", "jianyan_test_bot")];
    let first = j.run_with(&["members", "invite", "PD001"], &env).invite_code();
    let second = j.run_with(&["members", "invite", "PD001"], &env).invite_code();
    assert_ne!(first, second);
    assert_eq!(count(&j.store().await, "invite_codes").await, 2);
}

#[tokio::test]
async fn invite_without_username_or_token_prints_the_code_and_no_link() {
    let j = Jianyan::new();
    j.import_roster(ONE_MEMBER);
    let started = Instant::now();
    let run = j.run(&["members", "invite", "PD001"]);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}: it must not wait for Telegram", started.elapsed());
    run.expect_code(0)
        .stdout_has("暂无邀请链接")
        .stdout_has("委员可以把邀请码直接发给机器人")
        .output_lacks("https://t.me/");
    assert_code_shape(&run.invite_code());
    assert_eq!(count(&j.store().await, "invite_codes").await, 1);
}

#[tokio::test]
async fn invite_for_an_unknown_member_fails_clearly() {
    let j = Jianyan::new();
    j.import_roster(ONE_MEMBER);
    for member_no in ["PD999", "编号1"] {
        let run =
            j.run_with(&["members", "invite", member_no], &[("JIANYAN_TELEGRAM__BOT_USERNAME", "jianyan_test_bot")]);
        run.expect_code(1).stderr_has(&format!("找不到编号为「{member_no}」的委员。"));
        assert_eq!(run.stdout, "");
    }
    assert_eq!(count(&j.store().await, "invite_codes").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_asks_telegram_for_the_bot_username_when_not_set() {
    let fake = fake_telegram::FakeTelegram::start().await;
    let j = Jianyan::new();
    j.import_roster(ONE_MEMBER);
    let api_url = fake.api_url();
    let cmd = j.command(
        &["members", "invite", "PD001"],
        &[("JIANYAN_BOT_TOKEN", "123456:SECRETtokenXYZ"), ("TELOXIDE_API_URL", &api_url)],
    );
    let out = tokio::process::Command::from(cmd).output().await.expect("run jianyan");
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    run.expect_code(0).output_lacks("SECRETtokenXYZ");
    let code = run.invite_code();
    run.stdout_has(&format!("https://t.me/{}?start={code}", fake_telegram::BOT_USERNAME));
    assert_eq!(fake.calls_of("getMe").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// topics
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn topics_add_list_and_close() {
    let j = Jianyan::new();
    j.run(&["topics", "list"]).expect_code(0).stdout_has("还没有议题。");
    j.run(&[
        "topics",
        "add",
        "--title",
        " 浦东新区城市更新 ",
        "--class",
        "规划计划类",
        "--description",
        "听取委员意见",
        "--form",
        "专题协商会",
        "--closes",
        "2099-12-31",
        "--pin",
    ])
    .expect_code(0)
    .stdout_has("已添加议题 #1《浦东新区城市更新》（规划计划类）。");

    let list = j.run(&["topics", "list"]);
    list.expect_code(0);
    let line = list.stdout.lines().find(|l| l.starts_with("#1 ")).expect("topic #1 listed");
    for part in ["📌 浦东新区城市更新", "规划计划类", "专题协商会", "征集中", "2099-12-31"] {
        assert!(line.contains(part), "{part:?} not in {line:?}");
    }

    let store = j.store().await;
    let topics = store.topics().await.unwrap();
    let t = topic(&topics, 1);
    assert_eq!(t.title, "浦东新区城市更新");
    assert_eq!(t.description, "听取委员意见");
    assert_eq!(t.class, TopicClass::Plan);
    assert!(t.pinned);
    assert_eq!(t.status, TopicStatus::Open);
    // Open through the whole closing day in Shanghai: until 2100-01-01 00:00 +08:00.
    assert_eq!(t.closes_at, Some(Utc.with_ymd_and_hms(2099, 12, 31, 16, 0, 0).unwrap()));

    j.run(&["topics", "close", "1"]).expect_code(0).stdout_has("议题 #1 已结束征集。");
    let list = j.run(&["topics", "list"]);
    let line = list.stdout.lines().find(|l| l.starts_with("#1 ")).expect("topic #1 still listed");
    assert!(line.contains("已结束") && !line.contains("📌"), "{line:?}");
    let topics = store.topics().await.unwrap();
    assert_eq!(topic(&topics, 1).status, TopicStatus::Closed);
    assert!(!topic(&topics, 1).pinned, "a closed topic is not pinned");

    j.run(&["topics", "close", "1"]).expect_code(1).stderr_has("找不到议题 #1，或它已经结束征集。");
}

#[tokio::test]
async fn pinning_a_second_topic_unpins_the_first() {
    let j = Jianyan::new();
    j.run(&["topics", "add", "--title", "城市更新", "--class", "plan", "--pin"]).expect_code(0);
    j.run(&["topics", "add", "--title", "养老服务", "--class", "民生实事类", "--pin"])
        .expect_code(0)
        .stdout_has("已添加议题 #2《养老服务》（民生实事类）");
    j.run(&["topics", "add", "--title", "地方立法", "--class", "立法类"]).expect_code(0);

    let topics = j.store().await.topics().await.unwrap();
    let pinned: Vec<i64> = topics.iter().filter(|t| t.pinned).map(|t| t.id).collect();
    assert_eq!(pinned, [2]);
    let list = j.run(&["topics", "list"]);
    assert!(list.stdout.lines().next().is_some_and(|l| l.contains("📌 养老服务")), "{}", list.stdout);
    assert_eq!(list.stdout.matches('📌').count(), 1, "{}", list.stdout);
}

#[tokio::test]
async fn an_invalid_class_lists_the_four_classes() {
    let j = Jianyan::new();
    let run = j.run(&["topics", "add", "--title", "城市更新", "--class", "省级类"]);
    run.expect_code(1).stderr_has("议题类别「省级类」无效");
    for class in FOUR_CLASSES {
        run.stderr_has(class);
    }
    assert!(j.store().await.topics().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_invalid_date_shows_the_format() {
    let j = Jianyan::new();
    for date in ["2025/12/31", "2025-02-30", "明天"] {
        j.run(&["topics", "add", "--title", "城市更新", "--class", "立法类", "--closes", date])
            .expect_code(1)
            .stderr_has(&format!("日期「{date}」无效，请用 YYYY-MM-DD 格式"));
    }
    assert!(j.store().await.topics().await.unwrap().is_empty());
}

#[test]
fn an_empty_title_is_refused() {
    let j = Jianyan::new();
    j.run(&["topics", "add", "--title", "  ", "--class", "立法类"]).expect_code(1).stderr_has("议题标题不能为空。");
}

#[test]
fn closing_a_topic_that_does_not_exist_fails() {
    let j = Jianyan::new();
    let run = j.run(&["topics", "close", "42"]);
    run.expect_code(1).stderr_has("找不到议题 #42");
    assert_eq!(run.stdout, "");
}

// ---------------------------------------------------------------------------------------------
// workstations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_sample_workstations_import() {
    let j = Jianyan::new();
    j.run(&["workstations", "import", SAMPLE_WORKSTATIONS]).expect_code(0).stdout_has("已导入工作站36个。");
    // From the repository folder, with its relative path (an empty --config keeps out any
    // config/local.toml a developer may have there).
    let empty_config = j.write("empty.toml", "");
    let mut cmd = j.command(
        &["--config", empty_config.to_str().unwrap(), "workstations", "import", "config/sample-workstations.csv"],
        &[],
    );
    let out = cmd.current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("run jianyan");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("已导入工作站36个。"));

    let store = j.store().await;
    assert_eq!(count(&store, "workstations").await, 36, "importing twice adds nothing");
    assert_eq!(count(&store, "workstations WHERE name = '南汇新城镇' AND kind = '镇'").await, 1);
    assert_eq!(count(&store, "workstations WHERE name = '陆家嘴街道' AND kind = '街道'").await, 1);
    drop(store);
    // The sample roster's workstations are all among them.
    j.run(&["members", "import", SAMPLE_ROSTER]).expect_code(0).stdout_has("新建工作站0个");
}

// ---------------------------------------------------------------------------------------------
// settings
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bad_setting_value_names_the_variable() {
    let j = Jianyan::new();
    let run = j.run_with(&["topics", "list"], &[("JIANYAN_TELEGRAM__WORKERS", "many")]);
    run.expect_code(2).stderr_has("JIANYAN_TELEGRAM__WORKERS").stderr_has("`many`");
    assert_eq!(run.stdout, "");
    assert!(!j.db().exists(), "a config error stops before the database");
}

#[test]
fn an_unknown_variable_is_named() {
    let j = Jianyan::new();
    j.run_with(&["topics", "list"], &[("JIANYAN_NOPE__X", "1")])
        .expect_code(2)
        .stderr_has("JIANYAN_NOPE__X")
        .stderr_has("config/default.toml");
    j.run_with(&["topics", "list"], &[("JIANYAN_DATABSE_PATH", "x.db")])
        .expect_code(2)
        .stderr_has("JIANYAN_DATABSE_PATH")
        .stderr_has("JIANYAN_<SECTION>__<KEY>");
    assert!(!j.db().exists());
}

#[test]
fn a_missing_config_file_is_named() {
    let j = Jianyan::new();
    j.run(&["--config", "nope.toml", "topics", "list"])
        .expect_code(2)
        .stderr_has("nope.toml")
        .stderr_has("cannot be read");
}

#[test]
fn config_local_toml_is_read_and_the_environment_wins() {
    let j = Jianyan::new();
    j.import_roster(ONE_MEMBER);
    j.write("config/local.toml", "[telegram]\nbot_username = \"from_local_bot\"\n");
    let run = j.run(&["members", "invite", "PD001"]);
    run.expect_code(0).stdout_has(&format!("https://t.me/from_local_bot?start={}", run.invite_code()));
    let run = j.run_with(&["members", "invite", "PD001"], &[("JIANYAN_TELEGRAM__BOT_USERNAME", "from_env_bot")]);
    run.expect_code(0).stdout_has(&format!("https://t.me/from_env_bot?start={}", run.invite_code()));
}

/// Starts `jianyan run`, waits until its stderr shows `ready`, sends SIGINT and returns how it
/// ended with its stdout and stderr.
#[cfg(unix)]
fn run_until_ready_then_interrupt(
    j: &Jianyan,
    env: &[(&str, &str)],
    ready: &str,
) -> (std::process::ExitStatus, String, String) {
    let (out, err) = (j.path("out.txt"), j.path("err.txt"));
    let mut child = j
        .command(&["run"], env)
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .spawn()
        .expect("start jianyan run");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !read(&err).contains(ready) {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("jianyan run did not get ready ({ready})\n--- stderr:\n{}", read(&err));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("send SIGINT");
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("jianyan run did not stop on SIGINT\n--- stderr:\n{}", read(&err));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, read(&out), read(&err))
}

/// Without a token the console runs alone, says the bot is off and how to turn it on, and makes
/// the first admin account with a password shown once.
#[cfg(unix)]
#[test]
fn run_without_a_token_serves_the_console_and_says_how_to_turn_the_bot_on() {
    let j = Jianyan::new();
    let (status, _, stderr) = run_until_ready_then_interrupt(&j, &[], "jianyan is running");
    assert_eq!(status.code(), Some(0), "--- stderr:\n{stderr}");
    for part in ["JIANYAN_BOT_TOKEN", "@BotFather", "the Telegram bot is off", "admin", "Jy-"] {
        assert!(stderr.contains(part), "stderr lacks {part}:\n{stderr}");
    }
    assert!(j.db().exists());
}

#[test]
fn run_with_an_invalid_token_never_prints_it() {
    let j = Jianyan::new();
    for token in ["not-a-token", "hunter2:letmein"] {
        let run = j.run_with(&["run"], &[("JIANYAN_BOT_TOKEN", token)]);
        assert_ne!(run.code, Some(0), "{run:?}");
        run.stderr_has("JIANYAN_BOT_TOKEN").stderr_has("does not look like a bot token").output_lacks(token);
        run.output_lacks("letmein").output_lacks("hunter2");
    }
}

/// A well-formed token, Telegram unreachable: jianyan keeps trying, never logs the token, and
/// stops cleanly on SIGINT.
#[cfg(unix)]
#[test]
fn run_never_logs_the_token_and_stops_on_sigint() {
    let j = Jianyan::new();
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let api_url = format!("http://127.0.0.1:{port}/");
    let env = [("JIANYAN_BOT_TOKEN", "123456:SECRETtokenXYZ"), ("TELOXIDE_API_URL", api_url.as_str())];
    let (status, stdout, stderr) = run_until_ready_then_interrupt(&j, &env, "getUpdates failed");
    assert_eq!(status.code(), Some(0), "--- stderr:\n{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    assert!(!stdout.contains("SECRETtokenXYZ") && !stderr.contains("SECRETtokenXYZ"), "token printed:\n{stderr}");
}

// ---------------------------------------------------------------------------------------------
// migrate
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn migrate_creates_the_database_and_its_folder() {
    let j = Jianyan::new();
    let db = j.path("var/lib/jianyan/j.db");
    let db_env = db.to_str().expect("utf-8 temp path");
    assert!(!db.parent().unwrap().exists());
    for _ in 0..2 {
        j.run_with(&["migrate"], &[("JIANYAN_DATABASE__PATH", db_env)])
            .expect_code(0)
            .stdout_has(&format!("数据库已是最新结构：{db_env}"));
    }
    assert!(db.is_file());
    let store = SqliteStore::open(&db, Duration::from_secs(5), 2).await.unwrap();
    assert!(store.members().await.unwrap().is_empty());
    assert!(store.topics().await.unwrap().is_empty());
    assert_eq!(count(&store, "invite_codes").await, 0);
}

#[test]
fn a_database_path_that_cannot_be_created_names_the_setting() {
    let j = Jianyan::new();
    j.write("file", "not a folder");
    let db = j.path("file/j.db");
    j.run_with(&["migrate"], &[("JIANYAN_DATABASE__PATH", db.to_str().unwrap())])
        .expect_code(1)
        .stderr_has("database.path")
        .stderr_has("file/j.db");
}

#[tokio::test]
async fn a_form_not_in_the_configured_list_is_refused_with_the_allowed_ones() {
    let j = Jianyan::new();
    let run = j.run(&["topics", "add", "--title", "城市更新", "--class", "立法类", "--form", "随便聊聊会"]);
    run.expect_code(1).stderr_has("协商形式「随便聊聊会」不在配置的列表中");
    for form in ["议政性常委会", "专题协商会", "委员工作站协商", "民主评议监督"] {
        run.stderr_has(form);
    }
    assert!(j.store().await.topics().await.unwrap().is_empty());
    j.run(&["topics", "add", "--title", "城市更新", "--class", "立法类", "--form", " 民主评议监督 "]).expect_code(0);
    assert_eq!(j.store().await.topics().await.unwrap()[0].form, "民主评议监督");
}
