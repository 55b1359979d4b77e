//! Builds synthetic IPAs that are structurally real, for tests and the example site.
//!
//! Not part of otasite's behaviour: a tool for its tests. The archives have the layout Xcode
//! exports (`Payload/<Name>.app/` with `Info.plist`, a code signature folder, a profile
//! placeholder), with binary or XML `Info.plist` and optional nested bundles.

use std::io::{Cursor, Seek, Write};

use plist::{Dictionary, Value};
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

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
        zip.write_all(&filler(self.executable_bytes, &self.bundle_id))?;
        zip.start_file(format!("{app}PkgInfo"), stored)?;
        zip.write_all(b"APPL????")?;
        if self.signed {
            zip.start_file(format!("{app}_CodeSignature/CodeResources"), deflated)?;
            zip.write_all(&plist_bytes(Value::Dictionary(Dictionary::new()), true))?;
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

/// Deterministic bytes that do not compress (xorshift), so IPA sizes are realistic.
pub fn filler(len: usize, seed: &str) -> Vec<u8> {
    let mut state: u64 = seed.bytes().fold(0x9E37_79B9_7F4A_7C15, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    }) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipa::{find_main_app, parse_info_plist};

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
