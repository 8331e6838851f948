//! The dashboard: where the work stands at a glance. Staff and admins see everything; a department
//! account sees only the suggestions assigned to its department. Charts are SVG drawn here.

use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::auth::CurrentUser;
use super::{WebError, WebState, layout};
use crate::dialog::truncate;
use crate::store::Role;
use crate::store::reports::{DashboardData, Scope, WorkstationAnswer};

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    /// The topic of the 同题共答 view; the pinned one by default.
    #[serde(default)]
    topic: Option<i64>,
}

pub async fn page(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(q): Query<DashboardQuery>,
) -> Result<Markup, WebError> {
    let scope = match (user.user.role, user.user.department_id) {
        (Role::Admin | Role::Staff, _) => Scope::All,
        (Role::Department, Some(d)) => Scope::Department(d),
        // A department account without a department sees nothing: deny by default.
        (Role::Department, None) => return Err(WebError::Forbidden),
    };
    let now = state.app.clock.now();
    let data = state.app.store.dashboard(scope, now).await?;
    let title = state.t("web.nav.dashboard");
    let same_topic = match scope {
        Scope::All => Some(same_topic(&state, q.topic).await?),
        Scope::Department(_) => None,
    };
    let channel = match scope {
        Scope::All => Some(channel_health(&state, now).await?),
        Scope::Department(_) => None,
    };
    let body = html! {
        h1 { (title) }
        @if let (Scope::Department(_), Some(name)) = (scope, &user.user.department_name) {
            p.muted { (state.ta("web.dashboard.department_scope", &[("department", name)])) }
        }
        (summary(&state, &data))
        h2 { (state.t("web.dashboard.by_state")) }
        @if data.by_state.is_empty() {
            p.muted { (state.t("web.dashboard.nothing")) }
        } @else {
            div.cards {
                @for (s, n) in &data.by_state {
                    div.card { div.muted { (state.t(&format!("state.{}", s.code()))) } div.n { (n) } }
                }
            }
        }
        (overdue(&state, &data, now))
        (key_suggestions(&state, &data, now))
        div.charts {
            section {
                h2 { (state.t("web.dashboard.by_topic")) }
                (bar_chart(&state, &state.t("web.dashboard.by_topic"), &data.by_topic.iter().map(|(t, n)| {
                    (t.clone().unwrap_or_else(|| state.t("web.dashboard.no_topic")), *n)
                }).collect::<Vec<_>>()))
            }
            section {
                h2 { (state.t("web.dashboard.by_kind")) }
                (bar_chart(&state, &state.t("web.dashboard.by_kind"), &data.by_kind.iter().map(|(k, n)| (k.label().to_string(), *n)).collect::<Vec<_>>()))
            }
            section {
                h2 { (state.t("web.dashboard.by_workstation")) }
                (bar_chart(&state, &state.t("web.dashboard.by_workstation"), &data.by_workstation.iter().map(|(w, n)| {
                    (w.clone().unwrap_or_else(|| state.t("web.dashboard.no_workstation")), *n)
                }).collect::<Vec<_>>()))
            }
        }
        @if let Some(view) = same_topic { (view) }
        @if let Some(view) = channel { (view) }
    };
    Ok(layout::page(&state, Some((&user.user, &user.csrf)), "/", &title, body))
}

/// How the Telegram channel is doing: who cannot be reached, what was not delivered, what the
/// bot could not make sense of (each answered politely and logged with its update id), and how
/// many pushes are kept for someone the bot cannot write to yet (`Totals::held`).
async fn channel_health(state: &WebState, now: DateTime<Utc>) -> Result<Markup, WebError> {
    let totals = state.app.store.totals(now).await?;
    let configured = state.app.config.staff.group_chat_id;
    let app = &state.app;
    let ctx = crate::dialog::Ctx { store: app.store.as_ref(), texts: &app.texts, config: &app.config, now };
    let group = crate::workflow::staff_group(&ctx).await?;
    Ok(html! {
        h2 { (state.t("web.dashboard.channel")) }
        div.cards {
            div.card {
                div.muted { (state.t("web.dashboard.staff_group")) }
                @match group {
                    Some(id) => {
                        div.n { (id) }
                        @if id != configured {
                            div.muted { (state.ta("web.dashboard.staff_group_moved", &[("old", &configured)])) }
                        }
                    }
                    None => { div.muted { (state.t("web.dashboard.staff_group_none")) } }
                }
            }
            div.card {
                div.muted { (state.t("web.dashboard.unreachable")) }
                div.n { (totals.unreachable_members) }
            }
            div.card {
                div.muted { (state.t("web.dashboard.undelivered")) }
                div.n { (totals.undelivered) }
            }
            div.card {
                div.muted { (state.t("web.dashboard.not_understood")) }
                div.n { (totals.not_understood) }
                div.muted { (state.t("web.dashboard.not_understood_detail")) }
            }
            div.card id="held-pushes" {
                div.muted { (state.t("web.dashboard.held")) }
                div.n { (totals.held) }
                div.muted { (state.t("web.dashboard.held_detail")) }
            }
        }
    })
}

/// Days between two times, as a fraction.
fn days(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 86_400.0
}

/// The average and the median of the answer times, in days.
pub fn answer_days(times: &[(DateTime<Utc>, DateTime<Utc>)]) -> Option<(f64, f64)> {
    if times.is_empty() {
        return None;
    }
    let mut d: Vec<f64> = times.iter().map(|(a, r)| days(*a, *r).max(0.0)).collect();
    d.sort_by(f64::total_cmp);
    let average = d.iter().sum::<f64>() / d.len() as f64;
    let mid = d.len() / 2;
    let median = if d.len().is_multiple_of(2) { (d[mid - 1] + d[mid]) / 2.0 } else { d[mid] };
    Some((average, median))
}

fn summary(state: &WebState, data: &DashboardData) -> Markup {
    let answer = answer_days(&data.answer_times);
    let rate = (data.accepted_or_later > 0).then(|| 100.0 * data.adopted as f64 / data.accepted_or_later as f64);
    html! {
        div.cards {
            div.card {
                div.muted { (state.t("web.dashboard.answer_average")) }
                div.n { @if let Some((a, _)) = answer { (state.ta("web.dashboard.days", &[("n", &format!("{a:.1}"))])) } @else { "—" } }
                div.muted { (state.ta("web.dashboard.answered", &[("count", &data.answer_times.len())])) }
            }
            div.card {
                div.muted { (state.t("web.dashboard.answer_median")) }
                div.n { @if let Some((_, m)) = answer { (state.ta("web.dashboard.days", &[("n", &format!("{m:.1}"))])) } @else { "—" } }
            }
            div.card {
                div.muted { (state.t("web.dashboard.adoption")) }
                div.n { @if let Some(r) = rate { (format!("{r:.0}%")) } @else { "—" } }
                div.muted { (state.ta("web.dashboard.adoption_detail", &[("adopted", &data.adopted), ("accepted", &data.accepted_or_later)])) }
            }
            div.card {
                div.muted { (state.t("web.dashboard.overdue")) }
                div.n { (data.overdue.len()) }
            }
        }
    }
}

fn overdue(state: &WebState, data: &DashboardData, now: DateTime<Utc>) -> Markup {
    let offset = state.app.config.offset();
    html! {
        h2 { (state.t("web.dashboard.overdue_title")) }
        @if data.overdue.is_empty() {
            p.muted { (state.t("web.dashboard.overdue_none")) }
        } @else {
            div.table-wrap { table {
                thead { tr {
                    th { (state.t("web.dashboard.col_reference")) }
                    th { (state.t("web.dashboard.col_title")) }
                    th { (state.t("web.dashboard.col_department")) }
                    th { (state.t("web.dashboard.col_deadline")) }
                    th { (state.t("web.dashboard.col_overdue")) }
                } }
                tbody { @for o in &data.overdue {
                    tr {
                        td { a href=(format!("/suggestions/{}", o.suggestion_id)) { (o.reference_no) } }
                        td { (o.title) }
                        td {
                            (o.department_name) " "
                            span.muted { (state.t(if o.lead { "web.dashboard.lead" } else { "web.dashboard.co" })) }
                        }
                        td { (o.deadline.with_timezone(&offset).format("%Y-%m-%d")) }
                        // A day begun counts: one hour late is one day overdue.
                        td { (state.ta("web.dashboard.days", &[("n", &days(o.deadline, now).ceil().max(1.0))])) }
                    }
                } }
            } }
        }
    }
}

/// 重点建言: each key suggestion with its leader and progress (state, lead department, deadline,
/// days left or overdue while a department has it).
fn key_suggestions(state: &WebState, data: &DashboardData, now: DateTime<Utc>) -> Markup {
    let offset = state.app.config.offset();
    let t = |k: &str| state.t(k);
    html! {
        h2 id="key" { (t("web.dashboard.key_title")) }
        @if data.key.is_empty() {
            p.muted { (t("web.dashboard.key_none")) }
        } @else {
            div.table-wrap { table.key-table {
                thead { tr {
                    th { (t("web.dashboard.col_reference")) }
                    th { (t("web.dashboard.col_title")) }
                    th { (t("web.dashboard.col_leader")) }
                    th { (t("web.dashboard.col_state")) }
                    th { (t("web.dashboard.col_lead")) }
                    th { (t("web.dashboard.col_deadline")) }
                    th { (t("web.dashboard.col_left")) }
                } }
                tbody { @for k in &data.key {
                    tr data-key=(k.reference_no) {
                        td { a href=(format!("/suggestions/{}", k.suggestion_id)) { (k.reference_no) } }
                        td { (k.title) }
                        td { (k.leader) }
                        td { span.state { (t(&format!("state.{}", k.state.code()))) } }
                        td { (k.lead_department.as_deref().unwrap_or("—")) }
                        td { @match k.deadline { Some(d) => (d.with_timezone(&offset).format("%Y-%m-%d")), None => "—" } }
                        td { @match k.deadline.filter(|_| k.being_handled()) {
                            // A day begun counts, as in the overdue list.
                            Some(d) if d < now => strong { (state.ta("web.dashboard.days_over", &[("n", &days(d, now).ceil().max(1.0))])) },
                            Some(d) => (state.ta("web.dashboard.days_left", &[("n", &days(now, d).ceil().max(0.0))])),
                            None => "—",
                        } }
                    }
                } }
            } }
            p { a href="/suggestions?key=1" { (t("web.dashboard.key_filter")) } }
        }
    }
}

/// Horizontal bars, one per row, longest first as given, named `title` for screen readers. An SVG
/// the server draws (no script), laid out in percentages and without a viewBox, so its labels keep
/// their CSS size (13 px) on any screen: each label on its own line above its bar.
fn bar_chart(state: &WebState, title: &str, rows: &[(String, i64)]) -> Markup {
    /// Height of one row (label and bar), in px.
    const ROW: usize = 38;
    if rows.is_empty() {
        return html! { p.muted { (state.t("web.dashboard.nothing")) } };
    }
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    html! {
        svg.chart width="100%" height=(ROW * rows.len()) role="img" aria-label=(title) {
            @for (i, (label, n)) in rows.iter().enumerate() {
                @let y = ROW * i;
                // At most 88% of the width, leaving room for the count after the longest bar.
                @let w = 88.0 * *n as f64 / max;
                g {
                    title { (label) ": " (n) }
                    text x="0" y=(y + 14) { (truncate(label, 24)) }
                    rect.bar x="0" y=(y + 19) width=(format!("{w:.1}%")) height="12" {}
                    text x=(format!("{:.1}%", w + 1.5)) y=(y + 30) { (n) }
                }
            }
        }
    }
}

/// 同题共答: every workstation side by side on one topic, also those with nothing yet.
async fn same_topic(state: &WebState, chosen: Option<i64>) -> Result<Markup, WebError> {
    let topics = state.app.store.topics().await?;
    // Pinned topics come first in the list: the default is the pinned one, else the newest.
    let Some(topic) = chosen.and_then(|id| topics.iter().find(|t| t.id == id)).or(topics.first()) else {
        return Ok(html! {});
    };
    let rows = state.app.store.topic_by_workstation(topic.id).await?;
    let total = |f: fn(&WorkstationAnswer) -> i64| rows.iter().map(f).sum::<i64>();
    Ok(html! {
        section.same-topic {
            h2 { (state.t("web.dashboard.same_topic")) }
            form.filters method="get" action="/" {
                label { (state.t("web.dashboard.topic"))
                    select name="topic" {
                        @for t in &topics {
                            option value=(t.id) selected[t.id == topic.id] {
                                @if t.pinned { (state.t("web.topics.pinned")) " " }
                                (t.title)
                            }
                        }
                    }
                }
                button type="submit" { (state.t("web.dashboard.show")) }
            }
            @if rows.is_empty() {
                p.muted { (state.t("web.dashboard.no_workstations")) }
            } @else {
                div.table-wrap { table.same-topic-table {
                    thead { tr {
                        th { (state.t("web.dashboard.col_workstation")) }
                        th { (state.t("web.dashboard.col_members")) }
                        th { (state.t("web.dashboard.col_suggestions")) }
                        th { (state.t("web.dashboard.col_points")) }
                        th { (state.t("web.dashboard.col_adopted")) }
                    } }
                    tbody { @for r in &rows {
                        tr data-workstation=(r.name) {
                            td { (r.name) }
                            td { (r.members) }
                            td { (r.suggestions) }
                            td { (r.points) }
                            td { (r.adopted) }
                        }
                    } }
                    tfoot { tr {
                        th { (state.ta("web.dashboard.total_workstations", &[("count", &rows.len())])) }
                        th { (total(|r| r.members)) }
                        th { (total(|r| r.suggestions)) }
                        th { (total(|r| r.points)) }
                        th { (total(|r| r.adopted)) }
                    } }
                } }
            }
        }
    })
}
