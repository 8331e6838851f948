//! Connections under attack, replayed against the real server loop (`jianyan::web::serve`) on
//! loopback: slow headers, idle keep-alive, one address taking every connection, bodies over the
//! limit (declared and streamed), slow bodies; and the real binary's start-up banner.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jianyan::app::App;
use jianyan::web::WebState;
use support::console::Console;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

/// A console whose settings are the defaults changed by `change`, served on 127.0.0.1:0.
struct Served {
    console: Console,
    addr: SocketAddr,
    _stop: watch::Sender<bool>,
}

async fn serve(change: impl FnOnce(&mut jianyan::config::Config)) -> Served {
    let console = Console::start().await;
    let mut config = (*console.app.config).clone();
    change(&mut config);
    let app = App { config: Arc::new(config), ..console.app.clone() };
    let state = WebState::new(app, false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = watch::channel(false);
    tokio::spawn(jianyan::web::serve(state, listener, rx));
    Served { console, addr, _stop: stop }
}

/// A connection to the server from a chosen loopback address (127.0.0.1, 127.0.0.2, …).
async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

/// Reads until the server closes the connection (or `limit` passes); returns what was read and
/// whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

/// One whole request on a fresh connection from `from`; the raw answer.
async fn http(from: &str, to: SocketAddr, request: &str) -> String {
    let mut s = connect_from(from, to).await;
    s.write_all(request.as_bytes()).await.unwrap();
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(20)).await;
    answer
}

fn status_of(answer: &str) -> u16 {
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// 200 connections that send only part of a request head are all closed once the header-read
/// timeout passes (before: open for over a minute); while they hang, `/login` still answers
/// another address at once, and the flooding address holds no more than its share.
#[tokio::test]
async fn slow_headers_are_closed_and_one_address_cannot_take_every_connection() {
    let s = serve(|c| {
        c.web.header_read_timeout_secs = 1;
        c.web.max_connections_per_address = 50;
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = connect_from("127.0.0.1", s.addr).await;
        let _ = stream.write_all(b"GET /login HTTP/1.1\r\nHost: jianyan\r\nX-Slow: ").await;
        slow.push(stream);
    }
    // The 150 over the per-address cap are closed at once, without waiting for the timeout.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let login = http("127.0.0.2", s.addr, "GET /login HTTP/1.1\r\nHost: jianyan\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status_of(&login), 200, "{login}");
    assert!(login.contains("登录"), "{login}");
    let started = Instant::now();
    let mut closed = 0;
    for stream in &mut slow {
        let (_, was_closed) = read_until_closed(stream, Duration::from_secs(10)).await;
        closed += usize::from(was_closed);
    }
    eprintln!("{closed} of 200 slow-header connections closed {:?} after the flood", started.elapsed());
    assert_eq!(closed, 200, "every slow connection is closed");
    assert!(started.elapsed() < Duration::from_secs(10), "closed by the 1 s header timeout, not by the test");
    // The address is free again afterwards.
    let again = http("127.0.0.1", s.addr, "GET /login HTTP/1.1\r\nHost: jianyan\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status_of(&again), 200, "{again}");
}

/// A keep-alive connection left idle after its answer is closed by the same timeout.
#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let s = serve(|c| c.web.header_read_timeout_secs = 1).await;
    let mut stream = connect_from("127.0.0.1", s.addr).await;
    stream.write_all(b"GET /login HTTP/1.1\r\nHost: jianyan\r\n\r\n").await.unwrap();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(closed, "the idle connection was closed after the answer");
}

/// Bodies over the limit get 413: a Chinese page for the console, JSON for the API; declared
/// with Content-Length (refused before reading) or streamed without one (cut off while read).
#[tokio::test]
async fn bodies_over_the_limit_get_413_in_the_right_format() {
    let s = serve(|c| c.web.max_body_bytes = 4096).await;
    let big = "x".repeat(10_000);
    let login = format!(
        "POST /login HTTP/1.1\r\nHost: jianyan\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\nusername={big}",
        big.len() + 9
    );
    let answer = http("127.0.0.1", s.addr, &login).await;
    assert_eq!(status_of(&answer), 413, "{answer}");
    assert!(answer.contains("提交的内容太大"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: text/html"), "{answer}");

    let (_, token) = s.console.api_token_for(s.console.department_id, "教育局办公系统").await;
    let body = format!("{{\"text\":\"{big}\"}}");
    let api = format!(
        "POST /api/v1/suggestions/PD-2025-0001/opinion HTTP/1.1\r\nHost: jianyan\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = http("127.0.0.1", s.addr, &api).await;
    assert_eq!(status_of(&answer), 413, "{answer}");
    assert!(answer.contains("\"code\":\"payload_too_large\""), "{answer}");

    // Streamed (chunked) without a length: a console form and the API.
    let browser = s.console.login("staff").await;
    let head = format!(
        "POST /topics HTTP/1.1\r\nHost: jianyan\r\nContent-Type: application/x-www-form-urlencoded\r\nCookie: {}\r\n",
        browser.cookie
    );
    let answer = http_bytes(s.addr, &chunked(&head, format!("title={big}").as_bytes())).await;
    assert_eq!(status_of(&answer), 413, "{answer}");
    assert!(answer.contains("提交的内容太大"), "{answer}");
    let head = format!(
        "POST /api/v1/suggestions/PD-2025-0001/opinion HTTP/1.1\r\nHost: jianyan\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
    );
    let answer = http_bytes(s.addr, &chunked(&head, body.as_bytes())).await;
    assert_eq!(status_of(&answer), 413, "{answer}");
    assert!(answer.contains("\"code\":\"payload_too_large\""), "{answer}");
}

/// A roster file over the upload limit gets 413 (before: 400), declared or streamed.
#[tokio::test]
async fn an_upload_over_the_limit_gets_413() {
    let s = serve(|c| {
        c.web.max_body_bytes = 4096;
        c.web.max_upload_bytes = 16_384;
    })
    .await;
    let browser = s.console.login("staff").await;
    let boundary = "XyZ";
    let multipart = |size: usize| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"roster.csv\"\r\nContent-Type: text/csv\r\n\r\n{}\r\n--{boundary}--\r\n",
            browser.csrf,
            "PD900,张三,区,陆家嘴街道,经济界,13800138000\n".repeat(size / 50)
        )
    };
    let head = format!(
        "POST /members/import HTTP/1.1\r\nHost: jianyan\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nCookie: {}\r\n",
        browser.cookie
    );
    // Under the upload limit but over the form limit: read, and answered for its content.
    let small = multipart(8_000);
    let request = format!("{head}Content-Length: {}\r\nConnection: close\r\n\r\n{small}", small.len());
    let answer = http_bytes(s.addr, request.as_bytes()).await;
    assert!(![0, 413].contains(&status_of(&answer)), "{answer}");
    let big = multipart(40_000);
    let declared = format!("{head}Content-Length: {}\r\nConnection: close\r\n\r\n{big}", big.len());
    for (how, request) in [("declared", declared.into_bytes()), ("streamed", chunked(&head, big.as_bytes()))] {
        let answer = http_bytes(s.addr, &request).await;
        assert_eq!(status_of(&answer), 413, "{how}: {answer}");
        assert!(answer.contains("提交的内容太大"), "{how}: {answer}");
    }
}

/// A body sent too slowly is cut off by the request timeout with 408 and a page saying so.
#[tokio::test]
async fn a_slow_body_gets_408() {
    let s = serve(|c| c.web.request_timeout_secs = 1).await;
    let mut stream = connect_from("127.0.0.1", s.addr).await;
    let head = "POST /login HTTP/1.1\r\nHost: jianyan\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=a";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert!(answer.contains("请求用时太长"), "{answer}");
}

/// The start-up banner names the address actually served (port 0 resolved), and it answers.
#[tokio::test]
async fn the_banner_shows_the_address_actually_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_jianyan"));
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("JIANYAN_") || k.starts_with("TELOXIDE_") || k == "RUST_LOG") {
            cmd.env_remove(&key);
        }
    }
    let err = dir.path().join("err.txt");
    let mut child = cmd
        .arg("run")
        .current_dir(dir.path())
        .env("JIANYAN_DATABASE__PATH", dir.path().join("j.db"))
        .env("JIANYAN_WEB__LISTEN", "127.0.0.1:0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = std::fs::read_to_string(&err).unwrap_or_default();
        if text.contains("jianyan is running") || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let served = text
        .split("listening=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse::<SocketAddr>().ok());
    let answer = match served {
        Some(addr) => {
            http("127.0.0.1", addr, "GET /login HTTP/1.1\r\nHost: jianyan\r\nConnection: close\r\n\r\n").await
        }
        None => String::new(),
    };
    let _ = child.kill();
    let _ = child.wait();
    let served = served.unwrap_or_else(|| panic!("no served address in the banner:\n{text}"));
    assert_ne!(served.port(), 0, "{text}");
    assert_eq!(status_of(&answer), 200, "{answer}");
}

/// A request whose body is sent in chunks (`Transfer-Encoding: chunked`, no length declared).
fn chunked(head: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{head}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").into_bytes();
    for chunk in body.chunks(1000) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

async fn http_bytes(to: SocketAddr, request: &[u8]) -> String {
    let mut s = connect_from("127.0.0.1", to).await;
    // The server may answer (and close) before all of an oversized body is written.
    let _ = s.write_all(request).await;
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(20)).await;
    answer
}
