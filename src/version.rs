//! Ordering of version and build strings, component-wise: `1.10.0` > `1.9.0`.
//!
//! Components are split on `.`, `-`, `_` and `+`; two numeric components compare as numbers,
//! anything else as text (numbers sort before text), and missing components count as zero so
//! that `1.0` equals `1.0.0`.

use std::cmp::Ordering;

/// Compares two version strings component-wise.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let pa: Vec<&str> = components(a).collect();
    let pb: Vec<&str> = components(b).collect();
    let len = pa.len().max(pb.len());
    for i in 0..len {
        let ca = pa.get(i).copied().unwrap_or("0");
        let cb = pb.get(i).copied().unwrap_or("0");
        let ord = compare_component(ca, cb);
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

fn components(v: &str) -> impl Iterator<Item = &str> {
    v.trim()
        .split(['.', '-', '_', '+', ' '])
        .filter(|c| !c.is_empty())
}

fn compare_component(a: &str, b: &str) -> Ordering {
    let na = a.bytes().all(|c| c.is_ascii_digit());
    let nb = b.bytes().all(|c| c.is_ascii_digit());
    match (na, nb) {
        (true, true) => {
            // Compare digit strings as numbers of any length, without overflow.
            let ta = a.trim_start_matches('0');
            let tb = b.trim_start_matches('0');
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_not_lexicographic() {
        assert_eq!(compare("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(compare("2", "10"), Ordering::Less);
        assert_eq!(compare("1.2.10", "1.2.9"), Ordering::Greater);
    }

    #[test]
    fn missing_components_are_zero() {
        assert_eq!(compare("1.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare("1", "1.0.1"), Ordering::Less);
    }

    #[test]
    fn huge_and_padded_numbers() {
        assert_eq!(compare("99999999999999999999999", "1"), Ordering::Greater);
        assert_eq!(compare("007", "7"), Ordering::Equal);
    }

    #[test]
    fn text_components_sort_after_numbers() {
        assert_eq!(compare("1.0.beta", "1.0.1"), Ordering::Greater);
        assert_eq!(compare("1.0-alpha", "1.0-beta"), Ordering::Less);
    }

    #[test]
    fn sorting_a_list() {
        let mut v = vec!["1.9", "1.10", "1.2", "0.9.9", "1.10.1"];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(v, vec!["0.9.9", "1.2", "1.9", "1.10", "1.10.1"]);
    }
}
