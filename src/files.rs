//! The files a site consists of, as rendering makes them and `output` writes them.

use std::path::PathBuf;

use anyhow::Result;

/// What goes into one output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Bytes(Vec<u8>),
    /// A file to place byte for byte (hard link or copy): IPAs are never re-zipped.
    Source(PathBuf),
}

/// One file of the site, at a site-relative path with `/` separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub path: String,
    pub content: Content,
}

impl OutFile {
    pub fn bytes(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        OutFile {
            path: path.into(),
            content: Content::Bytes(bytes.into()),
        }
    }

    pub fn source(path: impl Into<String>, source: impl Into<PathBuf>) -> Self {
        OutFile {
            path: path.into(),
            content: Content::Source(source.into()),
        }
    }
}

/// Where rendered files go, a batch at a time and from several threads at once: the writer
/// (so that a build holds one app's pages at a time, not the whole site) or a collector.
pub(crate) type Sink<'a> = dyn Fn(Vec<OutFile>) -> Result<()> + Sync + 'a;
