//! Things about a release that do not stop the build but will stop an install: a missing or
//! App Store profile, an expired or expiring one, a bundle id the profile does not cover.

use chrono::{DateTime, Duration, Utc};

use crate::ipa::{Ipa, ProfileKind};
use crate::render::views::EXPIRY_WARNING_DAYS;

/// Warnings for one IPA, each starting with its path.
pub fn ipa_warnings(ipa: &Ipa, now: DateTime<Utc>) -> Vec<String> {
    let at = ipa.path.display();
    let mut w: Vec<String> = ipa.notes.iter().map(|n| format!("{at}: {n}")).collect();
    if !ipa.signed {
        w.push(format!(
            "{at}: the app has no code signature (_CodeSignature/CodeResources); iOS will refuse to install it"
        ));
    }
    let Some(p) = &ipa.profile else {
        if !ipa.has_profile {
            w.push(format!(
                "{at}: the app has no embedded.mobileprovision, so iOS cannot install it over the \
                 air; export it with an Ad Hoc, Development or Enterprise profile"
            ));
        }
        return w;
    };
    let name = p.name.as_deref().unwrap_or("unnamed");
    if p.kind == ProfileKind::AppStore {
        w.push(format!(
            "{at}: signed for the App Store (profile \"{name}\"): it cannot be installed over the \
             air, and its page says so; export an Ad Hoc or Enterprise build, or use TestFlight"
        ));
    }
    if let Some(expires) = p.expires {
        let day = expires.format("%Y-%m-%d");
        if expires <= now {
            w.push(format!(
                "{at}: its provisioning profile \"{name}\" expired on {day}; iOS will refuse to \
                 install or open it. Build it again with a renewed profile"
            ));
        } else if expires <= now + Duration::days(EXPIRY_WARNING_DAYS) {
            w.push(format!(
                "{at}: its provisioning profile \"{name}\" expires on {day} ({} days from now); \
                 the app will stop opening then",
                (expires - now).num_days()
            ));
        }
    }
    if p.covers_bundle_id(&ipa.info.bundle_id) == Some(false) {
        w.push(format!(
            "{at}: its profile is for the application identifier {}, which does not cover the \
             bundle id {}; iOS will refuse to install it",
            p.application_identifier.as_deref().unwrap_or_default(),
            ipa.info.bundle_id
        ));
    }
    w
}
