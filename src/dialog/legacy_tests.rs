//! Chat states saved in the shape before flows were types load, and each conversation goes on to
//! its end through the real dialog against a real SQLite store.
//!
//! The JSON below is what that code saved (serde's derive of the old `Dialog`: `step` and `draft`
//! always, `since` always, the task fields only when set, `typed` and `album` only when not empty).

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::config::Config;
use crate::domain::{MemberLevel, MemberNo, SuggestionState};
use crate::store::{Commit, Committed, Department, Liaison, RosterRow, SqliteStore, Staff, prelude::*};
use crate::workflow::{Actor, Command};

struct World {
    store: SqliteStore,
    texts: Texts,
    config: Config,
    now: DateTime<Utc>,
    member: Member,
    staff: Staff,
    lead: Liaison,
    lead_dept: Department,
    _dir: tempfile::TempDir,
}

/// The draft of an idle chat, as the old code saved it.
const IDLE_DRAFT: &str =
    r#"{"topic":null,"kind":null,"title":null,"points":[],"attachments":[],"editing":false,"since":0}"#;

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("l.db"), std::time::Duration::from_secs(5), 4).await.unwrap();
        let now = Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap();
        let row = RosterRow {
            member_no: MemberNo::parse("PD001").unwrap(),
            name: "张三".into(),
            level: MemberLevel::District,
            workstation: None,
            sector: "经济界".into(),
            phone: String::new(),
        };
        store.import_members(&[row], now).await.unwrap();
        let member = store.member_by_no(&MemberNo::parse("PD001").unwrap()).await.unwrap().unwrap();
        // Bound to Telegram, so a broadcast reaches someone.
        let hash = invite::hash(&invite::generate(&mut rand::thread_rng()));
        store.create_invite(member.id, &hash, now, now + chrono::Duration::days(1)).await.unwrap();
        store.redeem_invite(&hash, 501, 501, Some("zh-hans"), now).await.unwrap();
        let member = store.member_by_no(&MemberNo::parse("PD001").unwrap()).await.unwrap().unwrap();
        let staff = store.add_staff("王工作人员", now).await.unwrap();
        let lead_dept = store.add_department("区教育局", None).await.unwrap();
        store.add_department("区财政局", None).await.unwrap();
        let lead = store.add_liaison(lead_dept.id, "教育局联络员", now).await.unwrap();
        let config =
            Config::from_layers(None, vec![("JIANYAN_WORKFLOW__REVIEW_REPLIES".to_string(), "false".to_string())])
                .unwrap();
        Self { store, texts: Texts::built_in(), config, now, member, staff, lead, lead_dept, _dir: dir }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx { store: &self.store, texts: &self.texts, config: &self.config, now: self.now }
    }

    /// A suggestion of the member's, as submitted through the dialog.
    async fn submitted(&self) -> i64 {
        let mut chat = Chat::load(self, Identity::Member(self.member.clone()), r#"{"nonce":1,"flow":"idle"}"#);
        chat.send(Input::Command { name: "new".into(), arg: None }).await;
        chat.write_to_the_end().await;
        let mine = self.store.suggestions_of_member(self.member.id, 100).await.unwrap();
        mine.iter().map(|s| s.id).max().expect("the suggestion just filed")
    }

    async fn run(&self, actor: Actor<'_>, id: i64, command: Command) {
        let change = crate::workflow::plan(&self.ctx(), &actor, id, command).await.unwrap().unwrap();
        self.store.apply_change(change, self.now).await.unwrap();
    }

    async fn accepted(&self) -> i64 {
        let id = self.submitted().await;
        self.run(Actor::Staff(&self.staff), id, Command::Accept).await;
        id
    }

    async fn assigned(&self) -> i64 {
        let id = self.accepted().await;
        let assign = Command::Assign { lead: self.lead_dept.id, co: Vec::new(), deadline: None };
        self.run(Actor::Staff(&self.staff), id, assign).await;
        id
    }

    async fn replied(&self) -> i64 {
        let id = self.assigned().await;
        let reply =
            Command::Reply {
                class: "B".into(), text: "正在解决".into(), document: None, letter: Default::default()
            };
        self.run(Actor::Liaison(&self.lead), id, reply).await;
        id
    }

    async fn state_of(&self, id: i64) -> SuggestionState {
        self.store.facts(id).await.unwrap().unwrap().state
    }
}

/// One chat going on from a loaded state, as the bot would: the dialog, then its output applied.
struct Chat<'w> {
    world: &'w World,
    identity: Identity,
    dialog: Dialog,
    /// Suggestions filed by this chat.
    filed: usize,
}

impl<'w> Chat<'w> {
    fn load(world: &'w World, identity: Identity, json: &str) -> Self {
        let dialog: Dialog = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        // Saved again, it reads back the same in the current shape.
        let again: Dialog = serde_json::from_str(&serde_json::to_string(&dialog).unwrap()).unwrap();
        assert_eq!(again, dialog);
        Self { world, identity, dialog, filed: 0 }
    }

    async fn send(&mut self, input: Input) -> Output {
        let person = Person { user_id: 501, chat_id: 501, language_code: Some("zh-hans".into()) };
        let ctx = self.world.ctx();
        let mut out = handle_as(&ctx, &person, self.identity.clone(), self.dialog.clone(), input.clone())
            .await
            .unwrap_or_else(|e| panic!("{input:?}: {e}"));
        if let Some(state) = &out.state {
            self.dialog = state.clone();
        }
        let filing = out.submission.is_some();
        let commit = Commit {
            update_id: None,
            chat_id: person.chat_id,
            dialog: out.state.as_ref().map(|d| serde_json::to_string(d).unwrap()),
            messages: Vec::new(),
            submission: out.submission.take(),
            change: out.change.take(),
            now: self.world.now,
        };
        let effects = std::mem::take(&mut out.effects);
        let committed = self.world.store.commit_with(commit, effects).await.unwrap();
        assert!(matches!(committed, Committed::Done { .. }), "{committed:?}");
        self.filed += usize::from(filing);
        out
    }

    async fn press(&mut self, data: String) -> Output {
        self.send(pressed(90, data)).await
    }

    async fn text(&mut self, text: &str) -> Output {
        self.send(Input::Text(text.into())).await
    }

    /// Answers whatever step of a suggestion is asked until it is submitted.
    async fn write_to_the_end(&mut self) {
        for _ in 0..10 {
            let nonce = self.dialog.nonce;
            let out = match self.dialog.step() {
                None => break,
                Some(Step::Topic) => self.press(format!("n:{nonce}:t:0")).await,
                Some(Step::Kind) => self.press(format!("n:{nonce}:k:advice")).await,
                Some(Step::Title) => self.text("标题").await,
                Some(Step::Body) => {
                    self.text("一条建议").await;
                    let nonce = self.dialog.nonce;
                    self.press(format!("n:{nonce}:done")).await
                }
                Some(Step::Preview) => self.press(format!("n:{nonce}:p:submit")).await,
                Some(Step::Cosigners) => self.press(format!("ci:{nonce}:ok")).await,
            };
            assert!(!out.actions.is_empty(), "no answer at {:?}", self.dialog);
        }
        assert_eq!(self.dialog.flow, Flow::Idle);
        assert_eq!(self.filed, 1, "the suggestion was filed");
    }
}

fn member_draft(step: &str, draft: &str) -> String {
    format!(r#"{{"nonce":7,"step":"{step}","draft":{draft}}}"#)
}

#[tokio::test]
async fn old_member_states_load_and_the_suggestion_is_written_to_the_end() {
    let w = World::new().await;
    let member = Identity::Member(w.member.clone());
    let idle = member_draft("idle", IDLE_DRAFT);
    let at_topic = member_draft(
        "topic",
        r#"{"topic":null,"kind":null,"title":null,"points":[],"attachments":[],"editing":false,"since":6}"#,
    );
    let at_kind = member_draft(
        "kind",
        r#"{"topic":"general","kind":null,"title":null,"points":[],"attachments":[],"editing":false,"since":5}"#,
    );
    let at_title = member_draft(
        "title",
        r#"{"topic":"general","kind":"Advice","title":null,"points":[],"attachments":[],"editing":false,"since":4}"#,
    );
    let at_body = member_draft(
        "body",
        r#"{"topic":"general","kind":"Research","title":"题目","points":["一","二"],"typed":["1. 一 2. 二"],
            "attachments":[{"kind":"photo","file_id":"F1","file_unique_id":"U1","file_name":null,"mime_type":null,
            "file_size":1000,"width":800,"height":600}],"editing":false,"since":3,
            "album":{"id":"ALB","added":1,"refused":false}}"#,
    );
    let at_preview = member_draft(
        "preview",
        r#"{"topic":"general","kind":"Advice","title":"题目","points":["一"],"attachments":[],"editing":false,"since":2}"#,
    );

    // Idle: /new starts a suggestion after the old nonce.
    let mut chat = Chat::load(&w, member.clone(), &idle);
    assert_eq!((chat.dialog.nonce, &chat.dialog.flow), (7, &Flow::Idle));
    chat.send(Input::Command { name: "new".into(), arg: None }).await;
    assert_eq!(chat.dialog.step(), Some(Step::Topic));
    chat.write_to_the_end().await;

    for (json, step) in [
        (&at_topic, Step::Topic),
        (&at_kind, Step::Kind),
        (&at_title, Step::Title),
        (&at_body, Step::Body),
        (&at_preview, Step::Preview),
    ] {
        let mut chat = Chat::load(&w, member.clone(), json);
        assert_eq!(chat.dialog.step(), Some(step), "{json}");
        assert_eq!(chat.dialog.nonce, 7);
        chat.write_to_the_end().await;
    }

    // The draft at the body step kept everything it had collected: its suggestion has the points
    // typed before and after, and the photo.
    let body = Chat::load(&w, member.clone(), &at_body);
    let draft = &body.dialog.submission().unwrap().draft;
    assert_eq!((draft.points.len(), draft.attachments.len(), draft.since), (2, 1, 3));
    assert_eq!(draft.album.as_ref().map(|a| a.added), Some(1));
    let mut research = Vec::new();
    for summary in w.store.suggestions_of_member(w.member.id, 10).await.unwrap() {
        let s = w.store.suggestion(summary.id).await.unwrap().unwrap();
        if s.kind == SuggestionKind::Research {
            research.push((s.points.len(), s.attachments.len()));
        }
    }
    assert_eq!(research, vec![(3, 1)]);
}

#[tokio::test]
async fn old_staff_states_load_and_the_review_is_finished() {
    let w = World::new().await;
    let staff = Identity::Staff(w.staff.clone());

    // An assignment wizard at the co-department step, lead chosen.
    let id = w.accepted().await;
    let json = format!(
        r#"{{"nonce":12,"step":"idle","draft":{IDLE_DRAFT},"staff_task":{{"task":"assign","suggestion_id":{id},
            "message_id":55,"step":"co","lead":{},"co":[],"deadline":null}}}}"#,
        w.lead_dept.id
    );
    let mut chat = Chat::load(&w, staff.clone(), &json);
    let Flow::Staff(task) = &chat.dialog.flow else { panic!("{:?}", chat.dialog) };
    assert_eq!((task.suggestion_id, task.message_id), (id, 55));
    chat.press("w:12:n".into()).await;
    let nonce = chat.dialog.nonce;
    chat.press(format!("w:{nonce}:d")).await;
    let nonce = chat.dialog.nonce;
    let out = chat.press(format!("w:{nonce}:ok")).await;
    let shown: Vec<String> = out.actions.iter().map(crate::reply::plain_text).collect();
    assert!(shown.contains(&"(choices of message 55 retired)".to_string()), "the wizard's first message: {shown:?}");
    assert!(
        shown.iter().any(|s| s.starts_with("📤 已交办") && s.ends_with("\n[📝 领导批示] [⭐ 采纳]\n[🔺 列为重点]")),
        "{shown:?}"
    );
    assert_eq!(w.state_of(id).await, SuggestionState::Assigned);
    assert_eq!(chat.dialog.flow, Flow::Idle);

    // A reason for not accepting being asked for.
    let id = w.submitted().await;
    let json = format!(
        r#"{{"nonce":3,"step":"idle","draft":{IDLE_DRAFT},"staff_task":{{"task":"reject_reason","suggestion_id":{id},"message_id":56}}}}"#
    );
    let mut chat = Chat::load(&w, staff.clone(), &json);
    chat.text("与本次协商议题无关").await;
    assert_eq!(w.state_of(id).await, SuggestionState::NotAccepted);
    assert_eq!(chat.dialog.flow, Flow::Idle);

    // A broadcast being composed, at its text.
    let json = format!(
        r#"{{"nonce":20,"step":"idle","draft":{IDLE_DRAFT},"broadcast":{{"step":"text","topic":"general","page":0,"editing":false}}}}"#
    );
    let mut chat = Chat::load(&w, staff, &json);
    assert_eq!(chat.dialog.broadcast().map(|b| b.step), Some(broadcast::BroadcastStep::Text));
    chat.text("本周五下午召开协商座谈会，欢迎委员提出建议。").await;
    let nonce = chat.dialog.nonce;
    chat.press(format!("b:{nonce}:all")).await;
    let nonce = chat.dialog.nonce;
    let out = chat.press(format!("b:{nonce}:ok")).await;
    assert_eq!(chat.dialog.flow, Flow::Idle, "{out:?}");
    let broadcasts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM broadcasts").fetch_one(w.store.pool()).await.unwrap();
    assert_eq!(broadcasts, 1);
}

#[tokio::test]
async fn old_department_and_rating_states_load_and_go_on_to_the_end() {
    let w = World::new().await;

    // A reply being written, its class chosen, its text asked for.
    let id = w.assigned().await;
    let json = format!(
        r#"{{"nonce":30,"step":"idle","draft":{IDLE_DRAFT},"department_task":{{"task":"reply","suggestion_id":{id},
            "message_id":57,"step":"text","class":"B","text":null,"document":null}}}}"#
    );
    let mut chat = Chat::load(&w, Identity::Liaison(w.lead.clone()), &json);
    chat.text("已列入明年计划。").await;
    let nonce = chat.dialog.nonce;
    chat.press(format!("dw:{nonce}:s")).await;
    let nonce = chat.dialog.nonce;
    chat.press(format!("dw:{nonce}:ok")).await;
    assert_eq!(w.state_of(id).await, SuggestionState::Replied);
    assert_eq!(chat.dialog.flow, Flow::Idle);

    // A member's 不满意 waiting for the reason, while idle.
    let member = Identity::Member(w.member.clone());
    let id = w.replied().await;
    let json = format!(
        r#"{{"nonce":3,"step":"idle","draft":{IDLE_DRAFT},"rating_task":{{"suggestion_id":{id},"reply_no":1,"message_id":58}}}}"#
    );
    let mut chat = Chat::load(&w, member.clone(), &json);
    chat.text("没有解决实际问题").await;
    assert_eq!(w.state_of(id).await, SuggestionState::Reopened);
    assert_eq!(chat.dialog.flow, Flow::Idle);

    // The same while a suggestion was being written: the reason is taken, then the draft goes on.
    let id = w.replied().await;
    let json = format!(
        r#"{{"nonce":9,"step":"body","draft":{{"topic":"general","kind":"Advice","title":"题目","points":["一"],
            "attachments":[],"editing":false,"since":2}},"rating_task":{{"suggestion_id":{id},"reply_no":1,"message_id":59}}}}"#
    );
    let mut chat = Chat::load(&w, member, &json);
    assert!(matches!(chat.dialog.flow, Flow::RatingReason { resume: Some(_), .. }), "{:?}", chat.dialog);
    chat.press(format!("rt:{id}:1:x")).await;
    assert_eq!(w.state_of(id).await, SuggestionState::Reopened);
    assert_eq!(chat.dialog.step(), Some(Step::Body));
    chat.write_to_the_end().await;
}
