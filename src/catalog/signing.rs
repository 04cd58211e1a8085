//! Whether a build can be installed: its provisioning profile (type, app identifier, expiry) and
//! its platform, judged against a given time.

use std::path::Path;

use time::OffsetDateTime;

use crate::diag::Diagnostic;
use crate::ipa::{Distribution, IpaFacts, ProfileStatus};
use crate::text::{plural, utc_ymd};

/// Profiles expiring within this many days are warned about.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// What the model keeps of the checks: whether and until when the build can be installed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// When the profile (or its certificate) expires.
    pub expires: Option<OffsetDateTime>,
    /// The profile has expired: the build stays listed, but cannot be installed.
    pub expired: bool,
    /// Why the build cannot be installed from Safari, if it cannot.
    pub not_installable: Option<String>,
}

/// What the checks found: a verdict for a build that can be listed, else the error that leaves
/// it out; and warnings either way.
#[derive(Debug)]
pub struct Signing {
    pub verdict: Result<Verdict, Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Checks the provisioning profile (type, app identifier, expiry) and the platform of the IPA
/// at `file` as of `now`.
pub fn check(file: &Path, facts: &IpaFacts, now: OffsetDateTime) -> Signing {
    let mut warnings = Vec::new();
    let mut verdict = Verdict::default();
    let warn = |message: String| Diagnostic::warning(file.to_path_buf(), message);
    let bundle_id = &facts.plist.bundle_id;
    let mut unsigned = false;
    match &facts.profile {
        ProfileStatus::Missing => {
            warnings.push(warn(
                "has no embedded.mobileprovision: an unsigned or simulator build cannot be installed on a device; it is listed without an install button".into(),
            ));
            unsigned = true;
        }
        ProfileStatus::Unreadable { why } => warnings.push(warn(format!(
            "cannot read its embedded.mobileprovision ({why}): distribution type and expiry are unknown"
        ))),
        ProfileStatus::Found { profile } => {
            let name = profile.name.as_deref().unwrap_or("unnamed");
            if profile.distribution == Distribution::AppStore {
                let fatal = Diagnostic::error(
                    file.to_path_buf(),
                    format!(
                        "is signed with the App Store profile `{name}`: such a build can never be installed over the air; export it for ad-hoc, enterprise or development distribution"
                    ),
                );
                return Signing { verdict: Err(fatal), warnings };
            }
            if !profile.matches_bundle_id(bundle_id) {
                let fatal = Diagnostic::error(
                    file.to_path_buf(),
                    format!(
                        "its profile `{name}` is for `{}`, not for CFBundleIdentifier `{bundle_id}`: iOS would refuse to install it",
                        profile.bundle_id_pattern().unwrap_or("no application-identifier"),
                    ),
                );
                return Signing { verdict: Err(fatal), warnings };
            }
            verdict.expires = profile.effective_expiry();
            if let Some(expires) = verdict.expires {
                let day = utc_ymd(expires);
                if expires <= now {
                    verdict.expired = true;
                    warnings.push(warn(format!(
                        "its profile `{name}` expired on {day}: the build stays listed, marked expired, without an install button"
                    )));
                } else if expires - now <= time::Duration::days(EXPIRY_WARNING_DAYS) {
                    let days = (expires - now).whole_days();
                    warnings.push(warn(format!(
                        "its profile `{name}` expires on {day}, in {}: installs fail after that",
                        plural(usize::try_from(days).unwrap_or(0), "day")
                    )));
                }
            }
        }
    }
    let platforms = &facts.plist.platforms;
    if !platforms.is_empty() && !platforms.iter().any(|p| p == "iPhoneOS") {
        warnings.push(warn(format!(
            "is built for {}, not iOS: it cannot be installed from Safari",
            platforms.join(", ")
        )));
        verdict.not_installable = Some(format!(
            "This build is for {}, not for iPhone or iPad: it cannot be installed from Safari.",
            platform_names(platforms)
        ));
    }
    if unsigned && verdict.not_installable.is_none() {
        verdict.not_installable = Some(
            "This build is not signed for devices (it has no provisioning profile): it cannot be installed on an iPhone or iPad.".into(),
        );
    }
    Signing {
        verdict: Ok(verdict),
        warnings,
    }
}

/// Platform identifiers as people say them.
fn platform_names(platforms: &[String]) -> String {
    platforms
        .iter()
        .map(|p| match p.as_str() {
            "AppleTVOS" => "Apple TV",
            "XROS" => "Apple Vision Pro",
            "WatchOS" => "Apple Watch",
            "iPhoneSimulator" => "the iOS Simulator",
            "MacOSX" => "Mac",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::catalog::testing::{NOW, Release, Signed, modelled, release, shown};
    use crate::diag::Severity;

    const ID: &str = "com.e.field";

    fn checked(release: Release) -> (Verdict, Vec<String>) {
        let read = release.read();
        let signing = check(&read.source.ipa, &read.facts, NOW);
        let warnings = signing.warnings.iter().map(ToString::to_string).collect();
        (signing.verdict.expect("the build can be listed"), warnings)
    }

    #[test]
    fn expired_profile_marks_the_build_expired_and_warns_with_the_date() {
        for expires in [datetime!(2024-05-20 08:00 UTC), NOW] {
            let (verdict, warnings) =
                checked(release(ID, "1.0", "1").signed(Signed::AdHoc(expires)));
            assert!(verdict.expired, "{expires}");
            assert_eq!(verdict.expires, Some(expires));
            assert_eq!(verdict.not_installable, None);
            let day = crate::text::ymd(expires);
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(
                warnings[0].starts_with(&format!(
                    "releases/com.e.field-1.0-1.ipa: warning: its profile `ad-hoc profile` expired on {day}:"
                )),
                "{warnings:?}"
            );
        }
    }

    #[test]
    fn profile_expiring_within_30_days_warns_with_the_days_left() {
        for (days, day, left) in [
            (1, "2024-06-02", "in 1 day"),
            (10, "2024-06-11", "in 10 days"),
            (EXPIRY_WARNING_DAYS, "2024-07-01", "in 30 days"),
        ] {
            let expires = NOW + Duration::days(days);
            let (verdict, warnings) =
                checked(release(ID, "1.0", "1").signed(Signed::AdHoc(expires)));
            assert!(!verdict.expired);
            assert_eq!(verdict.expires, Some(expires));
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(
                warnings[0].contains(&format!("expires on {day}, {left}: installs fail")),
                "{warnings:?}"
            );
        }
    }

    #[test]
    fn profile_expiring_after_30_days_is_not_warned_about() {
        for expires in [
            NOW + Duration::days(EXPIRY_WARNING_DAYS) + Duration::minutes(1),
            NOW + Duration::days(400),
        ] {
            let (verdict, warnings) =
                checked(release(ID, "1.0", "1").signed(Signed::AdHoc(expires)));
            assert!(!verdict.expired);
            assert_eq!(verdict.expires, Some(expires));
            assert_eq!(warnings, Vec::<String>::new());
        }
    }

    #[test]
    fn enterprise_profile_installs_without_warnings() {
        let (verdict, warnings) = checked(release(ID, "1.0", "1").signed(Signed::Enterprise));
        assert_eq!(verdict, Verdict::default());
        assert_eq!(warnings, Vec::<String>::new());
    }

    #[test]
    fn unsigned_build_is_listed_with_a_warning_and_not_installable() {
        let (verdict, warnings) = checked(release(ID, "1.0", "1").signed(Signed::Unsigned));
        assert!(!verdict.expired);
        let why = verdict.not_installable.expect("a reason");
        assert!(why.contains("no provisioning profile"), "{why}");
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("has no embedded.mobileprovision"),
            "{warnings:?}"
        );
    }

    #[test]
    fn app_store_profile_is_an_error_and_leaves_the_build_out() {
        let (catalog, problems) = modelled(vec![
            release(ID, "2.0", "1").signed(Signed::AppStore),
            release(ID, "1.0", "1"),
        ]);
        let errors = shown(&problems, Severity::Error);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "releases/com.e.field-2.0-1.ipa: error: is signed with the App Store profile `app-store profile`"
            ),
            "{errors:?}"
        );
        let builds: Vec<&str> = catalog.apps[0]
            .builds
            .iter()
            .map(|b| b.slug.as_str())
            .collect();
        assert_eq!(builds, ["1.0-1"]);
    }

    #[test]
    fn profile_for_another_app_id_is_an_error_and_leaves_the_build_out() {
        let (catalog, problems) =
            modelled(vec![release(ID, "1.0", "1").app_id("TEAM.com.e.other")]);
        let errors = shown(&problems, Severity::Error);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("is for `com.e.other`, not for CFBundleIdentifier `com.e.field`"),
            "{errors:?}"
        );
        assert!(catalog.apps.is_empty());

        let (catalog, problems) = modelled(vec![release(ID, "1.0", "1").app_id("TEAM.com.e.*")]);
        assert_eq!(problems, []);
        assert_eq!(catalog.build_count(), 1);
    }

    #[test]
    fn tvos_build_is_listed_but_not_installable() {
        let (verdict, warnings) = checked(release(ID, "1.0", "1").platforms(&["AppleTVOS"]));
        assert!(!verdict.expired);
        let reason = verdict.not_installable.expect("a reason");
        assert!(
            reason.contains("for Apple TV, not for iPhone or iPad"),
            "{reason}"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("is built for AppleTVOS, not iOS"),
            "{warnings:?}"
        );

        let (catalog, _) = modelled(vec![release(ID, "1.0", "1").platforms(&["AppleTVOS"])]);
        let build = &catalog.apps[0].builds[0];
        assert!(!build.installable());
        assert!(build.verdict.not_installable.is_some());
    }
}
