//! `manifest.plist`: the file `itms-services://` points iOS at.
//!
//! Written with the plist crate, never by string formatting: app names contain `&` and `<`.
//! Keys follow Apple's device-management schema (`other/manifesturl.yaml`).

use plist::{Dictionary, Value};

/// What a manifest says about one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestInput<'a> {
    /// Must equal the IPA's `CFBundleIdentifier`, or iOS removes the app after download.
    pub bundle_id: &'a str,
    pub bundle_version: &'a str,
    pub title: &'a str,
    pub subtitle: Option<&'a str>,
    /// Absolute `https://` URL of the IPA; it must not redirect.
    pub ipa_url: &'a str,
    /// Lower-case hex SHA-256 of the IPA; iOS verifies the download against it.
    pub ipa_sha256: &'a str,
    /// Absolute URLs of the 57 px and 512 px icons, when there are icons.
    pub display_image_url: Option<&'a str>,
    pub full_size_image_url: Option<&'a str>,
}

/// Serialises a manifest as an XML property list.
pub(crate) fn manifest_xml(m: &ManifestInput<'_>) -> Vec<u8> {
    let mut assets = vec![asset("software-package", m.ipa_url, Some(m.ipa_sha256))];
    if let Some(url) = m.display_image_url {
        assets.push(asset("display-image", url, None));
    }
    if let Some(url) = m.full_size_image_url {
        assets.push(asset("full-size-image", url, None));
    }

    let mut metadata = Dictionary::new();
    metadata.insert("bundle-identifier".into(), m.bundle_id.into());
    metadata.insert("bundle-version".into(), m.bundle_version.into());
    metadata.insert("kind".into(), "software".into());
    if let Some(subtitle) = m.subtitle {
        metadata.insert("subtitle".into(), subtitle.into());
    }
    metadata.insert("title".into(), m.title.into());

    let mut item = Dictionary::new();
    item.insert("assets".into(), Value::Array(assets));
    item.insert("metadata".into(), Value::Dictionary(metadata));
    let mut root = Dictionary::new();
    root.insert("items".into(), Value::Array(vec![Value::Dictionary(item)]));

    let mut out = Vec::new();
    Value::Dictionary(root)
        .to_writer_xml(&mut out)
        .expect("writing a plist to a Vec cannot fail");
    out.push(b'\n');
    out
}

fn asset(kind: &str, url: &str, sha256: Option<&str>) -> Value {
    let mut d = Dictionary::new();
    d.insert("kind".into(), kind.into());
    if let Some(sha) = sha256 {
        d.insert("sha256".into(), sha.into());
    }
    d.insert("url".into(), url.into());
    Value::Dictionary(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ManifestInput<'static> {
        ManifestInput {
            bundle_id: "com.acme.beta",
            bundle_version: "1.2",
            title: "Acme & <Co>",
            subtitle: None,
            ipa_url: "https://x.example/apps/a/1.2-3/acme-1.2.ipa",
            ipa_sha256: "ab12",
            display_image_url: None,
            full_size_image_url: None,
        }
    }

    #[test]
    fn round_trips_with_required_keys() {
        let bytes = manifest_xml(&input());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains("<string>Acme &amp; &lt;Co&gt;</string>"),
            "{text}"
        );
        let v = Value::from_reader_xml(&bytes[..]).unwrap();
        let item = &v.as_dictionary().unwrap()["items"].as_array().unwrap()[0];
        let item = item.as_dictionary().unwrap();
        let asset = item["assets"].as_array().unwrap()[0]
            .as_dictionary()
            .unwrap();
        assert_eq!(asset["kind"].as_string(), Some("software-package"));
        assert_eq!(asset["url"].as_string(), Some(input().ipa_url));
        assert_eq!(asset["sha256"].as_string(), Some("ab12"));
        let meta = item["metadata"].as_dictionary().unwrap();
        assert_eq!(meta["bundle-identifier"].as_string(), Some("com.acme.beta"));
        assert_eq!(meta["kind"].as_string(), Some("software"));
        assert_eq!(meta["title"].as_string(), Some("Acme & <Co>"));
        assert_eq!(meta["bundle-version"].as_string(), Some("1.2"));
    }

    #[test]
    fn icons_become_assets() {
        let m = ManifestInput {
            display_image_url: Some("https://x.example/i57.png"),
            full_size_image_url: Some("https://x.example/i512.png"),
            ..input()
        };
        let v = Value::from_reader_xml(&manifest_xml(&m)[..]).unwrap();
        let item = &v.as_dictionary().unwrap()["items"].as_array().unwrap()[0];
        let kinds: Vec<&str> = item.as_dictionary().unwrap()["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_dictionary().unwrap()["kind"].as_string().unwrap())
            .collect();
        assert_eq!(
            kinds,
            vec!["software-package", "display-image", "full-size-image"]
        );
    }
}
