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
    match &facts.profile {
        ProfileStatus::Missing => warnings.push(warn(
            "has no embedded.mobileprovision: an unsigned or simulator build cannot be installed on a device".into(),
        )),
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
