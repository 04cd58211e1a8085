//! Builds small but real IPAs: deterministic zip archives with a binary or XML Info.plist, the
//! nested bundles that must never be mistaken for the app, and macOS metadata entries.
//! Shared by the test suite and `examples/gen_example_site.rs`.

#![allow(dead_code)]

use std::io::{Cursor, Write};

use plist::{Dictionary, Value};
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlistFormat {
    Binary,
    Xml,
}

#[derive(Debug, Clone)]
pub struct IpaBuilder {
    app_dir: String,
    format: PlistFormat,
    info: Dictionary,
    entries: Vec<(String, Vec<u8>)>,
    nested_bundles: bool,
}

impl IpaBuilder {
    /// An IPA of `Payload/<name>.app` with the given identity.
    pub fn new(name: &str, bundle_id: &str, version: &str, build: &str) -> Self {
        let mut info = Dictionary::new();
        info.insert("CFBundleIdentifier".into(), bundle_id.into());
        info.insert("CFBundleShortVersionString".into(), version.into());
        info.insert("CFBundleVersion".into(), build.into());
        info.insert("CFBundleName".into(), name.into());
        info.insert("CFBundleExecutable".into(), name.into());
        info.insert("MinimumOSVersion".into(), "15.0".into());
        info.insert(
            "UIDeviceFamily".into(),
            Value::Array(vec![Value::Integer(1.into()), Value::Integer(2.into())]),
        );
        info.insert(
            "CFBundleSupportedPlatforms".into(),
            Value::Array(vec!["iPhoneOS".into()]),
        );
        IpaBuilder {
            app_dir: format!("Payload/{name}.app/"),
            format: PlistFormat::Binary,
            info,
            entries: Vec::new(),
            nested_bundles: true,
        }
    }

    pub fn format(mut self, format: PlistFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets an Info.plist key.
    pub fn key(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.info.insert(key.into(), value.into());
        self
    }

    /// Removes an Info.plist key.
    pub fn without(mut self, key: &str) -> Self {
        self.info.remove(key);
        self
    }

    /// Adds a file inside the app folder.
    pub fn app_file(mut self, path: &str, bytes: &[u8]) -> Self {
        let name = format!("{}{path}", self.app_dir);
        self.entries.push((name, bytes.to_vec()));
        self
    }

    /// Leaves out the extension, framework and macOS metadata entries.
    pub fn bare(mut self) -> Self {
        self.nested_bundles = false;
        self
    }

    pub fn info_plist_bytes(&self) -> Vec<u8> {
        plist_bytes(&Value::Dictionary(self.info.clone()), self.format)
    }

    /// The IPA's bytes: the same input always gives the same bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut entries: Vec<(String, Vec<u8>)> = vec![
            (
                format!("{}Info.plist", self.app_dir),
                self.info_plist_bytes(),
            ),
            (
                format!("{}{}", self.app_dir, executable(&self.info)),
                b"\xcf\xfa\xed\xfe not a real executable".to_vec(),
            ),
        ];
        if self.nested_bundles {
            let nested = |id: &str| {
                let mut d = Dictionary::new();
                d.insert("CFBundleIdentifier".into(), id.into());
                d.insert("CFBundleShortVersionString".into(), "99.0".into());
                d.insert("CFBundleVersion".into(), "9999".into());
                plist_bytes(&Value::Dictionary(d), self.format)
            };
            entries.push((
                format!("{}PlugIns/Share.appex/Info.plist", self.app_dir),
                nested("com.example.wrong.share-extension"),
            ));
            entries.push((
                format!("{}Frameworks/Kit.framework/Info.plist", self.app_dir),
                nested("com.example.wrong.framework"),
            ));
            entries.push((
                format!("__MACOSX/{}._Info.plist", self.app_dir),
                b"\x00\x05\x16\x07AppleDouble".to_vec(),
            ));
        }
        entries.extend(self.entries.iter().cloned());
        zip_bytes(&entries)
    }
}

fn executable(info: &Dictionary) -> String {
    info.get("CFBundleExecutable")
        .and_then(Value::as_string)
        .unwrap_or("App")
        .to_string()
}

pub fn plist_bytes(value: &Value, format: PlistFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    match format {
        PlistFormat::Binary => plist::to_writer_binary(&mut bytes, value),
        PlistFormat::Xml => plist::to_writer_xml(&mut bytes, value),
    }
    .expect("a plist writes to memory");
    bytes
}

/// A zip of the given entries, deflated, with fixed timestamps.
pub fn zip_bytes(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), options).expect("zip entry");
        zip.write_all(bytes).expect("zip write");
    }
    zip.finish().expect("zip finish").into_inner()
}
