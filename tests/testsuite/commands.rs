//! The commands a team lives in, through the real binary: init, add, check, serve, --help,
//! completions, --version, and how output reads in a log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

fn relsite_in(dir: &Path, args: &[&str]) -> Run {
    Run::from(relsite().args(args).current_dir(dir).output().unwrap())
}

#[test]
fn a_new_user_follows_the_readme() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("some.ipa"),
        IpaBuilder::new("Some", "com.acme.some", "2.1", "40")
            .signed()
            .build(),
    )
    .unwrap();
    relsite_in(work.path(), &["init", "demo"]).assert_ok();
    let added = relsite_in(work.path(), &["add", "some.ipa", "--root", "demo"]);
    added.assert_ok();
    assert!(
        added
            .stdout
            .contains("added com.acme.some 2.1 (40) as releases/com.acme.some/2.1-40/some.ipa"),
        "{}",
        added.stdout
    );
    let built = relsite_in(work.path(), &["build", "--root", "demo"]);
    built.assert_ok();
    assert!(
        built.stderr.contains(
            "relsite.yaml: warning: base_url https://builds.example.invalid/ is a placeholder"
        ),
        "{}",
        built.stderr
    );
    let public = work.path().join("demo/public");
    let page = std::fs::read_to_string(public.join("com.acme.some/2.1-40/index.html")).unwrap();
    let link = install_links(&page).pop().expect("an install link");
    let manifest = manifest_url_of(&link);
    let path = manifest
        .strip_prefix("https://builds.example.invalid/")
        .unwrap();
    let (id, version, _, _) = manifest_facts(&std::fs::read(public.join(path)).unwrap());
    assert_eq!((id.as_str(), version.as_str()), ("com.acme.some", "2.1"));
}

#[test]
fn init_writes_a_commented_config_and_refuses_a_busy_folder() {
    let work = tempfile::tempdir().unwrap();
    relsite_in(work.path(), &["init", "site"]).assert_ok();
    let config = std::fs::read_to_string(work.path().join("site/relsite.yaml")).unwrap();
    for key in [
        "title",
        "base_url",
        "description",
        "releases_dir",
        "output_dir",
        "theme",
        "ipa_base_url",
        "show_devices",
        "show_profile",
        "public",
        "apps",
    ] {
        assert!(
            config.contains(&format!("{key}:")),
            "{key} missing from\n{config}"
        );
    }
    assert!(work.path().join("site/releases/README.md").is_file());
    assert!(
        std::fs::read_to_string(work.path().join("site/.gitignore"))
            .unwrap()
            .contains("/public/")
    );
    relsite_in(work.path(), &["init", "site"]).assert_fails_with("site: error: is not empty");
    relsite_in(work.path(), &["init", "site", "--force"]).assert_ok();
    relsite_in(&work.path().join("site"), &["check"]).assert_ok();
}

#[test]
fn add_writes_notes_and_refuses_a_duplicate_build() {
    let site = TestSite::new();
    let ipa = site.path("incoming/Field.ipa");
    site.file(
        "incoming/Field.ipa",
        &IpaBuilder::new("Field", "com.acme.field", "1.4.0", "312").build(),
    );
    site.file(
        "incoming/CHANGES.md",
        b"- Faster *sync*\n- Fixes: \"quotes\" & colons\n",
    );
    let run = site.run(&[
        "add",
        ipa.to_str().unwrap(),
        "--channel",
        "beta",
        "--notes-file",
        site.path("incoming/CHANGES.md").to_str().unwrap(),
        "--date",
        "2024-05-01",
        "--draft",
    ]);
    run.assert_ok();
    let notes = site.read("releases/com.acme.field/1.4.0-312/Field.yaml");
    assert!(
        notes.contains("date: 2024-05-01")
            && notes.contains("channel: beta")
            && notes.contains("draft: true"),
        "{notes}"
    );
    assert_eq!(
        std::fs::read(site.path("releases/com.acme.field/1.4.0-312/Field.ipa")).unwrap(),
        std::fs::read(&ipa).unwrap()
    );
    site.run(&["build", "--drafts"]).assert_ok();
    let page = site.read("public/com.acme.field/1.4.0-312/index.html");
    assert!(
        page.contains("<em>sync</em>") && page.contains("Fixes: \"quotes\" &amp; colons"),
        "{page}"
    );

    let again = site.run(&["add", ipa.to_str().unwrap()]);
    again.assert_fails_with("com.acme.field 1.4.0 (312) is already in the catalog as releases/com.acme.field/1.4.0-312/Field.ipa");
    site.run(&["add", ipa.to_str().unwrap(), "--date", "someday"])
        .assert_fails_with("error: --date: `someday` is not a date")
        .assert_fails_with("is already in the catalog")
        .assert_fails_with("found 2 problems");
    let both = site.run(&[
        "add",
        ipa.to_str().unwrap(),
        "--notes",
        "x",
        "--notes-file",
        "y",
    ]);
    assert_eq!(both.code, 2, "conflicting flags are a usage error");
    site.run(&["add", site.path("incoming/CHANGES.md").to_str().unwrap()])
        .assert_fails_with("error: not a readable IPA");
}

#[test]
fn check_prints_a_summary_and_writes_nothing() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    let run = site.run(&["check"]);
    run.assert_ok();
    assert!(
        run.stdout
            .contains("ok: 1 app and 1 build would be published"),
        "{}",
        run.stdout
    );
    site.file("releases/a/A.yaml", b"chanel: x\n");
    site.run(&["check"])
        .assert_fails_with("releases/a/A.yaml:1:1: error: unknown field `chanel`");
    assert!(!site.path("public").exists());
}

#[test]
fn quiet_prints_only_errors_and_verbose_the_stages() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    let quiet = site.run(&["build", "--quiet"]);
    quiet.assert_ok();
    assert_eq!(
        (quiet.stdout.as_str(), quiet.stderr.as_str()),
        ("", ""),
        "warnings and summary are hidden"
    );
    let verbose = site.run(&["build", "-v"]);
    verbose.assert_ok();
    for stage in [
        "scanned releases: 1 release",
        "read 1 IPA",
        "planned ",
        "wrote 0 files and kept ",
    ] {
        assert!(
            verbose.stderr.contains(stage),
            "{stage} missing:\n{}",
            verbose.stderr
        );
    }
    assert!(
        verbose.stdout.contains("built 1 app and 1 build into"),
        "{}",
        verbose.stdout
    );
    site.file("releases/a/A.yaml", b"chanel: x\n");
    let failed = site.run(&["build", "--quiet"]);
    failed.assert_fails_with("unknown field `chanel`");
}

#[test]
fn output_in_a_log_has_no_colour_or_progress_codes() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    let run = site.build();
    assert!(
        !run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'),
        "{:?}",
        run.stderr
    );
}

#[test]
fn version_help_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    let version = relsite_in(dir.path(), &["--version"]);
    version.assert_ok();
    assert_eq!(
        version.stdout.trim(),
        concat!("relsite ", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = relsite_in(dir.path(), &["completions", shell]);
        run.assert_ok();
        assert!(
            run.stdout.contains("relsite") && run.stdout.contains("build"),
            "{shell}"
        );
    }
    assert_eq!(relsite_in(dir.path(), &["completions", "tcsh"]).code, 2);
    assert_eq!(relsite_in(dir.path(), &["frobnicate"]).code, 2);
    assert_eq!(relsite_in(dir.path(), &[]).code, 2);
}

#[test]
fn every_command_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        vec![],
        vec!["init"],
        vec!["add"],
        vec!["build"],
        vec!["deploy"],
        vec!["remove"],
        vec!["check"],
        vec!["share"],
        vec!["serve"],
        vec!["theme"],
        vec!["theme", "eject"],
        vec!["completions"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let run = relsite_in(dir.path(), &args);
        run.assert_ok();
        assert!(
            run.stdout.contains("Examples:\n  relsite "),
            "{command:?} has no example"
        );
        let name = std::iter::once("relsite")
            .chain(command.iter().copied())
            .collect::<Vec<_>>()
            .join("-");
        insta::assert_snapshot!(format!("help-{name}"), run.stdout);
    }
}

/// A GET over loopback; returns the body.
fn get(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_at(rest.find('/')?);
    let mut stream = TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn serve_rebuilds_when_notes_change_and_stops_cleanly() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1").signed(),
    )
    .file("releases/a/A.yaml", b"notes: first words\n");
    let mut child = relsite()
        .args(["serve", "--port", "0", "--root"])
        .arg(site.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("serve prints its address").unwrap();
        if let Some(rest) = line.strip_prefix("serving ") {
            break rest.split(' ').next().unwrap().to_string();
        }
    };
    let page = format!("{address}com.acme.a/1.0-1/");
    let missing = get(&format!("{address}com.acme.a/9.9-9/")).expect("an answer");
    assert!(
        missing.contains("<h1>Not found</h1>"),
        "the theme's 404 page: {missing}"
    );
    let first = get(&page).expect("the page is served");
    assert!(first.contains("first words"));
    assert!(
        first.contains("__relsite/generation"),
        "pages reload themselves"
    );
    assert!(
        first.contains(&format!(
            "url={}",
            percent_encode(&format!("{address}com.acme.a/1.0-1/manifest.plist"))
        )),
        "base_url points at the preview"
    );
    let generation = get(&format!("{address}__relsite/generation")).unwrap();

    site.file("releases/a/A.yaml", b"notes: second words\n");
    wait_for("the rebuilt page", || {
        get(&page).is_some_and(|p| p.contains("second words"))
    });
    // The generation moves on once the rebuilt site is in place, a moment after its pages.
    wait_for("a new generation", || {
        get(&format!("{address}__relsite/generation")).is_some_and(|g| g != generation)
    });

    site.file("releases/a/A.yaml", b"chanel: broken\n");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        get(&page).unwrap().contains("second words"),
        "a failed rebuild keeps the last good site"
    );
    assert!(
        !site.path("public").exists(),
        "serve leaves the real output alone"
    );

    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(
        child.try_wait().unwrap().is_some(),
        "no process left behind"
    );
    assert!(get(&page).is_none(), "nothing answers after it stopped");
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn serve_fails_cleanly_when_its_port_is_taken() {
    let site = TestSite::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = site.run(&["serve", "--port", &port]);
    run.assert_fails_with(&format!("error: cannot listen on 127.0.0.1:{port}"));
}

#[test]
fn init_force_keeps_what_the_user_wrote() {
    let work = tempfile::tempdir().unwrap();
    let site = work.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join(".gitignore"), "node_modules/\n.env").unwrap();
    std::fs::write(
        site.join("relsite.yaml"),
        "title: Mine\nbase_url: https://mine.example.com/\n",
    )
    .unwrap();
    let run = relsite_in(work.path(), &["init", "site", "--force"]);
    run.assert_ok();
    assert!(
        run.stdout.contains("kept the existing relsite.yaml"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(site.join("relsite.yaml")).unwrap(),
        "title: Mine\nbase_url: https://mine.example.com/\n"
    );
    assert_eq!(
        std::fs::read_to_string(site.join(".gitignore")).unwrap(),
        "node_modules/\n.env\n/public/\n/.public.relsite-*\n/.relsite-cache/\n"
    );
    assert!(site.join("releases/README.md").is_file());
}

/// Every entry below `dir`, folders and hidden files included.
fn entries_below(dir: &Path) -> Vec<String> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            e.path().strip_prefix(dir).unwrap().display().to_string()
        })
        .collect()
}

/// Runs `command` with every file it writes capped at `bytes` (`ulimit -f`, in POSIX's 512-byte
/// blocks): a write past the cap fails with "File too large", whoever runs the test, root
/// included. The shell ignores SIGXFSZ, which would otherwise end the process.
fn with_file_size_limit(command: &Command, bytes: u64) -> Run {
    let mut sh = Command::new("sh");
    sh.args([
        "-c",
        "trap '' XFSZ; ulimit -f \"$1\"; shift; exec \"$@\"",
        "sh",
    ])
    .arg((bytes / 512).to_string())
    .arg(command.get_program())
    .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => sh.env(key, value),
            None => sh.env_remove(key),
        };
    }
    Run::from(sh.output().unwrap())
}

/// A failure once `add` has started writing (the notes after the copy, or the copy itself)
/// leaves the releases folder as it was, and a retry then succeeds.
#[test]
fn add_leaves_nothing_behind_when_it_fails() {
    const LIMIT: u64 = 64 * 1024;
    let site = TestSite::new();
    // An earlier release of A: its app folder stays.
    site.ipa(
        "releases/com.acme.a/0.9-1/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "0.9", "1"),
    );
    let small = IpaBuilder::new("B", "com.acme.b", "1.0", "1").build();
    assert!((small.len() as u64) < LIMIT / 2);
    // Noise does not compress, so this IPA stays larger than the limit.
    let mut x = 1u32;
    let noise: Vec<u8> = (0..4 * LIMIT)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    let large = IpaBuilder::new("A", "com.acme.a", "1.0", "2")
        .app_file("noise.bin", &noise)
        .build();
    assert!(large.len() as u64 > 2 * LIMIT);
    site.file("incoming/B.ipa", &small)
        .file("incoming/A.ipa", &large)
        .file(
            "incoming/notes.md",
            "- one of many changes\n".repeat(5_000).as_bytes(),
        );
    let arg = |rel: &str| site.path(rel).to_str().unwrap().to_string();
    let add = |args: &[String]| {
        let mut command = relsite();
        command.arg("add").args(args).arg("--root").arg(site.root());
        command
    };
    let small_with_notes = [
        arg("incoming/B.ipa"),
        "--notes-file".into(),
        arg("incoming/notes.md"),
    ];
    let before = entries_below(&site.path("releases"));

    // The copy of B fits; its notes, written after it, do not.
    with_file_size_limit(&add(&small_with_notes), LIMIT)
        .assert_fails_with("releases/com.acme.b/1.0-1/B.yaml: error: failed to write")
        .assert_mentions(&["File too large"]);
    assert_eq!(entries_below(&site.path("releases")), before);

    // The copy of A fails halfway.
    with_file_size_limit(&add(&[arg("incoming/A.ipa")]), LIMIT)
        .assert_fails_with("A.ipa: error: cannot copy")
        .assert_mentions(&["File too large"]);
    assert_eq!(entries_below(&site.path("releases")), before);

    site.run(&[
        "add",
        &small_with_notes[0],
        "--notes-file",
        &small_with_notes[2],
    ])
    .assert_ok();
    site.run(&["add", &arg("incoming/A.ipa")]).assert_ok();
    assert_eq!(
        std::fs::read(site.path("releases/com.acme.a/1.0-2/A.ipa")).unwrap(),
        large
    );
    site.build().assert_ok();
}

/// Runs relsite on a pseudo-terminal (util-linux `script`), as a person at a shell would.
fn on_a_terminal(site: &TestSite, no_color: bool) -> String {
    let command = format!("{RELSITE} build --root {}", site.root().display());
    let mut script = Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
    if no_color {
        script.env("NO_COLOR", "1");
    }
    let out = script
        .output()
        .unwrap_or_else(|e| panic!("`script` (util-linux) is missing: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[cfg_attr(not(have_script), ignore = "needs `script` (util-linux) on PATH")]
fn a_terminal_gets_colour_unless_no_color_is_set() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    let coloured = on_a_terminal(&site, false);
    assert!(
        coloured.contains("\x1b[1;33mwarning\x1b[0m"),
        "{coloured:?}"
    );
    let plain = on_a_terminal(&site, true);
    assert!(
        !plain.contains("\x1b[1;33m") && plain.contains("warning: has no embedded.mobileprovision"),
        "{plain:?}"
    );
}

/// Names of the entries of `dir`, sorted; empty when it is missing.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn theme_eject_does_not_write_through_links_out_of_the_site() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("base.html");
    std::fs::write(&victim, "precious").unwrap();

    let site = TestSite::new();
    std::os::unix::fs::symlink(outside.path(), site.path("themes")).unwrap();
    site.run(&["theme", "eject"])
        .assert_fails_with("themes: error: is a symbolic link");
    assert_eq!(names_in(outside.path()), ["base.html"]);

    let site = TestSite::new();
    std::fs::create_dir_all(site.path("themes/custom/templates")).unwrap();
    std::os::unix::fs::symlink(&victim, site.path("themes/custom/templates/base.html")).unwrap();
    site.run(&["theme", "eject", "--force"])
        .assert_fails_with("themes/custom/templates/base.html: error: is a symbolic link");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn init_force_does_not_write_through_links_out_of_the_site() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("ignored");
    std::fs::write(&victim, "precious").unwrap();
    let work = tempfile::tempdir().unwrap();
    let site = work.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::os::unix::fs::symlink(outside.path(), site.join("releases")).unwrap();
    relsite_in(work.path(), &["init", "site", "--force"])
        .assert_fails_with("releases: error: is a symbolic link");
    assert_eq!(names_in(outside.path()), ["ignored"]);

    std::fs::remove_file(site.join("releases")).unwrap();
    std::os::unix::fs::symlink(&victim, site.join(".gitignore")).unwrap();
    relsite_in(work.path(), &["init", "site", "--force"])
        .assert_fails_with(".gitignore: error: is a symbolic link");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn add_refuses_each_release_build_refuses_with_builds_message() {
    use crate::ipa_builder::ProfileSpec;
    let id = "com.acme.field";
    let app_store = ProfileSpec {
        devices: None,
        ..ProfileSpec::ad_hoc(id)
    };
    let other_app = ProfileSpec::ad_hoc("com.acme.other");
    let signed = |builder: IpaBuilder, profile: &ProfileSpec| builder.profile(&profile.der());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "an App Store build",
            signed(IpaBuilder::new("Field", id, "1.0", "1"), &app_store).build(),
        ),
        (
            "a profile for another app",
            signed(IpaBuilder::new("Field", id, "1.0", "1"), &other_app).build(),
        ),
        (
            "a bundle identifier no URL can carry",
            IpaBuilder::new("Field", "com.acme/field", "1.0", "1").build(),
        ),
        (
            "a version no folder can carry",
            IpaBuilder::new("Field", id, "1.0/../..", "1").build(),
        ),
        (
            "a file that is not an IPA",
            b"PK\x03\x04 not a zip".to_vec(),
        ),
        (
            "an app whose folder would be the theme's `assets`",
            IpaBuilder::new("Assets", "assets", "1.0", "1").build(),
        ),
    ];
    for (what, ipa) in cases {
        let site = TestSite::new();
        site.file("releases/field/1/Field.ipa", &ipa);
        let built = site.run(&["build"]);
        let refusal = built
            .stderr
            .lines()
            .find_map(|l| l.split_once("Field.ipa: error: ").map(|(_, why)| why))
            .unwrap_or_else(|| panic!("build took {what}:\n{}", built.stderr))
            .to_string();
        std::fs::remove_dir_all(site.path("releases/field")).unwrap();
        site.file("incoming/Field.ipa", &ipa);
        let added = site.run(&["add", site.path("incoming/Field.ipa").to_str().unwrap()]);
        added.assert_fails_with(&format!("Field.ipa: error: {refusal}"));
        assert!(
            std::fs::read_dir(site.path("releases"))
                .unwrap()
                .next()
                .is_none(),
            "add wrote something for {what}"
        );
    }
}

#[test]
fn add_says_what_build_will_warn_about_and_adds_the_build() {
    let site = TestSite::new();
    site.file(
        "incoming/Field.ipa",
        &IpaBuilder::new("Field", "com.acme.field", "1.0", "1").build(),
    );
    let added = site.run(&["add", site.path("incoming/Field.ipa").to_str().unwrap()]);
    added.assert_ok();
    assert!(
        added.stderr.contains("has no embedded.mobileprovision"),
        "{}",
        added.stderr
    );
    assert!(
        site.path("releases/com.acme.field/1.0-1/Field.ipa")
            .is_file()
    );
}
