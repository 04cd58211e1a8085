//! The incremental cache: output is the same with it, without it and from a cache the previous
//! build made; a changed IPA is read again; a cache that cannot be trusted is discarded with a
//! notice, never an error.

use std::path::Path;

use crate::ipa_builder::IpaBuilder;
use crate::support::*;

const CACHE: &str = ".relsite-cache/facts.json";

/// Builds into `out` (below the site) with `args`, and returns the output and what was said.
fn build_into(
    site: &TestSite,
    out: &str,
    args: &[&str],
) -> (std::collections::BTreeMap<String, Vec<u8>>, Run) {
    let mut all = vec!["build", "-v", "--output"];
    let path = site.path(out);
    let path = path.to_str().expect("utf-8 path");
    all.push(path);
    all.extend(args);
    let run = site.run(&all);
    run.assert_ok();
    (site.tree(out), run)
}

#[test]
fn output_is_the_same_without_with_and_from_the_cache() {
    let site = TestSite::example();
    let (without, run) = build_into(&site, "out-none", &["--no-cache"]);
    assert!(
        !site.path(".relsite-cache").exists(),
        "--no-cache writes no cache"
    );
    assert!(run.stderr.contains("(0 unchanged"), "{}", run.stderr);
    let (cold, run) = build_into(&site, "out-cold", &[]);
    assert!(run.stderr.contains("(0 unchanged"), "{}", run.stderr);
    assert!(site.path(CACHE).is_file());
    let (warm, run) = build_into(&site, "out-warm", &[]);
    assert!(
        run.stderr.contains("read 6 IPAs (6 unchanged"),
        "{}",
        run.stderr
    );
    assert_eq!(without, cold);
    assert_eq!(cold, warm);
}

#[test]
fn a_changed_ipa_is_read_again() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    site.build().assert_ok();
    assert!(site.path("public/com.acme.a/1.0-1/index.html").is_file());
    // Same path, same size class, other content: a new version.
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "2.0", "1"),
    );
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert!(run.stderr.contains("(0 unchanged"), "{}", run.stderr);
    assert!(site.path("public/com.acme.a/2.0-1/index.html").is_file());
    assert!(!site.path("public/com.acme.a/1.0-1").exists());
}

#[test]
fn an_unreadable_cache_is_discarded_with_a_notice() {
    let site = TestSite::example();
    site.build().assert_ok();
    let good = site.tree("public");
    for (damage, said) in [
        (b"garbage".to_vec(), "it cannot be read"),
        (
            std::fs::read(site.path(CACHE)).unwrap()[..100].to_vec(),
            "it cannot be read",
        ),
        (
            br#"{"relsite":"0.0.1","format":1,"entries":{}}"#.to_vec(),
            "it was made by relsite 0.0.1",
        ),
        (
            br#"{"relsite":"0.0.1","format":0,"entries":{"x":[1]}}"#.to_vec(),
            "it was made by relsite 0.0.1 (format 0)",
        ),
    ] {
        site.file(CACHE, &damage);
        let run = site.run(&["build", "-v"]);
        run.assert_ok();
        let notice = run
            .stderr
            .lines()
            .find(|l| l.starts_with("note: discarded"))
            .unwrap_or_else(|| panic!("no notice:\n{}", run.stderr));
        assert!(notice.contains(".relsite-cache/facts.json"), "{notice}");
        assert!(notice.contains(said), "{notice}");
        assert!(run.stderr.contains("(0 unchanged"), "{}", run.stderr);
        assert_eq!(site.tree("public"), good);
        let run = site.run(&["build", "-v"]);
        assert!(!run.stderr.contains("note:"), "rebuilt: {}", run.stderr);
        assert!(run.stderr.contains("(6 unchanged"), "{}", run.stderr);
    }
}

#[test]
fn a_damaged_icon_in_the_cache_is_rendered_again() {
    let site = TestSite::example();
    site.build().assert_ok();
    let good = site.tree("public");
    let icons = std::fs::read_dir(site.path(".relsite-cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("icons-")
        })
        .expect("a folder of icons");
    for entry in std::fs::read_dir(&icons).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    }
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert_eq!(site.tree("public"), good);
}

#[test]
fn check_reads_the_cache_and_writes_none() {
    let site = TestSite::example();
    let run = site.run(&["check", "-v"]);
    run.assert_ok();
    assert!(!site.path(".relsite-cache").exists());
    site.build().assert_ok();
    let before = std::fs::read(site.path(CACHE)).unwrap();
    site.remove("releases/field/1.10.1/Field.ipa");
    site.remove("releases/field/1.10.1/Field.yaml");
    let run = site.run(&["check", "-v"]);
    run.assert_ok();
    assert!(run.stderr.contains("(5 unchanged"), "{}", run.stderr);
    assert_eq!(std::fs::read(site.path(CACHE)).unwrap(), before);
}

#[test]
fn init_ignores_the_cache_in_git() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("s");
    let out = relsite().args(["init"]).arg(&site).output().unwrap();
    assert!(out.status.success());
    let ignore = std::fs::read_to_string(site.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "/.relsite-cache/"), "{ignore}");
}

#[test]
fn a_published_ipa_is_a_copy_of_its_own() {
    use std::os::unix::fs::MetadataExt;
    let site = TestSite::new();
    let v1 = IpaBuilder::new("A", "com.acme.a", "1.0", "1").build();
    site.file("releases/a/A.ipa", &v1);
    site.build().assert_ok();
    let published = site.path("public/com.acme.a/1.0-1/a.ipa");
    let release = site.path("releases/a/A.ipa");
    assert_ne!(
        std::fs::metadata(&published).unwrap().ino(),
        std::fs::metadata(&release).unwrap().ino()
    );
    // Writing over the release file in place (as `cp` does) leaves the published IPA alone.
    let v2 = IpaBuilder::new("A", "com.acme.a", "1.0", "1")
        .key("CFBundleDisplayName", "Changed")
        .build();
    std::fs::write(&release, &v2).unwrap();
    assert_eq!(std::fs::read(&published).unwrap(), v1);
    site.build().assert_ok();
    assert_eq!(std::fs::read(&published).unwrap(), v2);
}

/// A settled IPA is copied by the kernel and hashed from the release: the published copy, a
/// file of its own, holds the release's bytes and the feeds their SHA-256, wherever the
/// filesystem does not clone (and where it does).
#[test]
fn a_settled_ipa_is_published_as_a_copy_with_the_hashed_bytes() {
    use sha2::Digest;
    use std::os::unix::fs::MetadataExt;
    let site = TestSite::new();
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 / 3) as u8).collect();
    let ipa = IpaBuilder::new("A", "com.acme.a", "1.0", "1")
        .app_file("payload.bin", &payload)
        .build();
    site.file("releases/a/A.ipa", &ipa);
    let release = site.path("releases/a/A.ipa");
    let settled = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&release)
        .and_then(|f| f.set_modified(settled))
        .expect("set mtime");
    site.build().assert_ok();
    let published = site.path("public/com.acme.a/1.0-1/a.ipa");
    assert_eq!(std::fs::read(&published).unwrap(), ipa);
    assert_ne!(
        std::fs::metadata(&published).unwrap().ino(),
        std::fs::metadata(&release).unwrap().ino()
    );
    let digest: String = sha2::Sha256::digest(&ipa)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        site.read("public/com.acme.a/releases.json")
            .contains(&digest)
    );
}

#[test]
fn a_no_change_rebuild_leaves_the_output_alone_and_a_touched_file_is_repaired() {
    let site = TestSite::example();
    site.build().assert_ok();
    let before = identities(&site.path("public"));
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert!(run.stderr.contains("wrote 0 files"), "{}", run.stderr);
    assert_eq!(identities(&site.path("public")), before);
    let good = site.tree("public");
    // Someone edits a published page and an IPA: the record no longer vouches for them.
    site.file("public/index.html", b"defaced");
    let ipa = site
        .tree("public")
        .into_keys()
        .find(|p| p.ends_with(".ipa"))
        .unwrap();
    site.file(&format!("public/{ipa}"), b"not an ipa");
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert!(run.stderr.contains("wrote 2 files"), "{}", run.stderr);
    assert_eq!(site.tree("public"), good);
}

#[test]
fn a_run_while_another_keeps_the_cache_only_reads_it() {
    let site = TestSite::example();
    std::fs::create_dir_all(site.path(".relsite-cache")).unwrap();
    let lock = std::fs::File::create(site.path(".relsite-cache/lock")).unwrap();
    lock.try_lock().unwrap();
    let run = site.run(&["build"]);
    run.assert_ok();
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("note: another relsite run holds")
                && l.contains(".relsite-cache/lock")
                && l.ends_with("this run reads the cache and keeps nothing in it")),
        "{}",
        run.stderr
    );
    assert!(!site.path(CACHE).exists());
    assert!(!site.path(".relsite-cache/ipas").exists());
    drop(lock);
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
    assert!(site.path(CACHE).is_file());
}

#[test]
fn a_file_put_in_the_output_by_hand_goes_even_when_nothing_changed() {
    let site = TestSite::example();
    site.build().assert_ok();
    let good = site.tree("public");
    site.file("public/stray.txt", b"not ours");
    site.build().assert_ok();
    assert_eq!(site.tree("public"), good);
}

#[test]
fn ipas_hosted_elsewhere_are_not_copied_into_the_cache() {
    let site = TestSite::example();
    let config = std::fs::read_to_string(site.path("relsite.yaml")).unwrap();
    site.config(&format!(
        "{config}\nipa_base_url: https://ipas.example.com/\n"
    ));
    site.build().assert_ok();
    site.build().assert_ok();
    let copies = site.path(".relsite-cache/ipas");
    assert!(
        !copies.exists() || std::fs::read_dir(&copies).unwrap().next().is_none(),
        "copies kept for IPAs that are not published"
    );
    let run = site.run(&["build", "-v"]);
    assert!(run.stderr.contains("(6 unchanged"), "{}", run.stderr);
}

#[test]
fn an_ipa_whose_notes_are_broken_is_still_kept_in_the_cache() {
    let site = TestSite::new();
    site.ipa(
        "releases/a/A.ipa",
        &IpaBuilder::new("A", "com.acme.a", "1.0", "1"),
    );
    site.file("releases/a/A.yaml", b"chanel: beta\n");
    site.build()
        .assert_fails_with("releases/a/A.yaml:1:1: error: unknown field `chanel`");
    site.file("releases/a/A.yaml", b"channel: beta\n");
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert!(
        run.stderr.contains("read 1 IPA (1 unchanged"),
        "{}",
        run.stderr
    );
}

/// Bytes free on the filesystem holding `dir`.
#[cfg(target_os = "linux")]
fn free_bytes(dir: &Path) -> u64 {
    let stat = rustix::fs::statvfs(dir).expect("statvfs");
    stat.f_bavail * stat.f_frsize
}

/// On a filesystem that clones (XFS, btrfs), the cache's copy of a settled IPA is a clone that
/// shares the release's blocks; an IPA written just now is copied byte by byte, as it may still
/// be written within one tick of its modification time. Either way the published IPA holds the
/// release's bytes and the feeds its SHA-256.
#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(
    not(have_reflink),
    ignore = "needs RELSITE_TEST_REFLINK_DIR: a folder on XFS or btrfs (.ci/run mounts one)"
)]
fn settled_ipas_are_cloned_where_the_filesystem_clones() {
    use sha2::Digest;
    const PAYLOAD: usize = 32 << 20;
    let parent = std::env::var_os("RELSITE_TEST_REFLINK_DIR")
        .expect("RELSITE_TEST_REFLINK_DIR names a folder on XFS or btrfs");
    let site = TestSite::new_in(Path::new(&parent));
    // Incompressible, so the IPA is about as large as the payload.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let payload: Vec<u8> = (0..PAYLOAD)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let ipa = |version: &str| {
        IpaBuilder::new("A", "com.acme.a", version, "1").app_file("payload.bin", &payload)
    };
    site.ipa("releases/a/1.0/A.ipa", &ipa("1.0"));
    let settled = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(site.path("releases/a/1.0/A.ipa"))
        .and_then(|f| f.set_modified(settled))
        .expect("set mtime");
    let sha256 = |rel: &str| {
        let digest = sha2::Sha256::digest(std::fs::read(site.path(rel)).expect("read"));
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };

    let before = free_bytes(site.root());
    site.build().assert_ok();
    let used = before.saturating_sub(free_bytes(site.root()));
    assert!(
        used < PAYLOAD as u64 / 2,
        "a settled IPA is cloned, not copied: {used} bytes used"
    );
    let release = sha256("releases/a/1.0/A.ipa");
    assert_eq!(sha256("public/com.acme.a/1.0-1/a.ipa"), release);
    assert!(
        site.read("public/com.acme.a/releases.json")
            .contains(&release)
    );

    site.ipa("releases/a/2.0/A.ipa", &ipa("2.0"));
    let before = free_bytes(site.root());
    site.build().assert_ok();
    let used = before.saturating_sub(free_bytes(site.root()));
    assert!(
        used >= PAYLOAD as u64,
        "an IPA written just now is copied: {used} bytes used"
    );
    let release = sha256("releases/a/2.0/A.ipa");
    assert_eq!(sha256("public/com.acme.a/2.0-1/a.ipa"), release);
    assert!(
        site.read("public/com.acme.a/releases.json")
            .contains(&release)
    );
}

#[test]
fn a_cache_linked_outside_the_site_is_neither_read_nor_written() {
    for link in [".relsite-cache", ".relsite-cache/ipas"] {
        let site = TestSite::example();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(site.path(link).parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(outside.path(), site.path(link)).unwrap();
        let run = site.run(&["build"]);
        run.assert_ok();
        assert!(
            run.stderr.lines().any(|l| l.starts_with("note: ")
                && l.contains(link)
                && l.ends_with("is a symbolic link: this run neither reads nor keeps a cache")),
            "{link}: {}",
            run.stderr
        );
        let written: Vec<_> = std::fs::read_dir(outside.path()).unwrap().collect();
        assert!(
            written.is_empty(),
            "{link}: wrote {written:?} outside the site"
        );
        assert!(site.path("public/index.html").is_file());
    }
}

/// The `-v` line that says how many parts of apps a build planned, and of how many.
fn parts_planned(run: &Run) -> String {
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains(" of apps, kept the others as they were"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    let planned = line.split("planned ").nth(1).expect("planned");
    planned[..planned.find(" of apps").expect("of apps")].to_string()
}

#[test]
fn an_unchanged_app_is_kept_without_planning_and_a_change_replans_only_what_it_touches() {
    let site = TestSite::example();
    let fresh = |site: &TestSite| build_into(site, "out-fresh", &["--no-cache"]).0;
    site.build().assert_ok();
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert_eq!(parts_planned(&run), "0 of 2 parts", "nothing changed");

    // A notes edit replans that app alone, and the output is a fresh build's.
    let notes = "releases/tidetime/3.1.0-410/TideTime.yaml";
    let text = std::fs::read_to_string(site.path(notes)).unwrap();
    site.file(notes, format!("{text}\n# edited\n").as_bytes());
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert_eq!(
        parts_planned(&run),
        "0 of 2 parts",
        "a comment changes nothing"
    );
    let before = identities(&site.path("public"));
    site.file(
        notes,
        text.replace("notes: Tide", "notes: Edited. Tide")
            .as_bytes(),
    );
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert_eq!(parts_planned(&run), "1 of 2 parts", "{}", run.stderr);
    // Only the files that show those notes are written.
    let after = identities(&site.path("public"));
    let rewritten: Vec<&str> = after
        .iter()
        .filter(|(path, id)| before.get(*path) != Some(id))
        .map(|(path, _)| path.as_str())
        .collect();
    assert_eq!(
        rewritten,
        [
            "catalog.json",
            "feed.xml",
            "tidetime/3.1.0-410/index.html",
            "tidetime/feed.xml",
            "tidetime/latest.json",
            "tidetime/latest/index.html",
            "tidetime/latest/stable/index.html",
            "tidetime/releases.json",
        ]
    );
    assert!(
        site.read("public/tidetime/3.1.0-410/index.html")
            .contains("Edited.")
    );
    assert_eq!(site.tree("public"), fresh(&site));

    // A page of an unchanged app touched by hand: the record no longer vouches for the app's
    // files, so it is planned again and the page repaired.
    site.file("public/field/index.html", b"defaced");
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert_eq!(parts_planned(&run), "1 of 2 parts", "{}", run.stderr);
    assert_eq!(site.tree("public"), fresh(&site));

    // A site setting every page shows replans every app.
    let config = std::fs::read_to_string(site.path("relsite.yaml")).unwrap();
    site.config(&config.replace("title: Example Co. test builds", "title: Renamed"));
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert_eq!(parts_planned(&run), "2 of 2 parts", "{}", run.stderr);
    assert!(site.read("public/field/index.html").contains("Renamed"));
    assert_eq!(site.tree("public"), fresh(&site));

    // An app whose builds are all gone leaves no file behind.
    std::fs::remove_dir_all(site.path("releases/field")).unwrap();
    let run = site.run(&["build", "-v"]);
    run.assert_ok();
    assert_eq!(parts_planned(&run), "0 of 1 part", "{}", run.stderr);
    assert!(!site.path("public/field").exists());
    assert_eq!(site.tree("public"), fresh(&site));
}

#[test]
fn a_kept_app_is_staged_from_what_staging_holds_only_when_it_is_the_outputs() {
    kept_app_staged(&[]);
}

/// As where inodes do not tell files apart (an overlay filesystem): every kept file is linked
/// from the output.
#[test]
fn a_kept_app_is_staged_from_the_output_where_inodes_do_not_identify_files() {
    kept_app_staged(&[("RELSITE_TEST_INODES", "off")]);
}

fn kept_app_staged(env: &[(&str, &str)]) {
    use std::os::unix::fs::MetadataExt;
    let site = TestSite::example();
    let ino = |path: &str| std::fs::metadata(site.path(path)).unwrap().ino();
    let notes = "releases/tidetime/3.1.0-410/TideTime.yaml";
    let text = std::fs::read_to_string(site.path(notes)).unwrap();
    let edit = |with: &str| {
        site.file(notes, text.replace("notes: Tide", with).as_bytes());
        let run = site.run_env(&["build", "-v"], env);
        run.assert_ok();
        assert_eq!(parts_planned(&run), "1 of 2 parts", "{}", run.stderr);
    };
    site.build().assert_ok();
    edit("notes: One. Tide");
    // Staging holds the site before the edit: the unchanged app's files are the output's.
    let page = "field/index.html";
    assert_eq!(
        ino(&format!(".public.relsite-staging/{page}")),
        ino(&format!("public/{page}"))
    );

    // In staging, for the kept app: a file that is not the output's, one that is another
    // output file's, a folder of its files made a link to a folder outside, a stray file, a
    // link, and a name that reads as the page's path. The files are replaced by the output's,
    // the rest goes, and nothing is written through a link.
    let staged = site.path(".public.relsite-staging/field");
    std::fs::remove_file(staged.join("index.html")).unwrap();
    std::fs::write(staged.join("index.html"), "stale").unwrap();
    let feed = staged.join("feed.xml");
    std::fs::remove_file(&feed).unwrap();
    std::fs::hard_link(site.path("public/tidetime/feed.xml"), &feed).unwrap();
    let build = std::fs::read_dir(&staged)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir() && p.join("manifest.plist").is_file())
        .expect("a build folder");
    let build_name = build.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::remove_dir_all(&build).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), &build).unwrap();
    std::fs::write(staged.join("stray.html"), "stray").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", staged.join("passwd")).unwrap();
    std::fs::hard_link(
        site.path("public/field/index.html"),
        site.path(".public.relsite-staging/field\\index.html"),
    )
    .unwrap();
    edit("notes: Two. Tide");
    for file in [page, "field/feed.xml"] {
        assert_eq!(
            ino(&format!(".public.relsite-staging/{file}")),
            ino(&format!("public/{file}")),
            "{file}"
        );
    }
    assert!(!site.read(&format!("public/{page}")).contains("stale"));
    assert!(
        site.path(&format!("public/field/{build_name}/manifest.plist"))
            .is_file()
    );
    assert!(!site.path("public/field/stray.html").exists());
    assert!(!site.path("public/field/passwd").exists());
    assert!(!site.path("public/field\\index.html").exists());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);

    // Staging lacks the page, and holds the output's page under a name that reads as its path.
    let page_in_staging = site.path(&format!(".public.relsite-staging/{page}"));
    std::fs::remove_file(&page_in_staging).unwrap();
    std::fs::hard_link(
        site.path(&format!("public/{page}")),
        site.path(".public.relsite-staging/field\\index.html"),
    )
    .unwrap();
    edit("notes: Three. Tide");
    assert!(site.path(&format!("public/{page}")).is_file());
    assert!(!site.path("public/field\\index.html").exists());
    // In the output too, such a name is a stray, not the page it reads as.
    std::fs::rename(
        site.path("public/field/feed.xml"),
        site.path("public/field\\feed.xml"),
    )
    .unwrap();
    site.run_env(&["build"], env).assert_ok();
    assert!(site.path("public/field/feed.xml").is_file());
    assert!(!site.path("public/field\\feed.xml").exists());
    let fresh = build_into(&site, "out-fresh", &["--no-cache"]).0;
    assert_eq!(site.tree("public"), fresh);
}
