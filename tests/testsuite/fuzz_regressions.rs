//! Every input the fuzz targets (`fuzz/`) ever failed on, and the inputs that once aborted,
//! hung or panicked relsite (a binary plist DAG of 2^60 leaves, arrays nested 20,000 deep in
//! binary, XML and inside an IPA, YAML alias expansion to 9^9 nodes, flow collections nested
//! 100,000 deep, the notes date `9999-12-31T23:59:59-23:59`, an app id of 3,000 wildcards, a
//! CgBI PNG of 100,000 x 100,000 pixels), saved in `fuzz/regressions/<target>/` and replayed
//! through the same code: each must finish within 10 s without a panic.

use std::path::Path;
use std::time::Duration;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            run(&data);
            let _ = done.send(());
        });
        match finished.recv_timeout(Duration::from_secs(10)) {
            Ok(()) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("{}: still running after 10 s", path.display())
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                panic!("{}: panicked", path.display())
            }
        }
    }
}

#[test]
fn ipa() {
    replay("ipa", relsite::fuzzing::ipa);
}

#[test]
fn info_plist() {
    replay("info_plist", relsite::fuzzing::info_plist);
}

#[test]
fn profile() {
    replay("profile", relsite::fuzzing::profile);
}

#[test]
fn cgbi() {
    replay("cgbi", relsite::fuzzing::cgbi);
}

#[test]
fn notes() {
    replay("notes", relsite::fuzzing::notes);
}

#[test]
fn config() {
    replay("config", relsite::fuzzing::config);
}
