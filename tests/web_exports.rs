//! Exports never fail on content: the largest suggestion the configured limits allow goes out whole
//! in CSV, and in XLSX with every cell cut to Excel's limit behind a visible marker.

mod support;

use axum::http::StatusCode;
use jianyan::domain::SuggestionKind;
use support::console::Console;
use support::xlsx::first_sheet;

#[tokio::test]
async fn the_largest_suggestion_the_limits_allow_exports_to_csv_whole_and_to_xlsx_cut_with_a_marker() {
    let c = Console::start().await;
    let b = c.login("staff").await;
    let limits = c.app.config.limits.clone();
    let title: String = "标".repeat(limits.title_max_chars);
    // Characters outside the BMP count twice in Excel's limit (UTF-16): mix some in.
    let point = |i: usize| -> String {
        let unit = if i.is_multiple_of(2) { "建" } else { "𠀀" };
        unit.repeat(limits.point_max_chars)
    };
    let points: Vec<String> = (0..limits.max_points).map(point).collect();
    let point_refs: Vec<&str> = points.iter().map(String::as_str).collect();
    let (_, reference) = c.inbox_submit("PD001", SuggestionKind::Advice, &title, &point_refs, Vec::new()).await;
    let body: String = points.iter().enumerate().map(|(i, p)| format!("{}. {p}", i + 1)).collect::<Vec<_>>().join("\n");
    let body_units: usize = body.encode_utf16().count();
    assert!(body_units > 32_767, "the default limits allow more than a cell holds ({body_units})");

    let csv = c.get("/suggestions/export.csv", Some(&b)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let mut reader = csv::Reader::from_reader(&csv.bytes[3..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], reference);
    assert_eq!(&rows[0][1], title);
    assert_eq!(&rows[0][14], body, "CSV has no cell limit: the whole text");

    let xlsx = c.get("/suggestions/export.xlsx", Some(&b)).await;
    assert_eq!(xlsx.status, StatusCode::OK, "{}", xlsx.body);
    let rows = first_sheet(&xlsx.bytes).rows();
    assert_eq!(rows.len(), 2, "the header and the one suggestion");
    let marker = "【以下超出 Excel 单元格 32767 字的上限，已截去；全文见 CSV 导出或控制台】";
    let cell = &rows[1][14];
    assert!(cell.ends_with(marker), "the cut is marked at the end of the cell");
    let units = cell.encode_utf16().count();
    assert!(units <= 32_767, "the cell fits Excel's limit: {units}");
    assert!(units > 32_000, "as much as fits is kept: {units}");
    let kept = &cell[..cell.len() - marker.len()];
    assert!(body.starts_with(kept) && kept.starts_with("1. 建建建"), "the beginning is kept, unchanged");
    assert_eq!((&rows[1][0], &rows[1][1]), (&reference, &title), "the other cells are whole");
}

/// The value of `filename*=UTF-8''…` decoded (RFC 5987 percent-encoding of UTF-8 bytes).
fn extended_file_name(disposition: &str) -> String {
    let encoded = disposition.split("filename*=UTF-8''").nth(1).expect("a filename* parameter");
    let encoded = encoded.split(';').next().unwrap().trim();
    let mut bytes = Vec::new();
    let mut rest = encoded.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            bytes.push(u8::from_str_radix(std::str::from_utf8(&tail[..2]).unwrap(), 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn exports_are_named_in_chinese_with_the_local_date_and_an_ascii_fallback() {
    let c = Console::start().await;
    // 17:00 UTC on the 28th is already the 29th at the configured +08:00.
    c.clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 28, 17, 0, 0).unwrap());
    let b = c.login("staff").await;
    for ext in ["csv", "xlsx"] {
        let page = c.get(&format!("/suggestions/export.{ext}"), Some(&b)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let disposition = page.headers[axum::http::header::CONTENT_DISPOSITION].to_str().expect("an ASCII header");
        assert!(disposition.starts_with("attachment; "), "{disposition}");
        assert!(disposition.contains(&format!("filename=\"jianyan-2026-11-29.{ext}\"")), "{disposition}");
        assert_eq!(extended_file_name(disposition), format!("建言列表-2026-11-29.{ext}"), "{disposition}");
    }
}
