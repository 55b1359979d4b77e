#!/usr/bin/env python3
"""The comparison reader for the benchmark: what a plain Python script does to read an IPA's
metadata with the standard library (zipfile + plistlib). For each IPA given: find the main
app's Info.plist, parse it, read its largest listed icon's bytes (no conversion), and parse
the provisioning profile's plist out of its CMS envelope. Prints one JSON line per IPA."""

import json
import plistlib
import re
import sys
import zipfile

INFO = re.compile(r"^(?:[^/]+/)?Payload/[^/]+\.app/Info\.plist$")


def read(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        app = next(n for n in names if INFO.match(n))[: -len("Info.plist")]
        info = plistlib.loads(z.read(app + "Info.plist"))
        icon_names = (
            info.get("CFBundleIcons", {}).get("CFBundlePrimaryIcon", {}).get("CFBundleIconFiles", [])
        )
        icons = [n for n in names if n.startswith(app) and "/" not in n[len(app):]
                 and any(n[len(app):].startswith(i) for i in icon_names) and n.endswith(".png")]
        icon = max((z.getinfo(n).file_size, n) for n in icons)[1] if icons else None
        icon_bytes = z.read(icon) if icon else b""
        profile = {}
        if app + "embedded.mobileprovision" in names:
            raw = z.read(app + "embedded.mobileprovision")
            start, end = raw.find(b"<?xml"), raw.find(b"</plist>")
            if start >= 0 and end > start:
                profile = plistlib.loads(raw[start : end + len("</plist>")])
        return {
            "bundle_id": info.get("CFBundleIdentifier"),
            "version": info.get("CFBundleShortVersionString"),
            "build": info.get("CFBundleVersion"),
            "icon": icon,
            "icon_bytes": len(icon_bytes),
            "team": profile.get("TeamName"),
            "devices": len(profile.get("ProvisionedDevices", [])),
        }


for p in sys.argv[1:]:
    print(json.dumps(read(p)))
