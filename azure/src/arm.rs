//! A minimal Azure Resource Manager client.
//!
//! Teleport's verifier falls back to ARM when the token's resource ids do not name the VM
//! (user-assigned identity without `xms_az_rid`, or a system-assigned identity checked the
//! old way): it GETs the VM or lists the subscription's VMs *with the joining VM's own
//! access token* and matches `properties.vmId` against the attested document. The Azure SDK
//! management crates are unofficial and stale, so the few calls are written by hand here.
//!
//! * Base URL `https://management.azure.com` by default, overridable (devstack), optionally
//!   trusting an extra CA.
//! * Errors are ARM's `{"error":{"code","message"}}` envelope, typed as [`ArmError::Api`].
//! * Listing follows `nextLink`, but only while it stays on the configured base URL, so the
//!   bearer token is never sent elsewhere.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Public ARM endpoint.
pub const ARM_ENDPOINT: &str = "https://management.azure.com";
/// api-version used for `Microsoft.Compute/virtualMachines`.
pub const COMPUTE_API_VERSION: &str = "2024-11-01";

const MAX_BODY: usize = 16 * 1024 * 1024;
const MAX_PAGES: usize = 1000;

/// ARM failures.
#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    /// ARM answered with an error envelope.
    #[error("ARM {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// ARM error code, e.g. `ResourceNotFound`, `AuthorizationFailed`.
        code: String,
        /// ARM's message.
        message: String,
    },
    /// Transport failure.
    #[error("ARM request to {url} failed: {message}")]
    Http {
        /// URL (no secrets: the token travels in a header).
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A success body that does not decode.
    #[error("ARM response from {url} is not valid: {message}")]
    Decode {
        /// URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// Bad input or setup.
    #[error("ARM client: {0}")]
    Invalid(String),
}

/// A user-assigned identity attached to a VM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAssignedIdentity {
    /// Principal (object) id.
    #[serde(default)]
    pub principal_id: Option<String>,
    /// Client id.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// `identity` of a VM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmIdentity {
    /// `SystemAssigned`, `UserAssigned`, `SystemAssigned, UserAssigned` or `None`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Principal id of the system-assigned identity.
    #[serde(default)]
    pub principal_id: Option<String>,
    /// Tenant of the system-assigned identity.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// UAMI resource id → ids.
    #[serde(default)]
    pub user_assigned_identities: BTreeMap<String, UserAssignedIdentity>,
}

/// `properties` of a VM (only what Joinery uses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmProperties {
    /// The VM's unique id (= attested `vmId`).
    #[serde(default)]
    pub vm_id: Option<String>,
}

/// A virtual machine, as ARM returns it (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VirtualMachine {
    /// ARM resource id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region.
    #[serde(default)]
    pub location: Option<String>,
    /// Properties.
    #[serde(default)]
    pub properties: VmProperties,
    /// Identity block.
    #[serde(default)]
    pub identity: Option<VmIdentity>,
}

#[derive(Deserialize)]
struct VmList {
    #[serde(default)]
    value: Vec<VirtualMachine>,
    #[serde(rename = "nextLink", default)]
    next_link: Option<String>,
}

/// Options for [`ArmClient::new`].
#[derive(Debug, Clone, Default)]
pub struct ArmOptions {
    /// Base URL; default [`ARM_ENDPOINT`].
    pub base_url: Option<String>,
    /// PEM bundle of extra CAs to trust (devstack).
    pub extra_ca_pem: Option<Vec<u8>>,
}

/// An ARM client bound to one bearer token.
pub struct ArmClient {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient").field("base", &self.base).field("token", &"<redacted>").finish()
    }
}

impl ArmClient {
    /// A client sending `Authorization: Bearer <token>`.
    pub fn new(token: impl Into<String>, opts: ArmOptions) -> Result<Self, ArmError> {
        let base = opts.base_url.unwrap_or_else(|| ARM_ENDPOINT.to_string()).trim_end_matches('/').to_string();
        reqwest::Url::parse(&base).map_err(|e| ArmError::Invalid(format!("base URL: {e}")))?;
        let http = crate::http::build_client(&crate::http::ClientOptions {
            extra_ca_pem: opts.extra_ca_pem.as_deref(),
            no_proxy: false,
            timeout: Duration::from_secs(30),
        })
        .map_err(ArmError::Invalid)?;
        Ok(ArmClient { base, http, token: token.into() })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, ArmError> {
        let resp = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .header("User-Agent", "joinery")
            .send()
            .await
            .map_err(|e| ArmError::Http { url: url.to_string(), message: e.to_string() })?;
        let status = resp.status();
        let body = crate::http::read_capped(resp, MAX_BODY)
            .await
            .map_err(|m| ArmError::Http { url: url.to_string(), message: m })?;
        if !status.is_success() {
            #[derive(Deserialize)]
            struct Envelope {
                error: Inner,
            }
            #[derive(Deserialize)]
            struct Inner {
                #[serde(default)]
                code: String,
                #[serde(default)]
                message: String,
            }
            return Err(match serde_json::from_slice::<Envelope>(&body) {
                Ok(e) => ArmError::Api { status: status.as_u16(), code: e.error.code, message: e.error.message },
                Err(_) => ArmError::Api {
                    status: status.as_u16(),
                    code: String::new(),
                    message: crate::http::describe_error_body(&body),
                },
            });
        }
        serde_json::from_slice(&body).map_err(|e| ArmError::Decode { url: url.to_string(), message: e.to_string() })
    }

    /// `GET {id}?api-version=...` of a VM by resource id.
    pub async fn get_vm(&self, id: &str) -> Result<VirtualMachine, ArmError> {
        let rid = crate::resource_id::ResourceId::parse(id).map_err(|e| ArmError::Invalid(e.to_string()))?;
        if !rid.has_type("virtualMachines") {
            return Err(ArmError::Invalid(format!("{id:?} is not a VM id")));
        }
        let url = format!("{}{}?api-version={COMPUTE_API_VERSION}", self.base, id.trim_end_matches('/'));
        self.get_json(&url).await
    }

    /// All VMs of a subscription, following `nextLink`.
    pub async fn list_vms(&self, subscription: &str) -> Result<Vec<VirtualMachine>, ArmError> {
        if subscription.is_empty() || !subscription.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ArmError::Invalid(format!("invalid subscription id {subscription:?}")));
        }
        let mut url = format!(
            "{}/subscriptions/{subscription}/providers/Microsoft.Compute/virtualMachines?api-version={COMPUTE_API_VERSION}",
            self.base
        );
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: VmList = self.get_json(&url).await?;
            out.extend(page.value);
            match page.next_link.filter(|l| !l.is_empty()) {
                None => return Ok(out),
                Some(next) => {
                    if !next.starts_with(&format!("{}/", self.base)) {
                        return Err(ArmError::Invalid(format!("nextLink {next:?} leaves {}", self.base)));
                    }
                    url = next;
                }
            }
        }
        Err(ArmError::Invalid(format!("more than {MAX_PAGES} pages of VMs")))
    }
}
