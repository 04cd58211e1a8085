//! Crashes and company: a build or an add killed at any point leaves a site that is whole and
//! builds; two builds of one output take turns; a lock file planted as a link is not followed.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

const NOTES: &str = "releases/field/1.10.1/Field.yaml";

fn notes(version: usize) -> String {
    format!("date: 2024-04-25T09:30:00Z\nnotes: |\n  Notes, version {version}.\n")
}

/// Whether a page of the site's output shows the notes of `version`.
fn shows_notes(site: &TestSite, version: usize) -> bool {
    let text = format!("Notes, version {version}.");
    site.tree("public")
        .values()
        .any(|page| String::from_utf8_lossy(page).contains(&text))
}

fn spawn(site: &TestSite, args: &[&str]) -> Child {
    relsite()
        .args(args)
        .arg("--root")
        .arg(site.root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn relsite")
}

/// Kills `child` with SIGKILL, which no process can catch, and reaps it.
fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_build_killed_at_any_point_leaves_a_whole_site() {
    let site = TestSite::example();
    let mut trees = Vec::new();
    for version in 0..2 {
        site.file(NOTES, notes(version).as_bytes());
        site.run(&["build", "--no-cache"]).assert_ok();
        trees.push(site.tree("public"));
    }
    assert_ne!(trees[0], trees[1]);
    // How long a whole build takes here, to spread the kills over it.
    site.file(NOTES, notes(0).as_bytes());
    let started = Instant::now();
    site.run(&["build", "--no-cache"]).assert_ok();
    let whole = started.elapsed();
    const KILLS: u32 = 40;
    for i in 0..KILLS {
        let version = (i % 2) as usize;
        site.file(NOTES, notes(version).as_bytes());
        let args: &[&str] = if i % 4 < 2 {
            &["build", "--no-cache"]
        } else {
            &["build"]
        };
        let child = spawn(&site, args);
        std::thread::sleep(whole * (i + 1) / KILLS);
        kill(child);
        assert!(
            site.path("public").is_dir(),
            "kill {i}: the output is there at every instant"
        );
        let tree = site.tree("public");
        assert!(
            tree == trees[0] || tree == trees[1],
            "kill {i}: the output is one whole site, the one before or the one after"
        );
    }
    for version in [1, 0] {
        site.file(NOTES, notes(version).as_bytes());
        site.run(&["build"]).assert_ok();
        assert_eq!(
            site.tree("public"),
            trees[version],
            "the next build succeeds"
        );
    }
}

/// Starts a build of `site` that stops at `point` (see `RELSITE_TEST_PAUSE` in write.rs) with
/// `env` set, and returns it once it says it is there.
fn paused_build(site: &TestSite, point: &str, env: &[(&str, &str)]) -> Child {
    let mut child = relsite()
        .args(["build", "--root"])
        .arg(site.root())
        .env("RELSITE_TEST_PAUSE", point)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains(&format!("paused at {point}")) {
        line.clear();
        let read = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
        assert!(read > 0, "the build stops at {point}");
    }
    child
}

#[test]
fn a_build_killed_with_its_site_staged_leaves_the_one_before() {
    let site = TestSite::example();
    site.build().assert_ok();
    let before = site.tree("public");
    site.file(NOTES, notes(3).as_bytes());
    let child = paused_build(&site, "exchange", &[]);
    assert!(site.path(".public.relsite-staging").is_dir());
    kill(child);
    assert_eq!(site.tree("public"), before, "the site before stands");
    site.build().assert_ok();
    assert!(shows_notes(&site, 3), "the next build succeeds");
}

#[test]
fn a_run_after_a_build_killed_between_the_renames_of_the_fallback_swap_puts_the_site_back() {
    let site = TestSite::example();
    site.build().assert_ok();
    let before = site.tree("public");
    let runs: [(&[&str], &str); 3] = [
        (&["build"], NOTES),
        (&["check"], NOTES),
        (&["add", "missing/Nowhere.ipa"], "Nowhere.ipa"),
    ];
    for (args, problem) in runs {
        site.file(NOTES, notes(3).as_bytes());
        // The swap of two renames, as on a system without RENAME_EXCHANGE.
        let child = paused_build(
            &site,
            "between-renames",
            &[("RELSITE_TEST_SWAP", "renames")],
        );
        assert!(!site.path("public").exists(), "the output is retired");
        assert!(site.path(".public.relsite-old").is_dir());
        kill(child);
        site.file(NOTES, b"notes: [unclosed\n");
        let run = site.run(args);
        run.assert_fails_with(problem);
        assert!(site.path("public").is_dir(), "{args:?}: the output is back");
        assert_eq!(
            site.tree("public"),
            before,
            "{args:?}: the site before, whole"
        );
        run.assert_mentions(&["put back the previous site from"]);
        assert!(!site.path(".public.relsite-old").exists(), "{args:?}");
    }
    site.file(NOTES, notes(3).as_bytes());
    site.build().assert_ok();
    assert!(shows_notes(&site, 3), "the next build succeeds");
}

#[test]
fn a_second_build_of_one_output_waits_for_the_first() {
    let site = TestSite::example();
    site.build().assert_ok();
    let expected = site.tree("public");
    let mut lock = std::fs::File::create(site.path(".public.relsite-lock")).unwrap();
    std::io::Write::write_all(&mut lock, b"relsite 9.9.9 (pid 4242)\n").unwrap();
    lock.lock().unwrap();
    site.file(NOTES, notes(7).as_bytes());
    let mut child = spawn(&site, &["build"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the build waits while the output is locked"
    );
    drop(lock);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("waiting for relsite 9.9.9 (pid 4242), which is writing "),
        "the holder is named: {stderr}"
    );
    assert_ne!(site.tree("public"), expected);
    assert!(
        shows_notes(&site, 7),
        "the build that waited wrote its site"
    );
}

#[test]
fn builds_of_one_site_at_once_take_turns() {
    let site = TestSite::example();
    site.build().assert_ok();
    let expected = site.tree("public");
    for round in 0..3 {
        let children: Vec<Child> = (0..3).map(|_| spawn(&site, &["build"])).collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert_eq!(site.tree("public"), expected, "round {round}");
    }
}

#[test]
fn a_lock_file_planted_as_a_link_is_not_followed() {
    let site = TestSite::example();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, site.path(".public.relsite-lock")).unwrap();
    site.build()
        .assert_fails_with("error: failed to open")
        .assert_mentions(&[".public.relsite-lock"]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!site.path("public").exists());
}

#[test]
fn an_add_killed_at_any_point_leaves_a_site_that_builds() {
    let site = TestSite::example();
    // Noise does not compress, so copying this IPA takes a while.
    let mut x = 7u32;
    let noise: Vec<u8> = (0..48 << 20)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    let ipa = IpaBuilder::new("Big", "com.acme.big", "1.0", "1")
        .app_file("noise.bin", &noise)
        .build();
    site.file("incoming/Big.ipa", &ipa);
    let add_args = |site: &TestSite| -> Command {
        let mut command = relsite();
        command
            .args(["add", "--notes=A big build."])
            .arg(site.path("incoming/Big.ipa"))
            .arg("--root")
            .arg(site.root())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    let target = site.path("releases/com.acme.big/1.0-1");
    let started = Instant::now();
    assert!(add_args(&site).status().unwrap().success());
    let whole = started.elapsed();
    std::fs::remove_dir_all(&target).unwrap();
    const KILLS: u32 = 12;
    for i in 0..KILLS {
        let child = add_args(&site).spawn().unwrap();
        std::thread::sleep(whole * (i + 1) / KILLS);
        kill(child);
        if target.exists() {
            let mut names: Vec<String> = std::fs::read_dir(&target)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            assert_eq!(names, ["Big.ipa", "Big.yaml"], "kill {i}: both or neither");
            assert_eq!(std::fs::read(target.join("Big.ipa")).unwrap(), ipa);
        }
        site.build().assert_ok();
        if target.exists() {
            std::fs::remove_dir_all(&target).unwrap();
        }
    }
    assert!(
        add_args(&site).status().unwrap().success(),
        "a retry succeeds"
    );
    site.build().assert_ok();
    assert!(site.path("public/com.acme.big/1.0-1/index.html").is_file());
    let left: Vec<_> = std::fs::read_dir(site.path("releases/com.acme.big"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["1.0-1"], "a retry clears what stopped adds left");
}
