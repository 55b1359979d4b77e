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
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use bytes::Bytes;

use crate::cache::Caches;
use crate::render::Content;
use crate::site::{BuildOptions, load_site_with, render_in_memory};

pub use http::{content_type, parse_range, site_path};
use pinned::Pinner;
pub use state::{Files, Served, Snapshot, State};
pub use watch::{Change, classify, is_temp_file};

/// Quiet time after the last change before rebuilding.
pub const DEBOUNCE: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct ServeOptions {
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
) -> Result<(Files, Vec<String>)> {
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
                    warnings.push(format!(
                        "{}: not served by the dev server: {why}",
                        source.display()
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
pub fn serve(opts: ServeOptions) -> Result<()> {
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
    let state = Arc::new(State::new(Snapshot {
        files,
        generation: 1,
        error,
        local_base,
    }));
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
        let mut changes: Vec<PathBuf> = vec![first];
        loop {
            match rx.recv_timeout(DEBOUNCE) {
                Ok(p) => changes.push(p),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
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

/// Waits (at most a minute) until each IPA's size stops changing: a copy may be in progress.
fn wait_until_stable<'a>(paths: impl Iterator<Item = &'a PathBuf>) {
    for path in paths {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = std::fs::metadata(path).map(|m| m.len()).ok();
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(150));
            let now = std::fs::metadata(path).map(|m| m.len()).ok();
            if now == last {
                break;
            }
            last = now;
        }
    }
}
