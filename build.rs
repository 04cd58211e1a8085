//! Tells the tests which outside pieces this machine has: the real-IPA fixtures beside the
//! checkout (`have_fixtures`), nginx (`have_nginx`), `script` from util-linux (`have_script`),
//! Garage (`have_garage`, on PATH or in ~/.cargo/bin) and a folder on a filesystem that clones
//! files, named by `RELSITE_TEST_REFLINK_DIR` (`have_reflink`). A test whose piece is missing is ignored, with the reason in the summary of
//! `cargo test`. With `CI=true` every piece counts as present, so a missing one fails its tests.
//!
//! Cargo reruns a build script on every build when a path it watches does not exist, so each
//! check watches the piece when it is there, else the existing folders where it would appear.
//!
//! It also names this build of relsite (`RELSITE_BUILD`, a digest of its sources, theme and
//! locked dependencies), so that what one build cached or rendered is never taken for another's.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CI");
    println!("cargo:rerun-if-env-changed=PATH");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    build_id(&manifest);

    // Without ../shared there is nothing to watch short of the checkout's parent, which holds
    // build output; after putting ../shared in place, touch build.rs.
    let shared = manifest.join("../shared");
    let readme = shared.join("fixtures/real/README.md");
    let fixtures_where = [
        shared.join("fixtures/real"),
        shared.join("fixtures"),
        shared.clone(),
    ];
    have(
        "have_fixtures",
        ci,
        readme.is_file().then_some(readme),
        fixtures_where.iter().find(|d| d.is_dir()),
    );

    let bins = [Path::new("/usr/sbin"), Path::new("/usr/bin")];
    let nginx = bins.iter().map(|d| d.join("nginx")).find(|p| p.is_file());
    have("have_nginx", ci, nginx, bins.iter().filter(|d| d.is_dir()));

    let path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let script = path.iter().map(|d| d.join("script")).find(|p| p.is_file());
    let path_dirs = path.iter().filter(|d| d.is_absolute() && d.is_dir());
    have("have_script", ci, script, path_dirs);

    // Garage, a real S3-compatible store (`cargo install garage --locked`), for deploy tests.
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|d| d.join("bin"));
    let garage = path
        .iter()
        .chain(cargo_bin.iter())
        .map(|d| d.join("garage"))
        .find(|p| p.is_file());
    let garage_where: Vec<PathBuf> = path
        .iter()
        .chain(cargo_bin.iter())
        .filter(|d| d.is_absolute() && d.is_dir())
        .cloned()
        .collect();
    have("have_garage", ci, garage, garage_where);

    // A folder on a filesystem that clones files (XFS, btrfs), named by the environment.
    println!("cargo:rerun-if-env-changed=RELSITE_TEST_REFLINK_DIR");
    let reflink = std::env::var_os("RELSITE_TEST_REFLINK_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir());
    have("have_reflink", ci, reflink, None::<PathBuf>);
}

/// Declares `cfg(name)` and sets it when `found` (or under CI); watches what was found, else the
/// folders `found` would appear in.
fn have<P: AsRef<Path>>(
    name: &str,
    ci: bool,
    found: Option<PathBuf>,
    appears_in: impl IntoIterator<Item = P>,
) {
    println!("cargo:rustc-check-cfg=cfg({name})");
    match &found {
        Some(path) => println!("cargo:rerun-if-changed={}", path.display()),
        None => {
            for dir in appears_in {
                println!("cargo:rerun-if-changed={}", dir.as_ref().display());
            }
        }
    }
    if found.is_some() || ci {
        println!("cargo:rustc-cfg={name}");
    }
}

/// Sets `RELSITE_BUILD` to an FNV-1a digest of every file below src/ and themes/ and of
/// Cargo.lock, by path and content, in a fixed order.
fn build_id(manifest: &Path) {
    let mut files = vec![manifest.join("Cargo.lock")];
    for dir in ["src", "themes"] {
        println!("cargo:rerun-if-changed={dir}");
        collect(&manifest.join(dir), &mut files);
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let rel = file.strip_prefix(manifest).unwrap_or(&file);
        let bytes = std::fs::read(&file).unwrap_or_default();
        for byte in rel.to_string_lossy().bytes().chain([0]).chain(bytes) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=RELSITE_BUILD={hash:016x}");
}

/// Every file below `dir`.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
