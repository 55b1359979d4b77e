//! "Did you mean …?": the known name closest to a misspelt one (a site.yaml key, a host, a
//! notes file, the releases folder), so that a message can say what to write instead.

/// Edits (insertions, deletions, substitutions, swaps of neighbours) from `a` to `b`, ignoring
/// case: `VeryCapabel` is one swap from `VeryCapable`.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    // Three rows of the optimal-string-alignment table.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut last, row);
    }
    last[b.len()]
}

/// The candidate closest to `word` (the first of equals), however far.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The candidate `word` is most likely a misspelling of: the closest, when at most a third of
/// its letters (and at least one or two, for short words) differ.
pub(crate) fn likely<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let best = closest(word, candidates)?;
    let within = (word.chars().count() / 3).max(2);
    (distance(word, best) <= within).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("noindx", "noindex"), 1);
        assert_eq!(distance("VeryCapabel", "VeryCapable"), 1);
        assert_eq!(distance("release", "releases"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("Title", "title"), 0);
    }

    #[test]
    fn likely_only_when_close() {
        let keys = ["title", "noindex", "hosting", "theme"];
        assert_eq!(likely("noindx", keys), Some("noindex"));
        assert_eq!(likely("hostng", keys), Some("hosting"));
        assert_eq!(likely("banana", keys), None);
        assert_eq!(closest("hostingg", keys), Some("hosting"));
        assert_eq!(closest("x", []), None);
    }
}
