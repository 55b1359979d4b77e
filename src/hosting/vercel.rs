//! Vercel: `vercel.json` in the deployed folder. JSON has no comments and Vercel rejects
//! unknown keys, so this is the one host file without a banner.
//!
//! No `trailingSlash`: Vercel compiles `true` into a rule that takes any last path segment
//! with a dot for a file and redirects `/apps/com.acme.app/` (bundle ids have dots) to the
//! URL without the slash. Left unset, Vercel serves a folder's `index.html` at its canonical
//! URL (with the slash) and redirects nothing. The tests compile this file with Vercel's own
//! `@vercel/routing-utils` and check that no canonical URL is redirected.

use serde_json::json;

use super::{IMMUTABLE, IPA_TYPE, NO_CACHE, PLIST_TYPE, PROFILE_TYPE, Policy};

pub(super) fn vercel_json(p: &Policy<'_>) -> Vec<u8> {
    let common: Vec<serde_json::Value> = p
        .common_headers()
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    let doc = json!({
        "$schema": "https://openapi.vercel.sh/vercel.json",
        "cleanUrls": false,
        "headers": [
            {"source": "/(.*)", "headers": common},
            {"source": "/(.*)/", "headers": [{"key": "Cache-Control", "value": NO_CACHE}]},
            {"source": "/", "headers": [{"key": "Cache-Control", "value": NO_CACHE}]},
            {"source": "/(.*)\\.plist", "headers": [
                {"key": "Content-Type", "value": PLIST_TYPE},
                {"key": "Cache-Control", "value": NO_CACHE}
            ]},
            {"source": "/(.*)\\.mobileconfig", "headers": [
                {"key": "Content-Type", "value": PROFILE_TYPE},
                {"key": "Cache-Control", "value": NO_CACHE}
            ]},
            {"source": "/(.*)\\.ipa", "headers": [
                {"key": "Content-Type", "value": IPA_TYPE},
                {"key": "Cache-Control", "value": IMMUTABLE}
            ]},
            {"source": "/apps/(.*)\\.png", "headers": [{"key": "Cache-Control", "value": IMMUTABLE}]},
            {"source": "/(.*)\\.(html|json|xml|txt)", "headers": [{"key": "Cache-Control", "value": NO_CACHE}]}
        ]
    });
    let mut out = serde_json::to_vec_pretty(&doc).expect("plain JSON");
    out.push(b'\n');
    out
}
