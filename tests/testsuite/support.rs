//! A site folder in a temp dir, the binary run against it, and views of what it wrote.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::ipa_builder::IpaBuilder;

pub const BASE_URL: &str = "https://builds.example.com/";

/// The binary under test, by path: for the tests that have a shell start it (on a terminal,
/// from the README's lines).
pub const RELSITE: &str = env!("CARGO_BIN_EXE_relsite");

/// The binary under test, ready for arguments: every test that starts it itself starts it from
/// here. The clock is not pinned (`SOURCE_DATE_EPOCH` removed; [`TestSite::run_at`] sets it),
/// and no site secret or host login comes from the runner ([`TestSite::run_env`] sets them);
/// the rest of the environment is the test runner's.
pub fn relsite() -> Command {
    let mut command = Command::new(RELSITE);
    command
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("RELSITE_SECRET")
        .env_remove("RELSITE_NETLIFY_BASIC_AUTH");
    command
}

pub struct TestSite {
    dir: tempfile::TempDir,
}

/// What a run of relsite did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The lines of stderr that mention `file` and contain `text`.
    pub fn lines_with(&self, text: &str) -> Vec<&str> {
        self.stderr.lines().filter(|l| l.contains(text)).collect()
    }

    /// Checks that stderr names every one of `needles` (files, mostly).
    #[track_caller]
    pub fn assert_mentions(&self, needles: &[&str]) -> &Self {
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "{needle} missing from stderr:\n{}",
                self.stderr
            );
        }
        self
    }

    #[track_caller]
    pub fn assert_fails_with(&self, line: &str) -> &Self {
        assert_eq!(
            self.code, 1,
            "expected exit 1\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.lines().any(|l| l.contains(line)),
            "no line of stderr contains {line:?}:\n{}",
            self.stderr
        );
        self
    }
}

impl TestSite {
    /// A site with a minimal valid relsite.yaml and an empty releases folder.
    pub fn new() -> TestSite {
        TestSite::with_dir(tempfile::tempdir().expect("temp dir"))
    }

    /// The example site in a site folder of its own.
    pub fn example() -> TestSite {
        let site = TestSite::new();
        copy_site(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("example-site"),
            site.root(),
        );
        site
    }

    /// [`TestSite::new`] in a folder below `parent`.
    pub fn new_in(parent: &Path) -> TestSite {
        TestSite::with_dir(tempfile::tempdir_in(parent).expect("temp dir"))
    }

    fn with_dir(dir: tempfile::TempDir) -> TestSite {
        let site = TestSite { dir };
        site.config(&format!("title: Test builds\nbase_url: {BASE_URL}\n"));
        std::fs::create_dir_all(site.path("releases")).expect("releases dir");
        site
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn config(&self, yaml: &str) -> &Self {
        self.file("relsite.yaml", yaml.as_bytes())
    }

    pub fn file(&self, rel: &str, bytes: &[u8]) -> &Self {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
        self
    }

    pub fn ipa(&self, rel: &str, ipa: &IpaBuilder) -> &Self {
        self.file(rel, &ipa.build())
    }

    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.path(rel)).expect("remove");
        self
    }

    /// Runs relsite with `args`, then `--root <site>`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_at(args, None)
    }

    /// Runs relsite with the clock pinned to `now` (seconds since 1970, `SOURCE_DATE_EPOCH`).
    pub fn run_at(&self, args: &[&str], now: Option<u64>) -> Run {
        let mut command = relsite();
        command.args(args).arg("--root").arg(self.root());
        if let Some(now) = now {
            command.env("SOURCE_DATE_EPOCH", now.to_string());
        }
        Run::from(command.output().expect("run relsite"))
    }

    pub fn build(&self) -> Run {
        self.run(&["build"])
    }

    /// Runs relsite with `args`, then `--root <site>`, with the variables `env` set.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = relsite();
        command
            .args(args)
            .arg("--root")
            .arg(self.root())
            .envs(env.iter().copied());
        Run::from(command.output().expect("run relsite"))
    }

    /// Runs relsite with `args`, then `--root <site>`, within [`TIME_BOUND`] and
    /// [`MEMORY_BOUND`]: a run that takes longer is killed and fails the test, one that needs
    /// more memory fails to allocate and aborts.
    #[track_caller]
    pub fn run_bounded(&self, args: &[&str]) -> Run {
        let mut command = relsite();
        command.args(args).arg("--root").arg(self.root());
        run_bounded(command)
    }
}

/// The wall time a run on hostile input may take; an honest build of a small site takes well
/// under a second.
pub const TIME_BOUND: std::time::Duration = std::time::Duration::from_secs(20);

/// The address space a run on hostile input may use, in bytes; an honest build of a small site
/// uses a few tens of megabytes.
pub const MEMORY_BOUND: u64 = 512 << 20;

/// Runs `command` within [`TIME_BOUND`] and [`MEMORY_BOUND`] (through the shell's `ulimit -v`),
/// with stdin closed and two worker threads, so that the address space it needs does not grow
/// with the machine's cores.
#[track_caller]
pub fn run_bounded(command: Command) -> Run {
    let mut bounded = Command::new("sh");
    bounded
        .arg("-c")
        .arg(format!(
            "ulimit -v {}; exec \"$0\" \"$@\"",
            MEMORY_BOUND / 1024
        ))
        .arg(command.get_program())
        .args(command.get_args())
        .env("RAYON_NUM_THREADS", "2");
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => bounded.env(key, value),
            None => bounded.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        bounded.current_dir(dir);
    }
    let out = tempfile::tempdir().expect("temp dir");
    let (stdout, stderr) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut child = bounded
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"))
        .spawn()
        .expect("run relsite");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for relsite") {
            break status;
        }
        if started.elapsed() > TIME_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "relsite did not finish within {TIME_BOUND:?}; stderr so far:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let read =
        |path: &Path| String::from_utf8_lossy(&std::fs::read(path).expect("output")).into_owned();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: read(&stdout),
        stderr: read(&stderr),
    }
}

impl TestSite {
    /// Makes `rel` a named pipe (FIFO), which no one writes to: opening it to read would wait.
    pub fn fifo(&self, rel: &str) -> &Self {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let made = Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo {}", path.display());
        self
    }

    /// Makes `rel` a symbolic link to `target`.
    pub fn symlink(&self, rel: &str, target: &Path) -> &Self {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(target, path).expect("symlink");
        self
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Every file below `rel` with its bytes.
    pub fn tree(&self, rel: &str) -> BTreeMap<String, Vec<u8>> {
        tree(&self.path(rel))
    }

    /// Every entry of the site's folder (the output's parent), to see what a run left beside it:
    /// all but the lock and the cache, which a run keeps there on purpose.
    pub fn top_level(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root())
            .expect("read root")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".relsite-lock") && n != ".relsite-cache")
            .collect();
        names.sort();
        names
    }
}

pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .expect("below")
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(rel, std::fs::read(entry.path()).expect("read"));
        }
    }
    files
}

/// Copies a site folder, leaving out the `public/` output a local build may have left in it.
pub fn copy_site(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("below");
        if rel.starts_with("public")
            || rel.starts_with(".relsite-cache")
            || rel.to_string_lossy().starts_with(".public.relsite-")
        {
            continue;
        }
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Every file below `dir` with its inode and modification time: what "untouched" means.
pub fn identities(dir: &Path) -> BTreeMap<String, (u64, std::time::SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.expect("walk");
        if !entry.file_type().is_file() {
            continue;
        }
        let meta = entry.metadata().expect("meta");
        let rel = entry
            .path()
            .strip_prefix(dir)
            .expect("below")
            .to_string_lossy()
            .into_owned();
        files.insert(rel, (meta.ino(), meta.modified().expect("mtime")));
    }
    files
}

/// The `url` parameter of an install link, decoded once.
pub fn manifest_url_of(install_link: &str) -> String {
    let value = install_link
        .strip_prefix("itms-services://?action=download-manifest&url=")
        .unwrap_or_else(|| panic!("not an install link: {install_link}"));
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .expect("utf-8")
        .into_owned()
}

/// Every install link in an HTML page, with HTML entities of attributes decoded.
pub fn install_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with("itms-services:"))
        .map(unescape_html)
        .collect()
}

pub fn unescape_html(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A manifest's first item: (bundle-identifier, bundle-version, title, software-package URL).
pub fn manifest_facts(bytes: &[u8]) -> (String, String, String, String) {
    let manifest = relsite::manifest::Manifest::parse(bytes).expect("manifest parses");
    let item = manifest.item().expect("an item");
    let meta = &item.metadata;
    (
        meta.bundle_identifier.clone(),
        meta.bundle_version.clone(),
        meta.title.clone(),
        item.package_url().expect("software-package").to_string(),
    )
}

/// The path below `base` of an absolute URL on the site.
pub fn site_path(url: &str) -> String {
    let rest = url
        .strip_prefix(BASE_URL)
        .unwrap_or_else(|| panic!("{url} is not below {BASE_URL}"));
    percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .expect("utf-8")
        .into_owned()
}

/// Runs the openssl command line in `dir`, failing the test with its message.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
