//! Reads Word files back as Word would open them: the parts of the ZIP package and their text.

use std::io::{Cursor, Read};

/// The XML of one part of a `.docx` (e.g. `word/document.xml`); panics if there is none.
pub fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a .docx is a ZIP package");
    let mut file = zip.by_name(name).unwrap_or_else(|_| panic!("the package has {name}"));
    let mut xml = String::new();
    file.read_to_string(&mut xml).expect("UTF-8 XML");
    xml
}

/// The names of every part whose name starts with `prefix`.
pub fn parts(bytes: &[u8], prefix: &str) -> Vec<String> {
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a .docx is a ZIP package");
    zip.file_names().filter_map(Result::ok).filter(|n| n.starts_with(prefix)).map(|n| n.to_string()).collect()
}

/// The text a reader sees in a part, paragraph by paragraph (the `w:t` runs of each `w:p`, joined).
pub fn paragraphs(xml: &str) -> Vec<String> {
    let run = regex::Regex::new(r"<w:t(?:\s[^>]*)?>([^<]*)</w:t>").unwrap();
    xml.split("</w:p>")
        .map(|p| run.captures_iter(p).map(|c| unescape(&c[1])).collect::<String>())
        .filter(|p| !p.is_empty())
        .collect()
}

/// All the text of a part, paragraphs joined by new lines.
pub fn text(xml: &str) -> String {
    paragraphs(xml).join("\n")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}
