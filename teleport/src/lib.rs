//! Teleport's wire protocol, as Joinery speaks it.
//!
//! * [`proto`]: the generated messages and gRPC stubs, in Teleport's own
//!   packages (`types`, `proto`, `teleport.machineid.v1`, `teleport.join.v1`,
//!   `teleport.users.v1`, `teleport.trust.v1`).
//! * [`Client`]: an mTLS gRPC client for the auth API, with typed calls,
//!   retries and errors that say what went wrong.
//! * [`Credentials`] and [`identity`]: identity files, key/cert/CA files and
//!   what a Teleport certificate says about its holder.
//! * [`join`]: the client side of joining a cluster with a token.
//! * [`keys`]: key pairs in every encoding Teleport asks for.
//! * [`authority`]: the certificates and keys a certificate authority resource holds.

// Unit tests link the dev-dependencies the integration tests use.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod authority;
pub mod client;
pub mod credentials;
mod error;
pub mod identity;
pub mod join;
pub mod keys;
pub mod proto;
pub mod retry;
pub mod tls;

pub use client::{Client, ClientConfig};
pub use credentials::Credentials;
pub use error::Error;
pub use identity::{CertInfo, Identity};
pub use retry::RetryPolicy;

/// Formats a time as RFC 3339 (UTC, whole seconds) for messages.
pub fn fmt_time(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|dt| dt.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("@{secs}"))
}
