//! Orchestration of a build: load, assemble, render, write. Each stage is timed at debug level.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use rayon::prelude::*;

use crate::cache::Caches;
use crate::config::{Config, parse_base_url};
use crate::discover::{self, Found, discover};
use crate::files::{Content, OutFile, Sink};
use crate::hosting;
use crate::ipa::read_ipa;
use crate::model::{App, LoadedRelease, assemble};
use crate::notes::{Notes, load_notes};
use crate::output::{self, Staging};
use crate::problem::Problem;
use crate::remote::Mirror;
use crate::render::{Theme, render_site};
use crate::rules::hosts::host_problems;
use crate::rules::release::apps_problems;
use crate::strays;
use crate::timing::timed;
use crate::urls::SiteUrls;

pub(crate) mod record;

/// What `otasite build` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub site_dir: PathBuf,
    /// Overrides `output_dir` (relative to the working directory, like any CLI path).
    pub output_dir: Option<PathBuf>,
    /// Overrides `base_url`.
    pub base_url: Option<String>,
    /// Overrides `ipa_base_url` (where the IPAs are served from instead of the site).
    pub ipa_base_url: Option<String>,
    /// Accept an http:// `base_url` override (the dev server's local address).
    pub allow_http: bool,
    /// Overrides `server_config_dir` (relative to the working directory).
    pub server_config_dir: Option<PathBuf>,
    pub drafts: bool,
    /// Ignore the build cache in `.otasite/` (read everything again; the cache is refreshed).
    pub no_cache: bool,
    /// Told each warning about a file this build is about to remove from the output, before
    /// it does (the report lists them too).
    pub announce: Option<fn(&Problem)>,
}

/// What a finished build did.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BuildReport {
    pub output_dir: PathBuf,
    /// The addresses of private releases, for the person who built them (never in the site).
    pub private_urls: Vec<String>,
    pub apps: usize,
    pub releases: usize,
    pub files: usize,
    /// Server configuration written beside the site (nginx.conf, Caddyfile).
    pub server_files: Vec<PathBuf>,
    /// Files written because they are new or changed (the others were carried over).
    pub written: usize,
    /// Nothing had changed since the last build, which this report repeats.
    pub up_to_date: bool,
    /// When the pages would next read differently with nothing changed (a profile expiring).
    pub valid_until: Option<chrono::DateTime<Utc>>,
    pub warnings: Vec<Problem>,
}

/// Loads the configuration with command-line overrides applied.
pub(crate) fn load_config(opts: &BuildOptions) -> Result<Config> {
    let mut config = Config::load(&opts.site_dir)?;
    if let Some(url) = &opts.base_url {
        config.base_url = if opts.allow_http {
            crate::config::parse_base_url_allowing_http(url).context("--base-url")?
        } else {
            parse_base_url(url).context("--base-url")?
        };
    }
    if let Some(url) = &opts.ipa_base_url {
        config.ipa_base_url =
            Some(crate::config::parse_ipa_base_url(url).context("--ipa-base-url")?);
    }
    if let Some(udid) = &mut config.udid {
        udid.signing = crate::udid::signing_from_env(&opts.site_dir)?;
    }
    Ok(config)
}

/// A site's configuration and releases, loaded and assembled, before anything is rendered.
pub struct LoadedSite {
    pub config: Config,
    pub output_dir: PathBuf,
    pub server_config_dir: PathBuf,
    pub apps: Vec<App>,
    /// Private releases, grouped like `apps` but listed nowhere.
    pub private: Vec<App>,
    pub warnings: Vec<Problem>,
}

/// Reads the configuration, every IPA and every notes file, and assembles the model.
pub fn load_site(opts: &BuildOptions) -> Result<LoadedSite> {
    load_site_with(opts, &Caches::default())
}

/// Like [`load_site`], reusing IPAs the cache read before (when unchanged).
pub fn load_site_with(opts: &BuildOptions, caches: &Caches) -> Result<LoadedSite> {
    let config = load_config(opts)?;
    let bucket = open_bucket(opts, &config)?;
    load_site_from(opts, caches, config, bucket.as_ref())
}

/// The releases bucket, listed and with its notes copied, when `releases_dir` names one.
pub(crate) fn open_bucket(opts: &BuildOptions, config: &Config) -> Result<Option<Mirror>> {
    let Some(url) = &config.releases_bucket else {
        return Ok(None);
    };
    if config.ipa_base_url.is_none() {
        bail!(
            "{}: `releases_dir` is a bucket ({url}) but `ipa_base_url` is not set: add the \
             public https:// address the bucket's IPAs are served at (its CDN or public \
             endpoint), e.g. `ipa_base_url: https://builds.example.com/`, or pass \
             --ipa-base-url",
            opts.site_dir.join("site.yaml").display()
        );
    }
    timed("list the releases bucket", || {
        Mirror::sync(url, &opts.site_dir)
    })
    .map(Some)
}

/// Loads the site of `config`, its releases in `bucket` when there is one.
fn load_site_from(
    opts: &BuildOptions,
    caches: &Caches,
    config: Config,
    bucket: Option<&Mirror>,
) -> Result<LoadedSite> {
    let releases_dir = opts.site_dir.join(&config.releases_dir);
    let (output_dir, server_config_dir) = resolve_dirs(opts, &config);
    let sources = sources(&opts.site_dir, &config);
    check_output_dir(&output_dir, &opts.site_dir, &sources)?;
    check_server_config_dir(&server_config_dir, &output_dir, &sources)?;
    let mut warnings = Vec::new();
    let discovery = timed("discover", || match bucket {
        None => caches.discovery(&releases_dir, || discover(&releases_dir)),
        Some(m) => {
            let (ipas, files) = m.paths();
            discover::assemble(&m.root, ipas, &files, &Default::default())
        }
    })?;
    let found = &discovery.found;
    if bucket.is_none() {
        check_found_inside(found, &[&opts.site_dir, &releases_dir])?;
    }
    if found.is_empty() {
        warnings.push(Problem::warning(
            "no-releases",
            releases_dir.display().to_string(),
            "no .ipa files found; the site will list no apps",
            "put each build's .ipa in the releases folder (a folder per app is usual)",
        ));
    }
    warnings.extend(strays::unused_notes_problems(
        &discovery.unused_notes,
        found,
    ));
    let outside = timed("look for IPAs outside the releases folder", || {
        strays::ipas_outside(
            &opts.site_dir,
            &releases_dir,
            &[&output_dir, &server_config_dir],
        )
    });
    warnings.extend(strays::ipa_outside_problems(
        &outside,
        &opts.site_dir,
        &releases_dir,
    ));
    let loaded = timed("read IPAs and notes", || {
        load_all(found, &releases_dir, caches, bucket)
    })?;
    let (private, public): (Vec<LoadedRelease>, Vec<LoadedRelease>) = loaded
        .into_iter()
        .partition(|l| l.notes.private.unwrap_or(config.private));
    let (apps, mut private) = timed("assemble", || {
        anyhow::Ok((
            assemble(public, opts.drafts)?,
            assemble(private, opts.drafts)?,
        ))
    })?;
    if !private.is_empty() {
        let secret = crate::private::load_secret(&config, &opts.site_dir, &output_dir)?;
        crate::model::make_private(&mut private, &secret);
    }
    Ok(LoadedSite {
        config,
        output_dir,
        server_config_dir,
        apps,
        private,
        warnings,
    })
}

/// What rendering produced besides the web root's files (which went to the sink).
pub struct Rendered {
    /// Files for the server configuration folder.
    pub server_files: Vec<OutFile>,
    /// How many files went to the sink.
    pub files: usize,
    pub warnings: Vec<Problem>,
}

/// What passed through the sink, for what needs the whole site: the check that static files
/// do not shadow generated ones, and the site's size.
#[derive(Default)]
struct Seen {
    paths: std::collections::HashSet<String>,
    /// Bytes of the generated files; placed files (IPAs, icons) are sized only if asked.
    generated_bytes: u64,
    placed: Vec<PathBuf>,
}

/// Renders every file of a loaded site (pages, manifests, host files, static files) into
/// `sink`, a batch at a time.
pub(crate) fn render_output(
    site: &LoadedSite,
    site_dir: &Path,
    caches: &Caches,
    sink: &Sink<'_>,
) -> Result<Rendered> {
    let LoadedSite {
        config,
        apps,
        private,
        ..
    } = site;
    let mut warnings = site.warnings.clone();
    let now = Utc::now();
    warnings.extend(apps_problems(apps.iter().chain(private), now));
    let theme = timed("load theme", || {
        Theme::load(site_dir, &config.theme, config.amp)
    })?;
    let strings = crate::render::i18n::Strings::load(
        &config.language,
        &site_dir.join("themes").join(&config.theme),
    )
    .context("site.yaml `language`")?;
    let urls = SiteUrls::of(config);
    let seen = std::sync::Mutex::new(Seen::default());
    let counting = |batch: Vec<OutFile>| {
        if let Ok(mut seen) = seen.lock() {
            for f in &batch {
                match &f.content {
                    Content::Bytes(b) => seen.generated_bytes += b.len() as u64,
                    Content::Source(p) => seen.placed.push(p.clone()),
                }
                seen.paths.insert(f.path.clone());
            }
        }
        sink(batch)
    };
    timed("render", || {
        render_site(
            config,
            &urls,
            &theme,
            (apps, private),
            &strings,
            now,
            caches,
            &counting,
        )
    })?;
    let policy = hosting::Policy {
        noindex: config.noindex,
        base_path: config.base_url.path(),
        site_title: &config.title,
        udid: config.udid.is_some(),
    };
    counting(hosting::web_root_files(&config.hosting, &policy))?;
    if let Some(udid) = &config.udid {
        let xml = crate::udid::mobileconfig_xml(&config.base_url, &config.title);
        let profile = match &udid.signing {
            Some(signing) => timed("sign udid.mobileconfig", || {
                crate::udid::sign(&xml, signing)
            })?,
            None => xml,
        };
        counting(vec![OutFile::bytes(crate::udid::PROFILE_FILE, profile)])?;
    }
    let server_files = hosting::server_files(&config.hosting, &policy);
    let statics = match seen.lock() {
        Ok(s) => static_files(&site_dir.join("static"), &s.paths)?,
        Err(_) => bail!("internal error: a render thread panicked"),
    };
    counting(statics)?;

    // IPAs kept at `ipa_base_url` are not in the output: no host limit is theirs.
    let ipas: Vec<(String, u64)> = apps
        .iter()
        .chain(private)
        .flat_map(|a| &a.releases)
        .filter(|_| urls.ipas_in_site())
        .map(|r| (r.ipa.path.display().to_string(), r.ipa.size))
        .collect();
    warnings.extend(crate::private::public_ipa_problems(
        config,
        (private.iter().flat_map(|a| &a.releases)).map(|r| r.ipa.path.as_path()),
    ));
    let seen = seen.into_inner().unwrap_or_default();
    let site_bytes = || {
        let placed: u64 = (seen.placed.iter())
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum();
        seen.generated_bytes + placed
    };
    warnings.extend(host_problems(config.named_hosts(), &ipas, site_bytes));
    warnings.extend(crate::rules::hosts::udid_host_problems(config));
    Ok(Rendered {
        server_files,
        files: seen.paths.len(),
        warnings,
    })
}

/// Renders a loaded site into memory (for the dev server and tests).
pub fn render_in_memory(
    site: &LoadedSite,
    site_dir: &Path,
    caches: &Caches,
) -> Result<(Vec<OutFile>, Rendered)> {
    let files = std::sync::Mutex::new(Vec::new());
    let rendered = render_output(site, site_dir, caches, &|batch| {
        files
            .lock()
            .map_err(|_| anyhow::anyhow!("internal error: a render thread panicked"))?
            .extend(batch);
        Ok(())
    })?;
    let files = files.into_inner().unwrap_or_default();
    Ok((files, rendered))
}

/// Builds the site; on any error the previous output is left untouched.
///
/// Uses the cache in `SITE_DIR/.otasite/`: when nothing changed since the last build it only
/// checks so, and it opens no IPA it read before.
pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
    let config = load_config(opts)?;
    let (output_dir, server_config_dir) = resolve_dirs(opts, &config);
    let bucket = open_bucket(opts, &config)?;
    let inputs = timed("fingerprint inputs", || {
        record::inputs_digest(&record::BuildPaths {
            opts,
            config: &config,
            output_dir: &output_dir,
            server_config_dir: &server_config_dir,
            bucket_listing: bucket.as_ref().map(|m| m.listing_digest.as_str()),
        })
    });
    if !opts.no_cache
        && let Some(report) = timed("check the last build", || {
            record::up_to_date(&opts.site_dir, &inputs, &output_dir, Utc::now())
        })
    {
        return Ok(report);
    }
    // Before the build replaces the output folder, and removes them.
    let unwritten = strays::unwritten_output_problems(
        &record::unwritten(&opts.site_dir, &output_dir),
        &output_dir,
        &opts.site_dir,
    );
    if let Some(announce) = opts.announce {
        unwritten.iter().for_each(announce);
    }
    record::forget(&opts.site_dir);
    let caches = Caches::on_disk(&opts.site_dir, !opts.no_cache);
    let result = load_site_from(opts, &caches, config, bucket.as_ref())
        .and_then(|site| write_site(&site, &opts.site_dir, &caches));
    let saved = timed("save the cache", || caches.save(result.is_ok()));
    let mut report = result?;
    let recorded = saved.and_then(|()| record::save(&opts.site_dir, &inputs, &report));
    // Not recorded: an up-to-date build must not say again that it removes them.
    report.warnings.splice(0..0, unwritten);
    if let Err(e) = recorded {
        report.warnings.push(Problem::warning(
            "cache-unwritable",
            opts.site_dir
                .join(crate::cache::CACHE_DIR)
                .display()
                .to_string(),
            format!(
                "the build cache could not be written ({e:#}); the next build will do all its \
                 work again"
            ),
            "make the folder writable, or remove it",
        ));
    }
    Ok(report)
}

/// The output and server configuration folders, with command-line overrides applied.
fn resolve_dirs(opts: &BuildOptions, config: &Config) -> (PathBuf, PathBuf) {
    let output_dir = opts
        .output_dir
        .clone()
        .unwrap_or_else(|| opts.site_dir.join(&config.output_dir));
    let server_config_dir = opts
        .server_config_dir
        .clone()
        .unwrap_or_else(|| opts.site_dir.join(&config.server_config_dir));
    (output_dir, server_config_dir)
}

/// Renders and writes a loaded site (for callers that already loaded it, like `check`).
pub(crate) fn write_site(
    site: &LoadedSite,
    site_dir: &Path,
    caches: &Caches,
) -> Result<BuildReport> {
    // Each batch is written as soon as it is rendered: the site is never whole in memory.
    let releases_dir = site_dir.join(&site.config.releases_dir);
    let staging = Staging::begin(&site.output_dir)?.placing_from(&[site_dir, &releases_dir]);
    let written = std::sync::atomic::AtomicUsize::new(0);
    let Rendered {
        server_files,
        files,
        warnings,
    } = timed("render and write", || {
        render_output(site, site_dir, caches, &|batch| {
            let n = staging.write_all(&batch)?;
            written.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
    })?;
    timed("commit", || {
        output::write_beside(&site.server_config_dir, &server_files, hosting::MARKER)?;
        staging.commit()
    })?;
    let written = written.into_inner();
    let urls = SiteUrls::of(&site.config);
    let all: Vec<&App> = site.apps.iter().chain(&site.private).collect();
    Ok(BuildReport {
        private_urls: site
            .private
            .iter()
            .flat_map(|a| &a.releases)
            .map(|r| {
                format!(
                    "{} {} ({}): {}",
                    r.name(),
                    r.version(),
                    r.build(),
                    urls.abs(&r.dir)
                )
            })
            .collect(),
        output_dir: site.output_dir.clone(),
        apps: site.apps.len(),
        releases: site.apps.iter().map(|a: &App| a.releases.len()).sum(),
        files,
        server_files: server_files
            .iter()
            .map(|f| site.server_config_dir.join(&f.path))
            .collect(),
        written,
        up_to_date: false,
        valid_until: record::valid_until(&all, Utc::now()),
        warnings,
    })
}

/// Reads every IPA and notes file in parallel; reports every failure, not just the first.
fn load_all(
    found: &[Found],
    releases_dir: &Path,
    caches: &Caches,
    bucket: Option<&Mirror>,
) -> Result<Vec<LoadedRelease>> {
    // Every note is repeated by pages, feeds and releases.json: bound them all, before and
    // after they are rendered.
    crate::notes::check_total(
        found.iter().filter_map(|f| {
            let path = f.notes.as_ref()?;
            Some((path.clone(), std::fs::metadata(path).map_or(0, |m| m.len())))
        }),
        crate::limits::MAX_NOTES_TOTAL_BYTES,
        "MAX_NOTES_TOTAL_BYTES",
        "Markdown",
    )?;
    // Largest first, so that one big IPA is not left to hash alone at the end.
    let mut order: Vec<(u64, usize)> = found
        .iter()
        .enumerate()
        .map(|(i, f)| (std::fs::metadata(&f.ipa).map_or(0, |m| m.len()), i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let read = || -> Vec<(usize, Result<LoadedRelease>)> {
        order
            .par_iter()
            .map(|&(_, i)| (i, load_one(&found[i], releases_dir, caches, bucket)))
            .collect()
    };
    let mut results = match bucket {
        // Reads from a bucket wait on round trips, not on the CPU: more in flight than cores.
        Some(_) => rayon::ThreadPoolBuilder::new()
            .num_threads(crate::remote::ranged::READS_IN_FLIGHT)
            .build()
            .map_or_else(|_| read(), |pool| pool.install(read)),
        None => read(),
    };
    results.sort_by_key(|(i, _)| *i);
    let mut loaded = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for (_, r) in results {
        match r {
            Ok(l) => loaded.push(l),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if errors.is_empty() {
        crate::notes::check_total(
            loaded.iter().filter_map(|l| {
                let html = l.notes.html_marked.as_ref()?;
                Some((l.notes_path.clone()?, html.len() as u64))
            }),
            crate::limits::MAX_NOTES_HTML_BYTES,
            "MAX_NOTES_HTML_BYTES",
            "HTML",
        )?;
    }
    match errors.len() {
        0 => Ok(loaded),
        1 => bail!("{}", errors.remove(0)),
        n => bail!("{n} releases could not be read:\n- {}", errors.join("\n- ")),
    }
}

/// Reads one IPA (or takes it from the cache) and its notes.
fn load_one(
    f: &Found,
    releases_dir: &Path,
    caches: &Caches,
    bucket: Option<&Mirror>,
) -> Result<LoadedRelease> {
    let ipa = match bucket.and_then(|m| Some((m, m.object(&f.ipa)?))) {
        Some((m, object)) => caches.ipa_versioned(
            &f.ipa,
            &|| Some(crate::remote::mirror::object_key(object)),
            || crate::remote::ranged::read_remote_ipa(&m.bucket, object, &f.ipa),
        )?,
        None => caches.ipa(&f.ipa, || read_ipa(&f.ipa))?,
    };
    let notes = match &f.notes {
        Some(path) => (*caches.notes(path, || load_notes(path))?).clone(),
        None => Notes::empty(),
    };
    Ok(LoadedRelease {
        ipa,
        notes,
        notes_path: f.notes.clone(),
        source_segments: source_segments(&f.ipa, releases_dir),
    })
}

/// The IPA's path relative to the releases folder, one string per folder and the file name:
/// what follows `ipa_base_url` in its URL (the team uploads the folder as it is).
fn source_segments(ipa: &Path, releases_dir: &Path) -> Vec<String> {
    let rel = ipa.strip_prefix(releases_dir).unwrap_or(ipa);
    rel.components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

/// Every IPA must really be in the site folder or the releases folder: a link out of them is
/// never followed, so that a link committed into `releases/` cannot publish a file from
/// elsewhere on the machine (the output gets a copy of every IPA).
fn check_found_inside(found: &[Found], roots: &[&Path]) -> Result<()> {
    for f in found {
        if !roots.iter().any(|root| crate::paths::inside(&f.ipa, root)) {
            bail!(
                "{}: a link to a file outside the site folder; otasite publishes only files \
                 inside the site (or the releases folder): copy the IPA in, or point \
                 releases_dir at the folder that holds it",
                f.ipa.display()
            );
        }
    }
    Ok(())
}

/// What otasite reads and must never write into: the releases, the theme and static folders,
/// `site.yaml`, the build cache (written only by the cache itself).
fn sources(site_dir: &Path, config: &Config) -> Vec<PathBuf> {
    vec![
        site_dir.join(&config.releases_dir),
        site_dir.join("themes"),
        site_dir.join("static"),
        site_dir.join(crate::config::CONFIG_FILE),
        site_dir.join(crate::cache::CACHE_DIR),
    ]
}

/// The output must not be the site folder, nor contain or sit inside any of its sources
/// (compared as written and with links resolved: `public` may be a link into `releases/`).
fn check_output_dir(output: &Path, site_dir: &Path, sources: &[PathBuf]) -> Result<()> {
    let abs = crate::paths::absolute;
    let same_as_site = abs(output) == abs(site_dir)
        || crate::paths::resolved(output) == crate::paths::resolved(site_dir);
    if let Some(source) = sources.iter().find(|s| crate::paths::overlap(output, s)) {
        bail!(
            "{}: the output folder overlaps {}, which otasite reads; otasite replaces its output \
             whole, so it must be a folder of its own; use e.g. `output_dir: public`",
            output.display(),
            source.display()
        );
    }
    if same_as_site {
        bail!(
            "{}: the output folder must not be the site folder, because otasite replaces it \
             whole; use e.g. `output_dir: public`",
            output.display()
        );
    }
    Ok(())
}

/// Server snippets must not land in the web root, where anyone could read them, nor among
/// the site's sources.
fn check_server_config_dir(dir: &Path, output: &Path, sources: &[PathBuf]) -> Result<()> {
    if crate::paths::overlap(dir, output) {
        bail!(
            "{}: server_config_dir must be outside the output folder {} (server configuration \
             does not belong in the web root); the default is server-config/ in the site folder",
            dir.display(),
            output.display()
        );
    }
    if let Some(source) = sources.iter().find(|s| crate::paths::overlap(dir, s)) {
        bail!(
            "{}: server_config_dir overlaps {}, which otasite reads and never writes into; \
             the default is server-config/ in the site folder",
            dir.display(),
            source.display()
        );
    }
    Ok(())
}

/// Files from `SITE_DIR/static/` (a `CNAME`, a favicon) copied into the site root as they are.
fn static_files(
    static_dir: &Path,
    generated: &std::collections::HashSet<String>,
) -> Result<Vec<OutFile>> {
    if !static_dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    // Compared without case: on a case-insensitive file system `Index.html` is `index.html`.
    let generated: std::collections::HashMap<String, &String> =
        generated.iter().map(|g| (g.to_lowercase(), g)).collect();
    let base = std::fs::canonicalize(static_dir)
        .with_context(|| format!("cannot read {}", static_dir.display()))?;
    for entry in crate::walk::walk(static_dir, &|_| false) {
        let entry = entry.map_err(|e| anyhow::anyhow!("{e}"))?;
        // Links may point within static/ only: nothing from elsewhere goes public by accident.
        if entry.is_link
            && !std::fs::canonicalize(&entry.path).is_ok_and(|real| real.starts_with(&base))
        {
            bail!(
                "{}: a symbolic link to outside static/; copy the file in instead",
                entry.path.display()
            );
        }
        // Each folder is copied once: a second path to it would be a second copy (and links
        // that fan out would multiply them).
        if let Some(first) = &entry.walked_as {
            bail!(
                "{}: a symbolic link to a folder already copied as {}; each folder of static/ \
                 is copied once: remove the link or copy the files in",
                entry.path.display(),
                first.display()
            );
        }
        if !entry.is_file() {
            continue;
        }
        let rel = entry
            .path
            .strip_prefix(static_dir)
            .unwrap_or(&entry.path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if let Some(own) = generated.get(&rel.to_lowercase()) {
            bail!(
                "{}: otasite generates {own} itself; remove or rename the static file",
                entry.path.display()
            );
        }
        files.push(OutFile {
            path: rel,
            content: Content::Source(entry.path),
        });
    }
    Ok(files)
}
