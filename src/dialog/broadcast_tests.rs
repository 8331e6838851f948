//! The broadcast composer step by step, against a real SQLite store and no Telegram.

use chrono::{DateTime, TimeZone, Utc};
use sqlx::Row;

use super::*;
use crate::config::Config;
use crate::context::Ctx;
use crate::dialog::{Dialog, Output, Person, callback_data, handle, pressed};
use crate::domain::{MemberLevel, MemberNo, TopicClass};
use crate::invite;
use crate::store::{Commit, Committed, DeliveryResult, InviteTarget, NewTopic, RosterRow, SqliteStore, prelude::*};

const STAFF_CHAT: i64 = 900;

struct Harness {
    store: SqliteStore,
    texts: Texts,
    config: Config,
    now: DateTime<Utc>,
    dialog: Dialog,
    person: Person,
    pinned: i64,
    _dir: tempfile::TempDir,
}

fn row(no: &str, name: &str, level: MemberLevel, workstation: &str, sector: &str) -> RosterRow {
    RosterRow {
        member_no: MemberNo::parse(no).unwrap(),
        name: name.into(),
        level,
        workstation: Some(workstation.into()),
        sector: sector.into(),
        phone: String::new(),
    }
}

/// 36 workstations as in Pudong: 陆家嘴街道 is the 1st, 潍坊新村街道 the 14th, 塘桥街道 the 30th.
fn workstations() -> Vec<(String, String)> {
    (1..=36)
        .map(|i| {
            let name = match i {
                1 => "陆家嘴街道".to_string(),
                14 => "潍坊新村街道".to_string(),
                30 => "塘桥街道".to_string(),
                i => format!("第{i:02}镇"),
            };
            (name, "街镇".to_string())
        })
        .collect()
}

impl Harness {
    /// Members: 张三 (区, 陆家嘴, 经济界, zh) 李四 (区, 陆家嘴, 教育界, en) 王五 (街镇, 潍坊新村, 教育界)
    /// can be reached; 赵六 (市, 潍坊新村, 经济界) blocked the bot, 钱七 (街镇, 潍坊新村, 教育界) is not
    /// registered, 孙八 (区, 塘桥, 医药卫生界) is inactive. The person is a registered staff member.
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db"), std::time::Duration::from_secs(5), 4).await.unwrap();
        let now = Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap();
        store.upsert_workstations(&workstations()).await.unwrap();
        let rows = [
            row("PD001", "张三", MemberLevel::District, "陆家嘴街道", "经济界"),
            row("PD002", "李四", MemberLevel::District, "陆家嘴街道", "教育界"),
            row("PD003", "王五", MemberLevel::Street, "潍坊新村街道", "教育界"),
            row("PD004", "赵六", MemberLevel::City, "潍坊新村街道", "经济界"),
            row("PD005", "钱七", MemberLevel::Street, "潍坊新村街道", "教育界"),
            row("PD006", "孙八", MemberLevel::District, "塘桥街道", "医药卫生界"),
        ];
        store.import_members(&rows, now).await.unwrap();
        let topic = |title: &str, pinned| NewTopic {
            title: title.into(),
            description: String::new(),
            class: TopicClass::Plan,
            form: "专题协商会".into(),
            closes_at: None,
            pinned,
        };
        store.add_topic(topic("建设现代化产业体系", false), now).await.unwrap();
        let pinned = store.add_topic(topic("\"十五五\"规划编制", true), now).await.unwrap().id;
        let h = Self {
            store,
            texts: Texts::built_in(),
            config: Config::from_layers(None, Vec::new()).unwrap(),
            now,
            dialog: Dialog::default(),
            person: Person { user_id: STAFF_CHAT, chat_id: STAFF_CHAT, language_code: Some("zh-hans".into()) },
            pinned,
            _dir: dir,
        };
        for (no, user, lang) in [
            ("PD001", 1001, "zh-hans"),
            ("PD002", 1002, "en"),
            ("PD003", 1003, "zh"),
            ("PD004", 1004, "zh"),
            ("PD006", 1006, "zh"),
        ] {
            h.bind_member(no, user, lang).await;
        }
        h.sql("UPDATE members SET unreachable_at = '2025-02-01T00:00:00+00:00' WHERE member_no = 'PD004'").await;
        h.sql("UPDATE members SET status = 'inactive' WHERE member_no = 'PD006'").await;
        let staff = h.store.add_staff("周工作人员", now).await.unwrap();
        let code = invite::generate(&mut rand::thread_rng());
        h.store
            .create_invite_for(
                InviteTarget::Staff(staff.id),
                &invite::hash(&code),
                now,
                now + chrono::Duration::days(1),
            )
            .await
            .unwrap();
        h.store.redeem_invite(&invite::hash(&code), STAFF_CHAT, STAFF_CHAT, Some("zh-hans"), now).await.unwrap();
        h
    }

    async fn bind_member(&self, member_no: &str, user_id: i64, lang: &str) {
        let member = self.store.member_by_no(&MemberNo::parse(member_no).unwrap()).await.unwrap().unwrap();
        let code = invite::generate(&mut rand::thread_rng());
        let hash = invite::hash(&code);
        self.store.create_invite(member.id, &hash, self.now, self.now + chrono::Duration::days(1)).await.unwrap();
        self.store.redeem_invite(&hash, user_id, user_id, Some(lang), self.now).await.unwrap();
    }

    async fn sql(&self, sql: &str) {
        sqlx::query(sql).execute(self.store.pool()).await.unwrap();
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(self.store.pool()).await.unwrap()
    }

    async fn send(&mut self, input: Input) -> Output {
        let person = self.person.clone();
        self.send_as(&person, input).await
    }

    /// Handles an input like the bot does; the staff chat's state is kept between inputs.
    async fn send_as(&mut self, person: &Person, input: Input) -> Output {
        let ctx = Ctx { store: &self.store, texts: &self.texts, config: &self.config, now: self.now };
        let dialog = if person.chat_id == self.person.chat_id { self.dialog.clone() } else { Dialog::default() };
        let mut out = handle(&ctx, person, dialog, input).await.unwrap();
        if let (Some(state), true) = (&out.state, person.chat_id == self.person.chat_id) {
            self.dialog = state.clone();
        }
        // The writes asked for go in one commit with the chat's state, as the bot does it; their
        // answers follow what was said.
        let effects = std::mem::take(&mut out.effects);
        if !effects.is_empty() {
            let commit = Commit {
                update_id: None,
                chat_id: person.chat_id,
                dialog: out.state.as_ref().map(|d| serde_json::to_string(d).unwrap()),
                messages: Vec::new(),
                submission: None,
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

    async fn start(&mut self) -> Output {
        self.send(Input::Command { name: "broadcast".into(), arg: None }).await
    }

    async fn press(&mut self, out: &Output, label_contains: &str) -> Output {
        let data = button(out, label_contains);
        self.send(pressed(77, data)).await
    }

    fn t(&self, key: &str) -> String {
        self.texts.t(Lang::Zh, key, &[])
    }

    fn ta(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        self.texts.t(Lang::Zh, key, args)
    }

    /// From /broadcast to the audience question, on the pinned topic.
    async fn walk_to_audience(&mut self, text: &str) -> Output {
        let out = self.start().await;
        self.press(&out, "📌").await;
        self.text(text).await
    }

    fn step(&self) -> Option<BroadcastStep> {
        self.dialog.broadcast().map(|d| d.step)
    }

    /// (chat id, decoded action) of each queued broadcast message, by chat.
    async fn queued(&self) -> Vec<(i64, Action)> {
        let rows = sqlx::query(
            "SELECT chat_id, payload FROM outbox WHERE broadcast_id IS NOT NULL AND priority = 2 ORDER BY chat_id",
        )
        .fetch_all(self.store.pool())
        .await
        .unwrap();
        rows.iter()
            .map(|r| (r.get::<i64, _>("chat_id"), Action::decode(&r.get::<String, _>("payload")).unwrap()))
            .collect()
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

fn labels(out: &Output) -> Vec<String> {
    all_buttons(out).into_iter().map(|b| b.text).collect()
}

fn button(out: &Output, label_contains: &str) -> String {
    all_buttons(out)
        .into_iter()
        .find(|b| b.text.contains(label_contains))
        .map(|b| callback_data(&b))
        .unwrap_or_else(|| panic!("no button with «{label_contains}» in {out:?}"))
}

fn only_button(action: &Action) -> Choice {
    match action {
        Action::Send { keyboard: Keyboard::Choices(rows), .. } => {
            let all: Vec<Choice> = rows.iter().flatten().cloned().collect();
            assert_eq!(all.len(), 1, "{action:?}");
            all[0].clone()
        }
        other => panic!("no inline button: {other:?}"),
    }
}

fn text_of(action: &Action) -> &str {
    match action {
        Action::Send { text, .. } => text,
        other => panic!("not a message: {other:?}"),
    }
}

const ANNOUNCEMENT: &str = "区政协将于3月召开专题协商会，围绕\"十五五\"规划编制听取委员意见，欢迎提出建议。";

#[tokio::test]
async fn composing_on_a_topic_for_everyone_queues_one_message_per_reachable_member() {
    let mut h = Harness::new().await;
    // 1. The topic: the open topics, "no topic", the progress list and cancel.
    let out = h.start().await;
    assert_eq!(texts(&out), vec![h.t("broadcast.ask_topic")]);
    let buttons = labels(&out);
    assert!(buttons[0].starts_with("📌") && buttons[0].contains("十五五"), "{buttons:?}");
    for label in ["建设现代化产业体系", "不针对具体议题", "📊 已发通知的进度", "✖ 取消"] {
        assert!(buttons.iter().any(|b| b == label), "{label} missing from {buttons:?}");
    }
    // 2. The text.
    let out = h.press(&out, "📌").await;
    assert_eq!(out.actions[0], Action::Retire { message_id: 77 });
    assert_eq!(
        texts(&out),
        vec![
            h.ta("broadcast.topic_chosen", &[("title", &"\"十五五\"规划编制")]),
            h.ta("broadcast.ask_text", &[("max", &3500)])
        ]
    );
    // 3. The audience, with how many each choice reaches.
    let out = h.text(&format!("  {ANNOUNCEMENT}\n")).await;
    assert_eq!(last_text(&out), h.t("broadcast.ask_audience"));
    assert_eq!(labels(&out), vec!["全体委员（3）", "按层级", "按委员工作站", "按界别", "✖ 取消"]);
    // 4. The preview: the member's copy exactly, then the summary with the count.
    let preview = h.press(&out, "全体委员").await;
    let shown = texts(&preview);
    let copy = format!(
        "📢 区政协通知\n\n{ANNOUNCEMENT}\n\n协商议题：《\"十五五\"规划编制》\n欢迎点击下方按钮，就这个议题提交建言。"
    );
    assert_eq!(shown[0], copy);
    assert!(shown[1].contains("发送对象：全体委员") && shown[1].contains("将发送给：3位委员"), "{}", shown[1]);
    assert!(labels(&preview).contains(&"📝 就《\"十五五\"规划编制》建言".to_string()));
    // Its button only explains itself.
    let demo = h.press(&preview, "📝 就").await;
    assert_eq!(demo.notice.as_deref(), Some(h.t("broadcast.preview_button").as_str()));
    assert!(demo.actions.is_empty() && demo.state.is_none());
    // 5. Confirm.
    let done = h.press(&preview, "确认发送").await;
    assert_eq!(last_text(&done), h.ta("broadcast.queued", &[("id", &1), ("count", &3)]));
    assert_eq!(labels(&done), vec!["🔄 刷新进度", "⛔ 停止发送"]);
    assert_eq!(h.dialog.broadcast(), None);
    assert_eq!(done.state.as_ref().unwrap().broadcast(), None);

    // One message per reachable member: not the blocked, unregistered or inactive ones.
    let queued = h.queued().await;
    assert_eq!(queued.iter().map(|(chat, _)| *chat).collect::<Vec<_>>(), vec![1001, 1002, 1003]);
    let new_on_topic = format!("new:{}", h.pinned);
    // Chinese for 张三 and 王五, exactly as previewed; English around the text for 李四.
    for (chat, action) in &queued {
        assert_eq!(callback_data(&only_button(action)), new_on_topic);
        if *chat == 1002 {
            assert!(text_of(action).starts_with("📢 From the district committee\n\n"), "{action:?}");
            assert!(text_of(action).contains(ANNOUNCEMENT));
            assert_eq!(only_button(action).text, "📝 Suggest on «\"十五五\"规划编制»");
        } else {
            assert_eq!(text_of(action), copy);
        }
    }
    let b = sqlx::query("SELECT topic_id, text, audience_kind, audience_value, total, status FROM broadcasts")
        .fetch_one(h.store.pool())
        .await
        .unwrap();
    assert_eq!(b.get::<Option<i64>, _>("topic_id"), Some(h.pinned));
    assert_eq!(b.get::<String, _>("text"), ANNOUNCEMENT);
    assert_eq!(b.get::<String, _>("audience_kind"), "all");
    assert_eq!(b.get::<i64, _>("total"), 3);
    assert_eq!(b.get::<String, _>("status"), "sending");
    // The staff chat's state without the draft was saved with the broadcast.
    let saved: Dialog = serde_json::from_str(&h.store.dialog_state(STAFF_CHAT).await.unwrap().unwrap()).unwrap();
    assert_eq!(saved, h.dialog);
}

#[tokio::test]
async fn without_a_topic_the_button_starts_a_suggestion_on_no_topic() {
    let mut h = Harness::new().await;
    let out = h.start().await;
    let out = h.press(&out, "不针对具体议题").await;
    assert_eq!(texts(&out), vec![h.ta("broadcast.ask_text", &[("max", &3500)])]);
    let out = h.text("请各位委员关注近期社情民意。").await;
    let preview = h.press(&out, "全体委员").await;
    assert_eq!(texts(&preview)[0], "📢 区政协通知\n\n请各位委员关注近期社情民意。");
    assert!(texts(&preview)[1].contains("议题：不针对具体议题"));
    h.press(&preview, "确认发送").await;
    let queued = h.queued().await;
    assert_eq!(queued.len(), 3);
    assert!(queued.iter().all(|(_, a)| callback_data(&only_button(a)) == "new"));
    assert_eq!(only_button(&queued[0].1).text, "📝 提交建言");
}

#[tokio::test]
async fn bad_text_and_input_where_a_button_is_expected_are_refused_and_asked_again() {
    let mut h = Harness::new().await;
    let out = h.start().await;
    // Text where a button is expected.
    let again = h.text("十五五").await;
    assert_eq!(texts(&again), vec![h.t("broadcast.use_buttons"), h.t("broadcast.ask_topic")]);
    assert_eq!(h.step(), Some(BroadcastStep::Topic));
    h.press(&again, "📌").await;
    let ask = h.ta("broadcast.ask_text", &[("max", &3500)]);
    // Empty.
    let out2 = h.text("   \n ").await;
    assert_eq!(texts(&out2), vec![h.t("broadcast.text_empty"), ask.clone()]);
    // Too long, with the length.
    let out2 = h.text(&"议".repeat(3501)).await;
    assert_eq!(texts(&out2), vec![h.ta("broadcast.text_too_long", &[("max", &3500), ("len", &3501)]), ask.clone()]);
    assert_eq!(h.step(), Some(BroadcastStep::Text));
    // A photo, a sticker.
    let photo = crate::store::Attachment {
        kind: crate::store::AttachmentKind::Photo,
        file_id: "f".into(),
        file_unique_id: "u".into(),
        file_name: None,
        mime_type: None,
        file_size: None,
        width: None,
        height: None,
    };
    let out2 = h.send(Input::Attachment { attachment: photo, caption: Some("说明".into()), album: None }).await;
    assert_eq!(texts(&out2), vec![h.t("broadcast.text_only"), ask.clone()]);
    let out2 = h.send(Input::Unsupported(crate::dialog::UnsupportedKind::Sticker)).await;
    assert_eq!(texts(&out2), vec![h.t("broadcast.text_only"), ask.clone()]);
    // Exactly the limit is fine.
    let out2 = h.text(&"议".repeat(3500)).await;
    assert_eq!(last_text(&out2), h.t("broadcast.ask_audience"));
    // Text at the audience step.
    let out3 = h.text("全体").await;
    assert_eq!(texts(&out3), vec![h.t("broadcast.use_buttons"), h.t("broadcast.ask_audience")]);
    // /broadcast again does not lose the draft.
    let out4 = h.start().await;
    assert_eq!(texts(&out4), vec![h.t("broadcast.busy"), h.t("broadcast.ask_audience")]);
    assert_eq!(h.dialog.broadcast().unwrap().text.as_deref(), Some("议".repeat(3500).as_str()));
    let _ = out;
}

#[tokio::test]
async fn audience_counts_follow_level_workstation_and_sector() {
    let mut h = Harness::new().await;
    let out = h.walk_to_audience(ANNOUNCEMENT).await;

    // By level: 区 reaches 张三 and 李四 (孙八 is inactive), 街镇 王五 (钱七 is not registered),
    // 市 nobody (赵六 blocked the bot).
    let levels = h.press(&out, "按层级").await;
    assert_eq!(last_text(&levels), h.t("broadcast.ask_level"));
    assert_eq!(labels(&levels), vec!["市（0）", "区（2）", "街镇（1）", "↩ 返回", "✖ 取消"]);
    let preview = h.press(&levels, "区（2）").await;
    assert!(texts(&preview)[1].contains("发送对象：层级：区") && texts(&preview)[1].contains("将发送给：2位委员"));

    // By workstation: 36, twelve to a page; 潍坊新村街道 is on the second page.
    let back = h.press(&preview, "改对象").await;
    let page1 = h.press(&back, "按委员工作站").await;
    assert_eq!(last_text(&page1), h.ta("broadcast.ask_workstation", &[("page", &1), ("pages", &3)]));
    let ws: Vec<String> = labels(&page1).into_iter().filter(|l| l.contains('（')).collect();
    assert_eq!(ws.len(), 12);
    assert_eq!(ws[0], "陆家嘴街道（2）");
    assert!(labels(&page1).contains(&"下一页 ▶".to_string()) && !labels(&page1).contains(&"◀ 上一页".to_string()));
    let page2 = h.press(&page1, "下一页").await;
    assert_eq!(last_text(&page2), h.ta("broadcast.ask_workstation", &[("page", &2), ("pages", &3)]));
    assert!(labels(&page2).contains(&"潍坊新村街道（1）".to_string()), "{:?}", labels(&page2));
    assert!(labels(&page2).contains(&"◀ 上一页".to_string()));
    let page3 = h.press(&page2, "下一页").await;
    assert!(labels(&page3).contains(&"塘桥街道（0）".to_string()));
    assert!(!labels(&page3).contains(&"下一页 ▶".to_string()));
    let page2 = h.press(&page3, "上一页").await;
    let preview = h.press(&page2, "潍坊新村街道").await;
    assert!(
        texts(&preview)[1].contains("委员工作站：潍坊新村街道") && texts(&preview)[1].contains("将发送给：1位委员")
    );

    // By sector: sectors of active members only, each with its reach.
    let back = h.press(&preview, "改对象").await;
    let sectors = h.press(&back, "按界别").await;
    assert_eq!(labels(&sectors), vec!["教育界（2）", "经济界（1）", "↩ 返回", "✖ 取消"]);
    let preview = h.press(&sectors, "教育界").await;
    assert!(texts(&preview)[1].contains("界别：教育界") && texts(&preview)[1].contains("将发送给：2位委员"));

    // The text is kept throughout; the broadcast goes to exactly 李四 and 王五.
    h.press(&preview, "确认发送").await;
    let chats: Vec<i64> = h.queued().await.into_iter().map(|(c, _)| c).collect();
    assert_eq!(chats, vec![1002, 1003]);
    assert_eq!(
        h.count(
            "SELECT COUNT(*) FROM broadcasts WHERE audience_kind = 'sector' AND audience_value = '教育界' AND total = 2"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_audience_nobody_can_receive_cannot_be_confirmed() {
    let mut h = Harness::new().await;
    let out = h.walk_to_audience(ANNOUNCEMENT).await;
    let levels = h.press(&out, "按层级").await;
    let preview = h.press(&levels, "市（0）").await;
    assert!(texts(&preview)[1].contains("目前没有能收到消息的委员"), "{}", texts(&preview)[1]);
    assert!(!labels(&preview).iter().any(|l| l.contains("确认发送")), "{:?}", labels(&preview));
    // Back to the audience from there.
    let back = h.press(&preview, "改对象").await;
    assert_eq!(last_text(&back), h.t("broadcast.ask_audience"));
    assert_eq!(h.count("SELECT COUNT(*) FROM broadcasts").await, 0);
}

#[tokio::test]
async fn the_preview_can_change_the_text_and_come_back() {
    let mut h = Harness::new().await;
    let out = h.walk_to_audience("第一稿").await;
    let preview = h.press(&out, "全体委员").await;
    let ask = h.press(&preview, "改正文").await;
    assert_eq!(last_text(&ask), h.ta("broadcast.ask_text", &[("max", &3500)]));
    let preview = h.text("第二稿").await;
    assert_eq!(
        texts(&preview)[0],
        "📢 区政协通知\n\n第二稿\n\n协商议题：《\"十五五\"规划编制》\n欢迎点击下方按钮，就这个议题提交建言。"
    );
    assert!(texts(&preview)[1].contains("发送对象：全体委员"));
}

#[tokio::test]
async fn cancel_at_any_step_leaves_and_sends_nothing() {
    let mut h = Harness::new().await;
    let out = h.start().await;
    let out = h.press(&out, "📌").await;
    let cancelled = h.press(&out, "取消").await;
    assert_eq!(last_text(&cancelled), h.t("broadcast.cancelled"));
    assert!(matches!(cancelled.actions.last(), Some(Action::Send { keyboard: Keyboard::Menu(_), .. })));
    assert_eq!(h.dialog.broadcast(), None);
    // From the preview too.
    let out = h.walk_to_audience(ANNOUNCEMENT).await;
    let preview = h.press(&out, "全体委员").await;
    let cancelled = h.press(&preview, "取消").await;
    assert_eq!(last_text(&cancelled), h.t("broadcast.cancelled"));
    // The old preview's confirm is stale now.
    let late = h.press(&preview, "确认发送").await;
    assert_eq!(late.notice.as_deref(), Some(h.t("button.stale").as_str()));
    assert_eq!(h.count("SELECT COUNT(*) FROM broadcasts").await, 0);
    assert_eq!(h.count("SELECT COUNT(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn stale_and_forged_buttons_are_refused_politely() {
    let mut h = Harness::new().await;
    let topics = h.start().await;
    let text_step = h.press(&topics, "📌").await;
    // The topic keyboard again, once answered.
    let stale = h.press(&topics, "建设现代化产业体系").await;
    assert_eq!(stale.notice.as_deref(), Some(h.t("button.stale").as_str()));
    assert_eq!(texts(&stale), vec![h.t("button.stale"), h.ta("broadcast.ask_text", &[("max", &3500)])]);
    assert_eq!(h.dialog.broadcast().unwrap().topic, Some(TopicChoice::Topic(h.pinned)));
    // A right nonce at the wrong step.
    let nonce = h.dialog.nonce;
    let wrong = h.send(pressed(1, format!("b:{nonce}:ok"))).await;
    assert_eq!(wrong.notice.as_deref(), Some(h.t("button.stale").as_str()));
    // Data that does not parse, and broadcasts that do not exist.
    for data in ["b:", "b:zz", "b:1:w:abc", "b:p:-3", "b:1:k:all"] {
        let out = h.send(pressed(1, data)).await;
        assert_eq!(out.notice.as_deref(), Some(h.t("button.invalid").as_str()), "{data}");
        assert!(out.state.is_none(), "{data}");
    }
    for data in ["b:p:999", "b:c:999", "b:cc:999"] {
        let out = h.send(pressed(1, data)).await;
        assert_eq!(last_text(&out), h.t("broadcast.not_found"), "{data}");
    }
    assert_eq!(h.step(), Some(BroadcastStep::Text));
    // An older keyboard of the same step: the audience asked again after going back.
    let first = h.text(ANNOUNCEMENT).await;
    let levels = h.press(&first, "按层级").await;
    let second = h.press(&levels, "返回").await;
    assert_eq!(last_text(&second), h.t("broadcast.ask_audience"));
    let old = h.press(&first, "全体委员").await;
    assert_eq!(old.notice.as_deref(), Some(h.t("button.stale").as_str()));
    assert_eq!(h.step(), Some(BroadcastStep::Audience));
    // The stale answer asked again with fresh buttons, which work.
    assert!(h.press(&old, "全体委员").await.notice.is_none());
    assert_eq!(h.step(), Some(BroadcastStep::Preview));
    // A member pressing a broadcast button never reaches the composer.
    let member = Person { user_id: 1001, chat_id: 1001, language_code: Some("zh-hans".into()) };
    let out = h.send_as(&member, pressed(1, "b:cc:1")).await;
    assert_eq!(out.notice.as_deref(), Some(h.t("button.invalid").as_str()));
    let _ = text_step;
}

#[tokio::test]
async fn a_confirmation_handled_twice_sends_once() {
    let mut h = Harness::new().await;
    let out = h.walk_to_audience(ANNOUNCEMENT).await;
    let preview = h.press(&out, "全体委员").await;
    let before = h.dialog.clone();
    h.press(&preview, "确认发送").await;
    // A double tap, and the same update processed again from the state saved with the broadcast.
    let again = h.press(&preview, "确认发送").await;
    assert_eq!(again.notice.as_deref(), Some(h.t("button.stale").as_str()));
    h.dialog = serde_json::from_str(&h.store.dialog_state(STAFF_CHAT).await.unwrap().unwrap()).unwrap();
    assert_ne!(h.dialog, before);
    let replay = h.press(&preview, "确认发送").await;
    assert_eq!(replay.notice.as_deref(), Some(h.t("button.stale").as_str()));
    assert_eq!(h.count("SELECT COUNT(*) FROM broadcasts").await, 1);
    assert_eq!(h.count("SELECT COUNT(*) FROM outbox WHERE broadcast_id = 1").await, 3);
}

#[tokio::test]
async fn a_topic_closed_before_confirming_is_chosen_again() {
    let mut h = Harness::new().await;
    let out = h.walk_to_audience(ANNOUNCEMENT).await;
    let preview = h.press(&out, "全体委员").await;
    h.store.close_topic(h.pinned, h.now).await.unwrap();
    let out = h.press(&preview, "确认发送").await;
    assert_eq!(texts(&out)[0], h.t("broadcast.topic_closed"));
    assert_eq!(last_text(&out), h.t("broadcast.ask_topic"));
    assert!(!labels(&out).iter().any(|l| l.contains("十五五")));
    // Choosing another goes straight back to the preview, the text kept.
    let preview = h.press(&out, "建设现代化产业体系").await;
    assert!(texts(&preview).iter().any(|t| t.contains(ANNOUNCEMENT) && t.contains("建设现代化产业体系")));
    assert_eq!(h.count("SELECT COUNT(*) FROM broadcasts").await, 0);
}

#[tokio::test]
async fn progress_counts_each_outcome_and_stop_cancels_what_is_pending() {
    let mut h = Harness::new().await;
    let out = h.walk_to_audience(ANNOUNCEMENT).await;
    let preview = h.press(&out, "全体委员").await;
    let queued = h.press(&preview, "确认发送").await;
    // The delivery worker sent one, Telegram refused one, one waits.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE broadcast_id = 1 ORDER BY id")
        .fetch_all(h.store.pool())
        .await
        .unwrap();
    h.store.outbox_result(ids[0], DeliveryResult::Sent, None, h.now).await.unwrap();
    h.store.outbox_result(ids[1], DeliveryResult::Blocked, Some("Forbidden"), h.now).await.unwrap();
    let progress = h.press(&queued, "刷新进度").await;
    let p = last_text(&progress);
    for part in [
        "📢 通知 #1（2025-03-01 10:00）",
        "共3位委员",
        "已发送：1",
        "待发送：1",
        "已屏蔽机器人：1",
        "发送失败：0",
        "正在发送",
    ] {
        assert!(p.contains(part), "{part} missing from {p}");
    }
    assert_eq!(labels(&progress), vec!["🔄 刷新进度", "⛔ 停止发送"]);
    // Stopping asks first; "keep sending" just shows the progress.
    let ask = h.press(&progress, "停止发送").await;
    assert_eq!(last_text(&ask), h.ta("broadcast.stop_ask", &[("id", &1), ("pending", &1)]));
    let kept = h.press(&ask, "继续发送").await;
    assert!(last_text(&kept).contains("待发送：1"));
    let stopped = h.press(&ask, "确定停止").await;
    let s = last_text(&stopped);
    assert!(s.starts_with(&h.ta("broadcast.stopped", &[("id", &1), ("count", &1)])), "{s}");
    assert!(s.contains("已停止发送：1") && s.contains("待发送：0") && s.contains("⛔ 已停止发送。"), "{s}");
    assert_eq!(labels(&stopped), vec!["🔄 刷新进度"]);
    assert_eq!(h.count("SELECT COUNT(*) FROM outbox WHERE broadcast_id = 1 AND status = 'cancelled'").await, 1);
    assert_eq!(h.count("SELECT COUNT(*) FROM outbox WHERE broadcast_id = 1 AND status = 'sent'").await, 1);
    assert_eq!(h.count("SELECT COUNT(*) FROM broadcasts WHERE status = 'cancelled'").await, 1);
    // Stopping again says so.
    let again = h.press(&ask, "确定停止").await;
    assert!(last_text(&again).starts_with(&h.ta("broadcast.already_stopped", &[("id", &1)])));
    // The list of recent broadcasts.
    let list = h.send(Input::Command { name: "broadcast".into(), arg: Some("list".into()) }).await;
    let l = last_text(&list);
    assert!(
        l.starts_with(&h.t("broadcast.list_header")) && l.contains("#1 03-01 10:00 · 全体委员 · 已发送1/3 · 已停止"),
        "{l}"
    );
    assert_eq!(labels(&list), vec!["#1 详情"]);
    assert_eq!(h.dialog.broadcast(), None, "the list does not start a draft");
}

#[tokio::test]
async fn a_broadcast_with_nothing_pending_cannot_be_stopped() {
    let mut h = Harness::new().await;
    let out = h.walk_to_audience(ANNOUNCEMENT).await;
    let levels = h.press(&out, "按层级").await;
    let preview = h.press(&levels, "街镇").await;
    let queued = h.press(&preview, "确认发送").await;
    h.sql("UPDATE outbox SET status = 'sent' WHERE broadcast_id = 1").await;
    let out = h.press(&queued, "停止发送").await;
    let s = last_text(&out);
    assert!(s.starts_with(&h.ta("broadcast.nothing_to_stop", &[("id", &1)])) && s.contains("已全部处理完毕"), "{s}");
    assert_eq!(h.count("SELECT COUNT(*) FROM broadcasts WHERE status = 'cancelled'").await, 0);
}

#[test]
fn a_draft_round_trips_through_json() {
    let draft = BroadcastDraft {
        step: BroadcastStep::Sector,
        topic: Some(TopicChoice::Topic(3)),
        text: Some("通知".into()),
        audience: Some(Audience::Sector("教育界".into())),
        page: 1,
        sectors: vec!["教育界".into()],
        editing: true,
    };
    let dialog = Dialog { nonce: 0, flow: Flow::Broadcast(draft) };
    let json = serde_json::to_string(&dialog).unwrap();
    assert_eq!(serde_json::from_str::<Dialog>(&json).unwrap(), dialog);
    // A state saved before broadcasts existed still reads.
    assert_eq!(serde_json::from_str::<Dialog>(r#"{"nonce":4,"step":"idle","draft":{"topic":null,"kind":null,"title":null,"points":[],"attachments":[],"editing":false}}"#).unwrap().broadcast(), None);
}

#[tokio::test]
async fn a_broadcast_to_ten_thousand_members_is_queued_in_one_quick_transaction() {
    let h = Harness::new().await;
    // 10,000 more registered members at one workstation, half of them with English Telegram.
    h.sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
         INSERT INTO members (member_no, name, level, workstation_id, sector, telegram_user_id, telegram_chat_id,
                              language, bound_at, created_at, updated_at)
         SELECT printf('BULK%05d', i), '委员' || i, '区', (SELECT id FROM workstations WHERE name = '第02镇'), '经济界',
                500000 + i, 500000 + i, CASE WHEN i % 2 = 0 THEN 'en' ELSE 'zh-hans' END,
                '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00'
         FROM n",
    )
    .await;
    let ws: i64 = h.count("SELECT id FROM workstations WHERE name = '第02镇'").await;
    let audience = Audience::Workstation(ws);
    assert_eq!(h.store.audience_reach(&audience).await.unwrap(), 10_000);
    let texts = &h.texts;
    let rendered = std::sync::atomic::AtomicUsize::new(0);
    let render = |language: Option<&str>| {
        rendered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        member_copy(texts, texts.lang_for(language), ANNOUNCEMENT, None).encode()
    };
    let new = NewBroadcast {
        topic_id: None,
        text: ANNOUNCEMENT.into(),
        audience,
        staff_id: None,
        dialog: None,
        request_key: None,
    };
    let started = std::time::Instant::now();
    let (id, count) = h.store.create_broadcast(new, &render, h.now).await.unwrap();
    let took = started.elapsed();
    assert_eq!(count, 10_000);
    // One rendering per language, not per member.
    assert_eq!(rendered.load(std::sync::atomic::Ordering::Relaxed), 2);
    assert_eq!(
        h.count(&format!(
            "SELECT COUNT(DISTINCT chat_id) FROM outbox WHERE broadcast_id = {id} AND priority = 2 AND status = 'pending'"
        ))
        .await,
        10_000
    );
    assert_eq!(
        h.count("SELECT COUNT(*) FROM outbox WHERE chat_id = 500002 AND payload LIKE '%From the district committee%'")
            .await,
        1
    );
    assert_eq!(h.count(&format!("SELECT total FROM broadcasts WHERE id = {id}")).await, 10_000);
    // Generous for a debug build on a slow machine; it takes well under a second in release.
    assert!(took < std::time::Duration::from_secs(10), "queueing 10,000 took {took:?}");
    println!("queued 10,000 broadcast messages in {took:?}");
}
