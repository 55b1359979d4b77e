//! Phase timings, reported at debug log level (`RUST_LOG=debug`).

use std::time::Instant;

/// Runs `f`, logging how long `phase` took.
pub(crate) fn timed<T>(phase: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let result = f();
    log::debug!("{phase}: {:.1} ms", start.elapsed().as_secs_f64() * 1000.0);
    result
}
