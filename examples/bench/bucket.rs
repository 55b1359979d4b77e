//! `--bucket`: building from a bucket of releases. A real S3 server (s3s-fs, SigV4 on) on
//! 127.0.0.1 with a fresh root, a counting proxy of our own in front of it, and a bucket of
//! the same releases as the local site, so the two builds are measured side by side.
//!
//! The bucket is filled by writing straight into s3s-fs's root what `otasite publish` would
//! leave there: the object (hard-linked from the pool), and beside it at the root
//! `.bucket-<b64>.object-<b64>.metadata.json` (content type, cache control, the SHA-256 in the
//! user metadata) and `.internal.json` (the ETag: the MD5, or for a multipart upload the MD5
//! of the 8 MiB parts' MD5s and their count). Before that, two releases are published with
//! `otasite publish` itself (one single-part, one multipart when the sizes have one) and what
//! it left is compared with what the harness would write: a difference stops the run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use md5::{Digest as _, Md5};
use otasite::testkit::s3proxy::{CountingProxy, Seen, s3s_fs_sidecar_stem};
use rayon::prelude::*;
use sha2::Sha256;

use crate::{Args, Bin, Run, add_release, clean, floor, ipas_of, make_site, median, ms, spec};

const BUCKET: &str = "rel";
const PREFIX: &str = "releases";
const ACCESS_KEY: &str = "otasite-bench-key";
const SECRET_KEY: &str = "otasite-bench-secret-0123456789";
/// As `otasite publish` uploads: one PUT up to 16 MiB, 8 MiB parts above.
const MULTIPART_OVER: u64 = 16 << 20;
const PART_BYTES: usize = 8 << 20;
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const IPA_TYPE: &str = "application/octet-stream";
const NOTES_TYPE: &str = "text/markdown; charset=utf-8";

/// s3s-fs, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `S3S_FS`, else `.test-tools/s3s/bin/s3s-fs` (scripts/install-test-tools builds it).
pub fn s3s_fs() -> Option<PathBuf> {
    let path = std::env::var_os("S3S_FS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(".test-tools/s3s/bin/s3s-fs"),
        PathBuf::from,
    );
    path.is_file().then_some(path)
}

fn start_server(root: &Path, log: &Path) -> Server {
    let bin = s3s_fs().expect("s3s-fs is needed for --bucket: run scripts/install-test-tools");
    let port = free_port();
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new(bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(root)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let server = Server { child, port };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "s3s-fs did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

/// What a client of the server at `port` needs in its environment (and no other AWS_ setting).
fn client(bin: &Bin, port: u16) -> Command {
    let mut cmd = Command::new(&bin.0);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ALLOW_HTTP", "true");
    cmd
}

/// An object's SHA-256 and the ETag its upload by `otasite publish` gets from S3.
#[derive(Clone)]
struct Hashes {
    sha256: String,
    etag: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn hashes_of(mut r: impl Read, size: u64) -> Hashes {
    let (mut sha, mut whole, mut part, mut parts) =
        (Sha256::new(), Md5::new(), Md5::new(), Vec::new());
    let mut buf = vec![0u8; PART_BYTES];
    loop {
        // One part at a time: `read` may return less.
        let mut filled = 0;
        while filled < buf.len() {
            match r.read(&mut buf[filled..]).unwrap() {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            break;
        }
        sha.update(&buf[..filled]);
        whole.update(&buf[..filled]);
        part.update(&buf[..filled]);
        parts.extend_from_slice(&std::mem::take(&mut part).finalize());
        if filled < buf.len() {
            break;
        }
    }
    let etag = if size <= MULTIPART_OVER {
        hex(&whole.finalize())
    } else {
        format!("{}-{}", hex(&Md5::digest(&parts)), parts.len() / 16)
    };
    Hashes {
        sha256: hex(&sha.finalize()),
        etag,
    }
}

/// Pool slot `i`'s hashes, kept beside it (the pool is made again, and these with it, when
/// its parameters change).
fn pool_hashes(pool: &Path, i: usize) -> Hashes {
    let ipa = pool.join(format!("{i}.ipa"));
    let kept = pool.join(format!("{i}.ipa.hashes"));
    if let Some((sha256, etag)) = std::fs::read_to_string(&kept)
        .ok()
        .and_then(|s| s.trim().split_once(' ').map(|(a, b)| (a.into(), b.into())))
    {
        return Hashes { sha256, etag };
    }
    let size = std::fs::metadata(&ipa).unwrap().len();
    let h = hashes_of(std::fs::File::open(&ipa).unwrap(), size);
    std::fs::write(&kept, format!("{} {}\n", h.sha256, h.etag)).unwrap();
    h
}

/// The two files s3s-fs keeps at its root for `key`: attributes, and internal (the ETag).
fn sidecars(root: &Path, key: &str) -> [PathBuf; 2] {
    let stem = s3s_fs_sidecar_stem(BUCKET, key);
    [
        root.join(format!("{stem}.metadata.json")),
        root.join(format!("{stem}.internal.json")),
    ]
}

fn sidecar_texts(h: &Hashes, content_type: &str) -> [String; 2] {
    [
        serde_json::json!({
            "user_metadata": { "sha256": h.sha256 },
            "content_type": content_type,
            "cache_control": IMMUTABLE,
        })
        .to_string(),
        serde_json::json!({ "e_tag": h.etag }).to_string(),
    ]
}

/// Places `key` as `otasite publish` would leave it: the bytes (a hard link of `from`, or
/// `text`), and its two sidecars.
fn place(root: &Path, key: &str, from: Result<&Path, &str>, h: &Hashes, content_type: &str) {
    let path = root.join(BUCKET).join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    match from {
        Ok(src) => {
            if std::fs::hard_link(src, &path).is_err() {
                std::fs::copy(src, &path).unwrap();
            }
        }
        Err(text) => std::fs::write(&path, text).unwrap(),
    }
    for (file, text) in sidecars(root, key)
        .iter()
        .zip(sidecar_texts(h, content_type))
    {
        std::fs::write(file, text).unwrap();
    }
}

fn release_keys(args: &Args, i: usize) -> (String, String) {
    let (_, rel) = spec(i, args);
    let dir = format!("{PREFIX}/{}", rel.display());
    (format!("{dir}/App.ipa"), format!("{dir}/App.md"))
}

/// Publishes release `i` with `otasite publish`, straight to the server (not counted).
fn publish(args: &Args, bin: &Bin, pool: &Path, port: u16, i: usize, scratch: &Path) {
    let dir = scratch.join(format!("publish-{i}"));
    std::fs::create_dir_all(&dir).unwrap();
    let ipa = dir.join("App.ipa");
    let notes = dir.join("notes.md");
    let _ = std::fs::remove_file(&ipa);
    std::fs::hard_link(pool.join(format!("{i}.ipa")), &ipa).unwrap();
    std::fs::write(&notes, crate::notes_text(i)).unwrap();
    let (key, _) = release_keys(args, i);
    let folder = key.trim_end_matches("App.ipa");
    crate::run(
        client(bin, port)
            .arg("publish")
            .arg(&ipa)
            .arg("--notes")
            .arg(&notes)
            .args(["--to", &format!("s3://{BUCKET}/{folder}")]),
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Removes release `i`'s objects from the root (as a delete would).
fn unplace(args: &Args, root: &Path, i: usize) {
    let (ipa, notes) = release_keys(args, i);
    for key in [&ipa, &notes] {
        std::fs::remove_file(root.join(BUCKET).join(key)).unwrap();
        for f in sidecars(root, key) {
            let _ = std::fs::remove_file(f);
        }
    }
    let dir = root.join(BUCKET).join(ipa.trim_end_matches("/App.ipa"));
    let _ = std::fs::remove_dir(&dir);
}

/// Publishes a few releases with `otasite publish` and checks that what it left at the root
/// is what [`place`] writes; then places every other release of `0..n`.
fn fill(args: &Args, bin: &Bin, pool: &Path, server: &Server, root: &Path, n: usize) {
    let start = Instant::now();
    let size = |i: usize| {
        std::fs::metadata(pool.join(format!("{i}.ipa")))
            .unwrap()
            .len()
    };
    let mut checked = vec![1.min(n - 1)];
    if let Some(big) = (1..n).find(|&i| size(i) > MULTIPART_OVER) {
        checked.push(big);
    }
    let hashes: Vec<Hashes> = (0..n)
        .into_par_iter()
        .map(|i| pool_hashes(pool, i))
        .collect();
    for &i in &checked {
        publish(args, bin, pool, server.port, i, root.parent().unwrap());
        let (ipa, notes) = release_keys(args, i);
        let text = crate::notes_text(i);
        let notes_hashes = hashes_of(text.as_bytes(), text.len() as u64);
        for (key, h, ty) in [
            (&ipa, &hashes[i], IPA_TYPE),
            (&notes, &notes_hashes, NOTES_TYPE),
        ] {
            for (file, ours) in sidecars(root, key).iter().zip(sidecar_texts(h, ty)) {
                let theirs = std::fs::read_to_string(file)
                    .unwrap_or_else(|e| panic!("publish left no {}: {e}", file.display()));
                let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
                assert_eq!(
                    parse(&theirs),
                    parse(&ours),
                    "{}: otasite publish left {theirs}, the harness would write {ours}",
                    file.display()
                );
            }
        }
    }
    (0..n)
        .into_par_iter()
        .filter(|i| !checked.contains(i))
        .for_each(|i| {
            let (ipa, notes) = release_keys(args, i);
            let text = crate::notes_text(i);
            place(
                root,
                &ipa,
                Ok(&pool.join(format!("{i}.ipa"))),
                &hashes[i],
                IPA_TYPE,
            );
            let h = hashes_of(text.as_bytes(), text.len() as u64);
            place(root, &notes, Err(&text), &h, NOTES_TYPE);
        });
    eprintln!(
        "bucket of {n} releases filled in {:.1} s ({} published with otasite publish)",
        start.elapsed().as_secs_f64(),
        checked.len()
    );
}

/// The requests of one build, sorted out.
#[derive(Default)]
struct Wire {
    requests: usize,
    listings: usize,
    listing_seconds: f64,
    /// Per IPA key: requests and answer bytes.
    ipas: BTreeMap<String, (usize, u64)>,
    /// Requests for other objects (notes).
    other: usize,
    whole_reads: usize,
}

fn wire(seen: &[Seen]) -> Wire {
    let mut w = Wire {
        requests: seen.len(),
        ..Wire::default()
    };
    for s in seen {
        let path = s.target.split('?').next().unwrap_or_default();
        if s.target.contains("list-type=2") {
            w.listings += 1;
            w.listing_seconds += (s.done - s.sent).as_secs_f64();
        } else if path.to_ascii_lowercase().ends_with(".ipa") {
            let e = w.ipas.entry(path.to_string()).or_default();
            e.0 += 1;
            e.1 += s.answer_bytes;
            if s.method == "GET" && s.range.is_none() {
                w.whole_reads += 1;
            }
        } else {
            w.other += 1;
        }
    }
    w
}

#[derive(Default)]
pub struct BucketFigures {
    releases: usize,
    ipa_bytes: u64,
    local_cold: f64,
    bucket_cold: f64,
    /// Bytes the local cold build read (read(2) and friends), per IPA.
    local_read_per_ipa: f64,
    cold_requests: f64,
    cold_listings: f64,
    listing_seconds: f64,
    cold_other: f64,
    per_ipa_requests_median: f64,
    per_ipa_requests_max: usize,
    per_ipa_bytes_median: f64,
    per_ipa_bytes_max: u64,
    large: (usize, u64),
    large_size: u64,
    cold_wire_bytes: f64,
    local_warm: f64,
    bucket_warm: f64,
    warm_requests: (usize, usize),
    local_new: f64,
    bucket_new: f64,
    /// Listing, the new IPA's, other requests; the new IPA's bytes (medians).
    new_requests: (f64, f64, f64),
    new_ipa_bytes: f64,
}

fn build(cmd: &mut Command, site: &Path) -> (Run, serde_json::Value) {
    let r = crate::run(cmd.arg("build").arg(site).arg("--json"));
    let report = serde_json::from_str(&r.stdout).unwrap();
    (r, report)
}

pub fn measure(args: &Args, bin: &Bin, pool: &Path, n: usize) -> BucketFigures {
    let local = make_site(args, pool, n);
    let ipas = ipas_of(&local);
    let root = args.dir.join(format!("s3-{n}/root"));
    let _ = std::fs::remove_dir_all(root.parent().unwrap());
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let server = start_server(&root, &root.parent().unwrap().join("s3s-fs.log"));
    let proxy = CountingProxy::start(server.port);
    fill(args, bin, pool, &server, &root, n);
    let site = args.dir.join(format!("s3-{n}/site"));
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("site.yaml"),
        format!(
            "title: Bench\nbase_url: https://bench.example.com/\nhosting: [netlify, nginx]\n\
             releases_dir: s3://{BUCKET}/{PREFIX}/\nipa_base_url: https://cdn.bench.example.com/{PREFIX}/\n"
        ),
    )
    .unwrap();
    // Every IPA in the page cache, for the local build and the server alike.
    floor(&ipas, crate::FLOORS[0].1);
    let mut f = BucketFigures {
        releases: n,
        ipa_bytes: ipas
            .iter()
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum(),
        ..BucketFigures::default()
    };
    let large_key = format!("/{BUCKET}/{}", release_keys(args, 0).0);
    f.large_size = std::fs::metadata(pool.join("0.ipa")).unwrap().len();

    // Cold builds, the two interleaved run by run.
    let (mut lc, mut bc, mut read, mut reqs, mut lists, mut list_s, mut other, mut wire_bytes) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let (mut req_med, mut bytes_med) = (vec![], vec![]);
    for _ in 0..args.runs {
        clean(&local);
        let r = bin.build(&local, &[]);
        lc.push(r.seconds);
        read.push(r.read_bytes as f64 / n as f64);
        clean(&site);
        proxy.take();
        let (r, report) = build(&mut client(bin, proxy.port), &site);
        let seen = proxy.take();
        bc.push(r.seconds);
        let w = wire(&seen);
        assert_eq!(w.ipas.len(), n, "every IPA read: {report}");
        assert_eq!(w.whole_reads, 0, "an IPA was read whole");
        reqs.push(w.requests as f64);
        lists.push(w.listings as f64);
        list_s.push(w.listing_seconds);
        other.push(w.other as f64);
        wire_bytes.push(seen.iter().map(|s| s.answer_bytes).sum::<u64>() as f64);
        let counts: Vec<f64> = w.ipas.values().map(|v| v.0 as f64).collect();
        let bytes: Vec<f64> = w.ipas.values().map(|v| v.1 as f64).collect();
        req_med.push(median(counts));
        bytes_med.push(median(bytes));
        for (key, &(r, b)) in &w.ipas {
            f.per_ipa_requests_max = f.per_ipa_requests_max.max(r);
            f.per_ipa_bytes_max = f.per_ipa_bytes_max.max(b);
            if *key == large_key {
                f.large = (r, b);
            }
        }
    }
    f.local_cold = median(lc);
    f.bucket_cold = median(bc);
    f.local_read_per_ipa = median(read);
    f.cold_requests = median(reqs);
    f.cold_listings = median(lists);
    f.listing_seconds = median(list_s);
    f.cold_other = median(other);
    f.cold_wire_bytes = median(wire_bytes);
    f.per_ipa_requests_median = median(req_med);
    f.per_ipa_bytes_median = median(bytes_med);

    // Warm rebuilds: nothing changed.
    let (mut lw, mut bw) = (vec![], vec![]);
    f.warm_requests = (usize::MAX, 0);
    for _ in 0..args.runs {
        lw.push(bin.build(&local, &[]).seconds);
        let (r, report) = build(&mut client(bin, proxy.port), &site);
        assert_eq!(report["up_to_date"], true, "{report}");
        let n = proxy.take().len();
        f.warm_requests = (f.warm_requests.0.min(n), f.warm_requests.1.max(n));
        bw.push(r.seconds);
    }
    f.local_warm = median(lw);
    f.bucket_warm = median(bw);

    // One new release: added to the folder, or published to the bucket with `otasite publish`.
    let (mut ln, mut bn, mut nl, mut ni, mut no, mut nb) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for r in 0..args.runs {
        let dir = add_release(args, pool, &local, n + r);
        ln.push(bin.build(&local, &[]).seconds);
        std::fs::remove_dir_all(&dir).unwrap();
        bin.build(&local, &[]);

        publish(args, bin, pool, server.port, n + r, root.parent().unwrap());
        proxy.take();
        let (run, report) = build(&mut client(bin, proxy.port), &site);
        assert_eq!(report["up_to_date"], false, "{report}");
        let w = wire(&proxy.take());
        assert_eq!(w.ipas.len(), 1, "only the new IPA is read");
        bn.push(run.seconds);
        nl.push(w.listings as f64);
        let (count, bytes) = w.ipas.values().next().copied().unwrap_or_default();
        ni.push(count as f64);
        nb.push(bytes as f64);
        no.push(w.other as f64);
        unplace(args, &root, n + r);
        build(&mut client(bin, proxy.port), &site);
        proxy.take();
    }
    f.local_new = median(ln);
    f.bucket_new = median(bn);
    f.new_requests = (median(nl), median(ni), median(no));
    f.new_ipa_bytes = median(nb);
    drop(server);
    f
}

fn kb(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} KB", b / 1e3)
    }
}

pub fn table(md: &mut String, all: &[BucketFigures], runs: usize) {
    for f in all {
        let _ = writeln!(
            md,
            "\n{} releases ({:.1} GB of IPAs; {:.1} MB on average), local folder against the \
             same releases in a bucket (s3s-fs on 127.0.0.1, through the counting proxy):\n",
            f.releases,
            f.ipa_bytes as f64 / 1e9,
            f.ipa_bytes as f64 / f.releases as f64 / 1e6
        );
        let _ = writeln!(md, "| {} releases | local folder | bucket |", f.releases);
        let _ = writeln!(md, "|---|---:|---:|");
        let row = |md: &mut String, what: &str, local: String, bucket: String| {
            let _ = writeln!(md, "| {what} | {local} | {bucket} |");
        };
        row(
            md,
            "cold build (no `.otasite/`)",
            ms(f.local_cold),
            format!(
                "{} ({:.2}x local)",
                ms(f.bucket_cold),
                f.bucket_cold / f.local_cold
            ),
        );
        row(
            md,
            "bytes read per IPA (median / max)",
            format!("{} (every byte: the SHA-256)", kb(f.local_read_per_ipa)),
            format!(
                "{} / {}",
                kb(f.per_ipa_bytes_median),
                kb(f.per_ipa_bytes_max as f64)
            ),
        );
        row(
            md,
            "requests per IPA (median / max)",
            "-".into(),
            format!("{} / {}", f.per_ipa_requests_median, f.per_ipa_requests_max),
        );
        row(
            md,
            &format!("the large IPA ({})", kb(f.large_size as f64)),
            "every byte".into(),
            format!("{} requests, {}", f.large.0, kb(f.large.1 as f64)),
        );
        row(
            md,
            "cold: requests in all (listing pages, IPAs, notes)",
            "-".into(),
            format!(
                "{} ({}, {}, {}); listing {}; {} at the wire",
                f.cold_requests,
                f.cold_listings,
                f.cold_requests - f.cold_listings - f.cold_other,
                f.cold_other,
                ms(f.listing_seconds),
                kb(f.cold_wire_bytes)
            ),
        );
        row(
            md,
            "warm rebuild, nothing changed",
            ms(f.local_warm),
            format!(
                "{}; {} requests",
                ms(f.bucket_warm),
                if f.warm_requests.0 == f.warm_requests.1 {
                    f.warm_requests.0.to_string()
                } else {
                    format!("{}–{}", f.warm_requests.0, f.warm_requests.1)
                }
            ),
        );
        row(
            md,
            "after one new release (published)",
            ms(f.local_new),
            format!(
                "{}; {} requests: {} listing, {} for the IPA ({}), {} notes",
                ms(f.bucket_new),
                f.new_requests.0 + f.new_requests.1 + f.new_requests.2,
                f.new_requests.0,
                f.new_requests.1,
                kb(f.new_ipa_bytes),
                f.new_requests.2
            ),
        );
    }
    let _ = writeln!(
        md,
        "\nMedians of {runs} runs (the maximums are over every IPA of every run)."
    );
}
