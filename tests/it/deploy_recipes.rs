//! The deploy recipes in docs/deploy are tried: the otasite command each one runs is run here
//! (with the variables the host would set) on a test site, and its output is where the recipe
//! publishes from. The workflows with IPAs in a bucket (R2, S3 behind CloudFront) run their
//! `otasite publish` and `otasite build` lines against a local S3 server.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::s3::{self, S3};
use crate::common::*;

/// Runs a recipe's shell command in the site folder, with the binary under test on PATH.
fn run_recipe_command(site: &TestSite, command: &str, env: &[(&str, &str)]) {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_otasite")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(site.root())
        .env("PATH", path)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`{command}` failed:\n{}",
        stderr(&out)
    );
}

fn site_with_release() -> TestSite {
    let site = TestSite::basic();
    site.add_ipa("releases/A.ipa", &spec("com.deploy", "1.0", "1"));
    site
}

#[test]
fn github_pages_workflow_builds_into_the_uploaded_folder() {
    let text = std::fs::read_to_string(project_dir().join("docs/deploy/github-pages.yml")).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let steps = doc["jobs"]["build"]["steps"].as_sequence().unwrap();
    let build = steps
        .iter()
        .find(|s| s["name"].as_str() == Some("Build the site"))
        .expect("a build step");
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-pages-artifact"))
        })
        .expect("an upload step");
    let published = upload["with"]["path"].as_str().unwrap();
    let command = build["run"].as_str().unwrap().replace(
        "${{ steps.pages.outputs.base_url }}",
        "https://acme.github.io/beta",
    );

    let site = site_with_release();
    run_recipe_command(&site, &command, &[]);
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(site.root().join(published).join("releases.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["site"]["base_url"], "https://acme.github.io/beta/");
    assert!(
        json["apps"][0]["releases"][0]["manifest_url"]
            .as_str()
            .unwrap()
            .starts_with("https://acme.github.io/beta/apps/")
    );
    assert!(
        doc["jobs"]["deploy"]["steps"][0]["uses"]
            .as_str()
            .unwrap()
            .starts_with("actions/deploy-pages")
    );
}

#[test]
fn netlify_settings_build_into_the_publish_folder() {
    let text = std::fs::read_to_string(project_dir().join("docs/deploy/netlify.toml")).unwrap();
    let value = |line: &str| -> String {
        let raw = line.split_once('=').unwrap().1.trim();
        raw[1..raw.len() - 1].replace("\\\"", "\"")
    };
    let publish = value(
        text.lines()
            .find(|l| l.trim_start().starts_with("publish"))
            .unwrap(),
    );
    let commands: Vec<String> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("command"))
        .map(value)
        .collect();
    assert_eq!(commands.len(), 2);
    for (command, var) in commands.iter().zip(["URL", "DEPLOY_PRIME_URL"]) {
        // The install step needs the network; the otasite step is what is tried here.
        let otasite_part = command.split(" && ").nth(1).unwrap();
        let site = site_with_release();
        let url = "https://acme-beta.netlify.app";
        run_recipe_command(&site, otasite_part, &[(var, url)]);
        let public = site.root().join(&publish);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(public.join("releases.json")).unwrap()).unwrap();
        assert_eq!(json["site"]["base_url"], "https://acme-beta.netlify.app/");
        assert!(
            public.join("_headers").is_file(),
            "Netlify reads _headers from the publish folder"
        );
    }
}

// The CI workflows that keep IPAs in object storage (GitHub Pages + R2, Netlify + S3 behind
// CloudFront) are run as far as they are otasite's: their own `otasite` lines, taken from the
// YAML, against a local S3 server (s3s-fs) standing for R2 or S3, with local values for the
// secrets and variables the host would set. Xcode, the Pages upload and the Netlify CLI cannot
// run here: the files the archive step leaves are made by the test, and the folder the deploy
// step uploads is checked instead.

/// One step of a workflow, with what otasite needs of it.
struct Step {
    job: String,
    /// Its environment: the workflow's, the job's and its own, later ones winning.
    env: Vec<(String, String)>,
    run: Option<String>,
    uses: Option<String>,
    with: serde_yaml_ng::Value,
    working_directory: Option<String>,
}

fn env_of(value: &serde_yaml_ng::Value, into: &mut Vec<(String, String)>) {
    if let Some(map) = value["env"].as_mapping() {
        for (k, v) in map {
            let key = k.as_str().unwrap().to_string();
            let value = match v {
                serde_yaml_ng::Value::String(s) => s.clone(),
                other => serde_yaml_ng::to_string(other).unwrap().trim().to_string(),
            };
            into.retain(|(k, _)| *k != key);
            into.push((key, value));
        }
    }
}

/// Every step of every job, jobs in the order written (each `needs` an earlier one).
fn workflow_steps(doc: &serde_yaml_ng::Value) -> Vec<Step> {
    let mut workflow_env = Vec::new();
    env_of(doc, &mut workflow_env);
    let mut steps = Vec::new();
    let mut jobs_seen: Vec<String> = Vec::new();
    for (name, job) in doc["jobs"].as_mapping().expect("jobs") {
        let name = name.as_str().unwrap().to_string();
        if let Some(needs) = job["needs"].as_str() {
            assert!(jobs_seen.iter().any(|j| j == needs), "{name} needs {needs}");
        }
        let mut job_env = workflow_env.clone();
        env_of(job, &mut job_env);
        for step in job["steps"].as_sequence().expect("steps") {
            let mut env = job_env.clone();
            env_of(step, &mut env);
            steps.push(Step {
                job: name.clone(),
                env,
                run: step["run"].as_str().map(str::to_string),
                uses: step["uses"].as_str().map(str::to_string),
                with: step["with"].clone(),
                working_directory: step["working-directory"].as_str().map(str::to_string),
            });
        }
        jobs_seen.push(name);
    }
    steps
}

/// The otasite commands of a `run:` block: its lines that start with `otasite `, each with the
/// lines it continues onto (a line ending in `\`).
fn otasite_commands(run: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut current: Option<String> = None;
    // Inside another command's continuation lines.
    let mut other = false;
    for line in run.lines() {
        let text = line.trim();
        let continues = text.ends_with('\\');
        let body = text.trim_end_matches('\\').trim_end();
        match &mut current {
            Some(c) => {
                c.push(' ');
                c.push_str(body);
            }
            None if !other && text.starts_with("otasite ") => current = Some(body.to_string()),
            None => {
                other = continues;
                continue;
            }
        }
        if !continues {
            commands.extend(current.take());
        }
    }
    assert!(current.is_none(), "a command ends with `\\`: {run}");
    commands
}

/// `text` with each `${{ expression }}` replaced by its value in `known`; an expression the
/// test does not know fails it (a recipe that starts to need another must be tried with it).
fn substitute(text: &str, known: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("a closed ${{ }}") + start;
        let expression = rest[start + 3..end].trim();
        let value = known
            .iter()
            .find(|(k, _)| *k == expression)
            .unwrap_or_else(|| panic!("no local value for ${{{{ {expression} }}}}"))
            .1;
        out.push_str(value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The site.yaml that a recipe's opening comment says to commit as `FOLDER/site.yaml`: the
/// indented comment lines after that line. Returns (FOLDER, the YAML).
fn recipe_site_yaml(text: &str) -> (String, String) {
    let mut lines = text.lines();
    let marker = lines
        .by_ref()
        .find(|l| l.starts_with('#') && l.contains("/site.yaml"))
        .expect("the recipe says which site.yaml to commit");
    let folder = marker
        .split_whitespace()
        .find_map(|w| w.strip_suffix("/site.yaml"))
        .unwrap()
        .to_string();
    let mut yaml = String::new();
    for line in lines {
        let body = line.strip_prefix('#').expect("a comment");
        if body.trim().is_empty() {
            if yaml.is_empty() {
                continue;
            }
            break;
        }
        yaml.push_str(body.trim_start());
        yaml.push('\n');
    }
    (folder, yaml)
}

/// Runs `command` with `sh -c` in `dir` with exactly the AWS settings of `env` (none of the
/// caller's) and the binary under test first on PATH.
fn run_in(dir: &Path, command: &str, env: &[(String, String)]) {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_otasite")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`{command}` failed:\n{}",
        stderr(&out)
    );
}

/// What a bucket recipe was seen to do.
struct BucketRecipe {
    s3: S3,
    /// The app repository the workflow runs in.
    repo: tempfile::TempDir,
    site_folder: String,
    ipa_base_url: String,
    steps: Vec<Step>,
    /// The build step's command, the folder it ran in and its environment.
    build: (String, PathBuf, Vec<(String, String)>),
}

/// Runs the otasite lines of the workflow `file`, in order, on a fresh app repository holding
/// the recipe's site.yaml and what the archive step leaves (build/export/Acme.ipa and
/// build/notes.md), with `known` for the `${{ }}` expressions; `endpoint_host` is what the
/// recipe's AWS_ENDPOINT_URL must name, if it sets one (the local server replaces it).
/// `None` when s3s-fs is missing (a failure under CI).
fn run_bucket_recipe(
    file: &str,
    known: &[(&str, &str)],
    endpoint_host: Option<&str>,
) -> Option<BucketRecipe> {
    let text = std::fs::read_to_string(project_dir().join(file)).unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let (site_folder, yaml) = recipe_site_yaml(&text);
    let settings: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    let releases_dir = settings["releases_dir"].as_str().expect("releases_dir");
    let ipa_base_url = settings["ipa_base_url"]
        .as_str()
        .expect("ipa_base_url")
        .to_string();
    let bucket = releases_dir
        .strip_prefix("s3://")
        .and_then(|r| r.split('/').next())
        .expect("releases_dir is a bucket");
    let s3 = S3::start(&[bucket])?;

    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join(&site_folder)).unwrap();
    std::fs::write(repo.path().join(&site_folder).join("site.yaml"), &yaml).unwrap();
    std::fs::create_dir_all(repo.path().join("build/export")).unwrap();
    std::fs::write(
        repo.path().join("build/export/Acme.ipa"),
        spec("com.acme.beta", "1.4.0", "57").name("Acme").to_bytes(),
    )
    .unwrap();
    std::fs::write(repo.path().join("build/notes.md"), "Shared notebooks.\n").unwrap();

    let steps = workflow_steps(&doc);
    let mut published = Vec::new();
    let mut build = None;
    for step in &steps {
        let commands = step
            .run
            .as_deref()
            .map(otasite_commands)
            .unwrap_or_default();
        if commands.is_empty() {
            continue;
        }
        let mut env: Vec<(String, String)> = step
            .env
            .iter()
            .map(|(k, v)| (k.clone(), substitute(v, known)))
            .collect();
        if let Some((_, endpoint)) = env.iter_mut().find(|(k, _)| k == "AWS_ENDPOINT_URL") {
            let host = endpoint_host.expect("the recipe sets no endpoint");
            assert!(
                url::Url::parse(endpoint)
                    .unwrap()
                    .host_str()
                    .unwrap()
                    .ends_with(host),
                "{endpoint}"
            );
            endpoint.clone_from(&s3.endpoint);
        } else {
            env.push(("AWS_ENDPOINT_URL".into(), s3.endpoint.clone()));
        }
        env.push(("AWS_ALLOW_HTTP".into(), "true".into()));
        assert!(
            env.iter().any(|(k, _)| k == "AWS_REGION"),
            "{file}: the region is set"
        );
        let dir = repo
            .path()
            .join(step.working_directory.as_deref().unwrap_or("."));
        for command in commands {
            let command = substitute(&command, known);
            run_in(&dir, &command, &env);
            if command.starts_with("otasite publish ") {
                published.push(command);
            } else if command.starts_with("otasite build ") {
                assert_eq!(step.working_directory.as_deref(), Some(&*site_folder));
                build = Some((command, dir.clone(), env.clone()));
            } else {
                panic!("{file}: an otasite command this test does not know: {command}");
            }
        }
    }
    assert_eq!(published.len(), 1, "{file} publishes once: {published:?}");
    let build = build.unwrap_or_else(|| panic!("{file} builds the site"));

    // The build and the IPA went to the bucket of releases_dir, in a folder of the build.
    let key = format!(
        "{}acme-ios/57/Acme.ipa",
        releases_dir
            .strip_prefix(&format!("s3://{bucket}/"))
            .unwrap()
    );
    assert!(s3.object_path(bucket, &key).is_file(), "{key} in {bucket}");
    assert!(
        s3.object_path(bucket, &key.replace(".ipa", ".md"))
            .is_file(),
        "the notes beside it"
    );
    Some(BucketRecipe {
        s3,
        repo,
        site_folder,
        ipa_base_url,
        steps,
        build,
    })
}

impl BucketRecipe {
    /// The folder the deploy step uploads, as the build wrote it: index.html, manifests that
    /// name the IPA at ipa_base_url, and no IPA.
    fn assert_uploaded_folder_is_the_site(&self, uploaded: &Path) {
        assert!(uploaded.join("index.html").is_file(), "{uploaded:?}");
        let manifests = files_ending(uploaded, "manifest.plist");
        assert!(!manifests.is_empty());
        let ipa_url = format!("{}acme-ios/57/Acme.ipa", self.ipa_base_url);
        for manifest in &manifests {
            let text = std::fs::read_to_string(manifest).unwrap();
            assert!(text.contains(&ipa_url), "{manifest:?}: {text}");
        }
        assert!(files_ending(uploaded, ".ipa").is_empty(), "no IPA uploaded");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(uploaded.join("releases.json")).unwrap())
                .unwrap();
        assert!(json.to_string().contains(&ipa_url), "{json}");
    }

    /// The cache step keeps the site's .otasite/ between runs; with it restored on a fresh
    /// runner (no output folder), the build makes one request: the listing.
    fn assert_cached_build_lists_once(&self, output: &Path) {
        let cache = self
            .steps
            .iter()
            .find(|s| {
                s.uses
                    .as_deref()
                    .is_some_and(|u| u.starts_with("actions/cache@"))
            })
            .expect("a cache step");
        assert_eq!(cache.job, "site");
        assert_eq!(
            cache.with["path"].as_str(),
            Some(&*format!("{}/.otasite", self.site_folder))
        );
        std::fs::remove_dir_all(output).unwrap();
        let _ = self.s3.take_seen();
        let (command, dir, env) = &self.build;
        run_in(dir, command, env);
        let seen = self.s3.take_seen();
        assert_eq!(seen.len(), 1, "a cached build lists once: {seen:#?}");
        assert!(seen[0].target.contains("list-type=2"), "{seen:#?}");
        assert!(output.join("index.html").is_file());
    }
}

/// The local values of the secrets and variables both bucket recipes use.
const RUN: [(&str, &str); 1] = [("github.run_number", "57")];

#[test]
fn github_pages_with_ipas_on_r2_publishes_builds_and_uploads_the_site() {
    let known = [
        RUN[0],
        ("secrets.R2_ACCOUNT_ID", "0123456789abcdef"),
        ("secrets.R2_ACCESS_KEY_ID", s3::ACCESS_KEY),
        ("secrets.R2_SECRET_ACCESS_KEY", s3::SECRET_KEY),
        (
            "steps.pages.outputs.base_url",
            "https://acme.github.io/acme-ios",
        ),
    ];
    let Some(recipe) = run_bucket_recipe(
        "docs/deploy/github-pages-r2.yml",
        &known,
        Some(".r2.cloudflarestorage.com"),
    ) else {
        return;
    };
    let upload = recipe
        .steps
        .iter()
        .find(|s| {
            s.uses
                .as_deref()
                .is_some_and(|u| u.starts_with("actions/upload-pages-artifact@"))
        })
        .expect("an upload step");
    let uploaded = recipe
        .repo
        .path()
        .join(upload.with["path"].as_str().unwrap());
    assert_eq!(uploaded, recipe.build.1.join("public"));
    recipe.assert_uploaded_folder_is_the_site(&uploaded);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(uploaded.join("releases.json")).unwrap()).unwrap();
    assert_eq!(json["site"]["base_url"], "https://acme.github.io/acme-ios/");
    assert!(
        recipe.steps.iter().any(|s| s.job == "deploy"
            && s.uses
                .as_deref()
                .is_some_and(|u| u.starts_with("actions/deploy-pages@"))),
        "Pages deploys the upload"
    );
    recipe.assert_cached_build_lists_once(&uploaded);
}

#[test]
fn netlify_with_ipas_on_s3_behind_cloudfront_publishes_builds_and_deploys_the_site() {
    let known = [
        RUN[0],
        ("secrets.AWS_ACCESS_KEY_ID", s3::ACCESS_KEY),
        ("secrets.AWS_SECRET_ACCESS_KEY", s3::SECRET_KEY),
    ];
    let Some(recipe) = run_bucket_recipe("docs/deploy/netlify-s3-cloudfront.yml", &known, None)
    else {
        return;
    };
    // The Netlify CLI's line: the folder it deploys, from where it runs.
    let deploy = recipe
        .steps
        .iter()
        .find(|s| {
            s.run
                .as_deref()
                .is_some_and(|r| r.contains("netlify deploy"))
        })
        .expect("a netlify deploy step");
    let line = deploy
        .run
        .as_deref()
        .unwrap()
        .lines()
        .find(|l| l.trim_start().starts_with("netlify deploy"))
        .unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert!(
        words.contains(&"--prod") && words.contains(&"--no-build"),
        "{line}"
    );
    let dir = words[words.iter().position(|w| *w == "--dir").unwrap() + 1];
    let uploaded = recipe
        .repo
        .path()
        .join(deploy.working_directory.as_deref().unwrap_or("."))
        .join(dir);
    assert_eq!(uploaded, recipe.build.1.join("public"));
    recipe.assert_uploaded_folder_is_the_site(&uploaded);
    assert!(
        uploaded.join("_headers").is_file(),
        "Netlify reads _headers from the deployed folder"
    );
    assert!(
        recipe.ipa_base_url.contains(".cloudfront.net/"),
        "{}",
        recipe.ipa_base_url
    );
    recipe.assert_cached_build_lists_once(&uploaded);
}

#[test]
fn recipe_commands_are_taken_with_their_continuations() {
    let run = "echo a \\\n  otasite b\notasite publish x.ipa \\\n  --to \"s3://b/p/\"\nnetlify deploy\n\
               otasite build .\n";
    assert_eq!(
        otasite_commands(run),
        [
            "otasite publish x.ipa --to \"s3://b/p/\"",
            "otasite build ."
        ]
    );
}
