//! The endpoint as host code: a Cloudflare Pages worker and a Netlify function, both wrapping
//! `endpoint.js`.
//!
//! Cloudflare: `wrangler pages dev/deploy OUTPUT` reads Functions from `./functions` of the
//! project, not from the output, so the output carries an "advanced mode" `_worker.js` with a
//! `_routes.json` that sends only the endpoint's path to it: every other path is served as
//! static files, `_headers` and all, without invoking the worker (and if the worker is ever
//! reached for another path, it hands the request to the static assets).
//! Netlify: a function in `netlify/functions/` that declares its own path (Functions 2.0),
//! with a `netlify.toml` naming that folder for deploys run from the output folder.

use crate::files::OutFile;
use crate::limits::UDID_MAX_BODY_BYTES;

use super::ENDPOINT;

const CORE: &str = include_str!("endpoint.js");

/// The Netlify function's file.
pub(crate) const NETLIFY_FUNCTION: &str = "netlify/functions/udid.mjs";
/// The Cloudflare Pages worker and its routes.
pub(crate) const CLOUDFLARE_WORKER: &str = "_worker.js";
pub(crate) const CLOUDFLARE_ROUTES: &str = "_routes.json";

fn core(banner: &str) -> String {
    format!(
        "// {banner}\n\n{}",
        CORE.replace("__MAX_BODY__", &UDID_MAX_BODY_BYTES.to_string())
    )
}

/// The endpoint's path on the host, e.g. `/beta/udid/register`.
pub(crate) fn endpoint_path(base_path: &str) -> String {
    format!("{base_path}{ENDPOINT}")
}

/// `_worker.js` and `_routes.json`, for Cloudflare Pages.
pub(crate) fn cloudflare(base_path: &str, banner: &str) -> Vec<OutFile> {
    let path = endpoint_path(base_path);
    let worker = format!(
        "{}\nexport default {{\n  async fetch(request, env) {{\n    \
         if (new URL(request.url).pathname === {path:?}) return register(request);\n    \
         return env.ASSETS.fetch(request);\n  }},\n}};\n",
        core(banner)
    );
    let routes = serde_json::json!({
        "version": 1,
        "description": "otasite: only the device-registration endpoint runs _worker.js",
        "include": [path],
        "exclude": [],
    });
    let mut routes = serde_json::to_vec_pretty(&routes).expect("plain JSON");
    routes.push(b'\n');
    vec![
        OutFile::bytes(CLOUDFLARE_WORKER, worker),
        OutFile::bytes(CLOUDFLARE_ROUTES, routes),
    ]
}

/// `netlify/functions/udid.mjs` and `netlify.toml`, for Netlify.
pub(crate) fn netlify(base_path: &str, banner: &str) -> Vec<OutFile> {
    let path = endpoint_path(base_path);
    let function = format!(
        "{}\nexport default async (request) => register(request);\n\n\
         export const config = {{ path: {path:?}, method: \"POST\" }};\n",
        core(banner)
    );
    let toml = format!(
        "# {banner}\n# Deploy from the output folder (`cd public && netlify deploy --prod`) so \
         that Netlify reads this\n# file and deploys the device-registration function with \
         the site.\n[build]\n  publish = \".\"\n\n[functions]\n  directory = \
         \"netlify/functions\"\n"
    );
    vec![
        OutFile::bytes(NETLIFY_FUNCTION, function),
        OutFile::bytes("netlify.toml", toml),
    ]
}
