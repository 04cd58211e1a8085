//! `relsite serve`: build into a private folder with `base_url` pointed at the loopback address,
//! serve it, rebuild when config, releases, notes or theme change, and reload open pages. A
//! failed rebuild prints its problems and the last good site stays up. Requests are read by
//! [`http`], which bounds every part of them.

mod http;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use http::{Body, Request, Response};
use notify::{RecursiveMode, Watcher};

use crate::cli::ServeArgs;
use crate::cmd::Failure;
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::pipeline::{CacheUse, Options};
use crate::ui::Ui;

/// Where pages ask whether the site was rebuilt.
const GENERATION_PATH: &str = "/__relsite/generation";

/// Polls the generation and reloads when it changes; added to every HTML page served.
const RELOAD_SCRIPT: &str = "<script>(function(){var g=null;setInterval(function(){fetch('/__relsite/generation',{cache:'no-store'}).then(function(r){return r.text()}).then(function(t){if(g!==null&&t!==g){location.reload()}g=t}).catch(function(){})},1000)})();</script>";

/// Shown until a first build succeeds; reloads itself once one does.
const NO_BUILD_PAGE: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>relsite serve</title><body><h1>No site yet</h1><p>The build failed: the problems are in the terminal running <code>relsite serve</code>. This page reloads when they are fixed.</p></body></html>";

/// Prefix of the private folders serve builds into, below the temp folder.
const WORK_PREFIX: &str = "relsite-serve-";

/// Serves until interrupted; fails when it cannot start.
pub fn run(args: &ServeArgs, ui: &Ui) -> Result<(), Failure> {
    let fail = |d: Diagnostic| Err(Failure::found(d));
    let listener = match TcpListener::bind(("127.0.0.1", args.port)) {
        Ok(listener) => listener,
        Err(e) => {
            return fail(Diagnostic::error(
                None,
                format!("cannot listen on 127.0.0.1:{}: {e}", args.port),
            ));
        }
    };
    let port = listener.local_addr().map_or(args.port, |a| a.port());
    let address = format!("http://127.0.0.1:{port}/");
    remove_stale_work_folders();
    // The output and the write stage's siblings (staging, lock) all live in one folder of this
    // run, removed when serve stops.
    let work = std::env::temp_dir().join(format!("{WORK_PREFIX}{}-{port}", std::process::id()));
    let output = work.join("site");
    let cleanup = work.clone();
    let handled = ctrlc::set_handler(move || {
        // Best effort on the way out: the next serve removes what is left.
        let _ = std::fs::remove_dir_all(&cleanup);
        std::process::exit(130);
    });
    if let Err(e) = handled {
        ui.report(&Diagnostic::warning(
            None,
            format!("cannot handle Ctrl-C ({e}): the preview folder {} stays behind when serve is stopped", work.display()),
        ).into());
    }
    let options = Options {
        root: args.root.clone(),
        output: Some(output.clone()),
        base_url: Some(address.clone()),
        drafts: args.drafts,
        preview: true,
        published: Vec::new(),
        strict: false,
        cache: if args.no_cache {
            CacheUse::Off
        } else {
            CacheUse::ReadWrite
        },
    };
    let generation = Arc::new(AtomicU64::new(0));
    match crate::cmd::build::build(&options, ui) {
        Ok(_) => {
            generation.fetch_add(1, Ordering::SeqCst);
        }
        Err(failure) => ui.report_failure(&failure),
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
    let inputs = Inputs::of(&args.root);
    for path in &inputs.watched {
        if let Err(e) = watcher.watch(path, RecursiveMode::Recursive) {
            return fail(Diagnostic::error(
                path.clone(),
                format!("cannot watch: {e}"),
            ));
        }
    }
    let rebuilds = Arc::clone(&generation);
    let rebuild_ui = *ui;
    std::thread::spawn(move || {
        let _watcher = watcher;
        while let Ok(event) = rx.recv() {
            if !inputs.is_input_event(&event) {
                continue;
            }
            // Let a burst of changes (an editor's save, a copy) settle into one rebuild.
            std::thread::sleep(Duration::from_millis(250));
            while rx.recv_timeout(Duration::from_millis(250)).is_ok() {}
            rebuild_ui.status("change detected, rebuilding");
            match crate::cmd::build::build(&options, &rebuild_ui) {
                Ok(_) => {
                    rebuilds.fetch_add(1, Ordering::SeqCst);
                }
                Err(failure) => {
                    rebuild_ui.report_failure(&failure);
                    rebuild_ui.status("still serving the last good build");
                }
            }
        }
    });

    // The address is printed even with --quiet: without it the preview cannot be found.
    println!("serving {address} (Ctrl-C stops)");
    ui.status(
        "Installing needs HTTPS with a certificate the device trusts: the Install button works only from the deployed site.",
    );
    let site = Arc::new(Site {
        output,
        port,
        generation,
    });
    http::serve(&listener, Arc::new(move |request| site.answer(request)));
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// Removes the folders of serves that stopped without cleaning up (their process is gone).
fn remove_stale_work_folders() {
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
            .strip_prefix(WORK_PREFIX)
            .and_then(|r| r.split('-').next())
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !proc.join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// What to watch, and which changes are not the site's inputs.
struct Inputs {
    watched: Vec<PathBuf>,
    ignored: Vec<PathBuf>,
}

impl Inputs {
    fn of(root: &Path) -> Inputs {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let config = Config::from_root(&root).ok();
        let mut watched = vec![root.clone()];
        if let Some(config) = &config {
            let releases = root.join(&config.releases_dir);
            if releases.exists() && !releases.starts_with(&root) {
                watched.push(releases);
            }
        }
        let output = config.map_or_else(|| PathBuf::from("public"), |c| c.output_dir);
        Inputs {
            watched,
            ignored: vec![
                root.join(output),
                root.join(".git"),
                root.join(crate::cache::CACHE_DIR),
            ],
        }
    }

    /// A change to an input: not the output, not git's files, not relsite's staging or
    /// partial files, not an editor's backup.
    fn is_input_event(&self, event: &notify::Result<notify::Event>) -> bool {
        let Ok(event) = event else { return false };
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return false;
        }
        event.paths.iter().any(|p| {
            let relsite_own = p.components().any(|c| {
                let part = c.as_os_str().to_string_lossy();
                part.contains(".relsite-") || part.ends_with(".part")
            });
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            !self.ignored.iter().any(|i| p.starts_with(i)) && !relsite_own && !name.ends_with('~')
        })
    }
}

/// The site being served.
struct Site {
    output: PathBuf,
    port: u16,
    generation: Arc<AtomicU64>,
}

impl Site {
    fn answer(&self, request: &Request) -> Response {
        let host_ok = request.header("Host").is_some_and(|host| {
            host == format!("127.0.0.1:{}", self.port) || host == format!("localhost:{}", self.port)
        });
        if !host_ok {
            // A page on another host name (DNS rebinding) must not read the preview.
            return Response::text(403, "forbidden\n");
        }
        if request.method != "GET" && request.method != "HEAD" {
            return Response::text(405, "the preview answers GET and HEAD\n");
        }
        let path = request
            .target
            .split(['?', '#'])
            .next()
            .unwrap_or("/")
            .to_string();
        let generation = self.generation.load(Ordering::SeqCst);
        if path == GENERATION_PATH {
            return Response::text(200, &generation.to_string());
        }
        if generation == 0 {
            return html(503, NO_BUILD_PAGE);
        }
        let Some(file) = resolve(&self.output, &path) else {
            return self.not_found();
        };
        let kind = content_type(&file);
        if kind.starts_with("text/html") {
            let page = std::fs::read_to_string(&file).unwrap_or_default();
            return html(200, &page);
        }
        let opened = std::fs::File::open(&file).and_then(|f| Ok((f.metadata()?.len(), f)));
        match opened {
            Ok((length, f)) => Response {
                status: 200,
                content_type: kind,
                body: Body::File(f, length),
            },
            Err(_) => self.not_found(),
        }
    }

    /// The theme's 404 page, as a host serves it for a missing path; plain text without one.
    fn not_found(&self) -> Response {
        match std::fs::read_to_string(self.output.join("404.html")) {
            Ok(page) => html(404, &page),
            Err(_) => Response::text(404, "not found\n"),
        }
    }
}

/// The file a URL path names below `output`; folders serve their index.html. `..`, and any
/// segment that could name another drive or root, never leave the folder.
fn resolve(output: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let mut file = output.to_path_buf();
    for part in decoded.split('/').filter(|p| !p.is_empty()) {
        if part == ".." || part == "." || part.contains(['\\', ':']) {
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
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "json" => "application/json",
        "xml" => "application/atom+xml",
        "plist" => "text/xml; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// An HTML page with the reload script added before `</body>`.
fn html(status: u16, page: &str) -> Response {
    let injected = match page.rfind("</body>") {
        Some(at) => format!("{}{RELOAD_SCRIPT}{}", &page[..at], &page[at..]),
        None => format!("{page}{RELOAD_SCRIPT}"),
    };
    Response {
        status,
        content_type: "text/html; charset=utf-8",
        body: Body::Bytes(injected.into_bytes()),
    }
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
        assert_eq!(resolve(dir.path(), "/C:/x"), None);
        assert_eq!(resolve(dir.path(), "/missing"), None);
    }

    #[test]
    fn html_gets_the_reload_script() {
        let Body::Bytes(body) = html(200, "<body>hi</body>").body else {
            panic!("a page in memory")
        };
        let body = String::from_utf8(body).unwrap();
        assert!(
            body.contains("__relsite/generation") && body.ends_with("</body>"),
            "{body}"
        );
    }

    #[test]
    fn staging_and_output_changes_are_not_inputs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("relsite.yaml"),
            "title: T\nbase_url: https://e.com/\n",
        )
        .unwrap();
        let inputs = Inputs::of(dir.path());
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let event = |p: PathBuf| Ok(notify::Event::new(notify::EventKind::Any).add_path(p));
        assert!(inputs.is_input_event(&event(root.join("releases/a/A.yaml"))));
        assert!(
            !inputs.is_input_event(&event(root.join("public/index.html"))),
            "output not made yet"
        );
        assert!(!inputs.is_input_event(&event(root.join(".public.relsite-staging/a/index.html"))));
        assert!(!inputs.is_input_event(&event(root.join("releases/a/.A.ipa.part"))));
        assert!(!inputs.is_input_event(&event(root.join(".git/index"))));
    }
}
