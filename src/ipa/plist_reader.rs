//! Property lists (an app's Info.plist, a profile's content) read with their size bounded.
//!
//! A size cap on the file is not enough. A binary plist names its objects by reference, so a
//! few kilobytes whose arrays each name the next one twice stand for a tree of 2^40 leaves; and
//! arrays nested 300,000 deep, binary or XML, fit in a few megabytes, yet the value they make
//! overflows the stack when it is dropped. So the events the plist crate's readers produce (the
//! tree as it expands, a shared object counted everywhere it appears) are counted as they are
//! handed to its builder, and reading stops at the first limit passed, before the builder
//! allocates for it.

use std::io::Cursor;

use plist::Value;
use plist::stream::{Event, OwnedEvent, Reader, XmlReader};

/// The most values (strings, numbers, arrays, dictionaries, keys included) a property list may
/// expand to. A profile with a hundred devices holds about 150, an app's Info.plist a few
/// hundred.
pub const MAX_PLIST_VALUES: u64 = 250_000;

/// The deepest arrays and dictionaries may nest. Real property lists nest fewer than ten deep.
pub const MAX_PLIST_DEPTH: u64 = 64;

/// The most bytes of strings and data a property list may expand to: twice the largest
/// Info.plist relsite inflates, since UTF-16 text grows as UTF-8.
pub const MAX_PLIST_BYTES: u64 = 2 * super::INFO_PLIST_CAP;

/// A limit a property list passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Limit {
    #[error(
        "it expands to more than {MAX_PLIST_VALUES} values (a shared one counted everywhere it appears), the most relsite reads"
    )]
    Values,
    #[error(
        "it nests arrays and dictionaries more than {MAX_PLIST_DEPTH} deep, the most relsite reads"
    )]
    Depth,
    #[error(
        "it expands to more than {MAX_PLIST_BYTES} bytes of strings and data (a shared one counted everywhere it appears), the most relsite reads"
    )]
    Bytes,
}

#[derive(Debug, thiserror::Error)]
pub enum PlistError {
    /// Not a property list the plist crate can read.
    #[error(transparent)]
    Malformed(#[from] plist::Error),
    #[error(transparent)]
    Refused(#[from] Limit),
}

/// Reads a property list of any encoding (binary, XML or ASCII) within the limits.
pub fn read(bytes: &[u8]) -> Result<Value, PlistError> {
    build(Reader::new(Cursor::new(bytes)))
}

/// Reads an XML property list within the limits.
pub fn read_xml(bytes: &[u8]) -> Result<Value, PlistError> {
    build(XmlReader::new(Cursor::new(bytes)))
}

fn build(
    events: impl Iterator<Item = Result<OwnedEvent, plist::Error>>,
) -> Result<Value, PlistError> {
    let mut counted = Counted {
        events,
        tally: Tally::default(),
        passed: None,
    };
    let value = Value::from_events(&mut counted);
    // A stream cut short at a limit ends in the builder's error; the limit is the reason.
    if let Some(limit) = counted.passed {
        return Err(limit.into());
    }
    Ok(value?)
}

/// What has been read so far.
#[derive(Debug, Default)]
struct Tally {
    values: u64,
    depth: u64,
    bytes: u64,
}

impl Tally {
    /// Counts `event`, or says which limit it passes.
    fn count(&mut self, event: &Event) -> Result<(), Limit> {
        let bytes = match event {
            Event::EndCollection => {
                self.depth = self.depth.saturating_sub(1);
                return Ok(());
            }
            Event::StartArray(len) | Event::StartDictionary(len) => {
                self.depth += 1;
                if self.depth > MAX_PLIST_DEPTH {
                    return Err(Limit::Depth);
                }
                // The items a collection declares must fit before the builder makes room for
                // them; they are counted as they come.
                if self.values.saturating_add(len.unwrap_or(0)) >= MAX_PLIST_VALUES {
                    return Err(Limit::Values);
                }
                0
            }
            Event::String(text) => text.len(),
            Event::Data(data) => data.len(),
            _ => 0,
        };
        self.values += 1;
        self.bytes = self.bytes.saturating_add(bytes as u64);
        if self.values > MAX_PLIST_VALUES {
            return Err(Limit::Values);
        }
        if self.bytes > MAX_PLIST_BYTES {
            return Err(Limit::Bytes);
        }
        Ok(())
    }
}

/// The events of a reader, counted; ends early at the first limit passed.
struct Counted<I> {
    events: I,
    tally: Tally,
    passed: Option<Limit>,
}

impl<I: Iterator<Item = Result<OwnedEvent, plist::Error>>> Iterator for Counted<I> {
    type Item = Result<OwnedEvent, plist::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.passed.is_some() {
            return None;
        }
        let event = self.events.next()?;
        if let Ok(event) = &event
            && let Err(limit) = self.tally.count(event)
        {
            self.passed = Some(limit);
            return None;
        }
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An object's marker byte with its length: in the low nibble, or `0xF` and an integer.
    fn marker(kind: u8, len: usize) -> Vec<u8> {
        if len < 15 {
            vec![kind << 4 | len as u8]
        } else {
            let mut out = vec![kind << 4 | 0xF, 0x12];
            out.extend_from_slice(&(len as u32).to_be_bytes());
            out
        }
    }

    /// An array object naming `refs`, each `ref_size` bytes.
    fn array(refs: &[u64], ref_size: usize) -> Vec<u8> {
        let mut out = marker(0xA, refs.len());
        for r in refs {
            out.extend_from_slice(&r.to_be_bytes()[8 - ref_size..]);
        }
        out
    }

    fn string(text: &str) -> Vec<u8> {
        let mut out = marker(0x5, text.len());
        out.extend_from_slice(text.as_bytes());
        out
    }

    /// A binary plist of `objects`, each encoded whole with references of `ref_size` bytes;
    /// the first is the root.
    fn bplist(objects: &[Vec<u8>], ref_size: u8) -> Vec<u8> {
        let mut out = b"bplist00".to_vec();
        let mut offsets = Vec::new();
        for object in objects {
            offsets.push(out.len() as u32);
            out.extend_from_slice(object);
        }
        let table = out.len() as u64;
        for offset in offsets {
            out.extend_from_slice(&offset.to_be_bytes());
        }
        out.extend_from_slice(&[0; 6]);
        out.extend_from_slice(&[4, ref_size]);
        out.extend_from_slice(&(objects.len() as u64).to_be_bytes());
        out.extend_from_slice(&0u64.to_be_bytes());
        out.extend_from_slice(&table.to_be_bytes());
        out
    }

    fn refused(bytes: &[u8]) -> Limit {
        match read(bytes) {
            Err(PlistError::Refused(limit)) => limit,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn reads_property_lists_within_the_limits() {
        let objects = [array(&[1, 1], 1), string("shared")];
        let value = read(&bplist(&objects, 1)).expect("reads");
        assert_eq!(
            value,
            Value::Array(vec![Value::from("shared"), Value::from("shared")])
        );
        let xml = b"<plist><dict><key>a</key><array><string>b</string></array></dict></plist>";
        assert!(read(xml).is_ok());
        assert!(read_xml(xml).is_ok());
        assert!(matches!(
            read(b"bplist00 garbage"),
            Err(PlistError::Malformed(_))
        ));
    }

    /// 41 arrays, each naming the next twice, over one string: 330 bytes that stand for a tree
    /// of 2^41 leaves.
    #[test]
    fn a_binary_plist_whose_objects_share_each_other_is_counted_as_its_tree() {
        let levels = 41;
        let mut objects: Vec<Vec<u8>> = (0..levels).map(|i| array(&[i + 1, i + 1], 1)).collect();
        objects.push(string("leaf"));
        let bytes = bplist(&objects, 1);
        assert!(bytes.len() < 400);
        let started = std::time::Instant::now();
        assert_eq!(refused(&bytes), Limit::Values);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // Strings, shared: their bytes count everywhere they appear.
        let mut objects: Vec<Vec<u8>> = (0..levels).map(|i| array(&[i + 1, i + 1], 1)).collect();
        objects.push(string(&"x".repeat(1 << 20)));
        assert_eq!(refused(&bplist(&objects, 1)), Limit::Bytes);
    }

    /// Arrays nested 300,000 deep: dropping the value they would make overflows the stack.
    #[test]
    fn deeply_nested_arrays_are_refused_binary_or_xml() {
        let depth = 300_000u64;
        let mut objects: Vec<Vec<u8>> = (0..depth).map(|i| array(&[i + 1], 4)).collect();
        objects.push(string("leaf"));
        assert_eq!(refused(&bplist(&objects, 4)), Limit::Depth);
        let depth = depth as usize;
        let xml = format!(
            "<plist>{}<string>leaf</string>{}</plist>",
            "<array>".repeat(depth),
            "</array>".repeat(depth)
        );
        assert_eq!(refused(xml.as_bytes()), Limit::Depth);
        assert!(matches!(
            read_xml(xml.as_bytes()),
            Err(PlistError::Refused(Limit::Depth))
        ));
        let dicts = format!(
            "<plist>{}<true/>{}</plist>",
            "<dict><key>k</key>".repeat(depth),
            "</dict>".repeat(depth)
        );
        assert_eq!(refused(dicts.as_bytes()), Limit::Depth);
    }

    /// An array that declares more items than a property list may hold is refused before the
    /// builder makes room for them (here its items do not even exist).
    #[test]
    fn an_array_declaring_too_many_items_is_refused_before_its_items() {
        let refs = vec![7; MAX_PLIST_VALUES as usize];
        let bytes = bplist(&[array(&refs, 1), string("x")], 1);
        assert_eq!(refused(&bytes), Limit::Values);
    }

    #[test]
    fn limits_are_named_in_their_messages() {
        assert_eq!(
            Limit::Depth.to_string(),
            "it nests arrays and dictionaries more than 64 deep, the most relsite reads"
        );
        assert!(
            Limit::Values
                .to_string()
                .contains("more than 250000 values")
        );
        assert!(Limit::Bytes.to_string().contains("more than 8388608 bytes"));
    }
}
