//! 联名: invitations written with a submission (the lead and repeats skipped), answered once
//! while open, closed when staff accept, read as expired past their deadline; co-signers' ratings
//! one per reply and member; the roster lookup and the lists a co-signer sees.

use chrono::Duration;
use jianyan::domain::{ReferenceNo, SuggestionState};
use jianyan::store::{ChangeOp, CosignStatus, Effect, Rating, Store};

use crate::backends::Backend;
use crate::fixtures::*;

/// Files a suggestion of `lead` with `invited` invited until `t0() + 7 days`; returns its id.
async fn submit_inviting(s: &dyn Store, lead: i64, invited: Vec<i64>) -> i64 {
    let mut c = commit(None, 0);
    let (tx, rx) = std::sync::mpsc::channel();
    c.submission = Some((
        new_suggestion(lead, 2026),
        Box::new(move |_: &ReferenceNo, id: i64| {
            tx.send(id).unwrap();
            Vec::new()
        }),
    ));
    let effect = Effect::InviteCosigners { member_ids: invited, expires_at: t0() + Duration::days(7) };
    done(s.commit_with(c, vec![effect]).await.unwrap());
    rx.recv().unwrap()
}

fn answer(id: i64, member_id: i64, accept: bool, event: &'static str) -> jianyan::store::Change {
    let mut c = change(id, SuggestionState::Submitted, SuggestionState::Submitted, event);
    c.ops.push(ChangeOp::AnswerInvitation { member_id, accept });
    c.once_key = Some(format!("cosign:{member_id}"));
    c
}

pub async fn invitations_are_answered_once_and_close_when_accepted(b: &Backend) {
    let s = &*b.store;
    let (lead, li, wang, zhao) = (
        member(s, "C001").await,
        bound_member(s, "C002", 602, Some("en")).await,
        member(s, "C003").await,
        member(s, "C004").await,
    );
    // The lead and a repeat are not invited.
    let id = submit_inviting(s, lead.id, vec![li.id, wang.id, lead.id, li.id, zhao.id]).await;
    let facts = s.facts(id).await.unwrap().unwrap();
    let invited: Vec<(i64, CosignStatus)> = facts.cosigners.iter().map(|c| (c.member_id, c.status)).collect();
    assert_eq!(
        invited,
        vec![(li.id, CosignStatus::Invited), (wang.id, CosignStatus::Invited), (zhao.id, CosignStatus::Invited)]
    );
    let first = &facts.cosigners[0];
    assert_eq!((first.invited_at, first.expires_at), (t0(), t0() + Duration::days(7)));
    assert_eq!(first.recipient().map(|r| (r.chat_id, r.language)), Some((602, Some("en".to_string()))));
    assert_eq!(facts.cosigners[1].recipient(), None, "no chat yet");
    assert_eq!(first.status_at(t0() + Duration::days(7)), CosignStatus::Expired, "read as expired at its deadline");

    done(s.apply_change(answer(id, li.id, true, "cosign_accepted"), t0()).await.unwrap());
    done(s.apply_change(answer(id, wang.id, false, "cosign_declined"), t0()).await.unwrap());
    // The same answer again is the once-only conflict, and changes nothing.
    let again = s.apply_change(answer(id, li.id, false, "cosign_declined"), t0()).await.unwrap();
    assert!(matches!(again, jianyan::store::Committed::Conflict), "{again:?}");
    // An answer past the deadline changes nothing either.
    let late = s.apply_change(answer(id, zhao.id, true, "cosign_accepted"), t0() + Duration::days(8)).await.unwrap();
    done(late);
    let facts = s.facts(id).await.unwrap().unwrap();
    let statuses: Vec<CosignStatus> = facts.cosigners.iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![CosignStatus::Accepted, CosignStatus::Declined, CosignStatus::Invited]);
    assert_eq!(facts.cosigners[0].answered_at, Some(t0()));

    // Staff accept: what is still open closes.
    let mut accept = change(id, SuggestionState::Submitted, SuggestionState::Accepted, "accepted");
    accept.ops.push(ChangeOp::CloseInvitations);
    done(s.apply_change(accept, t0()).await.unwrap());
    let statuses: Vec<CosignStatus> = s.cosigners(id).await.unwrap().iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![CosignStatus::Accepted, CosignStatus::Declined, CosignStatus::Expired]);

    // The co-signer's list and the names for exports: accepted ones only.
    let mine = s.cosigned_suggestions(li.id, 10).await.unwrap();
    assert_eq!(mine.iter().map(|m| m.id).collect::<Vec<_>>(), vec![id]);
    assert!(s.cosigned_suggestions(wang.id, 10).await.unwrap().is_empty());
    let other = submit_inviting(s, lead.id, Vec::new()).await;
    let names = s.cosigner_names(&[id, other]).await.unwrap();
    assert_eq!(names, vec![(id, "委员C002".to_string())]);
    assert!(s.cosigner_names(&[]).await.unwrap().is_empty());
}

pub async fn a_submission_without_invitations_invites_nobody(b: &Backend) {
    let s = &*b.store;
    let lead = member(s, "C011").await;
    let li = member(s, "C012").await;
    // Invitations with no suggestion filed in the same commit are not written anywhere.
    done(
        s.commit_with(commit(None, 0), vec![Effect::InviteCosigners { member_ids: vec![li.id], expires_at: t0() }])
            .await
            .unwrap(),
    );
    let (id, _) = submit(s, lead.id, 2026).await;
    assert!(s.facts(id).await.unwrap().unwrap().cosigners.is_empty());
    assert!(s.cosigned_suggestions(li.id, 10).await.unwrap().is_empty());
}

pub async fn co_signers_rate_each_reply_once(b: &Backend) {
    let s = &*b.store;
    let (lead, li) = (member(s, "C021").await, member(s, "C022").await);
    let department = s.add_department("区民政局", None).await.unwrap();
    let id = submit_inviting(s, lead.id, vec![li.id]).await;
    done(s.apply_change(answer(id, li.id, true, "cosign_accepted"), t0()).await.unwrap());
    let mut accept = change(id, SuggestionState::Submitted, SuggestionState::Accepted, "accepted");
    accept.ops.push(ChangeOp::CloseInvitations);
    done(s.apply_change(accept, t0()).await.unwrap());
    let mut reply = change(id, SuggestionState::Accepted, SuggestionState::Replied, "replied");
    reply.ops.push(ChangeOp::Reply {
        department_id: department.id,
        reply_class: "A".into(),
        text: "已办".into(),
        document: None,
        letter: None,
    });
    done(s.apply_change(reply, t0()).await.unwrap());
    let rate = |rating, once: &str| {
        let mut c = change(id, SuggestionState::Replied, SuggestionState::Replied, "cosigner_rated");
        c.ops.push(ChangeOp::CosignerRate { member_id: li.id, rating, reason: "好".into() });
        c.once_key = Some(once.to_string());
        c
    };
    done(s.apply_change(rate(Rating::Satisfied, "co_rated:1:x"), t0()).await.unwrap());
    // A second rating of the same reply by the same member fails whatever its key: it is unique.
    assert!(s.apply_change(rate(Rating::Dissatisfied, "co_rated:1:y"), t0()).await.is_err());
    let ratings = s.cosigner_ratings(id).await.unwrap();
    assert_eq!(ratings.len(), 1);
    let r = &ratings[0];
    assert_eq!(
        (r.member_id, r.name.as_str(), r.reply_no, r.rating, r.reason.as_str()),
        (li.id, "委员C022", 1, Rating::Satisfied, "好")
    );
    assert_eq!(s.facts(id).await.unwrap().unwrap().state, SuggestionState::Replied, "the state stays");
}

pub async fn cosign_candidates_match_numbers_and_names_of_active_members(b: &Backend) {
    let s = &*b.store;
    s.import_members(
        &[
            row("C031", "钱 七", Some("花木街道"), "经济界"),
            row("c032", "钱七", None, "经济界"),
            row("C033", "孙八", None, "经济界"),
        ],
        t0(),
    )
    .await
    .unwrap();
    let found = |typed: &'static str| async move {
        s.cosign_candidates(typed, 10).await.unwrap().into_iter().map(|m| m.member_no.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(found("ｃ０３３").await, vec!["C033"], "full width, any case");
    assert_eq!(found("钱七").await, vec!["C031", "c032"], "spaces in the name left out");
    assert_eq!(found(" 钱 七 ").await, vec!["C031", "c032"]);
    assert!(found("").await.is_empty());
    assert!(found("赵").await.is_empty(), "whole names only");
    // The preview's test members are never offered.
    s.preview_member(1, "孙八", t0()).await.unwrap();
    assert_eq!(found("孙八").await, vec!["C033"]);
}
