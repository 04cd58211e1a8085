//! What each fuzz target (`fuzz/`) feeds its input to, so that the regression tests run every
//! saved input through the very same code. Each function only asks that nothing panics, aborts,
//! hangs or takes unbounded memory: errors are fine.

use std::path::Path;

/// An IPA: written to a file, read as `build` reads it (Info.plist, profile, icon, hash).
pub fn ipa(data: &[u8]) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static INPUTS: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "relsite-fuzz-{}-{}.ipa",
        std::process::id(),
        INPUTS.fetch_add(1, Ordering::Relaxed)
    ));
    if std::fs::write(&path, data).is_ok() {
        let _ = crate::ipa::read(&path, &crate::ipa::IconStore::in_memory());
    }
    let _ = std::fs::remove_file(&path);
}

/// An Info.plist, XML or binary.
pub fn info_plist(data: &[u8]) {
    let _ = crate::ipa::InfoPlist::parse(data);
}

/// A provisioning profile: CMS-signed, or its plist alone.
pub fn profile(data: &[u8]) {
    if let Ok(profile) = crate::ipa::Profile::parse(data) {
        let _ = profile.matches_bundle_id("com.example.fuzzed.app");
    }
}

/// A PNG, standard or CgBI: decoded and rendered into the published icon sizes.
pub fn cgbi(data: &[u8]) {
    let _ = crate::ipa::IconSet::from_png(data);
}

/// A notes file, its Markdown rendered as pages and feeds show it.
pub fn notes(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(notes) = crate::notes::Notes::parse(text, Path::new("notes.yaml"))
        && let Some(markdown) = &notes.notes
    {
        let _ = crate::markdown::to_html(markdown);
        let _ = crate::markdown::to_text(markdown);
    }
}

/// A relsite.yaml.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::config::Config::parse(text, Path::new("relsite.yaml"));
}
