//! Getting an ARM access token for a management client (the Terraform provider), with
//! Microsoft's `azure_identity` credentials: a service principal's client certificate (our
//! signed assertion, [`certificate`], through `ClientAssertionCredential`: the crate's own
//! certificate credential needs OpenSSL), its client secret (`ClientSecretCredential`), workload identity federation — an OIDC token from GitHub
//! Actions, Azure Pipelines, a file or given as is, exchanged as a client assertion
//! (`ClientAssertionCredential` over [`crate::federation`]) —, a managed identity
//! (`ManagedIdentityCredential`) or the Azure CLI (`AzureCliCredential`).
//!
//! What this module adds to the crate: the choice of credential ([`SignIn`]), the national
//! clouds and explicit endpoints ([`Endpoints`]: the authority host, extra CAs for the
//! devstack, and an IMDS base other than the link-local one, which the crate hard-codes and
//! [`transport`] redirects), and errors that never carry a secret. Tokens are secrets:
//! `Debug` redacts them; secrets and bearer tokens travel over https only (the crate refuses an
//! `http` authority; IMDS is link-local http by design).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::ClientMethodOptions;
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId,
};

use crate::federation::{ENTRA_AUDIENCE, IdTokenSource};

mod certificate;
mod transport;

use certificate::CertificateAssertion;
pub use certificate::{CertificateError, ClientCertificate, pkcs12_bundle, thumbprint};

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
    /// The settings do not make a credential.
    #[error("{0}")]
    Invalid(String),
    /// The credential could not get a token (Entra's, IMDS's or the CLI's reason).
    #[error("{credential}: {message}")]
    Failed {
        /// Which credential (`ClientSecretCredential`, …).
        credential: &'static str,
        /// Why.
        message: String,
    },
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

/// How to sign in.
#[derive(Clone)]
pub enum SignIn {
    /// A service principal's client certificate (azurerm's `client_certificate*`).
    ClientCertificate {
        /// Tenant.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// The certificate and its key.
        certificate: ClientCertificate,
    },
    /// A service principal's client secret.
    ClientSecret {
        /// Tenant.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// The secret.
        secret: String,
    },
    /// Workload identity federation: an OIDC token a federated identity credential of the
    /// application trusts, exchanged as a client assertion.
    Federated {
        /// Tenant.
        tenant_id: String,
        /// Application (client) id.
        client_id: String,
        /// Where the token comes from.
        source: IdTokenSource,
    },
    /// A managed identity (system-assigned, or the user-assigned one with this client id).
    ManagedIdentity {
        /// Client id of a user-assigned identity.
        client_id: Option<String>,
    },
    /// The account logged in to the Azure CLI.
    AzureCli {
        /// Tenant to get the token in.
        tenant_id: Option<String>,
    },
}

impl fmt::Debug for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignIn::ClientCertificate { tenant_id, client_id, certificate } => f
                .debug_struct("ClientCertificate")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("certificate", certificate)
                .finish(),
            SignIn::ClientSecret { tenant_id, client_id, .. } => f
                .debug_struct("ClientSecret")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            SignIn::Federated { tenant_id, client_id, source } => f
                .debug_struct("Federated")
                .field("tenant_id", tenant_id)
                .field("client_id", client_id)
                .field("source", source)
                .finish(),
            SignIn::ManagedIdentity { client_id } => {
                f.debug_struct("ManagedIdentity").field("client_id", client_id).finish()
            }
            SignIn::AzureCli { tenant_id } => f.debug_struct("AzureCli").field("tenant_id", tenant_id).finish(),
        }
    }
}

/// Where Entra and IMDS are, and what to trust.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The Entra authority (`https://login.microsoftonline.com`, another cloud's, the
    /// devstack's). Must be https.
    pub authority_host: String,
    /// PEM CAs trusted on top of the platform roots.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// IMDS base URL instead of `http://169.254.169.254` (the devstack's per-VM IMDS).
    pub msi_endpoint: Option<String>,
}

/// A credential that gets ARM tokens.
pub struct Credential {
    inner: Arc<dyn TokenCredential>,
    name: &'static str,
    /// What a failure adds so the user can tell which credential was refused (a certificate's
    /// subject and the SHA-1 thumbprint the Azure portal lists).
    context: Option<String>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential").field("kind", &self.name).finish_non_exhaustive()
    }
}

fn invalid(e: azure_core::Error) -> CredentialError {
    CredentialError::Invalid(e.to_string())
}

impl Credential {
    /// Builds the credential; nothing is contacted yet.
    pub fn new(sign_in: SignIn, endpoints: &Endpoints) -> Result<Credential, CredentialError> {
        if !endpoints.authority_host.starts_with("https://") {
            return Err(CredentialError::Invalid(format!(
                "authority host {} is not an https:// URL: credentials are only sent over https",
                endpoints.authority_host
            )));
        }
        let client_options = transport::client_options(endpoints)?;
        let context = match &sign_in {
            SignIn::ClientCertificate { certificate, .. } => Some(format!(
                "client certificate {}, thumbprint (SHA-1) {}",
                certificate.subject(),
                certificate.thumbprint()
            )),
            _ => None,
        };
        let (inner, name): (Arc<dyn TokenCredential>, &'static str) = match sign_in {
            SignIn::ClientCertificate { tenant_id, client_id, certificate } => {
                let token_endpoint = certificate::token_endpoint(&endpoints.authority_host, &tenant_id)
                    .map_err(CredentialError::Invalid)?;
                (
                    ClientAssertionCredential::new(
                        tenant_id,
                        client_id.clone(),
                        CertificateAssertion { certificate, client_id, token_endpoint },
                        Some(ClientAssertionCredentialOptions { client_options }),
                    )
                    .map_err(invalid)?,
                    "ClientAssertionCredential",
                )
            }
            SignIn::ClientSecret { tenant_id, client_id, secret } => (
                ClientSecretCredential::new(
                    &tenant_id,
                    client_id,
                    Secret::new(secret),
                    Some(ClientSecretCredentialOptions { client_options }),
                )
                .map_err(invalid)?,
                "ClientSecretCredential",
            ),
            SignIn::Federated { tenant_id, client_id, source } => (
                ClientAssertionCredential::new(
                    tenant_id,
                    client_id,
                    FederatedAssertion { source, extra_ca_pem: endpoints.extra_ca_pem.clone() },
                    Some(ClientAssertionCredentialOptions { client_options }),
                )
                .map_err(invalid)?,
                "ClientAssertionCredential",
            ),
            SignIn::ManagedIdentity { client_id } => (
                ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                    user_assigned_id: client_id.map(UserAssignedId::ClientId),
                    client_options,
                }))
                .map_err(invalid)?,
                "ManagedIdentityCredential",
            ),
            SignIn::AzureCli { tenant_id } => (
                AzureCliCredential::new(Some(AzureCliCredentialOptions { tenant_id, ..Default::default() }))
                    .map_err(invalid)?,
                "AzureCliCredential",
            ),
        };
        Ok(Credential { inner, name, context })
    }

    /// Which `azure_identity` credential this is.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A token for `audience` (ARM's: `https://management.azure.com/`), as scope
    /// `{audience}.default`.
    pub async fn token(&self, audience: &str) -> Result<AccessToken, CredentialError> {
        let scope = format!("{}/.default", audience.trim_end_matches('/'));
        let t = self.inner.get_token(&[scope.as_str()], None).await.map_err(|e| CredentialError::Failed {
            credential: self.name,
            message: match &self.context {
                Some(context) => format!("{e} ({context})"),
                None => e.to_string(),
            },
        })?;
        let secs = u64::try_from(t.expires_on.unix_timestamp()).unwrap_or(0);
        Ok(AccessToken { token: t.token.secret().to_string(), expires_at: UNIX_EPOCH + Duration::from_secs(secs) })
    }
}

/// A service principal's token with its client secret, through [`ClientSecretCredential`]
/// (a shorthand for tests and tools).
pub async fn client_secret_token(
    authority_host: &str,
    tenant: &str,
    client_id: &str,
    client_secret: &str,
    audience: &str,
    extra_ca_pem: Option<&[u8]>,
) -> Result<AccessToken, CredentialError> {
    let sign_in = SignIn::ClientSecret {
        tenant_id: tenant.to_string(),
        client_id: client_id.to_string(),
        secret: client_secret.to_string(),
    };
    let endpoints = Endpoints {
        authority_host: authority_host.to_string(),
        extra_ca_pem: extra_ca_pem.map(<[u8]>::to_vec),
        msi_endpoint: None,
    };
    Credential::new(sign_in, &endpoints)?.token(audience).await
}

/// The client assertion of a federated sign-in: a fresh ID token for Entra's audience.
struct FederatedAssertion {
    source: IdTokenSource,
    extra_ca_pem: Option<Vec<u8>>,
}

impl fmt::Debug for FederatedAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederatedAssertion").field("source", &self.source).finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl ClientAssertion for FederatedAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.source
            .fetch(ENTRA_AUDIENCE, self.extra_ca_pem.as_deref())
            .await
            .map_err(|e| azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug_and_off_http() {
        let sign_in = SignIn::ClientSecret {
            tenant_id: "11111111-1111-1111-1111-111111111111".into(),
            client_id: "22222222-2222-2222-2222-222222222222".into(),
            secret: "s3cret".into(),
        };
        assert!(!format!("{sign_in:?}").contains("s3cret"));
        let http = Endpoints { authority_host: "http://127.0.0.1:9".into(), extra_ca_pem: None, msi_endpoint: None };
        let e = Credential::new(sign_in.clone(), &http).unwrap_err().to_string();
        assert!(e.contains("only sent over https") && !e.contains("s3cret"), "{e}");
        let ok = Endpoints { authority_host: "https://127.0.0.1:9".into(), ..http };
        assert_eq!(Credential::new(sign_in, &ok).unwrap().name(), "ClientSecretCredential");
    }

    #[test]
    fn clouds() {
        assert_eq!(Cloud::parse("USGovernment"), Some(Cloud::UsGovernment));
        assert_eq!(Cloud::parse("china").map(Cloud::authority_host), Some("https://login.chinacloudapi.cn"));
        assert_eq!(Cloud::parse(""), Some(Cloud::Public));
        assert_eq!(Cloud::parse("german"), None);
    }
}
