//! The rules: one place decides what stops an install, what a host refuses and what AMP
//! forbids. Each rule yields [`Problem`](crate::problem::Problem)s; the build prints them as
//! warnings, `check` reports them, and pages show a release's blocker instead of its button.

pub(crate) mod amp;
pub(crate) mod hosts;
pub(crate) mod release;
