//! The dialog step by step, against a real SQLite store and no Telegram.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::config::Config;
use crate::domain::{MemberLevel, MemberNo, SuggestionState, TopicClass};
use crate::reply::Keyboard;
use crate::store::{AttachmentKind, Commit, Committed, NewTopic, RosterRow, SqliteStore, prelude::*};

struct Harness {
    store: SqliteStore,
    texts: Texts,
    config: Config,
    now: DateTime<Utc>,
    dialog: Dialog,
    person: Person,
    pinned: i64,
    other: i64,
    _dir: tempfile::TempDir,
}

fn row(no: &str, name: &str) -> RosterRow {
    RosterRow {
        member_no: MemberNo::parse(no).unwrap(),
        name: name.into(),
        level: MemberLevel::District,
        workstation: Some("陆家嘴街道".into()),
        sector: "经济界".into(),
        phone: String::new(),
    }
}

fn topic(title: &str, pinned: bool) -> NewTopic {
    NewTopic {
        title: title.into(),
        description: "说明".into(),
        class: TopicClass::Plan,
        form: "专题协商会".into(),
        closes_at: None,
        pinned,
    }
}

impl Harness {
    /// A database with two members (PD001 张三, PD002 李四) and two open topics; the person is not registered.
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db"), std::time::Duration::from_secs(5), 4).await.unwrap();
        let now = Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap();
        store.import_members(&[row("PD001", "张三"), row("PD002", "李四")], now).await.unwrap();
        let other = store.add_topic(topic("建设现代化产业体系", false), now).await.unwrap().id;
        let pinned = store.add_topic(topic("\"十五五\"规划编制", true), now).await.unwrap().id;
        let config =
            Config::from_layers(None, vec![("JIANYAN_WORKFLOW__REVIEW_REPLIES".to_string(), "false".to_string())])
                .unwrap();
        Self {
            store,
            texts: Texts::built_in(),
            config,
            now,
            dialog: Dialog::default(),
            person: Person { user_id: 501, chat_id: 501, language_code: Some("zh-hans".into()) },
            pinned,
            other,
            _dir: dir,
        }
    }

    async fn registered() -> Self {
        let mut h = Self::new().await;
        let code = h.invite("PD001", 14).await;
        let out = h.send(Input::Command { name: "start".into(), arg: Some(code) }).await;
        assert!(texts(&out)[0].contains("张三委员"), "{out:?}");
        h
    }

    async fn invite(&self, member_no: &str, days: i64) -> String {
        let member = self.store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
        let code = invite::generate(&mut rand::thread_rng());
        self.store
            .create_invite(
                member.id,
                &invite::hash(&code),
                self.now - chrono::Duration::days(30),
                self.now + chrono::Duration::days(days),
            )
            .await
            .unwrap();
        code
    }

    /// Handles an input like the bot does: the dialog, then one commit.
    async fn send(&mut self, input: Input) -> Output {
        let ctx = Ctx { store: &self.store, texts: &self.texts, config: &self.config, now: self.now };
        let mut out = handle(&ctx, &self.person, self.dialog.clone(), input).await.unwrap();
        if let Some(state) = &out.state {
            self.dialog = state.clone();
        }
        let effects = std::mem::take(&mut out.effects);
        if out.submission.is_some() || !effects.is_empty() {
            let commit = Commit {
                update_id: None,
                chat_id: self.person.chat_id,
                dialog: None,
                messages: Vec::new(),
                submission: out.submission.take(),
                change: None,
                now: self.now,
            };
            let Committed::Done { outbox, .. } = self.store.commit_with(commit, effects).await.unwrap() else {
                panic!("not committed")
            };
            out.actions.extend(outbox.iter().map(|r| Action::decode(&r.payload).unwrap()));
        }
        out
    }

    async fn text(&mut self, s: &str) -> Output {
        self.send(Input::Text(s.into())).await
    }

    async fn cmd(&mut self, name: &str) -> Output {
        self.send(Input::Command { name: name.into(), arg: None }).await
    }

    async fn press(&mut self, out: &Output, label_contains: &str) -> Output {
        let data = button(out, label_contains);
        self.send(pressed(77, data)).await
    }

    fn t(&self, key: &str) -> String {
        self.texts.t(Lang::Zh, key, &[])
    }

    /// Walks from /new to the preview with one point on the pinned topic.
    async fn walk_to_preview(&mut self) -> Output {
        let out = self.cmd("new").await;
        let out = self.press(&out, "📌").await;
        self.press(&out, "建言资政").await;
        self.text("关于加快人工智能产业布局的建议").await;
        let out = self.text("建议设立产业引导基金。").await;
        self.press(&out, "完成").await
    }
}

fn texts(out: &Output) -> Vec<String> {
    out.actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { text, .. } => Some(text.clone()),
            Action::Retire { .. } | Action::File { .. } | Action::Upload { .. } => None,
        })
        .collect()
}

fn last_text(out: &Output) -> String {
    texts(out).pop().unwrap_or_default()
}

fn all_buttons(out: &Output) -> Vec<Choice> {
    out.actions
        .iter()
        .flat_map(|a| match a {
            Action::Send { keyboard: Keyboard::Choices(rows), .. } => rows.iter().flatten().cloned().collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn button(out: &Output, label_contains: &str) -> String {
    all_buttons(out)
        .into_iter()
        .find(|b| b.text.contains(label_contains))
        .map(|b| callback_data(&b))
        .unwrap_or_else(|| panic!("no button with «{label_contains}» in {out:?}"))
}

// ---- registration ----

#[tokio::test]
async fn strangers_are_told_how_to_register_and_can_do_nothing() {
    let mut h = Harness::new().await;
    for input in [
        Input::Text("你好".into()),
        Input::Command { name: "new".into(), arg: None },
        Input::Command { name: "start".into(), arg: None },
    ] {
        let out = h.send(input).await;
        assert_eq!(last_text(&out), h.t("register.not_registered"));
        assert!(out.submission.is_none() && out.state.is_none());
    }
    let out = h.send(pressed(1, "n:1:t:1")).await;
    assert_eq!(out.notice.as_deref(), Some(h.t("register.toast_not_registered").as_str()));
}

#[tokio::test]
async fn invite_codes_bind_once_and_are_checked() {
    let mut h = Harness::new().await;
    let out = h.send(Input::Command { name: "start".into(), arg: Some("ABCDEFGHJK".into()) }).await;
    assert_eq!(last_text(&out), h.t("register.code_unknown"));
    let expired = h.invite("PD001", -1).await;
    let out = h.send(Input::Command { name: "start".into(), arg: Some(expired) }).await;
    assert_eq!(last_text(&out), h.t("register.code_expired"));

    // Typed by hand, lower case with a space, works too.
    let code = h.invite("PD001", 14).await;
    let typed = format!("{} {}", code[..5].to_lowercase(), &code[5..]);
    let out = h.text(&typed).await;
    assert!(last_text(&out).contains("张三委员"), "{out:?}");
    assert!(matches!(out.actions.last(), Some(Action::Send { keyboard: Keyboard::Menu(_), .. })));

    // The same code from another Telegram account is refused.
    h.person = Person { user_id: 777, chat_id: 777, language_code: None };
    let out = h.send(Input::Command { name: "start".into(), arg: Some(code.clone()) }).await;
    assert_eq!(last_text(&out), h.t("register.code_used"));

    // An account bound to one member cannot take another member's code.
    h.person = Person { user_id: 501, chat_id: 501, language_code: None };
    let li = h.invite("PD002", 14).await;
    let out = h.send(Input::Command { name: "start".into(), arg: Some(li) }).await;
    assert!(last_text(&out).contains("张三委员"), "{out:?}");
    assert_eq!(h.store.member_by_telegram(501).await.unwrap().unwrap().name, "张三");
    let li = h.store.member_by_no(&MemberNo::parse("PD002").unwrap()).await.unwrap().unwrap();
    assert_eq!(li.telegram_user_id, None);
}

// ---- the guided suggestion ----

#[tokio::test]
async fn a_member_submits_a_one_point_suggestion_in_seven_steps() {
    let mut h = Harness::registered().await;
    // 1: the menu key (it arrives as the /new command).
    let out = h.cmd("new").await;
    let topics = all_buttons(&out);
    assert!(topics[0].text.starts_with("📌"), "pinned topic first: {topics:?}");
    assert!(topics.iter().any(|b| b.text.contains("建设现代化产业体系")));
    assert_eq!(topics.last().unwrap().text, h.t("dialog.topic_none"));
    let out = h.press(&out, "📌").await; // 2
    assert!(matches!(out.actions[0], Action::Retire { message_id: 77 }), "the pressed keyboard is removed");
    assert!(texts(&out).iter().any(|t| t.contains("十五五")));
    let out = h.press(&out, "社情民意").await; // 3
    assert!(last_text(&out).contains("标题"), "{out:?}");
    h.text("  关于加快人工智能产业布局的建议  ").await; // 4
    let out = h.text("建议设立产业引导基金。").await; // 5
    assert!(last_text(&out).contains("第1条"));
    let preview = h.press(&out, "完成").await; // 6
    let p = last_text(&preview);
    for part in ["十五五", "社情民意信息", "关于加快人工智能产业布局的建议", "1. 建议设立产业引导基金。"]
    {
        assert!(p.contains(part), "preview lacks {part}: {p}");
    }
    let out = h.press(&preview, "提交").await; // 7
    let receipt = last_text(&out);
    assert!(receipt.contains("PD-2025-0001"), "{receipt}");
    assert_eq!(h.dialog.step(), None);

    let member = h.store.member_by_telegram(501).await.unwrap().unwrap();
    let list = h.store.suggestions_of_member(member.id, 10).await.unwrap();
    assert_eq!(list.len(), 1);
    let saved = h.store.suggestion(list[0].id).await.unwrap().unwrap();
    assert_eq!(saved.title, "关于加快人工智能产业布局的建议");
    assert_eq!(saved.points, vec!["建议设立产业引导基金。".to_string()]);
    assert_eq!(saved.topic_id, Some(h.pinned));
    assert_eq!(saved.kind, SuggestionKind::PublicOpinion);
    assert_eq!(saved.state, SuggestionState::Submitted);
    assert_eq!(saved.timeline.len(), 1);

    // The next one gets the next number.
    let preview = h.walk_to_preview().await;
    let out = h.press(&preview, "提交").await;
    assert!(last_text(&out).contains("PD-2025-0002"));
}

#[tokio::test]
async fn several_points_and_attachments_are_kept_in_order() {
    let mut h = Harness::registered().await;
    let out = h.cmd("new").await;
    let out = h.press(&out, "其他").await;
    let _ = h.press(&out, "视察").await;
    h.text("视察报告").await;
    h.text("第一条").await;
    let photo = Attachment {
        kind: AttachmentKind::Photo,
        file_id: "F1".into(),
        file_unique_id: "U1".into(),
        file_name: None,
        mime_type: None,
        file_size: Some(10),
        width: Some(1),
        height: Some(1),
    };
    let out = h
        .send(Input::Attachment { attachment: photo, caption: Some("图片说明作为第二条".into()), album: None })
        .await;
    assert!(last_text(&out).contains("附件"));
    let doc = Attachment {
        kind: AttachmentKind::Document,
        file_id: "F2".into(),
        file_unique_id: "U2".into(),
        file_name: Some("报告.pdf".into()),
        mime_type: Some("application/pdf".into()),
        file_size: Some(99),
        width: None,
        height: None,
    };
    let out = h.send(Input::Attachment { attachment: doc, caption: None, album: None }).await;
    let preview = h.press(&out, "完成").await;
    let p = last_text(&preview);
    assert!(
        p.contains("1. 第一条")
            && p.contains("2. 图片说明作为第二条")
            && p.contains("报告.pdf")
            && p.contains(&h.t("render.no_topic")),
        "{p}"
    );
    let out = h.press(&preview, "提交").await;
    assert!(last_text(&out).contains("PD-2025-0001"));
    let member = h.store.member_by_telegram(501).await.unwrap().unwrap();
    let id = h.store.suggestions_of_member(member.id, 1).await.unwrap()[0].id;
    let s = h.store.suggestion(id).await.unwrap().unwrap();
    assert_eq!(s.topic_id, None);
    assert_eq!(s.points.len(), 2);
    assert_eq!(s.attachments.iter().map(|a| a.file_id.as_str()).collect::<Vec<_>>(), vec!["F1", "F2"]);
}

#[tokio::test]
async fn the_preview_edits_one_part_and_comes_back() {
    let mut h = Harness::registered().await;
    let preview = h.walk_to_preview().await;
    let out = h.press(&preview, "改标题").await;
    assert!(last_text(&out).contains("标题"));
    let preview = h.text("新的标题").await;
    assert!(last_text(&preview).contains("标题：新的标题"), "{preview:?}");
    let out = h.press(&preview, "改议题").await;
    let preview = h.press(&out, "建设现代化产业体系").await;
    assert!(last_text(&preview).contains("议题：建设现代化产业体系"));
    let out = h.press(&preview, "改类别").await;
    let preview = h.press(&out, "议政调研").await;
    assert!(last_text(&preview).contains("类别：议政调研"));
    h.press(&preview, "补充").await;
    let out = h.text("第二条建议").await;
    let preview = h.press(&out, "完成").await;
    assert!(last_text(&preview).contains("2. 第二条建议"));
    let out = h.press(&preview, "重写").await;
    assert!(all_buttons(&out).is_empty(), "no Done button before a point: {out:?}");
    let out = h.text("唯一的一条").await;
    let preview = h.press(&out, "完成").await;
    let p = last_text(&preview);
    assert!(p.contains("1. 唯一的一条") && !p.contains("2."), "{p}");
    let out = h.press(&preview, "放弃").await;
    assert_eq!(last_text(&out), h.t("dialog.discarded"));
    assert_eq!(h.dialog.step(), None);
}

#[tokio::test]
async fn a_deep_link_preselects_its_topic() {
    let mut h = Harness::registered().await;
    let out = h.send(Input::Command { name: "start".into(), arg: Some(format!("t{}", h.other)) }).await;
    assert!(texts(&out).iter().any(|t| t.contains("建设现代化产业体系")));
    assert_eq!(h.dialog.step(), Some(Step::Kind));
    assert_eq!(h.dialog.submission().unwrap().draft.topic, Some(TopicChoice::Topic(h.other)));
    // A link to a closed topic says so and offers the open ones.
    h.cmd("cancel").await;
    h.store.close_topic(h.other, h.now).await.unwrap();
    let out = h.send(Input::Command { name: "start".into(), arg: Some(format!("t{}", h.other)) }).await;
    assert_eq!(texts(&out)[0], h.t("dialog.topic_closed"));
    assert_eq!(h.dialog.step(), Some(Step::Topic));
}

// ---- bad input ----

#[tokio::test]
async fn bad_titles_and_points_are_refused_with_the_limit() {
    let mut h = Harness::registered().await;
    let out = h.cmd("new").await;
    let out = h.press(&out, "📌").await;
    h.press(&out, "建言资政").await;
    let out = h.text("   ").await;
    assert_eq!(texts(&out)[0], h.t("dialog.title_empty"));
    assert_eq!(h.dialog.step(), Some(Step::Title));
    let out = h.text(&"长".repeat(81)).await;
    assert!(texts(&out)[0].contains("80") && texts(&out)[0].contains("81"), "{out:?}");
    assert_eq!(h.dialog.step(), Some(Step::Title));
    h.text(&"长".repeat(80)).await;
    assert_eq!(h.dialog.step(), Some(Step::Body));

    // Done before any point has no button; a forged Done is refused.
    let nonce = h.dialog.nonce;
    let out = h.send(pressed(1, format!("n:{nonce}:done"))).await;
    assert_eq!(texts(&out)[0], h.t("dialog.body_needs_point"));
    let out = h.text(&"字".repeat(2001)).await;
    assert!(texts(&out)[0].contains("2000") && texts(&out)[0].contains("2001"));
    assert!(h.dialog.submission().unwrap().draft.points.is_empty());
    let out = h.text(" \n ").await;
    assert_eq!(texts(&out)[0], h.t("dialog.point_empty"));
    for i in 0..30 {
        h.text(&format!("第{i}条")).await;
    }
    let out = h.text("第31条").await;
    assert!(texts(&out)[0].contains("30"), "{out:?}");
    assert_eq!(h.dialog.submission().unwrap().draft.points.len(), 30);
}

#[tokio::test]
async fn unsupported_media_text_for_buttons_commands_and_edits_get_the_question_again() {
    let mut h = Harness::registered().await;
    h.cmd("new").await;
    // Text where a button is expected.
    let out = h.text("我想写关于交通的").await;
    assert_eq!(texts(&out)[0], h.t("input.use_buttons"));
    assert_eq!(texts(&out)[1], h.t("dialog.ask_topic"), "the question is asked again");
    // A voice message.
    let out = h.send(Input::Unsupported(UnsupportedKind::Voice)).await;
    assert!(texts(&out)[0].contains("语音消息"));
    assert_eq!(texts(&out)[1], h.t("dialog.ask_topic"));
    // Another command in the middle.
    let out = h.cmd("my").await;
    assert_eq!(texts(&out)[0], h.t("dialog.busy"));
    assert_eq!(h.dialog.step(), Some(Step::Topic));
    // An edited message.
    let out = h.send(Input::Edited).await;
    assert_eq!(texts(&out)[0], h.t("input.edited"));
    // Help keeps the place.
    let out = h.cmd("help").await;
    assert_eq!(texts(&out)[0], h.t("help.text"));
    assert_eq!(h.dialog.step(), Some(Step::Topic));
    // A photo as the title.
    let out = h.press(&out, "📌").await;
    h.press(&out, "建言资政").await;
    let photo = Attachment {
        kind: AttachmentKind::Photo,
        file_id: "F".into(),
        file_unique_id: "U".into(),
        file_name: None,
        mime_type: None,
        file_size: None,
        width: None,
        height: None,
    };
    let out = h.send(Input::Attachment { attachment: photo, caption: None, album: None }).await;
    assert_eq!(texts(&out)[0], h.t("dialog.title_needs_text"));
    // Cancel leaves and deletes the draft.
    let out = h.cmd("cancel").await;
    assert_eq!(texts(&out)[0], h.t("dialog.cancelled"));
    assert_eq!(h.dialog.step(), None);
    assert_eq!(h.dialog.flow, Flow::Idle);
    let out = h.send(Input::NotPrivate).await;
    assert_eq!(texts(&out)[0], h.t("chat.private_only"));
}

#[tokio::test]
async fn stale_and_forged_buttons_are_refused_and_never_acted_on() {
    let mut h = Harness::registered().await;
    let first = h.cmd("new").await;
    h.press(&first, "📌").await;
    // The topic keyboard again, after it was answered.
    let stale = h.press(&first, "建设现代化产业体系").await;
    assert_eq!(stale.notice.as_deref(), Some(h.t("button.stale").as_str()));
    assert_eq!(
        h.dialog.submission().unwrap().draft.topic,
        Some(TopicChoice::Topic(h.pinned)),
        "the stale press changed nothing"
    );
    assert_eq!(h.dialog.step(), Some(Step::Kind), "and the kind question is asked again");
    assert!(all_buttons(&stale).iter().any(|b| b.text == "建言资政"));
    // A closed topic chosen from a current keyboard.
    h.cmd("cancel").await;
    let out = h.cmd("new").await;
    h.store.close_topic(h.other, h.now).await.unwrap();
    let out2 = h.press(&out, "建设现代化产业体系").await;
    assert_eq!(out2.notice.as_deref(), Some(h.t("dialog.topic_closed").as_str()));
    assert_eq!(h.dialog.step(), Some(Step::Topic));
    // Made-up data.
    let out = h.send(pressed(1, "drop table")).await;
    assert_eq!(out.notice.as_deref(), Some(h.t("button.invalid").as_str()));
    assert!(out.actions.is_empty());
    // Submitting twice: the second press finds no draft.
    h.cmd("cancel").await;
    let preview = h.walk_to_preview().await;
    let data = button(&preview, "提交");
    h.send(pressed(5, data.clone())).await;
    let again = h.send(pressed(5, data)).await;
    assert!(again.submission.is_none());
    assert_eq!(again.notice.as_deref(), Some(h.t("button.stale").as_str()));
    let member = h.store.member_by_telegram(501).await.unwrap().unwrap();
    assert_eq!(h.store.suggestions_of_member(member.id, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_member_sees_only_their_own_suggestions() {
    let mut h = Harness::registered().await;
    let preview = h.walk_to_preview().await;
    h.press(&preview, "提交").await;
    let out = h.cmd("my").await;
    assert!(last_text(&out).contains("PD-2025-0001") && last_text(&out).contains("已提交"), "{out:?}");
    let detail = h.press(&out, "PD-2025-0001").await;
    let d = last_text(&detail);
    assert!(d.contains("办理进程") && d.contains("委员提交") && d.contains("1. 建议设立产业引导基金。"), "{d}");
    let own_id: i64 = button(&out, "PD-2025-0001")[2..].parse().unwrap();

    // 李四 registers and forges a button for 张三's suggestion.
    let code = h.invite("PD002", 14).await;
    h.person = Person { user_id: 502, chat_id: 502, language_code: None };
    h.dialog = Dialog::default();
    h.send(Input::Command { name: "start".into(), arg: Some(code) }).await;
    let out = h.send(pressed(1, format!("s:{own_id}"))).await;
    assert_eq!(out.notice.as_deref(), Some(h.t("button.not_yours").as_str()));
    assert!(!texts(&out).iter().any(|t| t.contains("产业引导基金")));
    let out = h.cmd("my").await;
    assert_eq!(last_text(&out), h.t("my.empty"));
}

#[tokio::test]
async fn topics_lists_open_topics_with_a_button_each() {
    let mut h = Harness::registered().await;
    let out = h.cmd("topics").await;
    let text = last_text(&out);
    assert!(text.contains("📌") && text.contains("十五五") && text.contains("建设现代化产业体系"), "{text}");
    let out = h.press(&out, "产业体系").await;
    assert_eq!(h.dialog.step(), Some(Step::Kind));
    assert!(texts(&out)[0].contains("建设现代化产业体系"));
}

#[tokio::test]
async fn english_speakers_get_english() {
    let mut h = Harness::new().await;
    h.person.language_code = Some("en".into());
    let out = h.text("hello").await;
    assert!(last_text(&out).starts_with("Hello!"), "{out:?}");
}

#[test]
fn dialog_state_round_trips_through_json() {
    let mut d =
        Dialog { nonce: 9, flow: Flow::Submission(Submission { step: Step::Preview, draft: Draft::default() }) };
    for topic in [None, Some(TopicChoice::General), Some(TopicChoice::Topic(3))] {
        let Flow::Submission(s) = &mut d.flow else { unreachable!() };
        s.draft.topic = topic;
        let back: Dialog = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }
}

#[tokio::test]
async fn done_on_an_earlier_point_of_the_same_draft_works_but_not_of_an_earlier_draft() {
    let mut h = Harness::registered().await;
    let out = h.cmd("new").await;
    let out = h.press(&out, "📌").await;
    h.press(&out, "建言资政").await;
    h.text("标题").await;
    let first = h.text("第一点内容").await;
    h.text("第二点内容").await;
    let preview = h.press(&first, "完成").await;
    let p = last_text(&preview);
    assert!(p.contains("1. 第一点内容") && p.contains("2. 第二点内容"), "{p}");
    h.press(&preview, "放弃").await;

    // A new draft at the same step: the earlier draft's 完成 is stale, as is any from before.
    let out = h.cmd("new").await;
    let out = h.press(&out, "📌").await;
    h.press(&out, "建言资政").await;
    h.text("另一篇").await;
    h.text("新内容").await;
    let out = h.press(&first, "完成").await;
    assert_eq!(texts(&out)[0], h.t("button.stale"));
    assert_eq!(h.dialog.step(), Some(Step::Body), "still collecting the new draft");
    assert_eq!(h.dialog.submission().unwrap().draft.points, vec!["新内容".to_string()]);
}
