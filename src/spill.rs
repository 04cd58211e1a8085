//! Text a run makes for each build and needs once more only at the end, kept in an unnamed
//! temporary file instead of memory, so a catalog of thousands of builds does not hold it all:
//! each build's entry of the published catalog index is about a kilobyte. Where the file cannot
//! be made or written, the text stays in memory, so keeping it never fails.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

/// Where spilled text is kept: one unnamed temporary file, appended to.
#[derive(Debug)]
pub struct Spill {
    /// The file and its length, or `None` when there is no file.
    file: Mutex<Option<(File, u64)>>,
}

/// One text kept by a [`Spill`].
#[derive(Clone)]
pub enum Spilled {
    /// `len` bytes at `offset` of the spill's file.
    File {
        spill: Arc<Spill>,
        offset: u64,
        len: usize,
    },
    /// Held here: the file could not take it.
    Held(Arc<str>),
}

impl std::fmt::Debug for Spilled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Not where: the same text may be kept elsewhere by another run.
            Spilled::File { len, .. } => write!(f, "Spilled({len} bytes)"),
            Spilled::Held(text) => write!(f, "Held({text:?})"),
        }
    }
}

impl Spill {
    /// A spill to an unnamed file in the system's temporary folder, or kept in memory when
    /// none can be made there.
    pub fn new() -> Arc<Spill> {
        Arc::new(Spill {
            file: Mutex::new(tempfile::tempfile().ok().map(|file| (file, 0))),
        })
    }

    /// A spill that keeps everything in memory.
    #[cfg(test)]
    pub fn in_memory() -> Arc<Spill> {
        Arc::new(Spill {
            file: Mutex::new(None),
        })
    }

    /// Keeps `text`, in the file when it can.
    pub fn keep(self: &Arc<Spill>, text: String) -> Spilled {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((out, end)) = file.as_mut() {
            let offset = *end;
            let written = out
                .seek(SeekFrom::Start(offset))
                .and_then(|_| out.write_all(text.as_bytes()));
            if written.is_ok() {
                *end += text.len() as u64;
                return Spilled::File {
                    spill: Arc::clone(self),
                    offset,
                    len: text.len(),
                };
            }
        }
        Spilled::Held(text.into())
    }
}

impl Spilled {
    /// The text as it was kept.
    pub fn read(&self) -> std::io::Result<Arc<str>> {
        let (spill, offset, len) = match self {
            Spilled::Held(text) => return Ok(Arc::clone(text)),
            Spilled::File { spill, offset, len } => (spill, *offset, *len),
        };
        let mut file = spill.file.lock().unwrap_or_else(|e| e.into_inner());
        let Some((file, _)) = file.as_mut() else {
            return Err(std::io::Error::other("the temporary file is gone"));
        };
        let mut bytes = vec![0; len];
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(&mut bytes)?;
        String::from_utf8(bytes)
            .map(Arc::from)
            .map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_read_back_as_kept_in_any_order() {
        for spill in [Spill::new(), Spill::in_memory()] {
            let texts = ["{\"a\":1}", "", "\u{202e}é", "{}"];
            let kept: Vec<Spilled> = texts.iter().map(|t| spill.keep(t.to_string())).collect();
            for (text, kept) in texts.iter().zip(&kept).rev() {
                assert_eq!(&*kept.read().unwrap(), *text);
            }
            assert_eq!(&*kept[0].read().unwrap(), texts[0]);
        }
    }

    #[test]
    fn a_spill_to_a_file_holds_no_text() {
        let spill = Spill::new();
        let kept = spill.keep("x".repeat(1000));
        assert!(matches!(kept, Spilled::File { len: 1000, .. }), "{kept:?}");
    }
}
