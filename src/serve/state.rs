//! The served site: one consistent snapshot at a time, replaced whole after each rebuild by the
//! watcher thread and read by the HTTP side, which can also wait for the next one (live reload).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use super::pinned::PinnedFile;

/// What one site path answers with.
#[derive(Debug, Clone)]
pub(crate) enum Served {
    /// Bytes made by the build.
    Bytes(Bytes),
    /// A source file as it was at build time, sent only while it still is.
    File(PinnedFile),
}

/// The site's files by site path (`apps/x/index.html`).
pub(crate) type Files = HashMap<String, Served>;

/// One consistent state of the served site.
pub(crate) struct Snapshot {
    pub files: Files,
    pub generation: u64,
    pub error: Option<String>,
    /// Pages link to the local address (no `-u`): installing needs the HTTPS site.
    pub local_base: bool,
    /// Whether any build succeeded yet; until one does, every page is the error.
    pub built: bool,
}

/// The served state, replaced whole after each rebuild.
pub(crate) struct State {
    current: watch::Sender<Arc<Snapshot>>,
    /// Host names requests may carry besides IP addresses and `localhost` (see `host_allowed`).
    pub host_names: Vec<String>,
}

impl State {
    pub(crate) fn new(first: Snapshot, host_names: Vec<String>) -> Self {
        State {
            current: watch::Sender::new(Arc::new(first)),
            host_names,
        }
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current.borrow().clone()
    }

    /// Publishes the next generation: new files, or (`None`) the last good ones with an error.
    pub(crate) fn publish(&self, files: Option<Files>, error: Option<String>) {
        self.current.send_modify(|current| {
            let next = Snapshot {
                built: current.built || files.is_some(),
                files: files.unwrap_or_else(|| current.files.clone()),
                generation: current.generation + 1,
                error,
                local_base: current.local_base,
            };
            *current = Arc::new(next);
        });
    }

    /// Waits until the generation differs from `since` (or the timeout); returns the current one.
    pub(crate) async fn wait_for_change(&self, since: u64, timeout: Duration) -> u64 {
        let mut changes = self.current.subscribe();
        let _ = tokio::time::timeout(timeout, changes.wait_for(|s| s.generation != since)).await;
        self.snapshot().generation
    }
}
