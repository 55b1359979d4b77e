//! Releases in object storage: a bucket as the releases folder (`mirror`, `ranged`), and
//! the uploads that put builds and sites there (`publish`, `deploy`). All requests go
//! through `store`.

pub(crate) mod deploy;
pub(crate) mod mirror;
pub(crate) mod publish;
pub(crate) mod ranged;
pub(crate) mod store;

pub(crate) use mirror::Mirror;
pub(crate) use store::{is_bucket_url, parse_bucket_url};
