#!/usr/bin/env python3
"""Peak memory and time of `relsite build` for a site holding one IPA of each given size.

An IPA is read through its zip central directory and a few capped entries, and hashed (and
copied) in blocks, so peak memory should stay flat as IPAs grow. Each build is cold: no output
and no .relsite-cache/. Needs GNU time (/usr/bin/time) for peak RSS. Sizes are in MB; the first is the
baseline the others are reported against, as ratios measured in the same run.

    cargo build --release && python3 bench/ipa_memory.py            # 10 MB vs 1000 MB
    python3 bench/ipa_memory.py 10 100 1000
"""

import os
import plistlib
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "relsite")


def make_site(parent, size_mb):
    site = os.path.join(parent, f"site-{size_mb}")
    release = os.path.join(site, "releases", "big")
    os.makedirs(release)
    with open(os.path.join(site, "relsite.yaml"), "w") as f:
        f.write("title: Bench\nbase_url: https://bench.example.com/\n")
    info = plistlib.dumps({
        "CFBundleIdentifier": "com.example.big",
        "CFBundleShortVersionString": "1.0",
        "CFBundleVersion": "1",
        "CFBundleName": "Big",
        "CFBundleSupportedPlatforms": ["iPhoneOS"],
    })
    chunk = os.urandom(1 << 20)
    path = os.path.join(release, "Big.ipa")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr("Payload/Big.app/Info.plist", info)
        with z.open("Payload/Big.app/Big", "w", force_zip64=True) as entry:
            for _ in range(size_mb):
                entry.write(chunk)
    return site


def measure(site):
    """Wall time and peak resident memory (KiB) of one cold build (no output, no cache).

    The peak comes from GNU time: a child spawned from this Python process starts from
    Python's own RSS, so os.wait4 would report at least that."""
    for leftover in ("public", ".relsite-cache"):
        shutil.rmtree(os.path.join(site, leftover), ignore_errors=True)
    os.sync()
    usage = os.path.join(site, "usage")
    argv = ["/usr/bin/time", "-f", "%M", "-o", usage, BINARY, "build", "--root", site]
    started = time.monotonic()
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=quiet)
    _, status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"relsite build failed for {site}")
    with open(usage) as f:
        return elapsed, int(f.read().split()[-1])


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [10, 1000]
    if not os.path.exists(BINARY):
        sys.exit("build the release binary first: cargo build --release")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        rows = []
        for size in sizes:
            site = make_site(tmp, size)
            measure(site)  # warm the page cache, so both sizes are timed alike
            elapsed, peak = measure(site)
            rows.append((size, elapsed, peak))
            os.remove(os.path.join(site, "releases", "big", "Big.ipa"))
        base_time, base_peak = rows[0][1], rows[0][2]
        print(f"{'IPA MB':>8} {'time s':>8} {'peak MiB':>9} {'time ratio':>11} {'peak ratio':>11}")
        for size, elapsed, peak in rows:
            print(f"{size:>8} {elapsed:>8.2f} {peak / 1024:>9.1f} {elapsed / base_time:>11.2f} {peak / base_peak:>11.2f}")


if __name__ == "__main__":
    main()
