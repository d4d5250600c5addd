//! The provider's Azure side: a lazily built ARM client, from the settings of the
//! `azure { … }` block ([`crate::config::azure`]).
//!
//! Nothing here talks to Azure at configure time: a configuration that only manages Teleport
//! objects needs no Azure credentials. The first Azure resource or data source to need ARM
//! gets a token from an `azure_identity` credential ([`joinery_azure::credential`]) chosen as
//! azurerm chooses — a service principal certificate, its secret, workload identity federation (`use_oidc`), a
//! managed identity (`use_msi`), the Azure CLI (`use_cli`), in that order — and the client is
//! cached, renewed shortly before the token expires.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use joinery_azure::arm::{ArmClient, ArmError, ArmOptions};
use joinery_azure::credential::{
    AccessToken, CertificateError, ClientCertificate, Cloud, Credential, Endpoints, SignIn,
};
use joinery_azure::federation::IdTokenSource;

use crate::config::azure::{self as settings, AzureSettings};
use crate::config::settings::Setting;
use joinery_tfplugin::framework::Diagnostics;

fn cloud(s: &AzureSettings) -> Result<Cloud, Diagnostics> {
    let name = s.environment.as_deref().unwrap_or("public");
    Cloud::parse(name).ok_or_else(|| {
        Diagnostics::attribute_error(
            settings::path(&settings::ENVIRONMENT),
            "Unknown Azure environment",
            format!("{name:?} is not one of public, usgovernment, china."),
        )
    })
}

/// The Azure half of a configured provider.
pub struct AzureContext {
    /// Resolved settings.
    pub settings: AzureSettings,
    client: tokio::sync::Mutex<Option<(Arc<ArmClient>, AccessToken)>>,
}

impl AzureContext {
    /// A context that has not contacted Azure.
    pub fn new(settings: AzureSettings) -> AzureContext {
        AzureContext { settings, client: tokio::sync::Mutex::new(None) }
    }

    /// The ARM client, getting a token on first use (or when the token is about to expire).
    pub async fn arm(&self) -> Result<Arc<ArmClient>, Diagnostics> {
        let mut guard = self.client.lock().await;
        if let Some((c, t)) = guard.as_ref()
            && !t.expires_within(Duration::from_secs(300))
        {
            return Ok(Arc::clone(c));
        }
        let s = &self.settings;
        let cloud = cloud(s)?;
        let ca = match &s.ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                Diagnostics::attribute_error(
                    settings::path(&settings::CA_FILE),
                    "Cannot read the Azure CA file",
                    format!("{path}: {e}"),
                )
            })?),
            None => None,
        };
        let audience = cloud.arm_audience();
        let authority = s.authority_host.clone().unwrap_or_else(|| cloud.authority_host().to_string());
        let base = s.arm_endpoint.clone().unwrap_or_else(|| cloud.arm_endpoint().to_string());
        // Secrets and bearer tokens go to these two: never over plain http.
        for (setting, url) in [(&settings::AUTHORITY_HOST, &authority), (&settings::ARM_ENDPOINT, &base)] {
            if !url.starts_with("https://") {
                return Err(Diagnostics::attribute_error(
                    settings::path(setting),
                    "Insecure Azure endpoint",
                    format!("{url} is not an https:// URL: Azure credentials and tokens are only sent over https."),
                ));
            }
        }
        let sign_in = sign_in(s)?;
        let endpoints =
            Endpoints { authority_host: authority, extra_ca_pem: ca.clone(), msi_endpoint: s.msi_endpoint.clone() };
        let token = async { Credential::new(sign_in, &endpoints)?.token(audience).await }
            .await
            .map_err(|e| Diagnostics::error("Cannot authenticate to Azure", e.to_string()))?;
        let client = ArmClient::new(token.token.clone(), ArmOptions { base_url: Some(base), extra_ca_pem: ca })
            .map_err(|e| Diagnostics::error("Cannot build the ARM client", e.to_string()))?;
        let client = Arc::new(client);
        *guard = Some((Arc::clone(&client), token));
        Ok(client)
    }
}

/// The tenant and client id a service principal sign-in needs, or a diagnostic naming what is
/// missing for `what`.
fn principal(s: &AzureSettings, what: &str) -> Result<(String, String), Diagnostics> {
    match (&s.tenant_id, &s.client_id) {
        (Some(t), Some(c)) => Ok((t.clone(), c.clone())),
        _ => Err(Diagnostics::attribute_error(
            settings::path(if s.tenant_id.is_none() { &settings::TENANT_ID } else { &settings::CLIENT_ID }),
            "Incomplete Azure service principal",
            format!("{what} needs tenant_id and client_id (or ARM_TENANT_ID and ARM_CLIENT_ID)."),
        )),
    }
}

/// The client certificate the settings name (a file, or the bundle inline), if any, checked
/// now: a wrong password or an expired certificate is reported on its attribute, not as
/// Entra's refusal.
fn client_certificate(s: &AzureSettings) -> Result<Option<(ClientCertificate, &'static Setting)>, Diagnostics> {
    let bad = |setting: &Setting, summary: &str, detail: String| {
        Diagnostics::attribute_error(settings::path(setting), summary, detail)
    };
    let (der, setting) = match (&s.client_certificate_path, &s.client_certificate) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(bad(
                &settings::CLIENT_CERTIFICATE,
                "Conflicting Azure client certificates",
                "Set client_certificate (ARM_CLIENT_CERTIFICATE) or client_certificate_path \
                 (ARM_CLIENT_CERTIFICATE_PATH), not both."
                    .into(),
            ));
        }
        (Some(path), None) => {
            let der = std::fs::read(path).map_err(|e| {
                bad(
                    &settings::CLIENT_CERTIFICATE_PATH,
                    "Cannot read the Azure client certificate",
                    format!("{path}: {e}"),
                )
            })?;
            (der, &settings::CLIENT_CERTIFICATE_PATH)
        }
        (None, Some(b64)) => {
            let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
            let der = base64::engine::general_purpose::STANDARD.decode(compact).map_err(|e| {
                bad(
                    &settings::CLIENT_CERTIFICATE,
                    "Invalid Azure client certificate",
                    format!("client_certificate must be a base64-encoded PKCS#12 bundle: {e}"),
                )
            })?;
            (der, &settings::CLIENT_CERTIFICATE)
        }
    };
    let password = s.client_certificate_password.as_deref().unwrap_or("");
    match ClientCertificate::from_pkcs12(&der, password, std::time::SystemTime::now()) {
        Ok(c) => Ok(Some((c, setting))),
        Err(e @ CertificateError::WrongPassword) => {
            Err(bad(&settings::CLIENT_CERTIFICATE_PASSWORD, "Cannot open the Azure client certificate", e.to_string()))
        }
        Err(e) => Err(bad(setting, "Unusable Azure client certificate", e.to_string())),
    }
}

/// The sign-in the settings ask for, in azurerm's order (go-azure-sdk's `NewAuthorizer`:
/// client certificate, client secret, OIDC, managed identity, Azure CLI).
fn sign_in(s: &AzureSettings) -> Result<SignIn, Diagnostics> {
    if let Some((certificate, setting)) = client_certificate(s)? {
        let (tenant_id, client_id) = principal(s, setting.name)?;
        return Ok(SignIn::ClientCertificate { tenant_id, client_id, certificate });
    }
    if let Some(secret) = &s.client_secret {
        let (tenant_id, client_id) = principal(s, "client_secret")?;
        return Ok(SignIn::ClientSecret { tenant_id, client_id, secret: secret.clone() });
    }
    if s.use_oidc {
        let (tenant_id, client_id) = principal(s, "use_oidc")?;
        let source = if let Some(t) = &s.oidc_token {
            IdTokenSource::Token(t.clone())
        } else if let Some(path) = &s.oidc_token_file_path {
            IdTokenSource::File(path.into())
        } else if let (Some(url), Some(token)) = (&s.oidc_request_url, &s.oidc_request_token) {
            match &s.ado_pipeline_service_connection_id {
                Some(id) => IdTokenSource::AzurePipelines {
                    request_url: url.clone(),
                    request_token: token.clone(),
                    service_connection_id: id.clone(),
                },
                None => IdTokenSource::GithubActions { request_url: url.clone(), request_token: token.clone() },
            }
        } else {
            return Err(Diagnostics::attribute_error(
                settings::path(&settings::USE_OIDC),
                "No OIDC token for use_oidc",
                "Set oidc_token (ARM_OIDC_TOKEN), oidc_token_file_path (ARM_OIDC_TOKEN_FILE_PATH), or \
                 oidc_request_url and oidc_request_token (ARM_OIDC_REQUEST_URL / ARM_OIDC_REQUEST_TOKEN; GitHub \
                 Actions sets ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN for a job with \
                 `permissions: id-token: write`).",
            ));
        };
        return Ok(SignIn::Federated { tenant_id, client_id, source });
    }
    if s.use_msi {
        return Ok(SignIn::ManagedIdentity { client_id: s.client_id.clone() });
    }
    if s.use_cli {
        return Ok(SignIn::AzureCli { tenant_id: s.tenant_id.clone() });
    }
    Err(Diagnostics::error(
        "No Azure credentials",
        "Set azure.client_id/client_secret/tenant_id (ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID) or \
         client_certificate_path/client_certificate_password (ARM_CLIENT_CERTIFICATE_PATH, \
         ARM_CLIENT_CERTIFICATE_PASSWORD), \
         use_oidc = true (ARM_USE_OIDC) in a pipeline with a federated identity credential, use_msi = true \
         (ARM_USE_MSI), or use_cli = true (ARM_USE_CLI) after `az login`.",
    ))
}

/// An ARM failure as a diagnostic.
pub fn arm_error(action: &str, e: ArmError) -> Diagnostics {
    Diagnostics::error(format!("Azure: error {action}"), e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn secrets_never_go_to_a_plain_http_endpoint() {
        let secret = AzureSettings {
            tenant_id: Some("11111111-1111-1111-1111-111111111111".into()),
            client_id: Some("22222222-2222-2222-2222-222222222222".into()),
            client_secret: Some("s3cret".into()),
            ..AzureSettings::default()
        };
        for (settings, attribute) in [
            (
                AzureSettings { authority_host: Some("http://127.0.0.1:9".into()), ..secret.clone() },
                "azure.authority_host",
            ),
            (AzureSettings { arm_endpoint: Some("http://127.0.0.1:9".into()), ..secret.clone() }, "azure.arm_endpoint"),
        ] {
            let Err(diags) = AzureContext::new(settings).arm().await else { panic!("an http endpoint was accepted") };
            let d = &diags.0[0];
            assert_eq!(d.path.as_ref().map(|p| p.to_string()).as_deref(), Some(attribute));
            assert!(d.detail.contains("only sent over https"), "{}", d.detail);
        }
    }

    /// A PKCS#12 bundle of a fresh self-signed RSA certificate, with password `pw`.
    fn bundle(pw: &str) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec![]).unwrap().self_signed(&key).unwrap();
        joinery_azure::credential::pkcs12_bundle(cert.der(), &key.serialize_der(), pw).unwrap()
    }

    #[test]
    fn client_certificates_are_checked_on_their_attribute() {
        let dir = tempfile::tempdir().unwrap();
        let pfx = dir.path().join("sp.pfx");
        std::fs::write(&pfx, bundle("pa55")).unwrap();
        let base = AzureSettings {
            tenant_id: Some("11111111-1111-1111-1111-111111111111".into()),
            client_id: Some("22222222-2222-2222-2222-222222222222".into()),
            client_secret: Some("s3cret".into()),
            client_certificate_path: Some(pfx.display().to_string()),
            client_certificate_password: Some("pa55".into()),
            ..AzureSettings::default()
        };
        assert!(
            matches!(sign_in(&base), Ok(SignIn::ClientCertificate { .. })),
            "a certificate is used before a secret"
        );
        let inline = AzureSettings {
            client_certificate_path: None,
            client_certificate: Some(base64::engine::general_purpose::STANDARD.encode(bundle(""))),
            client_certificate_password: None,
            ..base.clone()
        };
        assert!(matches!(sign_in(&inline), Ok(SignIn::ClientCertificate { .. })), "inline, no password");
        let refused = |s: AzureSettings| {
            let Err(d) = sign_in(&s) else { panic!("accepted") };
            let d = &d.0[0];
            (d.path.as_ref().map(|p| p.to_string()).unwrap_or_default(), d.detail.clone())
        };
        let (path, detail) =
            refused(AzureSettings { client_certificate_password: Some("nope".into()), ..base.clone() });
        assert_eq!(path, "azure.client_certificate_password");
        assert!(detail.contains("password") && !detail.contains("nope"), "{detail}");
        let (path, detail) =
            refused(AzureSettings { client_certificate_path: Some("/nonexistent.pfx".into()), ..base.clone() });
        assert_eq!(path, "azure.client_certificate_path");
        assert!(detail.contains("/nonexistent.pfx"), "{detail}");
        let (path, _) = refused(AzureSettings { client_certificate: Some("%%%".into()), ..inline.clone() });
        assert_eq!(path, "azure.client_certificate");
        let (path, detail) = refused(AzureSettings { client_certificate: Some("AAAA".into()), ..base.clone() });
        assert_eq!(path, "azure.client_certificate");
        assert!(detail.contains("not both"), "{detail}");
        let (path, detail) = refused(AzureSettings { tenant_id: None, ..base });
        assert_eq!(path, "azure.tenant_id");
        assert!(detail.contains("client_certificate_path needs tenant_id"), "{detail}");
    }
}
