//! The real-world fixtures beside the checkout (`../shared/fixtures/real`), for unit tests.
//! Tests that read them carry `#[cfg_attr(not(have_fixtures), ignore = …)]`: the build script
//! sets `have_fixtures` when the folder is there, and always with `CI=true`, where a missing
//! folder then fails the test.

use std::path::{Path, PathBuf};

/// The fixtures folder; panics when it is missing.
pub fn dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/real");
    assert!(
        dir.join("README.md").is_file(),
        "{} is missing: CI must have ../shared beside the checkout",
        dir.display()
    );
    dir
}
