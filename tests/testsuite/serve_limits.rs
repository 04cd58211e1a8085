//! `relsite serve` against hostile requests: a body announced at a terabyte, a header line that
//! never ends, a client that sends nothing. Each is refused without reading what it announces,
//! and the preview keeps answering.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

/// A running `relsite serve`, stopped when dropped.
struct Serve {
    child: Child,
    /// `127.0.0.1:<port>`.
    host: String,
    _site: TestSite,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Serve {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    let mut child = relsite()
        .args(["serve", "--port", "0", "--root"])
        .arg(site.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let host = loop {
        let line = lines.next().expect("serve prints its address").unwrap();
        if let Some(rest) = line.strip_prefix("serving http://") {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    // Whatever serve prints later is read, so that printing never fails it.
    std::thread::spawn(move || lines.for_each(drop));
    Serve {
        child,
        host,
        _site: site,
    }
}

impl Serve {
    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.host).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
    }

    /// Sends `head` and returns the status line of the answer.
    fn status_of(&self, head: &str) -> String {
        let mut stream = self.connect();
        stream.write_all(head.as_bytes()).expect("send the head");
        status_line(&mut stream)
    }

    /// The preview still answers, and its process still runs.
    #[track_caller]
    fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "serve died: {:?}",
            self.child.try_wait()
        );
        let head = format!("GET /com.acme.a/ HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        assert_eq!(self.status_of(&head), "HTTP/1.1 200 OK");
    }
}

/// The first line of what the server answered, read to the end.
fn status_line(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or("").to_string()
}

#[test]
fn a_terabyte_body_is_refused_unread_whatever_the_answer_would_be() {
    let mut serve = serve();
    serve.assert_alive();
    let terabyte = 1u64 << 40;
    for host in [serve.host.clone(), "evil.example:80".to_string()] {
        let started = Instant::now();
        let head = format!(
            "GET /com.acme.a/ HTTP/1.1\r\nHost: {host}\r\nContent-Length: {terabyte}\r\n\r\n"
        );
        assert_eq!(serve.status_of(&head), "HTTP/1.1 413 Content Too Large");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "refused at once, not after waiting for the body"
        );
        serve.assert_alive();
    }
}

#[test]
fn a_header_line_that_never_ends_is_cut_off() {
    let mut serve = serve();
    let mut stream = serve.connect();
    let head = format!("GET / HTTP/1.1\r\nHost: {}\r\nX-Long: ", serve.host);
    stream.write_all(head.as_bytes()).unwrap();
    // 256 MiB of one header line: the server stops reading long before, so sending fails or
    // its refusal arrives, at once rather than when the head's time is up.
    let started = Instant::now();
    let chunk = vec![b'a'; 1 << 20];
    let mut sent = 0usize;
    while sent < 256 {
        if stream.write_all(&chunk).is_err() {
            break;
        }
        sent += 1;
    }
    assert!(sent < 256, "the server read 256 MiB of one header line");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cut off at once, not after {:?}",
        started.elapsed()
    );
    let status = status_line(&mut stream);
    assert!(
        status.is_empty() || status == "HTTP/1.1 431 Request Header Fields Too Large",
        "{status}"
    );
    serve.assert_alive();
}

#[test]
fn a_client_that_sends_nothing_is_answered_408_within_the_head_timeout() {
    let mut serve = serve();
    let started = Instant::now();
    let mut silent = serve.connect();
    assert_eq!(status_line(&mut silent), "HTTP/1.1 408 Request Timeout");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    serve.assert_alive();
}

#[test]
fn connections_past_the_cap_are_answered_503_at_once() {
    let mut serve = serve();
    // The preview serves 64 connections at once; these hold every one.
    let held: Vec<TcpStream> = (0..64).map(|_| serve.connect()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let head = format!("GET / HTTP/1.1\r\nHost: {}\r\n\r\n", serve.host);
    assert_eq!(serve.status_of(&head), "HTTP/1.1 503 Service Unavailable");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(held);
    std::thread::sleep(Duration::from_millis(500));
    serve.assert_alive();
}
