//! relsite turns a folder of iOS builds (.ipa) and their release notes into a static site from
//! which testers install the builds over the air.
//!
//! The work is one pipeline, each stage a module: [`scan`] finds releases, [`ipa`] and [`notes`]
//! read them, [`catalog`] models apps and builds, [`plan`] decides every output file, and
//! [`write`] is the only stage that touches the output folder.

pub(crate) mod cache;
pub(crate) mod catalog;
pub mod cli;
pub(crate) mod cmd;
pub mod config;
pub(crate) mod deploy;
pub(crate) mod diag;
pub(crate) mod feeds;
pub(crate) mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod hosting;
pub(crate) mod icons;
pub mod ipa;
pub(crate) mod layout;
pub mod manifest;
pub(crate) mod markdown;
pub mod notes;
pub(crate) mod pipeline;
pub(crate) mod plan;
pub(crate) mod published;
pub(crate) mod record;
pub(crate) mod render;
pub(crate) mod scan;
pub(crate) mod secret;
pub(crate) mod spill;
pub(crate) mod text;
pub mod ui;
pub(crate) mod urls;
pub(crate) mod version;
pub(crate) mod write;
pub(crate) mod yaml;

pub use cmd::{Failure, run};

#[cfg(test)]
mod test_fixtures;
