#!/usr/bin/env python3
"""The least an OTA publisher must do, as a reference for bench/catalog.py.

For each IPA under RELEASES: read Info.plist from the zip, copy the IPA into OUT, and write its
manifest.plist. No notes, icons, profiles, pages or feeds.

    python3 bench/baseline_publish.py RELEASES OUT [BASE_URL]
"""

import os
import plistlib
import shutil
import sys
import zipfile


def find_ipas(root):
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".ipa"):
                yield os.path.join(folder, name)


def read_info(ipa):
    """The app's own Info.plist: Payload/<Name>.app/Info.plist, not a nested bundle's."""
    with zipfile.ZipFile(ipa) as z:
        for name in z.namelist():
            parts = name.split("/")
            if len(parts) == 3 and parts[0] == "Payload" and parts[2] == "Info.plist":
                return plistlib.loads(z.read(name))
    raise SystemExit(f"{ipa}: no Payload/*.app/Info.plist")


def manifest(ipa_url, info):
    return {"items": [{
        "assets": [{"kind": "software-package", "url": ipa_url}],
        "metadata": {
            "bundle-identifier": info["CFBundleIdentifier"],
            "bundle-version": info.get("CFBundleShortVersionString", "0"),
            "kind": "software",
            "title": info.get("CFBundleDisplayName") or info.get("CFBundleName", "App"),
        },
    }]}


def publish(ipa, out, base_url):
    info = read_info(ipa)
    version = f"{info.get('CFBundleShortVersionString', '0')}-{info.get('CFBundleVersion', '0')}"
    rel = f"{info['CFBundleIdentifier'].lower()}/{version}"
    folder = os.path.join(out, rel)
    os.makedirs(folder, exist_ok=True)
    name = os.path.basename(ipa)
    shutil.copyfile(ipa, os.path.join(folder, name))
    with open(os.path.join(folder, "manifest.plist"), "wb") as f:
        plistlib.dump(manifest(f"{base_url}{rel}/{name}", info), f)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    releases, out = sys.argv[1], sys.argv[2]
    base_url = sys.argv[3] if len(sys.argv) == 4 else "https://bench.example.com/"
    for ipa in find_ipas(releases):
        publish(ipa, out, base_url)


if __name__ == "__main__":
    main()
