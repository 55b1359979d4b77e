//! The rules about one release: what stops iOS installing it over the air, and what soon
//! will. Build warnings, `check` and the pages' install state all come from here.

use chrono::{DateTime, Duration, Utc};

use crate::ipa::{Ipa, ProfileKind};
use crate::model::{App, Release};
use crate::problem::Problem;

/// How far ahead an expiring profile is worth a warning.
pub(crate) const EXPIRY_WARNING_DAYS: i64 = 14;

/// Everything the rules find about the release of `ipa` at `now`, each naming the IPA.
/// Those in `BLOCKING` mean iOS will not install the build (see [`blocker`]).
pub(crate) fn release_problems(ipa: &Ipa, now: DateTime<Utc>) -> Vec<Problem> {
    problems(ipa, now, None)
}

/// The findings about every release of `apps`, as the build's warnings and `check` report
/// them: [`release_problems`], except that an expired profile is an error only for the newest
/// release of its channel. An older one has been replaced by a newer build, and a site that
/// keeps its history must not fail `check` for good a year after its first release; its
/// pages still offer no install ([`blocker`] goes by code, not severity).
pub(crate) fn apps_problems<'a>(
    apps: impl IntoIterator<Item = &'a App>,
    now: DateTime<Utc>,
) -> Vec<Problem> {
    let mut found = Vec::new();
    for app in apps {
        let newest: Vec<(&str, &Release)> = (app.channels().into_iter())
            .map(|(channel, i)| (channel, &app.releases[i]))
            .collect();
        for r in &app.releases {
            let newer = newest
                .iter()
                .find(|(channel, _)| *channel == r.notes.channel)
                .map(|(_, newest)| *newest)
                .filter(|newest| !std::ptr::eq(*newest, r));
            found.extend(problems(&r.ipa, now, newer));
        }
    }
    found
}

/// The findings about `ipa`; `newer` is the newest release of its channel when that is
/// another one.
fn problems(ipa: &Ipa, now: DateTime<Utc>, newer: Option<&Release>) -> Vec<Problem> {
    let file = ipa.path.display().to_string();
    let mut p: Vec<Problem> = ipa
        .warnings
        .iter()
        .map(|w| {
            Problem::warning(
                "ipa-part-unreadable",
                &file,
                w.as_str(),
                "export the build again from Xcode (Organizer > Distribute App) and replace this \
                 IPA; until then its pages show what could be read",
            )
        })
        .collect();
    p.extend(unsigned(ipa, &file));
    match &ipa.profile {
        None => p.extend(profile_missing(ipa, &file)),
        Some(profile) => {
            let name = profile.name.as_deref().unwrap_or("unnamed");
            p.extend(app_store(profile.kind, name, &file));
            p.extend(
                profile
                    .expires
                    .and_then(|e| expiry(e, name, &file, now, newer)),
            );
            p.extend(app_id(ipa, &file));
        }
    }
    p
}

/// The findings that mean iOS will not install the build, whatever their severity, each with
/// the theme string (`themes/*/i18n`) that tells a tester why.
const BLOCKING: &[(&str, &str)] = &[
    ("ipa-unsigned", "blocked_unsigned"),
    ("profile-missing", "blocked_profile_missing"),
    ("profile-app-store", "app_store_notice"),
    ("profile-expired", "blocked_profile_expired"),
    ("profile-app-id", "blocked_profile_app_id"),
];

/// The first finding that stops the install, if any: what a page says instead of its button.
pub(crate) fn blocker(problems: &[Problem]) -> Option<&Problem> {
    problems.iter().find(|p| tester_text(p).is_some())
}

/// The theme string that tells a tester why a blocking finding stops the install.
pub(crate) fn tester_text(blocking: &Problem) -> Option<&'static str> {
    (BLOCKING.iter())
        .find(|(code, _)| *code == blocking.code)
        .map(|(_, key)| *key)
}

fn unsigned(ipa: &Ipa, file: &str) -> Option<Problem> {
    (!ipa.signed).then(|| {
        Problem::error(
            "ipa-unsigned",
            file,
            "the app has no code signature (_CodeSignature/CodeResources): iOS will not install it",
            "sign the build: export it from Xcode's Organizer or with xcodebuild -exportArchive",
        )
    })
}

/// No `embedded.mobileprovision` at all (one that is there but unreadable is a read warning).
fn profile_missing(ipa: &Ipa, file: &str) -> Option<Problem> {
    (!ipa.has_profile).then(|| {
        Problem::error(
            "profile-missing",
            file,
            "the app has no embedded.mobileprovision: iOS cannot install it over the air",
            "export it with an Ad Hoc, Development or Enterprise provisioning profile",
        )
    })
}

fn app_store(kind: ProfileKind, name: &str, file: &str) -> Option<Problem> {
    (!kind.installable_over_the_air()).then(|| {
        Problem::error(
            "profile-app-store",
            file,
            format!(
                "signed for the App Store (profile \"{name}\"): it can never be installed over the air"
            ),
            "export an Ad Hoc or Enterprise build, or distribute it with TestFlight",
        )
    })
}

/// An expired profile stops new installs and stops installed copies from launching; one that
/// expires within [`EXPIRY_WARNING_DAYS`] will. Only a warning for a release that a `newer`
/// one of its channel replaces.
fn expiry(
    expires: DateTime<Utc>,
    name: &str,
    file: &str,
    now: DateTime<Utc>,
    newer: Option<&Release>,
) -> Option<Problem> {
    let day = expires.format("%Y-%m-%d");
    if expires <= now {
        let expired = format!(
            "its provisioning profile \"{name}\" expired on {day}: iOS no longer installs it, \
             and copies already installed no longer open"
        );
        return Some(match newer {
            None => Problem::error(
                "profile-expired",
                file,
                expired,
                "renew the profile in the Apple Developer portal and build again",
            ),
            Some(newer) => Problem::warning(
                "profile-expired",
                file,
                format!(
                    "{expired} (an older release: {} {} ({}) is the newest of channel {})",
                    newer.name(),
                    newer.version(),
                    newer.build(),
                    newer.notes.channel
                ),
                "remove this IPA from the releases folder if testers no longer need it (they \
                 install the newest), or renew its profile and build it again",
            ),
        });
    }
    (expires <= now + Duration::days(EXPIRY_WARNING_DAYS)).then(|| {
        let days = match (expires - now).num_days() {
            0 => "less than a day".to_string(),
            1 => "1 day".to_string(),
            n => format!("{n} days"),
        };
        Problem::warning(
            "profile-expiring",
            file,
            format!(
                "its provisioning profile \"{name}\" expires on {day} ({days} from now): from \
                 then on iOS will not install it, and installed copies will not open"
            ),
            "renew the profile and ship a new build before then",
        )
    })
}

fn app_id(ipa: &Ipa, file: &str) -> Option<Problem> {
    let profile = ipa.profile.as_ref()?;
    (profile.covers_bundle_id(&ipa.info.bundle_id) == Some(false)).then(|| {
        Problem::error(
            "profile-app-id",
            file,
            format!(
                "its profile's application identifier {} does not cover the bundle id {}: iOS \
                 will not install it",
                profile
                    .application_identifier
                    .as_deref()
                    .unwrap_or_default(),
                ipa.info.bundle_id
            ),
            "sign it with a profile made for this App ID",
        )
    })
}
