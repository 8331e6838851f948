//! 代为提交: staff enter a suggestion for a member who gave it by phone, on paper or in person,
//! with every field the Telegram dialog asks for; the timeline and the exports say who entered it,
//! and the member gets the receipt (kept for them if the bot cannot write to them yet).

use axum::Form;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use maud::{Markup, html};
use serde::Deserialize;

use crate::dialog::Invitation;
use crate::domain::{EntryChannel, MemberNo, Point, SuggestionKind, fold_width};
use crate::reply::Action;
use crate::store::{
    Addressee, Attachment, AttachmentKind, Commit, Committed, Effect, EnteredBy, Member, NewSuggestion, OutMessage,
    ReceiptFn, Role, StoredFile,
};
use crate::web::auth::{self, CurrentUser};
use crate::web::file_types::{clean_file_name, document_type};
use crate::web::{WebError, WebState, layout};

/// A repeated form (a double click, a resent form) within this many minutes, for the same member
/// with the same title and points by the same account, is the same suggestion: shown, not filed twice.
const REPEAT_WINDOW_MINUTES: i64 = 30;

/// The file part of the form (`<input type=file multiple>`): each file one part of this name.
pub const ATTACHMENT_PART: &str = "attachments";

/// A file given with the form, as sent: its name (folders and control characters taken out) and bytes.
pub struct GivenFile {
    file_name: String,
    bytes: Vec<u8>,
}

/// The form as typed; everything is text so a bad value is said back with the form kept.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    channel: String,
    /// 联名: member numbers or names, separated by `,`, `，`, `、`, `;`, `；` or a new line.
    #[serde(default)]
    cosigners: String,
}

/// Only staff and admins act for members.
fn require_staff(user: &CurrentUser) -> Result<(), WebError> {
    user.require(&[Role::Admin, Role::Staff])
}

pub async fn page(State(state): State<WebState>, user: CurrentUser) -> Result<Response, WebError> {
    require_staff(&user)?;
    Ok(render(&state, &user, &EntryForm::default(), &[]).await?.into_response())
}

/// What the form asks for, read and checked: the member, the topic, the kind, the title, the
/// points and how the member gave it; or every problem found, in the form's order.
struct Entry {
    member: Member,
    topic_id: Option<i64>,
    kind: SuggestionKind,
    title: String,
    points: Vec<String>,
    channel: EntryChannel,
    /// The files to keep (`FileStore`) and list with the suggestion (kind `Stored`).
    attachments: Vec<(Attachment, StoredFile)>,
    /// The members invited to co-sign (联名), in the order typed.
    cosigners: Vec<Member>,
}

/// The most members one typed name may stand for before the form asks for the number instead.
const CANDIDATES_MAX: usize = 8;

/// The co-signers typed (numbers or names, as in the dialog's co-signers step): each an active,
/// real (not test) member other than the lead, at most `workflow.cosign_max`, a repeated one once.
/// A name several members share asks for the number, listing workstation and level; what is
/// refused is added to `problems`.
async fn find_cosigners(
    state: &WebState,
    lead: Option<&Member>,
    typed: &str,
    problems: &mut Vec<String>,
) -> Result<Vec<Member>, WebError> {
    let store = &state.app.store;
    let mut found: Vec<Member> = Vec::new();
    for name in typed.split([',', '，', '、', ';', '；', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        let candidates = store.cosign_candidates(&fold_width(name), CANDIDATES_MAX).await?;
        match candidates.as_slice() {
            [] => problems.push(match find_member(state, name).await? {
                Ok(m) if !m.active => state.ta("web.enter.cosigner_inactive", &[("name", &m.name)]),
                _ => state.ta("web.enter.cosigner_unknown", &[("typed", &name)]),
            }),
            [one] if lead.is_some_and(|l| l.id == one.id) => {
                problems.push(state.ta("web.enter.cosigner_is_lead", &[("name", &one.name)]));
            }
            [one] => {
                if !found.iter().any(|m| m.id == one.id) {
                    found.push(one.clone());
                }
            }
            several => {
                let list = listed(several);
                problems.push(state.ta("web.enter.cosigner_ambiguous", &[("list", &list)]));
            }
        }
    }
    let max = state.app.config.workflow.cosign_max;
    if found.len() > max {
        problems.push(state.ta("web.enter.too_many_cosigners", &[("max", &max)]));
    }
    Ok(found)
}

/// Members who share a name, told apart for a person: `张三（PD001，陆家嘴街道，区）；…`.
fn listed(members: &[Member]) -> String {
    members
        .iter()
        .map(|m| {
            let place = m.workstation.as_deref().unwrap_or("—");
            format!("{}（{}，{}，{}）", m.name, m.member_no.as_str(), place, m.level.label())
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// The member a typed member number or name names. A name several members share asks for the
/// number, listing them with workstation and level.
async fn find_member(state: &WebState, typed: &str) -> Result<Result<Member, String>, WebError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(Err(state.t("web.enter.no_member")));
    }
    let folded = fold_width(typed).replace(' ', "");
    let store = &state.app.store;
    for candidate in [folded.clone(), folded.to_ascii_uppercase()] {
        if let Some(no) = MemberNo::parse(&candidate)
            && let Some(m) = store.member_by_no(&no).await?
        {
            return Ok(Ok(m));
        }
    }
    let named: Vec<Member> = store.members().await?.into_iter().filter(|m| m.name == typed).collect();
    Ok(match named.len() {
        0 => Err(state.ta("web.enter.unknown_member", &[("typed", &typed)])),
        1 => Ok(named.into_iter().next().expect("one")),
        _ => {
            let list = listed(&named);
            Err(state.ta("web.enter.ambiguous_member", &[("list", &list)]))
        }
    })
}

/// The files as attachments: at most `limits.max_attachments`, each of a type a reply document may
/// be (PDF, DOCX, DOC, OFD, JPEG, PNG, told by name and content: `api::upload::document_type`) and
/// at most `web.api_max_upload_mb`. Problems are added to `problems`, one per file.
fn read_files(state: &WebState, files: &[GivenFile], problems: &mut Vec<String>) -> Vec<(Attachment, StoredFile)> {
    let max_count = state.app.config.limits.max_attachments;
    if files.len() > max_count {
        problems.push(state.ta("web.enter.too_many_files", &[("max", &max_count)]));
        return Vec::new();
    }
    let max_bytes = state.app.config.web.api_max_upload_bytes();
    let mut kept = Vec::new();
    for f in files {
        let name = if f.file_name.is_empty() { "—".to_string() } else { f.file_name.clone() };
        if f.bytes.is_empty() {
            problems.push(state.ta("web.enter.file_empty", &[("name", &name)]));
        } else if f.bytes.len() > max_bytes {
            let max = state.app.config.web.api_max_upload_mb;
            problems.push(state.ta("web.enter.file_too_large", &[("name", &name), ("max", &max)]));
        } else if let Some(mime_type) = document_type(&f.file_name, &f.bytes) {
            let file = StoredFile::new(mime_type, f.bytes.clone());
            let attachment = Attachment {
                kind: AttachmentKind::Stored,
                file_id: String::new(),
                file_unique_id: file.sha256.clone(),
                file_name: Some(f.file_name.clone()),
                mime_type: Some(mime_type.to_string()),
                file_size: Some(file.bytes.len() as i64),
                width: None,
                height: None,
            };
            kept.push((attachment, file));
        } else {
            problems.push(state.ta("web.enter.file_type", &[("name", &name)]));
        }
    }
    kept
}

/// The request's form and files: `multipart/form-data` (the page's form, with files) or
/// `application/x-www-form-urlencoded` (no files). A malformed body is a polite 400; a body over
/// the limit is answered 413 by `transport::limit_bodies`.
async fn read_request(state: &WebState, request: Request) -> Result<(EntryForm, Vec<GivenFile>), WebError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let malformed = || WebError::BadRequest(state.t("web.enter.malformed"));
    if !multipart {
        let Form(form) = Form::<EntryForm>::from_request(request, state).await.map_err(|_| malformed())?;
        return Ok((form, Vec::new()));
    }
    let mut parts = Multipart::from_request(request, state).await.map_err(|_| malformed())?;
    let mut form = EntryForm::default();
    let mut files = Vec::new();
    while let Some(field) = parts.next_field().await.map_err(|_| malformed())? {
        let name = field.name().unwrap_or_default().to_string();
        if name == ATTACHMENT_PART {
            let file_name = field.file_name().map(clean_file_name).unwrap_or_default();
            let bytes = field.bytes().await.map_err(|_| malformed())?;
            // A browser sends an empty part when no file was chosen.
            if !(file_name.is_empty() && bytes.is_empty()) {
                files.push(GivenFile { file_name, bytes: bytes.to_vec() });
            }
            continue;
        }
        let text = field.text().await.map_err(|_| malformed())?;
        let slot = match name.as_str() {
            "_csrf" => &mut form._csrf,
            "member" => &mut form.member,
            "topic" => &mut form.topic,
            "kind" => &mut form.kind,
            "title" => &mut form.title,
            "points" => &mut form.points,
            "channel" => &mut form.channel,
            "cosigners" => &mut form.cosigners,
            _ => continue,
        };
        *slot = text;
    }
    Ok((form, files))
}

async fn read(state: &WebState, f: &EntryForm, files: &[GivenFile]) -> Result<Result<Entry, Vec<String>>, WebError> {
    let limits = &state.app.config.limits;
    let mut problems = Vec::new();
    let member = match find_member(state, &f.member).await? {
        Ok(m) if !m.active => {
            problems.push(state.ta("web.enter.inactive_member", &[("name", &m.name)]));
            None
        }
        Ok(m) => Some(m),
        Err(p) => {
            problems.push(p);
            None
        }
    };
    let topic_id = match f.topic.trim() {
        "" | "none" => None,
        id => match id.parse::<i64>() {
            Ok(id) if state.app.store.topic(id).await?.is_some() => Some(id),
            _ => {
                problems.push(state.t("web.enter.unknown_topic"));
                None
            }
        },
    };
    let kind = SuggestionKind::parse(&f.kind);
    if kind.is_none() {
        problems.push(state.t("web.enter.choose_kind"));
    }
    let title = f.title.trim().to_string();
    if title.is_empty() {
        problems.push(state.t("web.enter.no_title"));
    } else if title.chars().count() > limits.title_max_chars {
        problems.push(state.ta("web.enter.title_too_long", &[("max", &limits.title_max_chars)]));
    }
    // Points are separated by a blank line, or numbered (1. 2. …) as in a Telegram message.
    let points: Vec<String> =
        f.points.replace("\r\n", "\n").split("\n\n").flat_map(Point::split).map(Point::into_string).collect();
    if points.is_empty() {
        problems.push(state.t("web.enter.no_points"));
    } else if points.len() > limits.max_points {
        problems.push(state.ta("web.enter.too_many_points", &[("max", &limits.max_points)]));
    }
    for (i, p) in points.iter().enumerate() {
        if p.chars().count() > limits.point_max_chars {
            problems.push(state.ta("web.enter.point_too_long", &[("n", &(i + 1)), ("max", &limits.point_max_chars)]));
        }
    }
    let channel = EntryChannel::parse(&f.channel);
    if channel.is_none() {
        problems.push(state.t("web.enter.choose_channel"));
    }
    let cosigners = find_cosigners(state, member.as_ref(), &f.cosigners, &mut problems).await?;
    let attachments = read_files(state, files, &mut problems);
    if !problems.is_empty() && !files.is_empty() {
        // A browser cannot show chosen files again.
        problems.push(state.t("web.enter.choose_files_again"));
    }
    Ok(match (member, kind, channel) {
        (Some(member), Some(kind), Some(channel)) if problems.is_empty() => {
            Ok(Entry { member, topic_id, kind, title, points, channel, attachments, cosigners })
        }
        _ => Err(problems),
    })
}

pub async fn submit(State(state): State<WebState>, user: CurrentUser, request: Request) -> Result<Response, WebError> {
    require_staff(&user)?;
    let (form, files) = read_request(&state, request).await?;
    user.check_csrf(&form._csrf)?;
    let entry = match read(&state, &form, &files).await? {
        Ok(entry) => entry,
        Err(problems) => {
            let page = render(&state, &user, &form, &problems).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let store = &state.app.store;
    let now = state.app.clock.now();
    // The same form again: the suggestion it filed, not a second one.
    if let Some(id) = repeated(&state, &user, &entry).await? {
        return Ok(Redirect::to(&format!("/suggestions/{id}?done=entered")).into_response());
    }
    let recipient = store.member_recipient(entry.member.id).await?;
    let texts = state.app.texts.clone();
    let lang = texts.lang_for(recipient.as_ref().and_then(|r| r.language.as_deref()));
    let channel_label = texts.t(lang, &format!("entry_channel.{}", entry.channel.code()), &[]);
    let (title, points, member_id) = (entry.title.clone(), entry.points.len(), entry.member.id);
    // 联名: the invitations are written with the suggestion and pushed with the receipt, as from
    // the Telegram dialog (`dialog::cosign::Invitation`).
    let expires_at = now + chrono::Duration::days(state.app.config.workflow.cosign_days);
    let deadline = expires_at.with_timezone(&state.app.config.offset()).format("%Y-%m-%d %H:%M").to_string();
    let mut invitees = Vec::new();
    for c in &entry.cosigners {
        invitees.push((c.id, store.member_recipient(c.id).await?));
    }
    let mut effects = Vec::new();
    if !invitees.is_empty() {
        effects.push(Effect::InviteCosigners { member_ids: invitees.iter().map(|(id, _)| *id).collect(), expires_at });
    }
    let (lead_name, invited_points) = (entry.member.name.clone(), entry.points.clone());
    let receipt: ReceiptFn = Box::new(move |reference, suggestion_id| {
        let text = texts.t(
            lang,
            "notify.entered_receipt",
            &[("reference", reference), ("title", &title), ("points", &points), ("channel", &channel_label)],
        );
        let payload = Action::text(text).encode();
        let mut messages = vec![match &recipient {
            Some(r) => OutMessage::notification(r.chat_id, payload),
            None => OutMessage::held(Addressee::Member(member_id), Some(suggestion_id), payload),
        }];
        let invitation = Invitation {
            lead: &lead_name,
            reference: &reference.to_string(),
            title: &title,
            points: &invited_points,
            deadline: &deadline,
            suggestion_id,
        };
        for (member_id, recipient) in &invitees {
            messages.push(invitation.message(&texts, *member_id, recipient.as_ref()));
        }
        messages
    });
    let mut as_typed = state.ta(
        "web.enter.timeline",
        &[("channel", &state.t(&format!("entry_channel.{}", entry.channel.code()))), ("member", &entry.member.name)],
    );
    if !entry.cosigners.is_empty() {
        let names = entry.cosigners.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join("、");
        as_typed.push('；');
        as_typed.push_str(&state.ta("cosign.staff_invited", &[("names", &names)]));
    }
    let suggestion = NewSuggestion {
        member_id: entry.member.id,
        topic_id: entry.topic_id,
        kind: entry.kind,
        title: entry.title.clone(),
        points: entry.points.clone(),
        as_typed,
        attachments: entry.attachments.iter().map(|(a, _)| a.clone()).collect(),
        year: now.with_timezone(&state.app.config.offset()).year(),
        prefix: state.app.config.references.prefix.clone(),
        entered_by: Some(EnteredBy { user_id: user.user.id, channel: entry.channel }),
    };
    // The bytes are kept first, so the suggestion never names a file that is not there.
    for (_, file) in &entry.attachments {
        store.keep_file(file, now).await?;
    }
    let commit = Commit {
        update_id: None,
        chat_id: 0,
        dialog: None,
        messages: Vec::new(),
        submission: Some((suggestion, receipt)),
        change: None,
        now,
    };
    let Committed::Done { reference: Some(reference), .. } = store.commit_with(commit, effects).await? else {
        return Err(WebError::Internal(anyhow::anyhow!("a console entry committed without a reference number")));
    };
    let reference = reference.to_string();
    let detail = format!("{}（{}）：{}", entry.member.name, entry.member.member_no.as_str(), entry.title);
    store.audit(user.auditor(), "suggestion.entered", &reference, &detail, now).await?;
    let id = store.suggestion_id_by_reference(&reference).await?.ok_or(WebError::NotFound)?;
    Ok(Redirect::to(&format!("/suggestions/{id}?done=entered")).into_response())
}

/// The suggestion this account filed for the member with the same title and points in the last
/// [`REPEAT_WINDOW_MINUTES`], if any.
async fn repeated(state: &WebState, user: &CurrentUser, entry: &Entry) -> Result<Option<i64>, WebError> {
    let store = &state.app.store;
    let since = state.app.clock.now() - chrono::Duration::minutes(REPEAT_WINDOW_MINUTES);
    for s in store.suggestions_of_member(entry.member.id, 10).await? {
        if s.created_at < since || s.title != entry.title {
            continue;
        }
        let Some(full) = store.suggestion(s.id).await? else { continue };
        if full.entered_by == Some(user.user.id) && full.points == entry.points {
            return Ok(Some(s.id));
        }
    }
    Ok(None)
}

async fn render(state: &WebState, user: &CurrentUser, f: &EntryForm, problems: &[String]) -> Result<Markup, WebError> {
    let t = |k: &str| state.t(k);
    let topics = state.app.store.topics().await?;
    let now = state.app.clock.now();
    let limits = &state.app.config.limits;
    let title = t("web.enter.title");
    let body = html! {
        p { a href="/suggestions" { "← " (t("web.inbox.detail.back")) } }
        h1 { (title) }
        p.muted { (t("web.enter.intro")) }
        @if !problems.is_empty() {
            div.banner.error role="alert" { ul { @for p in problems { li { (p) } } } }
        }
        form.stack method="post" action="/suggestions/new" enctype="multipart/form-data" {
            (auth::csrf(user))
            label { (t("web.enter.member")) input name="member" value=(f.member) required placeholder=(t("web.enter.member_hint")); }
            label { (t("web.enter.channel")) select name="channel" required {
                option value="" { (t("web.inbox.detail.choose")) }
                @for c in EntryChannel::ALL {
                    option value=(c.code()) selected[f.channel == c.code()] { (t(&format!("entry_channel.{}", c.code()))) }
                }
            } }
            label { (t("web.inbox.col_topic")) select name="topic" {
                option value="none" { (t("render.no_topic")) }
                // Open topics first; a closed one stays choosable for what was given on paper in time.
                @for topic in topics.iter().filter(|t| t.is_open(now)).chain(topics.iter().filter(|t| !t.is_open(now))) {
                    option value=(topic.id) selected[f.topic == topic.id.to_string()] {
                        (topic.title) @if !topic.is_open(now) { (t("web.enter.topic_closed")) }
                    }
                }
            } }
            label { (t("web.inbox.col_kind")) select name="kind" required {
                option value="" { (t("web.inbox.detail.choose")) }
                @for k in SuggestionKind::ALL {
                    option value=(k.code()) selected[f.kind == k.code() || f.kind == k.label()] { (t(&format!("kind.{}", k.code()))) }
                }
            } }
            label { (t("web.inbox.col_title")) input name="title" value=(f.title) required maxlength=(limits.title_max_chars); }
            label { (t("web.enter.points")) textarea name="points" rows="10" required { (f.points) } }
            p.muted { (state.ta("web.enter.points_hint", &[("max", &limits.max_points), ("chars", &limits.point_max_chars)])) }
            label { (t("web.enter.cosigners")) input name="cosigners" value=(f.cosigners) placeholder=(t("web.enter.cosigners_hint")); }
            p.muted { (state.ta("web.enter.cosigners_note", &[("max", &state.app.config.workflow.cosign_max), ("days", &state.app.config.workflow.cosign_days)])) }
            label { (t("web.enter.files")) input type="file" name=(ATTACHMENT_PART) multiple accept=".pdf,.docx,.doc,.ofd,.jpg,.jpeg,.png"; }
            p.muted { (state.ta("web.enter.files_hint", &[("count", &limits.max_attachments), ("max", &state.app.config.web.api_max_upload_mb)])) }
            button type="submit" { (t("web.enter.submit")) }
        }
    };
    Ok(layout::page(state, Some((&user.user, &user.csrf)), "/suggestions", &title, body))
}
