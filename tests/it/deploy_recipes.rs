//! The deploy recipes in docs/deploy are tried: the otasite command each one runs is run here
//! (with the variables the host would set) on a test site, and its output is where the recipe
//! publishes from.

use std::path::Path;
use std::process::Command;

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
