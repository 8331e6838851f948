//! Connections under hostile traffic: the accept loop with a header-read timeout, connection caps,
//! request timeouts and request-body limits.
//!
//! The pieces are hyper's and axum's own: hyper's HTTP/1 `header_read_timeout` (its timer starts
//! whenever the server waits for a request head, so it also closes idle keep-alive connections),
//! tower-http's `TimeoutLayer` for whole requests, and axum's `DefaultBodyLimit` chosen per
//! request. What is ours is only the bookkeeping: how many connections are open, in all and per
//! client address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::{Layer, ServiceExt};

use super::WebState;
use crate::config::Web;

/// Routes that take a file upload, and so `web.max_upload_bytes` instead of `web.max_body_bytes`.
const UPLOAD_ROUTES: &[&str] = &["/members/import"];

/// How long open connections get to finish after shutdown is asked for, in seconds.
const SHUTDOWN_GRACE_SECS: u64 = 10;

/// The connection limits of `[web]`, read once at start-up.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// Time to send a request head, and the longest idle keep-alive wait.
    pub header_read_timeout: Duration,
    /// Connections open at once; the accept loop waits for one to close beyond this.
    pub max_connections: usize,
    /// Connections one address may hold open; more are closed at once.
    pub max_per_address: usize,
    /// Addresses not held to `max_per_address`: the reverse proxies everyone arrives through.
    pub trusted_proxies: Vec<IpAddr>,
}

impl ConnectionLimits {
    pub fn from_config(web: &Web) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(web.header_read_timeout_secs),
            max_connections: web.max_connections,
            max_per_address: web.max_connections_per_address,
            trusted_proxies: web.trusted_proxy_addrs(),
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection counted against its address; uncounted when dropped.
struct AddressSlot {
    table: Arc<PerAddress>,
    addr: IpAddr,
}

impl PerAddress {
    fn take(table: &Arc<PerAddress>, addr: IpAddr, max: usize) -> Option<AddressSlot> {
        let mut open = table.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(addr).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot { table: table.clone(), addr })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.addr);
            }
        }
    }
}

/// Accepts connections and serves `router` on them until `shutdown` turns true; then lets open
/// requests finish for a few seconds.
///
/// Each connection is HTTP/1.1 (what a reverse proxy speaks) with hyper's header-read timeout; at
/// most `limits.max_connections` are open at once (the rest wait in the kernel's backlog), and one
/// address may hold at most `limits.max_per_address` (the rest are closed at once), so one client
/// cannot take every slot from the others.
pub async fn serve(
    router: Router,
    listener: TcpListener,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let total = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stop);
    loop {
        let permit: OwnedSemaphorePermit = tokio::select! {
            permit = total.clone().acquire_owned() => permit?,
            _ = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let slot = if limits.trusted_proxies.contains(&peer.ip()) {
            None
        } else {
            match PerAddress::take(&per_address, peer.ip(), limits.max_per_address) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(peer = %peer, "too many connections from one address; closed");
                    drop(stream);
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a connection ended with an error");
            }
            drop(slot);
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(SHUTDOWN_GRACE_SECS)) => {
            tracing::warn!("some web connections were still open at shutdown; closed them");
        }
    }
    Ok(())
}

/// The body limit of a request: `web.max_upload_bytes` for file uploads, `web.max_body_bytes`
/// for everything else. A declared `Content-Length` over it is refused at once; a body that turns
/// out longer while read (chunked) is cut off at the limit (http-body-util's `Limited`, and axum's
/// `DefaultBodyLimit` for its extractors). Either way the answer is 413 in the console's or the
/// API's format — also when a handler read the cut-off body and answered something else (the
/// roster upload used to say 400), because the limit, not the handler, is what refused it.
pub async fn limit_bodies(State(state): State<WebState>, request: Request, next: Next) -> Response {
    let web = &state.app.config.web;
    let path = request.uri().path().to_string();
    let post = request.method() == Method::POST;
    let upload = post && UPLOAD_ROUTES.contains(&path.as_str());
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let api_document = post && multipart && path.starts_with("/api/v1/suggestions/") && path.ends_with("/reply");
    // 代为提交 with attachments: each file as large as an API document, and the form besides.
    let console_entry = post && multipart && path == "/suggestions/new";
    let limit = if console_entry {
        web.api_max_upload_bytes() * state.app.config.limits.max_attachments.max(1) + web.max_body_bytes
    } else if api_document {
        // The document may be as large as allowed; the form's other fields and framing fit in the
        // ordinary body limit. The handler says which part was too large.
        web.api_max_upload_bytes() + web.max_body_bytes
    } else if upload {
        web.max_upload_bytes
    } else {
        web.max_body_bytes
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A reply's document over the limit is told as such, as the handler tells it.
    let too_large = |state: &WebState| {
        if api_document {
            let message = state.ta("web.api.file_too_large", &[("max", &web.api_max_upload_mb)]);
            super::WebError::api(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large", message).into_response()
        } else {
            super::error_for_status(state, &path, StatusCode::PAYLOAD_TOO_LARGE)
        }
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(&state);
    }
    let over = Arc::new(AtomicBool::new(false));
    let flag = over.clone();
    let request = request.map(|body| {
        Body::new(Limited::new(body, limit).map_err(move |e| {
            if e.is::<LengthLimitError>() {
                flag.store(true, Ordering::Relaxed);
            }
            e
        }))
    });
    let response = match DefaultBodyLimit::max(limit).layer(next).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let refused = response.status().is_client_error() || response.status().is_server_error();
    if refused && over.load(Ordering::Relaxed) {
        return too_large(&state);
    }
    response
}
