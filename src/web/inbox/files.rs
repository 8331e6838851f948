//! A suggestion's kept files (attachments uploaded with a 代为提交), downloaded by whoever may view it.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::detail;
use super::export::rfc5987;
use crate::store::AttachmentKind;
use crate::web::auth::CurrentUser;
use crate::web::{WebError, WebState};

/// `GET /suggestions/{id}/files/{sha256}`: the bytes of the suggestion's attachment of kind
/// `Stored` named by its SHA-256 (lowercase hex), with its MIME type and a Content-Disposition
/// naming the file as uploaded (RFC 5987). 404 when the viewer may not view the suggestion
/// (`detail::visible_facts`), or the suggestion has no such attachment, or its bytes are not kept.
pub async fn download(
    State(state): State<WebState>,
    user: CurrentUser,
    Path((id, sha256)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    detail::visible_facts(&state, &user, id).await?;
    let store = &state.app.store;
    let suggestion = store.suggestion(id).await?.ok_or(WebError::NotFound)?;
    let attachment = suggestion
        .attachments
        .iter()
        .find(|a| a.kind == AttachmentKind::Stored && a.file_unique_id == sha256)
        .ok_or(WebError::NotFound)?;
    let file = store.stored_file(&sha256).await?.ok_or(WebError::NotFound)?;
    let name = attachment.file_name.clone().unwrap_or_else(|| "file".to_string());
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", rfc5987(&name));
    let headers = [
        (header::CONTENT_TYPE, file.mime_type),
        (header::CONTENT_DISPOSITION, disposition),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
    ];
    Ok((headers, file.bytes).into_response())
}
