//! The command line: parse arguments, run a command, print diagnostics, choose the exit code
//! (0 success, 1 failure, 2 bad usage).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::site::{BuildOptions, BuildReport, build};

/// Prints to stdout. A reader that went away (`otasite inspect x.ipa | head -c0`) is not an
/// error: the rest of the output is dropped and the exit status stays what the work decided.
macro_rules! out {
    ($($arg:tt)*) => { write_stdout(format_args!($($arg)*)) };
}

/// Prints a line to stderr; a closed stderr drops it (never a panic).
macro_rules! say {
    ($($arg:tt)*) => { write_stderr(format_args!($($arg)*)) };
}

static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn write_stdout(text: std::fmt::Arguments<'_>) -> Result<()> {
    use std::io::Write as _;
    use std::sync::atomic::Ordering;
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_fmt(text).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        result => result.context("cannot write to standard output"),
    }
}

fn write_stderr(text: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_fmt(text)
        .and_then(|()| stderr.write_all(b"\n"));
}

/// Writes to standard error as is (a progress line that redraws itself).
fn say_raw(text: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(text).and_then(|()| stderr.flush());
}

#[derive(Debug, Parser)]
#[command(
    name = "otasite",
    version,
    about = "Static sites for iOS over-the-air installs"
)]
pub(crate) struct Cli {
    /// Print phase timings and other details (same as OTASITE_LOG=debug).
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build the site from site.yaml and the releases folder.
    Build(BuildArgs),
    /// Build, serve the site locally and rebuild on every save.
    Serve(ServeArgs),
    /// Find every known reason an install would fail, in the built site (and the deployed one).
    Check(CheckArgs),
    /// Show what an .ipa or .mobileprovision says (app, version, icon, profile).
    Inspect {
        /// .ipa or .mobileprovision files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON: one object per file, an array for several.
        #[arg(long)]
        json: bool,
        /// Also print the device UDIDs of the profile (personal data: only when needed).
        #[arg(long)]
        devices: bool,
    },
    /// Upload builds into a releases bucket, as a build from the bucket expects them.
    Publish(PublishArgs),
    /// Upload a built site to a bucket (S3, alone or behind CloudFront) with each file's
    /// headers; only changed files go up, removed ones are deleted after.
    Deploy(DeployArgs),
    /// Create a new site folder with a site.yaml and an empty releases folder.
    Init {
        /// Folder to create the site in.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
struct PublishArgs {
    /// The .ipa files to upload.
    #[arg(required = true)]
    ipas: Vec<PathBuf>,
    /// The bucket folder to put them in: s3://BUCKET/PREFIX/FOLDER/ (credentials, region and
    /// endpoint from AWS_* variables).
    #[arg(long, value_name = "URL")]
    to: String,
    /// Release notes to upload beside them (as <IPA name>.md; notes.md for several IPAs).
    #[arg(long, value_name = "FILE")]
    notes: Option<PathBuf>,
    /// Overwrite an object with other content at the same key.
    #[arg(long)]
    replace: bool,
    /// Print JSON: one object per file uploaded.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct DeployArgs {
    /// The built site (the output folder).
    output_dir: PathBuf,
    /// Where to: s3://BUCKET/PREFIX/.
    to: String,
    /// The site folder whose site.yaml names the releases bucket (never touched by a deploy).
    #[arg(long, default_value = ".")]
    site: PathBuf,
    /// A prefix (relative to the target) to leave alone, besides the releases; repeatable.
    #[arg(long, value_name = "PREFIX")]
    keep: Vec<String>,
    /// Say what would be uploaded and deleted; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// The site folder (holding site.yaml).
    #[arg(default_value = ".")]
    site_dir: PathBuf,
    /// Where to write the site (default: output_dir from site.yaml, inside the site folder).
    #[arg(short, long)]
    output_dir: Option<PathBuf>,
    /// The https:// address the site is published at (overrides base_url).
    #[arg(short = 'u', long)]
    base_url: Option<String>,
    /// The https:// address the IPAs are served from instead of the site (a bucket or CDN;
    /// overrides ipa_base_url): IPAs are then not copied into the output.
    #[arg(long, value_name = "URL")]
    ipa_base_url: Option<String>,
    /// Where to write server configuration (nginx, Caddy); default: server_config_dir from
    /// site.yaml, inside the site folder.
    #[arg(long)]
    server_config_dir: Option<PathBuf>,
    /// Include releases whose notes say `draft: true`.
    #[arg(long)]
    drafts: bool,
    /// Ignore the build cache in SITE_DIR/.otasite/: read every IPA again and rewrite the
    /// cache (use it if you suspect the cache; it is never needed for correctness).
    #[arg(long)]
    no_cache: bool,
    /// Print one JSON document describing the build on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The site folder (holding site.yaml).
    #[arg(default_value = ".")]
    site_dir: PathBuf,
    /// Interface to listen on (another than loopback only when you mean it).
    #[arg(short, long, default_value = "127.0.0.1")]
    interface: String,
    /// Port (0: any free port).
    #[arg(short, long, default_value_t = 1111)]
    port: u16,
    /// The https:// address pages should use (e.g. an HTTPS tunnel to this port, for installs).
    #[arg(short = 'u', long)]
    base_url: Option<String>,
    /// The https:// address the IPAs are served from instead of the site (a bucket or CDN;
    /// overrides ipa_base_url): IPAs are then not copied into the output.
    #[arg(long, value_name = "URL")]
    ipa_base_url: Option<String>,
    /// Open the site in the default browser.
    #[arg(long)]
    open: bool,
    /// Poll for changes instead of native file events (network or container file systems).
    #[arg(long)]
    poll: bool,
    /// Include drafts.
    #[arg(long)]
    drafts: bool,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The site folder (holding site.yaml).
    #[arg(default_value = ".")]
    site_dir: PathBuf,
    /// The built site to check (default: output_dir from site.yaml); built first if missing.
    #[arg(short, long)]
    output_dir: Option<PathBuf>,
    /// The https:// address the IPAs are served from instead of the site (a bucket or CDN;
    /// overrides ipa_base_url): IPAs are then not copied into the output.
    #[arg(long, value_name = "URL")]
    ipa_base_url: Option<String>,
    /// Check that this device (UDID, any case, dashes optional) can install each release.
    #[arg(long = "udid", value_name = "UDID")]
    udids: Vec<String>,
    /// Also check the deployed copy at this https:// address.
    #[arg(long, value_name = "URL")]
    remote: Option<String>,
    /// With --remote: also download every IPA (streaming) and compare its SHA-256 with the
    /// one the build read; slow for large IPAs.
    #[arg(long, requires = "remote")]
    deep: bool,
    /// Trust only this CA (PEM) for --remote, e.g. a company's internal CA.
    #[arg(long, value_name = "FILE")]
    remote_ca: Option<PathBuf>,
    /// Print one JSON document: {"problems": [...], "devices": [...]}.
    #[arg(long)]
    json: bool,
}

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Build(args) => run_build(args),
        Command::Check(args) => run_check(args),
        Command::Serve(args) => crate::serve::serve(crate::serve::ServeOptions {
            build: BuildOptions {
                site_dir: args.site_dir,
                base_url: args.base_url,
                ipa_base_url: args.ipa_base_url,
                drafts: args.drafts,
                ..BuildOptions::default()
            },
            interface: args.interface,
            port: args.port,
            open: args.open,
            poll: args.poll,
        }),
        Command::Init { dir } => init_site(&dir),
        Command::Publish(args) => run_publish(args),
        Command::Deploy(args) => run_deploy(args),
        Command::Inspect {
            files,
            json,
            devices,
        } => run_inspect(&files, json, devices),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<Reported>().is_none() {
                say!("error: {e}");
                for cause in e.chain().skip(1) {
                    say!("  caused by: {cause}");
                }
            }
            let usage = e.downcast_ref::<Usage>().is_some()
                || e.downcast_ref::<crate::serve::BadFlag>().is_some();
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

/// Bad usage, found before any work: a flag's value that cannot be right. Exit status 2.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A failure already told in full (exit status 1, nothing more printed).
#[derive(Debug)]
struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reported above")
    }
}

impl std::error::Error for Reported {}

fn init_logging(verbose: bool) {
    let default = if verbose { "debug" } else { "warn" };
    let env = env_logger::Env::new()
        .filter_or("OTASITE_LOG", default)
        .write_style("OTASITE_LOG_STYLE");
    let _ = env_logger::Builder::from_env(env)
        .format_timestamp(None)
        .format_target(false)
        .try_init();
}

fn print_warning(w: &crate::problem::Problem) {
    say!("warning: {}", crate::text::printable(&w.to_string()));
}

/// The code of the warnings `build` announces before it removes the files they name.
const OUTPUT_NOT_WRITTEN: &str = "output-not-written";

fn run_build(args: BuildArgs) -> Result<()> {
    let start = Instant::now();
    let opts = BuildOptions {
        site_dir: args.site_dir,
        output_dir: args.output_dir,
        base_url: args.base_url,
        ipa_base_url: args.ipa_base_url,
        server_config_dir: args.server_config_dir,
        allow_http: false,
        drafts: args.drafts,
        no_cache: args.no_cache,
        announce: Some(print_warning),
    };
    let report = build(&opts)?;
    // Those about files the build removed were told before it removed them.
    for w in report
        .warnings
        .iter()
        .filter(|w| w.code != OUTPUT_NOT_WRITTEN)
    {
        print_warning(w);
    }
    for url in &report.private_urls {
        say!("private: {url}");
    }
    let elapsed = start.elapsed();
    if args.json {
        out!("{}\n", report_json(&report, elapsed.as_secs_f64()))?;
    } else if report.up_to_date {
        say!(
            "Up to date: nothing changed since the last build of {} ({} files). Done in {} ms.",
            report.output_dir.display(),
            report.files,
            elapsed.as_millis()
        );
    } else {
        say!(
            "Built {} app{}, {} release{} into {} ({} files, {} new or changed). Done in {} ms.",
            report.apps,
            if report.apps == 1 { "" } else { "s" },
            report.releases,
            if report.releases == 1 { "" } else { "s" },
            report.output_dir.display(),
            report.files,
            report.written,
            elapsed.as_millis()
        );
    }
    Ok(())
}

fn report_json(report: &BuildReport, seconds: f64) -> String {
    serde_json::json!({
        "output_dir": report.output_dir,
        "apps": report.apps,
        "releases": report.releases,
        "files": report.files,
        "written": report.written,
        "up_to_date": report.up_to_date,
        "warnings": report.warnings,
        "private": report.private_urls,
        "seconds": seconds,
    })
    .to_string()
}

fn run_check(args: CheckArgs) -> Result<()> {
    use crate::check::{CheckOptions, Severity, check, parse_udid};
    for udid in &args.udids {
        parse_udid(udid).map_err(Usage)?;
    }
    let opts = CheckOptions {
        build: BuildOptions {
            site_dir: args.site_dir,
            output_dir: args.output_dir,
            ipa_base_url: args.ipa_base_url,
            ..BuildOptions::default()
        },
        udids: args.udids,
        remote: args.remote,
        deep: args.deep,
        remote_ca: args.remote_ca,
    };
    let report = check(&opts)?;
    if report.built {
        say!("No built site found: built it first.");
    }
    let errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = report.problems.len() - errors;
    if args.json {
        out!("{}\n", serde_json::to_string_pretty(&report)?)?;
    } else {
        // File names, links and server answers come from the output folder or the deployed
        // copy: printed back, an escape sequence in them would drive the terminal.
        let show = crate::text::printable;
        for p in &report.problems {
            let level = if p.severity == Severity::Error {
                "error"
            } else {
                "warning"
            };
            out!(
                "{level}[{}] {}\n  {}\n  fix: {}\n",
                p.code,
                show(&p.location()),
                show(&p.message),
                show(&p.fix)
            )?;
        }
        for d in &report.devices {
            let verdict = if d.can_install {
                "can install"
            } else {
                "cannot install"
            };
            out!(
                "{} {verdict} {}: {}\n",
                show(&d.udid),
                show(&d.page_url),
                show(&d.reason)
            )?;
        }
        say!(
            "check: {errors} error{}, {warnings} warning{}",
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        );
    }
    if report.has_errors() {
        bail!(
            "{errors} problem{} would make installs fail",
            if errors == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

fn run_publish(args: PublishArgs) -> Result<()> {
    use crate::remote::publish::{Outcome, PublishOptions, publish};
    use std::io::IsTerminal as _;
    fn bar(path: &Path, sent: u64, total: u64) {
        let pct = (sent * 100).checked_div(total).unwrap_or(100);
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let filled = (pct / 5) as usize;
        say_raw(format_args!(
            "\r{name} [{}{}] {pct:>3}% {:.1}/{:.1} MB",
            "#".repeat(filled),
            " ".repeat(20 - filled),
            sent as f64 / 1e6,
            total as f64 / 1e6
        ));
        if sent == total {
            say_raw(format_args!("\n"));
        }
    }
    let progress: Option<fn(&Path, u64, u64)> =
        (!args.json && std::io::stderr().is_terminal()).then_some(bar);
    let published = publish(&PublishOptions {
        ipas: args.ipas,
        to: args.to,
        notes: args.notes,
        replace: args.replace,
        progress,
    })?;
    if args.json {
        return out!("{}\n", serde_json::to_string_pretty(&published)?);
    }
    for p in &published {
        let what = match p.outcome {
            Outcome::Uploaded => "uploaded",
            Outcome::Replaced => "replaced",
            Outcome::AlreadyPublished => "already published",
        };
        out!(
            "{what}: {} -> {} ({} bytes, sha256 {})\n",
            p.file.display(),
            p.url,
            p.size,
            p.sha256
        )?;
    }
    Ok(())
}

fn run_deploy(args: DeployArgs) -> Result<()> {
    use crate::remote::deploy::{DeployOptions, deploy, releases_prefix};
    let mut keep = args.keep;
    if let Some(prefix) = releases_prefix(&args.site, &args.to)? {
        keep.push(prefix);
    }
    let report = deploy(&DeployOptions {
        output_dir: args.output_dir,
        to: args.to,
        keep,
        dry_run: args.dry_run,
    })?;
    if args.json {
        return out!("{}\n", serde_json::to_string_pretty(&report)?);
    }
    let verb = if report.dry_run {
        "would upload"
    } else {
        "uploaded"
    };
    for rel in &report.uploaded {
        out!("{verb}: {rel}\n")?;
    }
    let verb = if report.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for rel in &report.deleted {
        out!("{verb}: {rel}\n")?;
    }
    out!(
        "{}: {} uploaded, {} unchanged, {} deleted, {} kept (releases){}\n",
        report.url,
        report.uploaded.len(),
        report.unchanged,
        report.deleted.len(),
        report.kept,
        if report.dry_run {
            " [dry run: nothing changed]"
        } else {
            ""
        }
    )
}

fn run_inspect(files: &[PathBuf], json: bool, devices: bool) -> Result<()> {
    use crate::inspect::{inspect_file, to_json, to_text};
    let now = chrono::Utc::now();
    let mut values = Vec::new();
    let mut failed = 0;
    for file in files {
        match inspect_file(file) {
            Ok(item) if json => values.push(to_json(file, &item, now, devices)),
            Ok(item) => out!("{}", to_text(file, &item, now, devices))?,
            Err(e) => {
                failed += 1;
                say!("error: {e:#}");
            }
        }
    }
    if json {
        let doc = if files.len() == 1 && values.len() == 1 {
            values.remove(0)
        } else {
            serde_json::Value::Array(values)
        };
        out!("{}\n", serde_json::to_string_pretty(&doc)?)?;
    }
    match failed {
        0 => {}
        // Its own line said everything.
        _ if files.len() == 1 => return Err(Reported.into()),
        _ => bail!("{failed} of {} files could not be inspected", files.len()),
    }
    Ok(())
}

const INIT_SITE_YAML: &str = concat!(
    "# otasite configuration: ",
    env!("CARGO_PKG_REPOSITORY"),
    "#configuration\n",
    "\
title: My Test Builds
# The https:// address the site will be published at.
base_url: https://beta.example.com/
# releases_dir: releases
# output_dir: public
# language: en        # or de
# noindex: true       # keep test builds out of search engines
# Where the site is published, one or more of: nginx, apache, iis, netlify, cloudflare,
# github-pages, vercel, caddy. Naming it makes the build warn about its limits (file and
# site sizes); without this line otasite writes the files of every host and warns about none.
# hosting: [github-pages]
# IPAs too large for the host (GitHub Pages: 100 MB, Cloudflare Pages: 25 MiB a file) can live
# in object storage behind a CDN: upload the releases folder there as it is and set its public
# https:// address; the IPAs are then linked from there and not copied into the site.
# ipa_base_url: https://cdn.example.com/releases/
"
);

const INIT_RELEASES_README: &str = "\
# Releases

Put each build here as an `.ipa` file, in any folder layout you like, for example:

    releases/
      1.4.0/MyApp.ipa
      1.4.0/notes.md          release notes for every IPA in this folder
      nightly/MyApp.ipa
      nightly/MyApp.md        or notes for one IPA: same name, .md

Notes are Markdown with optional front matter:

    ---
    title: Shared notebooks
    date: 2026-10-20
    channel: beta            # default: stable
    draft: false             # drafts are left out unless `otasite build --drafts`
    summary: One line for feeds
    ---
    - What changed, for testers.
    ![screenshot](screen.png)   images next to the notes are copied

Releases are grouped into apps by bundle id and ordered by version, then build.
Hidden folders and __MACOSX are ignored. Run `otasite build` in the site folder.
";

fn init_site(dir: &Path) -> Result<()> {
    let files = [
        (dir.join("site.yaml"), INIT_SITE_YAML),
        (dir.join("releases").join("README.md"), INIT_RELEASES_README),
        (
            dir.join(".gitignore"),
            "/public/\n/server-config/\n/.otasite/\n",
        ),
    ];
    let existing: Vec<String> = files
        .iter()
        .filter(|(p, _)| p.exists())
        .map(|(p, _)| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        bail!(
            "{} already exist{}; otasite init never overwrites files. Remove them or choose another folder",
            existing.join(", "),
            if existing.len() == 1 { "s" } else { "" }
        );
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    say!(
        "Created {}. Set title and base_url, put .ipa files under {}, then run `otasite build {}`.",
        files[0].0.display(),
        dir.join("releases").display(),
        dir.display()
    );
    Ok(())
}
