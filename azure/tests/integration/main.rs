//! Integration tests of joinery-azure (one binary to keep link time down).

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

#[path = "../common/mod.rs"]
mod common;

mod attested;
mod imds;
