//! Hostile input: files made to hang, exhaust or crash a reader. Each run must end within the
//! bounds of [`TestSite::run_bounded`] with an error naming the file and the limit it broke,
//! and a build that fails leaves the previous output as it was.

use std::path::Path;

use crate::errors::fails_keeping_output;
use crate::ipa_builder::IpaBuilder;
use crate::support::*;

/// Gives app `com.acme.good` the icon `icons/good.png` in relsite.yaml.
fn configure_icon(site: &TestSite) {
    site.config(&format!(
        "title: T\nbase_url: {BASE_URL}\napps:\n  com.acme.good:\n    icon: icons/good.png\n"
    ));
}

fn good_ipa() -> IpaBuilder {
    IpaBuilder::new("Good", "com.acme.good", "1.0", "1")
}

/// A site with relsite.yaml and an IPA to add from outside it, at `<tmp>/in/Good.ipa`.
fn site_to_add_to() -> (TestSite, tempfile::TempDir) {
    let site = TestSite::new();
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(outside.path().join("in")).expect("mkdir");
    std::fs::write(outside.path().join("in/Good.ipa"), good_ipa().build()).expect("write");
    (site, outside)
}

/// A sparse file of `len` bytes: it takes no room on disk, but reads as `len` zero bytes.
pub(crate) fn sparse(path: &Path, len: u64) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::File::create(path)
        .and_then(|f| f.set_len(len))
        .expect("sparse file");
}

#[test]
fn add_refuses_a_fifo_as_the_ipa() {
    let (site, outside) = site_to_add_to();
    let fifo = outside.path().join("in/Pipe.ipa");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let run = site.run_bounded(&["add", fifo.to_str().unwrap()]);
    run.assert_fails_with(
        "Pipe.ipa: error: cannot open: it is a named pipe (FIFO), not a regular file",
    );
    assert!(site.tree("releases").is_empty());
}

#[test]
fn add_refuses_a_fifo_as_the_notes_file() {
    let (site, outside) = site_to_add_to();
    let fifo = outside.path().join("in/notes.md");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let ipa = outside.path().join("in/Good.ipa");
    let run = site.run_bounded(&[
        "add",
        ipa.to_str().unwrap(),
        "--notes-file",
        fifo.to_str().unwrap(),
    ]);
    run.assert_fails_with("notes.md: error: failed to read");
    run.assert_mentions(&["it is a named pipe (FIFO), not a regular file"]);
    assert!(site.tree("releases").is_empty());
}

#[test]
fn a_configured_icon_that_is_a_symlink_to_dev_zero() {
    fails_keeping_output(
        |s| {
            s.symlink("icons/good.png", Path::new("/dev/zero"));
            configure_icon(s);
        },
        "icons/good.png: error: `apps.com.acme.good.icon` cannot be used: failed to read",
    )
    .assert_mentions(&["it leads outside the site folder, to `/dev/zero`"]);
}

#[test]
fn a_configured_icon_that_is_a_fifo() {
    fails_keeping_output(
        |s| {
            s.fifo("icons/good.png");
            configure_icon(s);
        },
        "icons/good.png: error: `apps.com.acme.good.icon` cannot be used: failed to read",
    )
    .assert_mentions(&["it is a named pipe (FIFO), not a regular file"]);
}

#[test]
fn a_configured_icon_larger_than_an_icon_may_be() {
    fails_keeping_output(
        |s| {
            sparse(&s.path("icons/good.png"), 2 << 30);
            configure_icon(s);
        },
        "icons/good.png: error: `apps.com.acme.good.icon` cannot be used: failed to read",
    )
    .assert_mentions(&["it is larger than 8388608 bytes, the most relsite reads of an icon"]);
}

#[test]
fn releases_that_are_fifos_or_devices() {
    let run = fails_keeping_output(
        |s| {
            s.fifo("releases/bad/Pipe.ipa");
            s.symlink("releases/good/Good.yaml", Path::new("/dev/zero"));
        },
        "releases/bad/Pipe.ipa: error: is a named pipe (FIFO), not a regular file",
    );
    run.assert_mentions(&["releases/good/Good.yaml: error: is a device, not a regular file"]);
}

#[test]
fn an_ipa_or_notes_that_lead_outside_the_site() {
    let outside = tempfile::tempdir().expect("temp dir");
    let ipa = outside.path().join("Other.ipa");
    std::fs::write(&ipa, good_ipa().build()).expect("write");
    let notes = outside.path().join("notes.yaml");
    std::fs::write(&notes, "notes: hi\n").expect("write");
    let run = fails_keeping_output(
        |s| {
            s.symlink("releases/other/Other.ipa", &ipa);
            s.symlink("releases/good/Good.yaml", &notes);
        },
        "releases/other/Other.ipa: error: failed to read",
    );
    assert_eq!(
        run.lines_with("it leads outside the site folder").len(),
        2,
        "{}",
        run.stderr
    );
    run.assert_mentions(&["releases/good/Good.yaml: error: failed to read"]);
}

#[test]
fn a_symlink_inside_the_site_is_followed() {
    let site = TestSite::new();
    site.ipa("store/Good.ipa", &good_ipa());
    site.file("store/Good.yaml", b"notes: hi\n");
    site.symlink("releases/good/Good.ipa", &site.path("store/Good.ipa"));
    site.symlink("releases/good/Good.yaml", &site.path("store/Good.yaml"));
    site.run_bounded(&["build"]).assert_ok();
}

#[test]
fn a_notes_file_of_gigabytes() {
    fails_keeping_output(
        |s| sparse(&s.path("releases/good/Good.yaml"), 2 << 30),
        "releases/good/Good.yaml: error: failed to read",
    )
    .assert_mentions(&["it is larger than 1048576 bytes, the most relsite reads of a notes file"]);
}

#[test]
fn a_config_of_gigabytes() {
    fails_keeping_output(
        |s| sparse(&s.path("relsite.yaml"), 2 << 30),
        "relsite.yaml: error: failed to read",
    )
    .assert_mentions(&[
        "it is larger than 1048576 bytes, the most relsite reads of a configuration file",
    ]);
}

#[test]
fn a_config_that_is_a_fifo() {
    fails_keeping_output(
        |s| {
            s.remove("relsite.yaml");
            s.fifo("relsite.yaml");
        },
        "relsite.yaml: error: failed to read",
    )
    .assert_mentions(&["it is a named pipe (FIFO), not a regular file"]);
}

/// A 300 KB description named by 20,000 aliases: 6 GB of text once expanded, from a file under
/// a megabyte.
#[test]
fn a_config_whose_aliases_expand_to_gigabytes() {
    let mut config = format!(
        "title: T\nbase_url: {BASE_URL}\ndescription: &d {}\napps:\n",
        "a".repeat(300_000)
    );
    for i in 0..20_000 {
        config.push_str(&format!("  a{i}: {{description: *d}}\n"));
    }
    assert!(config.len() < 1 << 20);
    fails_keeping_output(
        |s| {
            s.config(&config);
        },
        "relsite.yaml:",
    )
    .assert_mentions(&[
        "with its aliases expanded, the document holds more than 4194304 bytes of text, the most relsite reads",
    ]);
}

/// Nine levels of ten aliases each of the level below: serde_yaml's own limit on alias jumps
/// stops it, and the configuration's first unknown key is reported.
#[test]
fn a_config_that_is_a_billion_laughs() {
    let mut config = format!(
        "title: T\nbase_url: {BASE_URL}\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    );
    for level in 1..10 {
        let below = format!("*l{}", level - 1);
        let list = [below.as_str(); 10].join(", ");
        config.push_str(&format!("l{level}: &l{level} [{list}]\n"));
    }
    fails_keeping_output(
        |s| {
            s.config(&config);
        },
        "relsite.yaml:3:1: error: unknown field `l0`",
    );
}

#[test]
fn add_refuses_a_notes_file_of_gigabytes() {
    let (site, outside) = site_to_add_to();
    let notes = outside.path().join("in/notes.md");
    sparse(&notes, 2 << 30);
    let ipa = outside.path().join("in/Good.ipa");
    let run = site.run_bounded(&[
        "add",
        ipa.to_str().unwrap(),
        "--notes-file",
        notes.to_str().unwrap(),
    ]);
    run.assert_fails_with("notes.md: error: failed to read");
    run.assert_mentions(&[
        "it is larger than 1048576 bytes, the most relsite reads of a notes file",
    ]);
    assert!(site.tree("releases").is_empty());
}

#[test]
fn notes_longer_than_markdown_may_be() {
    let notes = format!("notes: |\n  {}\n", "word ".repeat(60_000));
    fails_keeping_output(
        |s| {
            s.file("releases/good/Good.yaml", notes.as_bytes());
        },
        "releases/good/Good.yaml:1:8: error: `notes` is 300001 bytes of Markdown, more than the 262144 relsite renders",
    );
}

/// A binary plist of `levels` arrays, each naming the next twice, over one string: a few hundred
/// bytes that stand for a tree of 2^levels leaves.
fn dag_bplist(levels: u8) -> Vec<u8> {
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for i in 0..levels {
        offsets.push(out.len() as u32);
        out.extend_from_slice(&[0xA2, i + 1, i + 1]);
    }
    offsets.push(out.len() as u32);
    out.extend_from_slice(b"\x54leaf");
    let table = out.len() as u64;
    for offset in &offsets {
        out.extend_from_slice(&offset.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 4, 1]);
    out.extend_from_slice(&(offsets.len() as u64).to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&table.to_be_bytes());
    out
}

/// An XML plist of arrays nested `depth` deep.
fn nested_xml(depth: usize) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">{}<string>leaf</string>{}</plist>\n",
        "<array>".repeat(depth),
        "</array>".repeat(depth)
    )
    .into_bytes()
}

#[test]
fn an_info_plist_whose_objects_share_each_other() {
    let ipa =
        crate::ipa_builder::zip_bytes(&[("Payload/Dag.app/Info.plist".into(), dag_bplist(40))]);
    fails_keeping_output(
        |s| {
            s.file("releases/bad/Dag.ipa", &ipa);
        },
        "releases/bad/Dag.ipa: error: `Payload/Dag.app/Info.plist` is refused: it expands to more than 250000 values (a shared one counted everywhere it appears), the most relsite reads",
    );
}

#[test]
fn an_info_plist_nested_270000_deep() {
    let plist = nested_xml(270_000);
    assert!(plist.len() < 4 << 20, "within the Info.plist cap");
    let ipa = crate::ipa_builder::zip_bytes(&[("Payload/Deep.app/Info.plist".into(), plist)]);
    fails_keeping_output(
        |s| {
            s.file("releases/bad/Deep.ipa", &ipa);
        },
        "releases/bad/Deep.ipa: error: `Payload/Deep.app/Info.plist` is refused: it nests arrays and dictionaries more than 64 deep, the most relsite reads",
    );
}

/// A profile is read for facts a build can do without: one refused is a warning, as one that
/// cannot be read is.
#[test]
fn a_profile_nested_120000_deep() {
    let profile = crate::ipa_builder::cms_signed_data(&nested_xml(120_000));
    assert!(profile.len() < 2 << 20, "within the profile cap");
    let site = TestSite::new();
    site.ipa("releases/deep/Deep.ipa", &good_ipa().profile(&profile));
    let run = site.run_bounded(&["build"]);
    run.assert_ok();
    run.assert_mentions(&[
        "releases/deep/Deep.ipa: warning: cannot read its embedded.mobileprovision (the property list is refused: it nests arrays and dictionaries more than 64 deep, the most relsite reads)",
    ]);
}

/// Bits of a deflate stream, packed as deflate packs them.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    byte: u8,
    filled: u32,
}

impl Bits {
    fn bit(&mut self, bit: bool) {
        self.byte |= u8::from(bit) << self.filled;
        self.filled += 1;
        if self.filled == 8 {
            self.out.push(self.byte);
            (self.byte, self.filled) = (0, 0);
        }
    }

    /// A Huffman code, most significant bit first.
    fn code(&mut self, value: u32, len: u32) {
        for i in (0..len).rev() {
            self.bit(value >> i & 1 == 1);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            self.out.push(self.byte);
        }
        self.out
    }
}

/// Raw deflate of `len` zero bytes: one block of fixed codes, a literal zero, then copies of
/// 258 bytes at distance 1. About 1/200 of `len`.
fn deflated_zeros(len: usize) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.code(0b110, 3); // the last block (1), fixed codes (01, least significant bit first)
    bits.code(0x30, 8); // literal 0
    let copies = (len - 1) / 258;
    for _ in 0..copies {
        bits.code(0xC5, 8); // length 258
        bits.code(0, 5); // distance 1
    }
    for _ in 0..(len - 1) % 258 {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    bits.finish()
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// A valid, transparent `size` x `size` RGBA PNG, standard or Apple's CgBI, of a few megabytes
/// at most: decoded, it takes `size * size * 4` bytes.
fn blank_png(size: u32, cgbi: bool) -> Vec<u8> {
    let raw = size as usize * (1 + size as usize * 4);
    let deflate = deflated_zeros(raw);
    let data = if cgbi {
        deflate
    } else {
        let adler = ((raw % 65521) as u32) << 16 | 1;
        [&[0x78, 0x01][..], &deflate, &adler.to_be_bytes()].concat()
    };
    let mut ihdr = size.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    if cgbi {
        png_chunk(&mut out, b"CgBI", &[0x50, 0x00, 0x20, 0x06]);
    }
    png_chunk(&mut out, b"IHDR", &ihdr);
    for part in data.chunks(1 << 20) {
        png_chunk(&mut out, b"IDAT", part);
    }
    png_chunk(&mut out, b"IEND", &[]);
    out
}

fn with_icon(png: &[u8]) -> IpaBuilder {
    good_ipa()
        .key(
            "CFBundleIconFiles",
            plist::Value::Array(vec!["AppIcon60x60".into()]),
        )
        .app_file("AppIcon60x60@2x.png", png)
}

/// The blank PNGs decode: only their size keeps them out.
#[test]
fn a_small_blank_png_is_a_usable_icon() {
    for cgbi in [false, true] {
        let site = TestSite::new();
        site.ipa("releases/good/Good.ipa", &with_icon(&blank_png(300, cgbi)));
        let run = site.run_bounded(&["build"]);
        run.assert_ok();
        assert!(
            run.lines_with("placeholder").is_empty(),
            "{cgbi}: {}",
            run.stderr
        );
    }
}

#[test]
fn an_icon_of_8192_by_8192_pixels() {
    for cgbi in [false, true] {
        let png = blank_png(8192, cgbi);
        assert!(png.len() < 2 << 20);
        let site = TestSite::new();
        site.ipa("releases/big/Big.ipa", &with_icon(&png));
        let run = site.run_bounded(&["build"]);
        run.assert_ok();
        run.assert_mentions(&[
            "releases/big/Big.ipa: warning: has an icon that cannot be read (`Payload/Good.app/AppIcon60x60@2x.png`: image too large (8192x8192): relsite decodes at most 4096 pixels a side and 4194304 pixels in all)",
        ]);
    }
}

#[test]
fn a_configured_icon_of_8192_by_8192_pixels() {
    let png = blank_png(8192, false);
    fails_keeping_output(
        |s| {
            s.file("icons/good.png", &png);
            configure_icon(s);
        },
        "icons/good.png: error: `apps.com.acme.good.icon` cannot be used: image too large (8192x8192): relsite decodes at most 4096 pixels a side and 4194304 pixels in all",
    );
}

/// The largest icon file relsite reads: 8 MiB.
const ICON_CAP: usize = 8 << 20;

/// An icon file of [`ICON_CAP`] bytes that ranks as a 1024 x 1024 PNG by its header but does
/// not decode: zeros follow the header. It deflates to a few kilobytes.
fn undecodable_icon() -> Vec<u8> {
    let mut icon = blank_png(1024, false)[..33].to_vec();
    icon.resize(ICON_CAP, 0);
    icon
}

/// An IPA whose Info.plist names the icon `AppIcon`, holding `icon` under the names
/// `AppIcon<i>x<i>.png` for `i` in `0..count`: each a record of its own when `shared` is false,
/// else one record that every name in the central directory points to.
fn many_icons(icon: &[u8], count: usize, shared: bool) -> Vec<u8> {
    use std::io::Write;
    let info = crate::ipa_builder::plist_bytes(
        &plist::Value::Dictionary(
            [
                ("CFBundleIdentifier", plist::Value::from("com.acme.icons")),
                ("CFBundleShortVersionString", "1.0".into()),
                ("CFBundleVersion", "1".into()),
                (
                    "CFBundleIconFiles",
                    plist::Value::Array(vec!["AppIcon".into()]),
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ),
        crate::ipa_builder::PlistFormat::Binary,
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    zip.start_file("Payload/Icons.app/Info.plist", options)
        .unwrap();
    zip.write_all(&info).unwrap();
    let first = "Payload/Icons.app/AppIcon0x0.png";
    zip.start_file(first, options).unwrap();
    zip.write_all(icon).unwrap();
    for i in 1..count {
        let name = format!("Payload/Icons.app/AppIcon{i}x{i}.png");
        if shared {
            zip.shallow_copy_file(first, &name).unwrap();
        } else {
            zip.deep_copy_file(first, &name).unwrap();
        }
    }
    zip.finish().unwrap().into_inner()
}

/// 400 central-directory entries over one compressed record (the overlapping zip bomb): 3 GB
/// inflated from a few kilobytes.
#[test]
fn an_ipa_whose_entries_share_one_record() {
    let ipa = many_icons(&undecodable_icon(), 400, true);
    assert!(ipa.len() < 200_000);
    fails_keeping_output(
        |s| {
            s.file("releases/bad/Icons.ipa", &ipa);
        },
        "releases/bad/Icons.ipa: error: reading `Payload/Icons.app/AppIcon",
    )
    .assert_mentions(&[
        "inflates the IPA past 16777216 bytes in all, the most relsite inflates from one (entries sharing compressed data count each time)",
    ]);
}

/// 150 icon files of 8 MiB each, none of which decodes.
#[test]
fn an_ipa_with_150_icons_of_8_mib() {
    let ipa = many_icons(&undecodable_icon(), 150, false);
    fails_keeping_output(
        |s| {
            s.file("releases/bad/Icons.ipa", &ipa);
        },
        "releases/bad/Icons.ipa: error: reading `Payload/Icons.app/AppIcon",
    )
    .assert_mentions(&["inflates the IPA past 16777216 bytes in all"]);
}

/// Many icon files of which the largest decodes: only that one is inflated whole.
#[test]
fn an_ipa_with_many_small_icons_reads_the_largest() {
    let ipa = many_icons(&blank_png(64, true), 400, true);
    let site = TestSite::new();
    site.file("releases/icons/Icons.ipa", &ipa);
    let run = site.run_bounded(&["build"]);
    run.assert_ok();
    assert!(run.lines_with("placeholder").is_empty(), "{}", run.stderr);
}

/// A problem for each of 30,000 apps, each placed at its line: placing each by a search from the
/// top took minutes.
#[test]
fn a_config_with_a_problem_for_each_of_30000_apps() {
    let mut config = format!("title: T\nbase_url: {BASE_URL}\napps:\n");
    for i in 0..30_000 {
        config.push_str(&format!("  com.a{i}:\n    slug: A B\n"));
    }
    let run = fails_keeping_output(
        |s| {
            s.config(&config);
        },
        "relsite.yaml:5:11: error: `apps.com.a0.slug` may hold only lowercase letters",
    );
    run.assert_mentions(&[
        "relsite.yaml:60003:11: error: `apps.com.a29999.slug`",
        "found 30000 problems",
    ]);
}

/// 20,000 releases and their notes in one folder, none of them an IPA: each is reported, and
/// pairing them takes time linear in their number (comparing each IPA with each notes file
/// took minutes).
#[test]
fn a_folder_of_20000_releases() {
    let site = TestSite::new();
    let dir = site.path("releases/many");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for i in 0..20_000 {
        std::fs::write(dir.join(format!("A{i}.ipa")), b"not a zip").expect("write");
        std::fs::write(dir.join(format!("A{i}.yaml")), b"").expect("write");
    }
    let run = site.run_bounded(&["check"]);
    run.assert_fails_with("releases/many/A19999.ipa: error: not a readable IPA");
    run.assert_mentions(&["found 20000 problems"]);
}

/// The cache's files are relsite's own, but what is in the site folder may have been put there
/// by anyone: a FIFO in their place is passed by, never waited on.
#[test]
fn fifos_in_place_of_the_cache_files() {
    let site = TestSite::new();
    site.ipa("releases/good/Good.ipa", &good_ipa());
    site.build().assert_ok();
    let records: Vec<String> = std::fs::read_dir(site.path(".relsite-cache/outputs"))
        .expect("the write's record")
        .map(|e| {
            format!(
                "outputs/{}",
                e.expect("entry").file_name().to_string_lossy()
            )
        })
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    for file in ["facts.json", "lock"]
        .into_iter()
        .chain(records.iter().map(String::as_str))
    {
        site.remove(&format!(".relsite-cache/{file}"));
        site.fifo(&format!(".relsite-cache/{file}"));
    }
    site.run_bounded(&["build"]).assert_ok();
    site.run_bounded(&["check"]).assert_ok();
}

#[test]
fn init_into_a_folder_whose_gitignore_is_a_fifo() {
    let work = tempfile::tempdir().expect("temp dir");
    let site = work.path().join("site");
    std::fs::create_dir_all(&site).expect("mkdir");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(site.join(".gitignore"))
            .status()
            .expect("mkfifo")
            .success()
    );
    let mut command = relsite();
    command.arg("init").arg(&site).arg("--force");
    run_bounded(command).assert_fails_with(
        ".gitignore: error: cannot read: it is a named pipe (FIFO), not a regular file",
    );
}

/// Sequences nested 400,000 deep in the notes: the YAML scanner under serde_yaml takes time of
/// the depth for each token, minutes for this, so the depth is found and refused first.
#[test]
fn notes_nested_400000_deep() {
    let depth = 400_000;
    let notes = format!("notes: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    assert!(notes.len() < 1 << 20);
    fails_keeping_output(
        |s| {
            s.file("releases/good/Good.yaml", notes.as_bytes());
        },
        "releases/good/Good.yaml:1:72: error: flow collections (`[ ]`, `{ }`) nest deeper than 64, the most relsite reads",
    );
}

/// Such nesting written one bracket a line, in the configuration.
#[test]
fn a_config_nested_200000_deep_a_bracket_a_line() {
    let config = format!(
        "title: T\nbase_url: {BASE_URL}\napps: {}",
        "[\n".repeat(200_000)
    );
    assert!(config.len() < 1 << 20);
    fails_keeping_output(
        |s| {
            s.config(&config);
        },
        "relsite.yaml:67:1: error: flow collections (`[ ]`, `{ }`) nest deeper than 64, the most relsite reads",
    );
}
