//! The whole-build benchmark: otasite against the floor (`sha256sum`) and two other readers
//! (a Python `zipfile` + `plistlib` script, the npm package `app-info-parser`), side by side in
//! one run, on the same synthetic IPAs. Run it with `scripts/bench` (which builds the release
//! binary and installs the npm package first); see BENCHMARKS.md.
//!
//! `cargo run --release --example bench -- [--releases 10,100,1000] [--runs 5] [--dir DIR]
//!  [--sizes-mb 2,3,4,5,6,8,10,12,16,20] [--large-mb 1024] [--resources 1500] [--serve-edits 30]
//!  [--typical 100] [--readers-only] [--bucket] [--smoke]`
//!
//! The IPAs are made once into DIR/pool (default target/bench) and hard-linked into one site
//! per release count, so a second run starts at once. Release 0 of every site is the large IPA;
//! the others cycle through the sizes. Every IPA has RESOURCES small entries besides a stored
//! executable, crushed (CgBI) icons and a CMS-signed provisioning profile. Ten apps share the
//! releases, each app keeping its icon from build to build, as real apps do.
//!
//! The readers (otasite inspect, the Python script, app-info-parser) are compared on TYPICAL
//! IPAs of the sizes above (pool slots 1..=TYPICAL), and separately on the large IPA (slot 0);
//! `--readers-only` measures only them.
//!
//! `--bucket` measures instead a build from a bucket of the same releases against the local
//! build, for each release count: a real S3 server (s3s-fs) behind a counting proxy; see
//! bench/bucket.rs.
//!
//! Figures are medians of RUNS runs; every file is read once before timing, so all tools read
//! from the page cache. Peak memory is the child's maximum resident set (getrusage).

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otasite::testkit::{IpaSpec, ProfileSpec};

#[path = "bench/bucket.rs"]
mod bucket;
use rayon::prelude::*;

const MB: usize = 1 << 20;
/// Bumped when the generated IPAs change, so an old pool is made again.
const POOL_VERSION: &str = "2";
const APPS: usize = 10;

struct Args {
    releases: Vec<usize>,
    runs: usize,
    dir: PathBuf,
    sizes_mb: Vec<usize>,
    large_mb: usize,
    resources: usize,
    serve_edits: usize,
    typical: usize,
    readers_only: bool,
    bucket: bool,
    smoke: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        releases: vec![10, 100, 1000],
        runs: 5,
        dir: PathBuf::from("target/bench"),
        sizes_mb: vec![2, 3, 4, 5, 6, 8, 10, 12, 16, 20],
        large_mb: 1024,
        resources: 1500,
        serve_edits: 30,
        typical: 100,
        readers_only: false,
        bucket: false,
        smoke: false,
    };
    let mut it = std::env::args().skip(1);
    let list = |v: Option<String>| -> Vec<usize> {
        v.unwrap_or_default()
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect()
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--releases" => a.releases = list(it.next()),
            "--runs" => a.runs = list(it.next()).first().copied().unwrap_or(5).max(1),
            "--dir" => a.dir = PathBuf::from(it.next().unwrap_or_default()),
            "--sizes-mb" => a.sizes_mb = list(it.next()),
            "--large-mb" => a.large_mb = list(it.next()).first().copied().unwrap_or(1024),
            "--resources" => a.resources = list(it.next()).first().copied().unwrap_or(1500),
            "--serve-edits" => a.serve_edits = list(it.next()).first().copied().unwrap_or(30),
            "--typical" => a.typical = list(it.next()).first().copied().unwrap_or(100).max(1),
            "--readers-only" => a.readers_only = true,
            "--bucket" => a.bucket = true,
            "--smoke" => a.smoke = true,
            other => panic!(
                "unknown argument {other:?}; see the comment at the top of examples/bench.rs"
            ),
        }
    }
    if a.smoke {
        // A tiny run that exercises every step: for `cargo test`, not for figures.
        (
            a.releases,
            a.runs,
            a.sizes_mb,
            a.large_mb,
            a.resources,
            a.serve_edits,
            a.typical,
        ) = (vec![3], 1, vec![1], 2, 50, 2, 3);
    }
    a
}

/// One timed child process.
struct Run {
    seconds: f64,
    max_rss_kb: i64,
    /// Bytes the process read (`rchar` in /proc/PID/io: read(2) and friends, page cache or not).
    read_bytes: u64,
    stdout: String,
}

/// Runs a command to completion; its wall time and peak memory, or a panic naming it.
#[allow(clippy::zombie_processes)] // waited for by wait4, for its resource usage
fn run(cmd: &mut Command) -> Run {
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let mut stdout = String::new();
    let mut stderr = String::new();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let _ = out.read_to_string(&mut stdout);
    stderr.push_str(&reader.join().unwrap_or_default());
    let read_bytes = read_bytes_at_exit(child.id() as i32);
    let (status, rss) = wait_with_rusage(child.id() as i32);
    let seconds = start.elapsed().as_secs_f64();
    assert!(
        status.success(),
        "{shown} failed ({status}):\n{stderr}\n{stdout}"
    );
    Run {
        seconds,
        max_rss_kb: rss,
        read_bytes,
        stdout,
    }
}

/// Waits for `pid` to exit without reaping it, then reads what it read from /proc/PID/io
/// (0 where there is none).
fn read_bytes_at_exit(pid: i32) -> u64 {
    // SAFETY: an all-zero siginfo_t is a valid value; waitid only writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; WNOWAIT leaves it to wait4.
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        )
    };
    assert_eq!(r, 0, "waitid failed");
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits for `pid` and returns its status and maximum resident set size in KiB.
fn wait_with_rusage(pid: i32) -> (std::process::ExitStatus, i64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 only writes into these two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    (std::process::ExitStatus::from_raw(status), usage.ru_maxrss)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// The IPA for pool slot `i`.
fn spec(i: usize, args: &Args) -> (IpaSpec, PathBuf) {
    let (app, n) = (i % APPS, i / APPS);
    let bytes = if i == 0 {
        args.large_mb * MB
    } else {
        args.sizes_mb[i % args.sizes_mb.len()] * MB
    };
    let devices: Vec<String> = (0..12)
        .map(|d| format!("00008030-{:016X}", (app * 100 + d) as u64 * 0x1_0001))
        .collect();
    let devices: Vec<&str> = devices.iter().map(String::as_str).collect();
    let spec = IpaSpec {
        icon: Some([(app * 37 % 255) as u8, 90, 160]),
        icon_crushed: true,
        profile: Some(ProfileSpec::ad_hoc(&devices)),
        // The resources and headers take some room; the executable makes up the rest.
        executable_bytes: bytes.saturating_sub(args.resources * 800).max(4096),
        store_executable: true,
        resources: args.resources,
        ..IpaSpec::new(
            &format!("com.bench.app{app}"),
            &format!("1.{n}.0"),
            &format!("{}", 1000 + n),
        )
        .name(&format!("Bench App {app}"))
    };
    (spec, PathBuf::from(format!("app{app}/1.{n}.0")))
}

/// Makes the pool of IPAs (once; reused while the parameters are the same).
fn make_pool(args: &Args, count: usize) -> PathBuf {
    let params = format!(
        "{POOL_VERSION} {:?} {} {}",
        args.sizes_mb, args.large_mb, args.resources
    );
    let pool = args.dir.join("pool");
    // "<count> <params>": a pool of the same IPAs with at least `count` of them will do.
    let made = std::fs::read_to_string(pool.join("stamp")).unwrap_or_default();
    if let Some((n, p)) = made.split_once(' ')
        && p == params
        && n.parse::<usize>().is_ok_and(|n| n >= count)
    {
        return pool;
    }
    let stamp = format!("{count} {params}");
    let _ = std::fs::remove_dir_all(&pool);
    std::fs::create_dir_all(&pool).unwrap();
    let start = Instant::now();
    (0..count).into_par_iter().for_each(|i| {
        let (spec, _) = spec(i, args);
        let file = std::fs::File::create(pool.join(format!("{i}.ipa"))).unwrap();
        spec.write_to(std::io::BufWriter::with_capacity(MB, file))
            .unwrap()
            .flush()
            .unwrap();
    });
    std::fs::write(pool.join("stamp"), stamp).unwrap();
    eprintln!(
        "made {count} IPAs in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    pool
}

/// A site of releases `0..n` from the pool, hard-linked, with notes.
fn make_site(args: &Args, pool: &Path, n: usize) -> PathBuf {
    let site = args.dir.join(format!("site-{n}"));
    let _ = std::fs::remove_dir_all(&site);
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("site.yaml"),
        "title: Bench\nbase_url: https://bench.example.com/\nhosting: [netlify, nginx]\n",
    )
    .unwrap();
    for i in 0..n {
        add_release(args, pool, &site, i);
    }
    site
}

fn add_release(args: &Args, pool: &Path, site: &Path, i: usize) -> PathBuf {
    let (_, rel) = spec(i, args);
    let dir = site.join("releases").join(rel);
    std::fs::create_dir_all(&dir).unwrap();
    let ipa = dir.join("App.ipa");
    if std::fs::hard_link(pool.join(format!("{i}.ipa")), &ipa).is_err() {
        std::fs::copy(pool.join(format!("{i}.ipa")), &ipa).unwrap();
    }
    std::fs::write(dir.join("notes.md"), notes_text(i)).unwrap();
    dir
}

/// Release `i`'s notes.
fn notes_text(i: usize) -> String {
    format!(
        "---\ndate: 2026-{:02}-{:02}\n---\n## What changed\n\n- Fixed issue {i} in sync.\n- Faster start.\n",
        i / APPS % 12 + 1,
        i % 28 + 1
    )
}

fn ipas_of(site: &Path) -> Vec<PathBuf> {
    let mut v: Vec<(u64, PathBuf)> = walkdir::WalkDir::new(site.join("releases"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "ipa"))
        .map(|e| (e.metadata().map_or(0, |m| m.len()), e.into_path()))
        .collect();
    // Largest first: the best schedule for the floor.
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    v.into_iter().map(|(_, p)| p).collect()
}

/// The floors: hashing every IPA with a standard tool, as many at once as there are cores.
/// `sha256sum` (coreutils) is the floor the targets name; `openssl dgst -sha256` uses the
/// CPU's SHA extensions as otasite does, so it is the stricter one.
const FLOORS: [(&str, &[&str]); 2] = [
    ("sha256sum", &["sha256sum"]),
    ("openssl", &["openssl", "dgst", "-sha256"]),
];

/// One floor over every IPA, as many at once as there are cores.
#[allow(clippy::zombie_processes)] // waited for by wait4, for its resource usage
fn floor(ipas: &[PathBuf], tool: &[&str]) -> Run {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut child = Command::new("xargs")
        .args(["-0", "-n", "4", "-P", &cores.to_string()])
        .args(tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("xargs and {} are needed: {e}", tool[0]));
    let start = Instant::now();
    let mut list = Vec::new();
    for p in ipas {
        list.extend_from_slice(p.as_os_str().as_encoded_bytes());
        list.push(0);
    }
    child.stdin.take().unwrap().write_all(&list).unwrap();
    let (status, rss) = wait_with_rusage(child.id() as i32);
    assert!(status.success(), "{} failed", tool[0]);
    Run {
        seconds: start.elapsed().as_secs_f64(),
        max_rss_kb: rss,
        read_bytes: 0,
        stdout: String::new(),
    }
}

struct Bin(PathBuf);

impl Bin {
    fn build(&self, site: &Path, extra: &[&str]) -> Run {
        run(Command::new(&self.0)
            .arg("build")
            .arg(site)
            .arg("--json")
            .args(extra))
    }
}

fn clean(site: &Path) {
    for d in [".otasite", "public", "server-config"] {
        let _ = std::fs::remove_dir_all(site.join(d));
    }
}

fn ms(s: f64) -> String {
    let ms = s * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms < 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

#[derive(Default)]
struct SiteFigures {
    releases: usize,
    bytes: u64,
    floor: f64,
    openssl: f64,
    cold: f64,
    cold_rss: i64,
    warm: f64,
    warm_rss: i64,
    notes_edit: f64,
    new_ipa: f64,
    serve_median: f64,
    serve_p95: f64,
}

fn measure_site(args: &Args, bin: &Bin, pool: &Path, n: usize) -> SiteFigures {
    let site = make_site(args, pool, n);
    let ipas = ipas_of(&site);
    let bytes: u64 = ipas
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    // Warm the page cache for every reader alike.
    floor(&ipas, FLOORS[0].1);
    let mut f = SiteFigures {
        releases: n,
        bytes,
        ..SiteFigures::default()
    };
    let (mut floors, mut openssl, mut colds, mut cold_rss) = (vec![], vec![], vec![], 0);
    for _ in 0..args.runs {
        // Interleaved, so drift in the machine's speed touches all alike.
        floors.push(floor(&ipas, FLOORS[0].1).seconds);
        openssl.push(floor(&ipas, FLOORS[1].1).seconds);
        clean(&site);
        let c = bin.build(&site, &[]);
        colds.push(c.seconds);
        cold_rss = cold_rss.max(c.max_rss_kb);
    }
    (f.floor, f.openssl, f.cold, f.cold_rss) =
        (median(floors), median(openssl), median(colds), cold_rss);

    let mut warms = Vec::new();
    for _ in 0..args.runs {
        let w = bin.build(&site, &[]);
        let report: serde_json::Value = serde_json::from_str(&w.stdout).unwrap();
        assert_eq!(
            report["up_to_date"], true,
            "a rebuild with nothing changed: {report}"
        );
        warms.push(w.seconds);
        f.warm_rss = f.warm_rss.max(w.max_rss_kb);
    }
    f.warm = median(warms);

    let (_, rel) = spec(n / 2, args);
    let notes = site.join("releases").join(rel).join("notes.md");
    let mut edits = Vec::new();
    for r in 0..args.runs {
        let mut text = std::fs::read_to_string(&notes).unwrap();
        text.push_str(&format!("- Edit {r}.\n"));
        std::fs::write(&notes, text).unwrap();
        let e = bin.build(&site, &[]);
        let report: serde_json::Value = serde_json::from_str(&e.stdout).unwrap();
        assert_eq!(report["up_to_date"], false, "{report}");
        edits.push(e.seconds);
    }
    f.notes_edit = median(edits);

    let mut adds = Vec::new();
    for r in 0..args.runs {
        let dir = add_release(args, pool, &site, n + r);
        adds.push(bin.build(&site, &[]).seconds);
        std::fs::remove_dir_all(&dir).unwrap();
        bin.build(&site, &[]);
    }
    f.new_ipa = median(adds);

    if args.serve_edits > 0 {
        (f.serve_median, f.serve_p95) = serve_latency(bin, &site, args.serve_edits);
    }
    f
}

fn get(port: u16, path: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body
}

/// From saving a notes file to `otasite serve` serving the page with the change.
fn serve_latency(bin: &Bin, site: &Path, edits: usize) -> (f64, f64) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&bin.0)
        .arg("serve")
        .arg(site)
        .args(["-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let notes = site.join("releases/app1/1.0.0/notes.md");
    let page = "/apps/com.bench.app1/1.0.0-1000/";
    let started = Instant::now();
    while !get(port, page).contains("Faster start") {
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "serve never served {page}"
        );
    }
    let original = std::fs::read_to_string(&notes).unwrap();
    let mut times = Vec::with_capacity(edits);
    for e in 0..edits {
        let token = format!("token-{e}-{}", started.elapsed().as_nanos());
        let t0 = Instant::now();
        std::fs::write(&notes, format!("{original}- {token}\n")).unwrap();
        while !get(port, page).contains(&token) {
            std::thread::sleep(Duration::from_millis(1));
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "edit {e} never showed up"
            );
        }
        times.push(t0.elapsed().as_secs_f64());
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    std::fs::write(&notes, original).unwrap();
    (median(times.clone()), percentile(times, 0.95))
}

/// One reader's figures: per-IPA time on the typical set and on the large IPA, peak memory.
#[derive(Default)]
struct ReaderFigures {
    typical: f64,
    large: f64,
    rss_kb: i64,
}

/// The readers' table: each reader over the typical IPAs (one process for all of them) and
/// over the large IPA alone, interleaved run by run (every reader, then the next run), beside
/// two floors measured the same way: `openssl dgst -sha256` reading every byte of the same
/// files, and `otasite --version` (starting the process, no IPA: paid once per process).
struct Readers {
    typical_count: usize,
    typical_bytes: u64,
    large_bytes: u64,
    rows: Vec<(&'static str, ReaderFigures)>,
    /// Start-up of each reader's process alone, per process (not per IPA).
    startup: Vec<(&'static str, f64)>,
}

fn measure_readers(args: &Args, bin: &Bin, typical: &[PathBuf], large: &Path) -> Readers {
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench");
    let parser = bench_dir.join("node_modules/app-info-parser");
    // (name, command before the files, whether its output must name the apps).
    let mut readers: Vec<(&'static str, Vec<std::ffi::OsString>, bool)> = vec![
        (
            "otasite inspect",
            vec![bin.0.clone().into(), "inspect".into(), "--json".into()],
            true,
        ),
        (
            "python zipfile+plistlib",
            vec!["python3".into(), bench_dir.join("read_python.py").into()],
            true,
        ),
    ];
    if parser.is_dir() {
        readers.push((
            "npm app-info-parser",
            vec![
                "node".into(),
                bench_dir.join("read_app_info_parser.cjs").into(),
            ],
            true,
        ));
    } else {
        assert!(
            args.smoke,
            "{} is missing: run scripts/bench (it installs it with npm)",
            parser.display()
        );
    }
    readers.push((
        "floor: openssl sha256 (every byte)",
        vec!["openssl".into(), "dgst".into(), "-sha256".into()],
        false,
    ));
    let mut startups: Vec<(&'static str, &std::ffi::OsStr, &[&str])> = vec![
        ("otasite --version", bin.0.as_os_str(), &["--version"]),
        ("python3 -c pass", "python3".as_ref(), &["-c", "pass"]),
    ];
    if parser.is_dir() {
        startups.push(("node -e 0", "node".as_ref(), &["-e", "0"]));
    }
    let run_one = |(name, argv, check): &(&'static str, Vec<std::ffi::OsString>, bool),
                   files: &[PathBuf]| {
        let r = run(Command::new(&argv[0]).args(&argv[1..]).args(files));
        assert!(
            !check || r.stdout.contains("com.bench.app"),
            "{name} read nothing: {}",
            r.stdout
        );
        r
    };
    let mut times: Vec<(Vec<f64>, Vec<f64>, i64)> = vec![(vec![], vec![], 0); readers.len()];
    let mut startup_times: Vec<Vec<f64>> = vec![vec![]; startups.len()];
    let large = [large.to_path_buf()];
    for _ in 0..args.runs {
        for (reader, t) in readers.iter().zip(&mut times) {
            let r = run_one(reader, typical);
            t.0.push(r.seconds / typical.len() as f64);
            t.2 = t.2.max(r.max_rss_kb);
            let r = run_one(reader, &large);
            t.1.push(r.seconds);
            t.2 = t.2.max(r.max_rss_kb);
        }
        for ((_, program, argv), t) in startups.iter().zip(&mut startup_times) {
            t.push(run(Command::new(program).args(*argv)).seconds);
        }
    }
    let size = |p: &PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    Readers {
        typical_count: typical.len(),
        typical_bytes: typical.iter().map(size).sum(),
        large_bytes: size(&large[0]),
        rows: readers
            .iter()
            .zip(times)
            .map(|((name, _, _), (t, l, rss))| {
                (
                    *name,
                    ReaderFigures {
                        typical: median(t),
                        large: median(l),
                        rss_kb: rss,
                    },
                )
            })
            .collect(),
        startup: startups
            .iter()
            .zip(startup_times)
            .map(|((name, _, _), t)| (*name, median(t)))
            .collect(),
    }
}

fn readers_table(md: &mut String, r: &Readers, runs: usize) {
    let ours = &r.rows[0].1;
    let _ = writeln!(
        md,
        "\nReading the metadata of {} typical IPAs ({:.1} MB each on average) in one process per \
         reader, and of the {:.0} MB IPA alone (its own process, start-up included); time per IPA:\n",
        r.typical_count,
        r.typical_bytes as f64 / r.typical_count.max(1) as f64 / 1e6,
        r.large_bytes as f64 / 1e6,
    );
    let _ = writeln!(
        md,
        "| reader | typical: per IPA | typical: vs otasite inspect | large IPA | large: vs otasite inspect | peak memory |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|");
    for (name, f) in &r.rows {
        let _ = writeln!(
            md,
            "| {name} | {} | {:.1}x | {} | {:.1}x | {:.1} MB |",
            ms(f.typical),
            f.typical / ours.typical,
            ms(f.large),
            f.large / ours.large,
            f.rss_kb as f64 / 1024.0
        );
    }
    let startup: Vec<String> = r
        .startup
        .iter()
        .map(|(name, t)| format!("`{name}` {}", ms(*t)))
        .collect();
    let _ = writeln!(
        md,
        "\nStarting a process (paid once per process, not per IPA): {}. Medians of {runs} interleaved runs.",
        startup.join(", ")
    );
}

fn main() {
    let args = parse_args();
    let exe = std::env::current_exe().unwrap();
    let bin = Bin(exe.parent().unwrap().parent().unwrap().join("otasite"));
    assert!(
        bin.0.is_file(),
        "build the binary first ({} is missing): scripts/bench does",
        bin.0.display()
    );
    let most = if args.readers_only {
        0
    } else {
        args.releases.iter().copied().max().unwrap_or(10)
    };
    let pool = make_pool(&args, (most + args.runs).max(args.typical + 1));
    if args.bucket {
        let mut all = Vec::new();
        for &n in &args.releases {
            eprintln!("measuring {n} releases from a bucket");
            all.push(bucket::measure(&args, &bin, &pool, n));
        }
        let mut md = String::new();
        bucket::table(&mut md, &all, args.runs);
        print!("{md}");
        let _ = std::fs::write(args.dir.join("report-bucket.md"), &md);
        return;
    }

    let mut sites = Vec::new();
    if !args.readers_only {
        for &n in &args.releases {
            eprintln!("measuring {n} releases");
            sites.push(measure_site(&args, &bin, &pool, n));
        }
    }
    // The readers: typical IPAs (slots 1..=typical) apart from the large one (slot 0).
    eprintln!("measuring the readers");
    let typical: Vec<PathBuf> = (1..=args.typical)
        .map(|i| pool.join(format!("{i}.ipa")))
        .collect();
    let large = pool.join("0.ipa");
    // Warm the page cache for every reader alike.
    floor(&typical, FLOORS[0].1);
    floor(std::slice::from_ref(&large), FLOORS[0].1);
    let readers = measure_readers(&args, &bin, &typical, &large);

    let mut md = String::new();
    if !sites.is_empty() {
        site_table(&mut md, &sites);
    }
    readers_table(&mut md, &readers, args.runs);
    let _ = writeln!(
        md,
        "\nMedians of {} runs; sizes {:?} MB plus one {} MB IPA per site; {} resources per IPA.",
        args.runs, args.sizes_mb, args.large_mb, args.resources
    );
    print!("{md}");
    let _ = std::fs::write(args.dir.join("report.md"), &md);
}

fn site_table(md: &mut String, sites: &[SiteFigures]) {
    let _ = writeln!(
        md,
        "| releases | IPA bytes | floor: sha256sum | openssl sha256 | cold build | cold / sha256sum | \
         cold / openssl | warm rebuild | after a notes edit | after a new IPA | \
         serve: edit to page (median / p95) | peak memory (cold build) |"
    );
    let _ = writeln!(
        md,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for f in sites {
        let _ = writeln!(
            md,
            "| {} | {:.1} GB | {} | {} | {} | {:.2}x | {:.2}x | {} | {} | {} | {} / {} | {:.1} MB |",
            f.releases,
            f.bytes as f64 / 1e9,
            ms(f.floor),
            ms(f.openssl),
            ms(f.cold),
            f.cold / f.floor,
            f.cold / f.openssl,
            ms(f.warm),
            ms(f.notes_edit),
            ms(f.new_ipa),
            ms(f.serve_median),
            ms(f.serve_p95),
            f.cold_rss as f64 / 1024.0,
        );
    }
}
