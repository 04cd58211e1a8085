#!/usr/bin/env python3
"""Fills fuzz/corpus/<target>/ with seeds: the real fixtures beside the checkout
(../shared/fixtures/real: IPAs, the Info.plist and profile inside each, profiles, PNGs), the
example site's notes and config, and every saved regression input (fuzz/regressions/<target>/).
Seeds are copied, never committed: corpus/ is ignored by git.

    python3 fuzz/seed.py
"""

import os
import shutil
import sys
import zipfile

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
FIXTURES = os.path.join(ROOT, "..", "shared", "fixtures", "real")
EXAMPLE = os.path.join(ROOT, "example-site")
TARGETS = ["ipa", "info_plist", "profile", "cgbi", "notes", "config"]
MAX_SEED = 256 * 1024  # larger IPAs slow every execution down; their parts are seeded instead


def files_below(folder):
    for parent, _, names in os.walk(folder):
        for name in sorted(names):
            yield os.path.join(parent, name)


def main():
    if not os.path.isdir(FIXTURES):
        sys.exit(f"{FIXTURES} is missing: the real fixtures seed the corpus")
    corpus = os.path.join(FUZZ, "corpus")
    for target in TARGETS:
        os.makedirs(os.path.join(corpus, target), exist_ok=True)
    count = {t: 0 for t in TARGETS}

    def put(target, name, data):
        with open(os.path.join(corpus, target, name.replace(os.sep, "_")), "wb") as f:
            f.write(data)
        count[target] += 1

    for path in files_below(FIXTURES):
        rel = os.path.relpath(path, FIXTURES)
        lower = path.lower()
        with open(path, "rb") as f:
            data = f.read()
        if lower.endswith(".ipa"):
            if len(data) <= MAX_SEED:
                put("ipa", rel, data)
            try:
                with zipfile.ZipFile(path) as z:
                    for info in z.infolist():
                        parts = info.filename.split("/")
                        if len(parts) == 3 and parts[0] == "Payload" and parts[2] == "Info.plist":
                            put("info_plist", rel + ".Info.plist", z.read(info))
                        elif len(parts) == 3 and parts[2] == "embedded.mobileprovision":
                            put("profile", rel + ".mobileprovision", z.read(info))
                        elif parts[-1].lower().endswith(".png") and info.file_size <= MAX_SEED:
                            put("cgbi", rel + "." + parts[-1], z.read(info))
            except zipfile.BadZipFile:
                pass
        elif lower.endswith((".mobileprovision", ".provisionprofile")):
            put("profile", rel, data)
        elif lower.endswith(".png"):
            put("cgbi", rel, data)
    for path in files_below(os.path.join(EXAMPLE, "releases")):
        if path.endswith((".yaml", ".yml")):
            with open(path, "rb") as f:
                put("notes", os.path.relpath(path, EXAMPLE), f.read())
    with open(os.path.join(EXAMPLE, "relsite.yaml"), "rb") as f:
        put("config", "example-site.relsite.yaml", f.read())
    for target in TARGETS:
        saved = os.path.join(FUZZ, "regressions", target)
        if os.path.isdir(saved):
            for path in files_below(saved):
                shutil.copy(path, os.path.join(corpus, target, "regression-" + os.path.basename(path)))
                count[target] += 1
    print(" ".join(f"{t}: {n}" for t, n in count.items()))


if __name__ == "__main__":
    main()
