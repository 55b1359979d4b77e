//! Test support, behind the `testkit` feature (tests, benches, examples and fuzz targets turn
//! it on; the shipped binary has none of it): synthetic IPAs that are structurally real, the
//! fuzz entry points, and the internals that tests drive directly.
//!
//! Not part of otasite's behaviour: a tool for its tests. The archives have the layout Xcode
//! exports (`Payload/<Name>.app/` with `Info.plist`, a code signature folder, a profile
//! placeholder), with binary or XML `Info.plist` and optional nested bundles.

use std::io::{Cursor, Seek, Write};

use plist::{Dictionary, Value};
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

pub mod fuzzing;
pub mod s3proxy;

/// Icon decoding, encoding and resizing, as the build does it.
pub mod icon {
    pub use crate::icon::{
        PngHeader, Rgba, check_png, decode_png, encode_cgbi, encode_png, png_header, resize,
    };
}

/// Reading IPAs piece by piece.
pub mod ipa {
    pub use crate::ipa::{ReadOptions, hash_reader, read_ipa_from};
}

pub use crate::cache::Caches;
pub use crate::notes::parse_notes;
pub use crate::rules::amp::amp_problems;
pub use crate::site::{load_site_with, render_in_memory};

/// Describes an IPA to build.
#[derive(Debug, Clone)]
pub struct IpaSpec {
    pub bundle_id: String,
    pub version: String,
    pub build: String,
    pub display_name: Option<String>,
    pub bundle_name: Option<String>,
    /// The `.app` folder name, without extension.
    pub folder: String,
    pub min_os: Option<String>,
    pub device_family: Vec<u64>,
    pub xml_plist: bool,
    /// Wrap `Payload/` in one extra folder, as some tools do.
    pub wrapper: Option<String>,
    /// Add an app extension and a watch app with their own Info.plists.
    pub nested_bundles: bool,
    /// Bytes of incompressible filler in the executable, to make realistic sizes.
    pub executable_bytes: usize,
    /// Store the executable uncompressed (fast to build even when large).
    pub store_executable: bool,
    /// Extra small resource files (nibs, strings, images) in the app, as real apps have
    /// thousands of entries.
    pub resources: usize,
    /// Add app icons (`AppIcon60x60@2x.png` 120 px and `@3x` 180 px) drawn in this colour.
    pub icon: Option<[u8; 3]>,
    /// Write the icons as Apple CgBI PNGs (interlaced for the @3x one), as Xcode does.
    pub icon_crushed: bool,
    /// Embed a CMS-wrapped provisioning profile.
    pub profile: Option<ProfileSpec>,
    pub signed: bool,
}

impl IpaSpec {
    pub fn new(bundle_id: &str, version: &str, build: &str) -> Self {
        IpaSpec {
            bundle_id: bundle_id.into(),
            version: version.into(),
            build: build.into(),
            display_name: None,
            bundle_name: Some("App".into()),
            folder: "App".into(),
            min_os: Some("15.0".into()),
            device_family: vec![1, 2],
            xml_plist: false,
            wrapper: None,
            nested_bundles: false,
            executable_bytes: 4096,
            store_executable: false,
            resources: 0,
            icon: None,
            icon_crushed: true,
            profile: None,
            signed: true,
        }
    }

    pub fn name(mut self, name: &str) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// The main app's `Info.plist` as bytes (binary or XML as specified).
    pub fn info_plist(&self) -> Vec<u8> {
        let mut d = Dictionary::new();
        d.insert("CFBundleIdentifier".into(), self.bundle_id.clone().into());
        d.insert(
            "CFBundleShortVersionString".into(),
            self.version.clone().into(),
        );
        d.insert("CFBundleVersion".into(), self.build.clone().into());
        d.insert("CFBundleExecutable".into(), self.folder.clone().into());
        d.insert("CFBundlePackageType".into(), "APPL".into());
        if let Some(n) = &self.display_name {
            d.insert("CFBundleDisplayName".into(), n.clone().into());
        }
        if let Some(n) = &self.bundle_name {
            d.insert("CFBundleName".into(), n.clone().into());
        }
        if let Some(v) = &self.min_os {
            d.insert("MinimumOSVersion".into(), v.clone().into());
        }
        if self.icon.is_some() {
            let mut primary = Dictionary::new();
            primary.insert(
                "CFBundleIconFiles".into(),
                Value::Array(vec!["AppIcon60x60".into()]),
            );
            primary.insert("CFBundleIconName".into(), "AppIcon".into());
            let mut icons = Dictionary::new();
            icons.insert("CFBundlePrimaryIcon".into(), Value::Dictionary(primary));
            d.insert("CFBundleIcons".into(), Value::Dictionary(icons));
        }
        d.insert(
            "UIDeviceFamily".into(),
            Value::Array(self.device_family.iter().map(|f| Value::from(*f)).collect()),
        );
        plist_bytes(Value::Dictionary(d), self.xml_plist)
    }

    /// Writes the IPA to any seekable writer.
    pub fn write_to<W: Write + Seek>(&self, w: W) -> zip::result::ZipResult<W> {
        let mut zip = ZipWriter::new(w);
        let deflated = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::from_date_and_time(2024, 5, 1, 12, 0, 0)?);
        let stored = deflated.compression_method(CompressionMethod::Stored);
        let root = match &self.wrapper {
            Some(w) => format!("{w}/Payload/"),
            None => "Payload/".to_string(),
        };
        let app = format!("{root}{}.app/", self.folder);
        zip.add_directory(root.clone(), stored)?;
        zip.add_directory(app.clone(), stored)?;
        zip.start_file(format!("{app}Info.plist"), deflated)?;
        zip.write_all(&self.info_plist())?;
        let exe_options = if self.store_executable {
            stored
        } else {
            deflated
        };
        zip.start_file(format!("{app}{}", self.folder), exe_options)?;
        write_filler(&mut zip, self.executable_bytes, &self.bundle_id)?;
        for i in 0..self.resources {
            let name = match i % 4 {
                0 => format!("{app}Base.lproj/Screen{i}.storyboardc/Info.plist"),
                1 => format!("{app}en.lproj/Strings{i}.strings"),
                2 => format!("{app}Frameworks/Kit{}.framework/Resource{i}.bin", i % 40),
                _ => format!("{app}Images/image{i}.png"),
            };
            zip.start_file(name, deflated)?;
            // Half text-like (compresses), half noise, a few hundred bytes each.
            let text = format!("resource {i} of {} ", self.bundle_id).repeat(8);
            zip.write_all(text.as_bytes())?;
            write_filler(&mut zip, 64 + i % 512, &format!("{i}"))?;
        }
        zip.start_file(format!("{app}PkgInfo"), stored)?;
        zip.write_all(b"APPL????")?;
        if self.signed {
            zip.start_file(format!("{app}_CodeSignature/CodeResources"), deflated)?;
            zip.write_all(&plist_bytes(Value::Dictionary(Dictionary::new()), true))?;
        }
        if let Some(profile) = &self.profile {
            zip.start_file(format!("{app}embedded.mobileprovision"), deflated)?;
            zip.write_all(&profile.to_cms(&self.bundle_id))?;
        }
        if let Some(colour) = self.icon {
            for (name, size, interlaced) in [
                ("AppIcon60x60@2x.png", 120, false),
                ("AppIcon60x60@3x.png", 180, true),
            ] {
                let image = icon_image(size, colour);
                let bytes = if self.icon_crushed {
                    crate::icon::encode_cgbi(&image, interlaced)
                } else {
                    crate::icon::encode_png(&image)
                };
                zip.start_file(format!("{app}{name}"), stored)?;
                zip.write_all(&bytes)?;
            }
            // Real apps also keep the icon in the asset catalog.
            zip.start_file(format!("{app}Assets.car"), deflated)?;
            zip.write_all(&filler(2048, "assets"))?;
        }
        if self.nested_bundles {
            for (dir, id, family) in [
                (
                    "PlugIns/Widget.appex/",
                    format!("{}.widget", self.bundle_id),
                    1u64,
                ),
                (
                    "Watch/Watch.app/",
                    format!("{}.watchkitapp", self.bundle_id),
                    4u64,
                ),
            ] {
                let mut d = Dictionary::new();
                d.insert("CFBundleIdentifier".into(), id.into());
                d.insert("CFBundleShortVersionString".into(), "9.9.9".into());
                d.insert("CFBundleVersion".into(), "999".into());
                d.insert("UIDeviceFamily".into(), Value::Array(vec![family.into()]));
                zip.start_file(format!("{app}{dir}Info.plist"), deflated)?;
                zip.write_all(&plist_bytes(Value::Dictionary(d), false))?;
            }
            zip.add_directory(format!("{app}Frameworks/Lib.framework/"), stored)?;
        }
        zip.finish()
    }

    /// The IPA as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.write_to(Cursor::new(Vec::new()))
            .expect("writing a zip to memory cannot fail")
            .into_inner()
    }
}

/// A zip archive with exactly these entries (deflated), for malformed-IPA tests.
pub fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in entries {
        if name.ends_with('/') {
            zip.add_directory(*name, options).expect("zip to memory");
        } else {
            zip.start_file(*name, options).expect("zip to memory");
            zip.write_all(bytes).expect("zip to memory");
        }
    }
    zip.finish().expect("zip to memory").into_inner()
}

fn plist_bytes(v: Value, xml: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if xml {
        v.to_writer_xml(&mut out).expect("plist to memory");
    } else {
        v.to_writer_binary(&mut out).expect("plist to memory");
    }
    out
}

/// A provisioning profile to embed; `to_cms` wraps it as Apple does (CMS SignedData, DER).
#[derive(Debug, Clone)]
pub struct ProfileSpec {
    pub name: String,
    pub team_name: String,
    pub team_id: String,
    /// `ProvisionsAllDevices` (enterprise).
    pub all_devices: bool,
    pub devices: Vec<String>,
    pub get_task_allow: bool,
    pub created: std::time::SystemTime,
    pub expires: std::time::SystemTime,
    /// Application identifier suffix; `None` means the bundle id itself.
    pub app_id: Option<String>,
}

impl ProfileSpec {
    /// An ad hoc profile for `devices`, valid from 2026 for ten years.
    pub fn ad_hoc(devices: &[&str]) -> Self {
        let year = 365 * 24 * 3600;
        let epoch_2026 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
        ProfileSpec {
            name: "Acme Ad Hoc".into(),
            team_name: "Acme Testing Ltd".into(),
            team_id: "A1B2C3D4E5".into(),
            all_devices: false,
            devices: devices.iter().map(|d| d.to_string()).collect(),
            get_task_allow: false,
            created: epoch_2026,
            expires: epoch_2026 + std::time::Duration::from_secs(10 * year),
            app_id: None,
        }
    }

    /// The profile's property list (XML), as inside the envelope.
    pub fn plist(&self, bundle_id: &str) -> Vec<u8> {
        let mut d = Dictionary::new();
        d.insert("Name".into(), self.name.clone().into());
        d.insert("TeamName".into(), self.team_name.clone().into());
        d.insert(
            "TeamIdentifier".into(),
            Value::Array(vec![self.team_id.clone().into()]),
        );
        d.insert("UUID".into(), "6F9619FF-8B86-D011-B42D-00C04FC964FF".into());
        d.insert("CreationDate".into(), Value::Date(self.created.into()));
        d.insert("ExpirationDate".into(), Value::Date(self.expires.into()));
        if self.all_devices {
            d.insert("ProvisionsAllDevices".into(), true.into());
        }
        if !self.devices.is_empty() {
            d.insert(
                "ProvisionedDevices".into(),
                Value::Array(self.devices.iter().map(|u| u.clone().into()).collect()),
            );
        }
        let mut ent = Dictionary::new();
        let app_id = self.app_id.clone().unwrap_or_else(|| bundle_id.to_string());
        ent.insert(
            "application-identifier".into(),
            format!("{}.{app_id}", self.team_id).into(),
        );
        ent.insert("get-task-allow".into(), self.get_task_allow.into());
        d.insert("Entitlements".into(), Value::Dictionary(ent));
        plist_bytes(Value::Dictionary(d), true)
    }

    /// CMS ContentInfo { signedData, SignedData { v1, {}, { data, [0] OCTET STRING plist }, {} } }.
    pub fn to_cms(&self, bundle_id: &str) -> Vec<u8> {
        const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
        const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
        let content = tlv(0x04, &self.plist(bundle_id));
        let encap = tlv(0x30, &[tlv(0x06, OID_DATA), tlv(0xa0, &content)].concat());
        let signed = tlv(
            0x30,
            &[tlv(0x02, &[1]), tlv(0x31, &[]), encap, tlv(0x31, &[])].concat(),
        );
        tlv(
            0x30,
            &[tlv(0x06, OID_SIGNED_DATA), tlv(0xa0, &signed)].concat(),
        )
    }
}

/// One DER tag-length-value.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A recognisable icon: a diagonal gradient of `colour` with a white disc whose edge is
/// half-transparent, so conversions that get alpha wrong show.
pub fn icon_image(size: u32, colour: [u8; 3]) -> crate::icon::Rgba {
    let mut pixels = Vec::with_capacity((size * size * 4) as usize);
    let c = size as f32 / 2.0;
    for y in 0..size {
        for x in 0..size {
            let t = (x + y) as f32 / (2 * size) as f32;
            let d = ((x as f32 + 0.5 - c).powi(2) + (y as f32 + 0.5 - c).powi(2)).sqrt() / c;
            let shade = |v: u8| (f32::from(v) * (1.0 - 0.35 * t)) as u8;
            let px = if d < 0.45 {
                [255, 255, 255, 255]
            } else if d < 0.5 {
                [255, 255, 255, 128]
            } else {
                [shade(colour[0]), shade(colour[1]), shade(colour[2]), 255]
            };
            pixels.extend_from_slice(&px);
        }
    }
    crate::icon::Rgba {
        width: size,
        height: size,
        pixels,
    }
}

/// Deterministic bytes that do not compress (xorshift), so IPA sizes are realistic.
pub fn filler(len: usize, seed: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    write_filler(&mut out, len, seed).expect("writing to memory cannot fail");
    out
}

/// Writes [`filler`] bytes in chunks, so that a gigabyte of it needs no gigabyte of memory.
pub fn write_filler<W: Write>(w: &mut W, len: usize, seed: &str) -> std::io::Result<()> {
    let mut state: u64 = seed.bytes().fold(0x9E37_79B9_7F4A_7C15, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    }) | 1;
    let mut chunk = Vec::with_capacity(1 << 20);
    let mut left = len;
    while left > 0 {
        chunk.clear();
        while chunk.len() < left.min(1 << 20) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.extend_from_slice(&state.to_le_bytes());
        }
        chunk.truncate(left.min(1 << 20));
        w.write_all(&chunk)?;
        left -= chunk.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipa::{find_main_app, parse_info_plist};

    #[test]
    fn synthetic_profile_parses_as_cms() {
        let spec = ProfileSpec::ad_hoc(&["00008030-001A2B3C4D5E6F70"]);
        let p = crate::ipa::parse_profile(&spec.to_cms("com.t.x")).unwrap();
        assert_eq!(p.kind, crate::ipa::ProfileKind::AdHoc);
        assert_eq!(p.team_name.as_deref(), Some("Acme Testing Ltd"));
        assert_eq!(p.covers_bundle_id("com.t.x"), Some(true));
        assert_eq!(p.expires.unwrap().to_rfc3339(), "2035-12-30T00:00:00+00:00");
    }

    #[test]
    fn built_ipa_reads_back() {
        let spec = IpaSpec {
            nested_bundles: true,
            ..IpaSpec::new("com.t.x", "1.2", "3").name("X & Y")
        };
        let bytes = spec.to_bytes();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        let app = find_main_app(names.iter().map(String::as_str)).unwrap();
        assert_eq!(app.dir, "Payload/App.app/");
        let mut f = archive.by_name(&app.info_plist()).unwrap();
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut buf).unwrap();
        let info = parse_info_plist(&buf, "App").unwrap();
        assert_eq!(info.name, "X & Y");
        assert_eq!(info.bundle_id, "com.t.x");
    }
}
