//! `joinery-agent` as a library: everything the binary does ([`cli`] is its
//! command line), for the binary itself, the benches and the devstack's tests.

// Unit tests link the dev-dependencies the integration tests use.
#![cfg_attr(test, allow(unused_crate_dependencies))]

pub mod check;
pub mod cli;
pub mod config;
pub mod connect;
pub mod destination;
pub mod diag;
pub mod join;
pub mod outputs;
pub mod renew;
pub mod schedule;
pub mod signals;
pub mod storage;
