//! Icon PNG handling for app bundles.
//!
//! Icons inside an `.ipa` are often not standard PNGs: Xcode rewrites them into
//! Apple's "CgBI" variant (an extra `CgBI` chunk before `IHDR`, headerless raw
//! deflate in `IDAT`, BGRA channel order and premultiplied alpha), which
//! browsers and ordinary decoders cannot display. This module turns both
//! standard and CgBI PNGs into straight RGBA8, resizes them, and writes
//! standard PNGs so the generated site can show the icons.
//!
//! CgBI files are decoded by rewriting them into a standard PNG byte stream and
//! handing that to the `png` crate. The rewrite inflates nothing: it drops the
//! `CgBI` chunk and the ancillary chunks, joins the `IDAT` data and puts a
//! 2-byte zlib header in front of the raw deflate stream (a stream that is
//! already zlib-wrapped is left as it is), and writes fresh CRCs. The stream
//! has no Adler-32 trailer, so the decoder is told not to check one. `png`
//! then inflates, unfilters and de-interlaces the data, within allocation
//! limits sized from `IHDR`; the channel swap and un-premultiplying happen
//! afterwards on the RGBA8 output.

use std::io::Cursor;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// Largest accepted width or height, in pixels. Apple's largest app icon is 1024 pixels square.
pub const MAX_DIMENSION: u32 = 4096;

/// Most pixels an accepted image may have: 2048×2048, 16 MiB as RGBA. Decoding and resizing
/// hold a few copies of an image at once, on each thread that reads one. Checked from `IHDR`
/// before anything is decoded.
pub const MAX_PIXELS: u64 = 2048 * 2048;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const MAX_CHUNK_LEN: u32 = 0x7FFF_FFFF;
/// Size of each `IDAT` chunk written when re-wrapping CgBI data.
const IDAT_SPLIT: usize = 1 << 18;
/// zlib header put in front of CgBI's raw deflate data: deflate, 32 KiB
/// window, no preset dictionary, "fastest" level hint.
const ZLIB_HEADER: [u8; 2] = [0x78, 0x01];
/// Stands in for the Adler-32 trailer CgBI image data lacks, where `png`
/// needs one (see `cgbi_to_standard_png`).
const ADLER32_PLACEHOLDER: [u8; 4] = [0; 4];
/// Room in the `png` allocation limit for a CgBI image beyond its RGBA size:
/// the buffers `png` keeps for `PLTE` (768 bytes at most) and `tRNS`.
const PNG_LIMIT_SLACK: usize = 4096;

/// A decoded image: straight (non-premultiplied) RGBA, 8 bits per channel,
/// rows top to bottom, `pixels.len() == width * height * 4`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgba {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum PngError {
    #[error("not a PNG")]
    NotPng,
    #[error("truncated chunk")]
    TruncatedChunk,
    #[error("bad IHDR")]
    BadIhdr,
    #[error(
        "image too large ({width}x{height}): relsite decodes at most {MAX_DIMENSION} pixels a side and {MAX_PIXELS} pixels in all"
    )]
    TooLarge { width: u32, height: u32 },
    #[error("corrupt image data: {0}")]
    Corrupt(String),
    #[error("invalid RGBA buffer: {width}x{height} needs {expected} bytes, got {actual}")]
    InvalidBuffer {
        width: u32,
        height: u32,
        expected: usize,
        actual: usize,
    },
    #[error("cannot resize the icon: {0}")]
    Resize(String),
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

/// True when `bytes` is a PNG whose first chunk is Apple's `CgBI` chunk.
pub fn is_cgbi(bytes: &[u8]) -> bool {
    bytes.len() >= 16 && bytes[..8] == PNG_SIGNATURE && &bytes[12..16] == b"CgBI"
}

/// Decodes a standard PNG or an Apple CgBI PNG into straight RGBA8. The size `IHDR` declares
/// is checked against [`MAX_DIMENSION`] and [`MAX_PIXELS`] before anything else is read.
pub fn decode(bytes: &[u8]) -> Result<Rgba, PngError> {
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(PngError::NotPng);
    }
    let (width, height) = declared_size(bytes)?;
    check_dimensions(width, height)?;
    if is_cgbi(bytes) {
        let plain = cgbi_to_standard_png(bytes)?;
        let mut img = decode_standard(&plain.bytes, plain.limits)?;
        bgra_premultiplied_to_rgba(&mut img.pixels);
        Ok(img)
    } else {
        decode_standard(bytes, png::Limits::default())
    }
}

/// Encodes straight RGBA8 as a standard PNG. The same input always yields the
/// same bytes (fixed compression and filter settings, no time or text chunks).
pub fn encode_png(img: &Rgba) -> Result<Vec<u8>, PngError> {
    check_dimensions(img.width, img.height)?;
    check_buffer(img)?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, img.width, img.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder
        .write_header()
        .map_err(|e| PngError::Encode(e.to_string()))?;
    writer
        .write_image_data(&img.pixels)
        .map_err(|e| PngError::Encode(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| PngError::Encode(e.to_string()))?;
    Ok(out)
}

/// Resamples `img` to `width` x `height` with a Lanczos3 convolution, both for
/// shrinking and enlarging. Colour is filtered in premultiplied-alpha space
/// (multiplied before and divided after), so transparent pixels do not bleed
/// dark fringes into their neighbours.
///
/// Degenerate input is an error, never a panic and never a made-up image: an
/// empty source or target, or a source whose buffer does not match its
/// dimensions.
pub fn resize(img: &Rgba, width: u32, height: u32) -> Result<Rgba, PngError> {
    if width == 0 || height == 0 {
        return Err(PngError::Resize(format!(
            "cannot resize to {width}x{height}"
        )));
    }
    check_buffer(img)?;
    if img.width == 0 || img.height == 0 {
        return Err(PngError::Resize(format!(
            "the source is {}x{}",
            img.width, img.height
        )));
    }
    if img.width == width && img.height == height {
        return Ok(img.clone());
    }
    let src = Image::from_vec_u8(img.width, img.height, img.pixels.clone(), PixelType::U8x4)
        .map_err(|e| PngError::Resize(e.to_string()))?;
    let mut dst = Image::new(width, height, PixelType::U8x4);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(true);
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| PngError::Resize(e.to_string()))?;
    Ok(Rgba {
        width,
        height,
        pixels: dst.into_vec(),
    })
}

/// The buffer holds exactly `width * height` RGBA pixels.
fn check_buffer(img: &Rgba) -> Result<(), PngError> {
    let expected = rgba_len(img.width, img.height);
    if img.pixels.len() != expected {
        return Err(PngError::InvalidBuffer {
            width: img.width,
            height: img.height,
            expected,
            actual: img.pixels.len(),
        });
    }
    Ok(())
}

fn rgba_len(width: u32, height: u32) -> usize {
    (width as usize)
        .saturating_mul(height as usize)
        .saturating_mul(4)
}

fn check_dimensions(width: u32, height: u32) -> Result<(), PngError> {
    if width == 0 || height == 0 {
        return Err(PngError::BadIhdr);
    }
    if width > MAX_DIMENSION
        || height > MAX_DIMENSION
        || u64::from(width) * u64::from(height) > MAX_PIXELS
    {
        return Err(PngError::TooLarge { width, height });
    }
    Ok(())
}

/// Width and height from the `IHDR` chunk, which comes first in a PNG, or second after the
/// `CgBI` chunk of an Apple PNG.
fn declared_size(bytes: &[u8]) -> Result<(u32, u32), PngError> {
    let mut at = PNG_SIGNATURE.len();
    let chunk = |at: usize| -> Result<(&[u8], &[u8]), PngError> {
        let header = bytes.get(at..at + 8).ok_or(PngError::TruncatedChunk)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let data = at
            .checked_add(8 + len)
            .and_then(|end| bytes.get(at + 8..end))
            .ok_or(PngError::TruncatedChunk)?;
        Ok((&header[4..8], data))
    };
    let (mut kind, mut data) = chunk(at)?;
    if kind == b"CgBI" {
        at += 12 + data.len();
        (kind, data) = chunk(at)?;
    }
    if kind != b"IHDR" || data.len() != 13 {
        return Err(PngError::BadIhdr);
    }
    let width = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let height = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
    Ok((width, height))
}

fn map_decoding_error(err: png::DecodingError) -> PngError {
    match err {
        png::DecodingError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            PngError::TruncatedChunk
        }
        other => PngError::Corrupt(other.to_string()),
    }
}

/// Decodes a standard PNG with the `png` crate and normalizes it to RGBA8.
fn decode_standard(bytes: &[u8], limits: png::Limits) -> Result<Rgba, PngError> {
    // Rewritten CgBI streams have no Adler-32 trailer, so the checksum must
    // not be verified (`png` skips it by default; this keeps it that way).
    let mut options = png::DecodeOptions::default();
    options.set_ignore_adler32(true);
    let mut decoder = png::Decoder::new_with_options(Cursor::new(bytes), options);
    decoder.set_limits(limits);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    let mut reader = decoder.read_info().map_err(map_decoding_error)?;
    let (width, height) = {
        let info = reader.info();
        (info.width, info.height)
    };
    check_dimensions(width, height)?;
    let size = reader
        .output_buffer_size()
        .ok_or(PngError::TooLarge { width, height })?;
    let mut buf = vec![0; size];
    let out = reader.next_frame(&mut buf).map_err(map_decoding_error)?;
    if out.bit_depth != png::BitDepth::Eight {
        return Err(PngError::Corrupt(format!(
            "unexpected output bit depth {:?}",
            out.bit_depth
        )));
    }
    let channels = match out.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(PngError::Corrupt("palette was not expanded".into()));
        }
    };
    let (w, h) = (out.width as usize, out.height as usize);
    let row_len = w * channels;
    if out.line_size < row_len || buf.len() < out.line_size.saturating_mul(h) {
        return Err(PngError::Corrupt(
            "decoder output is shorter than expected".into(),
        ));
    }
    let mut pixels = Vec::with_capacity(rgba_len(out.width, out.height));
    for row in buf.chunks_exact(out.line_size).take(h) {
        for px in row[..row_len].chunks_exact(channels) {
            match *px {
                [g] => pixels.extend_from_slice(&[g, g, g, 255]),
                [g, a] => pixels.extend_from_slice(&[g, g, g, a]),
                [r, g, b] => pixels.extend_from_slice(&[r, g, b, 255]),
                [r, g, b, a] => pixels.extend_from_slice(&[r, g, b, a]),
                _ => {}
            }
        }
    }
    Ok(Rgba {
        width: out.width,
        height: out.height,
        pixels,
    })
}

/// Swaps BGRA to RGBA and undoes alpha premultiplication in place.
fn bgra_premultiplied_to_rgba(pixels: &mut [u8]) {
    for px in pixels.chunks_exact_mut(4) {
        px.swap(0, 2);
        let a = u32::from(px[3]);
        if a > 0 && a < 255 {
            for c in &mut px[..3] {
                let v = (u32::from(*c) * 255 + a / 2) / a;
                *c = v.min(255) as u8;
            }
        }
    }
}

/// What `cgbi_to_standard_png` needs from `IHDR`.
struct Ihdr {
    width: u32,
    height: u32,
    interlaced: bool,
}

/// Checks the `IHDR` data the way the `png` crate would, plus the
/// `MAX_DIMENSION` cap.
fn parse_ihdr(data: &[u8]) -> Result<Ihdr, PngError> {
    let data: &[u8; 13] = data.try_into().map_err(|_| PngError::BadIhdr)?;
    let width = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
    let height = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
    let (bit_depth, color_type) = (data[8], data[9]);
    let depth_ok = match color_type {
        0 => matches!(bit_depth, 1 | 2 | 4 | 8 | 16),
        3 => matches!(bit_depth, 1 | 2 | 4 | 8),
        2 | 4 | 6 => matches!(bit_depth, 8 | 16),
        _ => false,
    };
    if !depth_ok || data[10] != 0 || data[11] != 0 || data[12] > 1 {
        return Err(PngError::BadIhdr);
    }
    check_dimensions(width, height)?;
    Ok(Ihdr {
        width,
        height,
        interlaced: data[12] == 1,
    })
}

/// True when `cmf`, `flg` form a valid zlib header (deflate, window of at
/// most 32 KiB, no preset dictionary, correct check bits). The first bytes of
/// a raw deflate stream from a real encoder never do: the first byte would
/// have to open a stored block with a non-zero padding bit.
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0F == 8
        && cmf >> 4 <= 7
        && flg & 0x20 == 0
        && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// A CgBI file rewritten as a standard PNG byte stream, and the `png` limits
/// that fit the image it declares.
struct StandardPng {
    bytes: Vec<u8>,
    limits: png::Limits,
}

/// Rewrites a CgBI PNG into a standard PNG byte stream holding the same
/// (still BGRA, premultiplied) image data: keeps `IHDR`, `PLTE` and `tRNS`,
/// joins the `IDAT` data into one stream and puts a zlib header in front of
/// it (unless it already has one), drops the `CgBI` chunk and everything
/// else, ends with `IEND`, and writes fresh CRCs. Nothing is inflated here.
/// The stream lacks the Adler-32 trailer, which the decoder is told not to
/// check; only for interlaced images at most 4 pixels wide does a placeholder
/// take its place.
fn cgbi_to_standard_png(bytes: &[u8]) -> Result<StandardPng, PngError> {
    let mut ihdr_data: Option<&[u8]> = None;
    let mut plte: Option<&[u8]> = None;
    let mut trns: Option<&[u8]> = None;
    let mut idat: Vec<&[u8]> = Vec::new();
    let mut idat_len = 0usize;
    let mut saw_iend = false;

    let mut pos = PNG_SIGNATURE.len();
    while pos < bytes.len() {
        let header = bytes.get(pos..pos + 8).ok_or(PngError::TruncatedChunk)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if len > MAX_CHUNK_LEN {
            return Err(PngError::Corrupt(format!(
                "chunk length {len} out of range"
            )));
        }
        let kind = &header[4..8];
        let data_start = pos + 8;
        let data_end = data_start
            .checked_add(len as usize)
            .ok_or(PngError::TruncatedChunk)?;
        let data = bytes
            .get(data_start..data_end)
            .ok_or(PngError::TruncatedChunk)?;
        if bytes.len() - data_end < 4 {
            return Err(PngError::TruncatedChunk);
        }
        pos = data_end + 4;

        match kind {
            b"CgBI" => {}
            b"IHDR" => {
                if ihdr_data.is_some() {
                    return Err(PngError::BadIhdr);
                }
                ihdr_data = Some(data);
            }
            _ if ihdr_data.is_none() => return Err(PngError::BadIhdr),
            b"PLTE" => plte = Some(data),
            b"tRNS" => trns = Some(data),
            b"IDAT" => {
                idat.push(data);
                idat_len += data.len();
            }
            b"IEND" => {
                saw_iend = true;
                break;
            }
            _ => {}
        }
    }
    if !saw_iend && idat_len == 0 {
        return Err(PngError::TruncatedChunk);
    }
    let ihdr_data = ihdr_data.ok_or(PngError::BadIhdr)?;
    let ihdr = parse_ihdr(ihdr_data)?;
    if idat_len == 0 {
        return Err(PngError::Corrupt("no IDAT data".into()));
    }

    // CgBI data is normally raw deflate; a stream that is already zlib-wrapped
    // is accepted as it is.
    let mut head = idat.iter().flat_map(|data| data.iter().copied());
    let wrapped = matches!(
        (head.next(), head.next()),
        (Some(cmf), Some(flg)) if is_zlib_header(cmf, flg)
    );
    let mut stream = Vec::with_capacity(ZLIB_HEADER.len() + idat_len + ADLER32_PLACEHOLDER.len());
    if !wrapped {
        stream.extend_from_slice(&ZLIB_HEADER);
    }
    for data in &idat {
        stream.extend_from_slice(data);
    }
    // In an interlaced image at most 4 pixels wide some Adam7 passes are
    // empty, yet `png` 0.18 expects one filter byte per line of them. Running
    // out of data short of that is accepted only once the zlib stream has
    // ended, which `png` notes after reading the 4 Adler-32 bytes, so without
    // a trailer such images would never decode. Four bytes stand in for it
    // there; their value is never checked, and after a stream that does end
    // in a trailer they are ignored. The cost: in a deflate stream cut short
    // they are read as more data, so losing up to 4 bytes from the end of
    // such a file can go unnoticed. Other images get no placeholder.
    if ihdr.interlaced && ihdr.width <= 4 {
        stream.extend_from_slice(&ADLER32_PLACEHOLDER);
    }

    let mut out = Vec::with_capacity(stream.len() + 1024);
    out.extend_from_slice(&PNG_SIGNATURE);
    write_chunk(&mut out, b"IHDR", ihdr_data);
    if let Some(p) = plte {
        write_chunk(&mut out, b"PLTE", p);
    }
    if let Some(t) = trns {
        write_chunk(&mut out, b"tRNS", t);
    }
    for part in stream.chunks(IDAT_SPLIT) {
        write_chunk(&mut out, b"IDAT", part);
    }
    write_chunk(&mut out, b"IEND", &[]);

    // The image data itself is inflated by `png` in small steps into buffers
    // sized from `IHDR`, so however far the deflate stream would expand, only
    // the declared image is ever produced. What `png` counts against the limit
    // (a row buffer, the `PLTE` and `tRNS` data) is bounded by the declared
    // RGBA size plus a little room for those two chunks.
    let limits = png::Limits {
        bytes: rgba_len(ihdr.width, ihdr.height).saturating_add(PNG_LIMIT_SLACK),
    };
    Ok(StandardPng { bytes: out, limits })
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Callers pass chunk data no longer than `IDAT_SPLIT` or an input chunk,
    // both of which fit in the 31-bit PNG chunk length.
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(p: &str) -> PathBuf {
        crate::test_fixtures::dir().join(p)
    }

    fn read(p: &str) -> Vec<u8> {
        std::fs::read(fixture(p)).unwrap_or_else(|e| panic!("reading fixture {p}: {e}"))
    }

    const CGBI: &str = "an3park__async-cgbi-to-png/cgbi.png";
    const PLAIN: &str = "an3park__async-cgbi-to-png/png.png";
    const CGBI_INTERLACED: &str = "an3park__async-cgbi-to-png/cgbi2.png";
    const PLAIN_RGB: &str = "an3park__async-cgbi-to-png/png2.png";
    const PINCRUSH: &str = "mosra__magnum-plugins/rgba-binary-alpha-iphone.png";
    const PINCRUSH_SOURCE: &str = "mosra__magnum-plugins/rgba-binary-alpha.png";
    const DEFRY_ICON: &str = "leenxyz__node-pngdefry/icon.png";

    const ALL_PNGS: [&str; 7] = [
        CGBI,
        PLAIN,
        CGBI_INTERLACED,
        PLAIN_RGB,
        PINCRUSH,
        PINCRUSH_SOURCE,
        DEFRY_ICON,
    ];

    /// Compares a decoded CgBI image with its plain counterpart. RGB is
    /// compared only where alpha is non-zero, with a tolerance covering the
    /// precision lost by premultiplication; alpha may differ by at most 1.
    fn assert_close(cgbi: &Rgba, plain: &Rgba) {
        assert_eq!((cgbi.width, cgbi.height), (plain.width, plain.height));
        assert_eq!(cgbi.pixels.len(), plain.pixels.len());
        for (i, (c, p)) in cgbi
            .pixels
            .chunks_exact(4)
            .zip(plain.pixels.chunks_exact(4))
            .enumerate()
        {
            let (x, y) = (i as u32 % cgbi.width, i as u32 / cgbi.width);
            assert!(
                c[3].abs_diff(p[3]) <= 1,
                "alpha at ({x},{y}): cgbi {c:?} plain {p:?}"
            );
            let a = u32::from(c[3].min(p[3]));
            if a == 0 {
                continue;
            }
            let tolerance = 255u32.div_ceil(a) + 1;
            for ch in 0..3 {
                assert!(
                    u32::from(c[ch].abs_diff(p[ch])) <= tolerance,
                    "channel {ch} at ({x},{y}): cgbi {c:?} plain {p:?} tolerance {tolerance}"
                );
            }
        }
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn detects_cgbi_only_on_cgbi_files() {
        assert!(is_cgbi(&read(CGBI)));
        assert!(is_cgbi(&read(CGBI_INTERLACED)));
        assert!(is_cgbi(&read(PINCRUSH)));
        assert!(is_cgbi(&read(DEFRY_ICON)));
        assert!(!is_cgbi(&read(PLAIN)));
        assert!(!is_cgbi(&read(PLAIN_RGB)));
        assert!(!is_cgbi(&read(PINCRUSH_SOURCE)));
        assert!(!is_cgbi(b""));
        assert!(!is_cgbi(b"CgBI CgBI CgBI CgBI"));
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn decodes_cgbi_like_its_plain_counterpart() {
        let cgbi = decode(&read(CGBI)).expect("cgbi.png decodes");
        let plain = decode(&read(PLAIN)).expect("png.png decodes");
        assert_eq!((cgbi.width, cgbi.height), (120, 120));
        assert_close(&cgbi, &plain);
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn decodes_interlaced_cgbi_like_its_rgb_counterpart_up_to_colour_conversion() {
        let cgbi = decode(&read(CGBI_INTERLACED)).expect("cgbi2.png decodes");
        let plain = decode(&read(PLAIN_RGB)).expect("png2.png decodes");
        assert_eq!((cgbi.width, cgbi.height), (180, 180));
        assert_eq!((plain.width, plain.height), (180, 180));
        // png2.png has no alpha channel; cgbi2.png is fully opaque.
        assert!(plain.pixels.chunks_exact(4).all(|p| p[3] == 255));
        assert!(cgbi.pixels.chunks_exact(4).all(|p| p[3] == 255));
        // png2.png is not a lossless conversion: its colours went through the
        // ICC profile embedded in cgbi2.png (iCCP) into sRGB. So instead of
        // equality, check that every colour of the CgBI decode maps to one
        // colour of png2.png (a per-colour transform, which a wrong
        // de-interlacing or unfiltering would break) and that the shift is
        // small.
        let mut mapping = std::collections::HashMap::new();
        for (c, p) in cgbi
            .pixels
            .chunks_exact(4)
            .zip(plain.pixels.chunks_exact(4))
        {
            let seen = *mapping
                .entry([c[0], c[1], c[2]])
                .or_insert([p[0], p[1], p[2]]);
            for ch in 0..3 {
                assert!(
                    seen[ch].abs_diff(p[ch]) <= 1,
                    "{c:?} maps to {seen:?} and {p:?}"
                );
                assert!(c[ch].abs_diff(p[ch]) <= 24, "{c:?} vs {p:?}");
            }
        }
        assert!(mapping.len() > 1000, "{} distinct colours", mapping.len());
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn decodes_cgbi_fixtures_to_reference_pixels() {
        // CRC-32 of the RGBA output as computed by an independent decoder
        // (raw inflate, per-pass unfiltering, BGRA swap, un-premultiply).
        for (name, size, crc) in [
            (CGBI, 120, 0x51f5_229a),
            (CGBI_INTERLACED, 180, 0x072b_bbd1),
            (PINCRUSH, 3, 0x49ae_9351),
            (DEFRY_ICON, 60, 0x27a1_0511),
        ] {
            let img = decode(&read(name)).expect("decodes");
            assert_eq!(img.width, size, "{name}");
            assert_eq!(crc32fast::hash(&img.pixels), crc, "{name}");
        }
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn decodes_pincrush_cgbi_like_its_source() {
        let cgbi = decode(&read(PINCRUSH)).expect("iphone png decodes");
        let plain = decode(&read(PINCRUSH_SOURCE)).expect("source png decodes");
        assert_eq!((cgbi.width, cgbi.height), (3, 2));
        assert!(cgbi.pixels.chunks_exact(4).any(|p| p[3] == 0));
        assert_close(&cgbi, &plain);
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn decodes_pngdefry_icon_at_60_by_60() {
        let img = decode(&read(DEFRY_ICON)).expect("icon.png decodes");
        assert_eq!((img.width, img.height), (60, 60));
        assert_eq!(img.pixels.len(), 60 * 60 * 4);
    }

    /// Rebuilds a PNG with all its `IDAT` data joined into one `IDAT` chunk
    /// (where the first one was) and `prefix` put in front of that data.
    fn with_idat_prefix(png: &[u8], prefix: &[u8]) -> Vec<u8> {
        let mut chunks = Vec::new();
        let mut idat = prefix.to_vec();
        let mut pos = PNG_SIGNATURE.len();
        while pos < png.len() {
            let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
            let kind: [u8; 4] = png[pos + 4..pos + 8].try_into().unwrap();
            let data = &png[pos + 8..pos + 8 + len];
            if &kind == b"IDAT" {
                if idat.len() == prefix.len() {
                    chunks.push((kind, Vec::new()));
                }
                idat.extend_from_slice(data);
            } else {
                chunks.push((kind, data.to_vec()));
            }
            pos += 12 + len;
        }
        let mut out = PNG_SIGNATURE.to_vec();
        for (kind, data) in chunks {
            let data = if &kind == b"IDAT" { &idat } else { &data };
            write_chunk(&mut out, &kind, data);
        }
        out
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn decodes_cgbi_whose_image_data_is_already_zlib_wrapped() {
        for name in [CGBI, CGBI_INTERLACED, PINCRUSH, DEFRY_ICON] {
            let original = read(name);
            let expected = decode(&original).expect("decodes");
            // Unchanged data, rebuilt chunks: same pixels.
            let rebuilt = with_idat_prefix(&original, &[]);
            assert!(is_cgbi(&rebuilt), "{name}");
            assert_eq!(decode(&rebuilt).expect("decodes"), expected, "{name}");
            // A zlib header already in front of the raw deflate data is kept
            // as it is (no Adler-32 trailer follows, as in CgBI data).
            for header in [[0x78, 0x01], [0x78, 0x9C], [0x78, 0xDA]] {
                let wrapped = with_idat_prefix(&original, &header);
                let img = decode(&wrapped).unwrap_or_else(|e| panic!("{name} {header:x?}: {e}"));
                assert_eq!(img, expected, "{name} {header:x?}");
            }
            // A second header would be read as deflate data and fail.
            let twice = with_idat_prefix(&original, &[0x78, 0x01, 0x78, 0x01]);
            assert!(decode(&twice).is_err(), "{name}");
        }
    }

    /// A 3x2 CgBI image (BGRA, premultiplied) whose image data is one stored
    /// deflate block, as raw deflate, with every scanline unfiltered; the
    /// last `missing` bytes of that data are left out.
    fn tiny_cgbi(interlaced: bool, missing: usize) -> Vec<u8> {
        const PX: [[u8; 4]; 6] = [
            [10, 20, 30, 128],
            [1, 2, 3, 255],
            [0, 0, 0, 0],
            [200, 100, 50, 255],
            [40, 40, 40, 64],
            [7, 8, 9, 255],
        ];
        // Rows of pixel indices: the two rows, or the non-empty Adam7 passes
        // of a 3x2 image (1: (0,0); 4: (2,0); 6: (1,0); 7: the second row).
        let rows: &[&[usize]] = if interlaced {
            &[&[0], &[2], &[1], &[3, 4, 5]]
        } else {
            &[&[0, 1, 2], &[3, 4, 5]]
        };
        let mut raw = Vec::new();
        for row in rows {
            raw.push(0);
            for &i in *row {
                raw.extend_from_slice(&PX[i]);
            }
        }
        let len = raw.len() as u16;
        let mut deflate = vec![0x01];
        deflate.extend_from_slice(&len.to_le_bytes());
        deflate.extend_from_slice(&(!len).to_le_bytes());
        deflate.extend_from_slice(&raw);
        deflate.truncate(deflate.len() - missing);
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&3u32.to_be_bytes());
        ihdr.extend_from_slice(&2u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, u8::from(interlaced)]);
        let mut out = PNG_SIGNATURE.to_vec();
        write_chunk(&mut out, b"CgBI", &[0x50, 0x00, 0x20, 0x06]);
        write_chunk(&mut out, b"IHDR", &ihdr);
        write_chunk(&mut out, b"IDAT", &deflate);
        write_chunk(&mut out, b"IEND", &[]);
        out
    }

    #[test]
    fn decodes_tiny_cgbi_images_interlaced_or_not() {
        let expected = Rgba {
            width: 3,
            height: 2,
            pixels: vec![
                60, 40, 20, 128, 3, 2, 1, 255, 0, 0, 0, 0, //
                50, 100, 200, 255, 159, 159, 159, 64, 9, 8, 7, 255,
            ],
        };
        for interlaced in [false, true] {
            let bytes = tiny_cgbi(interlaced, 0);
            assert!(is_cgbi(&bytes));
            assert_eq!(decode(&bytes).expect("decodes"), expected, "{interlaced}");
            // Image data that ends early is an error. (Interlaced, this holds
            // only beyond the 4 bytes of the Adler-32 placeholder.)
            let missing = if interlaced { 5 } else { 1 };
            assert!(
                decode(&tiny_cgbi(interlaced, missing)).is_err(),
                "{interlaced}"
            );
        }
    }

    #[test]
    fn image_data_expanding_far_beyond_the_declared_image_is_cut_off() {
        // Fixed-Huffman raw deflate: a literal 0, then copies of 258 zeros at
        // distance 1, about 64 MiB in all, for a 1x1 image (5 bytes of data).
        let mut bits: Vec<bool> = vec![true, true, false]; // final block, fixed codes
        let mut code = |value: u32, len: u32| {
            bits.extend((0..len).rev().map(|i| value >> i & 1 == 1));
        };
        code(0x30, 8); // literal 0
        for _ in 0..(64 << 20) / 258 {
            code(0xC5, 8); // length 258
            code(0, 5); // distance 1
        }
        code(0, 7); // end of block
        let deflate: Vec<u8> = bits
            .chunks(8)
            .map(|byte| byte.iter().rev().fold(0, |acc, &b| acc << 1 | u8::from(b)))
            .collect();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&1u32.to_be_bytes());
        ihdr.extend_from_slice(&1u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut bomb = PNG_SIGNATURE.to_vec();
        write_chunk(&mut bomb, b"CgBI", &[0x50, 0x00, 0x20, 0x06]);
        write_chunk(&mut bomb, b"IHDR", &ihdr);
        write_chunk(&mut bomb, b"IDAT", &deflate);
        write_chunk(&mut bomb, b"IEND", &[]);
        assert!(bomb.len() < 500_000);
        let img = decode(&bomb).expect("decodes");
        assert_eq!((img.width, img.height, img.pixels), (1, 1, vec![0; 4]));
    }

    /// A PNG, CgBI or not, whose `IHDR` declares `width` x `height` RGBA pixels, followed by
    /// image data that is not deflate at all, in a chunk cut short.
    fn declaring(cgbi: bool, width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut out = PNG_SIGNATURE.to_vec();
        if cgbi {
            write_chunk(&mut out, b"CgBI", &[0x50, 0x00, 0x20, 0x06]);
        }
        write_chunk(&mut out, b"IHDR", &ihdr);
        write_chunk(&mut out, b"IDAT", &[0xFF; 64]);
        out.truncate(out.len() - 20);
        out
    }

    /// Refused from the header: the rest, cut short and not even deflate, is never looked at,
    /// and no buffer for the pixels is made.
    #[test]
    fn images_larger_than_the_limits_are_refused_from_their_header() {
        for cgbi in [false, true] {
            for (width, height) in [
                (8192, 8192),
                (4097, 1),
                (1, 4097),
                (4096, 4096),
                (2049, 2048),
            ] {
                let err = decode(&declaring(cgbi, width, height)).expect_err("refused");
                assert_eq!(
                    err.to_string(),
                    format!(
                        "image too large ({width}x{height}): relsite decodes at most 4096 pixels a side and 4194304 pixels in all"
                    ),
                    "{cgbi}"
                );
            }
            // Within the limits, the rest is read, and found broken.
            for (width, height) in [(2048, 2048), (4096, 1024)] {
                let err = decode(&declaring(cgbi, width, height)).expect_err("broken data");
                assert!(
                    matches!(err, PngError::Corrupt(_) | PngError::TruncatedChunk),
                    "{cgbi} {err}"
                );
            }
            assert!(matches!(
                decode(&declaring(cgbi, 0, 5)),
                Err(PngError::BadIhdr)
            ));
        }
    }

    #[test]
    fn the_header_must_come_first() {
        let mut text_first = PNG_SIGNATURE.to_vec();
        write_chunk(&mut text_first, b"tEXt", b"a\0b");
        text_first.extend_from_slice(&declaring(false, 1, 1)[8..]);
        assert!(matches!(decode(&text_first), Err(PngError::BadIhdr)));
        let whole = declaring(true, 1, 1);
        for cut in [8, 20, 30, 40] {
            assert!(matches!(
                decode(&whole[..cut]),
                Err(PngError::TruncatedChunk)
            ));
        }
    }

    #[test]
    fn unpremultiplies_and_swaps_channels() {
        let mut px = vec![
            10, 20, 30, 128, 0, 0, 0, 0, 1, 2, 3, 255, 200, 200, 200, 100,
        ];
        bgra_premultiplied_to_rgba(&mut px);
        assert_eq!(
            px,
            vec![
                60, 40, 20, 128, 0, 0, 0, 0, 3, 2, 1, 255, 255, 255, 255, 100
            ]
        );
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn encode_then_decode_round_trips() {
        for name in ALL_PNGS {
            let img = decode(&read(name)).expect("fixture decodes");
            let bytes = encode_png(&img).expect("encodes");
            assert!(!is_cgbi(&bytes));
            let again = decode(&bytes).expect("re-decodes");
            assert_eq!(img, again, "{name}");
        }
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn encoding_is_deterministic() {
        let img = decode(&read(CGBI)).expect("decodes");
        let a = encode_png(&img).expect("encodes");
        let b = encode_png(&img).expect("encodes");
        assert_eq!(a, b);
    }

    #[test]
    fn encoding_rejects_mismatched_buffers() {
        let bad = Rgba {
            width: 2,
            height: 2,
            pixels: vec![0; 15],
        };
        assert!(matches!(
            encode_png(&bad),
            Err(PngError::InvalidBuffer {
                expected: 16,
                actual: 15,
                ..
            })
        ));
        let empty = Rgba {
            width: 0,
            height: 0,
            pixels: vec![],
        };
        assert!(encode_png(&empty).is_err());
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn resizes_down_and_up_to_requested_sizes() {
        let img = decode(&read(CGBI_INTERLACED)).expect("decodes");
        for (w, h) in [(57, 57), (512, 512), (1, 1), (90, 30)] {
            let out = resize(&img, w, h).expect("resizes");
            assert_eq!((out.width, out.height), (w, h));
            assert_eq!(out.pixels.len(), (w * h * 4) as usize);
        }
    }

    #[test]
    fn resizing_keeps_colour_of_pixels_next_to_transparency() {
        // Left half transparent black, right half opaque white: filtering in
        // straight alpha would darken the edge, premultiplied filtering keeps
        // every visible pixel white.
        let (w, h) = (16u32, 16u32);
        let mut pixels = Vec::new();
        for _y in 0..h {
            for x in 0..w {
                if x < w / 2 {
                    pixels.extend_from_slice(&[0, 0, 0, 0]);
                } else {
                    pixels.extend_from_slice(&[255, 255, 255, 255]);
                }
            }
        }
        let img = Rgba {
            width: w,
            height: h,
            pixels,
        };
        for size in [5, 7, 40] {
            let out = resize(&img, size, size).expect("resizes");
            for p in out.pixels.chunks_exact(4) {
                if p[3] >= 16 {
                    assert!(p[0] >= 240 && p[1] >= 240 && p[2] >= 240, "{p:?}");
                }
            }
        }
    }

    #[test]
    fn resizing_degenerate_input_is_an_error() {
        let empty = Rgba {
            width: 0,
            height: 0,
            pixels: vec![],
        };
        assert!(matches!(resize(&empty, 4, 4), Err(PngError::Resize(_))));
        let short = Rgba {
            width: 4,
            height: 4,
            pixels: vec![1; 3],
        };
        assert!(matches!(
            resize(&short, 2, 2),
            Err(PngError::InvalidBuffer {
                expected: 64,
                actual: 3,
                ..
            })
        ));
        let ok = Rgba {
            width: 1,
            height: 1,
            pixels: vec![9; 4],
        };
        assert!(matches!(resize(&ok, 0, 3), Err(PngError::Resize(_))));
        assert_eq!(resize(&ok, 2, 2).unwrap().pixels.len(), 16);
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn rejects_non_png_input_with_clear_errors() {
        assert!(matches!(decode(b""), Err(PngError::NotPng)));
        assert!(matches!(decode(b"GIF89a......"), Err(PngError::NotPng)));
        let sig_only = PNG_SIGNATURE.to_vec();
        assert!(decode(&sig_only).is_err());
        let mut cgbi = read(CGBI);
        cgbi.truncate(40);
        assert!(matches!(decode(&cgbi), Err(PngError::TruncatedChunk)));
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn rejects_oversized_cgbi_dimensions() {
        let mut bytes = read(PINCRUSH);
        // The IHDR data follows the signature and the CgBI chunk.
        let cgbi_len = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        let ihdr_data = 8 + 12 + cgbi_len + 8;
        bytes[ihdr_data..ihdr_data + 4].copy_from_slice(&20_000u32.to_be_bytes());
        let err = decode(&bytes).expect_err("too large");
        assert_eq!(
            err.to_string(),
            "image too large (20000x2): relsite decodes at most 4096 pixels a side and 4194304 pixels in all"
        );
    }

    #[test]
    #[cfg_attr(
        not(have_fixtures),
        ignore = "needs ../shared/fixtures/real beside the checkout"
    )]
    fn malformed_variants_of_the_fixtures_never_panic() {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for name in ALL_PNGS {
            let original = read(name);
            // Every prefix length near the start and a sample of the rest.
            let step = (original.len() / 100).max(1);
            for cut in (0..original.len().min(120)).chain((120..original.len()).step_by(step)) {
                let _ = decode(&original[..cut]);
            }
            // Single bit flips and random byte overwrites.
            for _ in 0..150 {
                let mut bytes = original.clone();
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] ^= 1 << (next() % 8);
                let _ = decode(&bytes);
                let mut bytes = original.clone();
                for _ in 0..4 {
                    let at = (next() % bytes.len() as u64) as usize;
                    bytes[at] = next() as u8;
                }
                let _ = decode(&bytes);
            }
            // Garbage after a valid signature, and the CgBI header on garbage.
            let mut garbage = PNG_SIGNATURE.to_vec();
            garbage.extend((0..512).map(|_| next() as u8));
            let _ = decode(&garbage);
            let mut cgbi_garbage = original[..original.len().min(33)].to_vec();
            cgbi_garbage.extend((0..512).map(|_| next() as u8));
            let _ = decode(&cgbi_garbage);
        }
    }
}
