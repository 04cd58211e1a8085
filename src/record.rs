//! The record of a write: each output file's fingerprint and stamp, so that the next build
//! knows which files are still what it would write without reading them.
//!
//! A record is a file of JSON lines: a header naming the output folder, then one line per output
//! file, `{"path":…,"fingerprint":…,"stamp":{…}}`. Read back, a record keeps a fixed-size entry
//! per file, keyed by a digest of its path, so that a catalog's record costs little memory.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::fs::Stamp;
use crate::plan::Fingerprint;

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

/// One line per output file.
#[derive(Debug, Serialize, Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    path: Cow<'a, str>,
    #[serde(borrow)]
    fingerprint: Cow<'a, str>,
    stamp: Stamp,
}

/// What the last write left in an output folder: each file's fingerprint and stamp.
#[derive(Debug, Default)]
pub struct OutputRecord {
    /// The output folder, resolved.
    pub output: PathBuf,
    /// By key, sorted.
    files: Vec<Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u128,
    fingerprint: Fingerprint,
    stamp: Stamp,
}

/// A digest of a path, standing for it in a record read back. Two paths with one key would
/// only make a file look unchanged if its stamp, inode included, were the other file's.
fn key(path: &str) -> u128 {
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

    /// The fingerprint and stamp recorded for `path`.
    pub fn get(&self, path: &str) -> Option<(&Fingerprint, Stamp)> {
        let key = key(path);
        let at = self.files.binary_search_by_key(&key, |e| e.key).ok()?;
        let entry = &self.files[at];
        Some((&entry.fingerprint, entry.stamp))
    }

    /// Reads the file lines that follow a record's header, for `output`; `None` when any line
    /// cannot be read, or a path is there twice.
    /// `files` is how many lines the header announced, when it did.
    pub fn read_lines(
        output: PathBuf,
        files: Option<usize>,
        mut reader: impl BufRead,
    ) -> Option<OutputRecord> {
        // The count is a hint, bounded so a damaged header cannot reserve much.
        let mut files = Vec::with_capacity(files.unwrap_or(0).min(1 << 20));
        let mut text = String::new();
        loop {
            text.clear();
            if reader.read_line(&mut text).ok()? == 0 {
                break;
            }
            let line: Line = serde_json::from_str(&text).ok()?;
            files.push(Entry {
                key: key(&line.path),
                fingerprint: from_hex(&line.fingerprint)?,
                stamp: line.stamp,
            });
        }
        files.sort_unstable_by_key(|e| e.key);
        if files.windows(2).any(|w| w[0].key == w[1].key) {
            return None;
        }
        files.shrink_to_fit();
        Some(OutputRecord { output, files })
    }
}

/// The record of a write being made: each file by the plan's path and fingerprint.
#[derive(Debug)]
pub struct NewRecord<'p> {
    /// The output folder, resolved.
    pub output: PathBuf,
    pub files: Vec<(&'p str, &'p Fingerprint, Stamp)>,
}

impl NewRecord<'_> {
    /// Writes the file lines that follow the header.
    pub fn write_lines(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for (path, fingerprint, stamp) in &self.files {
            let line = Line {
                path: Cow::Borrowed(path),
                fingerprint: Cow::Owned(crate::text::hex(&fingerprint[..])),
                stamp: *stamp,
            };
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
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

    #[test]
    fn a_record_reads_back_as_written() {
        let (a, b) = ([1; 32], [0xab; 32]);
        let new = NewRecord {
            output: PathBuf::from("/out"),
            files: vec![
                ("a/index.html", &a, stamp(1)),
                ("b \"q\"\n.png", &b, stamp(2)),
            ],
        };
        let mut bytes = Vec::new();
        new.write_lines(&mut bytes).unwrap();
        let read = OutputRecord::read_lines(PathBuf::from("/out"), Some(2), &bytes[..]).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read.get("a/index.html"), Some((&a, stamp(1))));
        assert_eq!(read.get("b \"q\"\n.png"), Some((&b, stamp(2))));
        assert_eq!(read.get("c"), None);
    }

    #[test]
    fn a_damaged_record_is_not_read() {
        let line = |print: &str| {
            format!(
                "{{\"path\":\"a\",\"fingerprint\":\"{print}\",\"stamp\":{{\"size\":1,\"modified_ns\":2,\"inode\":3}}}}\n"
            )
        };
        let good = line(&"0f".repeat(32));
        assert!(OutputRecord::read_lines(PathBuf::new(), None, good.as_bytes()).is_some());
        for bad in [
            line(&"0F".repeat(32)),
            line(&"0f".repeat(31)),
            good[..good.len() - 5].to_string(),
            format!("{good}{good}"),
        ] {
            assert!(
                OutputRecord::read_lines(PathBuf::new(), None, bad.as_bytes()).is_none(),
                "{bad}"
            );
        }
    }
}
