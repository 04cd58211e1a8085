//! The README's examples work: its commands run, its YAML parses with relsite's own parsers, and
//! its JSON and Swift use the feed fields the schemas define.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{RELSITE, relsite};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// Fenced code blocks as (language, text).
fn blocks(markdown: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(lang)) => current = Some((lang.trim().to_string(), String::new())),
            (Some(_), Some(_)) => out.extend(current.take()),
            (Some((_, text)), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// Shell lines of `sh` blocks, with `\` continuations joined.
fn shell_lines(markdown: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (_, text) in blocks(markdown).into_iter().filter(|(l, _)| l == "sh") {
        let mut pending = String::new();
        for line in text.lines() {
            match line.trim_end().strip_suffix('\\') {
                Some(part) => pending.push_str(part),
                None => {
                    pending.push_str(line);
                    lines.push(pending.split_whitespace().collect::<Vec<_>>().join(" "));
                    pending.clear();
                }
            }
        }
    }
    lines
}

#[test]
fn readme_commands_run() {
    let work = tempfile::tempdir().unwrap();
    let example = work.path().join("example-site");
    crate::support::copy_site(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("example-site"),
        &example,
    );
    let artifact =
        crate::ipa_builder::IpaBuilder::new("Field", "com.acme.readme", "1.0", "1").build();
    std::fs::create_dir_all(example.join("build")).unwrap();
    std::fs::write(example.join("build/Field.ipa"), artifact).unwrap();
    let bin_dir = Path::new(RELSITE).parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for line in shell_lines(&readme()) {
        // `serve` runs until stopped (tests/testsuite/commands.rs runs it), and installing is
        // what `cargo build` already does here.
        if line.starts_with("cargo run --release -- serve ") || line.starts_with("cargo install ") {
            continue;
        }
        let (command, cwd): (String, PathBuf) =
            if let Some(rest) = line.strip_prefix("cargo run --release -- ") {
                (format!("relsite {rest}"), work.path().to_path_buf())
            } else if line.starts_with("relsite ") {
                (line.clone(), example.clone())
            } else if [
                "cargo test",
                "aws s3 sync",
                "npx netlify-cli",
                "npx wrangler",
            ]
            .iter()
            .any(|p| line.starts_with(p))
            {
                continue;
            } else {
                panic!("README runs a command this test does not know: {line}");
            };
        let out = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(&cwd)
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{line}` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 3, "only {ran} relsite commands found");
    assert!(example.join("public/field/latest/index.html").is_file());
    assert!(
        example
            .join("demo/public/com.acme.readme/1.0-1/manifest.plist")
            .is_file(),
        "the README's new site built"
    );
}

#[test]
fn every_relsite_command_the_readme_names_exists() {
    let text = readme();
    let mut named = 0;
    let table: Vec<String> = blocks(&text)
        .into_iter()
        .filter(|(lang, _)| lang.is_empty())
        .flat_map(|(_, body)| body.lines().map(str::to_string).collect::<Vec<_>>())
        .filter_map(|l| l.trim().split("  ").next().map(str::to_string))
        .filter(|l| l.starts_with("relsite "))
        .collect();
    let spans = text.split('`').skip(1).step_by(2).map(str::to_string);
    for span in spans.chain(table) {
        let span = span.as_str();
        let Some(rest) = span.strip_prefix("relsite ") else {
            continue;
        };
        let words: Vec<&str> = rest
            .split_whitespace()
            .take_while(|w| !w.starts_with(['[', '-', '<']) && *w != w.to_uppercase())
            .collect();
        let mut args = words.clone();
        args.push("--help");
        let out = relsite()
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`relsite {}` does not exist: {}",
            words.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        for flag in rest
            .split_whitespace()
            .filter_map(|w| w.trim_start_matches('[').strip_prefix("--"))
        {
            let flag = flag.trim_end_matches(']');
            let help = String::from_utf8_lossy(&out.stdout);
            assert!(
                help.contains(&format!("--{flag}")),
                "`relsite {}` has no --{flag}",
                words.join(" ")
            );
        }
        named += 1;
    }
    assert!(named >= 10, "only {named} commands named");
}

#[test]
fn readme_yaml_examples_parse() {
    let mut configs = 0;
    let mut notes = 0;
    for (lang, text) in blocks(&readme()) {
        if lang != "yaml" {
            continue;
        }
        if text.contains("base_url:") {
            relsite::config::Config::parse(&text, Path::new("README.md"))
                .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
            configs += 1;
        } else if text.starts_with("notes:") {
            relsite::notes::Notes::parse(&text, Path::new("README.md"))
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            notes += 1;
        }
    }
    assert_eq!((configs, notes), (1, 1));
}

#[test]
fn readme_feed_examples_use_the_schema_fields() {
    let schema = |name: &str| -> serde_json::Value {
        serde_json::from_slice(
            &std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("schemas")
                    .join(name),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let build = schema("build.schema.json");
    let fields: Vec<&str> = build["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let all = blocks(&readme());
    let json = &all
        .iter()
        .find(|(l, _)| l == "json")
        .expect("a JSON example")
        .1;
    let example: serde_json::Value = serde_json::from_str(json).expect("the JSON example parses");
    let mut keys: Vec<&str> = example
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut expected = fields.clone();
    expected.sort_unstable();
    assert_eq!(
        keys, expected,
        "the README's build entry lists exactly the schema's fields"
    );

    let swift = &all
        .iter()
        .find(|(l, _)| l == "swift")
        .expect("a Swift example")
        .1;
    for declared in swift
        .split("let ")
        .skip(1)
        .filter_map(|s| s.split(':').next())
    {
        let name = declared.trim();
        if name.contains(' ') || name.contains('(') || name.contains('=') {
            continue;
        }
        let known = fields.contains(&name)
            || schema("latest.schema.json")["properties"]
                .get(name)
                .is_some();
        let local = ["url", "data", "newest", "mine"].contains(&name);
        assert!(
            known || local,
            "the Swift example decodes `{name}`, which no feed has"
        );
    }
    assert!(swift.contains("latest.json"));
}
