use std::process::ExitCode;

fn main() -> ExitCode {
    otasite::run_cli()
}
