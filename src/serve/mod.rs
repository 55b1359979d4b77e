//! `otasite serve`: builds into memory, serves it, watches the sources and rebuilds on every
//! save. A failed rebuild keeps the last good site and shows the error on the pages; the next
//! good save recovers. IPAs already read and icons already made are reused (see `cache`).
//! Files sent from their sources are pinned at each build and sent only while unchanged
//! (`pinned`); the HTTP side runs on a fixed set of threads (`server`).

mod body;
mod http;
mod inject;
mod pinned;
mod register;
mod respond;
mod server;
mod state;
mod watch;

use std::collections::HashMap;
use std::net::{TcpListener, ToSocketAddrs as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use bytes::Bytes;

use crate::cache::{Caches, FileKey};
use crate::files::Content;
use crate::problem::Problem;
use crate::site::{BuildOptions, load_site_with, render_in_memory};

use pinned::Pinner;
pub(crate) use state::{Files, Served, Snapshot, State};
pub(crate) use watch::{Batch, Change, classify, describe};

/// Quiet time after the last change before rebuilding.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(20);

/// Longest time changes are gathered before a rebuild starts: a file under the site written
/// without pause (a log, a tool saving in a loop) must not hold back every other edit.
pub(crate) const MAX_BATCH: Duration = Duration::from_secs(1);

/// How long changed IPAs may keep being written (a copy in progress) before the rebuild goes
/// ahead.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// How long an IPA must go unwritten to count as copied: also how often it is looked at.
const SETTLE_STEP: Duration = Duration::from_millis(150);

#[derive(Debug, Clone)]
pub(crate) struct ServeOptions {
    pub build: BuildOptions,
    pub interface: String,
    pub port: u16,
    pub open: bool,
    pub poll: bool,
}

fn rebuild(
    opts: &BuildOptions,
    caches: &Caches,
    pinner: &mut Pinner,
) -> Result<(Files, Vec<Problem>)> {
    let site = load_site_with(opts, caches);
    if let Err(e) = caches.save(false) {
        log::debug!("the build cache could not be written: {e:#}");
    }
    let site = site?;
    let (files, rendered) = render_in_memory(&site, &opts.site_dir, caches)?;
    let mut warnings = rendered.warnings;
    let mut served = HashMap::with_capacity(files.len());
    for file in files {
        let content = match file.content {
            Content::Bytes(bytes) => Served::Bytes(Bytes::from(bytes)),
            Content::Source(source) => match pinner.pin(&source) {
                Ok(pinned) => Served::File(pinned),
                Err(why) => {
                    warnings.push(Problem::warning(
                        "serve-unpinned",
                        source.display().to_string(),
                        format!("not served by the dev server: {why}"),
                        "keep the file a regular file inside the site, unchanged while it is served",
                    ));
                    continue;
                }
            },
        };
        served.insert(file.path, content);
    }
    pinner.keep(served.values().filter_map(|s| match s {
        Served::File(pinned) => Some(pinned),
        Served::Bytes(_) => None,
    }));
    Ok((served, warnings))
}

fn error_text(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("\n  caused by: ")
}

/// A flag or argument `serve` cannot work with, found before it listens: the command exits 2.
#[derive(Debug)]
pub(crate) struct BadFlag(String);

impl std::fmt::Display for BadFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadFlag {}

/// Refuses, before anything listens, what cannot work: a site folder that is not one (no
/// site.yaml: a broken site.yaml is served with its error, and fixed while serving), a `-u`
/// that is not an https:// address, an interface that is no address of this machine.
fn check_flags(opts: &ServeOptions) -> Result<(), BadFlag> {
    let dir = &opts.build.site_dir;
    if !dir.is_dir() {
        return Err(BadFlag(format!(
            "{}: no such folder; pass the site folder (the one holding site.yaml), or make one \
             with `otasite init {}`",
            dir.display(),
            dir.display()
        )));
    }
    let yaml = dir.join(crate::config::CONFIG_FILE);
    if yaml.symlink_metadata().is_err() {
        return Err(BadFlag(format!(
            "{}: no site.yaml in this folder; pass the site folder (the one holding \
             site.yaml), or make one with `otasite init {}`",
            dir.display(),
            dir.display()
        )));
    }
    if let Some(url) = &opts.build.base_url
        && let Err(e) = crate::config::parse_base_url(url)
    {
        let port = match opts.port {
            0 => "<port>".to_string(),
            port => port.to_string(),
        };
        return Err(BadFlag(format!(
            "-u/--base-url: {e}. Pass the https:// address of a tunnel to this port (such as \
             `cloudflared tunnel --url http://127.0.0.1:{port}` gives), or leave -u out to \
             preview on this machine"
        )));
    }
    if let Some(url) = &opts.build.ipa_base_url
        && let Err(e) = crate::config::parse_ipa_base_url(url)
    {
        return Err(BadFlag(format!("--ipa-base-url: {e:#}")));
    }
    if let Err(e) = (opts.interface.as_str(), opts.port).to_socket_addrs() {
        return Err(BadFlag(bad_interface(&opts.interface, &e.to_string())));
    }
    Ok(())
}

fn bad_interface(interface: &str, why: &str) -> String {
    format!(
        "-i/--interface {interface:?}: not an address of this machine ({why}); use 127.0.0.1 \
         (this machine only, the default) or 0.0.0.0 (every network interface, so that other \
         devices can connect)"
    )
}

/// Listens on the interface and port asked for; an address of another machine is a bad flag.
fn listen(opts: &ServeOptions) -> Result<TcpListener> {
    let (interface, port) = (opts.interface.as_str(), opts.port);
    TcpListener::bind((interface, port)).map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrNotAvailable => {
            anyhow::Error::new(BadFlag(bad_interface(interface, &e.to_string())))
        }
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "cannot listen on {interface}:{port}: another program (another otasite serve?) \
             listens there; stop it, or pick another port with -p (-p 0 takes any free one)"
        ),
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "cannot listen on {interface}:{port}: this user may not use that port ({e}); \
             ports below 1024 need administrator rights, so pick another with -p (the default \
             is 1111)"
        ),
        _ => anyhow::anyhow!("cannot listen on {interface}:{port}: {e}"),
    })
}

/// The releases folder site.yaml names (`releases` while it cannot be read), as an absolute
/// path: events carry absolute paths.
fn releases_dir_of(build: &BuildOptions) -> PathBuf {
    let config = crate::site::load_config(build).ok();
    let dir = build.site_dir.join(
        config
            .as_ref()
            .map_or_else(|| PathBuf::from("releases"), |c| c.releases_dir.clone()),
    );
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// Runs the dev server until the process is stopped.
pub(crate) fn serve(opts: ServeOptions) -> Result<()> {
    check_flags(&opts)?;
    let listener = listen(&opts)?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    let local_url = format!("http://{host}:{}/", addr.port());
    let local_base = opts.build.base_url.is_none();
    let mut build = opts.build.clone();
    if local_base {
        build.base_url = Some(local_url.clone());
        build.allow_http = true;
    }
    // Watch before the first build, so that no edit made while it runs is missed.
    let mut releases_dir = releases_dir_of(&build);
    // Events carry absolute paths: compare them with absolute folders.
    let site_dir =
        std::fs::canonicalize(&opts.build.site_dir).unwrap_or_else(|_| opts.build.site_dir.clone());
    let (tx, rx) = channel();
    let mut watcher = watch::watch(&site_dir, &releases_dir, opts.poll, tx)?;
    let caches = Caches::on_disk(&opts.build.site_dir, true).watching();
    // Sources are served from the site folder and the releases folder, nowhere else.
    let mut pinner = Pinner::new(&[site_dir.as_path(), releases_dir.as_path()]);
    let start = Instant::now();
    let (files, error) = match rebuild(&build, &caches, &mut pinner) {
        Ok((files, warnings)) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            (Some(files), None)
        }
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            (None, Some(error_text(&e)))
        }
    };
    let built = files.is_some();
    let state = Arc::new(State::new(
        Snapshot {
            files: files.unwrap_or_default(),
            generation: 1,
            error,
            local_base,
            built,
        },
        host_names(&opts),
    ));
    // Held until serve returns: dropping it stops the HTTP side.
    let _http = server::start(listener, state.clone()).context("cannot start the HTTP server")?;
    if built {
        eprintln!(
            "Built in {} ms. Serving at {local_url} (Ctrl-C to stop)",
            start.elapsed().as_millis()
        );
    } else {
        eprintln!(
            "The site does not build yet: fix the error above and save; open pages reload by \
             themselves. Serving at {local_url} (Ctrl-C to stop)"
        );
    }
    if local_base {
        eprintln!(
            "Installing from a device needs HTTPS: run an HTTPS tunnel to port {} and pass its address with -u.",
            addr.port()
        );
    }

    if opts.open {
        let _ = std::process::Command::new(if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        })
        .arg(&local_url)
        .spawn();
    }

    loop {
        let Ok(first) = rx.recv() else { return Ok(()) };
        let Some(mut batch) = gather(&rx, first, DEBOUNCE, MAX_BATCH) else {
            return Ok(());
        };
        let ipa = |p: &PathBuf| classify(p, &site_dir, &releases_dir) == Some(Change::Ipa);
        if batch.paths().iter().any(ipa) && !settle(&rx, &mut batch, ipa) {
            return Ok(());
        }
        let mut kinds: Vec<Change> = batch
            .paths()
            .iter()
            .filter_map(|p| classify(p, &site_dir, &releases_dir))
            .collect();
        kinds.sort();
        kinds.dedup();
        log::debug!("changed: {:?} -> {kinds:?}", batch.paths());
        if kinds.contains(&Change::Config) {
            // A fixed or edited site.yaml may name another releases folder: watch that one,
            // and serve sources from it.
            let named = releases_dir_of(&build);
            if named != releases_dir {
                releases_dir = named;
                pinner = Pinner::new(&[site_dir.as_path(), releases_dir.as_path()]);
            }
        }
        let mut what = describe(batch.paths(), &site_dir, &releases_dir);
        if watcher.watch_new(&watch::roots(&site_dir, &releases_dir)) {
            // A watched folder appeared: what was written into it before the watch began
            // sent no event, so build from scratch.
            batch.add(site_dir.join("themes"));
            if kinds.is_empty() {
                what = "a watched folder appeared".into();
            }
        } else if kinds.is_empty() {
            continue;
        }
        let start = Instant::now();
        caches.changed(batch.paths());
        match rebuild(&build, &caches, &mut pinner) {
            Ok((files, warnings)) => {
                state.publish(Some(files), None);
                for w in warnings {
                    eprintln!("warning: {w}");
                }
                eprintln!("Rebuilt in {} ms: {what}.", start.elapsed().as_millis());
            }
            Err(e) => {
                let text = error_text(&e);
                let kept = if state.snapshot().built {
                    "still serving the last good build"
                } else {
                    "nothing built yet: every page shows this error"
                };
                eprintln!("error: {text}\n({what}; {kept})");
                state.publish(None, Some(text));
            }
        }
    }
}

/// The changes that come with `first`: until `quiet` passes without one, or `limit` has passed
/// (a file changing without pause must not hold back the rebuild; what arrives later goes into
/// the next batch). `None` when the watcher is gone.
fn gather(
    rx: &Receiver<PathBuf>,
    first: PathBuf,
    quiet: Duration,
    limit: Duration,
) -> Option<Batch> {
    let mut batch = Batch::default();
    batch.add(first);
    let end = Instant::now() + limit;
    loop {
        let wait = quiet.min(end.saturating_duration_since(Instant::now()));
        if wait.is_zero() {
            return Some(batch);
        }
        match rx.recv_timeout(wait) {
            Ok(p) => {
                batch.add(p);
            }
            Err(RecvTimeoutError::Timeout) => return Some(batch),
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// The host names requests may use besides IP addresses and `localhost`: the interface when
/// given by name, and the host of the `-u` address (a tunnel forwards its own name).
fn host_names(opts: &ServeOptions) -> Vec<String> {
    let tunnel = opts.build.base_url.as_deref().and_then(|u| {
        let url = url::Url::parse(u).ok()?;
        Some(url.host_str()?.to_string())
    });
    std::iter::once(opts.interface.clone())
        .chain(tunnel)
        .filter(|n| n.parse::<std::net::IpAddr>().is_err())
        .collect()
}

/// Waits until no IPA of the batch has been written to for one `SETTLE_STEP` (at most
/// `SETTLE_LIMIT` in all): a copy may be in progress, and half a zip does not build. Each
/// distinct file is looked at once per step (its size, time and inode), however many events
/// named it, and events arriving meanwhile join the batch: they belong to this rebuild, not to
/// another one after it. False when the watcher is gone.
fn settle(rx: &Receiver<PathBuf>, batch: &mut Batch, is_ipa: impl Fn(&PathBuf) -> bool) -> bool {
    let facts = |batch: &Batch| -> Vec<Option<FileKey>> {
        (batch.paths().iter())
            .filter(|p| is_ipa(p))
            .map(|p| FileKey::read(p))
            .collect()
    };
    let deadline = Instant::now() + SETTLE_LIMIT;
    let mut last = facts(batch);
    loop {
        // Events during the step: a write to an IPA means it is still being written.
        let step_end = Instant::now() + SETTLE_STEP;
        let mut written = false;
        loop {
            match rx.recv_timeout(step_end.saturating_duration_since(Instant::now())) {
                Ok(p) => {
                    written |= is_ipa(&p);
                    batch.add(p);
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
        let now = facts(batch);
        if (!written && now == last) || Instant::now() >= deadline {
            return true;
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Changes arriving every millisecond for seconds (a log written under releases/) kept the
    /// batch open, and so every rebuild waiting, for as long as they came.
    #[test]
    fn changes_without_pause_are_built_in_batches() {
        let (tx, rx) = channel();
        let feeder = std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(5);
            while Instant::now() < end && tx.send(PathBuf::from("releases/a.log")).is_ok() {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let start = Instant::now();
        let batch = gather(&rx, PathBuf::from("releases/notes.md"), DEBOUNCE, MAX_BATCH);
        let took = start.elapsed();
        drop(rx); // stops the feeder
        feeder.join().unwrap();
        assert!(batch.is_some_and(|b| b.paths().len() > 1));
        assert!(took < MAX_BATCH * 3, "the batch stayed open {took:?}");
    }

    #[test]
    fn a_quiet_moment_ends_a_batch_and_a_gone_watcher_ends_serving() {
        let (tx, rx) = channel();
        for p in ["b", "a", "b"] {
            tx.send(PathBuf::from(p)).unwrap();
        }
        let batch = gather(&rx, PathBuf::from("a"), DEBOUNCE, MAX_BATCH).unwrap();
        assert_eq!(batch.paths(), [PathBuf::from("a"), PathBuf::from("b")]);
        drop(tx);
        assert!(gather(&rx, PathBuf::from("a"), DEBOUNCE, MAX_BATCH).is_none());
    }

    /// A file written in many small writes (one event each) is waited for once, until its
    /// last write, and the events that came meanwhile join the batch instead of making a
    /// second rebuild.
    #[test]
    fn an_ipa_being_written_is_settled_once_after_its_last_write() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("App.ipa");
        let mut file = std::fs::File::create(&path).unwrap();
        let (tx, rx) = channel();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    file.write_all(&[0; 1024]).unwrap();
                    tx.send(path.clone()).unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
                // The watcher stays (a gone one ends serving): keep the sender.
                (Instant::now(), tx)
            })
        };
        let mut batch = Batch::default();
        batch.add(path.clone());
        assert!(settle(&rx, &mut batch, |p| p
            .extension()
            .is_some_and(|e| e == "ipa")));
        let settled = Instant::now();
        let (last_write, _tx) = writer.join().unwrap();
        assert!(settled > last_write, "settled before the last write");
        assert!(
            settled - last_write < SETTLE_STEP * 3,
            "settled {:?} after the last write",
            settled - last_write
        );
        assert_eq!(batch.paths(), [path]);
        assert!(rx.try_recv().is_err(), "every event joined the batch");
    }
}
