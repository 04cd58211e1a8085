//! The IPAs of example-site: two apps, binary and XML Info.plists, loose icons and ad-hoc and
//! enterprise profiles.

use crate::ipa_builder::{IpaBuilder, PlistFormat, ProfileSpec};
use relsite::ipa::cgbi::{Rgba, encode_png};

/// A 120×120 icon: a diagonal gradient between two colours.
fn icon(from: [u8; 3], to: [u8; 3]) -> Vec<u8> {
    let size = 120u32;
    let mut pixels = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let t = (x + y) as f32 / (2 * (size - 1)) as f32;
            for c in 0..3 {
                pixels.push((from[c] as f32 + (to[c] as f32 - from[c] as f32) * t).round() as u8);
            }
            pixels.push(255);
        }
    }
    encode_png(&Rgba {
        width: size,
        height: size,
        pixels,
    })
    .expect("icon encodes")
}

/// Far enough ahead that the example's profiles stay valid.
fn until_2036() -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(2_082_758_400)
}

/// Each IPA of example-site, by path below the site root.
pub fn example_ipas() -> Vec<(&'static str, Vec<u8>)> {
    let field_icon = icon([0x1f, 0x8a, 0x4c], [0x0b, 0x3d, 0x91]);
    let field_profile = ProfileSpec {
        expires: until_2036(),
        ..ProfileSpec::ad_hoc("com.example.field")
    }
    .der();
    let field = |version: &str, build: &str| {
        IpaBuilder::new("Field", "com.example.field", version, build)
            .key("CFBundleDisplayName", "Field")
            .key(
                "CFBundleIcons",
                plist::Value::Dictionary(
                    [(
                        "CFBundlePrimaryIcon".to_string(),
                        plist::Value::Dictionary(
                            [(
                                "CFBundleIconFiles".to_string(),
                                plist::Value::Array(vec!["AppIcon60x60".into()]),
                            )]
                            .into_iter()
                            .collect(),
                        ),
                    )]
                    .into_iter()
                    .collect(),
                ),
            )
            .app_file("AppIcon60x60@2x.png", &field_icon)
            .profile(&field_profile)
            .format(PlistFormat::Binary)
    };
    let tide_icon = icon([0x00, 0x7c, 0xb5], [0x7f, 0xd3, 0xe8]);
    let tide_profile = ProfileSpec {
        name: "Tide & Time In-House".into(),
        app_id: "EXAMPLE123.com.example.*".into(),
        devices: None,
        all_devices: true,
        expires: until_2036(),
        ..ProfileSpec::ad_hoc("com.example.tidetime")
    }
    .der();
    let tide = |version: &str, build: &str| {
        IpaBuilder::new("TideTime", "com.example.tidetime", version, build)
            .key("CFBundleDisplayName", "Tide & Time")
            .key("MinimumOSVersion", "16.0")
            .key(
                "UIDeviceFamily",
                plist::Value::Array(vec![plist::Value::Integer(1.into())]),
            )
            .key(
                "CFBundleIconFiles",
                plist::Value::Array(vec!["Icon".into()]),
            )
            .app_file("Icon@3x.png", &tide_icon)
            .profile(&tide_profile)
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
