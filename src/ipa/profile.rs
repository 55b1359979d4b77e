//! Provisioning profiles (`embedded.mobileprovision`): a property list inside a CMS SignedData
//! envelope (Apple TN3125), parsed with a real DER/CMS parser.
//!
//! Device UDIDs are personal data: they are kept in memory (for `check --udid` and
//! `inspect --devices`) and are never serialised: `Profile`'s `Serialize` skips them.

use std::io::Cursor;

use chrono::{DateTime, Utc};
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Encode};
use plist::{Dictionary, Value};
use serde::{Deserialize, Serialize};

/// How a build may be distributed, from its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileKind {
    /// Registered devices, debugger attachable (`get-task-allow`).
    Development,
    /// Registered devices only.
    AdHoc,
    /// Any device of the organisation (`ProvisionsAllDevices`).
    Enterprise,
    /// No devices: installable only through the App Store or TestFlight.
    AppStore,
}

impl ProfileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileKind::Development => "development",
            ProfileKind::AdHoc => "ad-hoc",
            ProfileKind::Enterprise => "enterprise",
            ProfileKind::AppStore => "app-store",
        }
    }

    /// Whether an over-the-air install can work at all.
    pub fn installable_over_the_air(self) -> bool {
        self != ProfileKind::AppStore
    }
}

/// What otasite reads from a profile. UDIDs are never serialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub kind: ProfileKind,
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub team_name: Option<String>,
    pub team_id: Option<String>,
    pub app_id_name: Option<String>,
    /// `Entitlements.application-identifier`, e.g. `TEAMID.com.acme.app` or `TEAMID.*`.
    pub application_identifier: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    /// Earliest expiry among the embedded developer certificates.
    pub certificates_expire: Option<DateTime<Utc>>,
    pub device_count: usize,
    #[serde(skip)]
    pub devices: Vec<String>,
}

impl Profile {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_some_and(|e| e <= now)
    }

    /// Whether the profile's application identifier covers `bundle_id` (wildcards included).
    /// `None` when the profile does not say.
    pub fn covers_bundle_id(&self, bundle_id: &str) -> Option<bool> {
        let app_id = self.application_identifier.as_deref()?;
        let pattern = app_id.split_once('.').map_or(app_id, |(_, rest)| rest);
        Some(match pattern.strip_suffix('*') {
            Some(prefix) => bundle_id.starts_with(prefix),
            None => pattern == bundle_id,
        })
    }

    /// Whether a device (UDID in any case, with or without dashes) may install this build.
    pub fn allows_device(&self, udid: &str) -> bool {
        match self.kind {
            ProfileKind::Enterprise => true,
            ProfileKind::AppStore => false,
            _ => {
                let want = normalise_udid(udid);
                self.devices.iter().any(|d| normalise_udid(d) == want)
            }
        }
    }
}

/// Upper-case, without dashes or spaces: how UDIDs are compared.
pub(crate) fn normalise_udid(udid: &str) -> String {
    udid.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Parses the bytes of a `.mobileprovision`: CMS SignedData whose content is a plist.
/// A bare plist (as some tools write) is accepted too.
pub(crate) fn parse_profile(bytes: &[u8]) -> Result<Profile, String> {
    let payload = if bytes.starts_with(b"<?xml") || bytes.starts_with(b"bplist") {
        bytes.to_vec()
    } else {
        cms_content(bytes)?
    };
    super::plist_depth::check_plist_shape(&payload)?;
    let value = Value::from_reader(Cursor::new(&payload))
        .map_err(|e| format!("the profile's content is not a property list ({e})"))?;
    let dict = value
        .as_dictionary()
        .ok_or("the profile's property list is not a dictionary")?;
    Ok(profile_from_dict(dict))
}

/// The encapsulated content of a CMS SignedData (DER).
pub(crate) fn cms_content(bytes: &[u8]) -> Result<Vec<u8>, String> {
    // Apple writes DER; some tools write BER (indefinite lengths), which DER parsers refuse.
    let info = match ContentInfo::from_der(bytes) {
        Ok(info) => info,
        Err(der_error) => {
            let der = super::ber::ber_to_der(bytes)
                .map_err(|e| format!("not a CMS (PKCS #7) signed profile: {e}"))?;
            ContentInfo::from_der(&der)
                .map_err(|_| format!("not a CMS (PKCS #7) signed profile: {der_error}"))?
        }
    };
    if info.content_type != const_oid::db::rfc5911::ID_SIGNED_DATA {
        return Err(format!(
            "CMS content is {}, not SignedData",
            info.content_type
        ));
    }
    let der = info
        .content
        .to_der()
        .map_err(|e| format!("CMS content: {e}"))?;
    let signed = SignedData::from_der(&der).map_err(|e| format!("CMS SignedData: {e}"))?;
    let content = signed
        .encap_content_info
        .econtent
        .ok_or("the CMS envelope holds no content (a detached signature)")?;
    let octets = der::asn1::OctetString::from_der(&content.to_der().map_err(|e| e.to_string())?)
        .map_err(|e| format!("CMS content is not an OCTET STRING: {e}"))?;
    Ok(octets.into_bytes())
}

fn profile_from_dict(dict: &Dictionary) -> Profile {
    // Profile texts reach pages and releases.json: one line of XML-safe characters.
    let string = |key: &str| {
        dict.get(key)
            .and_then(Value::as_string)
            .map(crate::text::one_line)
    };
    let date = |key: &str| {
        dict.get(key)
            .and_then(Value::as_date)
            .map(|d| DateTime::<Utc>::from(std::time::SystemTime::from(d)))
    };
    let devices: Vec<String> = dict
        .get("ProvisionedDevices")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_string)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let all_devices = dict
        .get("ProvisionsAllDevices")
        .and_then(Value::as_boolean)
        .unwrap_or(false);
    let entitlements = dict.get("Entitlements").and_then(Value::as_dictionary);
    let get_task_allow = entitlements
        .and_then(|e| e.get("get-task-allow"))
        .and_then(Value::as_boolean)
        .unwrap_or(false);
    let kind = if all_devices {
        ProfileKind::Enterprise
    } else if devices.is_empty() {
        ProfileKind::AppStore
    } else if get_task_allow {
        ProfileKind::Development
    } else {
        ProfileKind::AdHoc
    };
    let team_id = dict
        .get("TeamIdentifier")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_string)
        .map(crate::text::one_line);
    let certificates_expire = dict
        .get("DeveloperCertificates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_data)
        .filter_map(certificate_expiry)
        .min();
    Profile {
        kind,
        name: string("Name"),
        uuid: string("UUID"),
        team_name: string("TeamName"),
        team_id,
        app_id_name: string("AppIDName"),
        application_identifier: entitlements
            .and_then(|e| e.get("application-identifier"))
            .and_then(Value::as_string)
            .map(crate::text::one_line),
        created: date("CreationDate"),
        expires: date("ExpirationDate"),
        certificates_expire,
        device_count: devices.len(),
        devices,
    }
}

/// `notAfter` of a DER X.509 certificate.
fn certificate_expiry(der: &[u8]) -> Option<DateTime<Utc>> {
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let secs = cert
        .tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_secs();
    DateTime::<Utc>::from_timestamp(i64::try_from(secs).ok()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xml_profile(body: &str) -> Vec<u8> {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>{body}</dict></plist>"
        )
        .into_bytes()
    }

    #[test]
    fn kinds_follow_the_rules() {
        let p = parse_profile(&xml_profile(
            "<key>ProvisionsAllDevices</key><true/><key>Name</key><string>In House</string>",
        ))
        .unwrap();
        assert_eq!(p.kind, ProfileKind::Enterprise);
        let p = parse_profile(&xml_profile("<key>Name</key><string>Store</string>")).unwrap();
        assert_eq!(p.kind, ProfileKind::AppStore);
        assert!(!p.kind.installable_over_the_air());
        let devices = "<key>ProvisionedDevices</key><array><string>00008030-001A2B3C4D5E6F70</string></array>";
        let p = parse_profile(&xml_profile(devices)).unwrap();
        assert_eq!(p.kind, ProfileKind::AdHoc);
        assert_eq!(p.device_count, 1);
        let p = parse_profile(&xml_profile(&format!(
            "{devices}<key>Entitlements</key><dict><key>get-task-allow</key><true/>\
             <key>application-identifier</key><string>ABCDE12345.com.acme.*</string></dict>"
        )))
        .unwrap();
        assert_eq!(p.kind, ProfileKind::Development);
        assert!(p.allows_device("00008030001a2b3c4d5e6f70"));
        assert!(!p.allows_device("00008030-FFFFFFFFFFFFFFFF"));
        assert_eq!(p.covers_bundle_id("com.acme.app"), Some(true));
        assert_eq!(p.covers_bundle_id("org.other"), Some(false));
    }

    #[test]
    fn udids_are_not_serialised() {
        let p = parse_profile(&xml_profile(
            "<key>ProvisionedDevices</key><array><string>SECRET-UDID-1234</string></array>",
        ))
        .unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("SECRET-UDID"), "{json}");
        assert!(json.contains("\"device_count\":1"));
    }

    #[test]
    fn garbage_and_truncated_envelopes_are_errors() {
        assert!(parse_profile(b"").is_err());
        assert!(parse_profile(b"\x30\x82\x01\x00garbage").is_err());
        assert!(parse_profile(&[0x30; 64]).is_err());
        for len in [1, 2, 10, 100] {
            assert!(parse_profile(&vec![0x30, 0x80, 0x06, 0x09][..4.min(len)]).is_err());
        }
    }
}
