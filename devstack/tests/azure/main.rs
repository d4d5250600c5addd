//! The Azure emulator and the Azure join, end to end against a real devstack process, and the
//! emulator's signing against the verifiers (one binary to keep link time down):
//!
//! * [`joins`]: the client library joining through both join services;
//! * [`rejects_document`], [`rejects_token`], [`rejects_rules`]: the verifier's rejection
//!   corpus;
//! * [`imds`], [`arm`], [`fixture`]: the emulated services, `devstack.json` and persistence;
//! * [`realism`]: the emulator's delays and throttles, and the clients that survive them;
//! * [`emulated_attested`], [`emulated_tokens`]: what the emulator signs is accepted by
//!   `joinery_azure`'s verifiers, and tampering with it is refused.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

#[path = "../common/mod.rs"]
mod common;
mod support;
mod test_server;

mod arm;
mod bot_instances;
mod emulated_attested;
mod emulated_tokens;
mod fixture;
mod imds;
mod joins;
mod realism;
mod rejects_document;
mod rejects_rules;
mod rejects_token;
