//! Hostile input: every case is generated here, and each ends in a clean build or a clear
//! error that names the file, in bounded time, never a panic, hang or crash. The cases are
//! listed in the README's security section.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common;
use crate::common::*;
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
        otasite::testkit::icon::encode_png(&otasite::testkit::icon_image(4, [0, 0, 0])),
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
    let mut huge = otasite::testkit::icon::encode_png(&otasite::testkit::icon_image(8, [9, 9, 9]));
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
    let mut big = otasite::testkit::icon::encode_png(&otasite::testkit::icon_image(8, [9, 9, 9]));
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
    let cgbi =
        otasite::testkit::icon::encode_cgbi(&otasite::testkit::icon_image(120, [9, 9, 9]), true);
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

// ---- issue 17: sources, cache and output (findings 1, 2, 3, 5, 12, 13, 14, 15) ----

/// SHA-256 of every file under `dir`, to prove a build left it byte for byte as it was.
fn sources_of(site: &TestSite) -> std::collections::BTreeMap<std::path::PathBuf, String> {
    snapshot(&site.root().join("releases"))
}

/// Every output file (links included, never followed) holds none of `secret`.
fn assert_output_free_of(site: &TestSite, secret: &str) {
    for entry in walkdir::WalkDir::new(site.public()) {
        let entry = entry.unwrap();
        assert!(
            !entry.path_is_symlink(),
            "{}: a link in the output",
            entry.path().display()
        );
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "{} holds the planted text",
                entry.path().display()
            );
        }
    }
}

#[test]
fn releases_sharing_a_folder_never_touch_the_sources() {
    // 51. Builds `1/2`, `2` and `1-2` of one version: the first and third slug to one folder
    // without sorting next to each other. 52. The realistic `1.0 (45)`, `1.0.46`, `1.0-45`.
    for builds in [["1/2", "2", "1-2"], ["1.0 (45)", "1.0.46", "1.0-45"]] {
        let site = TestSite::basic();
        for (folder, build) in ["a", "b", "c"].iter().zip(builds) {
            site.add_ipa(
                &format!("releases/{folder}/App.ipa"),
                &IpaSpec::new("com.h.same", "1.0", build),
            );
        }
        let before = sources_of(&site);
        run(
            &format!("builds {builds:?}"),
            &site,
            Expect::Fails(&["a/App.ipa", "c/App.ipa", "would share the output folder"]),
        );
        assert_eq!(sources_of(&site), before, "{builds:?}: a source changed");
        assert!(!site.public().exists());
    }
}

#[test]
fn channels_that_collide_are_errors_naming_both() {
    // 53. Channels `Beta` and `beta`.
    let site = site_with(&[
        ("releases/1/A.ipa", good("1.0")),
        ("releases/1/A.md", b"---\nchannel: Beta\n---\n".to_vec()),
        ("releases/2/A.ipa", good("2.0")),
        ("releases/2/A.md", b"---\nchannel: beta\n---\n".to_vec()),
    ]);
    run(
        "channels Beta and beta",
        &site,
        Expect::Fails(&[
            "\"Beta\"",
            "\"beta\"",
            "1/A.md",
            "2/A.md",
            "rename the channel",
        ]),
    );
    // 54. A channel named like a file otasite writes.
    for name in ["feed.xml", "latest", "index.html"] {
        let site = site_with(&[
            ("releases/A.ipa", good("1.0")),
            (
                "releases/A.md",
                format!("---\nchannel: {name}\n---\n").into_bytes(),
            ),
        ]);
        run(
            &format!("channel {name}"),
            &site,
            Expect::Fails(Box::leak(Box::new(["A.md", name, "rename the channel"]))),
        );
    }
}

#[test]
fn names_too_long_for_a_file_system_name_the_ipa_and_limit() {
    // 55. A version and a build within their 200-character limits: a 401-byte folder name.
    let long = "9".repeat(200);
    let site = TestSite::basic();
    site.add_ipa(
        "releases/Long.ipa",
        &IpaSpec::new("com.h.long", &long, &long),
    );
    run(
        "401-byte folder name",
        &site,
        Expect::Fails(&["Long.ipa", "MAX_FILE_NAME_BYTES"]),
    );
    // 56. A 200-character version with a long app name still builds (the name is cut).
    let site = TestSite::basic();
    site.add_ipa(
        "releases/Name.ipa",
        &IpaSpec::new("com.h.name", &long, "1").name(&"N".repeat(200)),
    );
    run("long name and version", &site, Expect::Builds(""));
}

#[test]
fn planted_cache_files_never_reach_the_output() {
    let secret = "PLANTED-SECRET-7f3a";
    let site = TestSite::basic();
    site.add_ipa(
        "releases/A.ipa",
        &IpaSpec {
            icon: Some([200, 40, 40]),
            ..IpaSpec::new("com.h.icon", "1.0", "1")
        },
    );
    site.write("outside/secret.txt", secret);
    site.build_ok(&[]);
    let cache = site.root().join(".otasite/cache");
    let planted_icons = |how: &dyn Fn(&std::path::Path)| {
        let mut n = 0;
        for entry in std::fs::read_dir(cache.join("icons")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::remove_file(&path).unwrap();
            how(&path);
            n += 1;
        }
        assert_eq!(n, 3, "three icon files were cached");
        let _ = std::fs::remove_file(site.root().join(".otasite/build.json"));
    };
    // 57. Icon files replaced by links to another file (the secret_file, say).
    let secret_path = site.root().join("outside/secret.txt");
    planted_icons(&|p| std::os::unix::fs::symlink(&secret_path, p).unwrap());
    for args in [&[][..], &["--no-cache"][..]] {
        site.build_ok(args);
        assert_output_free_of(&site, secret);
        planted_icons(&|p| std::os::unix::fs::symlink(&secret_path, p).unwrap());
    }
    // 58. Icon files replaced by regular files that are not the PNGs otasite made.
    planted_icons(&|p| std::fs::write(p, secret).unwrap());
    site.build_ok(&[]);
    assert_output_free_of(&site, secret);
    let icon = std::fs::read(site.public().join("apps/com.h.icon/1.0-1/icon-512.png")).unwrap();
    let header = otasite::testkit::icon::check_png(&icon).unwrap();
    assert_eq!((header.width, header.height), (512, 512));

    // 59. Cached QR codes replaced by markup: nothing of it is inlined into pages.
    let qr = cache.join("qr");
    let planted = std::fs::read_dir(&qr).unwrap().count();
    assert!(planted > 0, "QR codes were cached");
    for entry in std::fs::read_dir(&qr).unwrap() {
        let path = entry.unwrap().path();
        std::fs::write(
            &path,
            format!("29 M4 4h1v1h-1z\"/><script>{secret}</script><path d=\"M0 0"),
        )
        .unwrap();
    }
    let _ = std::fs::remove_file(site.root().join(".otasite/build.json"));
    site.build_ok(&[]);
    assert_output_free_of(&site, secret);
    let page = site.read("apps/com.h.icon/1.0-1/index.html");
    assert!(
        page.contains("<svg class=\"qr\""),
        "the QR code is still shown"
    );

    // 60. The cache folder itself a link into the releases: the cache is not used, and
    // nothing is written into the sources.
    std::fs::remove_dir_all(site.root().join(".otasite")).unwrap();
    std::os::unix::fs::symlink(site.root().join("releases"), site.root().join(".otasite")).unwrap();
    let before = sources_of(&site);
    site.build_ok(&[]);
    assert_eq!(sources_of(&site), before, "the build wrote into releases/");
}

#[test]
fn a_planted_link_in_the_previous_output_is_not_carried_over() {
    // 61. A page of the previous output replaced by a link to a file with the same bytes.
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    site.build_ok(&[]);
    let page = site.public().join("index.html");
    let copy = site.root().join("outside/index.html");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&page, &copy).unwrap();
    std::fs::remove_file(&page).unwrap();
    std::os::unix::fs::symlink(&copy, &page).unwrap();
    site.write("releases/A.md", "New notes\n");
    site.build_ok(&[]);
    assert!(!site.public().join("index.html").is_symlink());
    assert_output_free_of(&site, "\u{0}never");
}

#[test]
fn output_and_server_folders_never_overlap_the_sources() {
    // 62. The output folder a link into releases/.
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    std::os::unix::fs::symlink(site.root().join("releases"), site.root().join("public")).unwrap();
    let before = sources_of(&site);
    run(
        "output links into releases",
        &site,
        Expect::Fails(&["public", "overlaps", "releases"]),
    );
    assert_eq!(sources_of(&site), before);
    // 63. The server configuration folder inside releases/.
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    site.write(
        "site.yaml",
        format!(
            "title: T\nbase_url: {BASE_URL}\nserver_config_dir: releases/conf\nhosting: [nginx]\n"
        ),
    );
    run(
        "server config in releases",
        &site,
        Expect::Fails(&["server_config_dir", "releases"]),
    );
    assert!(!site.root().join("releases/conf").exists());
}

#[test]
fn a_server_config_file_otasite_did_not_write_is_left_alone() {
    // 64. `--server-config-dir /etc/caddy`: the user's own Caddyfile and nginx.conf.
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    site.build_ok(&[]);
    let before = snapshot(&site.public());
    let server = site.root().join("etc-caddy");
    std::fs::create_dir_all(&server).unwrap();
    let mine = "example.com {\n  file_server\n}\n";
    std::fs::write(server.join("Caddyfile"), mine).unwrap();
    site.write("releases/A.md", "changed\n");
    let out = site.build(&["--server-config-dir", server.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Caddyfile") && err.contains("not written by otasite"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(server.join("Caddyfile")).unwrap(),
        mine
    );
    assert!(
        !server.join("nginx.conf").exists(),
        "nothing written before the refusal"
    );
    assert_eq!(
        snapshot(&site.public()),
        before,
        "the previous site is untouched"
    );
    // Its own files otasite replaces as before.
    std::fs::remove_file(server.join("Caddyfile")).unwrap();
    site.build_ok(&["--server-config-dir", server.to_str().unwrap()]);
    site.build_ok(&[
        "--server-config-dir",
        server.to_str().unwrap(),
        "--no-cache",
    ]);
    assert!(
        std::fs::read_to_string(server.join("Caddyfile"))
            .unwrap()
            .contains("written by otasite")
    );
}

#[test]
fn a_hash_is_published_only_for_bytes_that_stayed_put() {
    // 65. An IPA rewritten while it is hashed: never a manifest with a hash of no version.
    let site = TestSite::basic();
    let spec = IpaSpec {
        executable_bytes: 48 << 20,
        store_executable: true,
        ..IpaSpec::new("com.h.moving", "1.0", "1")
    };
    let path = site.add_ipa("releases/Moving.ipa", &spec);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, path) = (stop.clone(), path.clone());
        std::thread::spawn(move || {
            use std::io::{Seek, SeekFrom};
            let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            let mut i: u64 = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Inside the stored executable: the archive stays readable, its bytes change.
                f.seek(SeekFrom::Start((1 << 20) + (i * 4099) % (40 << 20)))
                    .unwrap();
                f.write_all(&[i as u8]).unwrap();
                i += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let out = site.build(&[]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Moving.ipa") && err.contains("changed while it was being read"),
        "{err}"
    );
    assert!(!site.public().exists());
    // Left alone, it builds, with the hash of what is published.
    site.build_ok(&[]);
    let json: serde_json::Value = serde_json::from_str(&site.read("releases.json")).unwrap();
    let published = &json["apps"][0]["releases"][0]["ipa_sha256"];
    assert_eq!(
        published.as_str().unwrap(),
        hex(&sha2_digest(&std::fs::read(&path).unwrap()))
    );
}

fn sha2_digest(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

#[test]
fn text_xml_forbids_never_reaches_a_manifest() {
    // 66. U+FFFE in CFBundleName; 67. control characters in the folder-name fallback.
    let site = TestSite::basic();
    site.add_ipa(
        "releases/A.ipa",
        &IpaSpec {
            bundle_name: Some("Acme\u{FFFE}Beta\u{1}".into()),
            ..IpaSpec::new("com.h.fffe", "1.0\u{FFFF}", "1")
        },
    );
    site.add_ipa(
        "releases/B.ipa",
        &IpaSpec {
            bundle_name: None,
            folder: "Ctl\u{7}\u{1b}Name".into(),
            ..IpaSpec::new("com.h.ctl", "1.0", "1")
        },
    );
    site.build_ok(&[]);
    for manifest in files_ending(&site.public(), ".plist") {
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(
            text.chars().all(|c| matches!(c, '\t' | '\n' | '\r')
                || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')),
            "{}: {text:?}",
            manifest.display()
        );
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        roxmltree::Document::parse_with_options(&text, options)
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    }
    let check = otasite().arg("check").arg(site.root()).output().unwrap();
    let out = String::from_utf8_lossy(&check.stdout).into_owned() + &stderr(&check);
    assert!(!out.contains("manifest-invalid"), "{out}");
    // 68. check notices such a manifest (made by hand or by an older otasite).
    let manifest = site.public().join("apps/com.h.ctl/1.0-1/manifest.plist");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("<string>", "<string>\u{FFFE}", 1)).unwrap();
    let check = otasite().arg("check").arg(site.root()).output().unwrap();
    let out = String::from_utf8_lossy(&check.stdout).into_owned() + &stderr(&check);
    assert_eq!(check.status.code(), Some(1), "{out}");
    assert!(
        out.contains("manifest-invalid") && out.contains("U+FFFE"),
        "{out}"
    );
}

// ---- serve hardening (issue 17: 4, 9, 10) ----
//
// `otasite serve` against hostile clients and a hostile folder: source files swapped for links
// after a build, a request line with no end, idle connections, no thread to spare.

use std::io::Read as _;
use std::net::TcpStream;

use crate::common::servers::{Server, is_root, make_world_readable};

/// A running `otasite serve` (stopped when dropped).
struct Serving {
    _server: Server,
    pid: u32,
    port: u16,
    _bin: Option<tempfile::TempDir>,
}

/// How to run the server: as root, or as `uid` with at most `nproc` threads and processes
/// for that user (RLIMIT_NPROC; root is exempt from it, hence the other user).
struct RunAs {
    uid: u32,
    nproc: u64,
}

fn serve_site(site: &TestSite, run_as: Option<RunAs>) -> Serving {
    serve_site_with(site, run_as, &[])
}

/// `serve_site` with more command-line arguments.
fn serve_site_with(site: &TestSite, run_as: Option<RunAs>, extra: &[&str]) -> Serving {
    use std::os::unix::process::CommandExt as _;
    let log = site.root().with_extension("serve.log");
    let mut bin_dir = None;
    let mut cmd = match &run_as {
        None => Command::new(env!("CARGO_BIN_EXE_otasite")),
        Some(_) => {
            // The other user may not reach the build folder: run a copy it can read.
            let dir = tempfile::tempdir().unwrap();
            let bin = dir.path().join("otasite");
            std::fs::copy(env!("CARGO_BIN_EXE_otasite"), &bin).unwrap();
            make_world_readable(dir.path());
            std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
            make_world_readable(site.root());
            let cmd = Command::new(&bin);
            bin_dir = Some(dir);
            cmd
        }
    };
    cmd.arg("serve")
        .arg(site.root())
        .args(["-p", "0"])
        .args(extra);
    if let Some(RunAs { uid, nproc }) = run_as {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: nproc,
                    rlim_max: nproc,
                };
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(uid) != 0
                    || libc::setuid(uid) != 0
                    || libc::setrlimit(libc::RLIMIT_NPROC, &limit) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let server = common::servers::spawn(&mut cmd, &log);
    let pid = server.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(rest) = text.split("Serving at http://127.0.0.1:").nth(1) {
            let port = rest.split('/').next().unwrap().parse().unwrap();
            return Serving {
                _server: server,
                pid,
                port,
                _bin: bin_dir,
            };
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "otasite serve did not start:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// One request with a deadline: the status and body, or `None` when there is no answer.
fn try_get(port: u16, path: &str, within: Duration) -> Option<(u16, Vec<u8>)> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, within).ok()?;
    stream.set_read_timeout(Some(within)).ok()?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = String::from_utf8_lossy(&raw[..split])
        .split(' ')
        .nth(1)?
        .parse()
        .ok()?;
    Some((status, raw[split + 4..].to_vec()))
}

/// Polls until `path` answers as `pred` wants (15 s).
fn wait_until(port: u16, path: &str, what: &str, pred: impl Fn(u16, &[u8]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Some((status, body)) = try_get(port, path, Duration::from_secs(5))
            && pred(status, &body)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what} at {path}");
}

/// A peak memory figure of a process, in KiB (`VmHWM`, `VmRSS`, ...).
fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn serve_test_site() -> TestSite {
    let site = TestSite::basic();
    site.add_ipa(
        "releases/1/App.ipa",
        &spec("com.serve.hostile", "1.0", "1").name("Hostile"),
    );
    site.write("static/hello.txt", "hello from static\n");
    site.write("static/docs/readme.txt", "read me\n");
    site.write("static/edit.txt", "before\n");
    site
}

const IPA_URL: &str = "/apps/com.serve.hostile/1.0-1/hostile-1.0.ipa";

/// Finding 4: after a failed rebuild the last good build is served; its source files swapped
/// for links to a secret outside the site (or a folder swapped for one) must not leak it.
#[test]
fn serve_never_follows_sources_swapped_after_the_build() {
    let site = serve_test_site();
    let outside = tempfile::tempdir().unwrap();
    let secret_text = "TOP-SECRET-outside-the-site";
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, secret_text).unwrap();
    std::fs::create_dir_all(outside.path().join("docs")).unwrap();
    std::fs::write(outside.path().join("docs/readme.txt"), secret_text).unwrap();

    let serving = serve_site(&site, None);
    let port = serving.port;
    wait_until(port, "/hello.txt", "the static file", |s, b| {
        s == 200 && b == b"hello from static\n"
    });
    wait_until(port, IPA_URL, "the IPA", |s, b| {
        s == 200 && b.starts_with(b"PK")
    });

    // The next build fails: the last good one goes on being served.
    site.write("site.yaml", "title: [unclosed\n");
    wait_until(port, "/", "the error overlay", |s, b| {
        s == 200 && String::from_utf8_lossy(b).contains("The last edit does not build")
    });

    let swap = |rel: &str, target: &std::path::Path| {
        let path = site.root().join(rel);
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
        std::os::unix::fs::symlink(target, &path).unwrap();
    };
    swap("static/hello.txt", &secret);
    swap("releases/1/App.ipa", &secret);
    swap("static/docs", &outside.path().join("docs"));
    // And one edited in place (a regular file, not a link): not the bytes that were built.
    std::fs::remove_file(site.root().join("static/edit.txt")).unwrap();
    site.write("static/edit.txt", "after, and longer\n");

    for path in ["/hello.txt", IPA_URL, "/docs/readme.txt", "/edit.txt"] {
        for _ in 0..3 {
            let (status, body) = try_get(port, path, Duration::from_secs(10))
                .unwrap_or_else(|| panic!("no answer for {path}"));
            let text = String::from_utf8_lossy(&body);
            assert!(!text.contains(secret_text), "{path} leaked the secret");
            assert!(
                matches!(status, 404 | 503),
                "{path}: {status} for a file changed since the build: {text:.200}"
            );
            if path == "/edit.txt" {
                assert_eq!(status, 503, "{path}");
                assert!(text.contains("changed since the build"), "{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // The pages of the last good build are still served.
    wait_until(
        port,
        "/apps/com.serve.hostile/1.0-1/",
        "the page",
        |s, _| s == 200,
    );
}

/// Finding 9: a 160 MiB request line without a newline is refused early; the server's peak
/// memory stays small and it answers the next request. (Large growing buffers are moved with
/// mremap, not copied, so an unbounded reader peaks at about the line's size: hence more than
/// the 100 MB asserted.)
#[test]
fn serve_bounds_the_request_line() {
    let site = serve_test_site();
    let serving = serve_site(&site, None);
    let port = serving.port;
    wait_until(port, "/hello.txt", "the site", |s, _| s == 200);

    let sender = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let chunk = vec![b'A'; 1 << 20];
        let _ = stream.write_all(b"GET /");
        let mut sent = 0usize;
        for _ in 0..160 {
            if stream.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len();
        }
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        (sent, answer)
    });
    let (sent, answer) = sender.join().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).unwrap_or_default().to_string();
    assert!(
        answer.is_empty() || status == "400" || status == "431" || status == "414",
        "after {sent} bytes: {answer:.200}"
    );
    let peak_kib = memory_kib(serving.pid, "VmHWM");
    assert!(
        peak_kib < 100 * 1024,
        "serve peaked at {} MiB after a {} MiB request line",
        peak_kib / 1024,
        sent >> 20
    );
    let (status, body) = try_get(port, "/hello.txt", Duration::from_secs(5)).expect("an answer");
    assert_eq!(
        (status, body.as_slice()),
        (200, &b"hello from static\n"[..])
    );
}

/// Findings 9 and 10: 300 connections that send nothing, against a server that may not start
/// another thread: a normal request is still answered within seconds.
#[test]
fn serve_answers_beside_idle_connections_without_new_threads() {
    let site = serve_test_site();
    // Room for the threads serve starts with, not for one per connection.
    let run_as = is_root().then_some(RunAs {
        uid: 64_101,
        nproc: 48,
    });
    if run_as.is_none() {
        eprintln!("SKIP (thread limit part): needs root to run serve as another user");
    }
    let serving = serve_site(&site, run_as);
    let port = serving.port;
    wait_until(port, "/hello.txt", "the site", |s, _| s == 200);

    let idle: Vec<TcpStream> = (0..300)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    let start = Instant::now();
    let answer = try_get(port, "/hello.txt", Duration::from_secs(5));
    assert_eq!(
        answer,
        Some((200, b"hello from static\n".to_vec())),
        "no answer beside {} idle connections after {:?}",
        idle.len(),
        start.elapsed()
    );
    drop(idle);
    let (status, _) = try_get(port, IPA_URL, Duration::from_secs(5)).expect("an answer");
    assert_eq!(status, 200);
}

/// Finding 10: with the user's thread limit reached by other processes, serve still answers.
#[test]
fn serve_answers_at_the_thread_limit() {
    if !is_root() {
        eprintln!("SKIP: needs root to run serve as another user under a thread limit");
        return;
    }
    const UID: u32 = 64_102;
    const LIMIT: u64 = 48;
    let site = serve_test_site();
    let serving = serve_site(
        &site,
        Some(RunAs {
            uid: UID,
            nproc: LIMIT,
        }),
    );
    let port = serving.port;
    wait_until(port, "/hello.txt", "the site", |s, _| s == 200);
    // Processes of the same user fill its limit: no new thread can start for the server.
    let fillers = Fillers(
        (0..LIMIT)
            .map(|_| {
                use std::os::unix::process::CommandExt as _;
                Command::new("sleep")
                    .arg("60")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .uid(UID)
                    .gid(UID)
                    .spawn()
                    .expect("start a filler process")
            })
            .collect(),
    );
    for path in ["/hello.txt", IPA_URL, "/", "/nope"] {
        let answer = try_get(port, path, Duration::from_secs(5));
        assert!(answer.is_some(), "no answer for {path} at the thread limit");
    }
    drop(fillers);
}

/// Processes stopped when dropped (all signalled first, then all waited for).
struct Fillers(Vec<std::process::Child>);

impl Drop for Fillers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

// ---- attack round: serve ----
//
// A web page on another origin, a hostile client and a broken site against `otasite serve`.

/// One raw request (`text` is sent as is): the status, the headers (names lower-cased) and the
/// body; the connection is closed by the request's `Connection: close`.
fn raw_request(port: u16, text: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer to {text:?}: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// DNS rebinding: a page on evil.com makes its name resolve to 127.0.0.1 and reads the served
/// site as same-origin; its requests say `Host: evil.com`. Those are refused; IP addresses,
/// localhost and the `-u` tunnel's name are answered.
#[test]
fn serve_refuses_host_names_a_page_could_rebind() {
    let site = serve_test_site();
    let serving = serve_site_with(&site, None, &["-u", "https://tunnel.example.com/beta/"]);
    let port = serving.port;
    wait_until(port, "/hello.txt", "the site", |s, _| s == 200);
    let get = |target: &str, host: &str| {
        raw_request(
            port,
            &format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
    };
    for (target, host) in [
        ("/hello.txt", format!("evil.com:{port}")),
        ("/hello.txt", "evil.com".to_string()),
        ("/hello.txt", format!("localhost.evil.com:{port}")),
        (IPA_URL, format!("evil.com:{port}")),
        ("/__otasite/poll?since=0", format!("evil.com:{port}")),
        // An absolute target names the host too, whatever the Host header says.
        ("http://evil.com/hello.txt", format!("127.0.0.1:{port}")),
    ] {
        let (status, _, body) = get(target, &host);
        assert_eq!(status, 403, "{target} with Host {host}");
        assert!(
            !String::from_utf8_lossy(&body).contains("hello from static"),
            "{target} with Host {host}"
        );
    }
    // Two Host headers, one of them foreign.
    let (status, _, _) = raw_request(
        port,
        "GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 403);
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "tunnel.example.com".to_string(),
        "TUNNEL.example.com:443".to_string(),
    ] {
        let (status, _, body) = get("/hello.txt", &host);
        assert_eq!(
            (status, body.as_slice()),
            (200, &b"hello from static\n"[..]),
            "{host}"
        );
    }
    // No Host at all (HTTP/1.0): no browser page sends that.
    let (status, _, _) = raw_request(port, "GET /hello.txt HTTP/1.0\r\n\r\n");
    assert_eq!(status, 200);
}

/// `GET //apps/x` named a folder, and its redirect said `Location: //apps/x/`: a browser
/// reads that as the address `http://apps/x/`, on another host.
#[test]
fn serve_folder_redirects_stay_on_this_host() {
    let site = serve_test_site();
    let serving = serve_site(&site, None);
    let port = serving.port;
    wait_until(port, "/hello.txt", "the site", |s, _| s == 200);
    for target in [
        "/apps/com.serve.hostile",
        "//apps/com.serve.hostile",
        "///apps//com.serve.hostile",
        "/apps%2fcom.serve.hostile",
        "//apps/com.serve.hostile?next=//evil.com",
    ] {
        let (status, headers, _) = raw_request(
            port,
            &format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(status, 301, "{target}");
        assert_eq!(
            header(&headers, "location"),
            Some("/apps/com.serve.hostile/"),
            "{target}"
        );
    }
}

/// Range headers otasite does not serve (another unit, several ranges) were refused with 416,
/// and a Range with an If-Range was honoured though this server gives out no validator the
/// client could hold: a resumed download could be stitched from two different files.
#[test]
fn serve_ranges_it_cannot_honour_get_the_whole_file() {
    let site = serve_test_site();
    let serving = serve_site(&site, None);
    let port = serving.port;
    wait_until(port, "/hello.txt", "the site", |s, _| s == 200);
    let whole = b"hello from static\n";
    let many = format!("bytes={}", vec!["0-0"; 1000].join(","));
    let cases: [(&str, &str); 5] = [
        ("Range: items=0-1", ""),
        ("Range: bytes=0-0,1-1", ""),
        ("Range: ", many.as_str()),
        ("Range: bytes=2-4\r\nIf-Range: \"some-etag\"", ""),
        (
            "Range: bytes=2-4\r\nIf-Range: Wed, 21 Oct 2015 07:28:00 GMT",
            "",
        ),
    ];
    for (headers, more) in cases {
        for method in ["GET", "HEAD"] {
            let (status, got, body) = raw_request(
                port,
                &format!(
                    "{method} /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}{more}\r\n\
                     Connection: close\r\n\r\n"
                ),
            );
            assert_eq!(status, 200, "{method} {headers:.60}");
            assert_eq!(header(&got, "content-length"), Some("18"), "{headers:.60}");
            assert_eq!(header(&got, "content-range"), None, "{headers:.60}");
            let expect: &[u8] = if method == "GET" { whole } else { b"" };
            assert_eq!(body, expect, "{method} {headers:.60}");
        }
    }
    // What it does serve still works, and a range past the end is still a 416.
    let (status, got, body) = raw_request(
        port,
        "GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-4\r\nConnection: close\r\n\r\n",
    );
    assert_eq!((status, body.as_slice()), (206, &b"hello"[..]));
    assert_eq!(header(&got, "content-range"), Some("bytes 0-4/18"));
    let (status, got, _) = raw_request(
        port,
        "GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=18-\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 416);
    assert_eq!(header(&got, "content-range"), Some("bytes */18"));
}

/// When the very first build fails there is no page to lay the error over: every request got a
/// bare "not found", without the error and without live reload, so fixing site.yaml showed
/// nothing until a manual reload.
#[test]
fn serve_shows_a_first_build_error_and_reloads_on_the_fix() {
    let site = serve_test_site();
    let good = std::fs::read_to_string(site.root().join("site.yaml")).unwrap();
    site.write("site.yaml", "title: [unclosed <script>alert(1)</script>\n");
    let serving = serve_site(&site, None);
    let port = serving.port;
    let (status, body) = try_get(port, "/", Duration::from_secs(5)).expect("an answer");
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 503);
    assert!(text.contains("The site does not build yet"), "{text}");
    assert!(text.contains("site.yaml"), "{text}");
    assert!(text.contains("/__otasite/poll?since="), "{text}");
    assert!(
        !text.contains("<script>alert"),
        "the error is escaped: {text}"
    );
    site.write("site.yaml", good);
    wait_until(port, "/", "the fixed site", |s, _| s == 200);
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
// The child is reaped by `waitpid`, which clippy does not know of.
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
    // The peak is the kernel's high-water mark of the process's own memory (VmHWM), sampled
    // until it exits. Not wait4's ru_maxrss: the child is spawned sharing the test process's
    // memory (vfork), and Linux keeps that high-water mark across exec, so a test process
    // grown by another test would be counted.
    let pid = child.id() as libc::pid_t;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(hwm) = vm_hwm_kib(pid) {
            peak_kib = peak_kib.max(hwm);
        }
        let mut status = 0;
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            break std::process::ExitStatus::from_raw(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name}: otasite took over 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
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
        peak_mib: peak_kib / 1024,
    }
}

/// The high-water mark of a running process's resident memory, in KiB.
fn vm_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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

// ---- attack round: cache, output, sources ----

/// The inode of every regular file under `dir` (links not followed).
fn inodes_under(dir: &std::path::Path) -> std::collections::HashSet<u64> {
    use std::os::unix::fs::MetadataExt as _;
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().ino())
        .collect()
}

#[test]
fn theme_and_notes_files_linking_out_never_reach_the_pages() {
    let secret = "OUTSIDE-SECRET-4b1e";
    let yaml = format!("title: T\nbase_url: {BASE_URL}\ntheme: x\n");
    // A theme stylesheet, template or strings file that is a link to a file elsewhere: its
    // text would be inlined into every page.
    for (file, what) in [
        ("style.css", "stylesheet"),
        ("templates/footer.html", "template"),
        ("i18n/en.yaml", "strings file"),
    ] {
        let site = site_with(&[("releases/A.ipa", good("1.0"))]);
        site.write("site.yaml", &yaml);
        let outside = site.write("outside/secret.txt", format!("/* {secret} */\n"));
        let path = site.root().join("themes/x").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&outside, &path).unwrap();
        run(
            &format!("theme {file} linking out"),
            &site,
            Expect::Fails(Box::leak(Box::new([
                file,
                what,
                "outside",
                "copy the file in",
            ]))),
        );
        assert!(!site.public().exists());
    }
    // A link within the theme folder is fine.
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    site.write("site.yaml", &yaml);
    site.write("themes/x/css/main.css", "body { color: #123456; }\n");
    std::os::unix::fs::symlink("css/main.css", site.root().join("themes/x/style.css")).unwrap();
    run("theme link inside", &site, Expect::Builds(""));
    assert!(site.read("index.html").contains("#123456"));
    // Notes that are a link to a file elsewhere (a secret beside site.yaml, say).
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    let outside = site.write(".secret", secret);
    std::os::unix::fs::symlink(&outside, site.root().join("releases/A.md")).unwrap();
    run(
        "notes linking out",
        &site,
        Expect::Fails(&["A.md", "outside", "copy the notes file in"]),
    );
    assert!(!site.public().exists());
}

#[test]
fn the_secret_file_is_read_bounded_and_never_from_a_published_folder() {
    let private = |secret_file: &str| {
        let site = site_with(&[
            ("releases/A.ipa", good("1.0")),
            ("releases/A.md", b"---\nprivate: true\n---\n".to_vec()),
        ]);
        site.write(
            "site.yaml",
            format!("title: T\nbase_url: {BASE_URL}\nsecret_file: {secret_file}\n"),
        );
        site
    };
    // A FIFO would block the build for ever, `/dev/zero` would fill the memory.
    let site = private("fifo");
    let fifo = std::ffi::CString::new(site.root().join("fifo").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    run(
        "secret file a FIFO",
        &site,
        Expect::Fails(&["fifo", "not a regular file"]),
    );
    let site = private("/dev/zero");
    run(
        "secret file /dev/zero",
        &site,
        Expect::Fails(&["/dev/zero", "not a regular file"]),
    );
    // In static/ (copied to the site as is), directly or through a link.
    let site = private("static/secret.txt");
    site.write("static/secret.txt", "0123456789abcdef0123456789abcdef");
    run(
        "secret file in static/",
        &site,
        Expect::Fails(&["secret.txt", "static", "published"]),
    );
    assert!(!site.public().exists());
    let site = private("conf/secret.txt");
    site.write("static/secret.txt", "0123456789abcdef0123456789abcdef");
    std::os::unix::fs::symlink(site.root().join("static"), site.root().join("conf")).unwrap();
    run(
        "secret file linked into static/",
        &site,
        Expect::Fails(&["secret.txt", "static", "published"]),
    );
}

#[test]
fn a_new_secret_file_is_noticed_from_any_working_directory() {
    // The secret is named relative to the site folder; the build runs from another folder.
    let site = site_with(&[
        ("releases/A.ipa", good("1.0")),
        ("releases/A.md", b"---\nprivate: true\n---\n".to_vec()),
        (
            "conf/secret.txt",
            b"0123456789abcdef0123456789abcdef".to_vec(),
        ),
    ]);
    site.write(
        "site.yaml",
        format!("title: T\nbase_url: {BASE_URL}\nsecret_file: conf/secret.txt\n"),
    );
    let private_dirs = |site: &TestSite| -> Vec<String> {
        std::fs::read_dir(site.public().join("p"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    site.build_ok(&[]);
    let before = private_dirs(&site);
    // A leaked secret rotated: the old private address must stop working.
    site.write("conf/secret.txt", "fedcba9876543210fedcba9876543210-new");
    let out = site.build_ok(&[]);
    assert!(
        !stderr(&out).contains("Up to date")
            && !String::from_utf8_lossy(&out.stdout).contains("Up to date"),
        "the build did not notice the new secret"
    );
    let after = private_dirs(&site);
    assert_eq!(after.len(), 1);
    assert_ne!(
        after, before,
        "the private address is still the old secret's"
    );
}

#[test]
fn a_linked_cache_folder_is_never_written_or_removed_through() {
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    let other = site.root().join("other-project/.otasite");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("build.json"), "theirs").unwrap();
    std::os::unix::fs::symlink(&other, site.root().join(".otasite")).unwrap();
    for args in [&[][..], &["--no-cache"][..]] {
        site.build_ok(args);
        assert_eq!(
            std::fs::read_to_string(other.join("build.json")).unwrap(),
            "theirs",
            "a file behind the linked .otasite was removed or replaced"
        );
        assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);
    }
}

#[test]
fn a_previous_output_reaching_elsewhere_is_not_carried_over() {
    use std::os::unix::fs::MetadataExt as _;
    // A folder of the previous output replaced by a link to a copy someone else owns, and a
    // page replaced by a hard link to such a copy: carried over, the new site would share
    // their files, which they could edit afterwards.
    let site = site_with(&[("releases/A.ipa", good("1.0"))]);
    site.build_ok(&[]);
    let elsewhere = site.root().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let apps = site.public().join("apps");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&apps)
        .arg(&elsewhere)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(&apps).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("apps"), &apps).unwrap();
    let page = site.public().join("index.html");
    let theirs = elsewhere.join("index.html");
    std::fs::copy(&page, &theirs).unwrap();
    std::fs::remove_file(&page).unwrap();
    std::fs::hard_link(&theirs, &page).unwrap();
    let _ = std::fs::remove_file(site.root().join(".otasite/build.json"));
    site.write("releases/A.md", "New notes\n");
    site.build_ok(&[]);
    let shared: Vec<u64> = inodes_under(&site.public())
        .intersection(&inodes_under(&elsewhere))
        .copied()
        .collect();
    assert!(
        shared.is_empty(),
        "the new site shares files with elsewhere/"
    );
    assert_eq!(std::fs::metadata(&theirs).unwrap().nlink(), 1);
    assert_output_free_of(&site, "\u{0}never");
}

#[test]
fn an_ipa_linked_from_outside_the_site_is_refused() {
    // 69. `releases/App.ipa` a link to an IPA elsewhere on the machine: never published.
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("Outside.ipa");
    std::fs::write(&outside, good("1.0")).unwrap();
    let site = TestSite::basic();
    std::os::unix::fs::symlink(&outside, site.root().join("releases/App.ipa")).unwrap();
    run(
        "IPA linked from outside",
        &site,
        Expect::Fails(&["App.ipa", "outside the site folder"]),
    );
    assert!(!site.public().exists());
}

// ---- attack round: check ----

/// A 127.0.0.1 server handing every connection (after its request head, or none when the
/// request never ends) to `answer`, on its own thread.
fn raw_server(answer: fn(&[u8], &mut std::net::TcpStream)) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(70)));
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") {
                    match std::io::Read::read(&mut stream, &mut byte) {
                        Ok(1) => request.push(byte[0]),
                        _ => return,
                    }
                }
                answer(&request, &mut stream);
            });
        }
    });
    port
}

/// `check SITE --remote http://127.0.0.1:PORT/ [extra]`.
fn check_remote(name: &str, site: &TestSite, port: u16, extra: &[&str]) -> (Ran, Duration) {
    let url = format!("http://127.0.0.1:{port}/");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "check".as_ref(),
        site.root().as_os_str(),
        "--remote".as_ref(),
        url.as_ref(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let started = Instant::now();
    let ran = run_otasite(name, &args, None);
    (ran, started.elapsed())
}

fn releases(n: usize) -> TestSite {
    let site = TestSite::basic();
    for i in 1..=n {
        site.write(&format!("releases/{i}/A.ipa"), good(&format!("{i}.0")));
    }
    site.build_ok(&[]);
    site
}

#[test]
fn check_remote_is_bounded_in_time_by_a_silent_or_trickling_server() {
    // Accepts, reads the request, never answers (the connection stays open for 70 s).
    let silent = raw_server(|_, _| std::thread::sleep(Duration::from_secs(70)));
    // Answers at once, then sends its body one byte a second, for ever.
    let trickle = raw_server(|request, stream| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 99999999\r\n\r\n",
        );
        if request.starts_with(b"GET") {
            for _ in 0..70 {
                if stream.write_all(b" ").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    });
    let site = releases(3);
    for (name, port) in [("silent server", silent), ("trickling server", trickle)] {
        let (ran, took) = check_remote(name, &site, port, &["--json"]);
        assert_eq!(ran.code, Some(1), "{name}: {}", ran.stderr);
        let report: serde_json::Value = serde_json::from_str(&ran.stdout).unwrap();
        assert!(
            report["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["code"] == "remote-slow"
                    && p["message"]
                        .as_str()
                        .unwrap()
                        .contains("REMOTE_REQUEST_TIMEOUT")),
            "{name}: {report:#}"
        );
        assert!(
            took < Duration::from_secs(30),
            "{name}: check took {took:?}"
        );
    }
}

#[test]
fn check_survives_a_manifest_plist_bomb_in_the_output() {
    let site = releases(1);
    let manifest = files_ending(&site.public(), "manifest.plist").remove(0);
    // 65,000 nested arrays in under 1 MiB: the plist crate builds (and drops) values by
    // recursion.
    let depth = 65_000;
    let bomb = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">{}{}</plist>\n",
        "<array>".repeat(depth),
        "</array>".repeat(depth)
    );
    std::fs::write(&manifest, bomb).unwrap();
    let ran = run_otasite(
        "manifest plist bomb",
        &["check".as_ref(), site.root().as_os_str()],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(
        ran.stdout.contains("manifest-invalid") && ran.stdout.contains("MAX_PLIST_DEPTH"),
        "{}",
        ran.stdout
    );
    // A manifest of 64 MiB: refused by its size, not read whole.
    let mut f = std::fs::File::create(&manifest).unwrap();
    f.write_all(b"<?xml version=\"1.0\"?><plist version=\"1.0\"><string>")
        .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..64 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(b"</string></plist>").unwrap();
    drop(f);
    let ran = run_otasite(
        "huge manifest",
        &["check".as_ref(), site.root().as_os_str()],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.stdout.contains("MAX_MANIFEST_BYTES"), "{}", ran.stdout);
    assert!(ran.peak_mib < 100, "check took {} MiB", ran.peak_mib);
}

#[test]
fn check_of_a_page_with_many_links_takes_linear_time() {
    let site = releases(1);
    let mut page =
        String::from("<!doctype html><html amp><head><meta charset=\"utf-8\"></head><body>\n");
    for i in 0..300_000 {
        page.push_str(&format!("<a href=\"/missing/{i}\" style=\"x\">x</a>\n"));
    }
    for _ in 0..20_000 {
        page.push_str("<script>x</script>\n");
    }
    site.write("public/big.html", page);
    let started = Instant::now();
    let ran = run_otasite(
        "page with many links",
        &["check".as_ref(), site.root().as_os_str(), "--json".as_ref()],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "check took {:?}",
        started.elapsed()
    );
}

#[test]
fn check_never_prints_terminal_escapes_from_the_output() {
    let site = releases(1);
    // A poisoned page: a link and a file name carrying escape sequences (retitle the
    // terminal, hide the next lines).
    site.write(
        "public/evil.html",
        "<!doctype html><html amp><body><a href=\"/\u{1b}]0;pwned\u{7}\u{1b}[8m\">x</a>\
         <a href=\"/%1b%5b2J\">y</a></body></html>",
    );
    site.write("public/\u{1b}[2Jx.html", "<html></html>");
    let ran = run_otasite(
        "escapes in pages",
        &["check".as_ref(), site.root().as_os_str()],
        None,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.stdout.contains("broken-link"), "{}", ran.stdout);
    assert!(
        !ran.stdout.contains('\u{1b}') && !ran.stdout.contains('\u{7}'),
        "{:?}",
        ran.stdout
    );
    assert!(ran.stdout.contains("\\u{1b}"), "{:?}", ran.stdout);
}

#[test]
fn a_static_file_named_like_a_generated_one_in_another_case_names_the_file() {
    // 70. `static/Index.html` beside the generated `index.html`.
    let site = site_with(&[
        ("releases/A.ipa", good("1.0")),
        ("static/Index.html", b"x".to_vec()),
    ]);
    run(
        "static Index.html",
        &site,
        Expect::Fails(&["static/Index.html", "generates index.html itself"]),
    );
}

// ---- attack round: notes, zip, plist ----

/// 40,000 references to one 16 MiB image (`a.png?1`, `a.png?2`...: 640 GB to read and hash
/// when each reference was a new image) build in seconds, into one copy of the file.
#[test]
fn many_references_to_one_image_read_it_once() {
    let mut png = otasite::testkit::icon::encode_png(&otasite::testkit::icon_image(4, [1, 2, 3]));
    png.resize(16 << 20, 0);
    let notes: String = (0..40_000)
        .map(|i| {
            if i % 2 == 0 {
                format!("![](a.png?{i})\n")
            } else {
                format!("![](a%2Epng#{i})\n")
            }
        })
        .collect();
    let site = site_with(&[
        ("releases/A.ipa", good("1.0")),
        ("releases/a.png", png),
        ("releases/A.md", notes.into_bytes()),
    ]);
    let start = Instant::now();
    run("40,000 references to one image", &site, Expect::Builds(""));
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
    let img = std::fs::read_dir(site.public().join("apps/com.h.good/1.0-1/img"))
        .unwrap()
        .count();
    assert_eq!(img, 1, "one image, one copy");
}

/// A direction override (U+202E) in an app's name, version or notes title ran on past it on
/// the page: "Acme\u{202E}" before "1.2.3 (45)" showed the version backwards. None reaches
/// the output, pages, feeds, manifests or `releases.json`.
#[test]
fn direction_overrides_never_reach_the_output() {
    let ipa = IpaSpec::new("com.h.rlo", "1.2.3\u{2066}", "45")
        .name("Acme \u{202E}")
        .to_bytes();
    let site = site_with(&[
        ("releases/A.ipa", ipa),
        (
            "releases/A.md",
            "---\ntitle: \"New \\u202E 1.2.3\"\nsummary: \"x\\u202Dy\"\n---\n# Fix\n"
                .as_bytes()
                .to_vec(),
        ),
    ]);
    run("direction overrides", &site, Expect::Builds(""));
    let mut texts = 0;
    for entry in walkdir::WalkDir::new(site.public()) {
        let path = entry.unwrap().into_path();
        // The IPA itself is copied as it is; everything otasite writes is checked.
        if !["html", "xml", "json", "plist"]
            .iter()
            .any(|e| path.extension().is_some_and(|x| x == *e))
        {
            continue;
        }
        texts += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(['\u{202E}', '\u{202D}', '\u{2066}']),
            "{} holds a direction override",
            path.display()
        );
    }
    assert!(texts >= 8, "{texts} files checked");
    assert!(
        site.read("apps/com.h.rlo/index.html")
            .contains("New  1.2.3")
    );
}
