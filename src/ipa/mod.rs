//! Reading an IPA: only the zip's central directory and the few entries relsite needs, each
//! read with a cap, so a multi-gigabyte IPA costs little and a zip bomb costs nothing.

pub mod cgbi;
pub mod icon;
pub mod info_plist;
pub mod plist_reader;
pub mod profile;

use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;

use zip::ZipArchive;
use zip::result::ZipError;

pub use crate::icons::{IconKey, IconStore};
pub use icon::IconSet;

pub use info_plist::InfoPlist;
pub use profile::{Distribution, Profile};
use serde::{Deserialize, Serialize};

/// The largest Info.plist relsite will inflate. Real ones are a few kilobytes.
pub const INFO_PLIST_CAP: u64 = 4 * 1024 * 1024;

/// The largest provisioning profile relsite will inflate. Real ones with 100 devices are ~30 KB.
pub const PROFILE_CAP: u64 = 2 * 1024 * 1024;

/// The most relsite inflates from one IPA, every entry it reads together: an Info.plist, a
/// profile and an icon or two take well under a megabyte. Entries may share compressed data (a
/// zip can list one record under hundreds of names), so each entry read counts in full.
pub const MAX_INFLATED_PER_IPA: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IpaError {
    #[error("cannot open: {0}")]
    Open(#[source] std::io::Error),
    #[error("cannot keep a copy to publish: {0}")]
    Copy(#[source] std::io::Error),
    #[error("not a readable IPA (an IPA is a zip archive): {0}")]
    NotZip(#[source] ZipError),
    #[error("no app Info.plist: an IPA holds Payload/<Name>.app/Info.plist")]
    NoInfoPlist,
    #[error("holds more than one app ({0}): an IPA holds exactly one")]
    ManyApps(String),
    #[error("`{name}` inflates past {cap} bytes: not a plausible {what}")]
    TooLarge {
        name: String,
        cap: u64,
        what: &'static str,
    },
    #[error(
        "reading `{name}` inflates the IPA past {MAX_INFLATED_PER_IPA} bytes in all, the most relsite inflates from one (entries sharing compressed data count each time)"
    )]
    InflatedTooMuch { name: String },
    #[error("cannot read `{name}`: {source}")]
    Entry {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{name}` is not a property list: {source}")]
    Plist {
        name: String,
        #[source]
        source: plist::Error,
    },
    #[error("`{name}` is refused: {limit}")]
    PlistRefused {
        name: String,
        limit: plist_reader::Limit,
    },
    #[error("`{name}` has no CFBundleIdentifier")]
    NoBundleId { name: String },
}

/// An open IPA: the central directory is read, no entry yet.
pub struct IpaArchive {
    zip: ZipArchive<File>,
    /// Entry names that decode as text; others cannot be anything relsite reads.
    names: Vec<String>,
    app_dir: String,
    /// Bytes inflated so far, of every entry read: at most [`MAX_INFLATED_PER_IPA`].
    inflated: u64,
}

impl IpaArchive {
    /// Opens the IPA, which must be a regular file, and finds its app folder,
    /// `Payload/<Name>.app/`.
    pub fn open(path: &Path) -> Result<Self, IpaError> {
        IpaArchive::from_file(crate::fs::open_regular(path).map_err(IpaError::Open)?)
    }

    /// [`IpaArchive::open`] for a file already open.
    fn from_file(file: File) -> Result<Self, IpaError> {
        let zip = ZipArchive::new(file).map_err(IpaError::NotZip)?;
        let names: Vec<String> = zip
            .file_names()
            .filter_map(Result::ok)
            .map(|n| n.into_owned())
            .collect();
        let app_dir = find_app_dir(names.iter().map(String::as_str))?;
        Ok(IpaArchive {
            zip,
            names,
            app_dir,
            inflated: 0,
        })
    }

    /// Every entry name in the archive.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Inflates one entry, refusing to produce more than `cap` bytes whatever its header says,
    /// or more than is left of [`MAX_INFLATED_PER_IPA`].
    pub fn read_capped(
        &mut self,
        name: &str,
        cap: u64,
        what: &'static str,
    ) -> Result<Vec<u8>, IpaError> {
        self.inflate(name, cap, Some(what)).map(|(bytes, _)| bytes)
    }

    /// Inflates at most the first `len` bytes of an entry, and tells the size its header
    /// declares; within [`MAX_INFLATED_PER_IPA`] as every read is.
    fn read_head(&mut self, name: &str, len: u64) -> Result<(Vec<u8>, u64), IpaError> {
        self.inflate(name, len, None)
    }

    /// Inflates up to `cap` bytes of an entry: the whole entry when `what` names it (more is an
    /// error), else its first `cap` bytes. Returns them and the entry's declared size.
    fn inflate(
        &mut self,
        name: &str,
        cap: u64,
        what: Option<&'static str>,
    ) -> Result<(Vec<u8>, u64), IpaError> {
        let entry_error = |source| IpaError::Entry {
            name: name.to_string(),
            source,
        };
        let too_large = |what| IpaError::TooLarge {
            name: name.to_string(),
            cap,
            what,
        };
        let too_much = || IpaError::InflatedTooMuch {
            name: name.to_string(),
        };
        let left = MAX_INFLATED_PER_IPA.saturating_sub(self.inflated);
        let entry = self
            .zip
            .by_name(name)
            .map_err(|e| entry_error(std::io::Error::other(e)))?;
        let declared = entry.size();
        let wanted = match what {
            Some(what) if declared > cap => return Err(too_large(what)),
            Some(_) => declared,
            None => declared.min(cap),
        };
        if wanted > left {
            return Err(too_much());
        }
        // One byte past what may be read shows that there was more.
        let limit = if what.is_some() {
            cap.min(left) + 1
        } else {
            cap.min(left + 1)
        };
        let mut bytes = Vec::with_capacity(wanted as usize);
        entry
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(entry_error)?;
        let read = bytes.len() as u64;
        self.inflated = self.inflated.saturating_add(read);
        match what {
            Some(what) if read > cap => Err(too_large(what)),
            _ if read > left => Err(too_much()),
            _ => Ok((bytes, declared)),
        }
    }

    /// When the app's Info.plist was written, from its zip entry: a date that travels with the
    /// IPA (unlike the file's modification time), for builds whose notes give none.
    pub fn built_at(&mut self) -> Option<time::OffsetDateTime> {
        let name = format!("{}Info.plist", self.app_dir);
        let at = self.zip.by_name(&name).ok()?.last_modified()?;
        let month = time::Month::try_from(at.month()).ok()?;
        let date = time::Date::from_calendar_date(i32::from(at.year()), month, at.day()).ok()?;
        let clock = time::Time::from_hms(at.hour(), at.minute(), at.second()).ok()?;
        Some(time::PrimitiveDateTime::new(date, clock).assume_utc())
    }

    /// Reads and parses the app's own Info.plist.
    pub fn info_plist(&mut self) -> Result<InfoPlist, IpaError> {
        let name = format!("{}Info.plist", self.app_dir);
        let bytes = self.read_capped(&name, INFO_PLIST_CAP, "Info.plist")?;
        InfoPlist::parse(&bytes).map_err(|err| match err {
            info_plist::InfoPlistError::Plist(plist_reader::PlistError::Malformed(source)) => {
                IpaError::Plist { name, source }
            }
            info_plist::InfoPlistError::Plist(plist_reader::PlistError::Refused(limit)) => {
                IpaError::PlistRefused { name, limit }
            }
            info_plist::InfoPlistError::NoBundleId => IpaError::NoBundleId { name },
        })
    }
}

/// The one `Payload/<Name>.app/` folder that has an Info.plist directly inside it. Extensions,
/// frameworks and watch apps sit deeper and never match; AppleDouble `._*` entries never do.
fn find_app_dir<'a>(names: impl Iterator<Item = &'a str>) -> Result<String, IpaError> {
    let mut found: Vec<&str> = names
        .filter_map(|n| {
            let rest = n.strip_prefix("Payload/")?;
            let app = rest.strip_suffix("/Info.plist")?;
            (app.ends_with(".app") && !app.contains('/') && !app.starts_with("._"))
                .then_some(&n[..n.len() - "Info.plist".len()])
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    match found.as_slice() {
        [] => Err(IpaError::NoInfoPlist),
        [one] => Ok((*one).to_string()),
        many => Err(IpaError::ManyApps(many.join(", "))),
    }
}

/// The app's provisioning profile, as found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum ProfileStatus {
    /// No `embedded.mobileprovision`: an unsigned or simulator build.
    Missing,
    /// Present but not readable, with the reason.
    Unreadable { why: String },
    Found {
        /// Shared by the builds signed with equal profiles (see [`SharedProfiles::share`]).
        profile: std::sync::Arc<Profile>,
    },
}

/// Equal profiles read from many IPAs, held once: an app's builds are mostly signed with one.
#[derive(Debug, Default)]
pub struct SharedProfiles(std::sync::Mutex<std::collections::HashSet<std::sync::Arc<Profile>>>);

impl SharedProfiles {
    /// Makes the profile of `status`, when found, the one equal to it already held.
    pub fn share(&self, status: &mut ProfileStatus) {
        let ProfileStatus::Found { profile } = status else {
            return;
        };
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match held.get(&**profile) {
            Some(same) => *profile = std::sync::Arc::clone(same),
            None => {
                held.insert(std::sync::Arc::clone(profile));
            }
        }
    }
}

impl ProfileStatus {
    pub fn profile(&self) -> Option<&Profile> {
        match self {
            ProfileStatus::Found { profile } => Some(profile),
            _ => None,
        }
    }
}

/// The app's icon, as found in the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum BundleIcon {
    /// No loose icon PNG: the icon lives only in Assets.car, or there is none.
    Missing,
    /// A loose icon that could not be decoded, with the reason.
    Unreadable { why: String },
    /// The named entry, rendered into the icon store under `key`.
    Found {
        entry: String,
        was_cgbi: bool,
        key: IconKey,
    },
}

/// What relsite knows of an IPA after reading it: plain facts, no open archive. Reading an IPA
/// is the costly step of a build, and everything later stages need from the IPA is here, so this
/// one value is what a cache keeps and what a published catalog carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpaFacts {
    pub plist: InfoPlist,
    pub profile: ProfileStatus,
    pub icon: BundleIcon,
    /// Size of the IPA file in bytes.
    pub size: u64,
    /// SHA-256 of the IPA file, lowercase hex.
    pub sha256: String,
    /// When the Info.plist was written, by its zip entry.
    #[serde(with = "time::serde::timestamp::option")]
    pub built_at: Option<time::OffsetDateTime>,
}

/// Reads what the site needs from the IPA at `path`: the central directory, the app's
/// Info.plist, its provisioning profile and icon (rendered into `icons` unless it is there
/// already), and a streamed SHA-256 of the file.
pub fn read(path: &Path, icons: &IconStore) -> Result<IpaFacts, IpaError> {
    read_file(
        crate::fs::open_regular(path).map_err(IpaError::Open)?,
        icons,
        None,
    )
}

/// [`read`] of a file already open, writing its bytes to `copy` as they are hashed, so a copy
/// costs no second read. Everything comes from the one open file, so facts, hash and copy are
/// of the same bytes even when the path is given another file meanwhile.
pub fn read_file(
    file: File,
    icons: &IconStore,
    copy: Option<&mut dyn std::io::Write>,
) -> Result<IpaFacts, IpaError> {
    read_file_then(file, icons, |_| Ok(copy))
}

/// [`read_file`], asking `before_hash` where to copy the bytes as they are hashed once
/// everything else is read: an IPA that is not one is refused before any of it is copied.
pub fn read_file_then<'w>(
    mut file: File,
    icons: &IconStore,
    before_hash: impl FnOnce(&File) -> Result<Option<&'w mut dyn std::io::Write>, IpaError>,
) -> Result<IpaFacts, IpaError> {
    let mut archive = IpaArchive::from_file(file.try_clone().map_err(IpaError::Open)?)?;
    let plist = archive.info_plist()?;
    let profile = archive.profile()?;
    let icon = archive.icon(&plist.icon_names, icons)?;
    let built_at = archive.built_at();
    let copy = before_hash(&file)?;
    file.seek(std::io::SeekFrom::Start(0))
        .map_err(IpaError::Open)?;
    let (size, sha256) = hash_file(&mut file, copy)?;
    Ok(IpaFacts {
        plist,
        profile,
        icon,
        size,
        sha256,
        built_at,
    })
}

/// Size and SHA-256 of a file, read in blocks: memory stays flat whatever the size.
fn hash_file(
    file: &mut File,
    mut copy: Option<&mut dyn std::io::Write>,
) -> Result<(u64, String), IpaError> {
    use sha2::{Digest, Sha256};
    // One buffer per thread for the whole run: a buffer per IPA, freed and taken again, leaves
    // the allocator holding memory that grows with the number of IPAs.
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 256 * 1024]);
    }
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    BUFFER.with_borrow_mut(|buf| -> Result<(), IpaError> {
        loop {
            let n = file.read(buf).map_err(IpaError::Open)?;
            if n == 0 {
                return Ok(());
            }
            hasher.update(&buf[..n]);
            if let Some(copy) = copy.as_mut() {
                copy.write_all(&buf[..n]).map_err(IpaError::Copy)?;
            }
            size += n as u64;
        }
    })?;
    if let Some(copy) = copy.as_mut() {
        copy.flush().map_err(IpaError::Copy)?;
    }
    Ok((size, crate::text::hex(&hasher.finalize())))
}

impl IpaArchive {
    /// Reads `embedded.mobileprovision` of the app itself (never an extension's). A profile
    /// that cannot be read is a fact of the build; only an IPA that inflates past
    /// [`MAX_INFLATED_PER_IPA`] is an error.
    pub fn profile(&mut self) -> Result<ProfileStatus, IpaError> {
        let name = format!("{}embedded.mobileprovision", self.app_dir);
        if !self.names.contains(&name) {
            return Ok(ProfileStatus::Missing);
        }
        Ok(
            match self.read_capped(&name, PROFILE_CAP, "provisioning profile") {
                Ok(bytes) => match Profile::parse(&bytes) {
                    Ok(profile) => ProfileStatus::Found {
                        profile: std::sync::Arc::new(profile),
                    },
                    Err(e) => ProfileStatus::Unreadable { why: e.to_string() },
                },
                Err(e @ IpaError::InflatedTooMuch { .. }) => return Err(e),
                Err(e) => ProfileStatus::Unreadable { why: e.to_string() },
            },
        )
    }

    /// Finds the largest loose icon named by the Info.plist and renders it into `store`; when
    /// the largest cannot be decoded, the next largest is tried, up to
    /// [`icon::MAX_ICON_DECODES`] of them. Candidates are ranked by the size their headers
    /// declare, so only the ones tried are inflated whole, one at a time. An icon that cannot
    /// be read is a fact of the build; only an IPA that inflates past
    /// [`MAX_INFLATED_PER_IPA`] is an error.
    pub fn icon(&mut self, names: &[String], store: &IconStore) -> Result<BundleIcon, IpaError> {
        let candidates = icon::candidates(self.names(), &self.app_dir, names);
        let mut ranked: Vec<((u64, u64), String)> = Vec::new();
        let mut last_error = None;
        for entry in candidates {
            match self.read_head(&entry, icon::HEADER_LEN) {
                Ok((head, size)) => match icon::dimensions(&head) {
                    Some((w, h)) => ranked.push(((u64::from(w) * u64::from(h), size), entry)),
                    None => last_error = Some(format!("`{entry}` is not a PNG")),
                },
                Err(e @ IpaError::InflatedTooMuch { .. }) => return Err(e),
                Err(e) => last_error = Some(e.to_string()),
            }
        }
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (_, entry) in ranked.into_iter().take(icon::MAX_ICON_DECODES) {
            let bytes = match self.read_capped(&entry, icon::ICON_CAP, "icon") {
                Ok(bytes) => bytes,
                Err(e @ IpaError::InflatedTooMuch { .. }) => return Err(e),
                Err(e) => {
                    last_error = Some(e.to_string());
                    continue;
                }
            };
            let key = crate::icons::key_of(&bytes);
            match store.get_or_render(&key, || IconSet::from_png(&bytes)) {
                Ok(_) => {
                    return Ok(BundleIcon::Found {
                        was_cgbi: cgbi::is_cgbi(&bytes),
                        entry,
                        key,
                    });
                }
                Err(e) => last_error = Some(format!("`{entry}`: {e}")),
            }
        }
        Ok(last_error.map_or(BundleIcon::Missing, |why| BundleIcon::Unreadable { why }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An open IPA of an app folder holding `entries`.
    fn archive(entries: &[(&str, &[u8])]) -> IpaArchive {
        use std::io::Write;
        let mut file = tempfile::tempfile().unwrap();
        let mut zip = zip::ZipWriter::new(&mut file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("Payload/A.app/Info.plist", options).unwrap();
        zip.write_all(b"<plist/>").unwrap();
        for (name, bytes) in entries {
            zip.start_file(format!("Payload/A.app/{name}"), options)
                .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        IpaArchive::from_file(file).unwrap()
    }

    #[test]
    fn every_read_counts_against_what_one_ipa_may_inflate() {
        let six_mib = vec![0; 6 << 20];
        let mut ipa = archive(&[("big", &six_mib), ("small", b"tiny")]);
        let name = "Payload/A.app/big";
        // The same entry read again counts again, as entries sharing one record do.
        assert_eq!(ipa.read_capped(name, 8 << 20, "x").unwrap().len(), 6 << 20);
        assert_eq!(ipa.read_capped(name, 8 << 20, "x").unwrap().len(), 6 << 20);
        let err = ipa.read_capped(name, 8 << 20, "x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "reading `Payload/A.app/big` inflates the IPA past 16777216 bytes in all, the most relsite inflates from one (entries sharing compressed data count each time)"
        );
        // What is left can still be read, a head included.
        assert_eq!(ipa.read_head(name, 100).unwrap().0, vec![0; 100]);
        assert_eq!(
            ipa.read_capped("Payload/A.app/small", 10, "x").unwrap(),
            b"tiny"
        );
        assert_eq!(ipa.inflated, (12 << 20) + 104);
    }

    /// A file of `len` bytes that ranks as a `px` x `px` PNG by its header, but does not decode.
    fn undecodable_png(px: u32, len: usize) -> Vec<u8> {
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&px.to_be_bytes());
        ihdr.extend_from_slice(&px.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0d".to_vec();
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32fast::hash(&ihdr).to_be_bytes());
        png.resize(len, 0);
        png
    }

    #[test]
    fn icons_are_ranked_by_their_headers_and_at_most_four_inflated_whole() {
        let pngs: Vec<(String, Vec<u8>)> = (1..=10)
            .map(|i| {
                (
                    format!("AppIcon{i}x{i}.png"),
                    undecodable_png(i * 10, 10_000),
                )
            })
            .collect();
        let entries: Vec<(&str, &[u8])> = pngs
            .iter()
            .map(|(name, png)| (name.as_str(), png.as_slice()))
            .collect();
        let mut ipa = archive(&entries);
        let icon = ipa
            .icon(&["AppIcon".to_string()], &IconStore::in_memory())
            .unwrap();
        let BundleIcon::Unreadable { why } = icon else {
            panic!("{icon:?}")
        };
        // The largest four were tried, the 100, 90, 80 and 70 pixel ones, in that order.
        assert!(why.starts_with("`Payload/A.app/AppIcon7x7.png`:"), "{why}");
        let heads = 10 * icon::HEADER_LEN;
        assert_eq!(ipa.inflated, heads + 4 * 10_000);
    }

    #[test]
    fn an_entry_larger_than_what_is_left_is_not_inflated() {
        let six_mib = vec![0; 6 << 20];
        let mut ipa = archive(&[("big", &six_mib)]);
        ipa.inflated = MAX_INFLATED_PER_IPA - (1 << 20);
        assert!(matches!(
            ipa.read_capped("Payload/A.app/big", 8 << 20, "x"),
            Err(IpaError::InflatedTooMuch { .. })
        ));
        assert!(matches!(
            ipa.read_head("Payload/A.app/big", 2 << 20),
            Err(IpaError::InflatedTooMuch { .. })
        ));
        assert!(matches!(
            ipa.read_capped("Payload/A.app/big", 1 << 20, "x"),
            Err(IpaError::TooLarge { .. })
        ));
        assert_eq!(
            ipa.inflated,
            MAX_INFLATED_PER_IPA - (1 << 20),
            "nothing was read"
        );
    }

    fn app_dir(names: &[&str]) -> Result<String, String> {
        find_app_dir(names.iter().copied()).map_err(|e| e.to_string())
    }

    #[test]
    fn finds_the_app_info_plist_only() {
        assert_eq!(
            app_dir(&[
                "Payload/",
                "Payload/Field.app/PlugIns/Share.appex/Info.plist",
                "Payload/Field.app/Frameworks/X.framework/Info.plist",
                "Payload/Field.app/Watch/W.app/Info.plist",
                "__MACOSX/Payload/Field.app/._Info.plist",
                "Payload/Field.app/Info.plist",
            ])
            .unwrap(),
            "Payload/Field.app/"
        );
    }

    #[test]
    fn app_folder_may_contain_spaces() {
        assert_eq!(
            app_dir(&["Payload/very capable app.app/Info.plist"]).unwrap(),
            "Payload/very capable app.app/"
        );
    }

    #[test]
    fn errors_without_an_app_info_plist() {
        let err = app_dir(&[
            "Payload/Field.app/PlugIns/Share.appex/Info.plist",
            "Info.plist",
        ])
        .unwrap_err();
        assert!(err.starts_with("no app Info.plist"), "{err}");
    }

    #[test]
    fn errors_on_two_apps() {
        let err = app_dir(&["Payload/A.app/Info.plist", "Payload/B.app/Info.plist"]).unwrap_err();
        assert!(err.contains("more than one app"), "{err}");
    }
}
