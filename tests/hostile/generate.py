#!/usr/bin/env python3
"""Hostile site folders for relsite, each with what a build of it must do.

    python3 tests/hostile/generate.py OUT [--fixtures DIR]
    python3 tests/hostile/generate.py check-xml LIST
    python3 tests/hostile/generate.py run RSS_FILE ADDRESS_SPACE COMMAND...

The first form writes one case per folder, OUT/cases/<id>/site (the site) beside
OUT/cases/<id>/outside (files the site's links point at, which no build may change), and lists
them in OUT/cases.json: each case's name, the command's arguments, the clock (SOURCE_DATE_EPOCH),
and the expected outcome: "ok" (exit 0), "fail" (exit 1) or "either" (0 or 1, where relsite may
reasonably refuse or accept), with the files its errors and warnings must name, as relsite prints
them (control characters escaped). With --fixtures, cases cut from the real IPAs in DIR are added.

The second form parses every file named in LIST (one path a line) as XML with Python's expat
and, for a .plist, with plistlib, and prints `path: problem` for each that does not parse.

The third runs COMMAND in a child of its own, with its address space capped at ADDRESS_SPACE
bytes, writes the child's peak resident memory in KiB to RSS_FILE, and ends as the child did.
The child is forked from this small process so that its peak is its own: a process started
straight from a large one (the test runner) counts that one's memory as its peak.

Every input is made here with the standard library alone (zipfile is not used: its writer refuses
most of what these archives do), and the same arguments always give the same bytes.
"""

import datetime
import functools
import json
import os
import socket
import struct
import sys
import plistlib
import resource
import signal
import unicodedata
import zlib

NOW = 1717200000  # 2024-06-01T00:00:00Z: the good profile is valid then
BASE_URL = "https://builds.example.com/"
CONFIG = f"title: Test builds\nbase_url: {BASE_URL}\n"

# ---------------------------------------------------------------------------------------------
# Zip archives, written by hand so that every field can lie.


def deflate(data, level=6):
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def as_bytes(name):
    return name if isinstance(name, bytes) else name.encode("utf-8")


def zip_archive(entries, comment=b"", prefix=b"", eocd=None, cd_tail=b""):
    """A zip of `entries`, each a dict: name, data; optional method (8 deflate, 0 store, or any
    number, with `raw` the compressed bytes), raw, flags, crc, csize, usize (header values that
    lie), share (index of an earlier entry whose local record this one points at), extra."""
    out = bytearray(prefix)
    central = bytearray()
    offsets, records = [], []
    for e in entries:
        name = as_bytes(e["name"])
        data = e.get("data", b"")
        method = e.get("method", records[e["share"]]["method"] if "share" in e else 8)
        if "share" in e:
            e = dict(records[e["share"]], **e)
        if "raw" in e or "share" in e:
            raw = e.get("raw", b"")
        elif method == 8:
            raw = deflate(data)
        else:
            raw = data
        crc = e.get("crc", zlib.crc32(data))
        csize = e.get("csize", len(raw))
        usize = e.get("usize", len(data))
        records.append(dict(name=name, crc=crc, csize=csize, usize=usize, method=method,
                            flags=e.get("flags", 0)))
        flags = e.get("flags", 0) | (0x800 if not name.isascii() else 0)
        extra = e.get("extra", b"")
        zip64 = csize >= 0xFFFFFFFF or usize >= 0xFFFFFFFF
        head_c, head_u = (0xFFFFFFFF, 0xFFFFFFFF) if zip64 else (csize, usize)
        if zip64:
            extra = struct.pack("<HHQQ", 1, 16, usize, csize) + extra
        if "share" in e:
            offset = offsets[e["share"]]
        else:
            offset = len(out)
            out += struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, flags, method, 0, 0x21,
                crc, head_c, head_u, len(name), len(extra))
            out += name + extra + raw
        offsets.append(offset)
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 45 if zip64 else 20, flags, method, 0,
            0x21, crc, head_c, head_u, len(name), len(extra), 0, 0, 0, 0o100644 << 16, offset)
        central += name + extra
    central += cd_tail
    cd_offset = len(out)
    out += central
    count = len(entries)
    fields = dict(disk=0, cd_disk=0, here=count, total=count, size=len(central), offset=cd_offset)
    fields.update(eocd or {})
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, fields["disk"], fields["cd_disk"], fields["here"] & 0xFFFF,
        fields["total"] & 0xFFFF, fields["size"] & 0xFFFFFFFF, fields["offset"] & 0xFFFFFFFF,
        len(comment))
    out += comment
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# Property lists, profiles and PNGs.


def info(bundle_id="com.acme.bad", version="1.0", build="1", name="Bad", **more):
    d = {
        "CFBundleIdentifier": bundle_id,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": build,
        "CFBundleName": name,
        "CFBundleExecutable": name,
        "MinimumOSVersion": "15.0",
        "UIDeviceFamily": [1, 2],
        "CFBundleSupportedPlatforms": ["iPhoneOS"],
    }
    for k, v in more.items():
        d[k.replace("__", "~")] = v
    return {k: v for k, v in d.items() if v is not None}


def plist(value, fmt="binary"):
    return plistlib.dumps(value, fmt=plistlib.FMT_BINARY if fmt == "binary" else plistlib.FMT_XML,
                          sort_keys=True)


def der(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([tag, n])
    else:
        size = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([tag, 0x80 | len(size)]) + size
    return head + body


SIGNED_DATA = bytes([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02])
DATA = bytes([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01])


def cms(content):
    """CMS SignedData carrying `content`, with no signer: the shape of embedded.mobileprovision."""
    encap = der(0x30, der(0x06, DATA) + der(0xA0, der(0x04, content)))
    signed = der(0x30, der(0x02, b"\x01") + der(0x31, b"") + encap + der(0x31, b""))
    return der(0x30, der(0x06, SIGNED_DATA) + der(0xA0, signed))


def cms_indefinite(content):
    """The same in BER with indefinite lengths, as some real profiles are."""
    ind = lambda tag, body: bytes([tag, 0x80]) + body + b"\x00\x00"
    encap = ind(0x30, der(0x06, DATA) + ind(0xA0, der(0x04, content)))
    signed = ind(0x30, der(0x02, b"\x01") + der(0x31, b"") + encap + der(0x31, b""))
    return ind(0x30, der(0x06, SIGNED_DATA) + ind(0xA0, signed))


def day(y, m, d):
    return datetime.datetime(y, m, d, tzinfo=datetime.timezone.utc)


def profile_dict(bundle_id="com.acme.bad", **more):
    d = {
        "AppIDName": "Hostile",
        "Name": f"{bundle_id} AdHoc",
        "TeamName": "Example Co.",
        "TeamIdentifier": ["EXAMPLE123"],
        "UUID": "12345678-1234-1234-1234-123456789012",
        "Platform": ["iOS"],
        "CreationDate": day(2024, 1, 1).replace(tzinfo=None),
        "ExpirationDate": day(2025, 1, 1).replace(tzinfo=None),
        "ProvisionedDevices": ["00008030-001A2B3C4D5E6F01", "00008101-000A1B2C3D4E5F02"],
        "Entitlements": {
            "application-identifier": f"EXAMPLE123.{bundle_id}",
            "get-task-allow": False,
            "com.apple.developer.team-identifier": "EXAMPLE123",
        },
        "DeveloperCertificates": [],
    }
    for k, v in more.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return d


def profile(bundle_id="com.acme.bad", **more):
    return cms(plist(profile_dict(bundle_id, **more), "xml"))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(w, h, cgbi=False, data=None, ihdr=None, extra=()):
    """A `w` x `h` RGBA PNG of a colour gradient, standard or Apple's CgBI (raw deflate, BGRA)."""
    if data is None:
        rows = bytearray()
        for y in range(h):
            rows.append(0)
            for x in range(w):
                r, g, b = (x * 255 // max(w, 1), y * 255 // max(h, 1), 128)
                rows += bytes([b, g, r, 255] if cgbi else [r, g, b, 255])
        data = deflate(bytes(rows)) if cgbi else zlib.compress(bytes(rows))
    out = b"\x89PNG\r\n\x1a\n"
    if cgbi:
        out += chunk(b"CgBI", b"\x50\x00\x20\x06")
    out += chunk(b"IHDR", ihdr if ihdr is not None else struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    for kind, body in extra:
        out += chunk(kind, body)
    out += chunk(b"IDAT", data) + chunk(b"IEND", b"")
    return out


def png_header(w, h, depth=8, color=6):
    """Only what ranks an icon: the signature and IHDR, then an IDAT of nothing."""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0))
            + chunk(b"IDAT", b"") + chunk(b"IEND", b""))


ICON = png(120, 120)
CGBI_ICON = png(60, 60, cgbi=True)


def ipa(plist_value=None, fmt="binary", app="Bad", profile_bytes=None, icons=(), extra=(),
        info_entry=None, plist_bytes=None):
    """An IPA of Payload/<app>.app with the Info.plist `plist_value` (or `plist_bytes`), an
    optional profile, icons as (file name, bytes) and extra zip entries as dicts."""
    pre = f"Payload/{app}.app/"
    if plist_bytes is None:
        plist_bytes = plist(plist_value if plist_value is not None else info(), fmt)
    entries = [dict(name=pre + "Info.plist", data=plist_bytes, **(info_entry or {})),
               dict(name=pre + app, data=b"\xcf\xfa\xed\xfe not a real executable")]
    if profile_bytes is not None:
        entries.append(dict(name=pre + "embedded.mobileprovision", data=profile_bytes))
    for name, data in icons:
        entries.append(dict(name=pre + name, data=data))
    entries.extend(extra)
    return zip_archive(entries)


def good_ipa(bundle_id="com.acme.good", name="Good", version="1.0", build="1"):
    """A release that builds, signed; without an icon, whose rendering would double its cost."""
    return ipa(info(bundle_id, version, build, name), app=name, profile_bytes=profile(bundle_id))


def with_icons(icons, names=("AppIcon60x60",), bundle_id="com.acme.bad", **more):
    return ipa(info(bundle_id, CFBundleIconFiles=list(names), **more),
               profile_bytes=profile(bundle_id), icons=icons)


# Binary plists made object by object, for what no writer makes.


def bplist(objects, top=0, offset_size=4, ref_size=1, count=None, table_at=None):
    out = bytearray(b"bplist00")
    offsets = []
    for o in objects:
        offsets.append(len(out))
        out += o
    table = len(out)
    for off in offsets:
        out += off.to_bytes(offset_size, "big") if offset_size else b""
    out += bytes(6) + bytes([offset_size, ref_size])
    out += struct.pack(">QQQ", len(objects) if count is None else count, top,
                       table if table_at is None else table_at)
    return bytes(out)


def bp_ascii(s):
    s = s.encode("ascii")
    return bytes([0x50 | len(s)]) + s if len(s) < 15 else b"\x5f\x10" + bytes([len(s)]) + s


def bp_dict(pairs):
    """A dict object of key refs and value refs (each below 256)."""
    n = len(pairs)
    head = bytes([0xD0 | n]) if n < 15 else b"\xdf\x10" + bytes([n])
    return head + bytes(k for k, _ in pairs) + bytes(v for _, v in pairs)


def bp_dag(levels):
    objs = [bytes([0xA2, i + 1, i + 1]) for i in range(levels)]
    return bplist(objs + [bp_ascii("leaf")])


def bp_nested(depth):
    """Arrays nested `depth` deep, each naming the next: refs of 4 bytes."""
    objs = [b"\xa1" + (i + 1).to_bytes(4, "big") for i in range(depth)] + [bp_ascii("leaf")]
    return bplist(objs, ref_size=4)


def xml_nested(depth, tag="array"):
    inner = "<string>leaf</string>" if tag == "array" else "<key>k</key><string>leaf</string>"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">'
            + f"<{tag}>" * depth + inner + f"</{tag}>" * depth + "</plist>\n").encode()


def xml_plist_body(body):
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
            b'"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">' + body + b"</plist>\n")


@functools.lru_cache
def deflated_zeros(n):
    return deflate(bytes(n), 1)


# ---------------------------------------------------------------------------------------------
# How relsite prints a file's name: lossy UTF-8, then every control character escaped.


def shown(name):
    text = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
    out = []
    for c in text:
        if c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif (unicodedata.category(c) == "Cc" or c in "\u2028\u2029"
              or "\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069"):
            out.append("\\u{%x}" % ord(c))
        else:
            out.append(c)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Cases.


class Case:
    """One site folder and what relsite must make of it."""

    def __init__(self, root, name):
        self.name = name
        self.dir = root
        self.site = os.path.join(root, "site")
        self.outside = os.path.join(root, "outside")
        self.expect = None
        self.errors = []
        self.warnings = []
        self.absent = []
        self.args = ["build"]
        self.output = "site/public"
        self.owned = []
        self.now = NOW
        os.makedirs(self.site)
        os.makedirs(os.path.join(self.outside, "dir"))
        for rel, data in OUTSIDE.items():
            self._write(os.path.join(self.outside, rel), data)

    def _write(self, path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def path(self, rel):
        return os.path.join(os.fsencode(self.site), as_bytes(rel))

    def file(self, rel, data):
        self._write(self.path(rel), data if isinstance(data, bytes) else data.encode())
        return self

    def sparse(self, rel, size):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.truncate(size)
        return self

    def link(self, rel, target):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.remove(path)
        os.symlink(os.fsencode(target), path)
        return self

    def fifo(self, rel):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.remove(path)
        os.mkfifo(path)
        return self

    def socket(self, rel):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.remove(path)
        here = os.getcwd()
        os.chdir(os.path.dirname(path))  # a socket's path must be short
        try:
            s = socket.socket(socket.AF_UNIX)
            s.bind(os.path.basename(path))
            s.close()
        finally:
            os.chdir(here)
        return self

    def mkdir(self, rel):
        os.makedirs(self.path(rel), exist_ok=True)
        return self

    def config(self, text):
        return self.file("relsite.yaml", text)

    def good(self):
        """A release that builds: the site has something to publish besides what is hostile."""
        self.file("releases/good/Good.ipa", GOOD_IPA)
        self.file("releases/good/Good.yaml", "date: 2024-05-01\nchannel: beta\nnotes: Fixes.\n")
        return self

    def ok(self, *warnings):
        self.expect, self.warnings = "ok", [shown(w) for w in warnings]
        return self

    def fail(self, *files):
        assert files, self.name
        self.expect, self.errors = "fail", [shown(f) for f in files]
        return self

    def either(self, *files):
        """Refusing is as right as accepting; an error must name one of `files`."""
        self.expect, self.errors = "either", [shown(f) for f in files]
        return self

    def own(self, *prefixes):
        """Paths outside the site (as prefixes below the case's folder) a build may write: the
        output or cache a link of the site points at."""
        self.owned.extend(prefixes)
        return self

    def never(self, *texts):
        """Texts no page may carry raw."""
        self.absent.extend(texts)
        return self

    def json(self):
        assert self.expect, self.name
        return dict(name=self.name, dir=os.path.relpath(self.dir, OUT_ROOT), args=self.args,
                    now=self.now, expect=self.expect, errors=self.errors, warnings=self.warnings,
                    absent=self.absent, output=self.output, owned=self.owned)


# What no page may carry from notes or the configuration: it would run or load there.
RAW_MARKUP = ("<script>alert", "<img src=x", "<iframe", '<a href="javascript:', '<img src="javascript:',
              '<a href="data:', '<img src="data:')

OUTSIDE = {}
GOOD_IPA = b""
OUT_ROOT = ""
CASES = []


def case(name, config=CONFIG, good=False):
    c = Case(os.path.join(OUT_ROOT, "cases", "c%04d" % len(CASES)), name)
    CASES.append(c)
    if config is not None:
        c.config(config)
    c.mkdir("releases")
    if good:
        c.good()
    return c


BAD = "releases/bad/Bad.ipa"


def expect(c, kind, *files):
    """`fail`: errors name `files`; `warn`: the build succeeds, warnings name them; `ok`: it
    succeeds; `either`: it succeeds, or its errors name one of them."""
    return {"fail": c.fail, "warn": c.ok, "ok": lambda *_: c.ok(), "either": c.either}[kind](*files)


def bad_ipa(name, data, kind="fail"):
    """A case of one hostile IPA beside the good release."""
    return expect(case(name).file(BAD, data), kind, BAD)


def zip_cases():
    good = GOOD_IPA
    bad_ipa("zip/empty-file", b"")
    bad_ipa("zip/text", b"this is not a zip archive\n" * 40)
    bad_ipa("zip/png-named-ipa", ICON)
    bad_ipa("zip/gzip", b"\x1f\x8b\x08\x00" + bytes(60))
    bad_ipa("zip/local-header-only", b"PK\x03\x04" + bytes(26))
    bad_ipa("zip/empty-archive", zip_archive([]))
    bad_ipa("zip/end-record-only-all-ff", b"PK\x05\x06" + b"\xff" * 18)
    for frac in (1, 10, 25, 50, 75, 90, 99):
        bad_ipa(f"zip/truncated-{frac}pct", good[: len(good) * frac // 100])
    bad_ipa("zip/truncated-last-byte", good[:-1])
    bad_ipa("zip/truncated-end-record", good[:-22])
    middle = len(good) // 2
    bad_ipa("zip/middle-cut-out", good[: middle - 500] + good[middle + 500:])
    bad_ipa("zip/zeroed-central-directory", good[:-200] + bytes(178) + good[-22:])
    # Overlapping entries: every icon name points at one 8 MiB record (a zip bomb of names).
    undecodable = png_header(1024, 1024)[:33] + bytes((8 << 20) - 33)
    entries = [dict(name="Payload/Bad.app/Info.plist", data=plist(info(CFBundleIconFiles=["AppIcon"]))),
               dict(name="Payload/Bad.app/AppIcon0x0.png", data=undecodable)]
    entries += [dict(name=f"Payload/Bad.app/AppIcon{i}x{i}.png", data=undecodable, share=1)
                for i in range(1, 400)]
    bad_ipa("zip/overlapping-icon-records", zip_archive(entries))
    entries[1]["data"] = png_header(64, 64)[:33] + bytes(1000)
    bad_ipa("zip/overlapping-small-icon-records", zip_archive(entries), "warn")
    # The Info.plist and every other name sharing one record.
    plist_rec = plist(info())
    entries = [dict(name="Payload/Bad.app/Info.plist", data=plist_rec)]
    entries += [dict(name=f"Payload/Bad.app/F{i}", data=plist_rec, share=0) for i in range(5000)]
    bad_ipa("zip/5000-names-one-record", zip_archive(entries), "ok")
    # Declared sizes that lie.
    for what, entry_name in (("info-plist", "Info.plist"), ("profile", "embedded.mobileprovision"),
                             ("icon", "AppIcon60x60@2x.png")):
        for label, fields in (("huge-declared", dict(usize=0xFFFFFFFF - 1)),
                              ("zip64-exabyte", dict(usize=1 << 60, csize=1 << 60)),
                              ("small-declared", dict(usize=10)),
                              ("compressed-past-end", dict(csize=0x7FFFFFFF))):
            data = {"Info.plist": plist(info(CFBundleIconFiles=["AppIcon60x60"])),
                    "embedded.mobileprovision": profile(),
                    "AppIcon60x60@2x.png": ICON}
            entries = [dict(name="Payload/Bad.app/" + n, data=d, **(fields if n == entry_name else {}))
                       for n, d in data.items()]
            kind = "fail" if what == "info-plist" and label != "compressed-past-end" else "either"
            bad_ipa(f"zip/{what}-{label}", zip_archive(entries), kind)
    # A small entry that inflates to 64 MiB, under every name relsite reads.
    bomb = deflated_zeros(64 << 20)
    for what, entry_name, expect in (("info-plist", "Info.plist", "fail"),
                                     ("profile", "embedded.mobileprovision", "warn"),
                                     ("icon", "AppIcon60x60@2x.png", "warn")):
        data = {"Info.plist": plist(info(CFBundleIconFiles=["AppIcon60x60"])),
                "embedded.mobileprovision": profile(), "AppIcon60x60@2x.png": ICON}
        entries = [dict(name="Payload/Bad.app/" + n, data=d) for n, d in data.items()]
        for e in entries:
            if e["name"].endswith(entry_name):
                e.update(raw=bomb, data=b"", usize=100, crc=0)
        bad_ipa(f"zip/{what}-inflates-to-64mib", zip_archive(entries), expect)
    # Compression methods relsite cannot inflate, on each entry it reads.
    for method in (1, 6, 9, 12, 14, 93, 95, 98, 99, 0xFFFF):
        bad_ipa(f"zip/info-plist-method-{method}",
                ipa(info_entry=dict(method=method, raw=deflate(plist(info())))))
    for method in (12, 99):
        bad_ipa(f"zip/profile-method-{method}", zip_archive([
            dict(name="Payload/Bad.app/Info.plist", data=plist(info())),
            dict(name="Payload/Bad.app/embedded.mobileprovision", data=profile(), method=method,
                 raw=deflate(profile()))]), "warn")
        bad_ipa(f"zip/icon-method-{method}", zip_archive([
            dict(name="Payload/Bad.app/Info.plist", data=plist(info(CFBundleIconFiles=["AppIcon60x60"]))),
            dict(name="Payload/Bad.app/AppIcon60x60@2x.png", data=ICON, method=method, raw=deflate(ICON))]), "warn")
    bad_ipa("zip/info-plist-corrupt-deflate", ipa(info_entry=dict(raw=b"\xff\xfe\xfd" * 50)))
    bad_ipa("zip/info-plist-crc-mismatch", ipa(info_entry=dict(crc=0x12345678)))
    bad_ipa("zip/info-plist-stored-but-deflated", ipa(info_entry=dict(method=0, raw=deflate(plist(info())))))
    # Encryption flags.
    bad_ipa("zip/info-plist-encrypted", ipa(info_entry=dict(flags=1)))
    bad_ipa("zip/info-plist-strong-encryption", ipa(info_entry=dict(flags=0x41)))
    bad_ipa("zip/profile-encrypted", zip_archive([
        dict(name="Payload/Bad.app/Info.plist", data=plist(info())),
        dict(name="Payload/Bad.app/embedded.mobileprovision", data=profile(), flags=1)]), "warn")
    bad_ipa("zip/icon-encrypted", zip_archive([
        dict(name="Payload/Bad.app/Info.plist", data=plist(info(CFBundleIconFiles=["AppIcon60x60"]))),
        dict(name="Payload/Bad.app/AppIcon60x60@2x.png", data=ICON, flags=1)]), "warn")
    # Names: traversal, absolute, duplicated, nested, missing.
    for label, name in (("dotdot", "../../../outside/evil.txt"), ("payload-dotdot", "Payload/Bad.app/../../../evil"),
                        ("absolute", "/tmp/relsite-hostile-evil"), ("backslashes", "..\\..\\evil.txt"),
                        ("nul-in-name", "Payload/Bad.app/a\x00b"), ("newline-in-name", "Payload/Bad.app/a\nb"),
                        ("non-utf8-name", b"Payload/Bad.app/\xff\xfe.png"),
                        ("empty-name", ""), ("slash-only", "/")):
        bad_ipa(f"zip/entry-name-{label}", ipa(extra=[dict(name=name, data=b"evil")]), "ok")
    for label, name in (("absolute", "/Payload/Bad.app/Info.plist"), ("backslashes", "Payload\\Bad.app\\Info.plist"),
                        ("dotdot-app", "Payload/../Bad.app/Info.plist"), ("root", "Info.plist"),
                        ("in-payload", "Payload/Info.plist"), ("nested-payload", "Payload/Payload/Bad.app/Info.plist"),
                        ("app-in-app", "Payload/Outer.app/Bad.app/Info.plist"),
                        ("macosx", "__MACOSX/Payload/Bad.app/Info.plist"),
                        ("appledouble-app", "Payload/._Bad.app/Info.plist"),
                        ("plugin-only", "Payload/Bad.app/PlugIns/Share.appex/Info.plist"),
                        ("framework-only", "Payload/Bad.app/Frameworks/Kit.framework/Info.plist"),
                        ("not-dot-app", "Payload/Bad/Info.plist"), ("lowercase-payload", "payload/Bad.app/Info.plist")):
        bad_ipa(f"zip/info-plist-at-{label}", zip_archive([dict(name=name, data=plist(info()))]))
    bad_ipa("zip/app-folder-only", zip_archive([dict(name="Payload/Bad.app/", data=b""),
                                                dict(name="Payload/Bad.app/Bad", data=b"x")]))
    bad_ipa("zip/info-plist-is-a-folder", zip_archive([dict(name="Payload/Bad.app/Info.plist/", data=b"")]))
    bad_ipa("zip/two-apps", zip_archive([dict(name="Payload/A.app/Info.plist", data=plist(info())),
                                         dict(name="Payload/B.app/Info.plist", data=plist(info()))]))
    bad_ipa("zip/app-named-dot-app", zip_archive([dict(name="Payload/.app/Info.plist", data=plist(info()))]), "either")
    bad_ipa("zip/app-named-dotdot", zip_archive([dict(name="Payload/...app/Info.plist", data=plist(info()))]), "either")
    bad_ipa("zip/nested-payload-beside-app", ipa(extra=[
        dict(name="Payload/Bad.app/Payload/Other.app/Info.plist", data=plist(info("com.acme.other")))]), "ok")
    bad_ipa("zip/duplicate-info-plist", zip_archive([
        dict(name="Payload/Bad.app/Info.plist", data=plist(info())),
        dict(name="Payload/Bad.app/Info.plist", data=plist(info("com.acme.twin")))]), "either")
    bad_ipa("zip/duplicate-profile", zip_archive([
        dict(name="Payload/Bad.app/Info.plist", data=plist(info())),
        dict(name="Payload/Bad.app/embedded.mobileprovision", data=profile()),
        dict(name="Payload/Bad.app/embedded.mobileprovision", data=b"garbage")]), "either")
    # Archive-level oddities.
    bad_ipa("zip/junk-before-archive", b"#!/bin/sh\nexit 0\n" * 100 + GOOD_IPA_BAD, "either")
    bad_ipa("zip/comment-of-64k", zip_archive([dict(name="Payload/Bad.app/Info.plist", data=plist(info()))],
                                              comment=b"PK\x05\x06" * 16383), "either")
    bad_ipa("zip/end-record-claims-other-disk", zip_archive(
        [dict(name="Payload/Bad.app/Info.plist", data=plist(info()))], eocd=dict(disk=3, cd_disk=3)), "either")
    bad_ipa("zip/end-record-claims-65535-entries", zip_archive(
        [dict(name="Payload/Bad.app/Info.plist", data=plist(info()))], eocd=dict(here=0xFFFF, total=0xFFFF)))
    bad_ipa("zip/central-directory-offset-past-end", zip_archive(
        [dict(name="Payload/Bad.app/Info.plist", data=plist(info()))], eocd=dict(offset=0x7FFFFFF0)))
    bad_ipa("zip/central-directory-size-past-end", zip_archive(
        [dict(name="Payload/Bad.app/Info.plist", data=plist(info()))], eocd=dict(size=0x7FFFFFF0)), "either")
    # A zip64 end record claiming 2^60 entries.
    body = zip_archive([dict(name="Payload/Bad.app/Info.plist", data=plist(info()))])
    cd_end = len(body) - 22
    cd_start = struct.unpack("<I", body[cd_end + 16: cd_end + 20])[0]
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1 << 60, 1 << 60, cd_end - cd_start, cd_start)
    loc = struct.pack("<IIQI", 0x07064B50, 0, cd_end, 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    bad_ipa("zip/zip64-claims-2-pow-60-entries", body[:cd_end] + z64 + loc + eocd)
    # 200,000 entries of one byte: the central directory alone is megabytes.
    many = [dict(name="Payload/Bad.app/Info.plist", data=plist(info()))]
    many += [dict(name="f%d" % i, data=b"", method=0) for i in range(200_000)]
    bad_ipa("zip/200000-entries", zip_archive(many), "either")
    # Directory traversal in the app folder name, which relsite prints.
    bad_ipa("zip/app-name-with-escape-codes", zip_archive([
        dict(name="Payload/\x1b[31mRed\n.app/Info.plist", data=plist(info()))]), "either")


GOOD_IPA_BAD = b""


def plist_cases():
    # Structure: depth, sharing, cycles, counts.
    for depth, expect in ((60, "ok"), (65, "fail"), (10_000, "fail"), (270_000, "fail")):
        bad_ipa(f"info-plist/xml-arrays-nested-{depth}", ipa(plist_bytes=xml_nested(depth)),
                "fail" if expect == "fail" else "fail")
    bad_ipa("info-plist/xml-dicts-nested-100000", ipa(plist_bytes=xml_nested(100_000, "dict")))
    bad_ipa("info-plist/binary-arrays-nested-100000", ipa(plist_bytes=bp_nested(100_000)))
    bad_ipa("info-plist/binary-dag-40-levels", ipa(plist_bytes=bp_dag(40)))
    bad_ipa("info-plist/binary-array-contains-itself", ipa(plist_bytes=bplist([b"\xa1\x00"])))
    key, value = bp_ascii("CFBundleIdentifier"), bp_ascii("com.acme.bad")
    bad_ipa("info-plist/binary-dict-value-is-itself", ipa(plist_bytes=bplist([bp_dict([(1, 0)]), key])))
    bad_ipa("info-plist/binary-dict-key-is-a-dict", ipa(plist_bytes=bplist([bp_dict([(0, 1)]), value])))
    bad_ipa("info-plist/binary-ref-out-of-range", ipa(plist_bytes=bplist([bp_dict([(1, 200)]), key])))
    bad_ipa("info-plist/binary-array-count-2-pow-62", ipa(plist_bytes=bplist(
        [b"\xaf\x13" + (1 << 62).to_bytes(8, "big") + b"\x00"])))
    bad_ipa("info-plist/binary-string-length-2-pow-62", ipa(plist_bytes=bplist(
        [b"\x5f\x13" + (1 << 62).to_bytes(8, "big") + b"abc"])))
    bad_ipa("info-plist/binary-data-length-2-pow-31", ipa(plist_bytes=bplist(
        [b"\x4f\x12" + (1 << 31).to_bytes(4, "big") + b"abc"])))
    bad_ipa("info-plist/binary-object-count-2-pow-62", ipa(plist_bytes=bplist([bp_dict([])], count=1 << 62)))
    bad_ipa("info-plist/binary-top-object-past-end", ipa(plist_bytes=bplist([bp_dict([])], top=1 << 40)))
    bad_ipa("info-plist/binary-offset-size-zero", ipa(plist_bytes=bplist([bp_dict([])], offset_size=0)))
    bad_ipa("info-plist/binary-ref-size-nine", ipa(plist_bytes=bplist([bp_dict([])], ref_size=9)))
    bad_ipa("info-plist/binary-offset-table-past-end", ipa(plist_bytes=bplist([bp_dict([])], table_at=1 << 40)))
    bad_ipa("info-plist/binary-offset-table-at-header", ipa(plist_bytes=bplist([bp_dict([])], table_at=0)))
    bad_ipa("info-plist/binary-header-only", ipa(plist_bytes=b"bplist00"))
    bad_ipa("info-plist/binary-version-99", ipa(plist_bytes=b"bplist99" + plist(info())[8:]), "either")
    bad_ipa("info-plist/empty", ipa(plist_bytes=b""))
    bad_ipa("info-plist/random-bytes", ipa(plist_bytes=bytes((i * 7919) % 251 for i in range(4096))))
    bad_ipa("info-plist/binary-truncated", ipa(plist_bytes=plist(info())[:-40]))
    bad_ipa("info-plist/xml-truncated", ipa(plist_bytes=plist(info(), "xml")[:-60]))
    many = "".join(f"<key>k{i}</key><string>v</string>" for i in range(300_000))
    bad_ipa("info-plist/xml-dict-of-300000-keys", ipa(plist_bytes=xml_plist_body(
        b"<dict><key>CFBundleIdentifier</key><string>com.acme.bad</string>" + many.encode() + b"</dict>")))
    bad_ipa("info-plist/binary-array-of-300000-refs", ipa(plist_bytes=bplist(
        [b"\xaf\x12" + (300_000).to_bytes(4, "big") + b"\x00\x01" * 300_000, bp_ascii("x")], ref_size=2)))
    bomb = b"<!DOCTYPE plist [" + b'<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    for level in "bcdefghij":
        prev = chr(ord(level) - 1)
        bomb += f'<!ENTITY {level} "{("&" + prev + ";") * 10}">'.encode()
    bomb += b"]>"
    bad_ipa("info-plist/xml-entity-expansion", ipa(plist_bytes=b'<?xml version="1.0"?>' + bomb +
            b"<plist><dict><key>CFBundleIdentifier</key><string>&j;</string></dict></plist>"))
    bad_ipa("info-plist/xml-external-entity", ipa(plist_bytes=
            b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<plist><dict><key>CFBundleIdentifier</key><string>&x;</string></dict></plist>"))
    bad_ipa("info-plist/xml-utf16", ipa(plist_bytes=plist(info(), "xml").decode().replace(
        'encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")), "either")
    bad_ipa("info-plist/xml-latin1-bytes", ipa(plist_bytes=plist(info(name="X"), "xml").replace(
        b"<string>X</string>", b"<string>\xe9\xff</string>")), "either")
    bad_ipa("info-plist/xml-huge-integer", ipa(plist_bytes=plist(info(), "xml").replace(
        b"<integer>1</integer>", b"<integer>" + b"9" * 5000 + b"</integer>")), "either")
    bad_ipa("info-plist/xml-tag-name-of-1mib", ipa(plist_bytes=xml_plist_body(b"<" + b"a" * (1 << 20) + b"/>")))
    bad_ipa("info-plist/top-level-array", ipa(plist_bytes=plist([info()])))
    bad_ipa("info-plist/top-level-string", ipa(plist_bytes=plist("com.acme.bad", "xml")))
    # CFBundleIdentifier of every other type, and empty.
    wrong = {"integer": 5, "real": 1.5, "bool": True, "date": datetime.datetime(2024, 1, 1),
             "data": b"com.acme.bad", "array": ["com.acme.bad"], "dict": {"id": "com.acme.bad"}}
    for i, (label, value) in enumerate(wrong.items()):
        fmt = ("binary", "xml")[i % 2]
        bad_ipa(f"info-plist/bundle-id-{label}-{fmt}", ipa(info(value), fmt), "either" if label == "integer" else "fail")
    for label, value in (("empty", ""), ("spaces", "   "), ("missing", None)):
        d = info()
        if value is None:
            d.pop("CFBundleIdentifier")
        else:
            d["CFBundleIdentifier"] = value
        bad_ipa(f"info-plist/bundle-id-{label}", ipa(d))
    # Every other key of every wrong type: treated as absent, the build goes on.
    keys = ["CFBundleShortVersionString", "CFBundleVersion", "CFBundleDisplayName", "CFBundleName",
            "MinimumOSVersion", "UIDeviceFamily", "CFBundleSupportedPlatforms", "CFBundleIcons",
            "CFBundleIcons~ipad", "CFBundleIconFiles", "CFBundleIconFile"]
    for i, key in enumerate(keys):
        for j, (label, value) in enumerate((k, wrong[k]) for k in ("data", "dict")):
            fmt = ("binary", "xml")[j]
            d = info(CFBundleIconFiles=["AppIcon60x60"])
            d[key] = value
            bad_ipa(f"info-plist/{key}-is-{label}-{fmt}",
                    ipa(d, fmt, profile_bytes=profile(), icons=[("AppIcon60x60@2x.png", ICON)]), "ok")
    d = info()
    d["CFBundleShortVersionString"] = 5
    d["CFBundleVersion"] = [1]
    d["CFBundleShortVersionString"] = 1.5
    bad_ipa("info-plist/no-version-of-any-type", ipa(d))
    # Text: control characters, noncharacters, empty and very long strings.
    hostile = "\x00\x01\x0c\x1b[31m\ufffe\uffff\u202e\n<script>alert(1)</script>"
    bad_ipa("info-plist/display-name-hostile-chars", ipa(info(CFBundleDisplayName=hostile), profile_bytes=profile()),
            "ok").never("<script>alert(1)</script>")
    bad_ipa("info-plist/bundle-id-hostile-chars", ipa(info("com.acme.\x1b[31m\n\ufffe"), profile_bytes=profile()),
            "either")
    bad_ipa("info-plist/version-hostile-chars", ipa(info(version="1.0\x00\n\ufffe", build="\x1b[2J")), "either")
    for label, d in (("bundle-id-1mib", info("com." + "a" * (1 << 20))),
                     ("bundle-id-3mib-xml", info("com." + "b" * (3 << 20))),
                     ("display-name-3mib", info(CFBundleDisplayName="N" * (3 << 20))),
                     ("version-64kib", info(version="1." * (32 << 10), build="2")),
                     ("build-1mib", info(build="7" * (1 << 20))),
                     ("bundle-id-256", info("c" * 256)), ("version-101", info(version="1" * 101)),
                     ("name-1025-xml", info(CFBundleName="n" * 1025, CFBundleDisplayName=None))):
        fmt = "xml" if "xml" in label else "binary"
        bad_ipa(f"info-plist/{label}", ipa(d, fmt))
    for label, d in ((("bundle-id-255", info("c" * 255)), ("version-100", info(version="1" * 100, build="2" * 100)),
                      ("name-1024", info(CFBundleDisplayName="N" * 1024)))):
        bad_ipa(f"info-plist/{label}", ipa(d), "ok")
    for label, d in (
                     ("version-10000-dots", info(version="." * 10000, build=".")),
                     ("version-empty", info(version="", build="")),
                     ("version-dotdot", info(version="..", build="..")),
                     ("version-dot", info(version=".", build=".")),
                     ("version-slashes", info(version="../../../../outside", build="/etc/passwd")),
                     ("version-huge-numbers", info(version="99999999999999999999999999.1", build="18446744073709551616")),
                     ("version-unicode", info(version="１.０", build="٣")),
                     ("bundle-id-dotdot", info("..")),
                     ("bundle-id-dot", info(".")),
                     ("bundle-id-slashes", info("../../outside")),
                     ("bundle-id-assets", info("assets")),
                     ("bundle-id-index-html", info("index.html")),
                     ("bundle-id-feed-xml", info("feed.xml")),
                     ("bundle-id-upper-of-good", info("COM.ACME.GOOD")),
                     ("bundle-id-unicode", info("com.ácme.Ünïcødé.📱")),
                     ("icon-names-100000", info(CFBundleIconFiles=["AppIcon%d" % i for i in range(100_000)])),
                     ("icon-name-empty", info(CFBundleIconFiles=[""])),
                     ("icon-name-dotdot", info(CFBundleIconFiles=["../../../../outside/icon"])),
                     ("device-family-huge", info(UIDeviceFamily=[2 ** 63, -1, 7, 99])),
                     ("platforms-10000", info(CFBundleSupportedPlatforms=["p%d" % i for i in range(10_000)]))):
        fmt = "xml" if "xml" in label else "binary"
        bad_ipa(f"info-plist/{label}", ipa(d, fmt, profile_bytes=profile(d["CFBundleIdentifier"])
                                           if isinstance(d.get("CFBundleIdentifier"), str) else None), "either")


def profile_cases():
    def with_profile(name, data, kind="warn"):
        return bad_ipa(f"profile/{name}", ipa(profile_bytes=data), kind)

    xml = plist(profile_dict(), "xml")
    with_profile("empty", b"")
    with_profile("garbage", bytes((i * 31) % 256 for i in range(5000)))
    with_profile("plist-without-cms", xml)
    with_profile("cms-truncated", profile()[:300])
    with_profile("cms-length-2-pow-64", b"\x30\x88" + b"\xff" * 8 + profile()[4:])
    with_profile("cms-length-past-end", b"\x30\x84\x7f\xff\xff\xff" + profile()[4:])
    with_profile("ber-indefinite", cms_indefinite(xml))
    with_profile("ber-indefinite-nested-100000", b"\x30\x80" * 100_000 + xml + b"\x00\x00" * 100_000)
    with_profile("der-nested-200000", b"\x30\x84\x00\x10\x00\x00" * 200_000)
    with_profile("cms-of-binary-plist", cms(plist(profile_dict())))
    with_profile("cms-of-array", cms(plist([profile_dict()], "xml")))
    with_profile("cms-of-garbage", cms(b"<?xml version='1.0'?><plist><dict><key>Name</key>"))
    with_profile("cms-of-nothing", cms(b""))
    with_profile("two-plists", cms(xml + xml))
    with_profile("plist-end-before-start", cms(b"</plist>" + xml[: -10]))
    with_profile("no-keys", cms(plist({}, "xml")), "fail")
    with_profile("nested-100000", cms(xml_nested(100_000)))
    with_profile("dict-of-300000-keys", cms(xml_plist_body(
        b"<dict>" + b"".join(b"<key>k%d</key><true/>" % i for i in range(300_000)) + b"</dict>")))
    for label, more in (("dates-year-1", dict(CreationDate=datetime.datetime(1, 1, 1),
                                              ExpirationDate=datetime.datetime(1, 1, 2))),
                        ("dates-year-9999", dict(ExpirationDate=datetime.datetime(9999, 12, 31, 23, 59, 59))),
                        ("expires-before-created", dict(CreationDate=datetime.datetime(2024, 5, 1),
                                                        ExpirationDate=datetime.datetime(2020, 1, 1))),
                        ("expiration-is-string", dict(ExpirationDate="tomorrow")),
                        ("expiration-is-integer", dict(ExpirationDate=10 ** 15)),
                        ("expiration-missing", dict(ExpirationDate=None)),
                        ("expires-in-a-week", dict(ExpirationDate=datetime.datetime(2024, 6, 8))),
                        ("expired", dict(ExpirationDate=datetime.datetime(2024, 5, 31))),
                        ("devices-not-array", dict(ProvisionedDevices="all of them")),
                        ("devices-100000", dict(ProvisionedDevices=["%040x" % i for i in range(100_000)])),
                        ("devices-of-integers", dict(ProvisionedDevices=list(range(100)))),
                        ("all-devices-string", dict(ProvisionsAllDevices="yes", ProvisionedDevices=None)),
                        ("entitlements-not-dict", dict(Entitlements=["application-identifier"])),
                        ("team-identifier-empty", dict(TeamIdentifier=[])),
                        ("name-1mib", dict(Name="P" * (1 << 20))),
                        ("certificates-garbage", dict(DeveloperCertificates=[b"\x30\x82\xff\xff" + bytes(100)] * 50)),
                        ("certificates-not-data", dict(DeveloperCertificates=["MIIB", 5, {}]))):
        with_profile(label, profile(**more), "either").warnings = [shown(BAD)]
    raw = plist(profile_dict(TeamName="TEAM"), "xml").replace(
        b"<string>TEAM</string>", "<string>\x1b[31mEvil\x00\ufffe\n&lt;b>bold</string>".encode())
    with_profile("team-name-raw-control-chars", cms(raw), "either").warnings = [shown(BAD)]
    with_profile("team-name-hostile-binary", cms(plist(profile_dict(TeamName="\x1b[31mEvil\x00\ufffe\n<b>b</b>"))),
                 "either").warnings = [shown(BAD)]
    # Application identifiers: wildcards, long patterns, wrong types.
    for label, app_id, kind in (
            ("app-id-star", "EXAMPLE123.*", "ok"),
            ("app-id-prefix-star", "EXAMPLE123.com.acme.*", "ok"),
            ("app-id-only-star", "*", "either"),
            ("app-id-empty", "", "either"),
            ("app-id-other", "EXAMPLE123.com.acme.other", "fail"),
            ("app-id-other-team", "OTHER.com.acme.bad", "either"),
            ("app-id-10000-stars", "EXAMPLE123." + "*" * 10_000, "either"),
            ("app-id-star-a-backtracking", "EXAMPLE123." + "*a" * 5_000 + "*b", "fail"),
            ("app-id-1mib", "EXAMPLE123." + "c" * (1 << 20), "fail"),
            ("app-id-question-marks", "EXAMPLE123.com.acme.?a?", "either")):
        ent = {"application-identifier": app_id, "get-task-allow": False}
        with_profile(label, profile(Entitlements=ent), kind)
    with_profile("app-id-is-integer", profile(Entitlements={"application-identifier": 5}), "either")
    with_profile("app-id-with-long-bundle-id", ipa(info("a." * 50_000 + "b"), profile_bytes=profile(
        Entitlements={"application-identifier": "EXAMPLE123." + "*." * 50_000 + "*"})), "either")
    bad_ipa("profile/app-id-wildcard-vs-long-bundle-id", ipa(
        info("a" * 100_000), profile_bytes=profile(
            Entitlements={"application-identifier": "EXAMPLE123." + "*a" * 20_000 + "*b"})), "fail")
    # Distribution types.
    with_profile("app-store", profile(ProvisionedDevices=None), "fail")
    with_profile("enterprise", profile(ProvisionedDevices=None, ProvisionsAllDevices=True), "ok")
    with_profile("development", profile(Entitlements={"application-identifier": "EXAMPLE123.com.acme.bad",
                                                      "get-task-allow": True}), "ok")
    with_profile("profile-of-2mib-plus-one", cms(xml + b" " * (2 << 20)))


def icon_cases():
    def with_icon(name, icons, kind="warn", names=("AppIcon60x60",)):
        return bad_ipa(f"icon/{name}", with_icons(icons, names), kind)

    for label, (w, h) in (("100000-square", (100_000, 100_000)), ("4097-by-1", (4097, 1)),
                          ("1-by-4097", (1, 4097)), ("2049-square", (2049, 2049)), ("zero", (0, 0)),
                          ("2-pow-31", (1 << 31, 1 << 31)), ("max-u32", (0xFFFFFFFF, 0xFFFFFFFF))):
        with_icon(f"header-{label}", [("AppIcon60x60@2x.png", png_header(w, h))])
        with_icon(f"header-{label}-cgbi", [("AppIcon60x60@2x.png", png(4, 4, cgbi=True,
                                            ihdr=struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)))])
    for frac in (10, 50, 90):
        with_icon(f"truncated-{frac}pct", [("AppIcon60x60@2x.png", ICON[: len(ICON) * frac // 100])])
        with_icon(f"cgbi-truncated-{frac}pct", [("AppIcon60x60@2x.png", CGBI_ICON[: len(CGBI_ICON) * frac // 100])])
    with_icon("cgbi-corrupt-deflate", [("AppIcon60x60@2x.png", png(60, 60, cgbi=True, data=b"\xff" * 500))])
    with_icon("cgbi-zlib-header-instead-of-raw", [("AppIcon60x60@2x.png", png(60, 60, cgbi=True,
              data=zlib.compress(bytes(60 * 241))))], "either")
    with_icon("cgbi-too-little-data", [("AppIcon60x60@2x.png", png(60, 60, cgbi=True, data=deflate(bytes(100))))])
    with_icon("cgbi-inflates-to-64mib", [("AppIcon60x60@2x.png", png(64, 64, cgbi=True,
                                          data=deflated_zeros(64 << 20)))], "ok")
    with_icon("png-inflates-to-64mib", [("AppIcon60x60@2x.png", png(64, 64, data=zlib.compress(bytes(64 << 20), 1)))],
              "ok")
    with_icon("cgbi-bad-crc", [("AppIcon60x60@2x.png", CGBI_ICON[:40] + b"\x00\x00\x00\x00" + CGBI_ICON[44:])])
    with_icon("cgbi-chunk-length-2-pow-31", [("AppIcon60x60@2x.png", CGBI_ICON[:8] + b"\x7f\xff\xff\xff" + CGBI_ICON[12:])])
    with_icon("ihdr-bit-depth-3", [("AppIcon60x60@2x.png", png(4, 4, ihdr=struct.pack(">IIBBBBB", 4, 4, 3, 6, 0, 0, 0)))])
    with_icon("ihdr-color-type-5", [("AppIcon60x60@2x.png", png(4, 4, ihdr=struct.pack(">IIBBBBB", 4, 4, 8, 5, 0, 0, 0)))])
    with_icon("ihdr-short", [("AppIcon60x60@2x.png", png(4, 4, ihdr=b"\x00\x00"))])
    with_icon("interlace-method-7", [("AppIcon60x60@2x.png", png(4, 4, ihdr=struct.pack(">IIBBBBB", 4, 4, 8, 6, 0, 0, 7)))])
    with_icon("not-a-png", [("AppIcon60x60@2x.png", b"GIF89a" + bytes(100))])
    with_icon("empty-file", [("AppIcon60x60@2x.png", b"")])
    with_icon("8mib-of-zeros-after-header", [("AppIcon60x60@2x.png", png_header(1024, 1024)[:33] + bytes((8 << 20) - 33))])
    with_icon("10000-idat-chunks", [("AppIcon60x60@2x.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(
        ">IIBBBBB", 16, 16, 8, 6, 0, 0, 0)) + chunk(b"IDAT", b"") * 10_000 + chunk(b"IEND", b""))])
    with_icon("many-candidates-undecodable", [(f"AppIcon60x60-{i}.png", png_header(1000 + i, 1000 + i))
                                              for i in range(500)])
    with_icon("many-candidates-one-good", [(f"AppIcon60x60-{i}.png", png(8, 8)) for i in range(300)]
              + [("AppIcon60x60@3x.png", ICON)], "ok")
    with_icon("icon-is-a-folder", [("AppIcon60x60@2x.png/", b"")])
    with_icon("name-matches-every-entry", [("AppIcon60x60@2x.png", ICON)], "ok", names=("",))
    with_icon("cgbi-real-shape", [("AppIcon60x60@2x.png", CGBI_ICON)], "ok")
    with_icon("palette-png-without-plte", [("AppIcon60x60@2x.png", png(4, 4, ihdr=struct.pack(
        ">IIBBBBB", 4, 4, 8, 3, 0, 0, 0), data=zlib.compress(bytes(20))))])
    with_icon("sixteen-bit", [("AppIcon60x60@2x.png", png(4, 4, ihdr=struct.pack(">IIBBBBB", 4, 4, 16, 6, 0, 0, 0),
                                                          data=zlib.compress(bytes(4 * 33))))], "ok")
    # The configured icon of an app, apps.<id>.icon.
    def configured(name, make, expect_file="icons/good.png"):
        c = case(f"icon/configured-{name}", config=CONFIG + "apps:\n  com.acme.good:\n    icon: icons/good.png\n",
                 good=True)
        make(c)
        return c.fail(expect_file)

    configured("missing", lambda c: None)
    configured("folder", lambda c: c.mkdir("icons/good.png"))
    configured("fifo", lambda c: c.fifo("icons/good.png"))
    configured("socket", lambda c: c.socket("icons/good.png"))
    configured("link-to-dev-zero", lambda c: c.link("icons/good.png", "/dev/zero"))
    configured("link-outside", lambda c: c.link("icons/good.png", os.path.join(c.outside, "icon.png")))
    configured("link-loop", lambda c: c.link("icons/good.png", "good.png"))
    configured("dangling-link", lambda c: c.link("icons/good.png", "nowhere.png"))
    configured("sparse-3gib", lambda c: c.sparse("icons/good.png", 3 << 30))
    configured("huge-dimensions", lambda c: c.file("icons/good.png", png_header(30000, 30000)))
    configured("truncated", lambda c: c.file("icons/good.png", ICON[:100]))
    configured("cgbi-corrupt", lambda c: c.file("icons/good.png", png(60, 60, cgbi=True, data=b"\x01" * 99)))
    configured("not-png", lambda c: c.file("icons/good.png", b"<svg/>"))
    c = case("icon/configured-outside-path", config=CONFIG + "apps:\n  com.acme.good:\n    icon: ../outside/icon.png\n")
    c.fail("relsite.yaml")
    c = case("icon/configured-absolute-path", config=CONFIG + "apps:\n  com.acme.good:\n    icon: /etc/passwd\n")
    c.fail("relsite.yaml")
    c = case("icon/configured-cgbi", config=CONFIG + "apps:\n  com.acme.good:\n    icon: icons/good.png\n",
             good=True)
    c.file("icons/good.png", CGBI_ICON).ok()


NOTES = "releases/good/Good.yaml"


def notes_case(name, text, kind="fail"):
    return expect(case(f"notes/{name}", good=True).file(NOTES, text), kind, NOTES)


def notes_cases():
    for label, date in (("year-9999-minus-offset", "9999-12-31T23:59:59-23:59"),
                        ("year-0-plus-offset", "0000-01-01T00:00:00+23:59"),
                        ("year-10000", "10000-01-01"), ("negative-year", "-0001-01-01"),
                        ("february-30", "2024-02-30"), ("month-13", "2024-13-01"), ("hour-25", "2024-05-01T25:00:00Z"),
                        ("offset-24h", "2024-05-01T00:00:00+24:00"), ("leap-second", "2016-12-31T23:59:60Z"),
                        ("words", "yesterday"), ("integer", "20240501"), ("float", "1e309"), ("list", "[2024, 5, 1]"),
                        ("map", "{year: 2024}"), ("bool", "true"), ("empty-string", "''"),
                        ("space-separated", "2024-05-01 09:30:00"), ("nanoseconds-1000-digits", "2024-05-01T00:00:00." + "9" * 1000 + "Z")):
        notes_case(f"date-{label}", f"date: {date}\n", "either" if label in ("leap-second", "space-separated",
                                                                             "nanoseconds-1000-digits") else "fail")
    notes_case("date-year-9999-utc", "date: 9999-12-31T23:59:59Z\n", "ok")
    notes_case("date-year-0", "date: 0000-01-01\n", "ok")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefghi":
        bomb += f"{level}: &{level} [" + ", ".join([f"*{chr(ord(level) - 1)}"] * 10) + "]\n"
    notes_case("alias-billion-laughs", bomb + "notes: *i\n")
    notes_case("alias-bomb-in-notes", "notes: &n " + "x" * 200_000 + "\ntitle: *n\nchannel: *n\n"
               + "".join(f"k{i}: *n\n" for i in range(40)))
    notes_case("alias-to-itself", "notes: &a *a\n")
    notes_case("alias-undefined", "notes: *nowhere\n")
    notes_case("merge-key-bomb", "base: &b {notes: x}\n" + "".join(f"m{i}: {{<<: *b}}\n" for i in range(50_000)))
    for depth in (65, 10_000, 400_000):
        notes_case(f"flow-nested-{depth}", "notes: " + "[" * depth + "]" * depth + "\n")
    notes_case("flow-unclosed-100000", "notes: " + "{a: " * 100_000 + "\n")
    notes_case("block-nested-100000", "notes:\n" + "".join(" " * i + "- \n" for i in range(0, 2000)) + "- x\n")
    notes_case("block-sequence-dashes-200000", "notes: \n  " + "- " * 200_000 + "x\n")
    notes_case("huge-markdown", "notes: |\n  " + "word " * 60_000 + "\n")
    notes_case("just-under-1mib-of-comments", "#" * ((1 << 20) - 100) + "\nnotes: hi\n", "ok")
    notes_case("title-900kib", "title: " + "T" * (900 << 10) + "\n")
    notes_case("channel-200kib", "channel: " + "c" * (200 << 10) + "\n")
    notes_case("channel-101", "channel: " + "c" * 101 + "\n")
    notes_case("title-1025", "title: " + "t" * 1025 + "\n")
    notes_case("channel-100-title-1024", "channel: " + "c" * 100 + "\ntitle: " + "t" * 1024 + "\n", "ok")
    notes_case("version-200kib", "version: " + "9" * (200 << 10) + "\n", "either")
    notes_case("over-1mib", "notes: " + "x" * (1 << 20) + "\n")
    c = case("notes/sparse-4gib", good=True).sparse(NOTES, 4 << 30).fail(NOTES)
    for label, channel in (("dotdot", "'..'"), ("dot", "'.'"), ("slashes", "../../../../outside"),
                           ("absolute", "/tmp/relsite-evil"), ("index-html", "index.html"), ("feed-xml", "feed.xml"),
                           ("latest", "latest"), ("empty", "''"), ("spaces", "'   '"), ("newline", '"a\\nb"'),
                           ("nul", '"a\\0b"'), ("escape-codes", '"\\e[31mred"'), ("unicode", "βeta 🚀"),
                           ("uppercase-stable", "STABLE"), ("backslashes", "'..\\..\\x'"), ("percent", "'%2e%2e'")):
        kind = "fail" if label in ("empty", "spaces") else "either"
        notes_case(f"channel-{label}", f"channel: {channel}\nnotes: hi\n", kind)
    for label, version in (("dotdot", "'..'"), ("slashes", "../../../outside"), ("empty", "''"),
                           ("hostile", '"1.0\\e[31m\\n\\uFFFE"'), ("number", "1.50"), ("list", "[1, 0]")):
        c = case(f"notes/version-{label}-without-plist-version", good=True)
        c.file("releases/nov/NoVersion.ipa", ipa(info("com.acme.nov", version=None, build=None)))
        c.file("releases/nov/NoVersion.yaml", f"version: {version}\n")
        if label in ("empty", "list"):
            c.fail("releases/nov/NoVersion.yaml")
        else:
            c.either("releases/nov/NoVersion.yaml", "releases/nov/NoVersion.ipa")
    for label, text in (("latin1", b"notes: caf\xe9\n"), ("utf16-bom", "notes: hi\n".encode("utf-16")),
                        ("nul-bytes", b"notes: a\x00b\n"), ("lone-surrogate-escape", b'notes: "\\ud800"\n'),
                        ("invalid-escape", b'notes: "\\q"\n'), ("tabs-indent", b"notes:\n\t- x\n"),
                        ("two-documents", b"notes: a\n---\nnotes: b\n"), ("top-level-list", b"- notes: a\n"),
                        ("top-level-string", b"just text\n"), ("unknown-key", b"chanel: beta\n"),
                        ("unknown-key-hostile", b'"\\e[31mkey\\n": 1\n'), ("key-is-a-map", b"? {a: b}\n: c\n"),
                        ("duplicate-keys", b"notes: a\nnotes: b\n"),                         ("notes-is-list", b"notes: [a]\n"),  ("notes-is-map", b"notes: {a: b}\n"),
                        ("draft-is-string", b"draft: 'yes'\n"), ("draft-is-number", b"draft: 1\n"),
                        ("channel-is-list", b"channel: [x]\n"), ("title-is-map", b"title: {}\n"),
                        ("control-chars-raw", b"notes: a\x1b[31m\x07b\n")):
        notes_case(label, text)
    for label, text in (("utf8-bom", b"\xef\xbb\xbfnotes: hi\n"), ("empty", b""), ("comments-only", b"# nothing\n"),
                        ("null-document", b"~\n"), ("draft", b"draft: true\nnotes: wip\n"),
                        ("notes-is-number", b"notes: 5\n"), ("notes-is-bool", b"notes: true\n"), ("tag-binary", b"notes: !!binary aGVsbG8=\n"),
                        ("tag-unknown", b"notes: !evil x\n"), ("anchor-only", b"&a\n")):
        notes_case(label, text, "either")
    html = ("notes: |\n  <script>alert(1)</script>\n  <img src=x onerror=alert(2)>\n"
            "  [x](javascript:alert(3)) [y](data:text/html,evil) <iframe src=//evil></iframe>\n"
            "  ![i](javascript:alert(4))\n  <a href=\"javascript:alert(5)\">a</a>\n")
    notes_case("markdown-raw-html", html, "ok").never(*RAW_MARKUP)
    notes_case("markdown-deep-lists", "notes: |\n" + "".join("  " + "  " * i + "- x\n" for i in range(3000)), "either")
    notes_case("markdown-deep-quotes", "notes: '" + ">" * 20_000 + " x'\n", "either")
    notes_case("markdown-many-links", "notes: '" + "[a](b) " * 10_000 + "'\n", "either")
    notes_case("markdown-nested-brackets", "notes: '" + "[" * 30_000 + "x" + "](y)" * 30_000 + "'\n", "either")
    notes_case("markdown-many-emphasis", "notes: '" + "*a **b " * 10_000 + "'\n", "either")
    notes_case("markdown-table-10000-columns", "notes: |\n  " + "|a" * 10_000 + "|\n  " + "|-" * 10_000 + "|\n", "either")
    c = case("notes/orphan", good=True).file("releases/good/Orphan.yaml", "notes: hi\n").fail("releases/good/Orphan.yaml")
    c = case("notes/yaml-and-yml", good=True).file("releases/good/Good.yml", "notes: two\n")
    c.fail("releases/good/Good.ipa")


def config_cases():
    def cfg(name, text, kind="fail"):
        return expect(case(f"config/{name}", config=text, good=True), kind, "relsite.yaml")

    for label, url in (("http", "http://builds.example.com/"), ("ftp", "ftp://builds.example.com/"),
                       ("empty", "''"), ("scheme-only", "https://"), ("space-in-host", "'https://exa mple.com/'"),
                       ("unclosed-ipv6", "'https://[::1/'"), ("javascript", "'javascript:alert(1)'"),
                       ("relative", "/builds/"), ("scheme-relative", "//builds.example.com/"),
                       ("number", "5"), ("list", "[https://a.com/]"), ("null", "~"),
                       ("host-of-300kib", "https://" + "h" * (300 << 10) + ".com/"),
                       ("port-99999", "https://builds.example.com:99999/")):
        cfg(f"base-url-{label}", f"title: T\nbase_url: {url}\n")
    for label, url in (("credentials", "https://user:pass@builds.example.com/"),
                       ("query-fragment", "'https://builds.example.com/?a=1&b=<2>#frag'"),
                       ("no-trailing-slash", "https://builds.example.com/sub"),
                       ("idn", "https://bücher.example/"), ("percent-path", "https://b.example.com/a%2F..%2F/"),
                       ("quotes-and-brackets", "\"https://b.example.com/'\\\"<>/\""),
                       ("newline", '"https://a.com/\\n<x>"'), ("1024-bytes", "https://" + "h" * 1012 + ".com/")):
        cfg(f"base-url-{label}", f"title: T\nbase_url: {url}\n", "either")
    for label, text in (("missing-title", f"base_url: {BASE_URL}\n"), ("empty-title", f"title: ''\nbase_url: {BASE_URL}\n"),
                        ("title-map", f"title: {{a: b}}\nbase_url: {BASE_URL}\n"), ("unknown-key", CONFIG + "tittle: x\n"),
                        ("unknown-key-hostile", CONFIG + '"\\e[31m\\nkey": 1\n'), ("empty", ""), ("dashes-only", "---\n"),
                        ("top-level-list", "- title: T\n"), ("apps-list", CONFIG + "apps: [a, b]\n"),
                        ("apps-string", CONFIG + "apps: everything\n"), ("public-string", CONFIG + "public: 'yes'\n"),
                        ("show-devices-number", CONFIG + "show_devices: 3\n"),
                        ("releases-dir-absolute", CONFIG + "releases_dir: /etc\n"),
                        ("releases-dir-parent", CONFIG + "releases_dir: ../outside\n"),
                        ("output-dir-absolute", CONFIG + "output_dir: /tmp/relsite-hostile-out\n"),
                        ("output-dir-parent", CONFIG + "output_dir: ..\n"), ("output-dir-dot", CONFIG + "output_dir: .\n"),
                        ("output-dir-empty", CONFIG + "output_dir: ''\n"),
                        ("output-dir-escapes", CONFIG + "output_dir: public/../../outside\n"),
                        ("output-dir-is-releases", CONFIG + "output_dir: releases\n"),
                        ("output-dir-in-releases", CONFIG + "output_dir: releases/public\n"),
                        ("output-dir-is-themes", CONFIG + "output_dir: themes\n"),
                        ("theme-escapes", CONFIG + "theme: ../../outside\n"), ("theme-missing", CONFIG + "theme: nowhere\n"),
                        ("ipa-base-url-http", CONFIG + "ipa_base_url: http://cdn.example.com/\n"),
                        ("app-slug-traversal", CONFIG + "apps:\n  com.acme.good:\n    slug: ../../outside\n"),
                        ("app-slug-empty", CONFIG + "apps:\n  com.acme.good:\n    slug: ''\n"),
                        ("app-slug-uppercase", CONFIG + "apps:\n  com.acme.good:\n    slug: Good\n"),
                        ("app-unknown-key", CONFIG + "apps:\n  com.acme.good:\n    nmae: x\n"),
                        ("app-is-list", CONFIG + "apps:\n  com.acme.good: [x]\n"),
                        ("description-300kib", CONFIG + "description: " + "d" * (300 << 10) + "\n"),
                        ("over-1mib", CONFIG + "description: " + "x" * (1 << 20) + "\n"),
                        ("latin1", f"title: caf\xe9\nbase_url: {BASE_URL}\n".encode("latin-1")),
                        ("utf16", CONFIG.encode("utf-16")), ("nul", CONFIG.encode() + b"\x00\n"),
                        ("alias-billion-laughs", CONFIG + "x: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
                            f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i else "*a"] * 10) + "]\n" for i in range(9))),
                        ("alias-bomb-description", f"title: &t {'t' * 100_000}\nbase_url: {BASE_URL}\ndescription: *t\napps:\n"
                         + "".join(f"  a{i}: {{name: *t, description: *t}}\n" for i in range(100))),
                        ("flow-nested-100000", CONFIG + "apps: " + "{a: " * 100_000 + "\n"),
                        ("block-nested-2000", CONFIG + "apps:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(2000))),
                        ("5000-apps-each-wrong", CONFIG + "apps:\n" + "".join(
                            f"  com.a{i}:\n    slug: 'A B'\n" for i in range(5_000))),
                        ("duplicate-keys", CONFIG + "title: again\n")):
        cfg(label, text)
    for label, text in (("description-script", CONFIG + "description: '<script>alert(1)</script> [x](javascript:alert(2))'\n"),
                        ("title-hostile", f"title: \"\\e[31m<script>alert(1)</script>\\0\\uFFFE\"\nbase_url: {BASE_URL}\n"),
                        ("app-name-hostile", CONFIG + "apps:\n  com.acme.good:\n    name: \"<script>alert(1)</script>\\0\"\n"),
                        ("app-for-no-build", CONFIG + "apps:\n  com.acme.nothing:\n    name: Nothing\n"),
                        ("utf8-bom", b"\xef\xbb\xbf" + CONFIG.encode()), ("public-true", CONFIG + "public: true\n"),
                        ("app-slug-reserved-assets", CONFIG + "apps:\n  com.acme.good:\n    slug: assets\n"),
                        ("app-slug-reserved-feed", CONFIG + "apps:\n  com.acme.good:\n    slug: feed.xml\n"),
                        ("app-slug-reserved-index", CONFIG + "apps:\n  com.acme.good:\n    slug: index.html\n")):
        cfg(label, text, "either").never(*RAW_MARKUP)
    c = case("config/missing", config=None, good=True).fail("relsite.yaml")
    c = case("config/fifo", config=None).fifo("relsite.yaml").fail("relsite.yaml")
    c = case("config/folder", config=None).mkdir("relsite.yaml").fail("relsite.yaml")
    c = case("config/link-to-dev-zero", config=None).link("relsite.yaml", "/dev/zero").fail("relsite.yaml")
    c = case("config/link-loop", config=None).link("relsite.yaml", "relsite.yaml").fail("relsite.yaml")
    c = case("config/sparse-2gib", config=None).sparse("relsite.yaml", 2 << 30).fail("relsite.yaml")
    c = case("config/link-outside", config=None)
    c.link("relsite.yaml", os.path.join(c.outside, "relsite.yaml")).either("relsite.yaml")


def name_cases():
    names = (("newline", b"A\nB.ipa"), ("escape", b"\x1b[31mRed.ipa"), ("tab", b"Tab\t.ipa"), ("del", b"\x7f.ipa"),
             ("carriage-return", b"CR\r.ipa"), ("unicode", "Ünïcødé 📱.ipa".encode()),
             ("rtl-override", "\u202etxt.ipa".encode()), ("long-250-bytes", b"L" * 246 + b".ipa"),
             ("non-utf8", b"\xff\xfe.ipa"), ("uppercase-extension", b"Upper.IPA"), ("index-html", b"index.html.ipa"),
             ("feed-xml", b"feed.xml.ipa"), ("manifest", b"manifest.plist.ipa"), ("spaces", b"  .ipa"),
             ("dotdot-stem", b"...ipa"), ("percent", b"%2e%2e%2f.ipa"), ("quotes", b"\"'<b>.ipa"))
    for i, (label, name) in enumerate(names):
        c = case(f"names/ipa-{label}")
        rel = b"releases/n/" + name
        c.file(rel, ipa(info(f"com.acme.n{i}"), profile_bytes=profile(f"com.acme.n{i}")))
        c.either(rel)
    for label, folder in (("newline", b"a\nb"), ("escape", b"\x1b[2J"), ("non-utf8", b"\xff"),
                          ("index-html", b"index.html"), ("feed-xml", b"feed.xml"), ("assets", b"assets"),
                          ("public", b"public"), ("latest", b"latest")):
        c = case(f"names/folder-{label}")
        rel = b"releases/" + folder + b"/F.ipa"
        c.file(rel, ipa(info("com.acme.f"), profile_bytes=profile("com.acme.f")))
        c.either(rel)
    c = case("names/hidden-ipa").file("releases/x/.Hidden.ipa", b"not a zip").ok()
    c = case("names/ipa-named-dot-ipa").file("releases/x/.ipa", b"not a zip").ok()
    c = case("names/folder-named-x-ipa").mkdir("releases/x/Folder.ipa").ok()
    c = case("names/releases-index-html").file("releases/index.html", "<script>x</script>").ok()
    c = case("names/200-levels-deep")
    rel = "releases/" + "d/" * 200 + "Deep.ipa"
    c.file(rel, ipa(info("com.acme.deep"), profile_bytes=profile("com.acme.deep"))).either(rel)
    c = case("names/same-version-twice")
    c.file("releases/a/Twin.ipa", ipa(info("com.acme.twin"), profile_bytes=profile("com.acme.twin")))
    c.file("releases/b/Twin.ipa", ipa(info("com.acme.twin"), profile_bytes=profile("com.acme.twin")))
    c.fail("releases/a/Twin.ipa")
    c = case("names/slug-collision-by-case")
    c.file("releases/a/A.ipa", ipa(info("com.acme.x"), profile_bytes=profile("com.acme.x")))
    c.file("releases/b/B.ipa", ipa(info("COM.ACME.X"), profile_bytes=profile("COM.ACME.X")))
    c.either("releases/a/A.ipa", "releases/b/B.ipa")


def link_cases():
    def linked(name, rel, target, *files):
        c = case(f"links/{name}", good=True)
        if callable(target):
            target = target(c)
        c.link(rel, target)
        return c.fail(*(files or (rel,)))

    out = lambda name: (lambda c: os.path.join(c.outside, name))
    linked("ipa-outside", "releases/o/Other.ipa", out("Other.ipa"))
    linked("ipa-outside-relative", "releases/o/Other.ipa", "../../../outside/Other.ipa")
    linked("notes-outside", "releases/good/Good.yaml", out("notes.yaml"))
    linked("ipa-dev-zero", "releases/o/Zero.ipa", "/dev/zero")
    linked("ipa-dev-null", "releases/o/Null.ipa", "/dev/null")
    linked("ipa-dev-urandom", "releases/o/Random.ipa", "/dev/urandom")
    linked("notes-dev-zero", "releases/good/Good.yaml", "/dev/zero")
    linked("ipa-proc-self-mem", "releases/o/Mem.ipa", "/proc/self/mem")
    linked("ipa-etc-passwd", "releases/o/Passwd.ipa", "/etc/passwd")
    linked("ipa-self-loop", "releases/o/Loop.ipa", "Loop.ipa")
    linked("ipa-two-link-loop", "releases/o/A.ipa", "B.ipa", "releases/o/A.ipa", "releases/o/B.ipa").link(
        "releases/o/B.ipa", "A.ipa")
    linked("ipa-dangling", "releases/o/Gone.ipa", "nowhere/Gone.ipa")
    # A linked folder is not walked into: its IPA is not a release.
    linked("ipa-through-folder-outside", "releases/o", out("dir")).ok()
    c = case("links/ipa-inside-site-elsewhere", good=True)
    c.file("store/In.ipa", ipa(info("com.acme.in"), profile_bytes=profile("com.acme.in")))
    c.link("releases/in/In.ipa", "../../store/In.ipa").ok()
    c = case("links/folder-loop-to-site-root").link("releases/loop", "..").ok()
    c = case("links/folder-loop-to-itself").link("releases/self", "self").ok()
    c = case("links/releases-folder-outside", good=False)
    c.link("releases-out", os.path.join(c.outside, "dir"))
    c.config(CONFIG + "releases_dir: releases-out\n").either("releases-out/Inner.ipa", "releases-out")
    # An output or cache linked elsewhere is written there, as its owner chose; nothing else is.
    c = case("links/output-folder-to-others-outside", good=True)
    c.link("public", os.path.join(c.outside, "dir")).fail("public")
    c = case("links/output-folder-to-empty-outside", good=True).ok()
    os.mkdir(os.path.join(c.outside, "target"))
    c.link("public", os.path.join(c.outside, "target")).own("outside/target", "outside/.target.relsite-")
    c = case("links/output-parent-outside", config=CONFIG + "output_dir: out/public\n", good=True).ok()
    c.link("out", os.path.join(c.outside, "dir")).own("outside/dir/public", "outside/dir/.public.relsite-")
    c.output = "site/out/public"
    c = case("links/cache-folder-outside", good=True).ok()
    os.mkdir(os.path.join(c.outside, "cache"))
    c.link(".relsite-cache", os.path.join(c.outside, "cache")).own("outside/cache/")
    c = case("links/lock-file-outside", good=True)
    c.link(".public.relsite-lock", os.path.join(c.outside, "secret.txt")).either(".public.relsite-lock")
    c = case("links/staging-folder-outside", good=True)
    c.link(".public.relsite-staging", os.path.join(c.outside, "dir")).either(".public.relsite-staging")
    c = case("links/output-marker-outside", good=True)
    c.mkdir("public").link("public/.relsite-output", os.path.join(c.outside, "secret.txt")).either("public")
    c = case("links/theme-outside", config=CONFIG + "theme: evil\n", good=True)
    c.link("themes/evil", os.path.join(c.outside, "dir")).either("themes/evil", "relsite.yaml")


def special_cases():
    case("special/ipa-fifo").fifo("releases/f/Pipe.ipa").fail("releases/f/Pipe.ipa")
    case("special/notes-fifo", good=True).fifo(NOTES).fail(NOTES)
    case("special/ipa-socket").socket("releases/f/S.ipa").fail("releases/f/S.ipa")
    case("special/notes-socket", good=True).socket(NOTES).fail(NOTES)
    case("special/sparse-ipa-3gib").sparse("releases/f/Sparse.ipa", 3 << 30).fail("releases/f/Sparse.ipa")
    c = case("special/fifo-not-a-release").fifo("releases/f/README").ok()
    c = case("special/cache-files-are-fifos", good=True)
    for name in ("facts.json", "outputs", "lock"):
        c.fifo(".relsite-cache/" + name)
    c.ok()
    c = case("special/cache-is-a-file", good=True).file(".relsite-cache", "not a folder").either(".relsite-cache")
    c = case("special/output-is-a-file", good=True).file("public", "not a folder").either("public")
    c = case("special/output-not-relsites", good=True).file("public/index.html", "mine").fail("public")
    c = case("special/releases-missing", good=False).fail("releases")
    os.rmdir(c.path("releases"))
    c = case("special/releases-is-a-file", good=False)
    os.rmdir(c.path("releases"))
    c.file("releases", "x").fail("releases")
    c = case("special/no-releases", good=False).ok()


def fixture_cases(fixtures):
    store = {"ipad.ipa", "base.ipa", "no_version.ipa"}
    for sub in sorted(os.listdir(fixtures)):
        d = os.path.join(fixtures, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            with open(path, "rb") as f:
                data = f.read()
            if name.endswith(".ipa"):
                rel = "releases/real/Real.ipa"
                label = f"{sub}/{name}"
                bad_ipa(f"real/{label}/truncated-half", data[: len(data) // 2])
                c = case(f"real/{label}/intact").file(rel, data)
                if name in store:
                    c.fail(rel)
                else:
                    c.either(rel)
            elif name.endswith(("provision", "provisionprofile")):
                label = f"{sub}/{name}"
                bad_ipa(f"real/{label}/in-ipa-truncated", ipa(profile_bytes=data[: len(data) * 2 // 3]), "either")
            elif name.endswith(".png"):
                label = f"{sub}/{name}"
                bad_ipa(f"real/{label}/as-icon", with_icons([("AppIcon60x60@2x.png", data)]), "ok")


def check_xml(listing):
    import xml.etree.ElementTree as ET
    bad = 0
    with open(listing, encoding="utf-8") as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    for path in paths:
        try:
            ET.parse(path)
            if path.endswith(".plist"):
                with open(path, "rb") as f:
                    plistlib.load(f)
        except Exception as e:  # every parser's error is a finding
            bad += 1
            print(f"{path}: {type(e).__name__}: {e}")
    return 1 if bad else 0


def run(rss_file, address_space, command):
    pid = os.fork()
    if pid == 0:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
            os.execv(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    with open(rss_file, "w") as f:
        f.write(str(usage.ru_maxrss))
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    return os.waitstatus_to_exitcode(status)


def main(argv):
    global OUT_ROOT, GOOD_IPA, GOOD_IPA_BAD
    if len(argv) == 2 and argv[0] == "check-xml":
        return check_xml(argv[1])
    if len(argv) > 3 and argv[0] == "run":
        return run(argv[1], int(argv[2]), argv[3:])
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    OUT_ROOT = os.path.abspath(argv[0])
    fixtures = None
    if len(argv) == 3 and argv[1] == "--fixtures":
        fixtures = argv[2]
    os.makedirs(os.path.join(OUT_ROOT, "cases"), exist_ok=False)
    GOOD_IPA = good_ipa()
    GOOD_IPA_BAD = ipa(profile_bytes=profile())
    OUTSIDE.update({"Other.ipa": good_ipa("com.acme.other", "Other"), "notes.yaml": b"notes: outside\n",
                    "icon.png": ICON, "secret.txt": b"secret\n", "relsite.yaml": CONFIG.encode(),
                    "dir/Inner.ipa": good_ipa("com.acme.inner", "Inner")})
    for make in (zip_cases, plist_cases, profile_cases, icon_cases, notes_cases, config_cases, name_cases,
                 link_cases, special_cases):
        make()
    if fixtures:
        fixture_cases(fixtures)
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    with open(os.path.join(OUT_ROOT, "cases.json"), "w", encoding="utf-8") as f:
        json.dump([c.json() for c in CASES], f, indent=1, ensure_ascii=False)
    print(f"{len(CASES)} cases in {OUT_ROOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
