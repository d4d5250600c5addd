//! `join_method: github`: a GitHub Actions job proves which repository, workflow and ref it
//! runs for with the ID token GitHub issues it (`permissions: id-token: write`); Teleport
//! checks the token's claims against the join token's allow rules. `onboarding.token` names
//! the join token.
//!
//! As in tbot, the method has no block of its own: the ID token comes from the job's
//! environment (`ACTIONS_ID_TOKEN_REQUEST_URL` / `ACTIONS_ID_TOKEN_REQUEST_TOKEN`) when the
//! agent joins, so the shared rules in [`super::OnboardingConfig`] cover the configuration.

use super::{JoinMethod, OnboardingConfig};
use crate::error::{ConfigError, Source};

/// Validates a `join_method: github` configuration: nothing beyond the shared keys.
pub(crate) fn validate(_onboarding: &OnboardingConfig, _src: &Source) -> Result<JoinMethod, ConfigError> {
    Ok(JoinMethod::Github)
}
