//! Regenerates the IPAs of `example-site/` with the test-support builder.
//!
//! `cargo run --example gen_example_site` — the IPAs are synthetic but laid out like Xcode's
//! exports; they are committed so that `otasite build example-site` works on a fresh clone.

use std::path::Path;

use otasite::testkit::{IpaSpec, ProfileSpec};

fn main() -> std::io::Result<()> {
    let releases = Path::new(env!("CARGO_MANIFEST_DIR")).join("example-site/releases");
    let specs = [
        ("acme-notes/1.9.0", "AcmeNotes.ipa", notes("1.9.0", "41")),
        ("acme-notes/1.10.0", "AcmeNotes.ipa", notes("1.10.0", "52")),
        (
            "acme-notes/2.0.0-beta",
            "AcmeNotes.ipa",
            notes("2.0.0", "60"),
        ),
        (
            "field-kit/3.1",
            "Field Kit & Co.ipa",
            field_kit("3.1", "310"),
        ),
        (
            "field-kit/3.2",
            "Field Kit & Co.ipa",
            field_kit("3.2", "322"),
        ),
    ];
    for (dir, file, spec) in specs {
        let dir = releases.join(dir);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(file), spec.to_bytes())?;
        println!("wrote {}", dir.join(file).display());
    }
    Ok(())
}

fn notes(version: &str, build: &str) -> IpaSpec {
    IpaSpec {
        folder: "AcmeNotes".into(),
        min_os: Some("16.0".into()),
        nested_bundles: true,
        executable_bytes: 24 * 1024,
        icon: Some([0xF5, 0x9E, 0x0B]),
        // Fictional devices: the UDIDs never appear on the site.
        profile: Some(ProfileSpec::ad_hoc(&[
            "00008030-000A1B2C3D4E5F60",
            "00008101-001122334455667A",
            "5c0e6b3a9d7f41e28a6c0b1d2e3f4a5b6c7d8e9f",
        ])),
        ..IpaSpec::new("com.acme.notes", version, build).name("Acme Notes")
    }
}

fn field_kit(version: &str, build: &str) -> IpaSpec {
    IpaSpec {
        folder: "FieldKit".into(),
        min_os: Some("15.0".into()),
        device_family: vec![2],
        xml_plist: true,
        executable_bytes: 16 * 1024,
        icon: Some([0x0E, 0x74, 0x90]),
        icon_crushed: false,
        profile: Some(ProfileSpec {
            name: "Example In-House".into(),
            team_name: "Example Field Services".into(),
            team_id: "Z9Y8X7W6V5".into(),
            all_devices: true,
            ..ProfileSpec::ad_hoc(&[])
        }),
        ..IpaSpec::new("com.example.fieldkit", version, build).name("Field Kit & Co")
    }
}
