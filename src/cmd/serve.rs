//! `relsite serve`: build into a private folder with `base_url` pointed at the loopback address,
//! serve it, rebuild when config, releases, notes or theme change, and reload open pages. A
//! failed rebuild prints its problems and the last good site stays up.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tiny_http::{Header, Response, Server};

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::pipeline::Options;
use crate::ui::Ui;

/// Where pages ask whether the site was rebuilt.
const GENERATION_PATH: &str = "/__relsite/generation";

/// Polls the generation and reloads when it changes; added to every HTML page served.
const RELOAD_SCRIPT: &str = "<script>(function(){var g=null;setInterval(function(){fetch('/__relsite/generation',{cache:'no-store'}).then(function(r){return r.text()}).then(function(t){if(g!==null&&t!==g){location.reload()}g=t}).catch(function(){})},1000)})();</script>";

/// Serves until interrupted; returns false when it cannot start.
pub fn run(args: &ServeArgs, ui: &Ui) -> bool {
    let fail = |d: Diagnostic| {
        ui.report(&Diagnostics::from(d));
        false
    };
    let server = match Server::http(("127.0.0.1", args.port)) {
        Ok(server) => server,
        Err(e) => {
            return fail(Diagnostic::error(
                None,
                format!("cannot listen on 127.0.0.1:{}: {e}", args.port),
            ));
        }
    };
    let port = server.server_addr().to_ip().map_or(args.port, |a| a.port());
    let address = format!("http://127.0.0.1:{port}/");
    remove_stale_outputs();
    let output = std::env::temp_dir().join(format!("relsite-serve-{}-{port}", std::process::id()));
    let options = Options {
        root: args.site.root.clone(),
        output: Some(output.clone()),
        base_url: Some(address.clone()),
        drafts: args.site.drafts,
    };
    let generation = Arc::new(AtomicU64::new(0));
    if crate::cmd::build::build(&options, ui).is_some() {
        generation.fetch_add(1, Ordering::SeqCst);
    }

    let (tx, rx) = mpsc::channel();
    let mut watcher = match notify::recommended_watcher(tx) {
        Ok(w) => w,
        Err(e) => {
            return fail(Diagnostic::error(
                None,
                format!("cannot watch for changes: {e}"),
            ));
        }
    };
    for path in watched(&args.site.root) {
        if let Err(e) = watcher.watch(&path, RecursiveMode::Recursive) {
            return fail(Diagnostic::error(path, format!("cannot watch: {e}")));
        }
    }
    let ignored = ignored(&args.site.root);
    let rebuilds = Arc::clone(&generation);
    let rebuild_ui = *ui;
    std::thread::spawn(move || {
        let _watcher = watcher;
        while let Ok(event) = rx.recv() {
            if !relevant(&event, &ignored) {
                continue;
            }
            // Let a burst of changes (an editor's save, a copy) settle into one rebuild.
            std::thread::sleep(Duration::from_millis(250));
            while rx.recv_timeout(Duration::from_millis(250)).is_ok() {}
            rebuild_ui.status("change detected, rebuilding");
            if crate::cmd::build::build(&options, &rebuild_ui).is_some() {
                rebuilds.fetch_add(1, Ordering::SeqCst);
            } else {
                rebuild_ui.status("still serving the last good build");
            }
        }
    });

    ui.status(format!(
        "serving {address} (Ctrl-C stops)\nInstalling needs HTTPS with a certificate the device trusts: the Install button works only from the deployed site."
    ));
    for request in server.incoming_requests() {
        let response = respond(request.url(), &output, generation.load(Ordering::SeqCst));
        let _ = request.respond(response);
    }
    true
}

/// Removes the private folders of serves that were interrupted (their process is gone).
fn remove_stale_outputs() {
    let proc = Path::new("/proc");
    if !proc.is_dir() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("relsite-serve-")
            .and_then(|r| r.split('-').next())
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !proc.join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The site's inputs: config, releases, themes and static files.
fn watched(root: &Path) -> Vec<PathBuf> {
    let mut paths = vec![root.to_path_buf()];
    if let Ok(config) = Config::from_root(root) {
        let releases = root.join(&config.releases_dir);
        if releases.exists() && !releases.starts_with(root) {
            paths.push(releases);
        }
    }
    paths
}

/// Paths whose changes never need a rebuild: the output folder and relsite's own files.
fn ignored(root: &Path) -> Vec<PathBuf> {
    let output = Config::from_root(root).map_or_else(|_| PathBuf::from("public"), |c| c.output_dir);
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    vec![abs(&root.join(output)), abs(root).join(".git")]
}

fn relevant(event: &notify::Result<notify::Event>, ignored: &[PathBuf]) -> bool {
    let Ok(event) = event else { return false };
    if matches!(event.kind, notify::EventKind::Access(_)) {
        return false;
    }
    event.paths.iter().any(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        !ignored.iter().any(|i| p.starts_with(i))
            && !name.contains(".relsite-")
            && !name.ends_with(".part")
            && !name.ends_with('~')
    })
}

type Reply = Response<std::io::Cursor<Vec<u8>>>;

/// Answers one request from the built site.
fn respond(url: &str, output: &Path, generation: u64) -> Reply {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    if path == GENERATION_PATH {
        return reply(200, "text/plain", generation.to_string().into_bytes());
    }
    let Some(file) = resolve(output, path) else {
        return reply(404, "text/plain", b"not found\n".to_vec());
    };
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(_) => return reply(404, "text/plain", b"not found\n".to_vec()),
    };
    let kind = content_type(&file);
    if kind.starts_with("text/html") {
        let html = String::from_utf8_lossy(&bytes);
        let injected = match html.rfind("</body>") {
            Some(at) => format!("{}{RELOAD_SCRIPT}{}", &html[..at], &html[at..]),
            None => format!("{html}{RELOAD_SCRIPT}"),
        };
        return reply(200, kind, injected.into_bytes());
    }
    reply(200, kind, bytes)
}

/// The file a URL path names below `output`; folders serve their index.html. `..` never
/// leaves the folder.
fn resolve(output: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let mut file = output.to_path_buf();
    for part in decoded.split('/').filter(|p| !p.is_empty()) {
        if part == ".." || part == "." || part.contains('\\') {
            return None;
        }
        file.push(part);
    }
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "xml" => "application/atom+xml",
        "plist" => "text/xml; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn reply(status: u16, kind: &str, body: Vec<u8>) -> Reply {
    let mut response = Response::from_data(body).with_status_code(status);
    for (name, value) in [("Content-Type", kind), ("Cache-Control", "no-store")] {
        if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_folders_and_refuses_to_climb() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/index.html"), "x").unwrap();
        assert_eq!(
            resolve(dir.path(), "/app/"),
            Some(dir.path().join("app/index.html"))
        );
        assert_eq!(resolve(dir.path(), "/app/%2e%2e/%2e%2e/etc/passwd"), None);
        assert_eq!(resolve(dir.path(), "/../app/"), None);
        assert_eq!(resolve(dir.path(), "/missing"), None);
    }

    #[test]
    fn html_gets_the_reload_script() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<body>hi</body>").unwrap();
        let mut body = String::new();
        std::io::Read::read_to_string(&mut respond("/", dir.path(), 3).into_reader(), &mut body)
            .unwrap();
        assert!(
            body.contains("__relsite/generation") && body.ends_with("</body>"),
            "{body}"
        );
    }
}
