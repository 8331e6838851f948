//! The workflow's state rules written out as a table, and `plan`'s refusals against a real SQLite
//! store. Who may do what (every actor × every act) is tests/permission_matrix.rs.
//!
//! The expected table is typed in by hand from shared/domain.md ("The life of a suggestion"), not
//! computed: a change to the rules has to change it here too.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::config::Config;
use crate::domain::SuggestionState::*;
use crate::domain::{MemberLevel, MemberNo, SuggestionKind};
use crate::locale::Texts;
use crate::store::{
    Commit, Committed, Department, Liaison, Member, NewSuggestion, RosterRow, SqliteStore, Staff, prelude::*,
};

const Y: bool = true;
const N: bool = false;

#[test]
fn state_rules_every_act_in_every_state() {
    let states = [
        Submitted,
        Accepted,
        NotAccepted,
        Merged,
        Withdrawn,
        Assigned,
        InProgress,
        Countersigning,
        ReplyReview,
        Replied,
        Reopened,
        Closed,
    ];
    assert_eq!(states.len(), SuggestionState::ALL.len());
    #[rustfmt::skip]
    let table: [(Act, [bool; 12]); 24] = [
        //                       Sub Acc NAc Mrg Wdr Asg InP Csg Rev Rep Reo Clo
        (Act::View,            [Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y]),
        (Act::Accept,          [Y,  N,  N,  N,  N,  N,  N,  N,  N,  N,  N,  N]),
        (Act::Reject,          [Y,  N,  N,  N,  N,  N,  N,  N,  N,  N,  N,  N]),
        (Act::Merge,           [Y,  Y,  N,  N,  N,  N,  N,  N,  N,  N,  N,  N]),
        (Act::Assign,          [N,  Y,  N,  N,  N,  N,  N,  N,  N,  N,  N,  N]),
        (Act::Instruct,        [Y,  Y,  N,  N,  N,  Y,  Y,  Y,  Y,  Y,  Y,  Y]),
        (Act::Adopt,           [N,  Y,  N,  N,  N,  Y,  Y,  Y,  Y,  Y,  Y,  Y]),
        (Act::Acknowledge,     [N,  N,  N,  N,  N,  Y,  Y,  N,  N,  N,  Y,  N]),
        (Act::Return,          [N,  N,  N,  N,  N,  Y,  Y,  N,  N,  N,  Y,  N]),
        (Act::Reply,           [N,  N,  N,  N,  N,  Y,  Y,  N,  N,  N,  Y,  N]),
        (Act::CoOpinion,       [N,  N,  N,  N,  N,  Y,  Y,  N,  N,  N,  Y,  N]),
        (Act::Rate,            [N,  N,  N,  N,  N,  N,  N,  N,  N,  Y,  N,  N]),
        (Act::Withdraw,        [Y,  N,  N,  N,  N,  N,  N,  N,  N,  N,  N,  N]),
        (Act::ApproveReply,    [N,  N,  N,  N,  N,  N,  N,  N,  Y,  N,  N,  N]),
        (Act::ReclassifyReply, [N,  N,  N,  N,  N,  N,  N,  N,  Y,  N,  N,  N]),
        (Act::ReturnReply,     [N,  N,  N,  N,  N,  N,  N,  N,  Y,  N,  N,  N]),
        (Act::Countersign,     [N,  N,  N,  N,  N,  N,  N,  Y,  N,  N,  N,  N]),
        (Act::ProposeChanges,  [N,  N,  N,  N,  N,  N,  N,  Y,  N,  N,  N,  N]),
        (Act::SendOn,          [N,  N,  N,  N,  N,  N,  N,  Y,  N,  N,  N,  N]),
        (Act::RecordRating,    [N,  N,  N,  N,  N,  N,  N,  N,  N,  Y,  N,  N]),
        (Act::Cosign,          [Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y]),
        (Act::CoRate,          [N,  N,  N,  N,  N,  N,  N,  N,  N,  Y,  Y,  Y]),
        (Act::Key,             [Y,  Y,  N,  N,  N,  Y,  Y,  Y,  Y,  Y,  Y,  Y]),
        // Refused by the command itself once staff accepted it (its own words, not the state's).
        (Act::JoinCosign,      [Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y,  Y]),
    ];
    assert_eq!(table.len(), Act::ALL.len());
    let mut wrong = Vec::new();
    for (act, row) in table {
        for (state, want) in states.iter().zip(row) {
            if allowed_in(act, *state) != want {
                wrong.push(format!("{act:?} in {state:?}: expected {}", if want { "allowed" } else { "refused" }));
            }
        }
    }
    assert!(wrong.is_empty(), "state rules differ from the table:\n{}", wrong.join("\n"));
}

// ---- plan, against a real store ----

struct World {
    store: SqliteStore,
    texts: Texts,
    config: Config,
    now: DateTime<Utc>,
    owner: Member,
    other: Member,
    staff: Staff,
    lead: Liaison,
    co: Liaison,
    stranger: Liaison,
    lead_dept: Department,
    co_dept: Department,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("w.db"), std::time::Duration::from_secs(5), 4).await.unwrap();
        let now = Utc.with_ymd_and_hms(2025, 3, 1, 2, 0, 0).unwrap();
        let row = |no: &str, name: &str| RosterRow {
            member_no: MemberNo::parse(no).unwrap(),
            name: name.into(),
            level: MemberLevel::District,
            workstation: None,
            sector: String::new(),
            phone: String::new(),
        };
        store.import_members(&[row("PD001", "张三"), row("PD002", "李四")], now).await.unwrap();
        let owner = store.member_by_no(&MemberNo::parse("PD001").unwrap()).await.unwrap().unwrap();
        let other = store.member_by_no(&MemberNo::parse("PD002").unwrap()).await.unwrap().unwrap();
        let staff = store.add_staff("王工作人员", now).await.unwrap();
        let lead_dept = store.add_department("区教育局", None).await.unwrap();
        let co_dept = store.add_department("区财政局", None).await.unwrap();
        let stranger_dept = store.add_department("区绿化市容局", None).await.unwrap();
        let lead = store.add_liaison(lead_dept.id, "教育局联络员", now).await.unwrap();
        let co = store.add_liaison(co_dept.id, "财政局联络员", now).await.unwrap();
        let stranger = store.add_liaison(stranger_dept.id, "绿化局联络员", now).await.unwrap();
        let config =
            Config::from_layers(None, vec![("JIANYAN_WORKFLOW__REVIEW_REPLIES".to_string(), "false".to_string())])
                .unwrap();
        Self {
            store,
            texts: Texts::built_in(),
            config,
            now,
            owner,
            other,
            staff,
            lead,
            co,
            stranger,
            lead_dept,
            co_dept,
            _dir: dir,
        }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx { store: &self.store, texts: &self.texts, config: &self.config, now: self.now }
    }

    async fn submit(&self, title: &str) -> i64 {
        let suggestion = NewSuggestion {
            member_id: self.owner.id,
            topic_id: None,
            kind: SuggestionKind::Advice,
            title: title.into(),
            points: vec!["第一条".into()],
            as_typed: String::new(),
            attachments: Vec::new(),
            year: 2025,
            prefix: "PD".into(),
            entered_by: None,
        };
        let commit = Commit {
            update_id: None,
            chat_id: 1,
            dialog: None,
            messages: Vec::new(),
            submission: Some((suggestion, Box::new(|_, _| Vec::new()))),
            change: None,
            now: self.now,
        };
        let Committed::Done { reference: Some(reference), .. } = self.store.commit(commit).await.unwrap() else {
            panic!("not submitted")
        };
        self.store.suggestion_id_by_reference(&reference.to_string()).await.unwrap().unwrap()
    }

    async fn plan(&self, actor: Actor<'_>, id: i64, command: Command) -> Result<Change, Refusal> {
        plan(&self.ctx(), &actor, id, command).await.unwrap()
    }

    /// Plans and applies; panics on a refusal.
    async fn run(&self, actor: Actor<'_>, id: i64, command: Command) {
        let change = self.plan(actor, id, command.clone()).await.unwrap_or_else(|r| panic!("{command:?}: {r:?}"));
        assert!(matches!(self.store.apply_change(change, self.now).await.unwrap(), Committed::Done { .. }));
    }

    /// A suggestion taken to 已答复 with one reply from the lead department.
    async fn replied(&self) -> i64 {
        let id = self.submit("已答复的建言").await;
        self.run(Actor::Staff(&self.staff), id, Command::Accept).await;
        let assign = Command::Assign { lead: self.lead_dept.id, co: vec![self.co_dept.id], deadline: None };
        self.run(Actor::Staff(&self.staff), id, assign).await;
        let reply =
            Command::Reply {
                class: "B".into(), text: "正在解决".into(), document: None, letter: Default::default()
            };
        self.run(Actor::Liaison(&self.lead), id, reply).await;
        id
    }
}

#[tokio::test]
async fn plan_refuses_empty_reasons_and_bad_merge_targets() {
    let w = World::new().await;
    let id = w.submit("第一篇").await;
    let staff = Actor::Staff(&w.staff);
    for reason in ["", "   \n "] {
        assert_eq!(w.plan(staff, id, Command::Reject { reason: reason.into() }).await, Err(Refusal::EmptyText));
    }
    let long = "长".repeat(TEXT_MAX_CHARS + 1);
    assert_eq!(w.plan(staff, id, Command::Reject { reason: long }).await, Err(Refusal::TooLong(TEXT_MAX_CHARS)));
    assert_eq!(
        w.plan(staff, id, Command::Merge { into_reference: "PD-2025-9999".into() }).await,
        Err(Refusal::UnknownReference)
    );
    // Its own number, typed in lower case, is still itself.
    assert_eq!(
        w.plan(staff, id, Command::Merge { into_reference: " pd-2025-0001 ".into() }).await,
        Err(Refusal::MergeIntoItself)
    );
    // A target that was not accepted cannot take another suggestion.
    let target = w.submit("第二篇").await;
    w.run(staff, target, Command::Reject { reason: "不属于协商范围".into() }).await;
    assert_eq!(
        w.plan(staff, id, Command::Merge { into_reference: "PD-2025-0002".into() }).await,
        Err(Refusal::MergeTargetClosed)
    );
    // Nothing was changed by the refusals.
    assert_eq!(w.store.facts(id).await.unwrap().unwrap().state, Submitted);
    assert_eq!(w.store.suggestion(id).await.unwrap().unwrap().timeline.len(), 1);
}

#[tokio::test]
async fn plan_refuses_the_wrong_people_without_telling_strangers_it_exists() {
    let w = World::new().await;
    let id = w.submit("第一篇").await;
    assert_eq!(w.plan(Actor::Member(&w.owner), id, Command::Accept).await, Err(Refusal::Denied));
    assert_eq!(w.plan(Actor::Member(&w.other), id, Command::Accept).await, Err(Refusal::NotFound));
    assert_eq!(w.plan(Actor::Unregistered, id, Command::Accept).await, Err(Refusal::NotFound));
    assert_eq!(w.plan(Actor::Liaison(&w.lead), id, Command::Accept).await, Err(Refusal::NotFound));
    assert_eq!(w.plan(Actor::Staff(&w.staff), 9999, Command::Accept).await, Err(Refusal::NotFound));
    // Permission is checked before the text: a stranger learns nothing from an empty reason.
    assert_eq!(
        w.plan(Actor::Member(&w.other), id, Command::Reject { reason: String::new() }).await,
        Err(Refusal::NotFound)
    );

    w.run(Actor::Staff(&w.staff), id, Command::Accept).await;
    assert_eq!(w.plan(Actor::Staff(&w.staff), id, Command::Accept).await, Err(Refusal::WrongState(Accepted)));
    let unknown = Command::Assign { lead: 9999, co: Vec::new(), deadline: None };
    assert_eq!(w.plan(Actor::Staff(&w.staff), id, unknown).await, Err(Refusal::UnknownDepartment));
    let assign = Command::Assign { lead: w.lead_dept.id, co: vec![w.co_dept.id], deadline: None };
    w.run(Actor::Staff(&w.staff), id, assign).await;

    let reply =
        || Command::Reply { class: "B".into(), text: "答复".into(), document: None, letter: Default::default() };
    assert_eq!(w.plan(Actor::Liaison(&w.stranger), id, reply()).await, Err(Refusal::NotFound));
    assert_eq!(w.plan(Actor::Liaison(&w.co), id, reply()).await, Err(Refusal::Denied));
    assert_eq!(w.plan(Actor::Staff(&w.staff), id, reply()).await, Err(Refusal::Denied));
    assert_eq!(w.plan(Actor::Member(&w.owner), id, reply()).await, Err(Refusal::Denied));
    let bad_class =
        Command::Reply { class: "Z".into(), text: "答复".into(), document: None, letter: Default::default() };
    assert_eq!(w.plan(Actor::Liaison(&w.lead), id, bad_class).await, Err(Refusal::UnknownReplyClass));
    let co_view = Command::CoOpinion { text: "同意".into() };
    assert_eq!(w.plan(Actor::Liaison(&w.lead), id, co_view.clone()).await, Err(Refusal::Denied));
    assert!(w.plan(Actor::Liaison(&w.co), id, co_view).await.is_ok());

    w.run(Actor::Staff(&w.staff), id, Command::Adopt).await;
    assert_eq!(w.plan(Actor::Staff(&w.staff), id, Command::Adopt).await, Err(Refusal::AlreadyDone));
}

#[tokio::test]
async fn plan_refuses_stale_and_foreign_ratings() {
    let w = World::new().await;
    let id = w.replied().await;
    let rate = |reply_no, rating| Command::Rate { reply_no, rating, reason: String::new() };
    // Only the latest reply (the first, here) can be rated.
    for reply_no in [0, 2, 7] {
        assert_eq!(
            w.plan(Actor::Member(&w.owner), id, rate(reply_no, Rating::Satisfied)).await,
            Err(Refusal::StaleRating),
            "reply {reply_no}"
        );
    }
    assert_eq!(w.plan(Actor::Member(&w.other), id, rate(1, Rating::Satisfied)).await, Err(Refusal::NotFound));
    assert_eq!(w.plan(Actor::Staff(&w.staff), id, rate(1, Rating::Satisfied)).await, Err(Refusal::Denied));
    assert_eq!(w.plan(Actor::Liaison(&w.lead), id, rate(1, Rating::Satisfied)).await, Err(Refusal::Denied));

    // Dissatisfied reopens; the first reply's buttons are then stale, the new reply's work.
    w.run(Actor::Member(&w.owner), id, rate(1, Rating::Dissatisfied)).await;
    assert_eq!(w.store.facts(id).await.unwrap().unwrap().state, Reopened);
    assert_eq!(
        w.plan(Actor::Member(&w.owner), id, rate(1, Rating::Satisfied)).await,
        Err(Refusal::WrongState(Reopened))
    );
    let reply =
        Command::Reply { class: "A".into(), text: "已解决".into(), document: None, letter: Default::default() };
    w.run(Actor::Liaison(&w.lead), id, reply).await;
    assert_eq!(w.plan(Actor::Member(&w.owner), id, rate(1, Rating::Satisfied)).await, Err(Refusal::StaleRating));
    w.run(Actor::Member(&w.owner), id, rate(2, Rating::BasicallySatisfied)).await;
    assert_eq!(w.store.facts(id).await.unwrap().unwrap().state, Closed);
    assert_eq!(w.plan(Actor::Member(&w.owner), id, rate(2, Rating::Satisfied)).await, Err(Refusal::WrongState(Closed)));
}

#[tokio::test]
async fn a_planned_change_names_its_new_state_and_event() {
    let w = World::new().await;
    let id = w.submit("第一篇").await;
    let change = w.plan(Actor::Staff(&w.staff), id, Command::Accept).await.unwrap();
    assert_eq!((change.expect_state, change.new_state, change.event), (Submitted, Accepted, "accepted"));
    assert_eq!((change.actor_kind, change.actor_id), ("staff", Some(w.staff.id)));
    // The member has no Telegram chat here: the push is kept for them, not dropped.
    assert_eq!(change.messages.len(), 1);
    let held = change.messages[0].held.expect("kept for the member");
    assert_eq!(held.to, crate::store::Addressee::Member(w.owner.id));
    assert_eq!(held.suggestion_id, Some(id));
    // Planning wrote nothing.
    assert_eq!(w.store.facts(id).await.unwrap().unwrap().state, Submitted);
}

#[tokio::test]
async fn staff_mark_a_suggestion_key_change_its_leader_and_unmark_it() {
    let w = World::new().await;
    let id = w.replied().await;
    let staff = Actor::Staff(&w.staff);
    let key = |leader: &str| Command::MarkKey { leader: leader.into() };
    assert_eq!(w.plan(staff, id, key("  ")).await, Err(Refusal::EmptyText));
    let long = "王".repeat(LEADER_MAX_CHARS + 1);
    assert_eq!(w.plan(staff, id, key(&long)).await, Err(Refusal::TooLong(LEADER_MAX_CHARS)));
    assert_eq!(w.plan(staff, id, Command::UnmarkKey).await, Err(Refusal::AlreadyDone), "not key yet");
    // Only staff: the member and the departments may not, and a stranger is not told it exists.
    assert_eq!(w.plan(Actor::Member(&w.owner), id, key("王主席")).await, Err(Refusal::Denied));
    assert_eq!(w.plan(Actor::Liaison(&w.lead), id, key("王主席")).await, Err(Refusal::Denied));
    assert_eq!(w.plan(Actor::Liaison(&w.stranger), id, key("王主席")).await, Err(Refusal::NotFound));

    let change = w.plan(staff, id, key(" 区政协副主席 王某某 ")).await.unwrap();
    assert_eq!((change.new_state, change.event, change.text.as_str()), (Replied, "key_marked", "区政协副主席 王某某"));
    assert!(change.messages.is_empty(), "an office matter: nobody is pushed");
    w.store.apply_change(change, w.now).await.unwrap();
    let facts = w.store.facts(id).await.unwrap().unwrap();
    assert_eq!((facts.state, facts.key_leader.as_deref()), (Replied, Some("区政协副主席 王某某")));
    assert_eq!(w.plan(staff, id, key("区政协副主席 王某某")).await, Err(Refusal::AlreadyDone));
    w.run(staff, id, key("李主席")).await;
    assert_eq!(w.store.facts(id).await.unwrap().unwrap().key_leader.as_deref(), Some("李主席"));
    w.run(staff, id, Command::UnmarkKey).await;
    assert_eq!(w.store.facts(id).await.unwrap().unwrap().key_leader, None);
    let events: Vec<String> =
        w.store.suggestion(id).await.unwrap().unwrap().timeline.into_iter().map(|e| e.event).collect();
    assert_eq!(events[events.len() - 3..], ["key_marked", "key_marked", "key_unmarked"]);
}
