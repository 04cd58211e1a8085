//! Every input the fuzz targets (`fuzz/`) ever failed on, saved in `fuzz/regressions/<target>/`,
//! replayed through the same code: each must finish within 10 s without a panic.

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
