//! A guard before building a plist `Value`: the plist crate builds nested collections by
//! recursion, so a hostile file nested 100,000 levels deep would overflow the stack. Walking
//! the event stream first costs no recursion and stops at the limit.

use std::io::Cursor;

use plist::stream::{Event, Reader};

use crate::limits::{MAX_PLIST_DEPTH, MAX_PLIST_EVENTS};

/// Errs when the plist nests deeper than `MAX_PLIST_DEPTH` or holds more than
/// `MAX_PLIST_EVENTS` values (a binary plist can reference one object many times).
pub(crate) fn check_plist_shape(bytes: &[u8]) -> Result<(), String> {
    let mut depth = 0usize;
    for (count, event) in Reader::new(Cursor::new(bytes)).enumerate() {
        if count > MAX_PLIST_EVENTS {
            return Err(format!(
                "the property list holds more than {MAX_PLIST_EVENTS} values (limits::MAX_PLIST_EVENTS)"
            ));
        }
        match event.map_err(|e| format!("not a valid property list ({e})"))? {
            Event::StartArray(_) | Event::StartDictionary(_) => {
                depth += 1;
                if depth > MAX_PLIST_DEPTH {
                    return Err(format!(
                        "the property list nests deeper than {MAX_PLIST_DEPTH} levels (limits::MAX_PLIST_DEPTH)"
                    ));
                }
            }
            Event::EndCollection => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let deep = format!(
            "<?xml version=\"1.0\"?><plist version=\"1.0\">{}{}</plist>",
            "<array>".repeat(100_000),
            "</array>".repeat(100_000)
        );
        let e = check_plist_shape(deep.as_bytes()).unwrap_err();
        assert!(e.contains("MAX_PLIST_DEPTH"), "{e}");
        let shallow =
            "<?xml version=\"1.0\"?><plist version=\"1.0\"><array><array/></array></plist>";
        assert!(check_plist_shape(shallow.as_bytes()).is_ok());
    }
}
