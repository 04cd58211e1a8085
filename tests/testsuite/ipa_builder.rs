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

/// A provisioning profile's content, for [`ProfileSpec::der`].
#[derive(Debug, Clone)]
pub struct ProfileSpec {
    pub name: String,
    pub team_name: String,
    pub team_id: String,
    /// With the team prefix, e.g. `ABCDE12345.com.acme.field` or `ABCDE12345.*`.
    pub app_id: String,
    /// `None`: no ProvisionedDevices key.
    pub devices: Option<Vec<String>>,
    pub all_devices: bool,
    pub get_task_allow: bool,
    pub created: std::time::SystemTime,
    pub expires: std::time::SystemTime,
    /// DER certificates for DeveloperCertificates.
    pub certificates: Vec<Vec<u8>>,
}

impl ProfileSpec {
    /// An ad-hoc profile for `bundle_id` with two devices, valid for a year from 2024-01-01.
    pub fn ad_hoc(bundle_id: &str) -> ProfileSpec {
        let day = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        ProfileSpec {
            name: format!("{bundle_id} AdHoc"),
            team_name: "Example Co.".into(),
            team_id: "EXAMPLE123".into(),
            app_id: format!("EXAMPLE123.{bundle_id}"),
            devices: Some(vec![
                "00008030-001A2B3C4D5E6F01".into(),
                "00008101-000A1B2C3D4E5F02".into(),
            ]),
            all_devices: false,
            get_task_allow: false,
            created: day(1_704_067_200),
            expires: day(1_735_603_200),
            certificates: Vec::new(),
        }
    }

    pub fn plist(&self) -> Vec<u8> {
        let mut d = Dictionary::new();
        d.insert("AppIDName".into(), self.name.clone().into());
        d.insert("Name".into(), self.name.clone().into());
        d.insert("TeamName".into(), self.team_name.clone().into());
        d.insert(
            "TeamIdentifier".into(),
            Value::Array(vec![self.team_id.clone().into()]),
        );
        d.insert("UUID".into(), "12345678-1234-1234-1234-123456789012".into());
        d.insert("Platform".into(), Value::Array(vec!["iOS".into()]));
        d.insert("CreationDate".into(), Value::Date(self.created.into()));
        d.insert("ExpirationDate".into(), Value::Date(self.expires.into()));
        if let Some(devices) = &self.devices {
            d.insert(
                "ProvisionedDevices".into(),
                Value::Array(devices.iter().map(|u| u.clone().into()).collect()),
            );
        }
        if self.all_devices {
            d.insert("ProvisionsAllDevices".into(), true.into());
        }
        let mut ent = Dictionary::new();
        ent.insert("application-identifier".into(), self.app_id.clone().into());
        ent.insert("get-task-allow".into(), self.get_task_allow.into());
        ent.insert(
            "com.apple.developer.team-identifier".into(),
            self.team_id.clone().into(),
        );
        d.insert("Entitlements".into(), Value::Dictionary(ent));
        d.insert(
            "DeveloperCertificates".into(),
            Value::Array(
                self.certificates
                    .iter()
                    .map(|c| Value::Data(c.clone()))
                    .collect(),
            ),
        );
        plist_bytes(&Value::Dictionary(d), PlistFormat::Xml)
    }

    /// A CMS SignedData (DER) carrying the plist, with no signer: the shape of
    /// embedded.mobileprovision, deterministic, for tests that do not need a signature.
    pub fn der(&self) -> Vec<u8> {
        cms_signed_data(&self.plist())
    }
}

/// `SEQUENCE { signedData OID, [0] { SEQUENCE { 1, {}, { data OID, [0] { OCTET STRING } }, {} } } }`
pub fn cms_signed_data(content: &[u8]) -> Vec<u8> {
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    let encap = der(
        0x30,
        &[der(0x06, DATA), der(0xa0, &der(0x04, content))].concat(),
    );
    let signed = der(
        0x30,
        &[der(0x02, &[1]), der(0x31, &[]), encap, der(0x31, &[])].concat(),
    );
    der(0x30, &[der(0x06, SIGNED_DATA), der(0xa0, &signed)].concat())
}

fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

impl IpaBuilder {
    /// Embeds `profile` as the app's embedded.mobileprovision.
    pub fn profile(self, profile: &[u8]) -> Self {
        self.app_file("embedded.mobileprovision", profile)
    }

    /// Signs the build for devices: an ad-hoc profile for its bundle identifier that lasts
    /// until 2100, so it installs whenever a test runs.
    pub fn signed(self) -> Self {
        let bundle_id = self
            .info
            .get("CFBundleIdentifier")
            .and_then(Value::as_string)
            .unwrap_or_default()
            .to_string();
        let profile = ProfileSpec {
            expires: std::time::UNIX_EPOCH + std::time::Duration::from_secs(4_102_444_800),
            ..ProfileSpec::ad_hoc(&bundle_id)
        };
        self.profile(&profile.der())
    }
}
