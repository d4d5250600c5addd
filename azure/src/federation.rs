//! Workload identity federation, the client side: the OIDC ID token a CI job holds (GitHub
//! Actions, Azure Pipelines), a Kubernetes projected token file, or one given as is. Entra
//! exchanges such a token for an access token (a federated identity credential trusts its
//! issuer and subject), and Teleport's OIDC join methods (`github`) take one as the proof of
//! who the job is — so the agent, the provider's Teleport join and its Azure sign-in all get
//! it here.
//!
//! How each CI hands one out:
//!
//! * GitHub Actions: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD` with
//!   `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answering `{"value": "<jwt>"}`
//!   (`@actions/core` `getIDToken`; Teleport's `githubactions.IDTokenSource`);
//! * Azure Pipelines: `POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=ID`
//!   with `Authorization: Bearer $SYSTEM_ACCESSTOKEN` and `X-TFS-FedAuthRedirect: Suppress`,
//!   answering `{"oidcToken": "<jwt>"}` (the audience is the service connection's);
//! * a file (`AZURE_FEDERATED_TOKEN_FILE`, `ARM_OIDC_TOKEN_FILE_PATH`), re-read on each use as
//!   Kubernetes rotates it.
//!
//! Request tokens and ID tokens are secrets: `Debug` redacts them, errors never carry them,
//! and they are sent over https only.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The audience Entra's federated credentials expect by default.
pub const ENTRA_AUDIENCE: &str = "api://AzureADTokenExchange";
/// GitHub Actions' variables.
pub const GITHUB_REQUEST_URL_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// GitHub Actions' request token variable.
pub const GITHUB_REQUEST_TOKEN_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// A PEM CA file to trust for the CI's token service on top of the platform roots (the
/// devstack's emulated GitHub Actions; real runners need none).
pub const CI_CA_FILE_ENV: &str = "JOINERY_CI_CA_FILE";
/// The audience Teleport asks GitHub for (`githubactions.IDTokenSource`).
pub const TELEPORT_AUDIENCE: &str = "teleport.cluster.local";
/// The Azure Pipelines API version azurerm asks for.
const ADO_API_VERSION: &str = "7.1";
const MAX_BODY: usize = 64 * 1024;

/// Where an ID token comes from.
#[derive(Clone)]
pub enum IdTokenSource {
    /// A token given as is (`oidc_token`). Secret.
    Token(String),
    /// A file holding the token, re-read on each use.
    File(PathBuf),
    /// GitHub Actions' token service.
    GithubActions {
        /// `ACTIONS_ID_TOKEN_REQUEST_URL` (it already has a query string).
        request_url: String,
        /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. Secret.
        request_token: String,
    },
    /// Azure Pipelines' OIDC endpoint for a service connection.
    AzurePipelines {
        /// `SYSTEM_OIDCREQUESTURI`.
        request_url: String,
        /// `SYSTEM_ACCESSTOKEN`. Secret.
        request_token: String,
        /// The service connection whose federated credential Entra checks.
        service_connection_id: String,
    },
}

impl fmt::Debug for IdTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdTokenSource::Token(_) => f.write_str("Token(<redacted>)"),
            IdTokenSource::File(p) => f.debug_tuple("File").field(p).finish(),
            IdTokenSource::GithubActions { request_url, .. } => {
                f.debug_struct("GithubActions").field("request_url", request_url).finish_non_exhaustive()
            }
            IdTokenSource::AzurePipelines { request_url, service_connection_id, .. } => f
                .debug_struct("AzurePipelines")
                .field("request_url", request_url)
                .field("service_connection_id", service_connection_id)
                .finish_non_exhaustive(),
        }
    }
}

/// Why no ID token was had (never carrying one).
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The source is misconfigured.
    #[error("{0}")]
    Invalid(String),
    /// The token file cannot be read.
    #[error("cannot read the ID token file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The CI's token service failed or refused.
    #[error("ID token request to {url} failed: {message}")]
    Request {
        /// The URL, without its query string.
        url: String,
        /// Why (status and body, or transport error).
        message: String,
    },
}

impl IdTokenSource {
    /// GitHub Actions' source, from the variables a job with `permissions: id-token: write`
    /// has; `None` outside such a job.
    pub fn github_actions_from_env(env: &dyn Fn(&str) -> Option<String>) -> Option<IdTokenSource> {
        let url = env(GITHUB_REQUEST_URL_ENV).filter(|v| !v.is_empty())?;
        let token = env(GITHUB_REQUEST_TOKEN_ENV).filter(|v| !v.is_empty())?;
        Some(IdTokenSource::GithubActions { request_url: url, request_token: token })
    }

    /// The ID token for `audience` (the audience of a static token, a file's, or an Azure
    /// Pipelines connection's is theirs, not the caller's). `extra_ca_pem` is trusted on top
    /// of the platform roots (the devstack).
    pub async fn fetch(&self, audience: &str, extra_ca_pem: Option<&[u8]>) -> Result<String, FederationError> {
        match self {
            IdTokenSource::Token(t) => Ok(t.trim().to_string()),
            IdTokenSource::File(path) => match tokio::fs::read_to_string(path).await {
                Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
                Ok(_) => Err(FederationError::File { path: path.clone(), message: "the file is empty".into() }),
                Err(e) => Err(FederationError::File { path: path.clone(), message: e.to_string() }),
            },
            IdTokenSource::GithubActions { request_url, request_token } => {
                let sep = if request_url.contains('?') { '&' } else { '?' };
                let url = format!("{request_url}{sep}audience={}", crate::http::percent_encode(audience));
                #[derive(Deserialize)]
                struct Resp {
                    value: Option<String>,
                }
                let r: Resp = request(reqwest::Method::GET, &url, request_token, &[], extra_ca_pem).await?;
                r.value.filter(|v| !v.is_empty()).ok_or_else(|| FederationError::Request {
                    url: without_query(request_url),
                    message: "response did not include ID token".into(),
                })
            }
            IdTokenSource::AzurePipelines { request_url, request_token, service_connection_id } => {
                let sep = if request_url.contains('?') { '&' } else { '?' };
                let url = format!(
                    "{request_url}{sep}api-version={ADO_API_VERSION}&serviceConnectionId={}",
                    crate::http::percent_encode(service_connection_id)
                );
                #[derive(Deserialize)]
                struct Resp {
                    #[serde(rename = "oidcToken")]
                    oidc_token: Option<String>,
                }
                let headers = [("X-TFS-FedAuthRedirect", "Suppress"), ("Content-Length", "0")];
                let r: Resp = request(reqwest::Method::POST, &url, request_token, &headers, extra_ca_pem).await?;
                r.oidc_token.filter(|v| !v.is_empty()).ok_or_else(|| FederationError::Request {
                    url: without_query(request_url),
                    message: "response did not include oidcToken".into(),
                })
            }
        }
    }
}

/// The CA [`CI_CA_FILE_ENV`] names, if set.
pub fn ci_ca_from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Vec<u8>>, FederationError> {
    match env(CI_CA_FILE_ENV).filter(|p| !p.trim().is_empty()) {
        None => Ok(None),
        Some(path) => std::fs::read(path.trim())
            .map(Some)
            .map_err(|e| FederationError::File { path: PathBuf::from(path.trim()), message: e.to_string() }),
    }
}

/// An error and its causes on one line (reqwest's own message is only "error sending
/// request").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

fn without_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

async fn request<T: serde::de::DeserializeOwned>(
    method: reqwest::Method,
    url: &str,
    bearer: &str,
    headers: &[(&str, &str)],
    extra_ca_pem: Option<&[u8]>,
) -> Result<T, FederationError> {
    let fail = |message: String| FederationError::Request { url: without_query(url), message };
    if bearer.is_empty() {
        return Err(FederationError::Invalid(format!("no request token for {}", without_query(url))));
    }
    let http = crate::http::build_client(&crate::http::ClientOptions {
        extra_ca_pem,
        no_proxy: false,
        timeout: Duration::from_secs(30),
        // The request token is a secret.
        https_only: true,
        platform_roots: true,
    })
    .map_err(FederationError::Invalid)?;
    let mut req = http
        .request(method, url)
        .header("Authorization", format!("Bearer {bearer}"))
        .header("Accept", "application/json; api-version=2.0");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.map_err(|e| fail(with_causes(&e.without_url())))?;
    let status = resp.status();
    let body = crate::http::read_capped(resp, MAX_BODY).await.map_err(fail)?;
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}: {}", crate::http::describe_error_body(&body))));
    }
    serde_json::from_slice(&body).map_err(|e| fail(format!("not a token response: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_source_comes_from_the_job_environment_and_stays_secret() {
        let env = |k: &str| match k {
            "ACTIONS_ID_TOKEN_REQUEST_URL" => Some("https://x/idtoken?api-version=2.0".to_string()),
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN" => Some("s3cret".to_string()),
            _ => None,
        };
        let s = IdTokenSource::github_actions_from_env(&env).unwrap();
        assert!(!format!("{s:?}").contains("s3cret"));
        assert!(IdTokenSource::github_actions_from_env(&|_| None).is_none());
        assert!(!format!("{:?}", IdTokenSource::Token("jwt".into())).contains("jwt"));
    }

    #[tokio::test]
    async fn request_tokens_never_go_over_plain_http() {
        let s = IdTokenSource::GithubActions {
            request_url: "http://127.0.0.1:9/idtoken?api-version=2.0".into(),
            request_token: "s3cret".into(),
        };
        let e = s.fetch(ENTRA_AUDIENCE, None).await.unwrap_err().to_string();
        assert!(e.contains("http://127.0.0.1:9/idtoken"), "{e}");
        assert!(!e.contains("s3cret") && !e.contains("api-version"), "{e}");
    }
}
