//! A reply sent through the API with a document: reading the `multipart/form-data` request, and
//! which files a reply may carry (type by name and by content, size by `web.api_max_upload_mb`).

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;

use super::types::ReplyRequest;
use crate::store::{Attachment, AttachmentKind, StoredFile};
use crate::web::{WebError, WebState};

/// The text parts of the form: the fields of `ReplyRequest`.
pub const TEXT_PARTS: [&str; 6] = ["class", "text", "letter_number", "letter_title", "letter_contact", "letter_phone"];
/// The file part.
pub const DOCUMENT_PART: &str = "document";
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
pub(crate) fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let clean: String = base.chars().filter(|c| !crate::bounds::is_forbidden(*c)).collect();
    crate::bounds::clip(clean.trim(), FILE_NAME_MAX_CHARS)
}

/// A reply read from a multipart form: its fields, and the document to keep with it.
pub struct Upload {
    pub request: ReplyRequest,
    pub document: Option<(Attachment, StoredFile)>,
}

/// Reads the form: every text part of `TEXT_PARTS` at most once, `class` and `text` required,
/// and at most one `document` part. Answers 413 `file_too_large` for a document over the limit
/// and 400 (field by field) for anything else that is wrong.
pub async fn read(state: &WebState, request: Request) -> Result<Upload, WebError> {
    let malformed =
        || WebError::api(StatusCode::BAD_REQUEST, "malformed_multipart", state.t("web.api.malformed_multipart"));
    let mut form = Multipart::from_request(request, state).await.map_err(|_| malformed())?;
    let max = state.app.config.web.api_max_upload_bytes();
    let too_large = || {
        let message = state.ta("web.api.file_too_large", &[("max", &state.app.config.web.api_max_upload_mb)]);
        WebError::api(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", message)
    };
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut document: Option<(String, Vec<u8>)> = None;
    let mut problems = BTreeMap::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(malformed()),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == DOCUMENT_PART {
            let file_name = field.file_name().map(clean_file_name).unwrap_or_default();
            let bytes = match field.bytes().await {
                Ok(b) => b,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(_) => return Err(malformed()),
            };
            if bytes.len() > max {
                return Err(too_large());
            }
            if document.is_some() {
                problems.insert(name, state.t("web.api.one_document"));
                continue;
            }
            document = Some((file_name, bytes.to_vec()));
        } else if TEXT_PARTS.contains(&name.as_str()) {
            let Ok(text) = field.text().await else { return Err(malformed()) };
            if texts.insert(name.clone(), text).is_some() {
                problems.insert(name, state.t("web.api.field_repeated"));
            }
        } else {
            problems.insert(name, state.t("web.api.field_unknown"));
        }
    }
    for required in ["class", "text"] {
        if !texts.contains_key(required) {
            problems.insert(required.to_string(), state.t("web.api.field_required"));
        }
    }
    let document = match document {
        None => None,
        Some((file_name, bytes)) => {
            if bytes.is_empty() {
                problems.insert(DOCUMENT_PART.to_string(), state.t("web.api.document_empty"));
                None
            } else {
                match document_type(&file_name, &bytes) {
                    Some(mime_type) => {
                        let file = StoredFile::new(mime_type, bytes);
                        let attachment = Attachment {
                            kind: AttachmentKind::Stored,
                            file_id: String::new(),
                            file_unique_id: file.sha256.clone(),
                            file_name: Some(file_name),
                            mime_type: Some(mime_type.to_string()),
                            file_size: Some(file.bytes.len() as i64),
                            width: None,
                            height: None,
                        };
                        Some((attachment, file))
                    }
                    None => {
                        problems.insert(DOCUMENT_PART.to_string(), state.t("web.api.document_type"));
                        None
                    }
                }
            }
        }
    };
    if !problems.is_empty() {
        return Err(WebError::invalid(state, problems));
    }
    let mut take = |name: &str| texts.remove(name);
    let request = ReplyRequest {
        class: take("class").unwrap_or_default(),
        text: take("text").unwrap_or_default(),
        letter_number: take("letter_number"),
        letter_title: take("letter_title"),
        letter_contact: take("letter_contact"),
        letter_phone: take("letter_phone"),
    };
    Ok(Upload { request, document })
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
