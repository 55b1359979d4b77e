//! Reading the main app's `Info.plist` (binary or XML) into the facts otasite needs.

use std::io::Cursor;

use plist::{Dictionary, Value};

/// What the site shows and the manifest needs from `Info.plist`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppInfo {
    pub bundle_id: String,
    /// `CFBundleShortVersionString` (falls back to `CFBundleVersion`).
    pub version: String,
    /// `CFBundleVersion` (falls back to the short version).
    pub build: String,
    /// `CFBundleDisplayName`, then `CFBundleName`, then the `.app` folder name.
    pub name: String,
    pub min_os: Option<String>,
    /// `UIDeviceFamily`: 1 iPhone, 2 iPad, 3 Apple TV, 4 Apple Watch, 6 Mac, 7 Vision.
    pub device_family: Vec<u64>,
    /// Icon file names (or name prefixes) from `CFBundleIcons`, `CFBundleIcons~ipad`,
    /// `CFBundleIconFiles` and `CFBundleIconFile`, in that order, without duplicates.
    #[serde(default)]
    pub icon_names: Vec<String>,
}

/// Parses `Info.plist` bytes; `folder_name` is the `.app` folder's name without extension.
///
/// Errors are one-line descriptions; the caller adds the file they came from.
pub(crate) fn parse_info_plist(bytes: &[u8], folder_name: &str) -> Result<AppInfo, String> {
    super::plist_depth::check_plist_shape(bytes).map_err(|e| format!("Info.plist: {e}"))?;
    let value = Value::from_reader(Cursor::new(bytes))
        .map_err(|e| format!("Info.plist is not a valid property list ({e})"))?;
    let dict = value
        .as_dictionary()
        .ok_or("Info.plist does not hold a dictionary at its top level")?;

    let bundle_id = string_key(dict, "CFBundleIdentifier")?
        .ok_or("Info.plist has no CFBundleIdentifier: is this an app bundle?")?;
    if bundle_id
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "CFBundleIdentifier {bundle_id:?} contains spaces or control characters"
        ));
    }
    let max = crate::limits::MAX_IDENTIFIER_LEN;
    if bundle_id.len() > max {
        return Err(format!(
            "CFBundleIdentifier is {} characters long, over the {max} of limits::MAX_IDENTIFIER_LEN",
            bundle_id.len()
        ));
    }
    let short = string_key(dict, "CFBundleShortVersionString")?;
    let build = string_key(dict, "CFBundleVersion")?;
    let (version, build) = match (short, build) {
        (Some(v), Some(b)) => (v, b),
        (Some(v), None) => (v.clone(), v),
        (None, Some(b)) => (b.clone(), b),
        (None, None) => {
            return Err(
                "Info.plist has neither CFBundleShortVersionString nor CFBundleVersion".into(),
            );
        }
    };
    for (key, value) in [
        ("CFBundleShortVersionString", &version),
        ("CFBundleVersion", &build),
    ] {
        if value.len() > max {
            return Err(format!(
                "{key} is {} characters long, over the {max} of limits::MAX_IDENTIFIER_LEN",
                value.len()
            ));
        }
    }
    let name = match string_key(dict, "CFBundleDisplayName")? {
        Some(n) => n,
        None => match string_key(dict, "CFBundleName")? {
            Some(n) => n,
            None => folder_name.to_string(),
        },
    };
    // Every text that reaches a manifest, feed or page is one line of XML-safe characters.
    let one_line = crate::text::one_line;
    Ok(AppInfo {
        bundle_id: one_line(&bundle_id),
        version: one_line(&version),
        build: one_line(&build),
        name: one_line(&name),
        min_os: string_key(dict, "MinimumOSVersion")?.map(|v| one_line(&v)),
        device_family: device_family(dict)?,
        icon_names: icon_names(dict),
    })
}

/// Icon names are optional: values of the wrong type are ignored, not errors.
fn icon_names(dict: &Dictionary) -> Vec<String> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_string)
                .map(str::to_string)
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let mut names = Vec::new();
    for key in ["CFBundleIcons", "CFBundleIcons~ipad"] {
        if let Some(primary) = dict
            .get(key)
            .and_then(Value::as_dictionary)
            .and_then(|d| d.get("CFBundlePrimaryIcon"))
            .and_then(Value::as_dictionary)
        {
            names.extend(strings(primary.get("CFBundleIconFiles")));
            names.extend(strings(primary.get("CFBundleIconName")));
        }
    }
    names.extend(strings(dict.get("CFBundleIconFiles")));
    names.extend(strings(dict.get("CFBundleIconFile")));
    let mut unique: Vec<String> = Vec::new();
    for n in names {
        let n = n.trim().trim_end_matches(".png").to_string();
        if !n.is_empty() && !n.contains('/') && !unique.contains(&n) {
            unique.push(n);
        }
    }
    unique
}

/// A string value, trimmed; `None` when absent or blank; an error when of another type.
fn string_key(dict: &Dictionary, key: &str) -> Result<Option<String>, String> {
    match dict.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => {
            let s: String = s.chars().filter(|c| !c.is_control()).collect();
            let s = s.trim();
            Ok((!s.is_empty()).then(|| s.to_string()))
        }
        Some(other) => Err(format!(
            "{key} in Info.plist must be a string, found {}",
            type_name(other)
        )),
    }
}

fn device_family(dict: &Dictionary) -> Result<Vec<u64>, String> {
    let one = |v: &Value| -> Option<u64> {
        match v {
            Value::Integer(i) => i.as_unsigned(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    let mut family: Vec<u64> = match dict.get("UIDeviceFamily") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v @ (Value::Integer(_) | Value::String(_))) => one(v).into_iter().collect(),
        Some(other) => {
            return Err(format!(
                "UIDeviceFamily in Info.plist must be an array of integers, found {}",
                type_name(other)
            ));
        }
    };
    family.sort_unstable();
    family.dedup();
    Ok(family)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::Dictionary(_) => "a dictionary",
        Value::Boolean(_) => "a boolean",
        Value::Data(_) => "data",
        Value::Date(_) => "a date",
        Value::Real(_) => "a real number",
        Value::Integer(_) => "an integer",
        Value::String(_) => "a string",
        Value::Uid(_) => "a UID",
        _ => "an unknown value",
    }
}

/// Human names for `UIDeviceFamily` values.
pub(crate) fn device_family_names(family: &[u64]) -> Vec<&'static str> {
    family
        .iter()
        .filter_map(|f| match f {
            1 => Some("iPhone"),
            2 => Some("iPad"),
            3 => Some("Apple TV"),
            4 => Some("Apple Watch"),
            6 => Some("Mac"),
            7 => Some("Apple Vision"),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xml(body: &str) -> Vec<u8> {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>{body}</dict></plist>"#
        )
        .into_bytes()
    }

    #[test]
    fn reads_xml_plist_with_fallbacks() {
        let info = parse_info_plist(
            &xml("<key>CFBundleIdentifier</key><string>com.a.b</string>\
                  <key>CFBundleVersion</key><string>42</string>\
                  <key>CFBundleName</key><string>Acme &amp; Co</string>\
                  <key>UIDeviceFamily</key><array><integer>2</integer><integer>1</integer></array>"),
            "Folder",
        )
        .unwrap();
        assert_eq!(info.bundle_id, "com.a.b");
        assert_eq!(info.version, "42");
        assert_eq!(info.build, "42");
        assert_eq!(info.name, "Acme & Co");
        assert_eq!(info.device_family, vec![1, 2]);
        assert!(info.icon_names.is_empty());
        assert_eq!(
            device_family_names(&info.device_family),
            vec!["iPhone", "iPad"]
        );
    }

    #[test]
    fn icon_names_from_every_key() {
        let info = parse_info_plist(
            &xml("<key>CFBundleIdentifier</key><string>x</string>\
                  <key>CFBundleVersion</key><string>1</string>\
                  <key>CFBundleIcons</key><dict><key>CFBundlePrimaryIcon</key><dict>\
                  <key>CFBundleIconFiles</key><array><string>AppIcon60x60</string></array>\
                  <key>CFBundleIconName</key><string>AppIcon</string></dict></dict>\
                  <key>CFBundleIcons~ipad</key><dict><key>CFBundlePrimaryIcon</key><dict>\
                  <key>CFBundleIconFiles</key><array><string>AppIcon76x76</string><string>AppIcon60x60</string></array></dict></dict>\
                  <key>CFBundleIconFile</key><string>Icon.png</string>\
                  <key>CFBundleIconFiles</key><integer>3</integer>"),
            "F",
        )
        .unwrap();
        assert_eq!(
            info.icon_names,
            vec!["AppIcon60x60", "AppIcon", "AppIcon76x76", "Icon"]
        );
    }

    #[test]
    fn folder_name_is_last_fallback() {
        let info = parse_info_plist(
            &xml("<key>CFBundleIdentifier</key><string>x</string>\
                  <key>CFBundleShortVersionString</key><string>1.0</string>\
                  <key>CFBundleDisplayName</key><string>  </string>"),
            "Folder",
        )
        .unwrap();
        assert_eq!(info.name, "Folder");
    }

    #[test]
    fn reads_binary_plist() {
        let mut dict = Dictionary::new();
        dict.insert("CFBundleIdentifier".into(), "com.bin".into());
        dict.insert("CFBundleShortVersionString".into(), "2.0".into());
        dict.insert("CFBundleVersion".into(), "7".into());
        dict.insert("CFBundleDisplayName".into(), "Bin".into());
        dict.insert("MinimumOSVersion".into(), "15.0".into());
        let mut bytes = Vec::new();
        Value::Dictionary(dict)
            .to_writer_binary(&mut bytes)
            .unwrap();
        assert!(bytes.starts_with(b"bplist00"));
        let info = parse_info_plist(&bytes, "F").unwrap();
        assert_eq!((info.version.as_str(), info.build.as_str()), ("2.0", "7"));
        assert_eq!(info.min_os.as_deref(), Some("15.0"));
    }

    #[test]
    fn wrong_types_and_garbage_are_errors() {
        let e = parse_info_plist(
            &xml("<key>CFBundleIdentifier</key><integer>1</integer>"),
            "F",
        )
        .unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        assert!(parse_info_plist(b"not a plist", "F").is_err());
        assert!(
            parse_info_plist(&xml(""), "F")
                .unwrap_err()
                .contains("CFBundleIdentifier")
        );
        let e = parse_info_plist(&xml("<key>CFBundleIdentifier</key><string>x</string>"), "F")
            .unwrap_err();
        assert!(e.contains("CFBundleVersion"), "{e}");
    }
}
