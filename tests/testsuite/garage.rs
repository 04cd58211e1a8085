//! A real S3-compatible object store for the deploy tests: Garage, started on loopback as a
//! single node (replication factor 1, layout assigned and applied), with a bucket, a key allowed
//! on it and the website endpoint enabled, all through its own command line.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Garage, stopped when dropped.
pub struct Garage {
    dir: tempfile::TempDir,
    server: Child,
    pub bucket: String,
    pub key_id: String,
    pub secret: String,
    /// `http://127.0.0.1:<port>`, the S3 API.
    pub endpoint: String,
    web_port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// The garage binary: on PATH, else in ~/.cargo/bin.
fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|d| d.join("bin"));
    on_path
        .into_iter()
        .chain(cargo_bin)
        .map(|d| d.join("garage"))
        .find(|p| p.is_file())
        .expect("garage on PATH or in ~/.cargo/bin (cargo install garage --locked)")
}

impl Garage {
    pub fn start() -> Garage {
        let dir = tempfile::tempdir().expect("temp dir");
        let (rpc, s3, web, admin) = (free_port(), free_port(), free_port(), free_port());
        let config = format!(
            r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"

[s3_web]
bind_addr = "127.0.0.1:{web}"
root_domain = ".web.garage.localhost"
index = "index.html"

[admin]
api_bind_addr = "127.0.0.1:{admin}"
"#,
            meta = dir.path().join("meta").display(),
            data = dir.path().join("data").display(),
            secret = "0f".repeat(32),
        );
        std::fs::write(dir.path().join("garage.toml"), config).expect("config");
        let log = std::fs::File::create(dir.path().join("garage.log")).expect("log");
        let server = Command::new(binary())
            .arg("-c")
            .arg(dir.path().join("garage.toml"))
            .arg("server")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("garage server starts");
        let mut garage = Garage {
            dir,
            server,
            bucket: "localhost".to_string(),
            key_id: String::new(),
            secret: String::new(),
            endpoint: format!("http://127.0.0.1:{s3}"),
            web_port: web,
        };
        garage.wait_until_up();
        let status = garage.cli(&["status"]);
        let node = status
            .lines()
            .skip_while(|l| !l.contains("ID"))
            .nth(1)
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no node id in:\n{status}"))
            .to_string();
        garage.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node]);
        garage.cli(&["layout", "apply", "--version", "1"]);
        garage.cli(&["bucket", "create", "localhost"]);
        let key = garage.cli(&["key", "create", "relsite-test"]);
        let field = |name: &str| {
            key.lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .map(|v| v.trim_start_matches(':').trim().to_string())
                .unwrap_or_else(|| panic!("no {name} in:\n{key}"))
        };
        garage.key_id = field("Key ID");
        garage.secret = field("Secret key");
        garage.cli(&[
            "bucket",
            "allow",
            "--read",
            "--write",
            "--owner",
            "localhost",
            "--key",
            "relsite-test",
        ]);
        garage.cli(&["bucket", "website", "--allow", "localhost"]);
        garage
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let port: u16 = self
            .endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "garage did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("garage.log")).unwrap_or_default()
    }

    /// Runs the garage command line against this server, returning what it printed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(binary())
            .arg("-c")
            .arg(self.dir.path().join("garage.toml"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("garage runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "garage {args:?} failed:\n{text}");
        text
    }

    /// `deploy:` settings for relsite.yaml, under `prefix`.
    pub fn deploy_yaml(&self, prefix: &str) -> String {
        format!(
            "deploy:\n  url: s3://{}/{prefix}\n  endpoint: {}\n  region: garage\n",
            self.bucket, self.endpoint
        )
    }

    /// The environment relsite needs to reach the store.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret.clone()),
        ]
    }

    /// Where the website endpoint serves the bucket: a bucket named after the host it is
    /// asked for is served for that host.
    pub fn base_url(&self) -> String {
        format!("http://localhost:{}/", self.web_port)
    }

    /// GETs `path` from the website endpoint, as a browser or iOS would the live site.
    pub fn web_get(&self, path: &str) -> Response {
        get(self.web_port, &format!("localhost:{}", self.web_port), path)
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// An HTTP answer: status, headers (names lowercased) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP/1.1 GET on loopback with `host` as the Host header.
fn get(port: u16, host: &str, path: &str) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..eol])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}
