//! What a build would otherwise leave out without a word: an IPA outside the releases folder
//! (in the site folder, or in a misspelt `release/`), notes that go with no IPA, and files in
//! the output folder that otasite did not write (and that the build removes). Each is a
//! warning naming the file and what to do.

use std::path::{Path, PathBuf};

use crate::discover::Found;
use crate::problem::Problem;

/// How deep in the site folder IPAs are looked for (`release/1.0/App.ipa` is 3): enough for
/// a misplaced release, not a walk of a whole repository.
const SITE_DEPTH: usize = 4;

/// Folders of the site folder that hold no releases: the theme, static files, tools' own.
const NOT_RELEASES: &[&str] = &["themes", "static", "node_modules", "__MACOSX"];

/// IPAs in the site folder but outside `releases_dir` and the folders in `skip` (the output and
/// server configuration folders), as paths under `site_dir`, in name order. Hidden folders
/// (`.git`, `.otasite`) are skipped, and links are not followed.
pub(crate) fn ipas_outside(site_dir: &Path, releases_dir: &Path, skip: &[&Path]) -> Vec<PathBuf> {
    let Ok(root) = std::fs::canonicalize(site_dir) else {
        return Vec::new();
    };
    let skipped: Vec<PathBuf> = std::iter::once(releases_dir)
        .chain(skip.iter().copied())
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    if skipped.contains(&root) {
        // The releases folder is the site folder: every IPA in it is a release.
        return Vec::new();
    }
    let walk = walkdir::WalkDir::new(&root)
        .max_depth(SITE_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0
                || !e.file_type().is_dir()
                || !(name.starts_with('.')
                    || NOT_RELEASES.contains(&name.as_ref())
                    || skipped.iter().any(|s| s == e.path()))
        });
    walk.filter_map(Result::ok)
        .filter(|e| {
            let ipa = Path::new(e.file_name())
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("ipa"));
            ipa && (e.file_type().is_file() || e.path().is_file())
        })
        .filter_map(|e| Some(site_dir.join(e.path().strip_prefix(&root).ok()?)))
        .collect()
}

/// A warning for each IPA of [`ipas_outside`]: where it should go, and whether its folder looks
/// like a misspelt releases folder.
pub(crate) fn ipa_outside_problems(
    ipas: &[PathBuf],
    site_dir: &Path,
    releases_dir: &Path,
) -> Vec<Problem> {
    let releases = releases_dir.display();
    let releases_name = releases_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ipas.iter()
        .map(|ipa| {
            let rel = ipa.strip_prefix(site_dir).unwrap_or(ipa);
            let mut parts = rel.components();
            let first = parts.next().map(|c| c.as_os_str().to_string_lossy());
            let rest = parts.as_path();
            let misspelt = first.as_deref().filter(|f| {
                !rest.as_os_str().is_empty()
                    && crate::suggest::likely(f, [releases_name.as_str()]).is_some()
            });
            let file = ipa.display().to_string();
            match misspelt {
                Some(folder) => Problem::warning(
                    "ipa-outside-releases",
                    file,
                    format!(
                        "this IPA is in {}, not in the releases folder {releases}, so the site \
                         does not publish it",
                        site_dir.join(folder).display()
                    ),
                    format!(
                        "rename the folder {} to {releases} (it looks misspelt), or move the IPA \
                         to {}",
                        site_dir.join(folder).display(),
                        releases_dir.join(rest).display()
                    ),
                ),
                None => Problem::warning(
                    "ipa-outside-releases",
                    file,
                    format!(
                        "this IPA is outside the releases folder {releases}, so the site does \
                         not publish it"
                    ),
                    format!(
                        "move it into {releases} (for example to {}), or out of the site \
                         folder if it is not a release",
                        releases_dir
                            .join(rel.file_name().unwrap_or(rel.as_os_str()))
                            .display()
                    ),
                ),
            }
        })
        .collect()
}

/// A warning for each notes file that goes with no IPA (see [`crate::discover::Discovery`]):
/// the closest IPA name to rename it to, or that its folder has no IPA.
pub(crate) fn unused_notes_problems(unused: &[PathBuf], found: &[Found]) -> Vec<Problem> {
    unused
        .iter()
        .map(|notes| unused_notes(notes, found))
        .collect()
}

fn unused_notes(notes: &Path, found: &[Found]) -> Problem {
    let dir = notes.parent().unwrap_or(Path::new(""));
    let name = notes.file_name().unwrap_or_default().to_string_lossy();
    let stem = notes.file_stem().unwrap_or_default().to_string_lossy();
    let file = notes.display().to_string();
    let ipas: Vec<&Found> = found
        .iter()
        .filter(|f| f.ipa.parent() == Some(dir))
        .collect();
    let warn = |message: String, fix: String| Problem::warning("notes-unused", &file, message, fix);
    if ipas.is_empty() {
        return warn(
            format!(
                "there is no .ipa in {}, so these notes go with no release and are not published",
                dir.display()
            ),
            if name == "notes.md" {
                format!(
                    "put the build's .ipa in {} (notes.md goes with every IPA in its folder), or \
                     remove the notes",
                    dir.display()
                )
            } else {
                format!(
                    "put {stem}.ipa in {} ({name} goes with the IPA of that name), or remove the \
                     notes",
                    dir.display()
                )
            },
        );
    }
    let own = |f: &Found| f.ipa.with_extension("md");
    if name == "notes.md" {
        let owners: Vec<String> = ipas
            .iter()
            .filter_map(|f| Some(own(f).file_name()?.to_string_lossy().into_owned()))
            .collect();
        return warn(
            format!(
                "not used: every IPA in this folder has notes of its own ({})",
                owners.join(", ")
            ),
            "move what it says into those files and remove it, or remove their own notes so \
             that notes.md is used for all"
                .to_string(),
        );
    }
    let stems: Vec<String> = ipas
        .iter()
        .filter_map(|f| Some(f.ipa.file_stem()?.to_string_lossy().into_owned()))
        .collect();
    let closest = crate::suggest::closest(&stem, stems.iter().map(String::as_str).chain(["notes"]));
    let message = format!(
        "{name} matches no IPA in this folder (notes are <IPA name>.md, or notes.md for every \
         IPA of the folder), so it is not published"
    );
    let fix = match ipas
        .iter()
        .find(|f| f.ipa.file_stem().map(|s| s.to_string_lossy()).as_deref() == closest)
    {
        Some(f) => {
            let ipa = f.ipa.file_name().unwrap_or_default().to_string_lossy();
            let target = own(f);
            let target_name = target.file_name().unwrap_or_default().to_string_lossy();
            if f.notes.as_deref() == Some(target.as_path()) {
                format!(
                    "{target_name} already holds the notes of {ipa}: merge this file into it and \
                     remove it"
                )
            } else {
                format!(
                    "rename it to {target_name} for {ipa} (the closest IPA name here), or to \
                     notes.md for every IPA in this folder"
                )
            }
        }
        None => "rename it to notes.md, the notes of every IPA in this folder".to_string(),
    };
    warn(message, fix)
}

/// A warning for each file (or folder, where nothing in it was written) of the output that
/// the last build did not write: `unwritten` are (path under `output_dir`, files in it).
pub(crate) fn unwritten_output_problems(
    unwritten: &[(String, usize)],
    output_dir: &Path,
    site_dir: &Path,
) -> Vec<Problem> {
    unwritten
        .iter()
        .map(|(rel, files)| {
            let what = if rel.ends_with('/') {
                format!(
                    "this folder ({files} file{})",
                    if *files == 1 { "" } else { "s" }
                )
            } else {
                "this file".to_string()
            };
            Problem::warning(
                "output-not-written",
                output_dir.join(rel).display().to_string(),
                format!(
                    "otasite did not write {what}, and this build removes it: every build \
                     replaces the output folder whole"
                ),
                format!(
                    "to publish it with the site, put it in {} (copied into the site root as it \
                     is); to keep it apart from the site, keep it outside {}",
                    site_dir.join("static").join(rel).display(),
                    output_dir.display()
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch(root: &Path, rel: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, b"x").unwrap();
    }

    #[test]
    fn finds_ipas_outside_the_releases_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path();
        for rel in [
            "Root.ipa",
            "release/1.0/Typo.ipa",
            "releases/1.0/Good.ipa",
            "public/apps/x/Out.ipa",
            "server-config/Conf.ipa",
            ".git/x/Git.ipa",
            "node_modules/pkg/Mod.ipa",
            "themes/default/Theme.ipa",
            "static/Static.ipa",
            "a/b/c/d/TooDeep.ipa",
        ] {
            touch(site, rel);
        }
        let found = ipas_outside(
            site,
            &site.join("releases"),
            &[&site.join("public"), &site.join("server-config")],
        );
        assert_eq!(
            found,
            [site.join("Root.ipa"), site.join("release/1.0/Typo.ipa")]
        );
        let problems = ipa_outside_problems(&found, site, &site.join("releases"));
        assert_eq!(
            problems[0].file,
            site.join("Root.ipa").display().to_string()
        );
        assert!(
            problems[0]
                .fix
                .contains(&site.join("releases/Root.ipa").display().to_string()),
            "{}",
            problems[0]
        );
        assert!(
            problems[1].fix.contains("looks misspelt")
                && problems[1]
                    .fix
                    .contains(&site.join("releases/1.0/Typo.ipa").display().to_string()),
            "{}",
            problems[1]
        );
        assert!(ipas_outside(site, site, &[]).is_empty());
    }

    #[test]
    fn unused_notes_name_the_closest_ipa() {
        let found = |ipa: &str, notes: Option<&str>| Found {
            ipa: PathBuf::from(ipa),
            notes: notes.map(PathBuf::from),
        };
        let releases = [
            found("r/1/VeryCapable.ipa", None),
            found("r/1/Other.ipa", None),
            found("r/2/Solo.ipa", Some("r/2/Solo.md")),
        ];
        let p = unused_notes_problems(
            &[
                PathBuf::from("r/1/VeryCapabel.md"),
                PathBuf::from("r/2/notes.md"),
                PathBuf::from("r/2/Sol.md"),
                PathBuf::from("r/3/notes.md"),
            ],
            &releases,
        );
        assert!(
            p[0].fix
                .contains("rename it to VeryCapable.md for VeryCapable.ipa"),
            "{}",
            p[0]
        );
        assert!(
            p[1].message.contains("notes of its own (Solo.md)"),
            "{}",
            p[1]
        );
        assert!(
            p[2].fix.contains("Solo.md already holds the notes"),
            "{}",
            p[2]
        );
        assert!(p[3].message.contains("no .ipa in r/3"), "{}", p[3]);
        assert!(p.iter().all(|p| p.code == "notes-unused"));
    }
}
