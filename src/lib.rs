//! relsite turns a folder of iOS builds (.ipa) and their release notes into a static site from
//! which testers install the builds over the air.
//!
//! The work is one pipeline, each stage a module: [`scan`] finds releases, [`ipa`] and [`notes`]
//! read them, [`catalog`] models apps and builds, [`plan`] decides every output file, and
//! [`write`] is the only stage that touches the output folder.

pub mod catalog;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod diag;
pub mod feeds;
pub mod fs;
pub mod hosting;
pub mod ipa;
pub mod manifest;
pub mod markdown;
pub mod notes;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod scan;
pub mod ui;
pub mod urls;
pub mod version;
pub mod write;

#[cfg(test)]
mod test_fixtures;
