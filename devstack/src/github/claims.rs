//! What a GitHub Actions ID token says: a workflow [`Run`] and the claims GitHub issues for
//! it, and the issuer's discovery document.
//!
//! Shapes follow GitHub's "OpenID Connect reference" (docs.github.com): the issuer is
//! `https://token.actions.githubusercontent.com`; `aud` defaults to the owner's URL
//! (`https://github.com/OWNER`) unless the request names an `audience`; `sub` is
//! `repo:OWNER/REPO:environment:NAME` for a job with an environment, else
//! `repo:OWNER/REPO:ref:REF`; tokens are valid from ten minutes before issue to five minutes
//! after (`nbf = iat - 600`, `exp = iat + 300`, as in GitHub's example token).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// GitHub.com's Actions token issuer.
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// How long after issue a token expires.
pub const TOKEN_LIFETIME_SECS: i64 = 300;
/// How long before issue a token is already valid.
pub const NOT_BEFORE_SECS: i64 = 600;

/// A workflow run whose jobs ask for tokens. Every field but `repository` has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    /// `OWNER/REPO`.
    pub repository: String,
    /// The workflow's `name:`.
    #[serde(default = "default_workflow")]
    pub workflow: String,
    /// The git ref (`refs/heads/main`, `refs/tags/v1`, `refs/pull/7/merge`).
    #[serde(default = "default_ref", rename = "ref")]
    pub git_ref: String,
    /// The job's environment, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Who started the run.
    #[serde(default = "default_actor")]
    pub actor: String,
    /// What triggered it.
    #[serde(default = "default_event")]
    pub event_name: String,
    /// Test hook: tokens are issued as if this many seconds ago (more than 300: expired).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub issued_secs_ago: u64,
}

fn default_workflow() -> String {
    "terraform".into()
}
fn default_ref() -> String {
    "refs/heads/main".into()
}
fn default_actor() -> String {
    "octocat".into()
}
fn default_event() -> String {
    "push".into()
}
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for Run {
    /// The devstack's pipeline: `joinery-demo/infrastructure`, workflow `terraform`, on a push
    /// to `main`.
    fn default() -> Self {
        Run {
            repository: "joinery-demo/infrastructure".into(),
            workflow: default_workflow(),
            git_ref: default_ref(),
            environment: None,
            actor: default_actor(),
            event_name: default_event(),
            issued_secs_ago: 0,
        }
    }
}

impl Run {
    /// The repository's owner.
    pub fn owner(&self) -> &str {
        self.repository.split_once('/').map(|(o, _)| o).unwrap_or(&self.repository)
    }

    /// `branch` or `tag` (empty for other refs, as GitHub sends it).
    pub fn ref_type(&self) -> &'static str {
        if self.git_ref.starts_with("refs/heads/") {
            "branch"
        } else if self.git_ref.starts_with("refs/tags/") {
            "tag"
        } else {
            ""
        }
    }

    /// The short ref name (`main`).
    pub fn ref_name(&self) -> &str {
        self.git_ref.trim_start_matches("refs/heads/").trim_start_matches("refs/tags/")
    }

    /// The subject GitHub's default subject template produces.
    pub fn subject(&self) -> String {
        match &self.environment {
            Some(env) => format!("repo:{}:environment:{env}", self.repository),
            None if self.event_name == "pull_request" => format!("repo:{}:pull_request", self.repository),
            None => format!("repo:{}:ref:{}", self.repository, self.git_ref),
        }
    }

    /// Checks the names a token is built from; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        match self.repository.split_once('/') {
            Some((o, r)) if !o.is_empty() && !r.is_empty() && !r.contains('/') => {}
            _ => return Err(format!("repository {:?} is not OWNER/REPO", self.repository)),
        }
        if !self.git_ref.starts_with("refs/") {
            return Err(format!("ref {:?} does not start with refs/", self.git_ref));
        }
        if self.workflow.is_empty() {
            return Err("workflow is empty".into());
        }
        Ok(())
    }

    /// The token's claims for `audience` (default: the owner's URL), issued at Unix time `now`
    /// (minus [`Run::issued_secs_ago`]).
    pub fn claims(&self, issuer: &str, audience: Option<&str>, now: i64, run_id: u64) -> Value {
        let iat = now - i64::try_from(self.issued_secs_ago).unwrap_or(i64::MAX / 2);
        let aud = audience.map(str::to_string).unwrap_or_else(|| format!("https://github.com/{}", self.owner()));
        let file = self.workflow.to_ascii_lowercase().replace(' ', "-");
        let workflow_ref = format!("{}/.github/workflows/{file}.yml@{}", self.repository, self.git_ref);
        let sha = format!("{:040x}", u128::from(run_id.wrapping_mul(0x9e37_79b9)) << 32 | u128::from(run_id));
        let mut claims = json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "sub": self.subject(),
            "aud": aud,
            "ref": self.git_ref,
            "sha": sha,
            "repository": self.repository,
            "repository_owner": self.owner(),
            "repository_owner_id": "1000001",
            "run_id": run_id.to_string(),
            "run_number": "1",
            "run_attempt": "1",
            "repository_visibility": "private",
            "repository_id": "2000002",
            "actor_id": "3000003",
            "actor": self.actor,
            "workflow": self.workflow,
            "head_ref": "",
            "base_ref": "",
            "event_name": self.event_name,
            "ref_protected": "false",
            "ref_type": self.ref_type(),
            "workflow_ref": workflow_ref,
            "workflow_sha": sha,
            "job_workflow_ref": workflow_ref,
            "job_workflow_sha": sha,
            "runner_environment": "github-hosted",
            "iss": issuer,
            "nbf": iat - NOT_BEFORE_SECS,
            "exp": iat + TOKEN_LIFETIME_SECS,
            "iat": iat,
        });
        if let (Some(env), Some(obj)) = (&self.environment, claims.as_object_mut()) {
            obj.insert("environment".into(), Value::String(env.clone()));
        }
        claims
    }
}

/// The issuer's discovery document, with keys at `jwks_uri` (GitHub's fields).
pub fn openid_configuration(issuer: &str, jwks_uri: &str) -> Value {
    json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "subject_types_supported": ["public", "pairwise"],
        "response_types_supported": ["id_token"],
        "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository",
            "repository_id", "repository_owner", "repository_owner_id", "enterprise", "enterprise_id",
            "run_id", "run_number", "run_attempt", "actor", "actor_id", "workflow", "workflow_ref",
            "workflow_sha", "head_ref", "base_ref", "event_name", "ref_type", "ref_protected",
            "environment", "environment_node_id", "job_workflow_ref", "job_workflow_sha",
            "repository_visibility", "runner_environment", "issuer_scope"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_and_claims_follow_github() {
        let run = Run::default();
        assert_eq!(run.subject(), "repo:joinery-demo/infrastructure:ref:refs/heads/main");
        let c = run.claims(ISSUER, None, 1_000_000, 7);
        assert_eq!(c["aud"], "https://github.com/joinery-demo");
        assert_eq!(c["ref_type"], "branch");
        assert_eq!(c["repository_owner"], "joinery-demo");
        assert_eq!(c["exp"], 1_000_300);
        assert_eq!(c["nbf"], 999_400);
        assert!(c.get("environment").is_none());
        assert_eq!(
            c["job_workflow_ref"],
            "joinery-demo/infrastructure/.github/workflows/terraform.yml@refs/heads/main"
        );

        let env = Run { environment: Some("production".into()), ..Run::default() };
        assert_eq!(env.subject(), "repo:joinery-demo/infrastructure:environment:production");
        assert_eq!(env.claims(ISSUER, Some("api://AzureADTokenExchange"), 0, 1)["environment"], "production");
        let tag = Run { git_ref: "refs/tags/v1".into(), ..Run::default() };
        assert_eq!(tag.ref_type(), "tag");
        assert!(Run { repository: "nope".into(), ..Run::default() }.validate().is_err());
    }
}
