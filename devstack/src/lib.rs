//! `joinery-devstack` as a library: a local stand-in for a Teleport cluster
//! ([`teleport`]) and for Azure's IMDS, Entra ID and ARM ([`azure`]), speaking
//! their real wire protocols. The `joinery-devstack` binary is [`cli`] (`up`,
//! `tctl`, `inspect`); tests use the library to build
//! what the emulated services accept.

// Unit tests link the dev-dependencies the integration tests use.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod azure;
pub mod cli;
pub mod github;
pub mod oidc;
pub mod tctl;
pub mod teleport;
pub mod up;
