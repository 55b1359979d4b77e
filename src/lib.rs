//! otasite: a static site generator for iOS over-the-air distribution.
//!
//! Pipeline: `config` + `discover` + `ipa` + `notes` load the inputs (I/O), `model` assembles
//! them (pure), `render` and `manifest` turn the model into bytes (pure), and `output` is the one
//! place that writes. `site` runs the stages in order; `cli` is the command-line edge.

pub mod cache;
pub mod check;
pub mod cli;
pub mod config;
pub mod discover;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod hosting;
pub mod html;
pub mod icon;
pub mod inspect;
pub mod ipa;
pub mod limits;
pub mod manifest;
pub mod model;
pub mod notes;
pub mod output;
pub mod paths;
pub mod private;
pub mod problem;
pub mod render;
pub mod rules;
pub mod serve;
pub mod site;
pub mod testkit;
pub mod text;
pub mod timing;
pub mod urls;
pub mod version;
pub(crate) mod walk;
