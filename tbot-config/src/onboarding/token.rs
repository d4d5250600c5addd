//! `join_method: token`: a shared secret (a provision token), single use.
//!
//! The method has no block of its own: its secret is `onboarding.token`,
//! which every method needs (the others send it as the token's *name*), so
//! the shared rules in [`super::OnboardingConfig`] cover it.

use super::{JoinMethod, OnboardingConfig};
use crate::error::{ConfigError, Source};

/// Validates a `join_method: token` configuration: nothing beyond the shared keys.
pub(crate) fn validate(_onboarding: &OnboardingConfig, _src: &Source) -> Result<JoinMethod, ConfigError> {
    Ok(JoinMethod::Token)
}
