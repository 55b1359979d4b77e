//! Micro-benchmarks of the steps a build repeats per IPA and per page: `cargo bench`.
//! Whole builds, with the comparisons, are in examples/bench.rs (`scripts/bench`).

use std::hint::black_box;
use std::io::Cursor;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use otasite::BuildOptions;
use otasite::testkit::Caches;
use otasite::testkit::icon::{decode_png, encode_cgbi, encode_png, resize};
use otasite::testkit::ipa::{ReadOptions, hash_reader, read_ipa_from};
use otasite::testkit::{IpaSpec, ProfileSpec, icon_image};
use otasite::testkit::{load_site_with, render_in_memory};

fn realistic_ipa() -> Vec<u8> {
    IpaSpec {
        icon: Some([30, 120, 200]),
        profile: Some(ProfileSpec::ad_hoc(&["00008030-000A1B2C3D4E5F60"])),
        resources: 1500,
        executable_bytes: 1 << 20,
        store_executable: true,
        ..IpaSpec::new("com.bench.micro", "1.0", "1").name("Micro")
    }
    .to_bytes()
}

fn ipa(c: &mut Criterion) {
    let bytes = realistic_ipa();
    let path = Path::new("micro.ipa");
    c.bench_function(
        "read_ipa: 1,500 entries, crushed icon, CMS profile (no hash)",
        |b| {
            b.iter(|| {
                let ipa = read_ipa_from(Cursor::new(&bytes), path, ReadOptions { hash: false });
                black_box(ipa.expect("reads"))
            })
        },
    );
    let mut group = c.benchmark_group("sha256");
    let data = vec![7u8; 8 << 20];
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("hash_reader 8 MiB", |b| {
        b.iter(|| black_box(hash_reader(&mut Cursor::new(&data)).expect("hashes")))
    });
    group.finish();
}

fn icons(c: &mut Criterion) {
    let image = icon_image(180, [200, 60, 40]);
    let crushed = encode_cgbi(&image, true);
    c.bench_function("decode a 180 px interlaced CgBI icon", |b| {
        b.iter(|| black_box(decode_png(&crushed).expect("decodes")))
    });
    c.bench_function("icon files: resize to 57 and 512 px and encode", |b| {
        b.iter(|| {
            black_box(encode_png(&resize(&image, 57, 57)));
            black_box(encode_png(&resize(&image, 512, 512)))
        })
    });
}

fn render(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("site.yaml"),
        "title: Micro\nbase_url: https://micro.example.com/\n",
    )
    .expect("site.yaml");
    for i in 0..100 {
        let (app, n) = (i % 10, i / 10);
        let spec = IpaSpec {
            icon: Some([(app * 40) as u8, 90, 160]),
            profile: Some(ProfileSpec::ad_hoc(&["00008030-000A1B2C3D4E5F60"])),
            ..IpaSpec::new(
                &format!("com.micro.app{app}"),
                &format!("1.{n}"),
                &format!("{n}"),
            )
        };
        let rel = dir.path().join(format!("releases/app{app}/{n}"));
        std::fs::create_dir_all(&rel).expect("folder");
        std::fs::write(rel.join("App.ipa"), spec.to_bytes()).expect("ipa");
        std::fs::write(
            rel.join("notes.md"),
            format!("## Build {i}\n\n- Fixed *this*.\n"),
        )
        .expect("notes");
    }
    let opts = BuildOptions {
        site_dir: dir.path().to_path_buf(),
        ..BuildOptions::default()
    };
    let caches = Caches::default();
    let site = load_site_with(&opts, &caches).expect("loads");
    // The first render fills the in-memory icon and QR caches, as in a dev-server session.
    render_in_memory(&site, dir.path(), &caches).expect("renders");
    c.bench_function(
        "render a 100-release site (icons and QR codes cached)",
        |b| b.iter(|| black_box(render_in_memory(&site, dir.path(), &caches).expect("renders"))),
    );
    c.bench_function("load a 100-release site (IPAs and notes cached)", |b| {
        b.iter(|| black_box(load_site_with(&opts, &caches).expect("loads")))
    });
}

criterion_group!(benches, ipa, icons, render);
criterion_main!(benches);
