//! Exports of a filtered list: CSV (UTF-8 with a BOM, so Excel reads Chinese) and XLSX. Same
//! filters and the same permission restriction as the inbox.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{ListQuery, local_date, local_time, visibility};
use crate::store::inbox::{InboxRow, PageCursor};
use crate::web::auth::CurrentUser;
use crate::web::{WebError, WebState};

/// The most rows one export holds; a bigger list asks for narrower filters.
pub const EXPORT_MAX: usize = 200_000;
const CHUNK: usize = 5_000;

/// Column header keys (`web.inbox.export.*`), in order.
const COLUMNS: [&str; 16] = [
    "reference",
    "title",
    "member",
    "member_no",
    "workstation",
    "topic",
    "kind",
    "points",
    "state",
    "departments",
    "submitted",
    "deadline",
    "entry",
    "rating",
    "body",
    "cosigners",
];

/// The rows of the filtered list, in the list's order, fetched in chunks by keyset.
pub(super) async fn rows(state: &WebState, user: &CurrentUser, query: &ListQuery) -> Result<Vec<InboxRow>, WebError> {
    let restriction = visibility(user)?;
    let (mut filter, problems) = query.filter(state, restriction);
    // The dialog preview's test suggestions are practice, not the committee's work.
    filter.exclude_test = true;
    if let Some(p) = problems.into_iter().next() {
        return Err(WebError::BadRequest(p));
    }
    let sort = query.sort();
    let mut out: Vec<InboxRow> = Vec::new();
    let mut cursor = PageCursor::First;
    loop {
        let page = state.app.store.inbox(&filter, sort, &cursor, CHUNK).await?;
        let Some(last) = page.rows.last() else { break };
        cursor = PageCursor::After(last.cursor(sort));
        out.extend(page.rows);
        if out.len() > EXPORT_MAX {
            return Err(WebError::BadRequest(state.ta("web.inbox.export_too_many", &[("max", &EXPORT_MAX)])));
        }
        if !page.has_next {
            break;
        }
    }
    Ok(out)
}

/// How it reached the committee: sent by the member, or entered by staff for them (代为提交).
fn entry(state: &WebState, r: &InboxRow) -> String {
    match (&r.entered_by_name, r.entered_via) {
        (Some(name), Some(via)) => state.ta(
            "web.inbox.export.entered_for",
            &[("name", name), ("channel", &state.t(&format!("entry_channel.{}", via.code())))],
        ),
        _ => state.t("web.inbox.export.entered_self"),
    }
}

/// The latest rating, marked when staff recorded it for the member (代为评价).
fn rating(state: &WebState, r: &InboxRow) -> String {
    let Some(code) = &r.rating else { return String::new() };
    let label = state.t(&format!("rating.{code}"));
    match r.rating_via {
        Some(via) => state.ta(
            "web.inbox.export.rating_recorded",
            &[("rating", &label), ("channel", &state.t(&format!("entry_channel.{}", via.code())))],
        ),
        None => label,
    }
}

/// The co-signers (联名, accepted) of the rows' suggestions, joined with 、 per suggestion.
async fn cosigners(state: &WebState, rows: &[InboxRow]) -> Result<HashMap<i64, String>, WebError> {
    let mut out: HashMap<i64, String> = HashMap::new();
    for chunk in rows.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.id).collect();
        for (id, name) in state.app.store.cosigner_names(&ids).await? {
            let names = out.entry(id).or_default();
            if !names.is_empty() {
                names.push('、');
            }
            names.push_str(&name);
        }
    }
    Ok(out)
}

fn cells(state: &WebState, r: &InboxRow, cosigners: &HashMap<i64, String>) -> [String; 16] {
    [
        r.reference_no.clone(),
        r.title.clone(),
        r.member_name.clone(),
        r.member_no.clone(),
        r.workstation.clone().unwrap_or_default(),
        r.topic_title.clone().unwrap_or_default(),
        r.kind.label().to_string(),
        r.points.to_string(),
        state.t(&format!("state.{}", r.state.code())),
        r.departments.clone(),
        local_time(state, r.created_at),
        r.deadline.map(|d| local_date(state, d)).unwrap_or_default(),
        entry(state, r),
        rating(state, r),
        r.body.clone(),
        cosigners.get(&r.id).cloned().unwrap_or_default(),
    ]
}

fn headers(state: &WebState) -> Vec<String> {
    COLUMNS.iter().map(|c| state.t(&format!("web.inbox.export.{c}"))).collect()
}

/// A cell a spreadsheet would take for a formula gets a leading `'` (formula injection).
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// The `Content-Disposition` of an export: the locale's name (`web.inbox.export.file_name`, e.g.
/// `建言列表-2026-11-29.csv`, dated by the clock in the configured offset) as an RFC 5987
/// `filename*=UTF-8''…`, after an ASCII `filename=` (`web.inbox.export.file_name_ascii`) for
/// clients that do not read it (RFC 6266 §4.3).
fn file_name(state: &WebState, ext: &str) -> String {
    let day = state.app.clock.now().with_timezone(&state.app.config.offset()).format("%Y-%m-%d").to_string();
    let name = state.ta("web.inbox.export.file_name", &[("date", &day), ("ext", &ext)]);
    let ascii = state.ta("web.inbox.export.file_name_ascii", &[("date", &day), ("ext", &ext)]);
    let ascii: String =
        ascii.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", rfc5987(&name))
}

/// `text` percent-encoded as UTF-8 bytes, keeping only RFC 5987's `attr-char`s as they are.
pub fn rfc5987(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(super) async fn audit(
    state: &WebState,
    user: &CurrentUser,
    what: &str,
    query: &ListQuery,
    n: usize,
) -> Result<(), WebError> {
    let filters = query.filters_query();
    let filters = if filters.is_empty() {
        state.t("web.audit.no_filters")
    } else {
        url::form_urlencoded::parse(filters.as_bytes()).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
    };
    let detail = state.ta("web.audit.detail_export", &[("rows", &n), ("filters", &filters)]);
    state.app.store.audit(user.auditor(), what, "", &detail, state.app.clock.now()).await?;
    Ok(())
}

pub async fn csv(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let rows = rows(&state, &user, &query).await?;
    let cosigners = cosigners(&state, &rows).await?;
    let mut buf: Vec<u8> = Vec::with_capacity(64 + rows.len() * 400);
    buf.extend_from_slice("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new().quote_style(csv::QuoteStyle::Necessary).from_writer(&mut buf);
        w.write_record(headers(&state))?;
        for r in &rows {
            let c = cells(&state, r, &cosigners);
            w.write_record(c.iter().map(|v| defuse(v).into_owned()))?;
        }
        w.flush()?;
    }
    audit(&state, &user, "suggestions.export_csv", &query, rows.len()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, file_name(&state, "csv")),
        ],
        buf,
    )
        .into_response())
}

pub async fn xlsx(
    State(state): State<WebState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let rows = rows(&state, &user, &query).await?;
    let headers = headers(&state);
    let cosigners = cosigners(&state, &rows).await?;
    let cells: Vec<[String; 16]> = rows.iter().map(|r| cells(&state, r, &cosigners)).collect();
    let n = rows.len();
    drop(rows);
    let marker = state.ta("web.inbox.export.truncated", &[("max", &XLSX_CELL_MAX)]);
    // Building the workbook is CPU work: keep it off the async threads.
    let bytes = tokio::task::spawn_blocking(move || build_xlsx(&headers, &cells, &marker)).await??;
    audit(&state, &user, "suggestions.export_xlsx", &query, n).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, file_name(&state, "xlsx")),
        ],
        bytes,
    )
        .into_response())
}

/// Excel's limit for the text of one cell, in UTF-16 code units ("Total number of characters that
/// a cell can contain: 32,767", Excel specifications and limits; rust_xlsxwriter refuses more).
pub const XLSX_CELL_MAX: usize = 32_767;

/// A cell's text cut to fit Excel's limit: a longer text keeps as much of its beginning as fits
/// with `marker` after it, so the cut is visible in the sheet.
pub fn fit_cell<'a>(text: &'a str, marker: &str) -> std::borrow::Cow<'a, str> {
    let units = |s: &str| s.chars().map(char::len_utf16).sum::<usize>();
    if units(text) <= XLSX_CELL_MAX {
        return text.into();
    }
    let room = XLSX_CELL_MAX.saturating_sub(units(marker));
    let mut used = 0;
    let end = text
        .char_indices()
        .find(|(_, c)| {
            used += c.len_utf16();
            used > room
        })
        .map_or(text.len(), |(i, _)| i);
    format!("{}{marker}", &text[..end]).into()
}

fn build_xlsx(headers: &[String], rows: &[[String; 16]], marker: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = Format::new().set_bold();
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            // The points count (column 8) is a number; everything else is text, never a formula.
            if c == 7
                && let Ok(n) = v.parse::<f64>()
            {
                sheet.write_number(r, c as u16, n)?;
            } else if !v.is_empty() {
                sheet.write_string(r, c as u16, fit_cell(v, marker))?;
            }
        }
    }
    for (c, width) in [14, 30, 10, 12, 14, 24, 12, 8, 10, 20, 17, 12, 22, 16, 60, 20].into_iter().enumerate() {
        sheet.set_column_width(c as u16, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    workbook.save_to_buffer()
}
