//! otasite: a static site generator for iOS over-the-air distribution.
//!
//! The build, in `site`, runs one way, and nothing points back at it:
//!
//! ```text
//!   config, discover, ipa, notes     load the inputs (the only readers); strays says what
//!                                    they leave out (files in the wrong place)
//!   model                            assembles releases and apps (pure)
//!   rules                            what stops an install, what hosts refuse (pure)
//!   render, manifest, hosting        the model as files (pure; reuse through render::Memo)
//!   output                           the one place that writes the site
//!   cache                            what the next build need not do again (.otasite/)
//! ```
//!
//! `check` and `serve` drive the same stages; `cli` is the command-line edge. As a library,
//! otasite offers what its commands do: [`load_site`], [`build`], [`check()`] and
//! [`inspect_file`]. Test support (synthetic IPAs, fuzz entry points) is behind the
//! `testkit` feature, which the shipped binary does not have.

// Everything is `pub(crate)` unless it is part of the surface below; with `testkit` on (as in
// every test, bench and clippy run) the surface is largest, so that is where the lint speaks.
#![cfg_attr(feature = "testkit", warn(unreachable_pub))]

mod cache;
mod check;
mod cli;
mod config;
mod discover;
mod files;
mod hosting;
mod html;
mod icon;
mod inspect;
mod ipa;
mod limits;
mod manifest;
mod model;
mod notes;
mod output;
mod paths;
mod private;
mod problem;
mod remote;
mod render;
mod rules;
mod serve;
mod site;
mod strays;
mod suggest;
#[cfg(feature = "testkit")]
pub mod testkit;
mod text;
mod timing;
mod udid;
mod urls;
mod version;
mod walk;
mod yaml;

pub use check::{CheckOptions, CheckReport, check};
pub use cli::run as run_cli;
pub use config::{Config, Host};
pub use inspect::{Inspected, inspect_file};
pub use ipa::{Ipa, IpaError, read_ipa};
pub use model::{App, Release};
pub use notes::Notes;
pub use problem::{Problem, Severity};
pub use site::{BuildOptions, BuildReport, LoadedSite, build, load_site};
