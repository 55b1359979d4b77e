//! Every size limit on untrusted input, in one place.
//!
//! A limit exists so that a hostile or broken file cannot exhaust memory; each error that
//! reports one names the limit, so a user with a legitimately larger file knows what to raise.

/// Largest `Info.plist` (decompressed) read from an IPA. Real ones are a few KiB.
pub(crate) const MAX_INFO_PLIST_BYTES: u64 = 4 * 1024 * 1024;

/// Largest release-notes file read (real ones are a few KiB; parsing one costs up to ~130
/// bytes of memory per byte, for a table of one-letter cells).
pub(crate) const MAX_NOTES_BYTES: u64 = 2 * 1024 * 1024;

/// Most release-notes text in one build, all files together.
pub(crate) const MAX_NOTES_TOTAL_BYTES: u64 = 8 * 1024 * 1024;

/// Most notes HTML in one build, all notes together: pages, feeds and `releases.json` each
/// repeat it, and Markdown can grow tenfold as HTML (a table of one-letter cells, nested quotes).
pub(crate) const MAX_NOTES_HTML_BYTES: u64 = 32 * 1024 * 1024;

/// Largest answer body `check --remote` reads (counted after decompression: a 1 MB gzip body
/// can inflate to 1 GB). Manifests are a few KiB; IPAs are asked for their first KiB.
pub(crate) const MAX_REMOTE_BODY_BYTES: u64 = 4 * 1024 * 1024;

/// `check --remote`: time one request has in all, from connecting to the last body byte (a
/// server that trickles a byte a second is cut off here). A timeout ends the check.
pub(crate) const REMOTE_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// `check --remote --deep`: an IPA's download may take this long plus a second for every
/// [`REMOTE_DEEP_MIN_BYTES_PER_SEC`] of its size (slower than that, a tester gives up too).
pub(crate) const REMOTE_DEEP_BASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// `check --remote --deep`: the slowest download rate waited for (512 KiB/s: 2 GB in ~70 min).
pub(crate) const REMOTE_DEEP_MIN_BYTES_PER_SEC: u64 = 512 * 1024;

/// `check --remote`: time all the requests of one check have together (a server answering
/// each request just under the per-request timeout would otherwise take hours for many
/// releases); the files not reached by then are reported as not checked.
pub(crate) const REMOTE_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Largest `manifest.plist` of the output that `check` reads (otasite writes about 1 KiB).
pub(crate) const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// Most notes text parsed at the same time, across threads, whatever the number of cores.
pub(crate) const MAX_NOTES_PARSE_BYTES: u64 = 2 * 1024 * 1024;

/// Largest `site.yaml` read.
pub(crate) const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Largest template or CSS file of a site's own theme.
pub(crate) const MAX_THEME_FILE_BYTES: u64 = 4 * 1024 * 1024;

use std::io::Read;
use std::path::Path;

/// Reads a whole small file, refusing one larger than `limit` bytes.
///
/// The error names the file and the limit; `what` says which kind of file it is.
pub(crate) fn read_limited(path: &Path, limit: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context as _;
    let file = crate::paths::open_input(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > limit {
        anyhow::bail!(
            "{}: this {what} is larger than the {} MiB limit (otasite::limits); \
             split it up or raise the limit if it is legitimate",
            path.display(),
            limit / (1024 * 1024)
        );
    }
    Ok(bytes)
}

/// Like [`read_text_limited`], for a file that must really live inside `root` (a theme's
/// folder): a link leading out of it is refused, so nothing from elsewhere reaches the pages.
pub(crate) fn read_text_inside(
    path: &Path,
    root: &Path,
    limit: u64,
    what: &str,
) -> anyhow::Result<String> {
    if !crate::paths::inside(path, root) {
        anyhow::bail!(
            "{}: this {what} is a link to a file outside {}; copy the file in instead",
            path.display(),
            root.display()
        );
    }
    read_text_limited(path, limit, what)
}

/// Like [`read_limited`], for text that must be UTF-8.
pub(crate) fn read_text_limited(path: &Path, limit: u64, what: &str) -> anyhow::Result<String> {
    let bytes = read_limited(path, limit, what)?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: this {what} is not valid UTF-8 (first bad byte at offset {}); save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// Largest icon width or height decoded (real app icons are at most 1024 px).
pub(crate) const MAX_ICON_DIMENSION: u32 = 4096;

/// Largest icon file (decompressed) read from an IPA.
pub(crate) const MAX_ICON_BYTES: u64 = 16 * 1024 * 1024;

/// Largest `embedded.mobileprovision` read from an IPA (real ones are 10-30 KiB).
pub(crate) const MAX_PROFILE_BYTES: u64 = 4 * 1024 * 1024;

/// Most icon files whose headers are read when choosing the app icon.
pub(crate) const MAX_ICON_CANDIDATES: usize = 64;

/// Largest image a release note may show.
pub(crate) const MAX_NOTE_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

/// Deepest nesting of arrays and dictionaries accepted in a property list (real ones: < 10).
pub(crate) const MAX_PLIST_DEPTH: usize = 256;

/// Most values read from one property list (a profile with 100 devices has a few hundred).
pub(crate) const MAX_PLIST_EVENTS: usize = 1_000_000;

/// Longest bundle id, version or build accepted (they become folder names; Apple's own limits
/// are far lower).
pub(crate) const MAX_IDENTIFIER_LEN: usize = 200;

/// Longest file or folder name written (bytes): what Linux, macOS and Windows file systems
/// accept for one path component.
pub(crate) const MAX_FILE_NAME_BYTES: usize = 255;

/// Longest part of an IPA's output file name taken from the app's name (the version follows
/// it); a longer name is cut, since the release folder already tells builds apart.
pub(crate) const MAX_NAME_SLUG_BYTES: usize = 64;

/// `otasite serve`: largest request line plus headers read (larger ones are answered 431).
pub(crate) const SERVE_MAX_HEADER_BYTES: usize = 32 * 1024;

/// `otasite serve`: most header fields in one request (more are answered 431).
pub(crate) const SERVE_MAX_HEADERS: usize = 64;

/// `otasite serve`: connections served at once; more wait in the kernel's queue.
pub(crate) const SERVE_MAX_CONNECTIONS: usize = 512;

/// `otasite serve`: time a connection has to send its request headers (also the idle time of a
/// kept-alive connection between requests).
pub(crate) const SERVE_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `otasite serve`: a connection that moves no byte for this long is dropped (longer than the
/// live-reload poll, which waits 25 s for a rebuild).
pub(crate) const SERVE_STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Largest body the device-registration endpoint reads (`udid/register`, in every host's
/// function and in `serve`): a device's signed attributes are 3-6 KiB; more is answered 400.
pub(crate) const UDID_MAX_BODY_BYTES: usize = 64 * 1024;
