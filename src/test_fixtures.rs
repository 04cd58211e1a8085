//! The real-world fixtures beside the checkout (`../shared/fixtures/real`), for unit tests.
//! With `CI=true` a missing folder fails the test; elsewhere the test says it skipped.

use std::path::{Path, PathBuf};

/// The fixtures folder.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real")
}

/// Whether the fixtures are there; panics under CI when they are not.
pub fn available() -> bool {
    if dir().join("README.md").is_file() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing: CI must have ../shared beside the checkout",
            dir().display()
        );
    }
    eprintln!("skipped: no fixtures at {}", dir().display());
    false
}

/// Returns from the calling test when the fixtures are not there (and not required).
macro_rules! require_fixtures {
    () => {
        if !crate::test_fixtures::available() {
            return;
        }
    };
}
pub(crate) use require_fixtures;
