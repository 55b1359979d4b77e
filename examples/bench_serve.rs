//! Dev-server latency: from saving a notes file to the updated page being served.
//!
//! `cargo build --release && cargo run --release --example bench_serve [-- RELEASES EDITS]`
//! Makes a site of RELEASES releases (default 200; crushed icons, CMS profiles) in a temp dir,
//! starts `target/release/otasite serve` on it, then EDITS times (default 60) writes a note with
//! a new token and polls the page every 2 ms until the token is served. Prints median and p95.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otasite::testkit::{IpaSpec, ProfileSpec};

fn get(port: u16, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let releases = args.first().copied().unwrap_or(200);
    let edits = args.get(1).copied().unwrap_or(60);
    let bin = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("otasite");
    assert!(
        bin.is_file(),
        "build the binary first: cargo build --release ({} missing)",
        bin.display()
    );

    let dir = tempfile::tempdir().unwrap();
    // OTASITE_BENCH_DIR keeps the generated site for a closer look.
    let kept = std::env::var_os("OTASITE_BENCH_DIR").map(PathBuf::from);
    let site = kept.as_deref().unwrap_or(dir.path());
    std::fs::create_dir_all(site).unwrap();
    std::fs::write(
        site.join("site.yaml"),
        "title: Bench\nbase_url: https://bench.example.com/\n",
    )
    .unwrap();
    let apps = releases.div_ceil(10);
    for i in 0..releases {
        let (app, n) = (i % apps, i / apps);
        let spec = IpaSpec {
            icon: Some([(app * 37 % 255) as u8, 90, 160]),
            profile: Some(ProfileSpec::ad_hoc(&["00008030-000A1B2C3D4E5F60"])),
            executable_bytes: 64 * 1024,
            ..IpaSpec::new(
                &format!("com.bench.app{app}"),
                &format!("1.{n}.0"),
                &format!("{n}"),
            )
            .name(&format!("Bench App {app}"))
        };
        let rel = PathBuf::from(format!("releases/app{app}/{n}"));
        std::fs::create_dir_all(site.join(&rel)).unwrap();
        std::fs::write(site.join(&rel).join("App.ipa"), spec.to_bytes()).unwrap();
        std::fs::write(
            site.join(&rel).join("notes.md"),
            format!("---\ndate: 2026-01-{:02}\n---\n- change {i}\n", n % 28 + 1),
        )
        .unwrap();
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let mut child = Command::new(&bin)
        .args(["serve", site.to_str().unwrap(), "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let page = "/apps/com.bench.app0/1.0.0-0/";
    while !get(port, page).contains("change 0") {
        std::thread::sleep(Duration::from_millis(20));
    }
    let first = started.elapsed();

    let notes = site.join("releases/app0/0/notes.md");
    let mut times = Vec::with_capacity(edits);
    for e in 0..edits {
        let token = format!("token-{e}-{}", started.elapsed().as_nanos());
        let t0 = Instant::now();
        std::fs::write(&notes, format!("---\ndate: 2026-01-01\n---\n- {token}\n")).unwrap();
        while !get(port, page).contains(&token) {
            std::thread::sleep(Duration::from_millis(2));
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "edit {e} never showed up"
            );
        }
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(150));
    }
    let _ = child.kill();
    let _ = child.wait();
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    let debounce = otasite::serve::DEBOUNCE.as_secs_f64() * 1000.0;
    println!(
        "site: {releases} releases in {apps} apps; first build served after {:.0} ms",
        first.as_secs_f64() * 1000.0
    );
    println!("save -> updated page served, over {edits} edits:");
    println!(
        "  median {:.1} ms, p95 {:.1} ms (including the {debounce:.0} ms debounce)",
        pct(0.5),
        pct(0.95)
    );
    println!(
        "  median {:.1} ms, p95 {:.1} ms after the debounce",
        pct(0.5) - debounce,
        pct(0.95) - debounce
    );
}
