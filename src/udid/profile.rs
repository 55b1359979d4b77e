//! The Profile Service payload (`udid.mobileconfig`): iOS shows it in Settings, and once
//! installed, POSTs the attributes it asks for to `URL` and follows the 301 it gets back.
//! Its identifiers come from the base URL, so every build writes the same profile.

use plist::{Dictionary, Value};
use sha2::{Digest, Sha256};
use url::Url;

use super::ENDPOINT;

/// What the device sends (Apple's Profile Service `DeviceAttributes`).
pub(crate) const DEVICE_ATTRIBUTES: [&str; 5] =
    ["UDID", "PRODUCT", "VERSION", "SERIAL", "DEVICE_NAME"];

/// The profile's XML for the site at `base_url` called `title`.
pub(crate) fn mobileconfig_xml(base_url: &Url, title: &str) -> Vec<u8> {
    let digest = Sha256::digest(base_url.as_str().as_bytes());
    let hex = crate::ipa::to_hex(&digest);
    let mut content = Dictionary::new();
    content.insert(
        "URL".into(),
        Value::String(format!("{}{ENDPOINT}", base_url.as_str())),
    );
    content.insert(
        "DeviceAttributes".into(),
        Value::Array(
            DEVICE_ATTRIBUTES
                .iter()
                .map(|a| Value::String((*a).into()))
                .collect(),
        ),
    );
    // Echoed back by the device; nothing is kept to compare it with, so it only names the site.
    content.insert("Challenge".into(), Value::String(hex[..32].into()));
    let mut root = Dictionary::new();
    root.insert("PayloadContent".into(), Value::Dictionary(content));
    root.insert(
        "PayloadType".into(),
        Value::String("Profile Service".into()),
    );
    root.insert("PayloadVersion".into(), Value::Integer(1.into()));
    root.insert(
        "PayloadIdentifier".into(),
        Value::String(identifier(base_url, &hex)),
    );
    root.insert("PayloadUUID".into(), Value::String(uuid(&digest)));
    root.insert("PayloadDisplayName".into(), Value::String(title.into()));
    root.insert("PayloadOrganization".into(), Value::String(title.into()));
    root.insert(
        "PayloadDescription".into(),
        Value::String(format!(
            "Sends this device's UDID, model and iOS version to {title} ({base_url}) once, so \
             that the team can add the device to its test builds. Nothing is installed."
        )),
    );
    let mut out = Vec::new();
    Value::Dictionary(root)
        .to_writer_xml(&mut out)
        .expect("writing a plist to memory cannot fail");
    out.push(b'\n');
    out
}

/// Reverse-DNS of the site's host, then a digest of the whole base URL (two sites on one host
/// differ by path).
fn identifier(base_url: &Url, hex: &str) -> String {
    let host: Vec<String> = base_url
        .host_str()
        .unwrap_or("localhost")
        .split('.')
        .rev()
        .map(|label| {
            label
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .filter(|label| !label.is_empty())
        .collect();
    format!("{}.otasite.udid.{}", host.join("."), &hex[..12])
}

/// A UUID (RFC 9562 version 8: custom) from the digest.
fn uuid(digest: &[u8]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::ipa::to_hex(&b).to_ascii_uppercase();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_per_base_url_and_escaped() {
        let a = Url::parse("https://beta.example.com/qa/").unwrap();
        let b = Url::parse("https://beta.example.com/other/").unwrap();
        let title = "Acme <Beta> & Co";
        assert_eq!(mobileconfig_xml(&a, title), mobileconfig_xml(&a, title));
        assert_ne!(mobileconfig_xml(&a, title), mobileconfig_xml(&b, title));
        let v = Value::from_reader_xml(&mobileconfig_xml(&a, title)[..]).unwrap();
        let d = v.as_dictionary().unwrap();
        assert_eq!(d["PayloadType"].as_string(), Some("Profile Service"));
        assert_eq!(d["PayloadDisplayName"].as_string(), Some(title));
        let id = d["PayloadIdentifier"].as_string().unwrap();
        assert!(id.starts_with("com.example.beta.otasite.udid."), "{id}");
        let uuid = d["PayloadUUID"].as_string().unwrap();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "8");
        let c = d["PayloadContent"].as_dictionary().unwrap();
        assert_eq!(
            c["URL"].as_string(),
            Some("https://beta.example.com/qa/udid/register")
        );
        assert_eq!(c["DeviceAttributes"].as_array().unwrap().len(), 5);
    }
}
