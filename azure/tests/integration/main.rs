//! Integration tests of joinery-azure (one binary to keep link time down).

#[path = "../common/mod.rs"]
mod common;

mod attested;
mod imds;
mod jwt;
