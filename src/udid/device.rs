//! What a device POSTs to `udid/register`: a CMS-signed XML plist of its attributes. The
//! signature is not verified (nothing is trusted or kept), so the body is untrusted input:
//! the plist is found by its markers within the bounded body, and each value is taken only
//! when every character is on its key's whitelist. The host functions (`endpoint.js`) apply
//! the same rules; tests run both on the same bodies.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::limits::UDID_MAX_BODY_BYTES;

/// A device's attributes, as the result page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Device {
    pub udid: String,
    pub product: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
}

/// Why a body is refused (the 400's text).
pub(crate) type Refusal = &'static str;

pub(crate) const TOO_LARGE: Refusal = "the request body is too large for a device's attributes\n";
const NO_PLIST: Refusal = "no property list of device attributes in the request body\n";
const NO_UDID: Refusal = "no valid UDID in the device attributes\n";

/// The device in `body`, or why there is none.
pub(crate) fn parse_device(body: &[u8]) -> Result<Device, Refusal> {
    if body.len() > UDID_MAX_BODY_BYTES {
        return Err(TOO_LARGE);
    }
    let start = find(body, b"<?xml", 0).ok_or(NO_PLIST)?;
    let end = find(body, b"</plist>", start).ok_or(NO_PLIST)? + b"</plist>".len();
    let plist = String::from_utf8_lossy(&body[start..end]);
    let udid = string_of(&plist, "UDID")
        .filter(|u| (24..=40).contains(&u.len()) && u.chars().all(is_udid_char))
        .ok_or(NO_UDID)?;
    let take = |key: &str, max: usize, ok: fn(char) -> bool| {
        string_of(&plist, key).filter(|v| {
            !v.is_empty() && v.chars().count() <= max && v.chars().all(ok) && v.trim() == v
        })
    };
    Ok(Device {
        udid,
        product: take("PRODUCT", 40, |c| {
            c.is_ascii_alphanumeric() || matches!(c, ',' | '.' | '-' | '_')
        }),
        version: take("VERSION", 20, |c| c.is_ascii_alphanumeric() || c == '.'),
        name: take("DEVICE_NAME", 64, |c| {
            c.is_alphanumeric() || matches!(c, ' ' | '\'' | '’' | '-' | '_' | '.' | '(' | ')')
        }),
    })
}

fn is_udid_char(c: char) -> bool {
    c.is_ascii_hexdigit() || c == '-'
}

/// Characters escaped in a query value of the redirect.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_');

impl Device {
    /// The result page's query: `udid=…&product=…&version=…&name=…` (the serial is never
    /// passed on: registering a device needs only its UDID and a name).
    pub(crate) fn query(&self) -> String {
        let mut q = format!("udid={}", utf8_percent_encode(&self.udid, QUERY_VALUE));
        for (key, value) in [
            ("product", &self.product),
            ("version", &self.version),
            ("name", &self.name),
        ] {
            if let Some(v) = value {
                q.push_str(&format!("&{key}={}", utf8_percent_encode(v, QUERY_VALUE)));
            }
        }
        q
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The `<string>` right after `<key>KEY</key>` (entities decoded), if there is one.
fn string_of(plist: &str, key: &str) -> Option<String> {
    let marker = format!("<key>{key}</key>");
    let after = &plist[plist.find(&marker)? + marker.len()..];
    let value = after.trim_start().strip_prefix("<string>")?;
    let value = &value[..value.find("</string>")?];
    Some(decode(value))
}

/// The five predefined XML entities; anything else stays as is (and fails the whitelists).
fn decode(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&apos;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(entries: &str) -> Vec<u8> {
        let mut b = vec![0x30, 0x80, 0x06, 0x09];
        b.extend_from_slice(
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\
                 {entries}</dict>\n</plist>\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(&[0xa0, 0x82, 0x01]);
        b
    }

    #[test]
    fn reads_the_attributes_inside_an_envelope() {
        let d = parse_device(&body(
            "<key>UDID</key>\n<string>00008110-000A1B2C3D4E5F60</string>\n\
             <key>PRODUCT</key><string>iPhone14,5</string>\
             <key>VERSION</key><string>22A3354</string>\
             <key>DEVICE_NAME</key><string>Anna&apos;s iPhone</string>\
             <key>SERIAL</key><string>F2LXYZ</string>",
        ))
        .unwrap();
        assert_eq!(d.udid, "00008110-000A1B2C3D4E5F60");
        assert_eq!(d.product.as_deref(), Some("iPhone14,5"));
        assert_eq!(d.name.as_deref(), Some("Anna's iPhone"));
        assert_eq!(
            d.query(),
            "udid=00008110-000A1B2C3D4E5F60&product=iPhone14%2C5&version=22A3354\
             &name=Anna%27s%20iPhone"
        );
    }

    #[test]
    fn refuses_garbage_and_drops_bad_optional_values() {
        assert_eq!(parse_device(b"garbage"), Err(NO_PLIST));
        assert_eq!(
            parse_device(&body("<key>PRODUCT</key><string>x</string>")),
            Err(NO_UDID)
        );
        for bad in [
            "short",
            "00008110-000A1B2C3D4E5F6<",
            "zz008110000A1B2C3D4E5F6000",
        ] {
            let b = body(&format!("<key>UDID</key><string>{bad}</string>"));
            assert_eq!(parse_device(&b), Err(NO_UDID), "{bad}");
        }
        let b = body(
            "<key>UDID</key><string>00008110000A1B2C3D4E5F60</string>\
             <key>PRODUCT</key><string>&lt;script&gt;</string>\
             <key>DEVICE_NAME</key><string>a\"b</string>",
        );
        let d = parse_device(&b).unwrap();
        assert_eq!((d.product, d.name), (None, None));
        assert_eq!(
            parse_device(&vec![b'a'; UDID_MAX_BODY_BYTES + 1]),
            Err(TOO_LARGE)
        );
    }
}
