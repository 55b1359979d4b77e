//! Writes seed inputs for the fuzz targets into `fuzz/corpus/<target>/`: structurally real
//! files made by the test-support builder (no third-party fixtures are copied).
//!
//! `cargo run --example fuzz_seeds`

use std::path::Path;

use otasite::testkit::{IpaSpec, ProfileSpec, icon_image};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    let spec = IpaSpec {
        icon: Some([200, 40, 40]),
        profile: Some(ProfileSpec::ad_hoc(&["00008030-000A1B2C3D4E5F60"])),
        nested_bundles: true,
        executable_bytes: 256,
        ..IpaSpec::new("com.seed.app", "1.2.3", "45").name("Seed & <App>")
    };
    write("ipa", "full.ipa", &spec.to_bytes());
    write(
        "ipa",
        "xml-wrapped.ipa",
        &IpaSpec {
            xml_plist: true,
            wrapper: Some("W".into()),
            executable_bytes: 64,
            ..IpaSpec::new("com.seed.x", "1", "1")
        }
        .to_bytes(),
    );
    write("info_plist", "binary.plist", &spec.info_plist());
    write(
        "info_plist",
        "xml.plist",
        &IpaSpec {
            xml_plist: true,
            ..spec.clone()
        }
        .info_plist(),
    );
    write(
        "profile",
        "adhoc.mobileprovision",
        &ProfileSpec::ad_hoc(&["A", "B"]).to_cms("com.seed.app"),
    );
    write(
        "profile",
        "enterprise.plist",
        &ProfileSpec {
            all_devices: true,
            ..ProfileSpec::ad_hoc(&[])
        }
        .plist("com.seed.app"),
    );
    write(
        "png",
        "crushed.png",
        &otasite::testkit::icon::encode_cgbi(&icon_image(16, [1, 2, 3]), false),
    );
    write(
        "png",
        "crushed-interlaced.png",
        &otasite::testkit::icon::encode_cgbi(&icon_image(9, [1, 2, 3]), true),
    );
    write(
        "png",
        "plain.png",
        &otasite::testkit::icon::encode_png(&icon_image(8, [4, 5, 6])),
    );
    write("notes", "rich.md", b"---\ntitle: T\ndate: 2026-01-01\nchannel: beta\n---\n# H\n\n- [x] a\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n[x](https://e.x) <b>raw</b> ![i](i.png) [^1]\n\n[^1]: n\n");
    write(
        "notes",
        "links.md",
        b"[a](javascript:x) [b](JaVaScRiPt:x) <javascript:x> [c](data:x) ![d](javascript:x)\n",
    );
    // Issue 17: equal headings (anchors `x`, `x-2`, a literal `x-2`...), headings holding
    // links and images, and a table of one-letter cells (the shapes that cost time or memory).
    write(
        "notes",
        "headings.md",
        b"# x\n# x\n# x-2\n# x\n#\n#\n## [x](https://e.x) ![x](x.png) `x`\n# x\n",
    );
    write(
        "notes",
        "table-cells.md",
        b"|h|h|h|h|\n|-|-|-|-|\n|a|a|a|a|\n|a|a|a|a|\n|a|![i](i.png)|[l](javascript:x)|<b>|\n",
    );
    write("config", "site.yaml", b"title: T\nbase_url: https://x.example/beta\nhosting: [nginx, iis]\nlanguage: de\nnoindex: false\n");
    println!("seeds written to {}", root.display());
}
