//! A smoke run of the benchmark harness (examples/bench.rs) on a tiny site: every step runs
//! and the report has every row. Figures are not asserted: timing belongs to the harness.

use std::process::Command;

use crate::common;

#[test]
fn harness_runs_every_step() {
    // Examples are built by `cargo test`, next to the binary.
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_otasite"));
    let harness = bin.parent().unwrap().join("examples/bench");
    assert!(harness.is_file(), "{} was not built", harness.display());
    // `cargo test --test it` alone does not rebuild examples.
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).unwrap();
    assert!(
        modified(&harness) >= modified(&common::project_dir().join("examples/bench.rs")),
        "{} is older than its source: run plain `cargo test` (or cargo build --example bench)",
        harness.display()
    );
    let parser = common::project_dir().join("bench/node_modules/app-info-parser");
    let compare_npm = parser.is_dir();
    if !compare_npm {
        common::missing_tool(
            "the npm package app-info-parser",
            "npm ci --prefix bench (scripts/bench does it)",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&harness)
        .current_dir(common::project_dir())
        .args(["--smoke", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| 3 |"))
        .unwrap_or_else(|| panic!("no row for the 3-release site:\n{stdout}"));
    assert_eq!(row.matches('|').count(), 13, "{row}");
    assert!(stdout.contains("| otasite inspect |"), "{stdout}");
    assert!(stdout.contains("| python zipfile+plistlib |"), "{stdout}");
    if compare_npm {
        assert!(stdout.contains("| npm app-info-parser |"), "{stdout}");
    }
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert_eq!(report, stdout);
}

/// `--bucket`: the same tiny site from a bucket (s3s-fs behind the harness's counting proxy).
#[test]
fn harness_runs_the_bucket_section() {
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_otasite"));
    let harness = bin.parent().unwrap().join("examples/bench");
    assert!(harness.is_file(), "{} was not built", harness.display());
    let s3s_fs = std::env::var_os("S3S_FS").map_or_else(
        || common::project_dir().join(".test-tools/s3s/bin/s3s-fs"),
        std::path::PathBuf::from,
    );
    if !s3s_fs.is_file() {
        common::missing_tool("s3s-fs", "run scripts/install-test-tools");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&harness)
        .current_dir(common::project_dir())
        .args(["--smoke", "--bucket", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in [
        "| 3 releases | local folder | bucket |",
        "| cold build (no `.otasite/`) |",
        "| requests per IPA (median / max) |",
        "| warm rebuild, nothing changed |",
        "| after one new release (published) |",
    ] {
        assert!(stdout.contains(row), "no {row:?}:\n{stdout}");
    }
    let report = std::fs::read_to_string(dir.path().join("report-bucket.md")).unwrap();
    assert_eq!(report, stdout);
}
