//! Device registration: a page and a Profile Service `.mobileconfig` that make a tester's
//! device POST its UDID to `udid/register`, which answers with a redirect to a result page.
//! Nothing is stored: the endpoint (a host function, or `serve`) only reads the body and
//! redirects. This module knows the files and the parsing rules; hosts and serve use them.

pub(crate) mod device;
pub(crate) mod functions;
mod profile;
mod sign;

pub(crate) use profile::mobileconfig_xml;
pub(crate) use sign::{sign, signing_from_env};

/// The registration page's folder.
pub(crate) const PAGE_DIR: &str = "udid/";
/// The page the endpoint redirects to (plain HTML: it reads its query with a small script).
pub(crate) const RESULT_DIR: &str = "udid/result/";
/// The Profile Service profile, at the site root.
pub(crate) const PROFILE_FILE: &str = "udid.mobileconfig";
/// Where devices POST their attributes (site-relative).
pub(crate) const ENDPOINT: &str = "udid/register";
/// `Content-Type` iOS needs to offer a profile for installation.
pub(crate) const PROFILE_TYPE: &str = "application/x-apple-aspen-config";
