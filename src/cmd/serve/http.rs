//! The preview's HTTP/1.1 server: one request per connection, every part of it bounded before it
//! is read. The request line, the head and the body each have a cap, and a request over one is
//! refused from what its head says, without reading the rest: a `Content-Length` of a terabyte
//! costs nothing, and a header line that never ends is cut off at [`MAX_HEAD`] bytes. The head
//! must arrive within [`HEAD_TIMEOUT`], and at most [`MAX_CONNECTIONS`] are served at once.
//!
//! Requests are parsed with httparse, which reads only the buffer it is given; the connections,
//! the caps and the answers are this module's.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest request line (method, target and version) read.
pub const MAX_REQUEST_LINE: usize = 8 * 1024;

/// The longest head (request line and headers) read.
pub const MAX_HEAD: usize = 32 * 1024;

/// The most header fields read.
pub const MAX_HEADERS: usize = 64;

/// The largest body read, and thrown away: the preview answers GET and HEAD, which carry none.
pub const MAX_BODY: u64 = 64 * 1024;

/// How long a client has to send its whole head, and its body after it.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one write of an answer may wait for the client to take it.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The most connections served at once; more are answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 64;

/// A request's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent, such as `/app/1.0/?x=1`.
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first value of the header `name`, whatever its case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An answer.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Body,
}

pub enum Body {
    Bytes(Vec<u8>),
    /// A file of the given length, streamed.
    File(std::fs::File, u64),
}

impl Response {
    /// A plain-text answer.
    pub fn text(status: u16, text: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Body::Bytes(text.as_bytes().to_vec()),
        }
    }
}

/// Why a request was refused before it was answered: the status and a line saying why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub why: &'static str,
}

const fn refuse(status: u16, why: &'static str) -> Refusal {
    Refusal { status, why }
}

/// Reads a request's head from `reader`, at most [`MAX_HEAD`] bytes of it, and checks that the
/// body it announces is one the server takes. Nothing past the head is read; bytes read past
/// it (the start of a body) are returned.
pub fn read_head(reader: &mut impl Read) -> Result<(Request, Vec<u8>), Refusal> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let room = (MAX_HEAD - buf.len()).min(chunk.len());
        let n = match reader.read(&mut chunk[..room]) {
            Ok(0) => return Err(refuse(400, "the request ended before its head did")),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(refuse(408, "the request's head took too long"));
            }
            Err(_) => return Err(refuse(400, "the request could not be read")),
        };
        buf.extend_from_slice(&chunk[..n]);
        let line_end = buf.iter().position(|&b| b == b'\n');
        if line_end.unwrap_or(buf.len()) > MAX_REQUEST_LINE {
            return Err(refuse(414, "the request line is too long"));
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(end)) => {
                let request = Request {
                    method: parsed.method.unwrap_or_default().to_string(),
                    target: parsed.path.unwrap_or_default().to_string(),
                    headers: parsed
                        .headers
                        .iter()
                        .map(|h| {
                            let value = String::from_utf8_lossy(h.value).into_owned();
                            (h.name.to_string(), value)
                        })
                        .collect(),
                };
                check_body(&request)?;
                return Ok((request, buf.split_off(end)));
            }
            Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => {
                return Err(refuse(431, "the request's head is too large"));
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => {
                return Err(refuse(431, "the request has too many header fields"));
            }
            Err(_) => return Err(refuse(400, "the request is not HTTP/1.1")),
        }
    }
}

/// The body the head announces, refused when it is over [`MAX_BODY`] or of no stated length.
fn check_body(request: &Request) -> Result<u64, Refusal> {
    if request.header("Transfer-Encoding").is_some() {
        return Err(refuse(411, "a body must come with a Content-Length"));
    }
    let lengths: Vec<&str> = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
        .map(|(_, v)| v.trim())
        .collect();
    match lengths.as_slice() {
        [] => Ok(0),
        [one] => match one.parse::<u64>() {
            Ok(len) if len <= MAX_BODY => Ok(len),
            Ok(_) => Err(refuse(413, "the request's body is too large")),
            // Digits beyond u64 are a length too large as well.
            Err(_) if !one.is_empty() && one.bytes().all(|b| b.is_ascii_digit()) => {
                Err(refuse(413, "the request's body is too large"))
            }
            Err(_) => Err(refuse(400, "the Content-Length is not a number")),
        },
        _ => Err(refuse(400, "the request has more than one Content-Length")),
    }
}

/// A connection whose reads all end by one deadline.
struct Timed<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        (&mut &*self.stream).read(buf)
    }
}

/// Serves connections from `listener` until it fails, each on a thread of its own, answering
/// each request with `answer`.
pub fn serve(listener: &TcpListener, answer: Arc<dyn Fn(&Request) -> Response + Send + Sync>) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = write_response(&stream, &Response::text(503, "busy\n"), false);
            continue;
        }
        let open = Arc::clone(&open);
        let answer = Arc::clone(&answer);
        std::thread::spawn(move || {
            handle(&stream, &*answer);
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Reads one request from `stream` and answers it, then closes the connection.
fn handle(stream: &TcpStream, answer: &dyn Fn(&Request) -> Response) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut timed = Timed {
        stream,
        deadline: Instant::now() + HEAD_TIMEOUT,
    };
    let response = match read_head(&mut timed) {
        Ok((request, read)) => match skip_body(&mut timed, &request, read.len() as u64) {
            Ok(()) => Some((answer(&request), request.method == "HEAD")),
            Err(refusal) => Some((refusal_response(refusal), false)),
        },
        Err(refusal) => Some((refusal_response(refusal), false)),
    };
    if let Some((response, head_only)) = response {
        let _ = write_response(stream, &response, head_only);
    }
    let _ = stream.shutdown(Shutdown::Write);
    // Whatever the client still sends is read briefly and dropped, so closing does not reset
    // the connection before the client has read the answer.
    let mut timed = Timed {
        stream,
        deadline: Instant::now() + Duration::from_millis(200),
    };
    let _ = io::copy(&mut (&mut timed).take(MAX_BODY), &mut io::sink());
}

/// Reads the body the head announced (at most [`MAX_BODY`], of which `read` came with the head),
/// and drops it.
fn skip_body(reader: &mut impl Read, request: &Request, read: u64) -> Result<(), Refusal> {
    let length = check_body(request)?;
    let left = length.saturating_sub(read);
    let copied = io::copy(&mut reader.take(left), &mut io::sink())
        .map_err(|_| refuse(408, "the request's body took too long"))?;
    if copied < left {
        return Err(refuse(400, "the request ended before its body did"));
    }
    Ok(())
}

fn refusal_response(refusal: Refusal) -> Response {
    Response::text(refusal.status, &format!("{}\n", refusal.why))
}

/// Writes `response`, its body unless `head_only`.
fn write_response(mut stream: &TcpStream, response: &Response, head_only: bool) -> io::Result<()> {
    let length = match &response.body {
        Body::Bytes(bytes) => bytes.len() as u64,
        Body::File(_, length) => *length,
    };
    write!(
        stream,
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type
    )?;
    if head_only {
        return stream.flush();
    }
    match &response.body {
        Body::Bytes(bytes) => stream.write_all(bytes)?,
        Body::File(file, length) => {
            io::copy(&mut file.take(*length), &mut stream)?;
        }
    }
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's bytes followed by an endless stream of `fill`, counting what was read.
    struct Endless {
        start: Vec<u8>,
        fill: u8,
        read: usize,
    }

    impl Endless {
        fn new(start: &str, fill: u8) -> Endless {
            Endless {
                start: start.as_bytes().to_vec(),
                fill,
                read: 0,
            }
        }
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            for b in buf.iter_mut() {
                *b = self.start.get(self.read).copied().unwrap_or(self.fill);
                self.read += 1;
            }
            Ok(buf.len())
        }
    }

    fn status(result: Result<(Request, Vec<u8>), Refusal>) -> u16 {
        result.map_or_else(|r| r.status, |_| 200)
    }

    #[test]
    fn reads_a_request_head_and_what_came_after_it() {
        let mut input =
            io::Cursor::new(b"GET /a/?x HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\nrest".to_vec());
        let (request, after) = read_head(&mut input).unwrap();
        assert_eq!(request.method, "GET");
        assert_eq!(request.target, "/a/?x");
        assert_eq!(request.header("host"), Some("h"));
        assert_eq!(after, b"rest");
    }

    #[test]
    fn a_request_line_that_never_ends_is_refused_after_its_cap() {
        let mut input = Endless::new("GET /", b'a');
        assert_eq!(status(read_head(&mut input)), 414);
        assert!(input.read <= MAX_REQUEST_LINE + 4096, "read {}", input.read);
    }

    #[test]
    fn a_header_line_that_never_ends_is_refused_after_the_head_cap() {
        let mut input = Endless::new("GET / HTTP/1.1\r\nX-Long: ", b'a');
        assert_eq!(status(read_head(&mut input)), 431);
        assert!(input.read <= MAX_HEAD, "read {}", input.read);
    }

    #[test]
    fn too_many_header_fields_are_refused() {
        let head = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "X: 1\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(status(read_head(&mut io::Cursor::new(head))), 431);
    }

    #[test]
    fn a_body_over_the_cap_is_refused_from_its_length_without_reading_it() {
        for length in ["1099511627776", "99999999999999999999999", "65537"] {
            let head = format!("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: {length}\r\n\r\n");
            let mut input = Endless::new(&head, b'x');
            assert_eq!(status(read_head(&mut input)), 413, "{length}");
            assert!(input.read <= 4096, "read {} for {length}", input.read);
        }
        let chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(status(read_head(&mut Endless::new(chunked, b'x'))), 411);
        let small = "GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(status(read_head(&mut io::Cursor::new(small))), 200);
        let two = "GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n";
        assert_eq!(status(read_head(&mut io::Cursor::new(two))), 400);
    }

    #[test]
    fn a_head_cut_short_or_malformed_is_refused() {
        assert_eq!(status(read_head(&mut io::Cursor::new("GET / HT"))), 400);
        assert_eq!(
            status(read_head(&mut io::Cursor::new("\u{1}\u{2}\r\n\r\n"))),
            400
        );
    }
}
