//! `joinery-devstack`: see [`joinery_devstack::cli`] for the command line.

// The binary links every dependency of the package but uses them through the
// library, where `unused_crate_dependencies` is checked.
#![allow(unused_crate_dependencies)]

fn main() -> std::process::ExitCode {
    joinery_devstack::cli::main()
}
