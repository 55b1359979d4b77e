use std::process::ExitCode;

fn main() -> ExitCode {
    otasite::cli::run()
}
