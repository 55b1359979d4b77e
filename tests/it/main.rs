//! The integration tests, as one test binary: one link step instead of one per file, and the
//! shared helpers in `common` compiled once. Each module was a file of its own in `tests/`;
//! run one with `cargo test --test it content::` (a test name filter).

mod common;

mod amp;
mod answers;
mod bench_smoke;
mod browsers;
mod build;
mod cache;
mod check;
mod content;
mod deploy_recipes;
mod docs;
mod failures;
mod fuzz_corpus;
mod hostile;
mod insight;
mod private;
mod real_world;
mod serve;
mod servers;
mod storage;
mod udid;
