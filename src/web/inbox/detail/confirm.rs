//! The confirmation page of an act that cannot be undone (交办, 答复, 不予受理, 并案): what will
//! happen — to whom, which departments, which deadline, the new state — and the member's
//! notification exactly as the workflow rendered it, with 确认 and 返回修改.

use maud::{Markup, html};

use super::{Fields, label, slug};
use crate::reply::Action as Said;
use crate::store::{Addressee, AssignmentRole, Change, ChangeOp, Facts};
use crate::web::auth::{self, CurrentUser};
use crate::web::inbox::channels;
use crate::web::inbox::local_date;
use crate::web::{WebError, WebState, layout};
use crate::workflow::{Act, Command};

/// The texts of the notifications in `change` that go to the suggestion's member (to their chat,
/// or kept until they can be written to), as they will read them.
fn member_texts(facts: &Facts, change: &Change) -> Vec<String> {
    change
        .messages
        .iter()
        .filter(|m| match m.held {
            Some(h) => matches!(h.to, Addressee::Member(_)),
            None => facts.member.as_ref().is_some_and(|r| r.chat_id == m.chat_id),
        })
        .filter_map(|m| match Said::decode(&m.payload) {
            Ok(Said::Send { text, .. }) => Some(text),
            Ok(Said::File { caption, .. } | Said::Upload { caption, .. }) => Some(caption),
            _ => None,
        })
        .collect()
}

/// The page asking to confirm `action`, carrying the form as filled in (hidden) and a nonce that
/// makes the confirmation apply once.
pub(super) async fn page(
    state: &WebState,
    user: &CurrentUser,
    facts: &Facts,
    action: Act,
    command: &Command,
    change: &Change,
    fields: &Fields,
) -> Result<Markup, WebError> {
    let store = &state.app.store;
    let t = |k: &str| state.t(k);
    let name = |id: i64| async move {
        Ok::<_, WebError>(store.department(id).await?.map(|d| d.name).unwrap_or_else(|| format!("#{id}")))
    };
    // Who gets the work, and which of them has no way to receive it.
    let mut lead = None;
    let mut co = Vec::new();
    let mut deadline = None;
    let mut merge_into = None;
    for op in &change.ops {
        match op {
            ChangeOp::Assign { department_id, role, deadline: d } => {
                deadline = Some(*d);
                match role {
                    AssignmentRole::Lead => lead = Some(*department_id),
                    AssignmentRole::Co => co.push(*department_id),
                }
            }
            ChangeOp::MergeInto(target) => merge_into = store.suggestion(*target).await?,
            _ => {}
        }
    }
    let reach = channels(state).await?;
    let mut unreachable = Vec::new();
    for id in lead.iter().chain(co.iter()) {
        if !reach.get(id).copied().unwrap_or_default().receives() {
            unreachable.push(name(*id).await?);
        }
    }
    let lead_name = match lead {
        Some(id) => Some(name(id).await?),
        None => None,
    };
    let mut co_names = Vec::new();
    for id in &co {
        co_names.push(name(*id).await?);
    }
    let member_texts = member_texts(facts, change);
    let member_waits = facts.member.is_none();
    let others = change.messages.len().saturating_sub(member_texts.len());
    let new_state = t(&format!("state.{}", change.new_state.code()));
    let path = format!("/suggestions/{}/act/{}", facts.id, slug(action));
    let title = state.ta("web.confirm.title", &[("action", &label(state, action))]);
    let department = user.user.department_name.clone().unwrap_or_default();
    let body = html! {
        h1 { (title) }
        p { (t("web.confirm.lead")) }
        dl.facts {
            dt { (t("web.confirm.suggestion")) } dd { (facts.reference_no) " " (facts.title) }
            dt { (t("web.confirm.action")) } dd { strong { (label(state, action)) } }
            dt { (t("web.confirm.new_state")) } dd { span.state { (new_state) } }
            @if let Some(lead) = &lead_name {
                dt { (t("web.inbox.detail.lead")) } dd { (lead) }
                dt { (t("web.confirm.co")) } dd { @if co_names.is_empty() { (t("web.audit.no_co")) } @else { (co_names.join("、")) } }
            }
            @if let Some(d) = deadline {
                dt { (t("web.inbox.col_deadline")) } dd { (local_date(state, d)) }
            }
            @if let Some(target) = &merge_into {
                dt { (t("web.confirm.merge_into")) } dd { (target.reference_no) " " (target.title) }
            }
            @match command {
                Command::Reply { class, letter, .. } => {
                    dt { (t("web.confirm.replying")) } dd { (department) }
                    @let class_label = state.app.config.workflow.reply_classes().into_iter().find(|c| &c.code == class).map(|c| c.label).unwrap_or_default();
                    dt { (t("web.inbox.detail.reply_class")) } dd { (class) " " (class_label) }
                    @let letter = letter.checked().unwrap_or_default();
                    @for l in crate::letter::LetterField::ALL { @if let Some(v) = letter.get(l) {
                        dt { (t(&format!("letter.{}", l.name()))) } dd { (v) }
                    } }
                }
                Command::Reject { reason } => { dt { (t("web.confirm.reason")) } dd { div.text { (reason.trim()) } } }
                Command::RecordRating { rating, reason, channel, .. } => {
                    dt { (t("web.inbox.detail.rating_given")) } dd { (t(&format!("rating.{}", rating.as_str()))) }
                    dt { (t("web.inbox.detail.entry_channel")) } dd { (t(&format!("entry_channel.{}", channel.code()))) }
                    @if !reason.trim().is_empty() { dt { (t("web.confirm.reason")) } dd { div.text { (reason.trim()) } } }
                }
                _ => {}
            }
        }
        @for who in &unreachable {
            div.banner.error role="alert" { (state.ta("web.confirm.unreachable", &[("department", who)])) }
        }
        h2 { (t("web.confirm.member_reads")) }
        @if member_texts.is_empty() {
            p.muted { (t("web.confirm.member_nothing")) }
        } @else {
            @if member_waits { p.muted { (t("web.confirm.member_waits")) } }
            div.chat { @for text in &member_texts { div.bubble.bot { (text) } } }
        }
        @if others > 0 {
            p.muted { (state.ta("web.confirm.others", &[("count", &others)])) }
        }
        form.stack id="confirm" method="post" action=(path) {
            (auth::csrf(user))
            @for (name, values) in &fields.0 {
                @if !name.starts_with('_') {
                    @for v in values { input type="hidden" name=(name) value=(v); }
                }
            }
            input type="hidden" name="_once" value=(crate::accounts::random_token());
            div {
                button type="submit" name="_step" value="confirm" { (state.ta("web.confirm.confirm", &[("action", &label(state, action))])) } " "
                button.secondary type="submit" name="_step" value="edit" formnovalidate { (t("web.confirm.back")) }
            }
        }
    };
    Ok(layout::page(state, Some((&user.user, &user.csrf)), "/suggestions", &title, body))
}
