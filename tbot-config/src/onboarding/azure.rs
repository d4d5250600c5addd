//! `join_method: azure`: the VM proves who it is with what only Azure can
//! produce (a signed attested document and a managed-identity token); the
//! `token` is the name of a Teleport token whose rules allow the VM.
//!
//! Its block names the managed identity when the VM has several:
//!
//! ```yaml
//! onboarding:
//!   join_method: azure
//!   token: my-vms
//!   azure:
//!     client_id: 22222222-2222-2222-2222-222222222222
//! ```

use joinery_util::guid::is_guid;
use serde::{Deserialize, Serialize};

use super::JoinMethod;
use crate::error::{ConfigError, Source};

/// The `onboarding.azure` block (as written, and validated: a trimmed GUID).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
// `expecting`: the words of "invalid type: ..., expected struct RawAzure", kept as they were.
#[serde(deny_unknown_fields, expecting = "struct RawAzure")]
pub struct AzureOnboarding {
    /// `client_id`: the user-assigned managed identity to join with; the
    /// system-assigned identity when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// Validates the block of a `join_method: azure` configuration.
pub(crate) fn validate(block: Option<AzureOnboarding>, src: &Source) -> Result<JoinMethod, ConfigError> {
    let client_id = block.and_then(|a| a.client_id).map(|c| c.trim().to_string());
    if let Some(c) = client_id.as_ref().filter(|c| !is_guid(c)) {
        return Err(src.invalid(
            "onboarding.azure.client_id",
            format!(
                "{c:?} is not a UUID (the managed identity's client id, e.g. 22222222-2222-2222-2222-222222222222)"
            ),
        ));
    }
    Ok(JoinMethod::Azure(AzureOnboarding { client_id }))
}

/// Rejects the block when another method is configured.
pub(crate) fn reject_unused(block: Option<&AzureOnboarding>, src: &Source) -> Result<(), ConfigError> {
    if block.is_some_and(|a| a.client_id.is_some()) {
        return Err(src.invalid("onboarding.azure.client_id", "is only used with join_method: azure"));
    }
    Ok(())
}
