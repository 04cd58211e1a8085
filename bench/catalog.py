#!/usr/bin/env python3
"""relsite at catalog scale: build times, rebuild times and peak memory, against references.

Generates a synthetic site of N apps x M builds with IPAs of S MiB (binary Info.plist, a CgBI
icon shared by the builds of an app, an ad-hoc embedded.mobileprovision signed with openssl, a
stored payload making up the size, a notes file per build), then times the release binary, each
run a fresh process, reporting the median wall time and the peak RSS of R runs:

    cold build           no public/ (and no .relsite-cache/, if there is one)
    no-change rebuild    the same site built again
    add one build        a new IPA and its notes copied into releases/ first
    edit one notes file  the newest build of the first app gets one more bullet

and, on the same catalog in the same session, three references: `openssl dgst -sha256` over
every IPA in one process (and over the added IPA alone, for the add-one target), bench/baseline_publish.py (Info.plist, copy, manifest.plist; nothing
else), and a cold `hugo --quiet` build of as many Markdown pages as there are builds. It also
checks that the no-change rebuild rewrote no file of public/ (inode and mtime_ns of every file
compared; expected 0) and lists the files the notes edit changed.

Needs Python 3.9+ (stdlib only), the openssl command line, hugo and GNU time for peak RSS
(Debian: `apt-get install -y openssl hugo time`), and an up-to-date release binary (the script
refuses a stale one):

    cargo build --release && python3 bench/catalog.py    # 20 apps x 25 builds x 8 MiB, 3 runs
    python3 bench/catalog.py --quick                     # 3 x 4 x 1 MiB, 1 run: a smoke run
    python3 bench/catalog.py --apps 5 --builds 10 --mb 50 --runs 5 --json numbers.json

The catalog goes in a temporary folder under $BENCH_TMP (default: the system's temporary
folder) and is deleted afterwards unless --keep is given. Outputs of earlier runs are moved
aside, not deleted, until the end (see `discard`), so it needs apps x builds x mb MiB of disk
1 + 2 x runs times over where files are copied (ext4), and about once on a filesystem that
clones them (XFS, btrfs). Generating it is not measured; the page cache is left as it is, so
"cold" means no previous output, not an empty page cache.
"""

import argparse
import datetime
import json
import os
import plistlib
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "relsite")
BASELINE = os.path.join(ROOT, "bench", "baseline_publish.py")
TIME = "/usr/bin/time"  # GNU time, for peak RSS
SOURCES = ["src", "themes", "build.rs", "Cargo.toml", "Cargo.lock"]
MIB = 1 << 20
ICON_SIDE = 180
TEAM_ID = "BENCHTEAM1"
BASE_URL = "https://bench.example.com/"
FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


# --- PNG and CgBI -------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind, data):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_chunks(png):
    """(kind, data) of each chunk of a PNG."""
    pos = len(PNG_SIGNATURE)
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        yield png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        pos += 12 + length


def scanlines(width, height, pixels):
    """Every row of 4-byte pixels behind filter type 0 (none)."""
    stride = width * 4
    return b"".join(b"\x00" + pixels[y * stride:(y + 1) * stride] for y in range(height))


def rgba_png(width, height, pixels):
    """A standard 8-bit RGBA PNG of `pixels` (row-major RGBA bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(scanlines(width, height, pixels), 9)
    return PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def premultiplied_bgra(rgba):
    out = bytearray(len(rgba))
    for i in range(0, len(rgba), 4):
        r, g, b, a = rgba[i:i + 4]
        out[i:i + 4] = bytes(((b * a + 127) // 255, (g * a + 127) // 255, (r * a + 127) // 255, a))
    return bytes(out)


def cgbi_from_png(png):
    """Apple's CgBI form of a non-interlaced RGBA PNG written by `rgba_png`: a CgBI chunk before
    IHDR, pixels as premultiplied BGRA, image data as raw deflate without the zlib header."""
    chunks = dict(png_chunks(png))
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour, interlace) == (8, 6, 0), "only 8-bit RGBA, not interlaced"
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * 4 + 1
    assert all(raw[y * stride] == 0 for y in range(height)), "only filter type 0"
    rows = [premultiplied_bgra(raw[y * stride + 1:(y + 1) * stride]) for y in range(height)]
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    idat = deflate.compress(b"".join(b"\x00" + row for row in rows)) + deflate.flush()
    return (PNG_SIGNATURE + png_chunk(b"CgBI", b"\x50\x00\x20\x06") + png_chunk(b"IHDR", chunks[b"IHDR"])
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def icon_pixels(app):
    """A rounded square in a colour of the app's own, with soft (partly transparent) edges and
    a translucent disc, so premultiplying alpha matters."""
    base = ((app * 67) % 200 + 40, (app * 139) % 200 + 40, (app * 29) % 200 + 40)
    side, radius, centre = ICON_SIDE, 40, (ICON_SIDE - 1) / 2
    out = bytearray()
    for y in range(side):
        for x in range(side):
            dx = max(radius - x, x - (side - 1 - radius), 0)
            dy = max(radius - y, y - (side - 1 - radius), 0)
            edge = radius - (dx * dx + dy * dy) ** 0.5
            alpha = max(0, min(255, int(edge * 255)))
            in_disc = (x - centre) ** 2 + (y - centre) ** 2 < 45 ** 2
            r, g, b = (255, 255, 255) if in_disc else base
            shade = y * 60 // side
            out += bytes((max(r - shade, 0), max(g - shade, 0), max(b - shade, 0), alpha // 2 if in_disc else alpha))
    return bytes(out)


def app_icon(app):
    return cgbi_from_png(rgba_png(ICON_SIDE, ICON_SIDE, icon_pixels(app)))


# --- provisioning profile -----------------------------------------------------------------------

def profile_plist(certificate_der):
    """An ad-hoc profile for any bundle id of the team (the keys relsite reads, and a few more)."""
    return plistlib.dumps({
        "AppIDName": "Bench Wildcard",
        "ApplicationIdentifierPrefix": [TEAM_ID],
        "CreationDate": datetime.datetime(2024, 1, 1),
        "ExpirationDate": datetime.datetime(2099, 12, 31),
        "DeveloperCertificates": [certificate_der],
        "Entitlements": {
            "application-identifier": f"{TEAM_ID}.*",
            "com.apple.developer.team-identifier": TEAM_ID,
            "get-task-allow": False,
            "keychain-access-groups": [f"{TEAM_ID}.*"],
        },
        "Name": "Bench Ad Hoc",
        "Platform": ["iOS"],
        "ProvisionedDevices": [
            "00008030-001A2B3C4D5E6F01",
            "00008101-000A1B2C3D4E5F02",
            "00008110-0011223344556677",
        ],
        "TeamIdentifier": [TEAM_ID],
        "TeamName": "Bench Co.",
        "TimeToLive": 365,
        "UUID": "0BE4C0DE-0000-4000-8000-000000000001",
        "Version": 1,
    }, fmt=plistlib.FMT_XML)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_profile(folder):
    """embedded.mobileprovision: the profile plist in a CMS SignedData signed with a fresh
    self-signed certificate, as the openssl command line makes it."""
    os.makedirs(folder)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "18250",
            "-subj", f"/CN=iPhone Distribution: Bench Co. ({TEAM_ID})/OU={TEAM_ID}/O=Bench Co./C=US",
            "-keyout", "key.pem", "-out", "cert.pem", cwd=folder)
    openssl("x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der", cwd=folder)
    with open(os.path.join(folder, "cert.der"), "rb") as f:
        certificate = f.read()
    with open(os.path.join(folder, "profile.plist"), "wb") as f:
        f.write(profile_plist(certificate))
    openssl("cms", "-sign", "-nodetach", "-binary", "-outform", "DER", "-in", "profile.plist",
            "-signer", "cert.pem", "-inkey", "key.pem", "-out", "embedded.mobileprovision", cwd=folder)
    with open(os.path.join(folder, "embedded.mobileprovision"), "rb") as f:
        return f.read()


# --- IPAs, notes and the site -------------------------------------------------------------------

def app_name(app):
    return f"App{app + 1:02d}"


def bundle_id(app):
    return f"com.bench.app{app + 1:02d}"


def version(k):
    return f"1.0.{k}"


def build_number(k):
    return str(100 + k)


def info_plist(app, k):
    name = app_name(app)
    return plistlib.dumps({
        "CFBundleIdentifier": bundle_id(app),
        "CFBundleShortVersionString": version(k),
        "CFBundleVersion": build_number(k),
        "CFBundleName": name,
        "CFBundleDisplayName": f"Bench {name}",
        "CFBundleExecutable": name,
        "CFBundlePackageType": "APPL",
        "MinimumOSVersion": "15.0",
        "UIDeviceFamily": [1, 2],
        "CFBundleSupportedPlatforms": ["iPhoneOS"],
        "CFBundleIcons": {"CFBundlePrimaryIcon": {"CFBundleIconFiles": ["AppIcon60x60"]}},
    }, fmt=plistlib.FMT_BINARY)


def zip_entry(z, name, data, method):
    info = zipfile.ZipInfo(name, FIXED_ZIP_TIME)
    info.compress_type = method
    z.writestr(info, data)


def write_ipa(path, app, k, icon, profile, mb, block):
    """An IPA whose executable is `mb` MiB of stored bytes: the shared random block, with the
    first 4 KiB fresh so that every IPA has its own hash."""
    folder = f"Payload/{app_name(app)}.app/"
    with zipfile.ZipFile(path, "w", allowZip64=True) as z:
        zip_entry(z, folder + "Info.plist", info_plist(app, k), zipfile.ZIP_DEFLATED)
        zip_entry(z, folder + "AppIcon60x60@3x.png", icon, zipfile.ZIP_STORED)
        zip_entry(z, folder + "embedded.mobileprovision", profile, zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo(folder + app_name(app), FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_STORED
        with z.open(info, "w", force_zip64=mb >= 2048) as entry:
            entry.write(os.urandom(4096) + block[4096:])
            for _ in range(mb - 1):
                entry.write(block)


def notes_yaml(app, k):
    day = datetime.date(2024, 1, 1) + datetime.timedelta(days=7 * k + app)
    return (
        "notes: |\n"
        f"  - Sync is faster for accounts with more than {100 * k} items\n"
        f"  - Fixes a crash when opening **Settings** in {app_name(app)} without a network\n"
        "  - Photos can be attached to a report ([details](https://bench.example.com/help))\n"
        f"date: {day.isoformat()}\n"
        f"channel: {'beta' if k % 2 else 'stable'}\n"
    )


def write_build(folder, app, k, icon, profile, mb, block):
    """releases/<app>/<version>/<App>.ipa and its notes, in `folder`."""
    os.makedirs(folder, exist_ok=True)
    write_ipa(os.path.join(folder, app_name(app) + ".ipa"), app, k, icon, profile, mb, block)
    with open(os.path.join(folder, app_name(app) + ".yaml"), "w") as f:
        f.write(notes_yaml(app, k))


class Site:
    """Where the generated catalog lives."""

    def __init__(self, work):
        self.root = os.path.join(work, "site")
        self.releases = os.path.join(self.root, "releases")
        self.public = os.path.join(self.root, "public")
        self.extra = os.path.join(work, "extra-build")  # copied in for the add-one rebuild
        self.extra_target = None
        self.edited_notes = None

    def ipas(self):
        return sorted(os.path.join(d, f) for d, _, fs in os.walk(self.releases) for f in fs if f.endswith(".ipa"))


def make_site(work, apps, builds, mb):
    site = Site(work)
    os.makedirs(site.releases)
    with open(os.path.join(site.root, "relsite.yaml"), "w") as f:
        f.write(f"title: Bench catalog\nbase_url: {BASE_URL}\n")
    profile = make_profile(os.path.join(work, "signing"))
    block = os.urandom(MIB)
    for app in range(apps):
        icon = app_icon(app)
        for k in range(1, builds + 1):
            write_build(os.path.join(site.releases, app_name(app).lower(), version(k)), app, k, icon, profile, mb, block)
    write_build(site.extra, 0, builds + 1, app_icon(0), profile, mb, block)
    site.extra_target = os.path.join(site.releases, app_name(0).lower(), version(builds + 1))
    site.edited_notes = os.path.join(site.releases, app_name(0).lower(), version(builds), app_name(0) + ".yaml")
    return site


def make_hugo_site(work, apps, builds):
    """A Hugo site with a page per build, shaped like that build's notes, and a minimal layout."""
    root = os.path.join(work, "hugo")
    layouts = os.path.join(root, "layouts", "_default")
    os.makedirs(layouts)
    with open(os.path.join(root, "config.toml"), "w") as f:
        f.write(f'baseURL = "{BASE_URL}"\ntitle = "Bench catalog"\ndisableKinds = ["taxonomy", "term"]\n')
    head = "<!doctype html><html><head><meta charset=utf-8><title>{{ .Title }}</title></head><body>"
    with open(os.path.join(layouts, "single.html"), "w") as f:
        f.write(head + "<h1>{{ .Title }}</h1><p>{{ .Date.Format \"2006-01-02\" }} {{ .Params.channel }}</p>"
                "{{ .Content }}</body></html>\n")
    with open(os.path.join(layouts, "list.html"), "w") as f:
        f.write(head + "<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href=\"{{ .RelPermalink }}\">"
                "{{ .Title }}</a> {{ .Params.channel }}</li>{{ end }}</ul></body></html>\n")
    for app in range(apps):
        section = os.path.join(root, "content", app_name(app).lower())
        os.makedirs(section)
        for k in range(1, builds + 1):
            with open(os.path.join(section, f"{version(k)}.md"), "w") as f:
                f.write(hugo_page(app, k))
    return root


def hugo_page(app, k):
    notes = notes_yaml(app, k)
    body = "".join(line[2:] + "\n" for line in notes.splitlines() if line.startswith("  - "))
    date = notes.split("date: ")[1].split("\n")[0]
    channel = notes.split("channel: ")[1].split("\n")[0]
    title = f"Bench {app_name(app)} {version(k)} ({build_number(k)})"
    return f'---\ntitle: "{title}"\ndate: {date}\nchannel: {channel}\n---\n{body}'


# --- running and measuring ----------------------------------------------------------------------

class Failed(Exception):
    pass


def run(argv, log):
    """Runs `argv` as a fresh process with stdout discarded and stderr kept in `log`; returns
    its wall time in seconds and peak RSS in MiB.

    The peak comes from GNU time (`%M`), not from os.wait4 here: Linux records the RSS high-water
    mark of the address space a process replaces on exec, and a child spawned from this Python
    process starts from Python's, so wait4 would report at least this script's own RSS."""
    usage = log + ".time"
    timed = [TIME, "-f", "%M", "-o", usage, *argv]
    # Start every run with no dirty pages left by the one before, so that one run's writes are
    # not paid for by the next run's clock.
    os.sync()
    actions = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
    started = time.perf_counter()
    pid = os.posix_spawn(TIME, timed, os.environ, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        with open(log, errors="replace") as f:
            raise Failed(f"{' '.join(argv[:3])} … failed:\n{f.read()[-4000:]}")
    with open(usage) as f:
        peak_kib = int(f.read().split()[-1])
    return elapsed, peak_kib / 1024


def relsite_build(site, log, quiet=True):
    return run([BINARY, "build", "--root", site.root] + (["--quiet"] if quiet else []), log)


def snapshot(folder):
    """Identity and modification time of every file below `folder`, by relative path."""
    files = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            st = os.lstat(path)
            files[os.path.relpath(path, folder)] = (st.st_ino, st.st_mtime_ns)
    return files


def differences(before, after):
    """Files rewritten, added or removed between two snapshots, sorted."""
    out = [f"{p} (rewritten)" for p in before if p in after and before[p] != after[p]]
    out += [f"{p} (new)" for p in after if p not in before]
    out += [f"{p} (removed)" for p in before if p not in after]
    return sorted(out)


def discard(path, work):
    """Moves `path` out of the way, into the work folder's trash, deleted only when the script
    ends. Deleting here would tax the measured run that follows: some filesystems (ext4 without
    a journal) scan recently freed inodes on every file they create for about 30 seconds after a
    deletion (vm.dirty_expire_centisecs), and a CI runner's build does not follow one of tens of
    thousands of deletions."""
    if os.path.lexists(path):
        trash = os.path.join(work, "trash")
        os.makedirs(trash, exist_ok=True)
        os.rename(path, os.path.join(trash, str(len(os.listdir(trash)))))


def clear_output(site, work):
    for name in ("public", ".relsite-cache", ".public.relsite-staging", ".public.relsite-old"):
        discard(os.path.join(site.root, name), work)


class Results:
    def __init__(self):
        self.runs = {}    # measurement name -> [(seconds, peak MiB)]
        self.checks = {}

    def add(self, name, sample):
        self.runs.setdefault(name, []).append(sample)

    def seconds(self, name):
        return statistics.median(s for s, _ in self.runs[name])

    def peak(self, name):
        return max(p for _, p in self.runs[name])


# --- the relsite measurements -------------------------------------------------------------------

def bench_cold(site, work, runs, results, log):
    for i in range(runs):
        clear_output(site, work)
        # The first run keeps relsite's warnings, to report them.
        results.add("cold", relsite_build(site, log, quiet=i > 0))
        if i == 0:
            with open(log, errors="replace") as f:
                results.checks["cold_stderr"] = f.read()


def bench_no_change(site, runs, results, log):
    rewritten = []
    for _ in range(runs):
        before = snapshot(site.public)
        results.add("no-change", relsite_build(site, log))
        rewritten = max(rewritten, differences(before, snapshot(site.public)), key=len)
    results.checks["no_change_files"] = len(snapshot(site.public))
    results.checks["no_change_rewritten"] = rewritten


def bench_add_one(site, runs, results, log):
    for _ in range(runs):
        shutil.copytree(site.extra, site.extra_target)
        results.add("add-one", relsite_build(site, log))
        shutil.rmtree(site.extra_target)
        relsite_build(site, log)  # back to the catalog without it, untimed


def bench_notes_edit(site, runs, results, log):
    changed = None
    for i in range(runs):
        with open(site.edited_notes) as f:
            notes = f.read()
        with open(site.edited_notes, "w") as f:
            f.write(notes.replace("\ndate:", f"\n  - Edited for run {i + 1}\ndate:", 1))
        before = snapshot(site.public)
        results.add("notes-edit", relsite_build(site, log))
        if changed is None:
            changed = differences(before, snapshot(site.public))
    results.checks["notes_edit_changed"] = changed


def check_output(site, apps, builds):
    """The catalog built as meant: a manifest and icons for every build."""
    manifests = icons = 0
    for _, _, names in os.walk(site.public):
        manifests += "manifest.plist" in names
        icons += "icon-512.png" in names
    if manifests != apps * builds or icons != apps * builds:
        raise Failed(f"expected {apps * builds} builds, found {manifests} manifests and {icons} icons")


# --- the references -----------------------------------------------------------------------------

def bench_openssl(ipas, runs, results, log):
    """`openssl dgst -sha256` over every IPA in one process, or a few if the list is too long."""
    exe = shutil.which("openssl")
    limit = os.sysconf("SC_ARG_MAX") // 2 - sum(len(k) + len(v) + 2 for k, v in os.environ.items())
    chunks, chunk, size = [], [], 0
    for ipa in ipas:
        if chunk and size + len(ipa) + 1 > limit:
            chunks.append(chunk)
            chunk, size = [], 0
        chunk.append(ipa)
        size += len(ipa) + 1
    chunks.append(chunk)
    for _ in range(runs):
        samples = [run([exe, "dgst", "-sha256", *c], log) for c in chunks]
        results.add("openssl", (sum(s for s, _ in samples), max(p for _, p in samples)))
    results.checks["openssl_processes"] = len(chunks)


def bench_hash_one(site, runs, results, log):
    """`openssl dgst -sha256` over the IPA the add-one rebuild adds: the target allows adding a
    build 5% of the cold build plus the time to hash it."""
    ipas = [os.path.join(site.extra, n) for n in sorted(os.listdir(site.extra)) if n.endswith(".ipa")]
    for _ in range(runs):
        results.add("hash-one", run([shutil.which("openssl"), "dgst", "-sha256", *ipas], log))


def bench_baseline(site, work, runs, results, log):
    out = os.path.join(work, "baseline-out")
    for _ in range(runs):
        discard(out, work)
        results.add("baseline", run([sys.executable, BASELINE, site.releases, out], log))
    discard(out, work)


def bench_hugo(hugo_root, runs, results, log):
    exe = shutil.which("hugo")
    cache = os.path.join(hugo_root, ".hugo-cache")
    for _ in range(runs):
        for name in ("public", "resources", ".hugo-cache"):
            shutil.rmtree(os.path.join(hugo_root, name), ignore_errors=True)
        results.add("hugo", run([exe, "--quiet", "--source", hugo_root, "--cacheDir", cache], log))


# --- report -------------------------------------------------------------------------------------

LABELS = [
    ("cold", "relsite cold build"),
    ("no-change", "relsite no-change rebuild"),
    ("add-one", "relsite rebuild, one build added"),
    ("notes-edit", "relsite rebuild, one notes edited"),
    ("openssl", "openssl dgst -sha256, all IPAs"),
    ("hash-one", "openssl dgst -sha256, the added IPA"),
    ("baseline", "bench/baseline_publish.py"),
    ("hugo", "hugo --quiet, cold"),
]

RATIOS = [
    ("cold", "openssl"), ("no-change", "hugo"), ("no-change", "cold"),
    ("add-one", "cold"), ("notes-edit", "cold"), ("baseline", "openssl"),
]


def ratios(results):
    found = {f"{a}/{b}": results.seconds(a) / results.seconds(b) for a, b in RATIOS}
    # The add-one target: adding a build beyond hashing its IPA, against the cold build.
    found["(add-one - hash-one)/cold"] = (
        results.seconds("add-one") - results.seconds("hash-one")) / results.seconds("cold")
    return found


def print_report(results, shape, version_line):
    print(f"\n{version_line} ({os.path.relpath(BINARY, ROOT)})")
    print(f"catalog: {shape['apps']} apps x {shape['builds']} builds = {shape['ipas']} IPAs of "
          f"{shape['mb']} MiB ({shape['ipa_bytes'] / 1e9:.2f} GB), {shape['public_files']} files in public/; "
          f"hugo: {shape['ipas']} pages; {shape['runs']} run(s) each: median seconds, highest peak RSS\n")
    print(f"{'measurement':<36} {'median s':>9} {'peak MiB':>9}")
    for key, label in LABELS:
        print(f"{label:<36} {results.seconds(key):>9.3f} {results.peak(key):>9.1f}")
    print(f"\n{'ratio (median seconds)':<36} {'':>9}")
    for name, value in ratios(results).items():
        print(f"{name:<36} {value:>9.2f}")
    checks = results.checks
    rewritten = checks["no_change_rewritten"]
    print(f"\nno-change rebuild: {len(rewritten)} of {checks['no_change_files']} files in public/ rewritten "
          "(inode or mtime_ns changed; expected 0)")
    for line in rewritten[:10]:
        print(f"  {line}")
    changed = checks["notes_edit_changed"]
    print(f"notes edit: {len(changed)} files changed")
    for line in changed[:10]:
        print(f"  {line}")
    if len(changed) > 10:
        print(f"  … and {len(changed) - 10} more")
    warnings = [l for l in checks["cold_stderr"].splitlines() if "warning:" in l]
    print(f"cold build: {len(warnings)} warning(s)")
    for line in warnings[:5]:
        print(f"  {line}")


def write_json(path, results, shape, version_line):
    data = {
        "relsite_version": version_line,
        "shape": shape,
        "runs": {k: [{"seconds": s, "peak_mib": p} for s, p in v] for k, v in results.runs.items()},
        "median_seconds": {k: results.seconds(k) for k in results.runs},
        "peak_mib": {k: results.peak(k) for k in results.runs},
        "ratios": ratios(results),
        "no_change_rewritten": results.checks["no_change_rewritten"],
        "notes_edit_changed": results.checks["notes_edit_changed"],
        "cold_stderr": results.checks["cold_stderr"],
    }
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


# --- main ---------------------------------------------------------------------------------------

def newest_source_mtime():
    newest = 0
    for entry in SOURCES:
        path = os.path.join(ROOT, entry)
        for parent, _, names in os.walk(path) if os.path.isdir(path) else [(ROOT, [], [entry])]:
            for name in names:
                newest = max(newest, os.stat(os.path.join(parent, name)).st_mtime)
    return newest


def require_tools():
    if not os.path.exists(BINARY):
        sys.exit("build the release binary first: cargo build --release")
    if os.stat(BINARY).st_mtime < newest_source_mtime():
        sys.exit("target/release/relsite is older than the sources: cargo build --release")
    for tool in ("openssl", "hugo"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not on PATH (Debian: apt-get install -y {tool})")
    if not os.access(TIME, os.X_OK):
        sys.exit(f"{TIME} is missing (Debian: apt-get install -y time)")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--apps", type=int, default=20, help="apps in the catalog (default 20)")
    p.add_argument("--builds", type=int, default=25, help="builds per app (default 25)")
    p.add_argument("--mb", type=int, default=8, help="MiB per IPA (default 8)")
    p.add_argument("--runs", type=int, default=3, help="runs of each measurement; the median is reported (default 3)")
    p.add_argument("--quick", action="store_true", help="a smoke run: 3 apps x 4 builds x 1 MiB, 1 run")
    p.add_argument("--json", metavar="FILE", help="also write the raw numbers to FILE")
    p.add_argument("--keep", action="store_true", help="keep the generated catalog (its folder is printed)")
    args = p.parse_args()
    if args.quick:
        args.apps, args.builds, args.mb, args.runs = 3, 4, 1, 1
    if min(args.apps, args.builds, args.mb, args.runs) < 1:
        p.error("--apps, --builds, --mb and --runs must be at least 1")
    return args


def measure_all(site, hugo_root, work, args, results):
    log = os.path.join(work, "stderr.log")
    steps = [
        ("relsite cold build", lambda: bench_cold(site, work, args.runs, results, log)),
        ("relsite no-change rebuild", lambda: bench_no_change(site, args.runs, results, log)),
        ("relsite rebuild with one build added", lambda: bench_add_one(site, args.runs, results, log)),
        ("relsite rebuild with one notes file edited", lambda: bench_notes_edit(site, args.runs, results, log)),
        ("openssl dgst -sha256", lambda: bench_openssl(site.ipas(), args.runs, results, log)),
        ("openssl dgst -sha256, the added IPA", lambda: bench_hash_one(site, args.runs, results, log)),
        ("bench/baseline_publish.py", lambda: bench_baseline(site, work, args.runs, results, log)),
        ("hugo", lambda: bench_hugo(hugo_root, args.runs, results, log)),
    ]
    for label, step in steps:
        print(f"measuring: {label} ({args.runs} run(s))", file=sys.stderr)
        step()
        if label == "relsite cold build":
            check_output(site, args.apps, args.builds)


def main():
    args = parse_args()
    require_tools()
    version_line = subprocess.run([BINARY, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    work = os.path.abspath(tempfile.mkdtemp(prefix="relsite-catalog-", dir=os.environ.get("BENCH_TMP")))
    try:
        print(f"generating {args.apps} x {args.builds} x {args.mb} MiB in {work}", file=sys.stderr)
        started = time.perf_counter()
        site = make_site(work, args.apps, args.builds, args.mb)
        hugo_root = make_hugo_site(work, args.apps, args.builds)
        print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        results = Results()
        measure_all(site, hugo_root, work, args, results)
        shape = {"apps": args.apps, "builds": args.builds, "mb": args.mb, "runs": args.runs,
                 "ipas": len(site.ipas()), "ipa_bytes": sum(os.path.getsize(p) for p in site.ipas()),
                 "public_files": results.checks["no_change_files"]}
        print_report(results, shape, version_line)
        if args.json:
            write_json(args.json, results, shape, version_line)
    except Failed as failure:
        sys.exit(str(failure))
    finally:
        if args.keep:
            shutil.rmtree(os.path.join(work, "trash"), ignore_errors=True)
            print(f"catalog kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
