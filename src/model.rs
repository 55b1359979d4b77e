//! The site as plain data, assembled from what was loaded. No I/O.
//!
//! Releases are grouped into apps by bundle id and ordered newest first (version, then build,
//! compared component-wise); every output path is decided here, once, from slugs.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Result, bail};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::ipa::Ipa;
use crate::notes::Notes;
use crate::urls::slugify;
use crate::version;

/// Stands for "the site root" in `Release::notes_html`. It cannot come from a note: Markdown
/// replaces NUL characters.
pub(crate) const ROOT_MARK: &str = "\u{0}root\u{0}";

/// One IPA with its notes, as loaded.
#[derive(Debug, Clone)]
pub(crate) struct LoadedRelease {
    pub ipa: std::sync::Arc<Ipa>,
    pub notes: Notes,
    pub notes_path: Option<PathBuf>,
    /// The IPA's path relative to the releases folder, by segment (see `Release`).
    pub source_segments: Vec<String>,
}

/// A release in the site.
#[derive(Debug, Clone)]
pub struct Release {
    pub ipa: std::sync::Arc<Ipa>,
    pub notes: Notes,
    pub notes_path: Option<PathBuf>,
    /// The notes' date, else when the app was built (the Info.plist entry's time).
    pub date: Option<DateTime<Utc>>,
    /// Output folder, e.g. `apps/com.acme.beta/1.2.0-45/`.
    pub dir: String,
    /// File name of the IPA in `dir`, e.g. `acme-beta-1.2.0.ipa`.
    pub ipa_file: String,
    /// The notes as safe HTML. Image URLs start with [`ROOT_MARK`], which each page replaces
    /// with its own way to the site root (and feeds with the base URL).
    pub notes_html: String,
    /// Published only under an unguessable path, and listed nowhere.
    pub private: bool,
    /// The IPA's path relative to the releases folder, one string per segment: its address
    /// under `ipa_base_url` when the IPAs are kept outside the site.
    pub source_segments: Vec<String>,
}

impl Release {
    pub fn version(&self) -> &str {
        &self.ipa.info.version
    }

    pub fn build(&self) -> &str {
        &self.ipa.info.build
    }

    pub fn name(&self) -> &str {
        &self.ipa.info.name
    }

    pub fn manifest_path(&self) -> String {
        format!("{}manifest.plist", self.dir)
    }

    pub fn ipa_path(&self) -> String {
        format!("{}{}", self.dir, self.ipa_file)
    }

    /// Site-relative path of a notes image.
    pub fn image_path(&self, file_name: &str) -> String {
        format!("{}img/{file_name}", self.dir)
    }
}

/// All releases of one bundle id, newest first.
#[derive(Debug, Clone)]
pub struct App {
    pub bundle_id: String,
    /// The name of the newest release.
    pub name: String,
    /// Output folder, e.g. `apps/com.acme.beta/`.
    pub dir: String,
    pub releases: Vec<Release>,
}

impl App {
    /// The release `latest/` points at: the newest `stable` one, else the newest of any channel.
    pub fn latest(&self) -> &Release {
        self.releases
            .iter()
            .find(|r| r.notes.channel == "stable")
            .unwrap_or(&self.releases[0])
    }

    pub fn latest_dir(&self) -> String {
        format!("{}latest/", self.dir)
    }

    /// Each channel with the index of its newest release: `stable` first, then by name.
    pub fn channels(&self) -> Vec<(&str, usize)> {
        let mut channels: Vec<(&str, usize)> = Vec::new();
        for (i, r) in self.releases.iter().enumerate() {
            if !channels.iter().any(|(c, _)| *c == r.notes.channel) {
                channels.push((&r.notes.channel, i));
            }
        }
        channels.sort_by_key(|(c, _)| (*c != "stable", c.to_ascii_lowercase()));
        channels
    }

    /// `apps/<app>/<channel>/latest/`.
    pub fn channel_latest_dir(&self, channel: &str) -> String {
        format!("{}{}/latest/", self.dir, slugify(channel, "channel"))
    }
}

/// Moves the releases of `apps` under their private paths (`p/<hmac>/`).
pub(crate) fn make_private(apps: &mut [App], secret: &[u8]) {
    for r in apps.iter_mut().flat_map(|a| a.releases.iter_mut()) {
        r.dir = crate::private::private_dir(secret, &r.ipa.info.bundle_id, r.version(), r.build());
        r.notes_html = r.notes.html(&format!("{ROOT_MARK}{}img/", r.dir));
        r.private = true;
    }
}

/// Who claims a name inside an app's folder: a release, a channel, or otasite itself.
enum Claim<'a> {
    Release(&'a Release),
    Channel(&'a Release),
    Reserved(&'static str),
}

impl Claim<'_> {
    fn describe(&self) -> String {
        match self {
            Claim::Release(r) => {
                format!("{} ({} ({}))", r.ipa.path.display(), r.version(), r.build())
            }
            Claim::Channel(r) => format!(
                "the channel {:?} of {}",
                r.notes.channel,
                r.notes_path.as_deref().unwrap_or(&r.ipa.path).display()
            ),
            Claim::Reserved(what) => (*what).to_string(),
        }
    }
}

/// Decides that every name inside the app's folder `dir` has one owner: each release's
/// folder, each channel's folder, and the names otasite writes itself (`index.html`,
/// `feed.xml`, `latest/`). Names are compared without case, as case-insensitive file systems
/// (macOS, Windows) would. Also refuses names longer than a file system accepts.
///
/// Every output path is decided here, before anything is written: two sources that would share
/// one are an error naming both, never one file written over the other.
fn check_folders(bundle_id: &str, dir: &str, releases: &[Release]) -> Result<()> {
    let mut owners: std::collections::HashMap<String, Claim<'_>> = std::collections::HashMap::new();
    for (name, what) in [
        ("index.html", "the app page"),
        ("feed.xml", "the app's feed"),
        ("latest", "the app's latest/ folder"),
    ] {
        owners.insert(name.to_string(), Claim::Reserved(what));
    }
    let mut channels_seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let claims = releases.iter().flat_map(|r| {
        let channel = channels_seen
            .insert(r.notes.channel.as_str())
            .then(|| (slugify(&r.notes.channel, "channel"), Claim::Channel(r)));
        let own = r
            .dir
            .strip_prefix(dir)
            .unwrap_or(&r.dir)
            .trim_end_matches('/');
        [Some((own.to_string(), Claim::Release(r))), channel]
    });
    for (name, claim) in claims.flatten() {
        let max = crate::limits::MAX_FILE_NAME_BYTES;
        if name.len() > max {
            bail!(
                "{}: its output folder name would be {} bytes, over the {max} a file system \
                 accepts (limits::MAX_FILE_NAME_BYTES); shorten CFBundleShortVersionString, \
                 CFBundleVersion or the channel name",
                claim.describe(),
                name.len()
            );
        }
        if let Some(first) = owners.get(&name.to_lowercase()) {
            let what = match (first, &claim) {
                (Claim::Release(a), Claim::Release(b)) if newest_first(a, b) == Ordering::Equal => {
                    format!(
                        "are the same release ({bundle_id} {} ({}))",
                        b.version(),
                        b.build()
                    )
                }
                _ => format!("would share the output folder {dir}{name}/"),
            };
            let fix = match (first, &claim) {
                (Claim::Release(_), Claim::Release(_)) => {
                    "remove one, or give one a new CFBundleVersion"
                }
                _ => {
                    "rename the channel (channel names that differ only in case or punctuation \
                      are one folder)"
                }
            };
            bail!(
                "{} and {} {what}: {fix}",
                first.describe(),
                claim.describe()
            );
        }
        owners.insert(name.to_lowercase(), claim);
    }
    Ok(())
}

/// Newest first: by version, then by build.
pub(crate) fn newest_first(a: &Release, b: &Release) -> Ordering {
    version::compare(b.version(), a.version()).then_with(|| version::compare(b.build(), a.build()))
}

/// Groups loaded releases into apps, leaving drafts out unless `include_drafts`.
///
/// Errors when two IPAs are the same release, or two releases would share an output folder.
pub(crate) fn assemble(loaded: Vec<LoadedRelease>, include_drafts: bool) -> Result<Vec<App>> {
    let mut by_bundle: BTreeMap<String, (String, Vec<Release>)> = BTreeMap::new();
    for l in loaded
        .into_iter()
        .filter(|l| include_drafts || !l.notes.draft)
    {
        let info = &l.ipa.info;
        let app_slug = slugify(&info.bundle_id, "app");
        let app_dir = format!("apps/{app_slug}/");
        let dir = format!(
            "{app_dir}{}-{}/",
            slugify(&info.version, "0"),
            slugify(&info.build, "0")
        );
        let version_slug = slugify(&info.version, "0");
        let mut name_slug = slugify(&info.name, &app_slug);
        // Slugs are ASCII: any byte count is a character boundary.
        name_slug.truncate(
            crate::limits::MAX_NAME_SLUG_BYTES.min(
                crate::limits::MAX_FILE_NAME_BYTES
                    .saturating_sub(version_slug.len() + ".ipa".len() + 1),
            ),
        );
        let ipa_file = format!("{name_slug}-{version_slug}.ipa");
        let date = l.notes.date.or_else(|| {
            l.ipa
                .built_at
                .as_deref()
                .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok())
                .map(|t| t.and_utc())
        });
        let notes_html = l.notes.html(&format!("{ROOT_MARK}{dir}img/"));
        let entry = by_bundle.entry(info.bundle_id.clone());
        entry
            .or_insert_with(|| (app_dir, Vec::new()))
            .1
            .push(Release {
                ipa: l.ipa,
                notes: l.notes,
                notes_path: l.notes_path,
                date,
                dir,
                ipa_file,
                notes_html,
                private: false,
                source_segments: l.source_segments,
            });
    }

    let mut apps = Vec::with_capacity(by_bundle.len());
    let mut app_dirs: BTreeMap<String, String> = BTreeMap::new();
    for (bundle_id, (dir, mut releases)) in by_bundle {
        releases.sort_by(|a, b| newest_first(a, b).then_with(|| a.ipa.path.cmp(&b.ipa.path)));
        check_folders(&bundle_id, &dir, &releases)?;
        if let Some(other) = app_dirs.insert(dir.clone(), bundle_id.clone()) {
            bail!(
                "the apps {other} and {bundle_id} would share the output folder {dir}: \
                 bundle ids that differ only in case or punctuation cannot be told apart in URLs"
            );
        }
        apps.push(App {
            name: releases[0].name().to_string(),
            bundle_id,
            dir,
            releases,
        });
    }
    apps.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.bundle_id.cmp(&b.bundle_id))
    });
    Ok(apps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipa::AppInfo;

    fn loaded(bundle: &str, version: &str, build: &str, channel: &str) -> LoadedRelease {
        LoadedRelease {
            ipa: std::sync::Arc::new(Ipa {
                path: PathBuf::from(format!("releases/{bundle}-{version}-{build}.ipa")),
                info: AppInfo {
                    bundle_id: bundle.into(),
                    version: version.into(),
                    build: build.into(),
                    name: "Acme & Co".into(),
                    min_os: None,
                    device_family: vec![1],
                    icon_names: Vec::new(),
                },
                app_dir: "Payload/A.app/".into(),
                size: 1,
                sha256: "00".into(),
                built_at: Some("2024-01-02T03:04:05".into()),
                signed: true,
                has_profile: true,
                icon: None,
                profile: None,
                warnings: Vec::new(),
            }),
            notes: Notes {
                channel: channel.into(),
                ..Notes::empty()
            },
            notes_path: None,
            source_segments: vec![format!("{bundle}-{version}-{build}.ipa")],
        }
    }

    #[test]
    fn groups_and_orders_newest_first() {
        let apps = assemble(
            vec![
                loaded("com.b", "1.9.0", "1", "stable"),
                loaded("com.b", "1.10.0", "1", "stable"),
                loaded("com.b", "1.10.0", "2", "beta"),
                loaded("com.a", "1.0", "1", "stable"),
            ],
            false,
        )
        .unwrap();
        assert_eq!(apps.len(), 2);
        let b = apps.iter().find(|a| a.bundle_id == "com.b").unwrap();
        let order: Vec<(&str, &str)> = b
            .releases
            .iter()
            .map(|r| (r.version(), r.build()))
            .collect();
        assert_eq!(
            order,
            vec![("1.10.0", "2"), ("1.10.0", "1"), ("1.9.0", "1")]
        );
        assert_eq!(b.dir, "apps/com.b/");
        assert_eq!(b.releases[0].dir, "apps/com.b/1.10.0-2/");
        assert_eq!(b.releases[0].ipa_file, "acme-co-1.10.0.ipa");
        // latest follows the newest stable release, not the newer beta
        assert_eq!(b.latest().build(), "1");
        assert_eq!(b.channels(), vec![("stable", 1), ("beta", 0)]);
        assert_eq!(b.channel_latest_dir("beta"), "apps/com.b/beta/latest/");
        assert_eq!(
            b.releases[0].date.unwrap().to_rfc3339(),
            "2024-01-02T03:04:05+00:00"
        );
    }

    #[test]
    fn duplicate_release_is_an_error_naming_both_files() {
        let e = assemble(
            vec![
                loaded("com.a", "1.0", "1", "stable"),
                loaded("com.a", "1.0.0", "1", "beta"),
            ],
            false,
        );
        // 1.0 and 1.0.0 are the same version but different folders: allowed.
        assert!(e.is_ok());
        let mut twin = loaded("com.a", "1.0", "1", "stable");
        std::sync::Arc::make_mut(&mut twin.ipa).path = PathBuf::from("releases/copy.ipa");
        let e = assemble(vec![loaded("com.a", "1.0", "1", "stable"), twin], false).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("copy.ipa") && msg.contains("com.a-1.0-1.ipa"),
            "{msg}"
        );
        assert!(msg.contains("same release"), "{msg}");
    }

    #[test]
    fn drafts_are_left_out_unless_asked() {
        let mut d = loaded("com.a", "2.0", "1", "stable");
        d.notes.draft = true;
        let apps = assemble(
            vec![loaded("com.a", "1.0", "1", "stable"), d.clone()],
            false,
        )
        .unwrap();
        assert_eq!(apps[0].releases.len(), 1);
        let apps = assemble(vec![loaded("com.a", "1.0", "1", "stable"), d], true).unwrap();
        assert_eq!(apps[0].releases.len(), 2);
    }

    #[test]
    fn colliding_app_folders_are_an_error() {
        let e = assemble(
            vec![
                loaded("com.Acme", "1", "1", "stable"),
                loaded("com.acme", "1", "1", "stable"),
            ],
            false,
        );
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("share the output folder")
        );
    }
}
