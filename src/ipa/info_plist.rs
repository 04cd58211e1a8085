//! The app's Info.plist, binary or XML. Keys may carry unexpected types (a string where an array
//! is documented): such values degrade to "absent", never to a panic.

use plist::{Dictionary, Value};

use super::plist_reader::{self, PlistError};

/// How many icon names relsite takes from an Info.plist, in the order of [`InfoPlist::icon_names`].
/// Real apps name a handful; each name is matched against every entry of the app folder.
pub const MAX_ICON_NAMES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum InfoPlistError {
    #[error(transparent)]
    Plist(#[from] PlistError),
    #[error("no CFBundleIdentifier")]
    NoBundleId,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InfoPlist {
    /// CFBundleIdentifier, exactly as written: iOS refuses a manifest that differs.
    pub bundle_id: String,
    /// CFBundleShortVersionString, the marketing version.
    pub short_version: Option<String>,
    /// CFBundleVersion, the build number.
    pub build: Option<String>,
    /// CFBundleDisplayName, else CFBundleName.
    pub display_name: Option<String>,
    /// MinimumOSVersion.
    pub minimum_os: Option<String>,
    /// UIDeviceFamily: 1 iPhone, 2 iPad, 3 TV, 4 Watch, 7 Vision.
    pub device_families: Vec<u64>,
    /// CFBundleSupportedPlatforms, e.g. iPhoneOS.
    pub platforms: Vec<String>,
    /// Icon base names from CFBundleIcons, CFBundleIcons~ipad, CFBundleIconFiles and
    /// CFBundleIconFile, in that order, without duplicates; the first [`MAX_ICON_NAMES`].
    pub icon_names: Vec<String>,
}

impl InfoPlist {
    pub fn parse(bytes: &[u8]) -> Result<InfoPlist, InfoPlistError> {
        let value = plist_reader::read(bytes)?;
        let empty = Dictionary::new();
        let dict = value.as_dictionary().unwrap_or(&empty);
        let bundle_id = string(dict, "CFBundleIdentifier")
            .filter(|s| !s.trim().is_empty())
            .ok_or(InfoPlistError::NoBundleId)?;
        let mut plist = InfoPlist {
            bundle_id,
            short_version: string(dict, "CFBundleShortVersionString").filter(|s| !s.is_empty()),
            build: string(dict, "CFBundleVersion").filter(|s| !s.is_empty()),
            display_name: string(dict, "CFBundleDisplayName")
                .filter(|s| !s.trim().is_empty())
                .or_else(|| string(dict, "CFBundleName").filter(|s| !s.trim().is_empty())),
            minimum_os: string(dict, "MinimumOSVersion").filter(|s| !s.is_empty()),
            device_families: list(dict.get("UIDeviceFamily"))
                .filter_map(|v| match v {
                    Value::Integer(i) => i.as_unsigned(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                })
                .collect(),
            platforms: list(dict.get("CFBundleSupportedPlatforms"))
                .filter_map(scalar)
                .collect(),
            icon_names: icon_names(dict),
        };
        // Held for every build of a catalog: no room to grow.
        plist.device_families.shrink_to_fit();
        plist.platforms.shrink_to_fit();
        plist.icon_names.shrink_to_fit();
        Ok(plist)
    }
}

/// A string value, or an integer written as one; anything else is absent.
fn string(dict: &Dictionary, key: &str) -> Option<String> {
    dict.get(key).and_then(scalar)
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// The items of an array, or the value itself when a single value stands where an array belongs.
fn list(value: Option<&Value>) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Some(Value::Array(items)) => Box::new(items.iter()),
        Some(other) => Box::new(std::iter::once(other)),
        None => Box::new(std::iter::empty()),
    }
}

fn icon_names(dict: &Dictionary) -> Vec<String> {
    let mut names = Vec::new();
    for key in ["CFBundleIcons", "CFBundleIcons~ipad"] {
        if let Some(primary) = dict
            .get(key)
            .and_then(Value::as_dictionary)
            .and_then(|icons| icons.get("CFBundlePrimaryIcon"))
        {
            match primary {
                Value::Dictionary(p) => {
                    names.extend(list(p.get("CFBundleIconFiles")).filter_map(scalar));
                    names.extend(string(p, "CFBundleIconName"));
                }
                other => names.extend(scalar(other)),
            }
        }
    }
    names.extend(list(dict.get("CFBundleIconFiles")).filter_map(scalar));
    names.extend(string(dict, "CFBundleIconFile"));
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| !n.is_empty() && seen.insert(n.clone()));
    names.truncate(MAX_ICON_NAMES);
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xml(body: &str) -> Vec<u8> {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>{body}</dict></plist>"#
        )
        .into_bytes()
    }

    #[test]
    fn can_read_xml_info_plist() {
        let p = InfoPlist::parse(&xml(
            "<key>CFBundleIdentifier</key><string>com.acme.field</string>
             <key>CFBundleShortVersionString</key><string>1.4.0</string>
             <key>CFBundleVersion</key><string>312</string>
             <key>CFBundleName</key><string>Field</string>
             <key>MinimumOSVersion</key><string>15.0</string>
             <key>UIDeviceFamily</key><array><integer>1</integer><integer>2</integer></array>
             <key>CFBundleSupportedPlatforms</key><array><string>iPhoneOS</string></array>",
        ))
        .unwrap();
        assert_eq!(p.bundle_id, "com.acme.field");
        assert_eq!(p.short_version.as_deref(), Some("1.4.0"));
        assert_eq!(p.build.as_deref(), Some("312"));
        assert_eq!(p.display_name.as_deref(), Some("Field"));
        assert_eq!(p.minimum_os.as_deref(), Some("15.0"));
        assert_eq!(p.device_families, vec![1, 2]);
        assert_eq!(p.platforms, vec!["iPhoneOS"]);
    }

    #[test]
    fn can_read_binary_info_plist() {
        let mut dict = Dictionary::new();
        dict.insert("CFBundleIdentifier".into(), Value::String("io.x".into()));
        dict.insert("CFBundleDisplayName".into(), Value::String("X".into()));
        let mut bytes = Vec::new();
        plist::to_writer_binary(&mut bytes, &Value::Dictionary(dict)).unwrap();
        assert!(bytes.starts_with(b"bplist00"));
        let p = InfoPlist::parse(&bytes).unwrap();
        assert_eq!(p.bundle_id, "io.x");
        assert_eq!(p.display_name.as_deref(), Some("X"));
    }

    #[test]
    fn unexpected_types_degrade() {
        let p = InfoPlist::parse(&xml(
            "<key>CFBundleIdentifier</key><string>a.b</string>
             <key>CFBundleVersion</key><integer>7</integer>
             <key>CFBundleShortVersionString</key><array/>
             <key>UIDeviceFamily</key><integer>2</integer>
             <key>CFBundleSupportedPlatforms</key><string>iPhoneOS</string>
             <key>CFBundleIcons</key><dict><key>CFBundlePrimaryIcon</key><string>App Icon</string></dict>
             <key>CFBundleIconFiles</key><string>Icon</string>",
        ))
        .unwrap();
        assert_eq!(p.build.as_deref(), Some("7"));
        assert_eq!(p.short_version, None);
        assert_eq!(p.device_families, vec![2]);
        assert_eq!(p.platforms, vec!["iPhoneOS"]);
        assert_eq!(p.icon_names, vec!["App Icon", "Icon"]);
    }

    #[test]
    fn collects_icon_names_in_order() {
        let p = InfoPlist::parse(&xml(
            "<key>CFBundleIdentifier</key><string>a.b</string>
             <key>CFBundleIcons</key><dict><key>CFBundlePrimaryIcon</key><dict>
               <key>CFBundleIconFiles</key><array><string>AppIcon60x60</string></array>
               <key>CFBundleIconName</key><string>AppIcon</string></dict></dict>
             <key>CFBundleIcons~ipad</key><dict><key>CFBundlePrimaryIcon</key><dict>
               <key>CFBundleIconFiles</key><array><string>AppIcon60x60</string><string>AppIcon76x76</string></array></dict></dict>
             <key>CFBundleIconFile</key><string>Legacy</string>",
        ))
        .unwrap();
        assert_eq!(
            p.icon_names,
            vec!["AppIcon60x60", "AppIcon", "AppIcon76x76", "Legacy"]
        );
    }

    #[test]
    fn takes_the_first_icon_names_only() {
        let files: String = (0..1000)
            .map(|i| format!("<string>Icon{i}</string>"))
            .collect();
        let p = InfoPlist::parse(&xml(&format!(
            "<key>CFBundleIdentifier</key><string>a.b</string>
             <key>CFBundleIconFile</key><string>Legacy</string>
             <key>CFBundleIconFiles</key><array>{files}</array>"
        )))
        .unwrap();
        assert_eq!(p.icon_names.len(), MAX_ICON_NAMES);
        assert_eq!(p.icon_names[0], "Icon0");
        assert_eq!(
            p.icon_names[MAX_ICON_NAMES - 1],
            format!("Icon{}", MAX_ICON_NAMES - 1)
        );
    }

    #[test]
    fn errors_without_bundle_id() {
        assert!(matches!(
            InfoPlist::parse(&xml("<key>CFBundleName</key><string>X</string>")),
            Err(InfoPlistError::NoBundleId)
        ));
        assert!(InfoPlist::parse(b"garbage").is_err());
        assert!(matches!(
            InfoPlist::parse(&xml("")),
            Err(InfoPlistError::NoBundleId)
        ));
    }
}
