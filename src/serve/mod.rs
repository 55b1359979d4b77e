//! `otasite serve`: builds into memory, serves it, watches the sources and rebuilds on every
//! save. A failed rebuild keeps the last good site and shows the error on the pages; the next
//! good save recovers. IPAs already read and icons already made are reused (see `cache`).
//! Files sent from their sources are pinned at each build and sent only while unchanged
//! (`pinned`); the HTTP side runs on a fixed set of threads (`server`).

mod body;
mod http;
mod inject;
mod pinned;
mod respond;
mod server;
mod state;
mod watch;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use bytes::Bytes;

use crate::cache::Caches;
use crate::files::Content;
use crate::problem::Problem;
use crate::site::{BuildOptions, load_site_with, render_in_memory};

use pinned::Pinner;
pub(crate) use state::{Files, Served, Snapshot, State};
pub(crate) use watch::{Change, classify};

/// Quiet time after the last change before rebuilding.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(20);

/// Longest time changes are gathered before a rebuild starts: a file under the site written
/// without pause (a log, a tool saving in a loop) must not hold back every other edit.
pub(crate) const MAX_BATCH: Duration = Duration::from_secs(1);

/// How long changed IPAs may keep growing (a copy in progress) before the rebuild goes ahead.
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// How often a growing IPA's size is looked at.
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

/// Runs the dev server until the process is stopped.
pub(crate) fn serve(opts: ServeOptions) -> Result<()> {
    let listener = TcpListener::bind((opts.interface.as_str(), opts.port))
        .with_context(|| format!("cannot listen on {}:{}", opts.interface, opts.port))?;
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
    let config = crate::site::load_config(&build).ok();
    let releases_dir: PathBuf = opts.build.site_dir.join(
        config
            .as_ref()
            .map_or_else(|| PathBuf::from("releases"), |c| c.releases_dir.clone()),
    );
    // Events carry absolute paths: compare them with absolute folders.
    let site_dir =
        std::fs::canonicalize(&opts.build.site_dir).unwrap_or_else(|_| opts.build.site_dir.clone());
    let releases_dir = std::fs::canonicalize(&releases_dir).unwrap_or(releases_dir);
    let (tx, rx) = channel();
    let mut watcher = watch::watch(&site_dir, &releases_dir, opts.poll, tx)?;
    let roots = watch::roots(&site_dir, &releases_dir);
    let caches = Caches::on_disk(&opts.build.site_dir, true).watching();
    // Sources are served from the site folder and the releases folder, nowhere else.
    let mut pinner = Pinner::new(&[site_dir.as_path(), releases_dir.as_path()]);
    let start = Instant::now();
    let (files, error) = match rebuild(&build, &caches, &mut pinner) {
        Ok((files, warnings)) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            (files, None)
        }
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            (HashMap::new(), Some(error_text(&e)))
        }
    };
    let state = Arc::new(State::new(
        Snapshot {
            files,
            generation: 1,
            error,
            local_base,
        },
        host_names(&opts),
    ));
    // Held until serve returns: dropping it stops the HTTP side.
    let _http = server::start(listener, state.clone()).context("cannot start the HTTP server")?;
    eprintln!(
        "Built in {} ms. Serving at {local_url} (Ctrl-C to stop)",
        start.elapsed().as_millis()
    );
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
        let Some(mut changes) = gather(&rx, first, DEBOUNCE, MAX_BATCH) else {
            return Ok(());
        };
        let kinds: Vec<Change> = {
            let mut k: Vec<Change> = changes
                .iter()
                .filter_map(|p| classify(p, &site_dir, &releases_dir))
                .collect();
            k.sort();
            k.dedup();
            k
        };
        log::debug!("changed: {changes:?} -> {kinds:?}");
        if watcher.watch_new(&roots) {
            // A watched folder appeared: what was written into it before the watch began
            // sent no event, so build from scratch.
            changes.push(site_dir.join("themes"));
        } else if kinds.is_empty() {
            continue;
        }
        if kinds.contains(&Change::Ipa) {
            wait_until_stable(
                changes
                    .iter()
                    .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("ipa"))),
            );
        }
        let start = Instant::now();
        caches.changed(&changes);
        match rebuild(&build, &caches, &mut pinner) {
            Ok((files, warnings)) => {
                state.publish(Some(files), None);
                for w in warnings {
                    eprintln!("warning: {w}");
                }
                eprintln!("Rebuilt ({kinds:?}) in {} ms", start.elapsed().as_millis());
            }
            Err(e) => {
                let text = error_text(&e);
                eprintln!("error: {text}\n(still serving the last good build)");
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
) -> Option<Vec<PathBuf>> {
    let mut changes = vec![first];
    let end = Instant::now() + limit;
    loop {
        let wait = quiet.min(end.saturating_duration_since(Instant::now()));
        if wait.is_zero() {
            return Some(changes);
        }
        match rx.recv_timeout(wait) {
            Ok(p) => changes.push(p),
            Err(RecvTimeoutError::Timeout) => return Some(changes),
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

/// Waits until the changed IPAs' sizes stop changing (at most `SETTLE_LIMIT` in all): a copy
/// may be in progress. Each file is looked at once per step however many events named it: a
/// large copy sends an event per write, and a wait per event made a rebuild minutes late.
fn wait_until_stable<'a>(paths: impl Iterator<Item = &'a PathBuf>) {
    let paths: std::collections::BTreeSet<&PathBuf> = paths.collect();
    let sizes = || -> Vec<Option<u64>> {
        paths
            .iter()
            .map(|p| std::fs::metadata(p).map(|m| m.len()).ok())
            .collect()
    };
    let deadline = Instant::now() + SETTLE_LIMIT;
    let mut last = sizes();
    while Instant::now() < deadline {
        std::thread::sleep(SETTLE_STEP);
        let now = sizes();
        if now == last {
            return;
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
        assert!(batch.is_some_and(|b| b.len() > 1));
        assert!(took < MAX_BATCH * 3, "the batch stayed open {took:?}");
    }

    #[test]
    fn a_quiet_moment_ends_a_batch_and_a_gone_watcher_ends_serving() {
        let (tx, rx) = channel();
        tx.send(PathBuf::from("b")).unwrap();
        let batch = gather(&rx, PathBuf::from("a"), DEBOUNCE, MAX_BATCH).unwrap();
        assert_eq!(batch, [PathBuf::from("a"), PathBuf::from("b")]);
        drop(tx);
        assert!(gather(&rx, PathBuf::from("a"), DEBOUNCE, MAX_BATCH).is_none());
    }
}
