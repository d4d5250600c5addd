//! `terraform-provider-teleport`: started by Terraform, not by hand (except
//! with `--debug`; see [`joinery_tfplugin::serve`]). `--version` names the
//! release and commit, as does the first line of its log.

// This target links every dependency of its package; unused ones are
// caught on the library target.
#![allow(unused_crate_dependencies)]

use std::process::ExitCode;

use joinery_tfplugin::ServeOptions;
use terraform_provider_teleport::provider::{PROVIDER_ADDRESS, TeleportProvider};

fn main() -> ExitCode {
    joinery_tfplugin::serve(
        TeleportProvider,
        ServeOptions::new(PROVIDER_ADDRESS).with_version(terraform_provider_teleport::VERSION),
    )
}
