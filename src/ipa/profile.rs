//! Provisioning profile reading.
//!
//! An `embedded.mobileprovision` decides who can install a build: its device
//! list, team, expiry and entitlements tell the catalog whether a build is
//! installable over the air, by whom, and until when. The file is a CMS
//! (PKCS#7) SignedData wrapping an XML property list. Real profiles are not
//! always valid DER (some use BER indefinite lengths, some have been edited
//! after signing), so the property list is located by its XML markers rather
//! than by parsing the CMS structure, and the signature is not checked.

use std::ops::Range;
use std::time::{SystemTime, UNIX_EPOCH};

use plist::{Dictionary, Value};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::der::Decode;

use super::plist_reader::{self, Limit, PlistError};

/// How a profile lets a build be distributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    Development,
    AdHoc,
    Enterprise,
    AppStore,
}

impl Distribution {
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::Development => "development",
            Distribution::AdHoc => "ad-hoc",
            Distribution::Enterprise => "enterprise",
            Distribution::AppStore => "app-store",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no property list found in the profile")]
    NoPropertyList,
    #[error("the property list is malformed: {0}")]
    Malformed(String),
    #[error("the property list is refused: {0}")]
    Refused(Limit),
}

impl From<PlistError> for ProfileError {
    fn from(err: PlistError) -> ProfileError {
        match err {
            PlistError::Malformed(e) => ProfileError::Malformed(e.to_string()),
            PlistError::Refused(limit) => ProfileError::Refused(limit),
        }
    }
}

/// The facts of a provisioning profile that the catalog uses. Keys that are
/// missing or have an unexpected type read as absent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    pub name: Option<String>,
    pub team_name: Option<String>,
    /// First entry of the `TeamIdentifier` array.
    pub team_id: Option<String>,
    pub uuid: Option<String>,
    /// `AppIDName`.
    pub app_id_name: Option<String>,
    /// The `Platform` array, e.g. `["iOS"]`.
    pub platforms: Vec<String>,
    /// `CreationDate`.
    #[serde(with = "time::serde::timestamp::option")]
    pub created: Option<OffsetDateTime>,
    /// `ExpirationDate`.
    #[serde(with = "time::serde::timestamp::option")]
    pub expires: Option<OffsetDateTime>,
    /// Earliest `notAfter` among the `DeveloperCertificates` that parse as
    /// X.509; certificates that fail to parse are skipped.
    #[serde(with = "time::serde::timestamp::option")]
    pub certificates_expire: Option<OffsetDateTime>,
    /// `ProvisionedDevices` (UDIDs); empty when absent.
    pub devices: Vec<String>,
    /// Whether a `ProvisionedDevices` array is present.
    pub has_device_list: bool,
    /// `ProvisionsAllDevices` is `true`.
    pub provisions_all_devices: bool,
    /// `Entitlements.get-task-allow` is `true`.
    pub get_task_allow: bool,
    /// `Entitlements.application-identifier`, else
    /// `Entitlements.com.apple.application-identifier`.
    pub application_identifier: Option<String>,
    pub distribution: Distribution,
}

impl Profile {
    /// Reads a profile from the bytes of a `.mobileprovision` or
    /// `.provisionprofile` file (or from a bare XML property list).
    pub fn parse(bytes: &[u8]) -> Result<Profile, ProfileError> {
        let range = find_plist(bytes).ok_or(ProfileError::NoPropertyList)?;
        let value = match plist_reader::read_xml(&bytes[range.clone()]) {
            Ok(v) => v,
            Err(PlistError::Malformed(first)) => {
                match reassemble_ber_segments(bytes, range.start) {
                    Some(joined) => plist_reader::read_xml(&joined)?,
                    None => return Err(ProfileError::Malformed(first.to_string())),
                }
            }
            Err(refused) => return Err(refused.into()),
        };
        let root = value
            .as_dictionary()
            .ok_or_else(|| ProfileError::Malformed("the top level is not a dictionary".into()))?;
        Ok(Profile::from_dictionary(root))
    }

    fn from_dictionary(root: &Dictionary) -> Profile {
        let entitlements = root.get("Entitlements").and_then(Value::as_dictionary);
        let entitlement = |key: &str| entitlements.and_then(|e| e.get(key));

        let device_list = root.get("ProvisionedDevices").and_then(Value::as_array);
        let has_device_list = device_list.is_some();
        let provisions_all_devices = boolean(root.get("ProvisionsAllDevices"));
        let get_task_allow = boolean(entitlement("get-task-allow"));

        let distribution = if has_device_list {
            if get_task_allow {
                Distribution::Development
            } else {
                Distribution::AdHoc
            }
        } else if provisions_all_devices {
            Distribution::Enterprise
        } else {
            Distribution::AppStore
        };

        let certificates_expire = root
            .get("DeveloperCertificates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_data)
            .filter_map(certificate_not_after)
            .min();

        Profile {
            name: string(root.get("Name")),
            team_name: string(root.get("TeamName")),
            team_id: root
                .get("TeamIdentifier")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_string)
                .map(str::to_owned),
            uuid: string(root.get("UUID")),
            app_id_name: string(root.get("AppIDName")),
            platforms: strings(root.get("Platform")),
            created: date(root.get("CreationDate")),
            expires: date(root.get("ExpirationDate")),
            certificates_expire,
            devices: device_list.map(|a| strings_of(a)).unwrap_or_default(),
            has_device_list,
            provisions_all_devices,
            get_task_allow,
            application_identifier: string(entitlement("application-identifier"))
                .or_else(|| string(entitlement("com.apple.application-identifier"))),
            distribution,
        }
    }

    /// The earlier of `ExpirationDate` and the earliest certificate expiry.
    pub fn effective_expiry(&self) -> Option<OffsetDateTime> {
        match (self.expires, self.certificates_expire) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The application identifier without its team prefix (the first
    /// dot-separated component), e.g. `com.acme.app` or `*`.
    pub fn bundle_id_pattern(&self) -> Option<&str> {
        let (_, pattern) = self.application_identifier.as_deref()?.split_once('.')?;
        (!pattern.is_empty()).then_some(pattern)
    }

    /// True when the bundle id pattern matches `bundle_id`. `*` matches any
    /// run of characters (dots included), so `*` matches every id and
    /// `com.acme.*` matches `com.acme.x.y`; other characters must match
    /// exactly (case-sensitive). An empty bundle id never matches.
    pub fn matches_bundle_id(&self, bundle_id: &str) -> bool {
        match self.bundle_id_pattern() {
            Some(pattern) if !bundle_id.is_empty() => wildcard_match(pattern, bundle_id),
            _ => false,
        }
    }
}

/// Glob match where `*` stands for any sequence of characters, in time linear in the lengths of
/// both: the literal pieces between stars are found left to right, each at its first place after
/// the one before (the first piece anchored at the start, the last at the end), and a piece never
/// needs another try, since a star before it can take up whatever lies between.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let Some(last) = pieces.next_back() else {
        // No star: the pattern is a literal.
        return rest.is_empty();
    };
    for piece in pieces {
        // `str::find` with a string needle is the two-way search: linear, no backtracking.
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// The byte range from `<?xml` (or `<plist` when there is no XML declaration)
/// through the first `</plist>` after it.
fn find_plist(bytes: &[u8]) -> Option<Range<usize>> {
    const END: &[u8] = b"</plist>";
    let start = find(bytes, b"<?xml").or_else(|| find(bytes, b"<plist"))?;
    let end = start + find(&bytes[start..], END)? + END.len();
    Some(start..end)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// For BER encodings whose content is a constructed, indefinite-length
/// OCTET STRING (`24 80`) split into several primitive segments, joins the
/// segments so the property list is contiguous again. `xml_start` is the
/// offset of the property list, which must begin the first segment's content.
fn reassemble_ber_segments(bytes: &[u8], xml_start: usize) -> Option<Vec<u8>> {
    // Find the segment header that ends right before the XML: `04 len`.
    let first = (2..=6).find_map(|header_len| {
        let at = xml_start.checked_sub(header_len)?;
        let (content_start, _) = ber_octet_string(bytes, at)?;
        (content_start == xml_start && bytes.get(at.checked_sub(2)?..at)? == [0x24, 0x80])
            .then_some(at)
    })?;
    let mut joined = Vec::new();
    let mut pos = first;
    while let Some((content_start, content_len)) = ber_octet_string(bytes, pos) {
        let content_end = content_start.checked_add(content_len)?;
        joined.extend_from_slice(bytes.get(content_start..content_end)?);
        pos = content_end;
    }
    let end = find(&joined, b"</plist>")? + b"</plist>".len();
    joined.truncate(end);
    Some(joined)
}

/// Reads a primitive OCTET STRING header (`04` + definite length) at `at`,
/// returning where its content starts and how long it is.
fn ber_octet_string(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    if *bytes.get(at)? != 0x04 {
        return None;
    }
    let first = *bytes.get(at + 1)?;
    if first < 0x80 {
        return Some((at + 2, usize::from(first)));
    }
    let count = usize::from(first & 0x7F);
    if count == 0 || count > 4 {
        return None;
    }
    let len_bytes = bytes.get(at + 2..at + 2 + count)?;
    let len = len_bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Some((at + 2 + count, len))
}

fn string(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_string).map(str::to_owned)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| strings_of(a))
        .unwrap_or_default()
}

fn strings_of(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter_map(Value::as_string)
        .map(str::to_owned)
        .collect()
}

fn boolean(value: Option<&Value>) -> bool {
    value.and_then(Value::as_boolean).unwrap_or(false)
}

fn date(value: Option<&Value>) -> Option<OffsetDateTime> {
    system_time_to_offset(value?.as_date()?.into())
}

fn system_time_to_offset(t: SystemTime) -> Option<OffsetDateTime> {
    let seconds = match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).ok()?,
        Err(before) => i64::try_from(before.duration().as_secs())
            .ok()?
            .checked_neg()?,
    };
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

fn certificate_not_after(der: &[u8]) -> Option<OffsetDateTime> {
    let cert = Certificate::from_der(der).ok()?;
    let not_after = cert.tbs_certificate().validity().not_after;
    let seconds = i64::try_from(not_after.to_unix_duration().as_secs()).ok()?;
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use time::{Date, Month};

    fn fixture(p: &str) -> PathBuf {
        crate::test_fixtures::dir().join(p)
    }

    fn load(p: &str) -> Profile {
        let bytes = std::fs::read(fixture(p)).unwrap_or_else(|e| panic!("reading {p}: {e}"));
        Profile::parse(&bytes).unwrap_or_else(|e| panic!("parsing {p}: {e}"))
    }

    fn day(year: i32, month: Month, d: u8) -> Date {
        Date::from_calendar_date(year, month, d).expect("valid date")
    }

    fn with_app_id(app_id: &str) -> Profile {
        Profile {
            name: None,
            team_name: None,
            team_id: None,
            uuid: None,
            app_id_name: None,
            platforms: vec![],
            created: None,
            expires: None,
            certificates_expire: None,
            devices: vec![],
            has_device_list: false,
            provisions_all_devices: false,
            get_task_allow: false,
            application_identifier: Some(app_id.to_owned()),
            distribution: Distribution::AppStore,
        }
    }

    const FASTLANE_APPSTORE: &str = "fastlane__fastlane/test.mobileprovision";
    const FASTLANE_OSX_EDITED: &str = "fastlane__fastlane/test.provisionprofile";
    const FASTLANE_BER: &str = "fastlane__fastlane/very-capable-app.embedded.mobileprovision";
    const ICY_ADHOC: &str = "icyleaf__app-info/ios_adhoc.mobileprovision";
    const ICY_APPSTORE: &str = "icyleaf__app-info/ios_appstore.mobileprovision";
    const ICY_DEVELOPMENT: &str = "icyleaf__app-info/ios_development.mobileprovision";
    const ICY_MACOS: &str = "icyleaf__app-info/macos_development.provisionprofile";
    const ALL: [&str; 7] = [
        FASTLANE_APPSTORE,
        FASTLANE_OSX_EDITED,
        FASTLANE_BER,
        ICY_ADHOC,
        ICY_APPSTORE,
        ICY_DEVELOPMENT,
        ICY_MACOS,
    ];

    /// What a fixture's README row says of its profile.
    struct Facts {
        name: &'static str,
        team_id: &'static str,
        uuid: &'static str,
        platforms: &'static [&'static str],
        distribution: Distribution,
        devices: usize,
        created: (i32, Month, u8),
        expires: (i32, Month, u8),
    }

    #[track_caller]
    fn assert_facts(p: &Profile, facts: &Facts) {
        assert_eq!(p.name.as_deref(), Some(facts.name));
        assert_eq!(p.team_id.as_deref(), Some(facts.team_id));
        assert_eq!(p.uuid.as_deref(), Some(facts.uuid));
        assert_eq!(p.platforms, facts.platforms);
        assert_eq!(p.distribution, facts.distribution);
        assert_eq!(p.devices.len(), facts.devices);
        assert_eq!(p.has_device_list, facts.devices > 0);
        let (y, m, d) = facts.created;
        assert_eq!(p.created.map(|t| t.date()), Some(day(y, m, d)));
        let (y, m, d) = facts.expires;
        assert_eq!(p.expires.map(|t| t.date()), Some(day(y, m, d)));
    }

    const FASTLANE_APP_STORE_FACTS: Facts = Facts {
        name: "tools.fastlane.app AppStore",
        team_id: "439BBM9367",
        uuid: "98264c6b-5151-4349-8d0f-66691e48ae35",
        platforms: &["iOS"],
        distribution: Distribution::AppStore,
        devices: 0,
        created: (2015, Month::November, 8),
        expires: (2016, Month::November, 7),
    };

    /// The Niceliving profiles share a team and an app identifier.
    const ICY_TEAM: &str = "WKR87TTKML";

    fn assert_fastlane_app_store_facts(p: &Profile) {
        assert_facts(p, &FASTLANE_APP_STORE_FACTS);
        assert_eq!(p.team_name.as_deref(), Some("Felix Krause"));
        assert_eq!(
            p.application_identifier.as_deref(),
            Some("439BBM9367.tools.fastlane.app")
        );
        assert_eq!(p.bundle_id_pattern(), Some("tools.fastlane.app"));
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn reads_fastlane_app_store_profile() {
        let p = load(FASTLANE_APPSTORE);
        assert_fastlane_app_store_facts(&p);
        assert!(p.matches_bundle_id("tools.fastlane.app"));
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn reads_profile_whose_signature_no_longer_verifies() {
        let p = load(FASTLANE_OSX_EDITED);
        assert_facts(
            &p,
            &Facts {
                platforms: &["OSX"],
                ..FASTLANE_APP_STORE_FACTS
            },
        );
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn reads_ber_indefinite_length_development_profile() {
        let bytes = std::fs::read(fixture(FASTLANE_BER)).expect("fixture");
        assert_eq!(&bytes[..2], &[0x30, 0x80]);
        let p = Profile::parse(&bytes).expect("parses");
        assert_facts(
            &p,
            &Facts {
                name: "org.fastlane.very-capable-app Development",
                team_id: "TestFixture",
                uuid: "12345678-1234-1234-1234-123456789012",
                platforms: &["iOS"],
                distribution: Distribution::Development,
                devices: 1,
                created: (2018, Month::April, 7),
                expires: (2019, Month::April, 7),
            },
        );
        assert_eq!(p.team_name.as_deref(), Some("TestFixture"));
        assert_eq!(
            p.application_identifier.as_deref(),
            Some("TestFixture.org.fastlane.very-capable-app")
        );
        assert!(p.get_task_allow);
        assert!(p.matches_bundle_id("org.fastlane.very-capable-app"));
        assert!(!p.matches_bundle_id("org.fastlane.other"));
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn reads_plist_split_across_ber_octet_string_segments() {
        let original = std::fs::read(fixture(FASTLANE_APPSTORE)).expect("fixture");
        let xml = &original[find_plist(&original).expect("plist")];
        let mut ber = vec![0x30, 0x80, 0x24, 0x80];
        for segment in xml.chunks(1000) {
            ber.push(0x04);
            ber.push(0x82);
            ber.extend_from_slice(&(segment.len() as u16).to_be_bytes());
            ber.extend_from_slice(segment);
        }
        ber.extend_from_slice(&[0, 0, 0, 0]);
        let p = Profile::parse(&ber).expect("parses");
        assert_fastlane_app_store_facts(&p);
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn reads_icyleaf_ad_hoc_profile() {
        let p = load(ICY_ADHOC);
        assert_facts(
            &p,
            &Facts {
                name: "iOS Full AdHoc",
                team_id: ICY_TEAM,
                uuid: "7d02c76e-f937-40e9-bdac-a5a389612352",
                platforms: &["iOS"],
                distribution: Distribution::AdHoc,
                devices: 1,
                created: (2020, Month::July, 21),
                expires: (2020, Month::October, 24),
            },
        );
        assert_eq!(
            p.team_name.as_deref(),
            Some("Niceliving (Beijing) Technology Co., Ltd.")
        );
        assert!(!p.get_task_allow);
        assert_eq!(p.distribution.as_str(), "ad-hoc");
        assert_eq!(p.bundle_id_pattern(), Some("com.icyleaf.appinfo.test"));
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn reads_icyleaf_app_store_profile() {
        let p = load(ICY_APPSTORE);
        assert_facts(
            &p,
            &Facts {
                name: "iOS Full AppStore",
                team_id: ICY_TEAM,
                uuid: "cff15ed3-7c89-4c6d-b6fd-0a9c57675a14",
                platforms: &["iOS"],
                distribution: Distribution::AppStore,
                devices: 0,
                created: (2020, Month::July, 21),
                expires: (2020, Month::October, 24),
            },
        );
        assert!(!p.provisions_all_devices);
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn reads_icyleaf_development_profile() {
        let p = load(ICY_DEVELOPMENT);
        assert_facts(
            &p,
            &Facts {
                name: "iOS Full Development",
                team_id: ICY_TEAM,
                uuid: "9b42a96b-b520-40ef-9748-eee6e7c40f0b",
                platforms: &["iOS"],
                distribution: Distribution::Development,
                devices: 1,
                created: (2020, Month::July, 21),
                expires: (2021, Month::July, 21),
            },
        );
        assert!(p.get_task_allow);
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn classifies_macos_development_profile_without_get_task_allow_as_ad_hoc() {
        let p = load(ICY_MACOS);
        // The rule (device list present, get-task-allow not true) says ad-hoc,
        // although Apple calls this a development profile.
        assert_facts(
            &p,
            &Facts {
                name: "macOS Full development",
                team_id: ICY_TEAM,
                uuid: "6768abe5-58b6-4d6f-8427-b8271e0b2655",
                platforms: &["OSX"],
                distribution: Distribution::AdHoc,
                devices: 1,
                created: (2020, Month::July, 21),
                expires: (2021, Month::July, 21),
            },
        );
        assert!(!p.get_task_allow);
        assert_eq!(
            p.application_identifier.as_deref(),
            Some("WKR87TTKML.com.icyleaf.appinfo.test")
        );
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn certificate_expiry_bounds_effective_expiry() {
        for name in ALL {
            let p = load(name);
            let certs = p
                .certificates_expire
                .unwrap_or_else(|| panic!("{name}: no certificate expiry"));
            let expires = p.expires.expect("ExpirationDate");
            let effective = p.effective_expiry().expect("effective expiry");
            assert!(effective <= expires, "{name}");
            assert_eq!(effective, certs.min(expires), "{name}");
        }
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn certificate_expiring_before_the_profile_sets_effective_expiry() {
        for name in [ICY_DEVELOPMENT, ICY_MACOS] {
            let p = load(name);
            let certs = p.certificates_expire.expect("certificate expiry");
            assert_eq!(certs.date(), day(2021, Month::May, 28), "{name}");
            assert!(certs < p.expires.expect("ExpirationDate"), "{name}");
            assert_eq!(p.effective_expiry(), Some(certs), "{name}");
        }
        let p = load(FASTLANE_BER);
        let certs = p.certificates_expire.expect("certificate expiry");
        assert_eq!(certs.date(), day(2028, Month::April, 4));
        assert_eq!(p.effective_expiry(), p.expires);
    }

    #[test]
    fn effective_expiry_uses_whichever_date_is_known() {
        let mut p = with_app_id("T.x");
        assert_eq!(p.effective_expiry(), None);
        let a = OffsetDateTime::from_unix_timestamp(1_000).expect("ts");
        let b = OffsetDateTime::from_unix_timestamp(2_000).expect("ts");
        p.expires = Some(b);
        assert_eq!(p.effective_expiry(), Some(b));
        p.certificates_expire = Some(a);
        assert_eq!(p.effective_expiry(), Some(a));
        p.expires = None;
        assert_eq!(p.effective_expiry(), Some(a));
    }

    #[test]
    fn matches_exact_bundle_id() {
        let p = with_app_id("ABCDE12345.com.acme.app");
        assert_eq!(p.bundle_id_pattern(), Some("com.acme.app"));
        assert!(p.matches_bundle_id("com.acme.app"));
        assert!(!p.matches_bundle_id("com.acme.app2"));
        assert!(!p.matches_bundle_id("com.acme"));
        assert!(!p.matches_bundle_id("COM.ACME.APP"));
    }

    #[test]
    fn star_matches_every_bundle_id() {
        let p = with_app_id("ABCDE12345.*");
        assert_eq!(p.bundle_id_pattern(), Some("*"));
        assert!(p.matches_bundle_id("com.acme.app"));
        assert!(p.matches_bundle_id("x"));
        assert!(!p.matches_bundle_id(""));
    }

    #[test]
    fn prefix_wildcard_matches_nested_ids_only_under_the_prefix() {
        let p = with_app_id("ABCDE12345.com.acme.*");
        assert!(p.matches_bundle_id("com.acme.x"));
        assert!(p.matches_bundle_id("com.acme.x.y"));
        assert!(!p.matches_bundle_id("com.acme"));
        assert!(!p.matches_bundle_id("com.acmex.y"));
        assert!(!p.matches_bundle_id("org.acme.x"));
    }

    #[test]
    fn missing_or_prefix_only_identifier_matches_nothing() {
        let mut p = with_app_id("ABCDE12345");
        assert_eq!(p.bundle_id_pattern(), None);
        assert!(!p.matches_bundle_id("ABCDE12345"));
        p.application_identifier = None;
        assert!(!p.matches_bundle_id("com.acme.app"));
    }

    #[test]
    fn wildcards_in_the_middle_backtrack() {
        assert!(wildcard_match("com.*.app", "com.acme.tools.app"));
        assert!(!wildcard_match("com.*.app", "com.acme.tools.apps"));
        assert!(wildcard_match("**", "a"));
        assert!(wildcard_match("a*b*c", "aXbYbZc"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*a", "aa"));
        assert!(!wildcard_match("a*a", "a"));
        assert!(!wildcard_match("ab*ba", "aba"));
        assert!(wildcard_match("*.app", "x.app.app"));
        assert!(!wildcard_match("a", "ab"));
        assert!(wildcard_match("*é*", "caféx"));
    }

    #[test]
    fn wildcard_matching_agrees_with_a_plain_recursive_matcher() {
        fn slow(p: &[u8], t: &[u8]) -> bool {
            match p.split_first() {
                None => t.is_empty(),
                Some((b'*', rest)) => (0..=t.len()).any(|i| slow(rest, &t[i..])),
                Some((c, rest)) => t.first() == Some(c) && slow(rest, &t[1..]),
            }
        }
        let alphabet = ["", "a", "b", "*", "ab", "a*", "*b", "**"];
        for p1 in alphabet {
            for p2 in alphabet {
                for p3 in alphabet {
                    let pattern = format!("{p1}{p2}{p3}");
                    for text in ["", "a", "b", "ab", "ba", "aab", "abab", "bba", "abba"] {
                        assert_eq!(
                            wildcard_match(&pattern, text),
                            slow(pattern.as_bytes(), text.as_bytes()),
                            "{pattern} against {text}"
                        );
                    }
                }
            }
        }
    }

    /// A long piece after a star against a long id that almost matches it everywhere: a matcher
    /// that retries the piece at every position takes time of the product of the lengths.
    #[test]
    fn wildcard_matching_takes_linear_time() {
        let pattern = format!("*{}b*a*", "a".repeat(100_000));
        let text = "a".repeat(1_000_000);
        let started = std::time::Instant::now();
        assert!(!wildcard_match(&pattern, &text));
        let p = with_app_id(&format!("T.{pattern}"));
        assert!(!p.matches_bundle_id(&text));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn distribution_serializes_kebab_case() {
        for d in [
            Distribution::Development,
            Distribution::AdHoc,
            Distribution::Enterprise,
            Distribution::AppStore,
        ] {
            let json = serde_json::to_string(&d).expect("serializes");
            assert_eq!(json, format!("\"{}\"", d.as_str()));
        }
    }

    #[test]
    fn garbage_input_is_an_error_not_a_panic() {
        assert!(matches!(
            Profile::parse(b""),
            Err(ProfileError::NoPropertyList)
        ));
        assert!(matches!(
            Profile::parse(&[0x30, 0x80, 0xFF, 0x00, 0x12]),
            Err(ProfileError::NoPropertyList)
        ));
        assert!(matches!(
            Profile::parse(b"<?xml version=\"1.0\"?><plist><dict><key>a</plist>"),
            Err(ProfileError::Malformed(_))
        ));
        assert!(matches!(
            Profile::parse(b"<plist version=\"1.0\"><array/></plist>"),
            Err(ProfileError::Malformed(_))
        ));
        let err = Profile::parse(b"<?xml no end").expect_err("no end");
        assert_eq!(err.to_string(), "no property list found in the profile");
    }

    #[test]
    fn unexpected_key_types_read_as_absent() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
  <key>Name</key><integer>3</integer>
  <key>TeamIdentifier</key><string>NOTANARRAY</string>
  <key>Platform</key><array><integer>1</integer><string>iOS</string></array>
  <key>CreationDate</key><string>yesterday</string>
  <key>ProvisionedDevices</key><string>abc</string>
  <key>ProvisionsAllDevices</key><string>true</string>
  <key>DeveloperCertificates</key><array><data>AAEC</data><string>x</string></array>
  <key>Entitlements</key><dict>
    <key>get-task-allow</key><string>yes</string>
    <key>application-identifier</key><integer>7</integer>
    <key>com.apple.application-identifier</key><string>T.com.x</string>
  </dict>
</dict></plist>"#;
        let p = Profile::parse(xml).expect("parses");
        assert_eq!(p.name, None);
        assert_eq!(p.team_id, None);
        assert_eq!(p.platforms, vec!["iOS"]);
        assert_eq!(p.created, None);
        assert!(!p.has_device_list);
        assert!(p.devices.is_empty());
        assert!(!p.provisions_all_devices);
        assert!(!p.get_task_allow);
        assert_eq!(p.certificates_expire, None);
        assert_eq!(p.application_identifier.as_deref(), Some("T.com.x"));
        assert_eq!(p.distribution, Distribution::AppStore);
    }

    #[test]
    fn enterprise_when_all_devices_are_provisioned() {
        let xml = br#"<plist version="1.0"><dict>
  <key>ProvisionsAllDevices</key><true/>
</dict></plist>"#;
        let p = Profile::parse(xml).expect("parses");
        assert_eq!(p.distribution, Distribution::Enterprise);
        assert_eq!(p.distribution.as_str(), "enterprise");
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn damaged_fixtures_never_panic() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for name in ALL {
            let original = std::fs::read(fixture(name)).expect("fixture");
            for cut in (0..original.len()).step_by(97) {
                let _ = Profile::parse(&original[..cut]);
            }
            for _ in 0..200 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let mut bytes = original.clone();
                let at = (state % bytes.len() as u64) as usize;
                bytes[at] ^= 1 << (state >> 61);
                let _ = Profile::parse(&bytes);
            }
        }
    }
}
