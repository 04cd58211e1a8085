//! App icons: find the loose icon PNGs the Info.plist names, take the largest, turn Apple's CgBI
//! encoding into a standard PNG, and make the sizes the manifest and pages need. Apps whose icons
//! live only in Assets.car get the configured icon or a placeholder: never a broken image.

use std::path::PathBuf;
use std::sync::Arc;

use crate::ipa::cgbi::{self, PngError, Rgba};
use crate::layout::ICON_SIZES;

/// The largest icon file relsite will read.
pub const ICON_CAP: u64 = 8 * 1024 * 1024;

/// How many of an IPA's icon files relsite decodes, largest first, looking for one that
/// decodes: real bundles hold a few sizes of one icon, and the largest decodes.
pub const MAX_ICON_DECODES: usize = 4;

/// How much of an icon file is read to rank it by the size it declares: its `IHDR` lies within
/// the first 49 bytes, after the signature and Apple's `CgBI` chunk.
pub const HEADER_LEN: u64 = 256;

/// The icon files a build publishes, as standard PNGs by size in pixels: one for each of the
/// layout's [`ICON_SIZES`]. Shared, not copied, by the builds and files that use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IconSet {
    /// By size, smallest first.
    pngs: Vec<IconPng>,
}

/// One PNG of a set: its size, its SHA-256 and its bytes, held or kept in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IconPng {
    px: u32,
    sha256: [u8; 32],
    bytes: PngBytes,
}

#[derive(Clone, PartialEq, Eq)]
enum PngBytes {
    Held(Arc<[u8]>),
    /// A file relsite keeps (the cache's), read again when the PNG is written, so a catalog's
    /// icons are not all held at once.
    Kept(PathBuf),
}

impl std::fmt::Debug for PngBytes {
    /// The bytes by their length (the PNG's SHA-256 stands for them).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PngBytes::Held(bytes) => write!(f, "Held({} bytes)", bytes.len()),
            PngBytes::Kept(path) => f.debug_tuple("Kept").field(path).finish(),
        }
    }
}

impl IconSet {
    /// Resizes `image` to every published size.
    pub fn from_image(image: &Rgba) -> Result<IconSet, PngError> {
        let pngs = ICON_SIZES
            .iter()
            .map(|&px| Ok((px, cgbi::encode_png(&cgbi::resize(image, px, px)?)?)))
            .collect::<Result<Vec<_>, PngError>>()?;
        Ok(IconSet::from_pngs(pngs))
    }

    /// A set of PNGs already made, by size.
    pub fn from_pngs(pngs: Vec<(u32, Vec<u8>)>) -> IconSet {
        IconSet::sorted(
            pngs.into_iter()
                .map(|(px, png)| IconPng {
                    px,
                    sha256: crate::text::sha256([png.as_slice()]),
                    bytes: PngBytes::Held(png.into()),
                })
                .collect(),
        )
    }

    /// A set whose PNGs are the files given with their size and SHA-256, checked intact by the
    /// caller, and read again (and checked again) when written.
    pub fn kept(files: Vec<(u32, [u8; 32], PathBuf)>) -> IconSet {
        IconSet::sorted(
            files
                .into_iter()
                .map(|(px, sha256, file)| IconPng {
                    px,
                    sha256,
                    bytes: PngBytes::Kept(file),
                })
                .collect(),
        )
    }

    /// No PNGs: the icons of a build published before, which stay where they are.
    pub fn published() -> IconSet {
        IconSet { pngs: Vec::new() }
    }

    fn sorted(mut pngs: Vec<IconPng>) -> IconSet {
        pngs.sort_by_key(|png| png.px);
        IconSet { pngs }
    }

    /// Decodes any PNG (standard or CgBI) and makes the set from it.
    pub fn from_png(bytes: &[u8]) -> Result<IconSet, PngError> {
        IconSet::from_image(&cgbi::decode(bytes)?)
    }

    /// The PNG of `px` pixels, one of [`ICON_SIZES`].
    pub fn png(&self, px: u32) -> Option<&IconPng> {
        self.pngs.iter().find(|png| png.px == px)
    }

    /// Every size's PNG, smallest first.
    pub fn pngs(&self) -> impl Iterator<Item = &IconPng> {
        self.pngs.iter()
    }
}

impl IconPng {
    /// Width and height in pixels.
    pub fn px(&self) -> u32 {
        self.px
    }

    /// The SHA-256 of the PNG's bytes.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The bytes, when they are held rather than kept in a file.
    pub fn held(&self) -> Option<&Arc<[u8]>> {
        match &self.bytes {
            PngBytes::Held(bytes) => Some(bytes),
            PngBytes::Kept(_) => None,
        }
    }

    /// The bytes: held, or read from their file, which must still be the intact PNG with
    /// this SHA-256.
    pub fn bytes(&self) -> Result<Arc<[u8]>, String> {
        match &self.bytes {
            PngBytes::Held(bytes) => Ok(Arc::clone(bytes)),
            PngBytes::Kept(file) => {
                let shown = crate::diag::display_path(file);
                let bytes = crate::fs::read_capped(file, ICON_CAP, "an icon")
                    .map_err(|e| format!("cannot read the rendered icon {shown}: {e}"))?;
                if !is_intact_png(&bytes, self.px)
                    || crate::text::sha256([bytes.as_slice()]) != self.sha256
                {
                    return Err(format!(
                        "the rendered icon {shown} changed during the build: build again"
                    ));
                }
                Ok(bytes.into())
            }
        }
    }
}

/// The entries of the app folder (not nested bundles) that are PNGs named by one of `names`,
/// matched by prefix, since names in the plist lack `@2x`, `~ipad` and `.png`.
pub fn candidates<'a>(
    entries: impl Iterator<Item = &'a str>,
    app_dir: &str,
    names: &[String],
) -> Vec<String> {
    let mut found: Vec<String> = entries
        .filter_map(|entry| {
            let file = entry.strip_prefix(app_dir)?;
            if file.contains('/') || !file.to_ascii_lowercase().ends_with(".png") {
                return None;
            }
            let stem = &file[..file.len() - 4];
            names
                .iter()
                .any(|n| {
                    let n = n.strip_suffix(".png").unwrap_or(n);
                    stem.strip_prefix(n).is_some_and(is_icon_suffix)
                })
                .then(|| entry.to_string())
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// What may follow an icon's name in its file name: a size (`60x60`, `83.5x83.5`), a scale
/// (`@2x`), an idiom (`~ipad`), each optional, in that order. Anything else is another icon,
/// such as an alternate `AppIcon-Dark` for the name `AppIcon`.
fn is_icon_suffix(rest: &str) -> bool {
    let rest = rest
        .strip_suffix("~ipad")
        .or_else(|| rest.strip_suffix("~iphone"))
        .unwrap_or(rest);
    let rest = ["@2x", "@3x", "@1x"]
        .iter()
        .find_map(|s| rest.strip_suffix(s))
        .unwrap_or(rest);
    if rest.is_empty() {
        return true;
    }
    let number = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_digit() || c == '.')
            && s.starts_with(|c: char| c.is_ascii_digit())
    };
    matches!(rest.split_once('x'), Some((w, h)) if number(w) && number(h))
}

/// Width and height from a PNG's IHDR, CgBI or not, without decoding pixels.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let mut at = SIGNATURE.len();
    if !bytes.starts_with(SIGNATURE) {
        return None;
    }
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().ok()?) as usize;
        let kind = &bytes[at + 4..at + 8];
        if kind == b"IHDR" {
            let data = bytes.get(at + 8..at + 16)?;
            let w = u32::from_be_bytes(data[0..4].try_into().ok()?);
            let h = u32::from_be_bytes(data[4..8].try_into().ok()?);
            return Some((w, h));
        }
        at = at.checked_add(12)?.checked_add(len)?;
    }
    None
}

/// Whether `bytes` is a whole, undamaged standard PNG of `px`×`px` pixels: every chunk's CRC
/// holds and the file ends with IEND. Pixels are not decoded.
pub fn is_intact_png(bytes: &[u8], px: u32) -> bool {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) || dimensions(bytes) != Some((px, px)) {
        return false;
    }
    let mut at = SIGNATURE.len();
    while let Some(header) = bytes.get(at..at + 8) {
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let Some(end) = (at + 8).checked_add(len) else {
            return false;
        };
        let (Some(kind_and_data), Some(crc)) = (bytes.get(at + 4..end), bytes.get(end..end + 4))
        else {
            return false;
        };
        if crc32fast::hash(kind_and_data).to_be_bytes() != crc {
            return false;
        }
        if &kind_and_data[..4] == b"IEND" {
            return end + 4 == bytes.len();
        }
        at = end + 4;
    }
    false
}

/// DejaVu Sans Bold, reduced to the digits and the letters A–Z (`assets/fonts/LICENSE`).
const INITIALS_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold-initials.ttf");

/// A square placeholder: the name's initial (a letter A–Z or a digit, else none) drawn smooth
/// in white on a colour derived from the bundle identifier.
pub fn placeholder(bundle_id: &str, name: &str) -> Result<IconSet, PngError> {
    use ab_glyph::{Font, FontRef, PxScale};
    const SIDE: u32 = 512;
    let (r, g, b) = colour_for(bundle_id);
    let mut pixels = Vec::with_capacity((SIDE * SIDE * 4) as usize);
    for _ in 0..SIDE * SIDE {
        pixels.extend_from_slice(&[r, g, b, 255]);
    }
    // The name's first letter or digit, when the font has it: never a later one instead.
    let initial = name
        .chars()
        .find(|c| c.is_alphanumeric())
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase());
    let font = FontRef::try_from_slice(INITIALS_FONT).ok();
    let outlined = initial.zip(font).and_then(|(c, font)| {
        let glyph = font
            .glyph_id(c)
            .with_scale(PxScale::from(SIDE as f32 * 0.72));
        font.outline_glyph(glyph)
    });
    if let Some(outline) = outlined {
        // Centred on its own bounds, whatever the letter's shape.
        let bounds = outline.px_bounds();
        let left = ((SIDE as f32 - bounds.width()) / 2.0).round() as i64;
        let top = ((SIDE as f32 - bounds.height()) / 2.0).round() as i64;
        let side = i64::from(SIDE);
        outline.draw(|x, y, coverage| {
            let (px, py) = (left + i64::from(x), top + i64::from(y));
            if !(0..side).contains(&px) || !(0..side).contains(&py) {
                return;
            }
            let i = ((py * side + px) * 4) as usize;
            let coverage = coverage.clamp(0.0, 1.0);
            for (channel, base) in pixels[i..i + 3].iter_mut().zip([r, g, b]) {
                let blended = f32::from(base) + (255.0 - f32::from(base)) * coverage;
                *channel = blended.round() as u8;
            }
        });
    }
    IconSet::from_image(&Rgba {
        width: SIDE,
        height: SIDE,
        pixels,
    })
}

/// A stable, readable colour: the hue comes from the bundle id, saturation and lightness are
/// fixed so that white text stays legible.
fn colour_for(bundle_id: &str) -> (u8, u8, u8) {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bundle_id.as_bytes());
    let hue = f64::from(u16::from_be_bytes([digest[0], digest[1]]) % 360);
    let (s, l) = (0.55, 0.42);
    let c = (1.0 - (2.0 * l - 1.0_f64).abs()) * s;
    let h = hue / 60.0;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to_byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (to_byte(r), to_byte(g), to_byte(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_match_by_prefix_in_the_app_folder_only() {
        let entries = [
            "Payload/A.app/AppIcon60x60@2x.png",
            "Payload/A.app/AppIcon60x60@3x.png",
            "Payload/A.app/AppIcon76x76@2x~ipad.png",
            "Payload/A.app/Other.png",
            "Payload/A.app/PlugIns/E.appex/AppIcon60x60@2x.png",
            "Payload/A.app/AppIcon60x60.car",
        ];
        let got = candidates(
            entries.iter().copied(),
            "Payload/A.app/",
            &["AppIcon60x60".into(), "AppIcon76x76".into()],
        );
        assert_eq!(
            got,
            vec![
                "Payload/A.app/AppIcon60x60@2x.png",
                "Payload/A.app/AppIcon60x60@3x.png",
                "Payload/A.app/AppIcon76x76@2x~ipad.png"
            ]
        );
    }

    #[test]
    fn alternate_icons_do_not_match_the_primary_name() {
        let entries = [
            "Payload/A.app/AppIcon60x60@2x.png",
            "Payload/A.app/AppIcon83.5x83.5@2x~ipad.png",
            "Payload/A.app/AppIcon-Dark60x60@2x.png",
            "Payload/A.app/AppIconOld.png",
            "Payload/A.app/AppIcon.png",
        ];
        let got = candidates(
            entries.iter().copied(),
            "Payload/A.app/",
            &["AppIcon".into()],
        );
        assert_eq!(
            got,
            vec![
                "Payload/A.app/AppIcon.png",
                "Payload/A.app/AppIcon60x60@2x.png",
                "Payload/A.app/AppIcon83.5x83.5@2x~ipad.png"
            ]
        );
    }

    #[test]
    fn names_with_png_suffix_still_match() {
        let got = candidates(
            ["Payload/A.app/Icon.png"].into_iter(),
            "Payload/A.app/",
            &["Icon.png".into()],
        );
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn reads_dimensions_without_decoding() {
        let set = placeholder("com.a.b", "Field").unwrap();
        for png in set.pngs() {
            let px = png.px();
            assert_eq!(dimensions(png.held().unwrap()), Some((px, px)));
        }
        assert_eq!(set.pngs().count(), ICON_SIZES.len());
        assert_eq!(dimensions(b"nope"), None);
        assert_eq!(dimensions(b"\x89PNG\r\n\x1a\n\xff\xff\xff\xffIDAT"), None);
    }

    #[test]
    fn intact_pngs_are_told_from_damaged_ones() {
        let set = placeholder("com.a.b", "Field").unwrap();
        let png = set.png(512).unwrap().held().unwrap();
        assert!(is_intact_png(png, 512));
        assert!(!is_intact_png(png, 57), "another size");
        assert!(!is_intact_png(&png[..png.len() - 1], 512), "truncated");
        let mut flipped = png.to_vec();
        let middle = flipped.len() / 2;
        flipped[middle] ^= 1;
        assert!(!is_intact_png(&flipped, 512), "a flipped bit");
        let mut longer = png.to_vec();
        longer.push(0);
        assert!(!is_intact_png(&longer, 512), "bytes after IEND");
    }

    /// The 512 px placeholder of an app, decoded.
    fn drawn(bundle_id: &str, name: &str) -> Rgba {
        let set = placeholder(bundle_id, name).unwrap();
        cgbi::decode(set.png(512).unwrap().held().unwrap()).unwrap()
    }

    #[test]
    fn placeholder_colour_follows_the_bundle_id() {
        let a = drawn("com.a.one", "One");
        let b = drawn("com.a.two", "One");
        assert_ne!(a.pixels[..4], b.pixels[..4], "corner colours differ");
        assert_eq!(a.pixels[3], 255, "opaque");
        assert_eq!(
            placeholder("com.a.one", "One").unwrap(),
            placeholder("com.a.one", "One").unwrap()
        );
    }

    #[test]
    fn placeholder_draws_the_initial() {
        let img = drawn("com.a.b", "field");
        let centre = ((256 * 512 + 256) * 4) as usize;
        let corner = 0;
        assert_ne!(
            img.pixels[centre..centre + 3],
            img.pixels[corner..corner + 3]
        );
        for name in ["版本", "Éclair", "東京 Metro"] {
            let img = drawn("com.a.b", name);
            assert_eq!(
                img.pixels[centre..centre + 3],
                img.pixels[corner..corner + 3],
                "{name}: no letter but its first, so a plain square"
            );
        }
    }

    #[test]
    fn the_initial_is_smooth_not_blocky() {
        // A round letter: its edge crosses pixels at every angle.
        let img = drawn("com.a.b", "sonar");
        let edges: std::collections::BTreeSet<u8> = img.pixels.chunks(4).map(|p| p[0]).collect();
        assert!(
            edges.len() > 32,
            "anti-aliased edges give many shades between the colour and white: {}",
            edges.len()
        );
    }
}
