//! Getting an ARM access token for a management client (the Terraform provider): a service
//! principal's client secret (Entra client-credentials grant), a managed identity (IMDS) or
//! the Azure CLI (`az account get-access-token`). Tokens are secrets: `Debug` redacts them and
//! errors never include them or the client secret.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::http::percent_encode;

/// A national cloud: where ARM and Entra live, and the token audience ARM expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    /// Azure public cloud.
    Public,
    /// Azure US Government.
    UsGovernment,
    /// Azure China (21Vianet).
    China,
}

impl Cloud {
    /// Parses azurerm's `environment` names (`public`, `usgovernment`, `china`).
    pub fn parse(name: &str) -> Option<Cloud> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "public" | "azurecloud" | "azurepubliccloud" => Some(Cloud::Public),
            "usgovernment" | "usgov" | "azureusgovernment" | "azureusgovernmentcloud" => Some(Cloud::UsGovernment),
            "china" | "azurechina" | "azurechinacloud" => Some(Cloud::China),
            _ => None,
        }
    }

    /// ARM base URL.
    pub fn arm_endpoint(self) -> &'static str {
        match self {
            Cloud::Public => "https://management.azure.com",
            Cloud::UsGovernment => "https://management.usgovcloudapi.net",
            Cloud::China => "https://management.chinacloudapi.cn",
        }
    }

    /// Entra authority host.
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::UsGovernment => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    /// Token audience (resource) of ARM, with the trailing slash.
    pub fn arm_audience(self) -> &'static str {
        match self {
            Cloud::Public => "https://management.azure.com/",
            Cloud::UsGovernment => "https://management.usgovcloudapi.net/",
            Cloud::China => "https://management.chinacloudapi.cn/",
        }
    }
}

/// Credential failures (never carrying a secret).
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// Entra refused the request (`invalid_client`, …).
    #[error("Entra ID token request failed ({status}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// `error: error_description`.
        message: String,
    },
    /// Transport or decoding failure.
    #[error("token request to {url} failed: {message}")]
    Http {
        /// URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// Managed identity failure.
    #[error("managed identity: {0}")]
    ManagedIdentity(String),
    /// Azure CLI failure.
    #[error("Azure CLI: {0}")]
    Cli(String),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
}

/// A bearer token and when it expires.
#[derive(Clone)]
pub struct AccessToken {
    /// The JWT. Secret.
    pub token: String,
    /// Expiry.
    pub expires_at: SystemTime,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken").field("token", &"<redacted>").field("expires_at", &self.expires_at).finish()
    }
}

impl AccessToken {
    /// Whether it expires within `margin`.
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_at.duration_since(SystemTime::now()).map(|left| left < margin).unwrap_or(true)
    }
}

fn valid_segment(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// Client-credentials grant: `POST {authority_host}/{tenant}/oauth2/v2.0/token` with
/// `scope={audience}.default`.
pub async fn client_secret_token(
    authority_host: &str,
    tenant: &str,
    client_id: &str,
    client_secret: &str,
    audience: &str,
    extra_ca_pem: Option<&[u8]>,
) -> Result<AccessToken, CredentialError> {
    if !valid_segment(tenant) {
        return Err(CredentialError::Invalid(format!("invalid tenant id {tenant:?}")));
    }
    let url = format!("{}/{tenant}/oauth2/v2.0/token", authority_host.trim_end_matches('/'));
    let http = crate::http::build_client(&crate::http::ClientOptions {
        extra_ca_pem,
        no_proxy: false,
        timeout: Duration::from_secs(30),
        https_only: true,
        platform_roots: true,
    })
    .map_err(CredentialError::Invalid)?;
    let scope = format!("{}/.default", audience.trim_end_matches('/'));
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("scope", scope.as_str()),
    ];
    let body: String = form.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect::<Vec<_>>().join("&");
    let resp = http
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| CredentialError::Http { url: url.clone(), message: e.to_string() })?;
    let status = resp.status();
    let bytes = crate::http::read_capped(resp, 1024 * 1024)
        .await
        .map_err(|m| CredentialError::Http { url: url.clone(), message: m })?;
    if !status.is_success() {
        return Err(CredentialError::Rejected {
            status: status.as_u16(),
            message: crate::http::describe_error_body(&bytes),
        });
    }
    #[derive(Deserialize)]
    struct Resp {
        access_token: String,
        #[serde(default)]
        expires_in: Option<serde_json::Value>,
    }
    let r: Resp = serde_json::from_slice(&bytes)
        .map_err(|e| CredentialError::Http { url: url.clone(), message: format!("not a token response: {e}") })?;
    let secs = match r.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(3600),
        Some(serde_json::Value::String(s)) => s.parse().unwrap_or(3600),
        _ => 3600,
    };
    Ok(AccessToken { token: r.access_token, expires_at: SystemTime::now() + Duration::from_secs(secs) })
}

/// A managed-identity token from IMDS (`base_url` defaults to the link-local IMDS).
pub async fn managed_identity_token(
    base_url: Option<&str>,
    client_id: Option<&str>,
    audience: &str,
) -> Result<AccessToken, CredentialError> {
    let imds = match base_url {
        Some(b) => crate::imds::ImdsClient::new(b),
        None => crate::imds::ImdsClient::from_env(),
    }
    .map_err(|e| CredentialError::ManagedIdentity(e.to_string()))?;
    let selector = client_id.map(|c| crate::imds::IdentitySelector::ClientId(c.to_string()));
    let t = imds
        .access_token(audience, selector.as_ref())
        .await
        .map_err(|e| CredentialError::ManagedIdentity(e.to_string()))?;
    let expires_at = match (t.expires_on, t.expires_in) {
        (Some(on), _) => UNIX_EPOCH + Duration::from_secs(on),
        (None, Some(inn)) => SystemTime::now() + Duration::from_secs(inn),
        _ => SystemTime::now() + Duration::from_secs(3600),
    };
    Ok(AccessToken { token: t.access_token, expires_at })
}

/// A token from `az account get-access-token` (Azure CLI ≥ 2.54 for `expires_on`).
pub async fn cli_token(audience: &str, tenant: Option<&str>) -> Result<AccessToken, CredentialError> {
    let scope = format!("{}/.default", audience.trim_end_matches('/'));
    let mut cmd = tokio::process::Command::new("az");
    cmd.args(["account", "get-access-token", "-o", "json", "--scope", &scope]);
    if let Some(t) = tenant {
        if !valid_segment(t) {
            return Err(CredentialError::Invalid(format!("invalid tenant id {t:?}")));
        }
        cmd.args(["--tenant", t]);
    }
    let out = cmd
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| CredentialError::Cli(format!("cannot run `az` (is the Azure CLI installed?): {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(CredentialError::Cli(format!(
            "`az account get-access-token` failed (run `az login`): {}",
            err.trim().chars().take(400).collect::<String>()
        )));
    }
    #[derive(Deserialize)]
    struct Resp {
        #[serde(rename = "accessToken")]
        access_token: String,
        #[serde(default)]
        expires_on: Option<u64>,
    }
    let r: Resp = serde_json::from_slice(&out.stdout)
        .map_err(|e| CredentialError::Cli(format!("unexpected `az` output: {e}")))?;
    let expires_at = r
        .expires_on
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
        .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(300));
    Ok(AccessToken { token: r.access_token, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds() {
        assert_eq!(Cloud::parse("USGovernment"), Some(Cloud::UsGovernment));
        assert_eq!(Cloud::parse("china").map(Cloud::authority_host), Some("https://login.chinacloudapi.cn"));
        assert_eq!(Cloud::parse(""), Some(Cloud::Public));
        assert_eq!(Cloud::parse("german"), None);
        assert_eq!(percent_encode("https://m/.default"), "https%3A%2F%2Fm%2F.default");
    }
}
