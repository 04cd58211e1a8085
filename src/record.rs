//! The record of a write: each output file's fingerprint and stamp, so that the next build
//! knows which files are still what it would write without reading them, and the input of each
//! part of the site (see [`crate::plan::Part`]), so that it need not even plan a part whose
//! input is the same and whose files nobody touched.
//!
//! A record is a file of JSON lines: a header naming the output folder, the lines of the
//! catalog's own files, then each part's line, `{"part":…,"input":…}`, followed by the lines of
//! its files, `{"key":…,"fingerprint":…,"stamp":{…}}`. A file is named by a digest of its path
//! ([`key`]) and its fingerprint is kept to 128 bits ([`print`]), so that a catalog's record
//! costs little memory and disk.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::fs::Stamp;
use crate::plan::Fingerprint;
use crate::spill::{Spill, Spilled};

/// The first line of a record file.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header<'a> {
    /// Which relsite wrote it.
    #[serde(borrow)]
    pub relsite: Cow<'a, str>,
    pub format: u32,
    /// The output folder, resolved.
    pub output: PathBuf,
    /// How many file lines follow, when the writer said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<usize>,
}

/// The line that starts a part.
#[derive(Debug, Serialize, Deserialize)]
struct PartLine<'a> {
    #[serde(borrow)]
    part: Cow<'a, str>,
    #[serde(borrow)]
    input: Cow<'a, str>,
}

/// One line per output file.
#[derive(Debug, Serialize, Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(borrow)]
    fingerprint: Cow<'a, str>,
    stamp: Stamp,
}

/// What the last write left in an output folder: each file's fingerprint and stamp, and each
/// part's input.
#[derive(Debug, Default)]
pub struct OutputRecord {
    /// The output folder, resolved.
    pub output: PathBuf,
    /// By key, sorted.
    files: Vec<Entry>,
    /// In the order written.
    parts: Vec<RecordedPart>,
}

/// A part as the last write recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPart {
    pub name: String,
    pub input: Fingerprint,
    /// How many files it had.
    pub files: usize,
}

/// A file as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub key: u128,
    pub print: Print,
    pub stamp: Stamp,
    /// The index of its part in the record, or [`CATALOG`] for the catalog's own files.
    pub part: u32,
}

/// The part of the catalog's own files.
pub const CATALOG: u32 = u32::MAX;

/// What a record keeps of a file's fingerprint: its first 128 bits, as unlikely as the whole to
/// be another file's by chance.
pub type Print = u128;

/// The [`Print`] of `fingerprint`.
pub fn print(fingerprint: &Fingerprint) -> Print {
    let mut first = [0; 16];
    first.copy_from_slice(&fingerprint[..16]);
    u128::from_be_bytes(first)
}

/// A digest of a path, standing for it in a record. Two paths with one key would only make a
/// file look unchanged if its stamp, inode included, were the other file's.
pub fn key(path: &str) -> u128 {
    let half = |salt: u8| {
        let mut hasher = std::hash::DefaultHasher::new();
        salt.hash(&mut hasher);
        path.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

impl OutputRecord {
    /// How many files it records.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// The print and stamp recorded for `path`.
    pub fn get(&self, path: &str) -> Option<(Print, Stamp)> {
        let entry = self.entry(key(path))?;
        Some((entry.print, entry.stamp))
    }

    /// The file recorded with `key`.
    pub fn entry(&self, key: u128) -> Option<&Entry> {
        let at = self.files.binary_search_by_key(&key, |e| e.key).ok()?;
        Some(&self.files[at])
    }

    /// The recorded parts, in order: an entry's `part` indexes them.
    pub fn parts(&self) -> &[RecordedPart] {
        &self.parts
    }

    /// How many of the catalog's own files it records.
    pub fn catalog_files(&self) -> usize {
        self.files.len() - self.parts.iter().map(|p| p.files).sum::<usize>()
    }

    /// Reads the lines that follow a record's header, for `output`; `None` when any line cannot
    /// be read, a path is there twice, or there are not as many file lines as the header
    /// announced (`files`, when it did).
    pub fn read_lines(
        output: PathBuf,
        files: Option<usize>,
        mut reader: impl BufRead,
    ) -> Option<OutputRecord> {
        let announced = files;
        // Bounded, so a damaged header cannot reserve much.
        let mut files = Vec::with_capacity(announced.unwrap_or(0).min(1 << 20));
        let mut parts: Vec<RecordedPart> = Vec::new();
        let mut text = String::new();
        loop {
            text.clear();
            if reader.read_line(&mut text).ok()? == 0 {
                break;
            }
            if text.starts_with("{\"part\":") {
                let line: PartLine = serde_json::from_str(&text).ok()?;
                parts.push(RecordedPart {
                    name: line.part.into_owned(),
                    input: from_hex(&line.input)?,
                    files: 0,
                });
                continue;
            }
            let line: Line = serde_json::from_str(&text).ok()?;
            let part = match parts.last_mut() {
                Some(part) => {
                    part.files += 1;
                    u32::try_from(parts.len() - 1).ok()?
                }
                None => CATALOG,
            };
            files.push(Entry {
                key: key_from_hex(&line.key)?,
                print: key_from_hex(&line.fingerprint)?,
                stamp: line.stamp,
                part,
            });
        }
        if announced.is_some_and(|count| count != files.len()) {
            return None;
        }
        files.sort_unstable_by_key(|e| e.key);
        if files.windows(2).any(|w| w[0].key == w[1].key) {
            return None;
        }
        files.shrink_to_fit();
        Some(OutputRecord {
            output,
            files,
            parts,
        })
    }
}

/// A file of a write being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEntry {
    pub key: u128,
    pub print: Print,
    pub stamp: Stamp,
}

/// The record of a write being made.
#[derive(Debug, Default)]
pub struct NewRecord<'r> {
    /// The output folder, resolved.
    pub output: PathBuf,
    /// The catalog's own files.
    pub catalog: Vec<NewEntry>,
    /// Each part's name, input and files, in order.
    pub parts: Vec<(String, Fingerprint, PartFiles)>,
    /// The record of the write before, which has the files of the parts kept as they were.
    pub previous: Option<&'r OutputRecord>,
}

/// The files of a part in a record being made.
#[derive(Debug)]
pub enum PartFiles {
    /// Staged one by one: their lines, kept aside as each part is staged so that a catalog's
    /// record is never all in memory, and how many there are.
    Staged { lines: Spilled, files: usize },
    /// Kept as they were: the files of the previous record's part of this index.
    Kept(usize),
}

impl PartFiles {
    /// The lines of `entries`, kept in `spill`.
    pub fn staged(spill: &Arc<Spill>, entries: &[NewEntry]) -> PartFiles {
        let mut lines = Vec::with_capacity(entries.len() * 160);
        for entry in entries {
            // Into memory, which cannot fail; were a line missing, the header's count would
            // not match the lines and the next build would discard the record.
            let _ = write_line(&mut lines, entry.key, entry.print, entry.stamp);
        }
        PartFiles::Staged {
            // Lines of JSON are UTF-8.
            lines: spill.keep(String::from_utf8(lines).unwrap_or_default()),
            files: entries.len(),
        }
    }
}

/// Writes the line of a file.
fn write_line(out: &mut dyn Write, key: u128, print: Print, stamp: Stamp) -> std::io::Result<()> {
    let line = Line {
        key: Cow::Owned(format!("{key:032x}")),
        fingerprint: Cow::Owned(format!("{print:032x}")),
        stamp,
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

impl NewRecord<'_> {
    /// How many files it records.
    pub fn len(&self) -> usize {
        let recorded = |part: usize| {
            self.previous
                .and_then(|r| r.parts.get(part))
                .map_or(0, |p| p.files)
        };
        let parts: usize = self
            .parts
            .iter()
            .map(|(_, _, files)| match files {
                PartFiles::Staged { files, .. } => *files,
                PartFiles::Kept(part) => recorded(*part),
            })
            .sum();
        self.catalog.len() + parts
    }

    /// Writes the lines that follow the header.
    pub fn write_lines(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for entry in &self.catalog {
            write_line(out, entry.key, entry.print, entry.stamp)?;
        }
        // The previous record's files by part, for the parts kept as they were.
        let mut by_part: Vec<&Entry> = self.previous.map_or(Vec::new(), |r| {
            r.files.iter().filter(|e| e.part != CATALOG).collect()
        });
        by_part.sort_by_key(|e| e.part);
        for (name, input, files) in &self.parts {
            let part = PartLine {
                part: Cow::Borrowed(name),
                input: Cow::Owned(crate::text::hex(&input[..])),
            };
            serde_json::to_writer(&mut *out, &part)?;
            out.write_all(b"\n")?;
            match files {
                PartFiles::Staged { lines, .. } => out.write_all(lines.read()?.as_bytes())?,
                PartFiles::Kept(kept) => {
                    let kept = u32::try_from(*kept).unwrap_or(CATALOG);
                    let start = by_part.partition_point(|e| e.part < kept);
                    for entry in by_part[start..].iter().take_while(|e| e.part == kept) {
                        write_line(out, entry.key, entry.print, entry.stamp)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A key or print as [`NewRecord::write_lines`] writes it: 32 lowercase hex digits.
fn key_from_hex(text: &str) -> Option<u128> {
    let lower = |d: u8| d.is_ascii_digit() || (b'a'..=b'f').contains(&d);
    if text.len() != 32 || !text.bytes().all(lower) {
        return None;
    }
    u128::from_str_radix(text, 16).ok()
}

/// Lowercase hex of 32 bytes, as [`crate::text::hex`] writes it.
fn from_hex(text: &str) -> Option<Fingerprint> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let nibble = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    let mut out = [0; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(inode: u64) -> Stamp {
        Stamp {
            size: 3,
            modified_ns: -5,
            inode,
        }
    }

    fn entry(path: &str, fingerprint: Fingerprint, inode: u64) -> NewEntry {
        NewEntry {
            key: key(path),
            print: print(&fingerprint),
            stamp: stamp(inode),
        }
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let spill = Spill::new();
        let (a, b, c) = ([1; 32], [0xab; 32], [7; 32]);
        let new = NewRecord {
            output: PathBuf::from("/out"),
            catalog: vec![entry("index.html", a, 1)],
            parts: vec![
                (
                    "com.e.a#0".to_string(),
                    [9; 32],
                    PartFiles::staged(
                        &spill,
                        &[entry("a/index.html", a, 2), entry("b \"q\"\n.png", b, 3)],
                    ),
                ),
                (
                    "com.e.b#0".to_string(),
                    [8; 32],
                    PartFiles::staged(&spill, &[]),
                ),
                (
                    "com.e.c#0".to_string(),
                    [0; 32],
                    PartFiles::staged(&spill, &[entry("c", c, 4)]),
                ),
            ],
            previous: None,
        };
        assert_eq!(new.len(), 4);
        let mut bytes = Vec::new();
        new.write_lines(&mut bytes).unwrap();
        let read = OutputRecord::read_lines(PathBuf::from("/out"), Some(4), &bytes[..]).unwrap();
        assert_eq!(read.len(), 4);
        assert_eq!(read.catalog_files(), 1);
        assert_eq!(read.get("index.html"), Some((print(&a), stamp(1))));
        assert_eq!(read.get("a/index.html"), Some((print(&a), stamp(2))));
        assert_eq!(read.get("b \"q\"\n.png"), Some((print(&b), stamp(3))));
        assert_eq!(read.get("c"), Some((print(&c), stamp(4))));
        assert_eq!(read.get("d"), None);
        assert_eq!(read.entry(key("index.html")).unwrap().part, CATALOG);
        assert_eq!(read.entry(key("b \"q\"\n.png")).unwrap().part, 0);
        assert_eq!(read.entry(key("c")).unwrap().part, 2);
        let parts: Vec<(&str, Fingerprint, usize)> = read
            .parts()
            .iter()
            .map(|p| (p.name.as_str(), p.input, p.files))
            .collect();
        assert_eq!(
            parts,
            [
                ("com.e.a#0", [9; 32], 2),
                ("com.e.b#0", [8; 32], 0),
                ("com.e.c#0", [0; 32], 1)
            ]
        );

        // Parts kept as they were are written from the record they were read from.
        let again = NewRecord {
            output: PathBuf::from("/out"),
            catalog: vec![entry("index.html", a, 5)],
            parts: vec![
                ("com.e.a#0".to_string(), [9; 32], PartFiles::Kept(0)),
                (
                    "com.e.b#0".to_string(),
                    [7; 32],
                    PartFiles::staged(&spill, &[entry("b", b, 6)]),
                ),
                ("com.e.c#0".to_string(), [0; 32], PartFiles::Kept(2)),
            ],
            previous: Some(&read),
        };
        assert_eq!(again.len(), 5);
        let mut bytes = Vec::new();
        again.write_lines(&mut bytes).unwrap();
        let reread = OutputRecord::read_lines(PathBuf::from("/out"), None, &bytes[..]).unwrap();
        assert_eq!(reread.len(), 5);
        assert_eq!(reread.get("index.html"), Some((print(&a), stamp(5))));
        assert_eq!(reread.get("a/index.html"), Some((print(&a), stamp(2))));
        assert_eq!(reread.get("b \"q\"\n.png"), Some((print(&b), stamp(3))));
        assert_eq!(reread.get("b"), Some((print(&b), stamp(6))));
        assert_eq!(reread.get("c"), Some((print(&c), stamp(4))));
        assert_eq!(reread.entry(key("c")).unwrap().part, 2);
        assert_eq!(reread.parts()[1].input, [7; 32]);
    }

    #[test]
    fn a_damaged_record_is_not_read() {
        let line = |key: &str, print: &str| {
            format!(
                "{{\"key\":\"{key}\",\"fingerprint\":\"{print}\",\"stamp\":{{\"size\":1,\"modified_ns\":2,\"inode\":3}}}}\n"
            )
        };
        let k = "0a".repeat(16);
        let good = line(&k, &"0f".repeat(16));
        assert!(OutputRecord::read_lines(PathBuf::new(), None, good.as_bytes()).is_some());
        assert!(OutputRecord::read_lines(PathBuf::new(), Some(1), good.as_bytes()).is_some());
        for count in [0, 2] {
            assert!(
                OutputRecord::read_lines(PathBuf::new(), Some(count), good.as_bytes()).is_none()
            );
        }
        let part = format!("{{\"part\":\"p#0\",\"input\":\"{}\"}}\n", "01".repeat(32));
        let parted = format!("{part}{good}");
        assert!(OutputRecord::read_lines(PathBuf::new(), None, parted.as_bytes()).is_some());
        for bad in [
            line(&k, &"0F".repeat(16)),
            line(&k, &"0f".repeat(15)),
            line(&k, &"0f".repeat(32)),
            line(&"0A".repeat(16), &"0f".repeat(16)),
            line(&"0a".repeat(15), &"0f".repeat(16)),
            good[..good.len() - 5].to_string(),
            format!("{good}{good}"),
            format!("{{\"part\":\"p#0\",\"input\":\"{}\"}}\n", "01".repeat(31)),
        ] {
            assert!(
                OutputRecord::read_lines(PathBuf::new(), None, bad.as_bytes()).is_none(),
                "{bad}"
            );
        }
    }
}
