//! What makes a release publishable: a version to name it by, a bundle identifier and versions
//! that are safe in URLs, no two apps or builds that would share a path, and no app, build or
//! channel named like a file relsite writes itself.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::catalog::{App, Build};
use crate::config::{CONFIG_FILE, Config};
use crate::diag::{Diagnostic, display_path};
use crate::ipa::InfoPlist;
use crate::layout::{Layout, ReservedNames};
use crate::notes::Notes;
use crate::scan::ReleaseSource;

/// The longest bundle identifier relsite publishes, in bytes: it names the app's folder, and a
/// folder name holds at most 255 bytes on common filesystems. Apple's are far shorter.
pub const MAX_BUNDLE_ID_BYTES: usize = 255;

/// The longest version or build number relsite publishes, in bytes: together they name the
/// build's folder. Real ones are a few numbers and dots.
pub const MAX_VERSION_BYTES: usize = 100;

/// The longest display name relsite publishes, in bytes: it titles every page, feed entry and
/// manifest of the build.
pub const MAX_NAME_BYTES: usize = 1024;

/// The marketing version and build number a release is published under: the IPA's
/// CFBundleShortVersionString, else the notes' `version`, else CFBundleVersion; checked to be
/// usable in a URL, with a valid bundle identifier.
pub fn identify(
    source: &ReleaseSource,
    plist: &InfoPlist,
    notes: &Notes,
) -> Result<(String, Option<String>), Diagnostic> {
    let notes_file = source.notes.clone().unwrap_or_else(|| source.ipa.clone());
    let version = match (&plist.short_version, &notes.version) {
        (Some(short), Some(given)) if short != given => {
            return Err(Diagnostic::error(
                notes_file,
                format!(
                    "`version: {given}` contradicts the IPA's CFBundleShortVersionString `{short}`; `version` is only for an IPA without one: remove it"
                ),
            ));
        }
        (Some(short), _) => short.clone(),
        (None, Some(given)) => given.clone(),
        (None, None) => match &plist.build {
            Some(build) => build.clone(),
            None => {
                let notes_name = source.notes.as_ref().map_or_else(
                    || {
                        let stem = source.ipa.file_stem().unwrap_or_default();
                        format!("{}.yaml", stem.to_string_lossy())
                    },
                    |n| display_path(n),
                );
                return Err(Diagnostic::error(
                    source.ipa.clone(),
                    format!(
                        "has no version: its Info.plist has neither CFBundleShortVersionString nor CFBundleVersion; give one as `version:` in its notes file ({notes_name})"
                    ),
                ));
            }
        },
    };
    let too_long = |what: &str, value: &str, most: usize| {
        (value.len() > most).then(|| {
            Diagnostic::error(
                source.ipa.clone(),
                format!(
                    "{what} is {} bytes long, more than the {most} relsite publishes",
                    value.len()
                ),
            )
        })
    };
    let lengths = [
        (
            "CFBundleIdentifier",
            Some(&plist.bundle_id),
            MAX_BUNDLE_ID_BYTES,
        ),
        ("version", Some(&version), MAX_VERSION_BYTES),
        ("build number", plist.build.as_ref(), MAX_VERSION_BYTES),
        (
            "display name (CFBundleDisplayName, else CFBundleName)",
            plist.display_name.as_ref(),
            MAX_NAME_BYTES,
        ),
    ];
    for (what, value, most) in lengths {
        if let Some(problem) = value.and_then(|v| too_long(what, v, most)) {
            return Err(problem);
        }
    }
    if let Some(why) = invalid_bundle_id(&plist.bundle_id) {
        return Err(Diagnostic::error(
            source.ipa.clone(),
            format!("CFBundleIdentifier `{}` {why}", plist.bundle_id),
        ));
    }
    for (what, value) in [
        ("version", Some(&version)),
        ("build number", plist.build.as_ref()),
    ] {
        if let Some((value, why)) = value.and_then(|v| invalid_version(v).map(|why| (v, why))) {
            return Err(Diagnostic::error(
                source.ipa.clone(),
                format!("{what} `{value}` {why}"),
            ));
        }
    }
    Ok((version, plist.build.clone()))
}

/// Why a bundle identifier cannot be published, if it cannot: Apple allows letters, digits,
/// `-` and `.` (relsite also lets `_` pass), and iOS refuses a manifest that differs from the
/// app, so a bad identifier cannot be repaired here.
fn invalid_bundle_id(id: &str) -> Option<&'static str> {
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        Some(
            "is not a valid bundle identifier: only letters A–Z and a–z, digits, `-` and `.` are allowed, and iOS will not install it",
        )
    } else if id.starts_with('.') || id.contains("..") {
        Some("is not a valid bundle identifier: its parts must not be empty")
    } else {
        None
    }
}

/// Why a version or build number cannot name a build, if it cannot: it must read as a version
/// (such as 1.4.0 or 2.0-beta3) and be safe in a URL path.
fn invalid_version(version: &str) -> Option<&'static str> {
    if version
        .chars()
        .any(|c| !c.is_ascii_graphic() || matches!(c, '/' | '\\'))
    {
        Some(
            "is not a usable version: use ASCII letters, digits and `.` `-` `_` `+`, without spaces or `/`",
        )
    } else if version.starts_with('.') || version.contains("..") {
        Some("is not a usable version: its parts must not be empty")
    } else {
        None
    }
}

/// Two apps with one slug, or two builds of an app with one slug (in one channel or in a listed
/// and an unlisted one, whose install files would share a folder), would overwrite each other.
pub fn collisions(apps: &[App], layout: &Layout) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut app_folders: BTreeMap<String, &App> = BTreeMap::new();
    // An app's listed builds and each unlisted channel's are apps of their own, compared
    // together: one bundle's builds at a time.
    let mut of_bundle: BTreeMap<&str, Vec<&App>> = BTreeMap::new();
    for app in apps {
        let folder = layout.app_page(app, 1).href;
        if let Some(other) = app_folders.insert(folder, app)
            && other.bundle_id != app.bundle_id
        {
            problems.push(Diagnostic::error(
                first_source(app),
                format!(
                    "apps `{}` and `{}` both map to `{}/`; set `apps.<bundle id>.slug` in relsite.yaml to tell them apart (the other is {})",
                    other.bundle_id,
                    app.bundle_id,
                    app.slug,
                    display_path(&first_source(other))
                ),
            ));
        }
        of_bundle.entry(&app.bundle_id).or_default().push(app);
    }
    for apps in of_bundle.values() {
        let mut build_slugs: BTreeMap<&str, (&App, &Build)> = BTreeMap::new();
        for (app, build) in apps
            .iter()
            .flat_map(|a| a.builds.iter().map(move |b| (*a, b)))
        {
            let Some((other_app, other)) = build_slugs.insert(&build.slug, (app, build)) else {
                continue;
            };
            let message = if std::ptr::eq(other_app, app) {
                format!(
                    "maps to the same URL as {}: both are `{}` (version {} and {}); remove one or give it a new build number",
                    display_path(&other.source.ipa),
                    layout.build_page(app, build).href,
                    describe_version(build),
                    describe_version(other),
                )
            } else {
                format!(
                    "is build {} of {} as {} is, in channel `{}` and `{}`: a build is published once, in one channel; remove one or give it a new build number",
                    build.slug,
                    app.bundle_id,
                    display_path(&other.source.ipa),
                    build.channel,
                    other.channel,
                )
            };
            problems.push(Diagnostic::error(build.source.ipa.clone(), message));
        }
    }
    problems
}

/// Apps, builds and channels whose folder would take a name relsite keeps for its own files
/// (such as `feed.xml`, `latest` or the theme's `assets`): each is an error naming the release's
/// file, or relsite.yaml for a configured slug, and the files the name is kept for.
pub fn reserved_slugs(
    config: &Config,
    apps: &[App],
    layout: &Layout,
    reserved: &ReservedNames,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let kept = |slug: &str| {
        reserved
            .owner(slug)
            .map(|owner| format!("relsite keeps the name `{slug}` for {owner}"))
    };
    for app in apps {
        if let Some(kept) = kept(&app.slug) {
            let configured = config
                .apps
                .get(&app.bundle_id)
                .is_some_and(|a| a.slug.is_some());
            let first = display_path(&first_source(app));
            problems.push(if configured {
                Diagnostic::error(
                    PathBuf::from(CONFIG_FILE),
                    format!(
                        "`apps.{}.slug` would publish the app of {first} at `{}`, but {kept}; choose another slug",
                        app.bundle_id,
                        layout.app_page(app, 1).href
                    ),
                )
            } else {
                Diagnostic::error(
                    first_source(app),
                    format!(
                        "bundle identifier `{}` would publish the app at `{}`, but {kept}; set `apps.{}.slug` in {CONFIG_FILE} to publish it under another name",
                        app.bundle_id,
                        layout.app_page(app, 1).href,
                        app.bundle_id
                    ),
                )
            });
        }
        for build in &app.builds {
            if let Some(kept) = kept(&build.slug) {
                problems.push(Diagnostic::error(
                    build.source.ipa.clone(),
                    format!(
                        "version {} would publish the build at `{}`, but {kept}; give the build another version or build number",
                        describe_version(build),
                        layout.build_page(app, build).href
                    ),
                ));
            }
            let channel = build.channel_slug();
            if let Some(kept) = kept(&channel) {
                let notes = build.source.notes.as_ref().unwrap_or(&build.source.ipa);
                problems.push(Diagnostic::error(
                    notes.clone(),
                    format!(
                        "channel `{}` would publish its latest page at `{}`, but {kept}; choose another channel name",
                        build.channel,
                        layout.latest_page(app, Some(&channel)).href
                    ),
                ));
            }
        }
    }
    problems
}

/// `1.0 build 7`, for messages.
fn describe_version(build: &Build) -> String {
    match &build.build_number {
        Some(b) => format!("{} build {b}", build.version),
        None => build.version.clone(),
    }
}

fn first_source(app: &App) -> PathBuf {
    app.first_release().map(PathBuf::from).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::{config, modelled, modelled_with, release, shown};
    use crate::diag::Severity;

    #[test]
    fn bundle_ids_must_be_apple_valid() {
        assert_eq!(invalid_bundle_id("com.example.Field-2"), None);
        for bad in [
            "com/example",
            "com.example..x",
            ".com",
            "com example",
            "com.exämple",
            "a\nb",
        ] {
            assert!(invalid_bundle_id(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn versions_must_be_safe_path_text() {
        for ok in ["1.4.0", "2.0-beta3", "1.0+45", "2024.05.01_1"] {
            assert_eq!(invalid_version(ok), None, "{ok}");
        }
        for bad in ["1.0/2", "../1", "1..0", "1.0 beta", "١.٠", "1\\0", ".1"] {
            assert!(invalid_version(bad).is_some(), "{bad}");
        }
    }

    const ID: &str = "com.e.field";

    #[test]
    fn builds_of_one_version_and_build_number_are_an_error_naming_both_files() {
        let (_, problems) = modelled(vec![
            release(ID, "1.0", "7").ipa("releases/a/Field.ipa"),
            release(ID, "1.0", "7").ipa("releases/b/Field.ipa"),
            release(ID, "1.0", "8"),
        ]);
        let errors = shown(&problems, Severity::Error);
        assert_eq!(errors.len(), 1, "{errors:?}");
        for part in [
            "releases/a/Field.ipa",
            "releases/b/Field.ipa",
            "`com.e.field/1.0-7/`",
            "version 1.0 build 7",
        ] {
            assert!(errors[0].contains(part), "{part} in {errors:?}");
        }
    }

    #[test]
    fn apps_with_one_configured_slug_are_an_error_naming_both() {
        let config =
            config("apps:\n  com.e.field:\n    slug: field\n  com.e.other:\n    slug: field\n");
        let (_, problems) = modelled_with(
            &config,
            false,
            vec![release(ID, "1.0", "1"), release("com.e.other", "1.0", "1")],
        );
        let errors = shown(&problems, Severity::Error);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("apps `com.e.field` and `com.e.other` both map to `field/`"),
            "{errors:?}"
        );
    }

    #[test]
    fn notes_version_names_only_an_ipa_without_one() {
        let (catalog, problems) = modelled(vec![
            release(ID, "1.0", "7")
                .without_short_version()
                .notes("version: 2.0\n"),
        ]);
        assert_eq!(problems, []);
        assert_eq!(catalog.apps[0].builds[0].version, "2.0");
        assert_eq!(catalog.apps[0].builds[0].slug, "2.0-7");

        let (catalog, _) = modelled(vec![release(ID, "1.0", "7").without_short_version()]);
        assert_eq!(catalog.apps[0].builds[0].version, "7");
        assert_eq!(catalog.apps[0].builds[0].slug, "7");

        let (catalog, problems) = modelled(vec![release(ID, "1.0", "7").notes("version: 2.0\n")]);
        let errors = shown(&problems, Severity::Error);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("releases/com.e.field-1.0-7.yaml:"),
            "{errors:?}"
        );
        assert!(
            errors[0].contains("`version: 2.0` contradicts"),
            "{errors:?}"
        );
        assert!(catalog.apps.is_empty());
    }

    #[test]
    fn identities_longer_than_relsite_publishes_are_errors_naming_the_ipa() {
        let long_id = format!("com.{}", "a".repeat(MAX_BUNDLE_ID_BYTES));
        let long_version = "1".repeat(MAX_VERSION_BYTES + 1);
        let long_name = "N".repeat(MAX_NAME_BYTES + 1);
        for (release, what) in [
            (
                release(&long_id, "1.0", "1"),
                "CFBundleIdentifier is 259 bytes long",
            ),
            (release(ID, &long_version, "1"), "version is 101 bytes long"),
            (
                release(ID, "1.0", &long_version),
                "build number is 101 bytes long",
            ),
            (
                release(ID, "1.0", "1").display_name(&long_name),
                "display name (CFBundleDisplayName, else CFBundleName) is 1025 bytes long",
            ),
        ] {
            let (catalog, problems) = modelled(vec![release]);
            let errors = shown(&problems, Severity::Error);
            assert_eq!(errors.len(), 1, "{errors:?}");
            let (file, message) = errors[0].split_once(": error: ").expect("an error");
            assert!(file.ends_with(".ipa"), "{errors:?}");
            assert!(message.starts_with(what), "{what} in {errors:?}");
            assert!(
                message.len() < 120,
                "the value itself is not printed: {message}"
            );
            assert!(catalog.apps.is_empty());
        }
        let at_most = release(
            &"a".repeat(MAX_BUNDLE_ID_BYTES),
            &"1".repeat(MAX_VERSION_BYTES),
            "1",
        );
        assert_eq!(modelled(vec![at_most]).1, []);
    }

    fn reserved_problems(
        config: &Config,
        releases: Vec<crate::catalog::testing::Release>,
    ) -> Vec<String> {
        let (_, problems) = modelled_with(config, false, releases);
        shown(&problems, Severity::Error)
    }

    #[test]
    fn bundle_ids_named_like_relsite_files_are_errors_naming_the_ipa_and_the_files() {
        for (id, kept) in [
            (
                "index.html",
                "the pages, each an `index.html` in its folder",
            ),
            ("feed.xml", "the Atom feeds `feed.xml` and `<app>/feed.xml`"),
            ("robots.txt", "the host configuration `robots.txt`"),
            ("_headers", "the host configuration `_headers`"),
            (
                "assets",
                "the theme's files, such as `assets/favicon.svg` from the built-in theme",
            ),
        ] {
            let errors = reserved_problems(&config(""), vec![release(id, "1.0", "1")]);
            assert_eq!(
                errors,
                [format!(
                    "releases/{id}-1.0-1.ipa: error: bundle identifier `{id}` would publish the app at `{id}/`, but relsite keeps the name `{id}` for {kept}; set `apps.{id}.slug` in relsite.yaml to publish it under another name"
                )]
            );
        }
    }

    #[test]
    fn a_configured_slug_named_like_a_theme_folder_is_an_error_naming_the_config() {
        let config = config("apps:\n  com.e.field:\n    slug: assets\n");
        let errors = reserved_problems(&config, vec![release(ID, "1.0", "1")]);
        assert_eq!(
            errors,
            [
                "relsite.yaml: error: `apps.com.e.field.slug` would publish the app of releases/com.e.field-1.0-1.ipa at `assets/`, but relsite keeps the name `assets` for the theme's files, such as `assets/favicon.svg` from the built-in theme; choose another slug"
            ]
        );
    }

    #[test]
    fn versions_named_like_relsite_files_are_errors_naming_the_ipa_and_the_files() {
        for (version, kept) in [
            ("feed.xml", "the Atom feeds `feed.xml` and `<app>/feed.xml`"),
            ("releases.json", "the app feed `<app>/releases.json`"),
            ("latest", "the latest pages `<app>/latest/`"),
            ("page", "the app pages `<app>/page/<n>/`"),
            (
                "manifest.plist",
                "the manifests `<app>/<version>/manifest.plist`",
            ),
        ] {
            let errors = reserved_problems(
                &config(""),
                vec![release(ID, version, version), release(ID, "1.0", "1")],
            );
            assert_eq!(
                errors,
                [format!(
                    "releases/com.e.field-{version}-{version}.ipa: error: version {version} build {version} would publish the build at `com.e.field/{version}/`, but relsite keeps the name `{version}` for {kept}; give the build another version or build number"
                )]
            );
        }
    }

    #[test]
    fn channels_named_like_relsite_files_are_errors_naming_the_notes_and_the_files() {
        let errors = reserved_problems(
            &config(""),
            vec![
                release(ID, "1.0", "1").notes("channel: Index.HTML\n"),
                release(ID, "2.0", "1").notes("channel: beta\n"),
            ],
        );
        assert_eq!(
            errors,
            [
                "releases/com.e.field-1.0-1.yaml: error: channel `Index.HTML` would publish its latest page at `com.e.field/latest/index.html/`, but relsite keeps the name `index.html` for the pages, each an `index.html` in its folder; choose another channel name"
            ]
        );
    }
}
