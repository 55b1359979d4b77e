//! Runs every saved fuzz input (fuzz/corpus/<target>/, seeds and finds alike) through its
//! target on every `cargo test`: a quick regression check, not the fuzzer.

use std::path::Path;

/// A fuzz target's entry point.
type Target = fn(&[u8]);

#[test]
fn every_saved_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let targets: [(&str, Target); 6] = [
        ("ipa", otasite::testkit::fuzzing::ipa),
        ("info_plist", otasite::testkit::fuzzing::info_plist),
        ("profile", otasite::testkit::fuzzing::profile),
        ("png", otasite::testkit::fuzzing::png),
        ("notes", otasite::testkit::fuzzing::notes),
        ("config", otasite::testkit::fuzzing::config),
    ];
    let mut ran = 0;
    for (name, target) in targets {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus for {name}");
        for f in files {
            let data = std::fs::read(&f).unwrap();
            // Truncations of each input too: the commonest way files break.
            for len in [data.len(), data.len() / 2, data.len().saturating_sub(1), 0] {
                target(&data[..len]);
            }
            ran += 1;
        }
    }
    assert!(ran >= 12, "{ran} inputs");
}
