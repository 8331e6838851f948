//! A reply sent through the API with a document: reading the `multipart/form-data` request, and
//! which files a reply may carry (type by name and by content, size by `web.api_max_upload_mb`).

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;

use super::types::ReplyRequest;
use crate::store::{Attachment, AttachmentKind, StoredFile};
use crate::web::file_types::{clean_file_name, document_type};
use crate::web::{WebError, WebState};

/// The text parts of the form: the fields of `ReplyRequest`.
pub const TEXT_PARTS: [&str; 6] = ["class", "text", "letter_number", "letter_title", "letter_contact", "letter_phone"];
/// The file part.
pub const DOCUMENT_PART: &str = "document";
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
