//! Releases from plain values, and the model run on them at a fixed time, for unit tests of the
//! model and of the stages after it. Nothing here reads a file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::catalog::{Catalog, ModelOptions, ReadRelease};
use crate::config::Config;
use crate::diag::{Diagnostic, Severity};
use crate::icons::IconStore;
use crate::ipa::cgbi::Rgba;
use crate::ipa::{BundleIcon, Distribution, IconSet, InfoPlist, IpaFacts, Profile, ProfileStatus};
use crate::layout::ReservedNames;
use crate::notes::Notes;
use crate::render::{BUILTIN_ORIGIN, BUILTIN_STATIC};
use crate::scan::ReleaseSource;

/// The time every test model is made at.
pub const NOW: OffsetDateTime = datetime!(2024-06-01 12:00 UTC);

/// The smallest useful configuration: a title and a base URL with a path.
pub const CONFIG: &str = "title: Builds\nbase_url: https://e.com/builds/\n";

/// How a release is signed.
#[derive(Debug, Clone, Copy)]
pub enum Signed {
    /// No embedded.mobileprovision.
    Unsigned,
    /// An ad-hoc profile expiring at the given time.
    AdHoc(OffsetDateTime),
    AppStore,
    /// An enterprise profile that does not expire.
    Enterprise,
}

/// A release being described; [`Release::read`] makes the [`ReadRelease`].
#[derive(Debug, Clone)]
pub struct Release {
    ipa: PathBuf,
    notes: String,
    plist: InfoPlist,
    signed: Signed,
    app_id: Option<String>,
    built_at: Option<OffsetDateTime>,
    published: bool,
}

/// A release of `bundle_id` with CFBundleShortVersionString `version` and CFBundleVersion
/// `build`, at `releases/<bundle_id>-<version>-<build>.ipa`, signed ad hoc for a year, with
/// no notes and a tiny icon of its own.
pub fn release(bundle_id: &str, version: &str, build: &str) -> Release {
    Release {
        ipa: PathBuf::from(format!("releases/{bundle_id}-{version}-{build}.ipa")),
        notes: String::new(),
        plist: InfoPlist {
            bundle_id: bundle_id.to_string(),
            short_version: Some(version.to_string()),
            build: Some(build.to_string()),
            display_name: None,
            minimum_os: Some("15.0".to_string()),
            device_families: vec![1, 2],
            platforms: vec!["iPhoneOS".to_string()],
            icon_names: vec![],
        },
        signed: Signed::AdHoc(NOW + Duration::days(365)),
        app_id: None,
        built_at: None,
        published: false,
    }
}

impl Release {
    /// The notes file's YAML text (`channel`, `date`, `draft`, `title`, `notes`, `version`).
    pub fn notes(mut self, yaml: &str) -> Self {
        self.notes = yaml.to_string();
        self
    }

    /// When the IPA's Info.plist was written, by its zip entry.
    pub fn built_at(mut self, at: OffsetDateTime) -> Self {
        self.built_at = Some(at);
        self
    }

    pub fn ipa(mut self, path: &str) -> Self {
        self.ipa = PathBuf::from(path);
        self
    }

    pub fn signed(mut self, signed: Signed) -> Self {
        self.signed = signed;
        self
    }

    /// The profile's application identifier, `TEAM.<bundle id>` unless given.
    pub fn app_id(mut self, app_id: &str) -> Self {
        self.app_id = Some(app_id.to_string());
        self
    }

    pub fn display_name(mut self, name: &str) -> Self {
        self.plist.display_name = Some(name.to_string());
        self
    }

    pub fn platforms(mut self, platforms: &[&str]) -> Self {
        self.plist.platforms = platforms.iter().map(|p| p.to_string()).collect();
        self
    }

    /// An IPA without CFBundleShortVersionString.
    pub fn without_short_version(mut self) -> Self {
        self.plist.short_version = None;
        self
    }

    pub fn read(self) -> ReadRelease {
        let notes_file = self.ipa.with_extension("yaml");
        let mut notes = Notes::parse(&self.notes, &notes_file)
            .unwrap_or_else(|d| panic!("test notes do not parse: {d}"));
        let app_id = self
            .app_id
            .unwrap_or_else(|| format!("TEAM.{}", self.plist.bundle_id));
        let profile = match self.signed {
            Signed::Unsigned => ProfileStatus::Missing,
            Signed::AdHoc(expires) => found(profile(Distribution::AdHoc, app_id, Some(expires))),
            Signed::AppStore => found(profile(Distribution::AppStore, app_id, None)),
            Signed::Enterprise => found(profile(Distribution::Enterprise, app_id, None)),
        };
        // Distinct per file, like the real ones.
        let digest = Sha256::digest(self.ipa.as_os_str().as_encoded_bytes());
        let size = u64::from(u16::from_be_bytes([digest[0], digest[1]])) + 1000;
        let facts = IpaFacts {
            plist: self.plist,
            profile,
            icon: BundleIcon::Found {
                entry: "Payload/App.app/AppIcon60x60@2x.png".to_string(),
                was_cgbi: false,
                key: TINY_ICON.to_string(),
            },
            size,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            built_at: self.built_at,
        };
        let spill = crate::spill::Spill::in_memory();
        let entry = spill.keep(crate::published::entry(&self.ipa, &facts, &notes, false));
        ReadRelease {
            rendered: crate::catalog::render_notes(&spill, &mut notes),
            facts: Box::new(facts),
            source: ReleaseSource {
                ipa: self.ipa,
                notes: (!self.notes.is_empty()).then_some(notes_file),
            },
            notes,
            entry,
            published: self.published,
            published_icons: None,
        }
    }

    /// A build published before, not at hand.
    pub fn published(mut self) -> Self {
        self.published = true;
        self
    }
}

fn found(profile: Profile) -> ProfileStatus {
    ProfileStatus::Found {
        profile: std::sync::Arc::new(profile),
    }
}

/// A profile of `distribution` for `app_id` (with its team prefix).
pub fn profile(
    distribution: Distribution,
    app_id: String,
    expires: Option<OffsetDateTime>,
) -> Profile {
    Profile {
        name: Some(format!("{} profile", distribution.as_str())),
        team_name: Some("Team".to_string()),
        team_id: Some("TEAM".to_string()),
        uuid: None,
        app_id_name: None,
        platforms: vec!["iOS".to_string()],
        created: None,
        expires,
        certificates_expire: None,
        devices: vec![],
        has_device_list: distribution == Distribution::AdHoc,
        provisions_all_devices: distribution == Distribution::Enterprise,
        get_task_allow: false,
        application_identifier: Some(app_id),
        distribution,
    }
}

/// The icons of a 1×1 pixel, made once.
/// The key of the icon every test release carries.
const TINY_ICON: &str = "tiny";

/// A store holding the test releases' icon, a 1×1 image rendered once.
pub fn icon_store() -> &'static IconStore {
    static STORE: OnceLock<IconStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = IconStore::in_memory();
        let pixel = Rgba {
            width: 1,
            height: 1,
            pixels: vec![0x20, 0x60, 0xa0, 0xff],
        };
        store
            .get_or_render(TINY_ICON, || IconSet::from_image(&pixel))
            .expect("a 1×1 icon resizes");
        store
    })
}

/// A configuration: [`CONFIG`] followed by `extra` YAML.
pub fn config(extra: &str) -> Config {
    Config::parse(&format!("{CONFIG}{extra}"), Path::new("relsite.yaml"))
        .unwrap_or_else(|ds| panic!("test config does not parse: {ds:?}"))
}

/// The model of `releases` under [`CONFIG`], at [`NOW`], without drafts.
pub fn modelled(releases: Vec<Release>) -> (Arc<Catalog>, Vec<Diagnostic>) {
    modelled_with(&config(""), false, releases)
}

/// The model of `releases` under `config`, at [`NOW`], on the config's base URL.
pub fn modelled_with(
    config: &Config,
    drafts: bool,
    releases: Vec<Release>,
) -> (Arc<Catalog>, Vec<Diagnostic>) {
    modelled_secret(config, drafts, None, releases)
}

/// The secret of tests' private catalogs.
pub fn test_secret() -> crate::secret::SiteSecret {
    crate::secret::SiteSecret::new(TEST_SECRET, "the test secret").unwrap()
}

/// The text of [`test_secret`].
pub const TEST_SECRET: &str = "0123456789abcdef0123456789abcdef";

/// As [`modelled_with`], with the site secret `secret`.
pub fn modelled_secret(
    config: &Config,
    drafts: bool,
    secret: Option<&crate::secret::SiteSecret>,
    releases: Vec<Release>,
) -> (Arc<Catalog>, Vec<Diagnostic>) {
    let options = ModelOptions {
        base_url: config.base_url.as_url(),
        drafts,
        now: NOW,
        configured_icons: &BTreeMap::<String, Arc<IconSet>>::new(),
        icons: icon_store(),
        reserved: &builtin_reserved_names(),
        secret,
    };
    let releases = releases.into_iter().map(Release::read).collect();
    let (catalog, problems) = crate::catalog::model(config, releases, &options);
    (Arc::new(catalog), problems)
}

/// The names the built-in theme and relsite keep for themselves.
pub fn builtin_reserved_names() -> ReservedNames {
    ReservedNames::new(
        BUILTIN_STATIC
            .iter()
            .map(|(path, _)| (*path, BUILTIN_ORIGIN.to_string())),
    )
}

/// The problems of one severity, as shown to users (`file: severity: message`).
pub fn shown(problems: &[Diagnostic], severity: Severity) -> Vec<String> {
    problems
        .iter()
        .filter(|d| d.severity == severity)
        .map(ToString::to_string)
        .collect()
}
