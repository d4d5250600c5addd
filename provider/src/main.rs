//! `terraform-provider-teleport`: started by Terraform, not by hand (except
//! with `--debug`; see [`terraform_provider_teleport::plugin::serve`]).

use std::process::ExitCode;

use terraform_provider_teleport::plugin::{self, ServeOptions};
use terraform_provider_teleport::provider::{PROVIDER_ADDRESS, TeleportProvider};

fn main() -> ExitCode {
    plugin::serve(TeleportProvider, ServeOptions::new(PROVIDER_ADDRESS))
}
