//! The IPAs of example-site: two apps, binary and XML Info.plists.

use crate::ipa_builder::{IpaBuilder, PlistFormat};

/// Each IPA of example-site, by path below the site root.
pub fn example_ipas() -> Vec<(&'static str, Vec<u8>)> {
    let field = |version: &str, build: &str| {
        IpaBuilder::new("Field", "com.example.field", version, build)
            .key("CFBundleDisplayName", "Field")
            .format(PlistFormat::Binary)
    };
    let tide = |version: &str, build: &str| {
        IpaBuilder::new("TideTime", "com.example.tidetime", version, build)
            .key("CFBundleDisplayName", "Tide & Time")
            .key("MinimumOSVersion", "16.0")
            .key(
                "UIDeviceFamily",
                plist::Value::Array(vec![plist::Value::Integer(1.into())]),
            )
            .format(PlistFormat::Xml)
    };
    vec![
        (
            "releases/field/1.9.0/Field.ipa",
            field("1.9.0", "190").build(),
        ),
        (
            "releases/field/1.10.0/Field.ipa",
            field("1.10.0", "200").build(),
        ),
        (
            "releases/field/1.10.1/Field.ipa",
            field("1.10.1", "205").build(),
        ),
        (
            "releases/tidetime/3.1.0-410/TideTime.ipa",
            tide("3.1.0", "410").build(),
        ),
        (
            "releases/tidetime/3.1.0-411/TideTime.ipa",
            tide("3.1.0", "411").build(),
        ),
        (
            "releases/tidetime/3.2.0-420/TideTime.ipa",
            tide("3.2.0", "420").build(),
        ),
    ]
}
