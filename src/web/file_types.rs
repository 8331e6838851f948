//! Which files the console and the API keep (a reply's document, a 代为提交's attachments): the
//! types told by name and by content, and file names cleaned for keeping.

/// Longest file name kept, in characters (Telegram shows it to the member).
const FILE_NAME_MAX_CHARS: usize = 100;

/// A document type a reply may carry: the file name's extension, its MIME type, and how its bytes
/// begin (the magic numbers of PDF, the ZIP container of DOCX and OFD, the OLE2 container of DOC,
/// JPEG and PNG).
struct DocumentType {
    extensions: &'static [&'static str],
    mime_type: &'static str,
    magic: &'static [u8],
}

const DOCUMENT_TYPES: [DocumentType; 6] = [
    DocumentType { extensions: &["pdf"], mime_type: "application/pdf", magic: b"%PDF-" },
    DocumentType {
        extensions: &["docx"],
        mime_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        magic: b"PK\x03\x04",
    },
    DocumentType { extensions: &["doc"], mime_type: "application/msword", magic: b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" },
    // OFD (GB/T 33190-2016) is a ZIP package too.
    DocumentType { extensions: &["ofd"], mime_type: "application/ofd", magic: b"PK\x03\x04" },
    DocumentType { extensions: &["jpg", "jpeg"], mime_type: "image/jpeg", magic: b"\xFF\xD8\xFF" },
    DocumentType { extensions: &["png"], mime_type: "image/png", magic: b"\x89PNG\r\n\x1a\n" },
];

/// The MIME type of a file named `file_name` with these bytes, if a reply may carry it: the
/// extension must be one of the allowed ones and the content must be of that type.
pub fn document_type(file_name: &str, bytes: &[u8]) -> Option<&'static str> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    DOCUMENT_TYPES
        .iter()
        .find(|t| t.extensions.contains(&extension.as_str()))
        .filter(|t| bytes.starts_with(t.magic))
        .map(|t| t.mime_type)
}

/// The file name as kept: without any folder part, without forbidden characters, cut to size.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let clean: String = base.chars().filter(|c| !crate::bounds::is_forbidden(*c)).collect();
    crate::bounds::clip(clean.trim(), FILE_NAME_MAX_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_told_by_name_and_content() {
        assert_eq!(document_type("答复.pdf", b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(document_type("scan.JPG", b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
        assert_eq!(document_type("letter.ofd", b"PK\x03\x04..."), Some("application/ofd"));
        // A renamed program, a text file, no extension: refused.
        assert_eq!(document_type("setup.pdf", b"MZ\x90\x00"), None);
        assert_eq!(document_type("notes.txt", b"hello"), None);
        assert_eq!(document_type("pdf", b"%PDF-1.7"), None);
    }

    #[test]
    fn file_names_lose_folders_and_controls() {
        assert_eq!(clean_file_name("C:\\Users\\x\\答复函.pdf"), "答复函.pdf");
        assert_eq!(clean_file_name("../../etc/\u{202E}fdp.exe"), "fdp.exe");
    }
}
