//! The published catalog index, `catalog.json` at the output root: every build's read facts and
//! notes and the files published for it once and kept (its IPA and icons). It is the catalog's
//! state where it is published: a build started from it (`--from-published`) keeps every build
//! published before, though the IPAs are not at hand. Its shape is `schemas/catalog.schema.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diag::Diagnostic;
use crate::ipa::{IpaFacts, ProfileStatus};
use crate::notes::Notes;

/// The index's file name at the output root.
pub const INDEX_FILE: &str = "catalog.json";

/// Changes whenever the index changes meaning; an index of a later format is refused.
pub const FORMAT: u32 = 1;

/// The largest index relsite reads: about 40,000 builds.
pub const MAX_INDEX_BYTES: u64 = 128 << 20;

/// What the index says of one build, but its files.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    /// The release's IPA, below the site that published it.
    release: String,
    facts: &'a IpaFacts,
    notes: &'a Notes,
}

/// The index entry of a release, as JSON: its facts (provisioned device UDIDs left out unless
/// `show_devices`, their number kept) and notes.
pub fn entry(release: &Path, facts: &IpaFacts, notes: &Notes, show_devices: bool) -> String {
    let redacted;
    let facts = match &facts.profile {
        ProfileStatus::Found { profile } if !show_devices && !profile.devices.is_empty() => {
            let mut hidden = facts.clone();
            if let ProfileStatus::Found { profile } = &mut hidden.profile {
                let profile = std::sync::Arc::make_mut(profile);
                profile.devices = vec![String::new(); profile.devices.len()];
            }
            redacted = hidden;
            &redacted
        }
        _ => facts,
    };
    let entry = Entry {
        release: crate::diag::display_path(release),
        facts,
        notes,
    };
    let mut out = Vec::new();
    let mut json = serde_json::Serializer::with_formatter(&mut out, AsciiOnly);
    if entry.serialize(&mut json).is_err() {
        return "{}".into();
    }
    String::from_utf8(out).unwrap_or_else(|_| "{}".to_string())
}

/// JSON with every character beyond ASCII escaped (`\u202e`): the index keeps what a build's
/// files say exactly, and a reader of the raw file still sees no control or direction mark.
struct AsciiOnly;

impl serde_json::ser::Formatter for AsciiOnly {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut units = [0u16; 2];
        for c in fragment.chars() {
            if c.is_ascii() {
                writer.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// The index: entries made by [`entry`], each with the paths of its kept files, written as
/// they come.
pub fn write_index<E: AsRef<str>>(
    out: &mut dyn std::io::Write,
    builds: impl Iterator<Item = std::io::Result<(E, Vec<String>)>>,
) -> std::io::Result<()> {
    write!(
        out,
        "{{\"relsite\":\"{}\",\"format\":{FORMAT},\"builds\":[",
        env!("CARGO_PKG_VERSION")
    )?;
    for (i, build) in builds.enumerate() {
        let (entry, files) = build?;
        let entry = entry.as_ref();
        if i > 0 {
            out.write_all(b",\n")?;
        } else {
            out.write_all(b"\n")?;
        }
        out.write_all(b"{\"files\":")?;
        serde_json::to_writer(&mut *out, &files)?;
        match entry.strip_prefix('{') {
            Some(rest) if rest != "}" => {
                out.write_all(b",")?;
                out.write_all(rest.as_bytes())?;
            }
            _ => out.write_all(b"}")?,
        }
    }
    out.write_all(b"\n]}\n")
}

/// A build of a published index.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedBuild {
    pub release: PathBuf,
    pub facts: IpaFacts,
    pub notes: Notes,
    /// Its kept files, by path below the output root.
    pub files: Vec<String>,
    /// Its icons as published, by size, when they were fetched to be written again.
    #[serde(skip)]
    pub icons: Vec<(u32, Vec<u8>)>,
}

#[derive(Debug, Deserialize)]
struct Index {
    builds: Vec<PublishedBuild>,
}

/// Reads an index's bytes; `from` names where it was read, in errors.
pub fn parse(bytes: &[u8], from: &str) -> Result<Vec<PublishedBuild>, Diagnostic> {
    let fail = |why: String| Diagnostic::error(PathBuf::from(from), why);
    #[derive(Deserialize)]
    struct Version {
        relsite: String,
        format: u32,
    }
    if let Ok(v) = serde_json::from_slice::<Version>(bytes)
        && v.format != FORMAT
    {
        return Err(fail(format!(
            "the published catalog was written by relsite {} (format {}); this relsite reads format {FORMAT}{}",
            v.relsite,
            v.format,
            if v.format > FORMAT {
                ": update relsite"
            } else {
                ""
            }
        )));
    }
    let index: Index = serde_json::from_slice(bytes)
        .map_err(|e| fail(format!("the published catalog cannot be read: {e}")))?;
    let mut builds = Vec::with_capacity(index.builds.len());
    for mut build in index.builds {
        let notes = std::mem::take(&mut build.notes);
        build.notes = Notes::from_published(notes, &build.release).map_err(|d| {
            fail(format!(
                "the published catalog's notes of {}: {}",
                build.release.display(),
                d.message
            ))
        })?;
        if build.files.iter().any(|f| !is_plain_path(f)) {
            return Err(fail(format!(
                "the published catalog names a file outside the site for {}",
                build.release.display()
            )));
        }
        builds.push(build);
    }
    Ok(builds)
}

/// Each build of the index at `file`: its bundle identifier, the SHA-256 of its IPA and its
/// kept files.
pub fn builds_files(file: &Path) -> Result<Vec<(String, String, Vec<String>)>, String> {
    #[derive(Deserialize)]
    struct Plist {
        bundle_id: String,
    }
    #[derive(Deserialize)]
    struct Facts {
        plist: Plist,
        sha256: String,
    }
    #[derive(Deserialize)]
    struct Build {
        files: Vec<String>,
        facts: Facts,
    }
    #[derive(Deserialize)]
    struct Builds {
        builds: Vec<Build>,
    }
    let bytes = crate::fs::read_capped(file, MAX_INDEX_BYTES, "a catalog index")
        .map_err(|e| e.to_string())?;
    let index: Builds = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    Ok(index
        .builds
        .into_iter()
        .map(|b| (b.facts.plist.bundle_id, b.facts.sha256, b.files))
        .collect())
}

/// The catalog published at `base` (over HTTPS, or HTTP on this machine for a preview), its
/// index at `index` below it, with each build's icons fetched from where they are published;
/// none when there is no catalog yet (an answer of 404).
pub fn fetch(base: &url::Url, index: &str) -> Result<Vec<PublishedBuild>, Diagnostic> {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .new_agent();
    let get = |path: &str, limit: u64| -> Result<Option<Vec<u8>>, Diagnostic> {
        let url = base
            .join(path)
            .map_err(|e| Diagnostic::error(PathBuf::from(base.as_str()), e.to_string()))?;
        let shown = crate::layout::redacted(url.as_str());
        let fail = |why: String| Diagnostic::error(PathBuf::from(&shown), why);
        let mut response = agent
            .get(url.as_str())
            .call()
            .map_err(|e| fail(format!("cannot be fetched: {e}")))?;
        match response.status().as_u16() {
            200 => response
                .body_mut()
                .with_config()
                .limit(limit)
                .read_to_vec()
                .map(Some)
                .map_err(|e| fail(format!("cannot be read: {e}"))),
            404 => Ok(None),
            401 | 403 => Err(fail(format!(
                "answers {}: the catalog index of a private site is behind its login; `relsite deploy --from-published` reads it from the deploy target instead",
                response.status().as_u16()
            ))),
            status => Err(fail(format!("answers {status}"))),
        }
    };
    // A secret index not found may be where it was before the site had a secret. With no
    // index found, a catalog page relsite made means the index moved (the secret changed or
    // went): starting empty would drop every published build.
    let mut found = None;
    for at in [index, INDEX_FILE] {
        if found.is_none() && (at == index || index != INDEX_FILE) {
            found = get(at, MAX_INDEX_BYTES)?.map(|bytes| (at, bytes));
        }
    }
    let Some((index, bytes)) = found else {
        let page = get("", MAX_INDEX_BYTES)?.unwrap_or_default();
        if is_relsite_page(&page) {
            return Err(Diagnostic::error(
                PathBuf::from(crate::layout::redacted(base.as_str())),
                format!(
                    "serves a catalog relsite made, but no catalog index at {index}: the site secret changed, or the site got or lost one, so the index and secret paths moved, and a runner cannot move the files of builds it does not hold; build once from a folder that holds every build, and upload each IPA at its new path"
                ),
            ));
        }
        return Ok(Vec::new());
    };
    let from = base.join(index).map_or_else(
        |_| base.to_string(),
        |u| crate::layout::redacted(u.as_str()),
    );
    let mut builds = parse(&bytes, &from)?;
    for build in &mut builds {
        for file in &build.files {
            let Some(px) = crate::layout::ICON_SIZES
                .iter()
                .copied()
                .find(|&px| file.ends_with(&format!("/{}", crate::layout::icon_file(px))))
            else {
                continue;
            };
            let bytes = get(file, crate::ipa::icon::ICON_CAP)?.ok_or_else(|| {
                Diagnostic::error(
                    PathBuf::from(crate::layout::redacted(
                        &base.join(file).map_or_else(|_| file.clone(), String::from),
                    )),
                    "is listed in the published catalog but not found (404)",
                )
            })?;
            if !crate::ipa::icon::is_intact_png(&bytes, px) {
                return Err(Diagnostic::error(
                    PathBuf::from(crate::layout::redacted(
                        &base.join(file).map_or_else(|_| file.clone(), String::from),
                    )),
                    format!("is not an intact {px}x{px} PNG"),
                ));
            }
            build.icons.push((px, bytes));
        }
    }
    Ok(builds)
}

/// Whether `page` is a page relsite made: its generator tag says so.
fn is_relsite_page(page: &[u8]) -> bool {
    let tag = br#"<meta name="generator" content="relsite">"#;
    page.windows(tag.len()).any(|w| w == tag)
}

/// A relative path of plain names, as the output's files have.
fn is_plain_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::testing::release;

    #[test]
    fn an_entry_escapes_what_is_not_ascii_and_reads_back_exactly() {
        let read = release("com.e.field\u{202e}", "1.0", "7")
            .notes("notes: \"caf\u{e9} \u{1f600}\"\n")
            .read();
        // Made as the release was read, before its notes' text was rendered and taken out.
        let entry = read.entry.read().unwrap();
        let mut notes = read.notes.clone();
        notes.notes = Some("caf\u{e9} \u{1f600}".to_string());
        assert!(entry.is_ascii(), "{entry}");
        assert!(
            entry.contains("\\u202e") && entry.contains("\\ud83d\\ude00"),
            "{entry}"
        );
        let mut index = Vec::new();
        write_index(
            &mut index,
            [Ok((&*entry, vec!["a/1/a.ipa".to_string()]))].into_iter(),
        )
        .unwrap();
        let builds = parse(&index, "catalog.json").unwrap();
        assert_eq!(builds[0].facts, *read.facts);
        assert_eq!(builds[0].notes, notes);
        assert_eq!(builds[0].files, ["a/1/a.ipa"]);
    }

    #[test]
    fn device_udids_are_published_only_when_the_site_shows_them() {
        let mut read = release("com.e.field", "1.0", "7").read();
        if let ProfileStatus::Found { profile } = &mut read.facts.profile {
            std::sync::Arc::make_mut(profile).devices =
                vec!["00008030-AAAA".into(), "00008030-BBBB".into()];
        }
        let udids = |show: bool| {
            let entry = entry(&read.source.ipa, &read.facts, &read.notes, show);
            let mut index = Vec::new();
            write_index(&mut index, [Ok((&*entry, vec![]))].into_iter()).unwrap();
            match &parse(&index, "catalog.json").unwrap()[0].facts.profile {
                ProfileStatus::Found { profile } => profile.devices.clone(),
                other => panic!("{other:?}"),
            }
        };
        let shown = udids(true);
        assert!(!shown.is_empty() && shown.iter().all(|d| !d.is_empty()));
        let hidden = udids(false);
        assert_eq!(hidden.len(), shown.len(), "the count stays");
        assert!(hidden.iter().all(String::is_empty));
    }

    #[test]
    fn an_index_of_another_format_or_with_paths_out_of_the_site_is_refused() {
        let newer = br#"{"relsite":"9.0.0","format":2,"builds":[]}"#;
        let why = parse(newer, "s3://b/catalog.json").unwrap_err();
        assert!(
            why.message.contains("format 2") && why.message.contains("update relsite"),
            "{why}"
        );
        let read = release("com.e.field", "1.0", "7").read();
        let entry = entry(&read.source.ipa, &read.facts, &read.notes, true);
        for bad in ["../x.ipa", "a//b", "/etc/passwd", ""] {
            let mut index = Vec::new();
            write_index(
                &mut index,
                [Ok((&*entry, vec![bad.to_string()]))].into_iter(),
            )
            .unwrap();
            assert!(parse(&index, "catalog.json").is_err(), "{bad}");
        }
    }
}
