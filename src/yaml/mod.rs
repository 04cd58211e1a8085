//! YAML as relsite reads it, relsite.yaml and notes files alike, in time and memory bounded by
//! the text. Two things serde_yaml does not bound are checked first:
//! - how deep flow collections nest ([`flow_depth`]): its scanner takes time of the depth for
//!   every token;
//! - what aliases expand to: serde_yaml limits nesting (128 levels) and alias jumps (100 for each
//!   event of the document), but one jump may copy a scalar of any size or a mapping of any
//!   length, so a kilobyte of `*alias` entries can stand for gigabytes of strings. One pass over
//!   the document as serde sees it (aliases expanded, nothing copied) counts its values and the
//!   bytes of its scalars, and a document past either limit is refused.

pub mod flow_depth;

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};

use crate::diag::{Location, yaml_problem};

/// Why a YAML document cannot be read: a message and, where known, the place.
#[derive(Debug)]
pub struct Problem {
    pub message: String,
    pub location: Option<Location>,
}

/// The most values (scalars, sequences and mappings) a YAML document may hold with its aliases
/// expanded. A site of hundreds of apps holds a few thousand.
pub const MAX_EXPANDED_VALUES: u64 = 200_000;

/// The most bytes of scalar text a YAML document may hold with its aliases expanded: four
/// times as much as the largest file relsite reads, so text shared by a few aliases passes.
pub const MAX_EXPANDED_BYTES: u64 = 4 << 20;

/// Deserializes `text` once its flow collections are known to nest at most
/// [`flow_depth::MAX_FLOW_DEPTH`] deep, and its values and text, aliases expanded, to be within
/// [`MAX_EXPANDED_VALUES`] and [`MAX_EXPANDED_BYTES`].
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Problem> {
    flow_depth::check(text).map_err(|at| Problem {
        message: format!(
            "flow collections (`[ ]`, `{{ }}`) nest deeper than {}, the most relsite reads",
            flow_depth::MAX_FLOW_DEPTH
        ),
        location: Some(Location {
            line: at.line,
            column: at.column,
        }),
    })?;
    let problem = |err: serde_yaml::Error| {
        let (message, location) = yaml_problem(&err);
        Problem { message, location }
    };
    let tally = Tally::default();
    let measured = Measure(&tally).deserialize(serde_yaml::Deserializer::from_str(text));
    match measured {
        // Other problems of the document are reported as deserializing it reports them.
        Err(err) if tally.refused.get() => Err(problem(err)),
        _ => serde_yaml::from_str(text).map_err(problem),
    }
}

/// What one pass has counted so far.
#[derive(Default)]
struct Tally {
    values: Cell<u64>,
    bytes: Cell<u64>,
    /// A limit was passed: the error of the pass is ours.
    refused: Cell<bool>,
}

impl Tally {
    fn count<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        let values = self.values.get() + 1;
        let bytes = self.bytes.get().saturating_add(bytes as u64);
        self.values.set(values);
        self.bytes.set(bytes);
        let refusal = if values > MAX_EXPANDED_VALUES {
            format!(
                "with its aliases expanded, the document holds more than {MAX_EXPANDED_VALUES} values, the most relsite reads"
            )
        } else if bytes > MAX_EXPANDED_BYTES {
            format!(
                "with its aliases expanded, the document holds more than {MAX_EXPANDED_BYTES} bytes of text, the most relsite reads"
            )
        } else {
            return Ok(());
        };
        self.refused.set(true);
        Err(E::custom(refusal))
    }
}

/// Visits a value and everything in it, counting into the tally.
#[derive(Clone, Copy)]
struct Measure<'a>(&'a Tally);

impl<'de> DeserializeSeed<'de> for Measure<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Measure<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.count(0)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.count(0)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.count(0)
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.0.count(0)
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.0.count(0)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.count(0)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        self.0.count(text.len())
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<(), E> {
        self.0.count(bytes.len())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.count(0)
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.count(0)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.count(0)?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.count(0)?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    /// A tagged value, `!Tag value`: the tag and the value count.
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use de::VariantAccess;
        let ((), variant) = data.variant_seed(self)?;
        variant.newtype_variant_seed(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    type Doc = BTreeMap<String, BTreeMap<String, String>>;

    fn refusal(text: &str) -> String {
        from_str::<Doc>(text).expect_err("refused").message
    }

    #[test]
    fn documents_within_the_limits_read_as_serde_yaml_reads_them() {
        let text = "a: &x {k: v}\nb: *x\n";
        assert_eq!(
            from_str::<Doc>(text).unwrap(),
            serde_yaml::from_str::<Doc>(text).unwrap()
        );
        // Other errors stay serde_yaml's own.
        let err = from_str::<Doc>("a: [1]\n").unwrap_err().message;
        assert!(err.contains("invalid type: sequence"), "{err}");
    }

    /// A large scalar copied by every alias that names it.
    #[test]
    fn aliases_of_a_large_scalar_are_refused_by_their_expanded_size() {
        let mut text = format!("x: {{d: &d {}}}\n", "a".repeat(100_000));
        for i in 0..1_000 {
            text.push_str(&format!("a{i}: {{d: *d}}\n"));
        }
        assert!(text.len() < 200_000);
        let started = std::time::Instant::now();
        // serde_yaml names where in the document the limit was passed.
        assert_eq!(
            refusal(&text),
            format!(
                "a40.d: with its aliases expanded, the document holds more than {MAX_EXPANDED_BYTES} bytes of text, the most relsite reads"
            )
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// A mapping of many entries named by many aliases.
    #[test]
    fn aliases_of_a_long_mapping_are_refused_by_their_expanded_count() {
        let entries: String = (0..2_000).map(|i| format!("k{i}: v,")).collect();
        let mut text = format!("x: &m {{{entries}}}\n");
        for i in 0..2_000 {
            text.push_str(&format!("a{i}: *m\n"));
        }
        assert!(refusal(&text).contains(&format!("more than {MAX_EXPANDED_VALUES} values")));
    }

    /// Flow collections nested deeper than the limit are refused before serde_yaml sees them:
    /// its scanner would take minutes over this.
    #[test]
    fn deep_flow_collections_are_refused_quickly() {
        let depth = 200_000;
        let text = format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let started = std::time::Instant::now();
        let err = from_str::<serde_yaml::Value>(&text).unwrap_err();
        assert_eq!(
            err.message,
            "flow collections (`[ ]`, `{ }`) nest deeper than 64, the most relsite reads"
        );
        assert_eq!(
            err.location,
            Some(Location {
                line: 1,
                column: 68
            })
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// Block collections nested deep are refused by serde_yaml's own limit of 128 levels, in
    /// time linear in the text.
    #[test]
    fn deep_block_collections_are_refused_by_serde_yaml() {
        let text = format!("a:\n  {}x\n", "- ".repeat(200_000));
        let started = std::time::Instant::now();
        let err = from_str::<serde_yaml::Value>(&text).unwrap_err().message;
        assert!(err.contains("recursion limit exceeded"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// The classic: each level a list of ten aliases of the level below.
    #[test]
    fn a_billion_laughs_is_refused_quickly() {
        let mut text = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..10 {
            let below = format!("*l{}", level - 1);
            let list = [below.as_str(); 10].join(", ");
            text.push_str(&format!("l{level}: &l{level} [{list}]\n"));
        }
        let started = std::time::Instant::now();
        let err = from_str::<serde_yaml::Value>(&text).unwrap_err().message;
        assert!(
            err.contains("more than") || err.contains("repetition limit exceeded"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
