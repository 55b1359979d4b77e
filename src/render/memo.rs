//! What rendering may take from earlier work instead of doing it again: icon files, QR codes,
//! an app's unchanged files. The caller supplies it (the build passes its caches); rendering
//! stays pure, and knows nothing of where results are kept.

use std::sync::Arc;

use anyhow::Result;

use super::qr::QrPath;
use crate::files::{Content, OutFile};
use crate::icon::IconSet;

/// A release's icon files, shared between the releases with the same icon.
pub(crate) type IconFiles = Arc<IconSet<Content>>;

pub(crate) trait Memo: Sync {
    /// The icon files for `key`: as made before, else made by `make`.
    fn icons(&self, key: &str, make: &dyn Fn() -> IconSet<Vec<u8>>) -> IconFiles;

    /// The QR code of `url` (`None`: too long for one).
    fn qr(&self, url: &str) -> Option<QrPath>;

    /// Starts a render of the whole site.
    fn begin_render(&self) {}

    /// One app's files: as rendered before when `key` (`None`: not known) is the same, else
    /// made by `make`.
    fn app_files(
        &self,
        key: &dyn Fn() -> Option<String>,
        make: &dyn Fn() -> Result<Vec<OutFile>>,
    ) -> Result<Arc<Vec<OutFile>>>;
}
