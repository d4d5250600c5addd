//! `join_method: github`: a GitHub Actions job joins with the ID token GitHub issues it.
//!
//! As tbot does: the token comes from the job's environment (`ACTIONS_ID_TOKEN_REQUEST_URL`
//! and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, set for a job with `permissions: id-token: write`)
//! for the audience `teleport.cluster.local`, fetched afresh for each join (they live five
//! minutes), and sent in `OIDCInit` on `teleport.join.v1` — or in the legacy
//! `RegisterUsingToken`'s `IDToken` on `Unimplemented`
//! (`joinery_teleport::join::join_with_id_token`). The certificates are not renewable: every
//! renewal is a new join.

use std::time::Duration;

use async_trait::async_trait;
use joinery_azure::federation::{
    GITHUB_REQUEST_TOKEN_ENV, GITHUB_REQUEST_URL_ENV, IdTokenSource, TELEPORT_AUDIENCE, ci_ca_from_env,
};
use joinery_tbot_config::{JoinMethodName, Token};
use joinery_teleport::Client;
use joinery_teleport::join::{JoinedCerts, join_with_id_token};
use joinery_teleport::keys::KeyPair;

use super::{Join, JoinError};

/// The `github` method.
pub struct GithubJoin {
    token: Token,
    env: fn(&str) -> Option<String>,
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl GithubJoin {
    /// Joins with the join token named `token`, reading the job's environment.
    pub fn new(token: Token) -> Self {
        GithubJoin { token, env: process_env }
    }

    fn source(&self) -> Result<IdTokenSource, JoinError> {
        IdTokenSource::github_actions_from_env(&self.env).ok_or_else(|| JoinError::Unavailable {
            method: JoinMethodName::Github,
            reason: format!(
                "{GITHUB_REQUEST_URL_ENV} and {GITHUB_REQUEST_TOKEN_ENV} are not set: run in a GitHub Actions job \
                 with `permissions: id-token: write`"
            ),
        })
    }
}

#[async_trait]
impl Join for GithubJoin {
    fn method(&self) -> JoinMethodName {
        JoinMethodName::Github
    }

    fn check_available(&self) -> Result<(), JoinError> {
        self.source().map(|_| ())
    }

    async fn join(&self, client: &Client, ttl: Duration) -> Result<(KeyPair, JoinedCerts), JoinError> {
        let ca = ci_ca_from_env(&self.env)?;
        let id_token = self.source()?.fetch(TELEPORT_AUDIENCE, ca.as_deref()).await?;
        let (key, certs, service) =
            join_with_id_token(client, self.token.value(), JoinMethodName::Github.as_str(), &id_token, ttl).await?;
        tracing::debug!(?service, "joined");
        Ok((key, certs))
    }

    async fn describe(&self) -> Vec<String> {
        match self.source() {
            Ok(IdTokenSource::GithubActions { request_url, .. }) => {
                vec![format!("GitHub Actions token service: {}", request_url.split('?').next().unwrap_or_default())]
            }
            Ok(_) | Err(_) => vec![format!("GitHub Actions: {GITHUB_REQUEST_URL_ENV} is not set")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_job_the_method_says_what_it_needs() {
        let join = GithubJoin { token: Token::new("gh"), env: |_| None };
        let e = join.check_available().unwrap_err();
        assert_eq!(e.reason(), "join_method_unavailable");
        assert!(e.to_string().contains("ACTIONS_ID_TOKEN_REQUEST_URL"), "{e}");
        let inside = GithubJoin { token: Token::new("gh"), env: |k| Some(format!("https://x/{k}")) };
        assert!(inside.check_available().is_ok());
    }
}
