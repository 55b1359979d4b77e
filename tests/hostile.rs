//! Hostile input: every case is generated here, and each ends in a clean build or a clear
//! error that names the file, in bounded time, never a panic, hang or crash. The cases are
//! listed in the README's security section.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use otasite::testkit::{IpaSpec, ProfileSpec, zip_with};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

/// What a case must end in.
enum Expect {
    /// Exit 0; stderr contains this (e.g. a warning naming the file), if not empty.
    Builds(&'static str),
    /// Exit 1; stderr contains every one of these.
    Fails(&'static [&'static str]),
}

/// Builds the site with a time limit and checks the outcome.
fn run(name: &str, site: &TestSite, expect: Expect) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_otasite"))
        .arg("build")
        .arg(site.root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{name}: the build took over 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{name} panicked:\n{err}"
    );
    assert!(
        status.code().is_some(),
        "{name}: killed by a signal (crash): {status}"
    );
    match expect {
        Expect::Builds(text) => {
            assert_eq!(status.code(), Some(0), "{name} should build:\n{err}");
            assert!(err.contains(text), "{name}: stderr lacks {text:?}:\n{err}");
        }
        Expect::Fails(texts) => {
            assert_eq!(status.code(), Some(1), "{name} should fail:\n{err}");
            for t in texts {
                assert!(err.contains(t), "{name}: stderr lacks {t:?}:\n{err}");
            }
        }
    }
}

fn site_with(files: &[(&str, Vec<u8>)]) -> TestSite {
    let site = TestSite::basic();
    for (path, bytes) in files {
        site.write(path, bytes);
    }
    site
}

fn plist_xml(body: &str) -> Vec<u8> {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>{body}</dict></plist>").into_bytes()
}

const BASIC_KEYS: &str = "<key>CFBundleIdentifier</key><string>com.h.x</string><key>CFBundleVersion</key><string>1</string>";

/// An IPA with exactly this Info.plist (and a signature, so only the plist is hostile).
fn ipa_with_plist(plist: &[u8]) -> Vec<u8> {
    zip_with(&[
        ("Payload/X.app/Info.plist", plist),
        ("Payload/X.app/_CodeSignature/CodeResources", b"x"),
    ])
}

/// Zip bytes (not zip64) for header patching.
fn plain_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Patches a little-endian u32 at `offset` of every header with `signature`.
fn patch_headers(bytes: &mut [u8], signature: u32, offset: usize, value: u32) {
    let sig = signature.to_le_bytes();
    let mut i = 0;
    while i + 4 <= bytes.len() {
        if bytes[i..i + 4] == sig && i + offset + 4 <= bytes.len() {
            bytes[i + offset..i + offset + 4].copy_from_slice(&value.to_le_bytes());
        }
        i += 1;
    }
}

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;

fn good(version: &str) -> Vec<u8> {
    IpaSpec::new("com.h.good", version, "1").to_bytes()
}

#[test]
fn archive_level_attacks() {
    // 1. Info.plist that inflates to 64 MiB.
    run(
        "zip bomb (honest size)",
        &site_with(&[("releases/Bomb.ipa", ipa_with_plist(&vec![b' '; 64 << 20]))]),
        Expect::Fails(&["Bomb.ipa", "MAX_INFO_PLIST_BYTES"]),
    );
    // 2. The same with headers claiming 100 bytes.
    let mut lying = plain_zip(&[("Payload/X.app/Info.plist", &vec![b' '; 64 << 20])]);
    patch_headers(&mut lying, LOCAL, 22, 100);
    patch_headers(&mut lying, CENTRAL, 24, 100);
    run(
        "zip bomb (lying size)",
        &site_with(&[("releases/Liar.ipa", lying)]),
        Expect::Fails(&["Liar.ipa"]),
    );
    // 3. Entry names with `..`.
    run(
        "dot-dot entry names",
        &site_with(&[(
            "releases/Dots.ipa",
            zip_with(&[("Payload/../../evil/Info.plist", &plist_xml(BASIC_KEYS))]),
        )]),
        Expect::Fails(&["Dots.ipa", "no app found"]),
    );
    // 4. Absolute entry names.
    run(
        "absolute entry names",
        &site_with(&[(
            "releases/Abs.ipa",
            zip_with(&[("/Payload/X.app/Info.plist", &plist_xml(BASIC_KEYS))]),
        )]),
        Expect::Fails(&["Abs.ipa"]),
    );
    // 5. Duplicate entries.
    // (zip writers refuse duplicates: write another name of the same length, then rename it)
    let mut dup = plain_zip(&[
        ("Payload/X.app/Info.plist", &plist_xml(BASIC_KEYS)),
        ("Payload/X.app/Info.plisu", b"garbage"),
    ]);
    while let Some(i) = dup.windows(10).position(|w| w == b"Info.plisu") {
        dup[i + 9] = b't';
    }
    run(
        "duplicate entries",
        &site_with(&[("releases/Dup.ipa", dup)]),
        Expect::Fails(&["Dup.ipa"]),
    );
    // 6. An encrypted Info.plist.
    let mut enc = plain_zip(&[("Payload/X.app/Info.plist", &plist_xml(BASIC_KEYS))]);
    let flags_local = enc
        .windows(4)
        .position(|w| w == LOCAL.to_le_bytes())
        .unwrap()
        + 6;
    enc[flags_local] |= 1;
    let flags_central = enc
        .windows(4)
        .position(|w| w == CENTRAL.to_le_bytes())
        .unwrap()
        + 8;
    enc[flags_central] |= 1;
    run(
        "encrypted entry",
        &site_with(&[("releases/Enc.ipa", enc)]),
        Expect::Fails(&["Enc.ipa"]),
    );
    // 7. Zip64 framing (every entry zip64): reads fine.
    let spec_plist = IpaSpec::new("com.h.zip64", "1.0", "1").info_plist();
    run(
        "zip64 framing",
        &site_with(&[(
            "releases/Z64.ipa",
            zip_with(&[
                ("Payload/X.app/Info.plist", &spec_plist),
                ("Payload/X.app/_CodeSignature/CodeResources", b"x"),
            ]),
        )]),
        Expect::Builds(""),
    );
    // 8. Data descriptors (streamed zip).
    let mut streamed = zip::ZipWriter::new_stream(Vec::new());
    streamed
        .start_file("Payload/X.app/Info.plist", SimpleFileOptions::default())
        .unwrap();
    streamed
        .write_all(&IpaSpec::new("com.h.stream", "1.0", "1").info_plist())
        .unwrap();
    let streamed = streamed.finish().unwrap().into_inner();
    run(
        "data descriptors",
        &site_with(&[("releases/Stream.ipa", streamed)]),
        Expect::Builds(""),
    );
    // 9. Truncated central directory.
    let whole = good("1.0");
    run(
        "truncated central directory",
        &site_with(&[("releases/Cut.ipa", whole[..whole.len() - 10].to_vec())]),
        Expect::Fails(&["Cut.ipa", "not a valid IPA"]),
    );
    // 10. Truncated in the middle.
    run(
        "truncated archive",
        &site_with(&[("releases/Half.ipa", whole[..whole.len() / 2].to_vec())]),
        Expect::Fails(&["Half.ipa"]),
    );
    // 11. Empty file. 12. Not a zip.
    run(
        "empty file",
        &site_with(&[("releases/Empty.ipa", Vec::new())]),
        Expect::Fails(&["Empty.ipa"]),
    );
    run(
        "text file",
        &site_with(&[("releases/Text.ipa", b"hello".to_vec())]),
        Expect::Fails(&["Text.ipa"]),
    );
    // 13. 20,000 entries.
    let names: Vec<String> = (0..20_000).map(|i| format!("Payload/X.app/f{i}")).collect();
    let mut many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    many.push(("Payload/X.app/Info.plist", &spec_plist));
    run(
        "20,000 entries",
        &site_with(&[("releases/Many.ipa", zip_with(&many))]),
        Expect::Builds(""),
    );
    // 14. The Info.plist is a directory entry.
    run(
        "Info.plist directory",
        &site_with(&[(
            "releases/Dir.ipa",
            zip_with(&[("Payload/X.app/Info.plist/", b"")]),
        )]),
        Expect::Fails(&["Dir.ipa"]),
    );
}

#[test]
fn file_system_attacks() {
    // 15. A .ipa that is a folder.
    let site = TestSite::basic();
    std::fs::create_dir_all(site.root().join("releases/Folder.ipa")).unwrap();
    run(
        "ipa is a folder",
        &site,
        Expect::Fails(&["Folder.ipa", "is a folder"]),
    );
    // 16. A .ipa that is a dangling symlink; 17. a symlink to a good IPA builds.
    let site = TestSite::basic();
    std::os::unix::fs::symlink(
        site.root().join("nowhere.ipa"),
        site.root().join("releases/Dangling.ipa"),
    )
    .unwrap();
    run(
        "dangling symlink",
        &site,
        Expect::Fails(&["Dangling.ipa", "No such file"]),
    );
    let site = TestSite::basic();
    site.write("elsewhere/Real.ipa", good("1.0"));
    std::os::unix::fs::symlink(
        site.root().join("elsewhere/Real.ipa"),
        site.root().join("releases/Link.ipa"),
    )
    .unwrap();
    run("symlink to an IPA", &site, Expect::Builds(""));
    // 18. A symlink loop in releases/.
    let site = TestSite::basic();
    std::fs::create_dir_all(site.root().join("releases/a")).unwrap();
    std::os::unix::fs::symlink(
        site.root().join("releases"),
        site.root().join("releases/a/loop"),
    )
    .unwrap();
    run("symlink loop", &site, Expect::Fails(&["loop"]));
    // 19. A notes image that links outside the notes folder.
    let site = site_with(&[
        ("releases/A.ipa", good("1.0")),
        ("releases/A.md", b"![x](secret.png)\n".to_vec()),
    ]);
    site.write(
        "outside/secret.png",
        otasite::icon::encode_png(&otasite::testkit::icon_image(4, [0, 0, 0])),
    );
    std::os::unix::fs::symlink(
        site.root().join("outside/secret.png"),
        site.root().join("releases/secret.png"),
    )
    .unwrap();
    run(
        "notes image symlink out",
        &site,
        Expect::Fails(&["A.md:1", "outside the notes folder"]),
    );
    // 20. static/ with a link to outside.
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    std::fs::create_dir_all(site.root().join("static")).unwrap();
    std::os::unix::fs::symlink("/etc", site.root().join("static/etc")).unwrap();
    run(
        "static symlink out",
        &site,
        Expect::Fails(&["static/etc", "outside static/"]),
    );
    // 21. Notes image with `..`.
    run(
        "notes image dot-dot",
        &site_with(&[
            ("releases/A.ipa", good("1.0")),
            ("releases/A.md", b"![x](../site.yaml)\n".to_vec()),
        ]),
        Expect::Fails(&["A.md:1", "next to the notes"]),
    );
    // 22. Odd file names (spaces, quotes, newline, non-ASCII).
    run(
        "odd file names",
        &site_with(&[("releases/We\"ird\nName Ü.ipa", good("1.0"))]),
        Expect::Builds(""),
    );
    // 23. Two IPAs with the same bundle id, version and build.
    run(
        "same release twice",
        &site_with(&[
            ("releases/a/A.ipa", good("1.0")),
            ("releases/b/A.ipa", good("1.0")),
        ]),
        Expect::Fails(&["same release"]),
    );
}

#[test]
fn plist_attacks() {
    // 24. Nested 100,000 levels deep (XML).
    let deep = plist_xml(&format!(
        "{BASIC_KEYS}<key>Deep</key>{}{}",
        "<array>".repeat(100_000),
        "</array>".repeat(100_000)
    ));
    run(
        "plist 100,000 deep",
        &site_with(&[("releases/Deep.ipa", ipa_with_plist(&deep))]),
        Expect::Fails(&["Deep.ipa", "MAX_PLIST_DEPTH"]),
    );
    // 25. Not a plist. 26. A plist that is not a dictionary. 27. JSON.
    run(
        "garbage plist",
        &site_with(&[("releases/G.ipa", ipa_with_plist(b"\x00\x01garbage"))]),
        Expect::Fails(&["G.ipa", "Info.plist"]),
    );
    run(
        "array plist",
        &site_with(&[(
            "releases/Arr.ipa",
            ipa_with_plist(b"<?xml version=\"1.0\"?><plist version=\"1.0\"><array/></plist>"),
        )]),
        Expect::Fails(&["Arr.ipa", "dictionary"]),
    );
    run(
        "json plist",
        &site_with(&[(
            "releases/J.ipa",
            ipa_with_plist(br#"{"CFBundleIdentifier":"x"}"#),
        )]),
        Expect::Fails(&["J.ipa"]),
    );
    // 28-33. Wrong types for every key read.
    for (n, body) in [
        (
            "id-int",
            "<key>CFBundleIdentifier</key><integer>1</integer>",
        ),
        (
            "version-array",
            "<key>CFBundleIdentifier</key><string>a</string><key>CFBundleShortVersionString</key><array/>",
        ),
        (
            "build-dict",
            "<key>CFBundleIdentifier</key><string>a</string><key>CFBundleVersion</key><dict/>",
        ),
        (
            "name-bool",
            &format!("{BASIC_KEYS}<key>CFBundleDisplayName</key><true/>"),
        ),
        (
            "minos-real",
            &format!("{BASIC_KEYS}<key>MinimumOSVersion</key><real>1.5</real>"),
        ),
        (
            "family-string",
            &format!("{BASIC_KEYS}<key>UIDeviceFamily</key><date>2020-01-01T00:00:00Z</date>"),
        ),
    ] {
        run(
            n,
            &site_with(&[("releases/Types.ipa", ipa_with_plist(&plist_xml(body)))]),
            Expect::Fails(&["Types.ipa", "must be"]),
        );
    }
    // 34. Icon keys of the wrong type are ignored (icons are optional).
    run(
        "icon keys wrong type",
        &site_with(&[(
            "releases/I.ipa",
            ipa_with_plist(&plist_xml(&format!(
                "{BASIC_KEYS}<key>CFBundleIcons</key><string>x</string><key>CFBundleIconFiles</key><integer>3</integer>"
            ))),
        )]),
        Expect::Builds(""),
    );
    // 35. A 10,000-character bundle id (it would become a folder name).
    let long = plist_xml(&format!(
        "<key>CFBundleIdentifier</key><string>{}</string><key>CFBundleVersion</key><string>1</string>",
        "a".repeat(10_000)
    ));
    run(
        "huge bundle id",
        &site_with(&[("releases/Long.ipa", ipa_with_plist(&long))]),
        Expect::Fails(&["Long.ipa", "MAX_IDENTIFIER_LEN"]),
    );
}

#[test]
fn icon_and_profile_attacks() {
    let with_entries = |extra: Vec<(&'static str, Vec<u8>)>| {
        let mut spec = IpaSpec::new("com.h.icon", "1.0", "1");
        spec.folder = "X".into();
        spec.icon = Some([1, 2, 3]);
        let mut entries: Vec<(&str, Vec<u8>)> = vec![
            ("Payload/X.app/Info.plist", spec.info_plist()),
            ("Payload/X.app/_CodeSignature/CodeResources", b"x".to_vec()),
        ];
        entries.extend(extra);
        let refs: Vec<(&str, &[u8])> = entries.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        zip_with(&refs)
    };
    // 36. A PNG header claiming 50,000 x 50,000 pixels.
    let mut huge = otasite::icon::encode_png(&otasite::testkit::icon_image(8, [9, 9, 9]));
    huge[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    run(
        "png decompression bomb",
        &site_with(&[(
            "releases/Png.ipa",
            with_entries(vec![("Payload/X.app/AppIcon60x60@2x.png", huge)]),
        )]),
        Expect::Builds("MAX_ICON_DIMENSION"),
    );
    // 37. An icon entry that inflates to 64 MiB.
    let mut big = otasite::icon::encode_png(&otasite::testkit::icon_image(8, [9, 9, 9]));
    big.extend(vec![0u8; 64 << 20]);
    run(
        "icon zip bomb",
        &site_with(&[(
            "releases/IconBomb.ipa",
            with_entries(vec![("Payload/X.app/AppIcon60x60@2x.png", big)]),
        )]),
        Expect::Builds("MAX_ICON_BYTES"),
    );
    // 38. A truncated crushed icon.
    let cgbi = otasite::icon::encode_cgbi(&otasite::testkit::icon_image(120, [9, 9, 9]), true);
    run(
        "truncated CgBI",
        &site_with(&[(
            "releases/Cut.ipa",
            with_entries(vec![(
                "Payload/X.app/AppIcon60x60@2x.png",
                cgbi[..cgbi.len() / 2].to_vec(),
            )]),
        )]),
        Expect::Builds("could not be decoded"),
    );
    // 39. Garbage and 40. truncated profiles.
    run(
        "garbage profile",
        &site_with(&[(
            "releases/P.ipa",
            with_entries(vec![(
                "Payload/X.app/embedded.mobileprovision",
                b"\x30\x82\xff\xffjunk".to_vec(),
            )]),
        )]),
        Expect::Builds("provisioning profile could not be read"),
    );
    let cms = ProfileSpec::ad_hoc(&["A"]).to_cms("com.h.icon");
    run(
        "truncated profile",
        &site_with(&[(
            "releases/T.ipa",
            with_entries(vec![(
                "Payload/X.app/embedded.mobileprovision",
                cms[..cms.len() - 20].to_vec(),
            )]),
        )]),
        Expect::Builds("provisioning profile could not be read"),
    );
    // 41. A profile whose plist nests 100,000 levels deep.
    let deep = format!(
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>D</key>{}{}</dict></plist>",
        "<array>".repeat(100_000),
        "</array>".repeat(100_000)
    );
    run(
        "deep profile",
        &site_with(&[(
            "releases/D.ipa",
            with_entries(vec![(
                "Payload/X.app/embedded.mobileprovision",
                deep.into_bytes(),
            )]),
        )]),
        Expect::Builds("MAX_PLIST_DEPTH"),
    );
}

#[test]
fn text_attacks() {
    let ipa = || ("releases/A.ipa", good("1.0"));
    // 42. Notes that are not UTF-8.
    run(
        "notes not UTF-8",
        &site_with(&[ipa(), ("releases/A.md", b"caf\xe9\n".to_vec())]),
        Expect::Fails(&["A.md", "UTF-8"]),
    );
    // 43. YAML alias bomb in site.yaml; 44. in front matter.
    let bomb = "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    let site = site_with(&[ipa()]);
    site.write(
        "site.yaml",
        format!("title: T\nbase_url: https://x.example/\n{bomb}"),
    );
    run("alias bomb site.yaml", &site, Expect::Fails(&["site.yaml"]));
    run(
        "alias bomb front matter",
        &site_with(&[
            ipa(),
            ("releases/A.md", format!("---\n{bomb}---\nx\n").into_bytes()),
        ]),
        Expect::Fails(&["A.md"]),
    );
    // 45. Notes over the size limit.
    run(
        "huge notes",
        &site_with(&[ipa(), ("releases/A.md", vec![b'a'; 5 << 20])]),
        Expect::Fails(&["A.md", "limit"]),
    );
    // 46. 100,000 nested block quotes and 47. lists nested 100 deep, 20,000 items.
    run(
        "nested quotes",
        &site_with(&[ipa(), ("releases/A.md", ">".repeat(100_000).into_bytes())]),
        Expect::Builds(""),
    );
    let lists: String = (0..20_000)
        .map(|i| format!("{}- x\n", "  ".repeat(i % 100)))
        .collect();
    run(
        "nested lists",
        &site_with(&[ipa(), ("releases/A.md", lists.into_bytes())]),
        Expect::Builds(""),
    );
    // 48. NUL and control characters in notes and names.
    run(
        "control characters",
        &site_with(&[
            ipa(),
            (
                "releases/A.md",
                b"---\ntitle: \"a\\u0000b\\u001b\"\n---\nx\x00y\x07z\n".to_vec(),
            ),
        ]),
        Expect::Builds(""),
    );
    // 49. An impossible date.
    run(
        "impossible date",
        &site_with(&[
            ipa(),
            ("releases/A.md", b"---\ndate: 2024-13-45\n---\n".to_vec()),
        ]),
        Expect::Fails(&["A.md:2", "not a date"]),
    );
    // 50. site.yaml over its limit.
    let site = site_with(&[ipa()]);
    site.write(
        "site.yaml",
        format!(
            "title: T\nbase_url: https://x.example/\n#{}\n",
            "x".repeat(2 << 20)
        ),
    );
    run(
        "huge site.yaml",
        &site,
        Expect::Fails(&["site.yaml", "limit"]),
    );
}

// ---- issue 17: notes, walk, remote, inspect ----

/// What a bounded run of the binary ended in.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Peak resident memory of the process, in MiB.
    peak_mib: u64,
}

/// Runs `otasite ARGS` with stdout going to `stdout` (piped when `None`), killed after 60 s;
/// panics on a panic, a crash or the time limit.
// The child is reaped by `wait4`, which clippy does not know of.
#[allow(clippy::zombie_processes)]
fn run_otasite(name: &str, args: &[&std::ffi::OsStr], stdout: Option<Stdio>) -> Ran {
    use std::os::unix::process::ExitStatusExt as _;
    let piped = stdout.is_none();
    let mut child = Command::new(env!("CARGO_BIN_EXE_otasite"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout.unwrap_or_else(Stdio::piped))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut text);
            }
            text
        })
    };
    let out = read(
        child
            .stdout
            .take()
            .filter(|_| piped)
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    let err = read(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    );
    // wait4 rather than try_wait: it also says how much memory the process took at most.
    let pid = child.id() as libc::pid_t;
    let deadline = Instant::now() + Duration::from_secs(60);
    let (status, usage) = loop {
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done == pid {
            break (std::process::ExitStatus::from_raw(status), usage);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name}: otasite took over 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{name} panicked:\n{stderr}"
    );
    assert!(
        status.code().is_some(),
        "{name}: killed by a signal (crash): {status}"
    );
    Ran {
        code: status.code(),
        stdout,
        stderr,
        peak_mib: usage.ru_maxrss as u64 / 1024,
    }
}

fn mkfifo(path: &std::path::Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

#[test]
fn many_identical_headings_take_linear_time() {
    // 30,000 empty headings all want the anchor `section` (60 KB of notes).
    let site = site_with(&[
        ("releases/A.ipa", good("1.0")),
        ("releases/A.md", "#\n".repeat(30_000).into_bytes()),
    ]);
    let start = Instant::now();
    run("identical headings", &site, Expect::Builds(""));
    let html =
        std::fs::read_to_string(site.public().join("apps/com.h.good/1.0-1/index.html")).unwrap();
    assert!(
        html.contains("id=\"section-30000\"") && !html.contains("id=\"section-30001\""),
        "the last heading's anchor"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "identical headings took {:?}",
        start.elapsed()
    );
}

/// `levels` folders under `releases/`, each linking twice (`l1`, `l2`) to the next: 2^levels
/// paths to the last one, which holds an IPA.
fn diamonds(site: &TestSite, under: &str, levels: usize) {
    for i in 0..=levels {
        std::fs::create_dir_all(site.root().join(format!("{under}/d{i:02}"))).unwrap();
    }
    for i in 0..levels {
        for link in ["l1", "l2"] {
            std::os::unix::fs::symlink(
                format!("../d{:02}", i + 1),
                site.root().join(format!("{under}/d{i:02}/{link}")),
            )
            .unwrap();
        }
    }
}

#[test]
fn symlink_diamonds_are_walked_once() {
    // 20 levels, 40 links: 2^20 paths to the IPA, which is one release under its real path.
    let site = TestSite::basic();
    diamonds(&site, "releases", 20);
    site.write("releases/d20/A.ipa", good("1.0"));
    site.write("releases/d20/A.md", "Real notes\n");
    run("symlink diamonds", &site, Expect::Builds(""));
    let json = std::fs::read_to_string(site.public().join("releases.json")).unwrap();
    assert_eq!(json.matches("\"ipa_sha256\"").count(), 1, "{json}");
    // Up to date on the second build (the inputs' digest walks the same graph).
    run("symlink diamonds, again", &site, Expect::Builds(""));
    // Folders reached only through links (outside the releases folder) are read once too.
    let site = TestSite::basic();
    diamonds(&site, "elsewhere", 20);
    site.write("elsewhere/d20/A.ipa", good("1.0"));
    std::os::unix::fs::symlink("../elsewhere/d00", site.root().join("releases/in")).unwrap();
    run("symlink diamonds outside", &site, Expect::Builds(""));
    // static/ is copied path by path: a second path to a folder is refused, not copied twice.
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    diamonds(&site, "static", 20);
    site.write("static/d20/x.txt", "x");
    run(
        "symlink diamonds in static/",
        &site,
        Expect::Fails(&["static/d", "already copied"]),
    );
}

/// A plain-http server on 127.0.0.1 answering every GET with `body` sent as gzip.
fn gzip_server(body: Vec<u8>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") {
                    match std::io::Read::read(&mut stream, &mut byte) {
                        Ok(1) => request.push(byte[0]),
                        _ => return,
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Encoding: gzip\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                if request.starts_with(b"GET") {
                    let _ = stream.write_all(&body);
                }
            });
        }
    });
    port
}

#[test]
fn remote_gzip_bomb_is_bounded_after_decompression() {
    // 256 MiB of zeros in 256 KB of gzip: under the limit on the wire, far over it inflated.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let port = gzip_server(bomb);
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    site.build_ok(&[]);
    let url = format!("http://127.0.0.1:{port}/");
    let ran = run_otasite(
        "remote gzip bomb",
        &[
            "check".as_ref(),
            site.root().as_os_str(),
            "--remote".as_ref(),
            url.as_ref(),
            "--json".as_ref(),
        ],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    let report: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
    let found: Vec<&serde_json::Value> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "remote-too-large")
        .collect();
    assert!(!found.is_empty(), "{report:#}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("MAX_REMOTE_BODY_BYTES"),
        "{report:#}"
    );
    assert!(ran.peak_mib < 200, "check took {} MiB", ran.peak_mib);
}

/// Notes of just under `bytes` made of one-letter table cells (the costliest shape to parse:
/// a parser node per byte, HTML five times the text).
fn table_notes(bytes: usize) -> Vec<u8> {
    let row = format!("{}|\n", "|a".repeat(500));
    let mut md = format!("{}|\n{}|\n", "|h".repeat(500), "|-".repeat(500));
    while md.len() + row.len() < bytes {
        md.push_str(&row);
    }
    md.into_bytes()
}

#[test]
fn notes_memory_is_bounded_for_the_whole_build() {
    let site_with_notes = |n: usize, notes: &[u8]| {
        let site = TestSite::basic();
        for i in 1..=n {
            site.write(&format!("releases/{i}/A.ipa"), good(&format!("{i}.0")));
            site.write(&format!("releases/{i}/notes.md"), notes);
        }
        site
    };
    let build = |name: &str, site: &TestSite| {
        run_otasite(name, &["build".as_ref(), site.root().as_os_str()], None)
    };
    // Four releases with 1 MiB of table notes each: parsed a budget at a time and streamed to
    // HTML, whatever the number of cores.
    let ran = build("table notes", &site_with_notes(4, &table_notes(1 << 20)));
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(
        ran.peak_mib < 400,
        "the build took {} MiB for 4 MiB of notes",
        ran.peak_mib
    );
    // More notes than a build may hold: refused before any is parsed.
    let ran = build(
        "too much notes text",
        &site_with_notes(5, &"Fixed a bug.\n".repeat(140_000).into_bytes()),
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    for text in ["MAX_NOTES_TOTAL_BYTES", "releases/1/notes.md", "shorten"] {
        assert!(ran.stderr.contains(text), "{text}: {}", ran.stderr);
    }
    assert!(ran.peak_mib < 100, "{} MiB", ran.peak_mib);
    // Notes whose HTML is five times their text: bounded by what the pages repeat.
    let ran = build(
        "too much notes HTML",
        &site_with_notes(7, &table_notes(1 << 20)),
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("MAX_NOTES_HTML_BYTES"),
        "{}",
        ran.stderr
    );
}

#[test]
fn fifos_are_errors_not_hangs() {
    let arg = |s: &'static str| -> &'static std::ffi::OsStr { s.as_ref() };
    // A FIFO named x.ipa, a FIFO notes file, a FIFO site.yaml: build and check name the file.
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    mkfifo(&site.root().join("releases/x.ipa"));
    run(
        "fifo ipa",
        &site,
        Expect::Fails(&["x.ipa", "not a regular file"]),
    );
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    mkfifo(&site.root().join("releases/A.md"));
    run(
        "fifo notes",
        &site,
        Expect::Fails(&["A.md", "not a regular file"]),
    );
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    std::fs::remove_file(site.root().join("site.yaml")).unwrap();
    mkfifo(&site.root().join("site.yaml"));
    run(
        "fifo site.yaml",
        &site,
        Expect::Fails(&["site.yaml", "not a regular file"]),
    );
    let ran = run_otasite(
        "check with a fifo site.yaml",
        &[arg("check"), site.root().as_os_str()],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.stderr.contains("site.yaml"), "{}", ran.stderr);

    // inspect on a FIFO, whatever its extension.
    let dir = tempfile::tempdir().unwrap();
    for name in ["x.ipa", "x.mobileprovision"] {
        let fifo = dir.path().join(name);
        mkfifo(&fifo);
        let ran = run_otasite("inspect fifo", &[arg("inspect"), fifo.as_os_str()], None);
        assert_eq!(ran.code, Some(1), "{}", ran.stderr);
        assert!(
            ran.stderr.contains(name) && ran.stderr.contains("not a regular file"),
            "{}",
            ran.stderr
        );
    }

    // Output into a closed pipe (`| head -c0`): a quiet end, not a panic (exit 101).
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    let ipa = site.root().join("releases/A.ipa");
    site.build_ok(&[]);
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Some(Stdio::from(writer))
    };
    for args in [
        vec![arg("inspect"), ipa.as_os_str()],
        vec![arg("inspect"), ipa.as_os_str(), arg("--json")],
        vec![arg("build"), site.root().as_os_str(), arg("--json")],
        vec![arg("check"), site.root().as_os_str()],
        vec![arg("check"), site.root().as_os_str(), arg("--json")],
    ] {
        // The exit status is what the work decided, as when stdout is read.
        let open = run_otasite("open stdout", &args, None);
        let ran = run_otasite("closed stdout", &args, closed());
        assert!(!open.stdout.is_empty(), "{args:?} prints nothing");
        assert_eq!(ran.code, open.code, "{args:?}: {}", ran.stderr);
    }
}
