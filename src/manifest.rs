//! The OTA manifest (`manifest.plist`) iOS fetches before it installs a build. Written through
//! the plist crate, so every string is XML-escaped by the writer, and read back the same way
//! (`check --deployed` reads what a host serves). The writer escapes markup but passes control
//! characters through, which XML 1.0 cannot carry at all (iOS rejects such a manifest): every
//! string is made [`publishable`] on its way to the writer.

use serde::{Deserialize, Serialize};

use crate::text::publishable;

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub items: Vec<Item>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Item {
    pub assets: Vec<Asset>,
    pub metadata: Metadata,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Asset {
    /// `software-package`, `display-image` or `full-size-image`.
    pub kind: String,
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Metadata {
    /// CFBundleIdentifier exactly: iOS refuses a mismatch.
    pub bundle_identifier: String,
    /// The marketing version.
    pub bundle_version: String,
    pub kind: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
}

/// Icon URLs for the manifest: a 57×57 and a 512×512 standard PNG.
#[derive(Debug, Clone)]
pub struct ManifestIcons {
    pub display_image: String,
    pub full_size_image: String,
}

impl Manifest {
    pub fn new(
        ipa_url: &str,
        bundle_identifier: &str,
        bundle_version: &str,
        title: &str,
        subtitle: Option<&str>,
        icons: Option<&ManifestIcons>,
    ) -> Self {
        let asset = |kind: &str, url: &str| Asset {
            kind: kind.to_string(),
            url: url.to_string(),
        };
        let mut assets = vec![asset(SOFTWARE_PACKAGE, ipa_url)];
        if let Some(icons) = icons {
            assets.push(asset("display-image", &icons.display_image));
            assets.push(asset("full-size-image", &icons.full_size_image));
        }
        Manifest {
            items: vec![Item {
                assets,
                metadata: Metadata {
                    bundle_identifier: bundle_identifier.to_string(),
                    bundle_version: bundle_version.to_string(),
                    kind: "software".to_string(),
                    title: title.to_string(),
                    subtitle: subtitle.map(str::to_string),
                },
            }],
        }
    }

    /// Reads a manifest, XML or binary.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, plist::Error> {
        plist::from_bytes(bytes)
    }

    /// The first item, the one iOS installs.
    pub fn item(&self) -> Option<&Item> {
        self.items.first()
    }

    /// The manifest as an XML plist with Apple's declaration and DOCTYPE. Characters XML 1.0
    /// cannot carry are replaced by U+FFFD, so the file is well-formed whatever the strings.
    pub fn to_xml(&self) -> Result<Vec<u8>, plist::Error> {
        let mut bytes = Vec::new();
        plist::to_writer_xml(&mut bytes, &self.publishable())?;
        if !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        Ok(bytes)
    }
}

impl Manifest {
    /// The same manifest with every string [`publishable`].
    fn publishable(&self) -> Manifest {
        let text = |s: &str| publishable(s).into_owned();
        Manifest {
            items: self
                .items
                .iter()
                .map(|item| Item {
                    assets: item
                        .assets
                        .iter()
                        .map(|a| Asset {
                            kind: text(&a.kind),
                            url: text(&a.url),
                        })
                        .collect(),
                    metadata: Metadata {
                        bundle_identifier: text(&item.metadata.bundle_identifier),
                        bundle_version: text(&item.metadata.bundle_version),
                        kind: text(&item.metadata.kind),
                        title: text(&item.metadata.title),
                        subtitle: item.metadata.subtitle.as_deref().map(text),
                    },
                })
                .collect(),
        }
    }
}

/// The asset kind of the IPA.
const SOFTWARE_PACKAGE: &str = "software-package";

impl Item {
    /// The URL of the IPA.
    pub fn package_url(&self) -> Option<&str> {
        self.assets
            .iter()
            .find(|a| a.kind == SOFTWARE_PACKAGE)
            .map(|a| a.url.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_apple_xml_plist_with_escaped_strings() {
        let m = Manifest::new(
            "https://e.com/a/1.0/A.ipa",
            "com.acme.field",
            "1.0",
            "Field <&\"> beta",
            Some("Acme & Co"),
            None,
        );
        let xml = String::from_utf8(m.to_xml().unwrap()).unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\""), "{xml}");
        assert!(
            xml.contains("Field &lt;&amp;&quot;&gt; beta")
                || xml.contains("Field &lt;&amp;\"&gt; beta"),
            "{xml}"
        );
        assert!(xml.contains("Acme &amp; Co"));
        let back: plist::Value = plist::from_bytes(xml.as_bytes()).unwrap();
        let item = &back.as_dictionary().unwrap()["items"].as_array().unwrap()[0];
        let meta = item.as_dictionary().unwrap()["metadata"]
            .as_dictionary()
            .unwrap();
        assert_eq!(
            meta["bundle-identifier"].as_string(),
            Some("com.acme.field")
        );
        assert_eq!(meta["bundle-version"].as_string(), Some("1.0"));
        assert_eq!(meta["kind"].as_string(), Some("software"));
        assert_eq!(meta["title"].as_string(), Some("Field <&\"> beta"));
        let read = Manifest::parse(xml.as_bytes()).unwrap();
        let item = read.item().unwrap();
        assert_eq!(item.metadata.title, "Field <&\"> beta");
        assert_eq!(item.package_url(), Some("https://e.com/a/1.0/A.ipa"));
    }

    #[test]
    fn lists_icons_after_the_package() {
        let icons = ManifestIcons {
            display_image: "https://e.com/i57.png".into(),
            full_size_image: "https://e.com/i512.png".into(),
        };
        let m = Manifest::new("https://e.com/a.ipa", "a", "1", "A", None, Some(&icons));
        let kinds: Vec<_> = m.items[0].assets.iter().map(|a| a.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["software-package", "display-image", "full-size-image"]
        );
    }

    #[test]
    fn strings_xml_cannot_carry_are_replaced_so_the_manifest_stays_well_formed() {
        let m = Manifest::new(
            "https://e.com/a.ipa",
            "com.acme.field",
            "1.0",
            "Field\u{1}\u{c}\u{1b}\u{0}\u{fffe}\tβ",
            Some("Acme\u{1b}[31m Co\u{ffff}"),
            None,
        );
        let xml = String::from_utf8(m.to_xml().unwrap()).unwrap();
        assert!(
            !xml.chars().any(|c| !crate::text::is_publishable(c)),
            "{xml:?}"
        );
        let read = Manifest::parse(xml.as_bytes()).unwrap();
        let meta = &read.item().unwrap().metadata;
        assert_eq!(
            meta.title,
            "Field\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\tβ"
        );
        assert_eq!(
            meta.subtitle.as_deref(),
            Some("Acme\u{fffd}[31m Co\u{fffd}")
        );
    }
}
