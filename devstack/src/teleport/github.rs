//! The devstack's `github` join method: Teleport's `lib/join/githubactions` checks, in its
//! order and with its messages, against the emulated GitHub Actions issuer.
//!
//! 1. the ID token is required (`IDToken is required`);
//! 2. `enterprise_server_host` / `enterprise_slug` need Teleport Enterprise (the devstack is
//!    the open-source build): refused as Teleport OSS refuses them;
//! 3. the token is verified — with `static_jwks` when the token spec has it (10 s leeway,
//!    audience only, as `ValidateTokenWithJWKS`), else by OIDC discovery of
//!    `https://token.actions.githubusercontent.com` (served by [`crate::github`]) with
//!    zitadel's checks ([`crate::oidc::verify`]); the audience is Teleport's fixed
//!    `teleport.cluster.local` (what `githubactions.IDTokenSource` asks GitHub for), not the
//!    cluster name;
//! 4. the allow rules: a rule matches when each of its non-empty fields matches the claim —
//!    `sub`, `repository`, `repository_owner`, `workflow`, `environment`, `actor` and `ref`
//!    as globs (`*`, `?`), `ref_type` exactly — else `id token claims did not match any allow
//!    rules` (AccessDenied).
//!
//! Errors are wrapped as Teleport wraps them (`verifying OIDC token` on `teleport.join.v1`,
//! `validating with oidc`, `verifying token`) and rendered the way `trace.UserMessage`
//! prints a chain: one message a line, each cause indented one tab further.

use joinery_teleport::proto::teleport::join::v1;
use joinery_teleport::proto::types::{ProvisionTokenSpecV2GitHub, ProvisionTokenV2};
use serde::Deserialize;
use tonic::Status;

use super::delegated::{BotKeys, DelegatedJoin, Exchange, IdTokenJoin, bot_params, unexpected_message};
use super::trace::TraceError;
use crate::oidc::Discovery;

/// The audience Teleport requires of GitHub ID tokens.
pub const AUDIENCE: &str = "teleport.cluster.local";

/// The claims the allow rules read.
#[derive(Debug, Default, Deserialize)]
struct Claims {
    #[serde(default)]
    sub: String,
    #[serde(default)]
    repository: String,
    #[serde(default)]
    repository_owner: String,
    #[serde(default)]
    workflow: String,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    actor: String,
    #[serde(default, rename = "ref")]
    git_ref: String,
    #[serde(default)]
    ref_type: String,
}

/// Teleport's `GlobMatchAllowEmptyPattern`: an empty pattern matches anything; `*` any run of
/// characters, `?` one character.
fn glob(pattern: &str, value: &str) -> bool {
    fn at(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|i| at(rest, &v[i..])),
            Some(('?', rest)) => !v.is_empty() && at(rest, &v[1..]),
            Some((c, rest)) => v.first() == Some(c) && at(rest, &v[1..]),
        }
    }
    if pattern.is_empty() {
        return true;
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    at(&p, &v)
}

fn check_allow_rules(spec: &ProvisionTokenSpecV2GitHub, c: &Claims) -> Result<(), TraceError> {
    let matched = spec.allow.iter().any(|r| {
        glob(&r.sub, &c.sub)
            && glob(&r.repository, &c.repository)
            && glob(&r.repository_owner, &c.repository_owner)
            && glob(&r.workflow, &c.workflow)
            && glob(&r.environment, &c.environment)
            && glob(&r.actor, &c.actor)
            && glob(&r.r#ref, &c.git_ref)
            && (r.ref_type.is_empty() || r.ref_type == c.ref_type)
    });
    if matched { Ok(()) } else { Err(TraceError::access_denied("id token claims did not match any allow rules")) }
}

/// Verifies `github` joins against the emulated GitHub Actions issuer.
pub struct GithubVerifier {
    discovery: Discovery,
}

impl GithubVerifier {
    /// A verifier fetching issuers through `discovery`.
    pub fn new(discovery: Discovery) -> Self {
        GithubVerifier { discovery }
    }

    /// `CheckGithubIDToken`: the token's signature and claims, then its allow rules.
    async fn check(&self, token: &ProvisionTokenV2, id_token: &[u8]) -> Result<(), TraceError> {
        if id_token.is_empty() {
            return Err(TraceError::access_denied("IDToken is required"));
        }
        let spec = token.spec.as_ref().and_then(|s| s.git_hub.clone()).unwrap_or_default();
        if !spec.enterprise_server_host.is_empty() || !spec.enterprise_slug.is_empty() {
            return Err(TraceError::access_denied("this feature requires Teleport Enterprise")
                .wrap("github enterprise server joining"));
        }
        let id_token = String::from_utf8_lossy(id_token);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = if spec.static_jwks.is_empty() {
            let keys = self
                .discovery
                .keys(crate::github::ISSUER)
                .await
                .map_err(|e| TraceError::plain(e).wrap("discovering oidc document").wrap("validating with oidc"))?;
            crate::oidc::verify(&id_token, crate::github::ISSUER, AUDIENCE, &keys, now)
                .map_err(|e| TraceError::plain(e).wrap("verifying token").wrap("validating with oidc"))?
        } else {
            static_jwks(&spec.static_jwks, &id_token, now).map_err(|e| e.wrap("validating with jwks"))?
        };
        let claims: Claims = serde_json::from_value(claims).unwrap_or_default();
        tracing::info!(repository = %claims.repository, workflow = %claims.workflow, sub = %claims.sub, "Github actions run trying to join cluster");
        check_allow_rules(&spec, &claims)
    }
}

/// `ValidateTokenWithJWKS`: signature under the configured keys, then `aud` and the times
/// with 10 s of leeway (go-jose's checks; the issuer is not checked).
fn static_jwks(jwks: &str, id_token: &str, now: i64) -> Result<serde_json::Value, TraceError> {
    let keys: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(jwks).map_err(|e| TraceError::plain(e).wrap("parsing provided jwks"))?;
    crate::oidc::check_signature(id_token, &keys).map_err(|e| TraceError::plain(e).wrap("validating jwt signature"))?;
    let (std, raw) = crate::oidc::peek(id_token).map_err(|e| TraceError::plain(e).wrap("parsing jwt"))?;
    let standard = |m: &str| TraceError::plain(m).wrap("validating standard claims");
    if !std.aud.iter().any(|a| a == AUDIENCE) {
        return Err(standard("go-jose/go-jose/jwt: validation failed, invalid audience claim (aud)"));
    }
    if std.exp != 0 && now > std.exp + 10 {
        return Err(standard("go-jose/go-jose/jwt: validation failed, token is expired (exp)"));
    }
    if std.nbf.is_some_and(|nbf| now + 10 < nbf) {
        return Err(standard("go-jose/go-jose/jwt: validation failed, token not valid yet (nbf)"));
    }
    Ok(raw)
}

#[tonic::async_trait]
impl DelegatedJoin for GithubVerifier {
    fn method(&self) -> &'static str {
        "github"
    }

    /// `OIDCInit` (bot parameters and the ID token) → the result.
    async fn join_v1(
        &self,
        token: &ProvisionTokenV2,
        first: v1::join_request::Payload,
        _exchange: &mut Exchange<'_>,
    ) -> Result<BotKeys, Status> {
        let v1::join_request::Payload::OidcInit(init) = first else {
            return Err(unexpected_message(self.method()));
        };
        let keys = bot_params(init.client_params)?;
        self.check(token, &init.id_token).await.map_err(|r| log_refusal(token, r.wrap("verifying OIDC token")))?;
        Ok(keys)
    }

    fn legacy_id_token(&self) -> Option<&dyn IdTokenJoin> {
        Some(self)
    }
}

#[tonic::async_trait]
impl IdTokenJoin for GithubVerifier {
    async fn verify(&self, token: &ProvisionTokenV2, id_token: &str) -> Result<(), Status> {
        self.check(token, id_token.as_bytes()).await.map_err(|r| log_refusal(token, r))
    }
}

fn log_refusal(token: &ProvisionTokenV2, r: TraceError) -> Status {
    let status = Status::from(r);
    let name = token.metadata.as_ref().map(|m| m.name.as_str()).unwrap_or_default();
    tracing::warn!(token = %name, code = ?status.code(), reason = %status.message(), "github join rejected");
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use joinery_teleport::proto::types::provision_token_spec_v2_git_hub::Rule;

    fn claims() -> Claims {
        Claims {
            sub: "repo:joinery-demo/infrastructure:ref:refs/heads/main".into(),
            repository: "joinery-demo/infrastructure".into(),
            repository_owner: "joinery-demo".into(),
            workflow: "terraform".into(),
            git_ref: "refs/heads/main".into(),
            ref_type: "branch".into(),
            actor: "octocat".into(),
            ..Claims::default()
        }
    }

    fn spec(rules: Vec<Rule>) -> ProvisionTokenSpecV2GitHub {
        ProvisionTokenSpecV2GitHub { allow: rules, ..Default::default() }
    }

    #[test]
    fn a_rule_matches_when_every_field_it_sets_matches() {
        let ok = |r: Rule| check_allow_rules(&spec(vec![r]), &claims()).is_ok();
        assert!(ok(Rule { repository: "joinery-demo/infrastructure".into(), ..Default::default() }));
        assert!(ok(Rule {
            repository_owner: "joinery-demo".into(),
            r#ref: "refs/heads/*".into(),
            ..Default::default()
        }));
        assert!(ok(Rule { sub: "repo:joinery-demo/*:ref:refs/heads/ma?n".into(), ..Default::default() }));
        assert!(!ok(Rule {
            repository: "joinery-demo/infrastructure".into(),
            workflow: "deploy".into(),
            ..Default::default()
        }));
        assert!(!ok(Rule {
            repository: "joinery-demo/infrastructure".into(),
            ref_type: "tag".into(),
            ..Default::default()
        }));
        assert!(!ok(Rule {
            repository_owner: "joinery-demo".into(),
            environment: "production".into(),
            ..Default::default()
        }));
        // ref_type is exact, not a glob.
        assert!(!ok(Rule { repository_owner: "joinery-demo".into(), ref_type: "bran*".into(), ..Default::default() }));
        let refused =
            check_allow_rules(&spec(vec![Rule { workflow: "deploy".into(), ..Default::default() }]), &claims())
                .unwrap_err()
                .wrap("verifying OIDC token");
        let refused = Status::from(refused);
        assert_eq!(refused.code(), tonic::Code::PermissionDenied);
        assert_eq!(refused.message(), "verifying OIDC token\n\tid token claims did not match any allow rules");
    }
}
