//! Runs the real `relsite` binary against site folders built by [`support::TestSite`].

mod build;
mod cache;
mod commands;
mod crashes;
mod deploy;
mod deploy_s3;
mod deployed;
mod errors;
mod example_ipas;
mod example_site;
mod feeds;
mod fixtures;
mod fuzz_regressions;
mod garage;
mod hostile;
mod hostile_suite;
mod ipa_builder;
mod private;
mod readme;
mod reserved_names;
mod serve_limits;
mod signing;
mod snapshot;
mod support;
mod theme;
mod untrusted_text;
