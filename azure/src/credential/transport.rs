//! The HTTP transport under `azure_identity`'s credentials: our reqwest client (extra CAs, no
//! redirects, like every client of this crate), the cloud's authority host, and the one thing
//! the crate cannot be told — where IMDS is. `ManagedIdentityCredential` always asks
//! `http://169.254.169.254/metadata/identity/oauth2/token`; with an `msi_endpoint` (azurerm's
//! `ARM_MSI_ENDPOINT`: the devstack's per-VM IMDS, a proxy) the request is sent there instead,
//! path and query unchanged. Nothing else is rewritten.

use std::sync::Arc;
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::http::{AsyncRawResponse, ClientOptions, HttpClient, Request, Transport, Url};

use super::{CredentialError, Endpoints};

/// The link-local IMDS host the crate's managed-identity credential calls.
const IMDS_HOST: &str = "169.254.169.254";

#[derive(Debug)]
struct Client {
    http: reqwest::Client,
    /// IMDS base replacing `http://169.254.169.254`, and a client that never uses a proxy.
    imds: Option<(Url, reqwest::Client)>,
}

#[async_trait::async_trait]
impl HttpClient for Client {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        match &self.imds {
            Some((base, direct)) if request.url().host_str() == Some(IMDS_HOST) => {
                let mut redirected = request.clone();
                let mut url = base.clone();
                let path = format!("{}{}", base.path().trim_end_matches('/'), request.url().path());
                url.set_path(&path);
                url.set_query(request.url().query());
                *redirected.url_mut() = url;
                direct.execute_request(&redirected).await
            }
            _ => self.http.execute_request(request).await,
        }
    }
}

/// Pipeline options for a credential: the transport and the authority host.
pub(super) fn client_options(endpoints: &Endpoints) -> Result<ClientOptions, CredentialError> {
    let build = |no_proxy: bool| {
        crate::http::build_client(&crate::http::ClientOptions {
            extra_ca_pem: endpoints.extra_ca_pem.as_deref(),
            no_proxy,
            timeout: Duration::from_secs(30),
            // IMDS is plain http by design; the authority's https is checked by the caller
            // (and by azure_identity).
            https_only: false,
            platform_roots: true,
        })
        .map_err(CredentialError::Invalid)
    };
    let http = build(false)?;
    let imds = match &endpoints.msi_endpoint {
        Some(u) => Some((
            Url::parse(u)
                .map_err(|e| CredentialError::Invalid(format!("invalid managed identity endpoint {u}: {e}")))?,
            build(true)?,
        )),
        None => None,
    };
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = endpoints.authority_host.trim_end_matches('/').to_string();
    Ok(ClientOptions {
        transport: Some(Transport::new(Arc::new(Client { http, imds }))),
        cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
        ..Default::default()
    })
}
