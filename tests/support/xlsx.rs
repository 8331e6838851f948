//! Reads the console's XLSX exports back with calamine, cell by cell, as a spreadsheet program would.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// The first sheet of an XLSX file.
pub struct Sheet {
    /// Every row from the first, the header row included; a missing cell is `Data::Empty`.
    pub cells: Vec<Vec<Data>>,
    /// The text of every formula in the sheet (an export has none).
    pub formulas: Vec<String>,
}

impl Sheet {
    /// Each row's cells as a spreadsheet shows them: text as it is, `2` for the number 2, an
    /// empty string for an empty cell.
    pub fn rows(&self) -> Vec<Vec<String>> {
        self.cells.iter().map(|row| row.iter().map(Data::to_string).collect()).collect()
    }

    /// The data row whose first cell (the reference number) is `reference`.
    pub fn row_of(&self, reference: &str) -> Option<Vec<String>> {
        self.rows().into_iter().skip(1).find(|row| row.first().map(String::as_str) == Some(reference))
    }

    /// Whether any cell contains `text`.
    pub fn contains(&self, text: &str) -> bool {
        self.rows().iter().flatten().any(|cell| cell.contains(text))
    }
}

/// Opens `bytes` as an XLSX workbook and reads its first sheet; panics if it is not one.
pub fn first_sheet(bytes: &[u8]) -> Sheet {
    assert!(bytes.starts_with(b"PK\x03\x04"), "an XLSX is a zip file");
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("a readable XLSX");
    let name = book.sheet_names().first().cloned().expect("a sheet");
    let range = book.worksheet_range(&name).expect("the sheet reads");
    let formulas = book.worksheet_formula(&name).expect("the formulas read");
    Sheet {
        cells: range.rows().map(<[Data]>::to_vec).collect(),
        formulas: formulas.used_cells().map(|(_, _, f)| f.clone()).filter(|f| !f.is_empty()).collect(),
    }
}
