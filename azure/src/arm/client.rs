//! A minimal Azure Resource Manager client.
//!
//! Teleport's verifier falls back to ARM when the token's resource ids do not name the VM
//! (user-assigned identity without `xms_az_rid`, or a system-assigned identity checked the
//! old way): it GETs the VM or lists the subscription's VMs *with the joining VM's own
//! access token* and matches `properties.vmId` against the attested document. The Terraform
//! provider manages identities, roles and VM attachments with it. The Azure SDK management
//! crates are unofficial and stale, so the few calls are written by hand here.
//!
//! * Base URL `https://management.azure.com` by default, overridable (devstack), optionally
//!   trusting an extra CA.
//! * Errors are ARM's `{"error":{"code","message"}}` envelope, typed as [`ArmError::Api`].
//! * Every call survives what real ARM does under load ([`super::wait`]): 429 and the
//!   transient 409s are retried after ARM's `Retry-After` (or a backoff), long-running
//!   operations are polled whatever their first status, and every wait is bounded, ending in
//!   [`ArmError::Timeout`], which names the operation and what is still pending.
//! * Listing follows `nextLink`, and polling follows `Azure-AsyncOperation`/`Location`, but
//!   only while they stay on the configured base URL, so the bearer token is never sent
//!   elsewhere.

use std::fmt;
use std::time::Duration;

use joinery_util::guid::is_guid;
use serde::Serialize;

use super::wait::{Deadline, WaitLimits, retry_after};
use super::{
    ARM_ENDPOINT, AUTHORIZATION_API_VERSION, COMPUTE_API_VERSION, ErrorResponse, Identity, MSI_API_VERSION, Page,
    RoleAssignment, RoleAssignmentRequest, RoleDefinition, RoleDefinitionRequest, VirtualMachine,
};
use crate::http::percent_encode;

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
        /// The request: method and URL without the query (no secrets), e.g.
        /// `GET https://management.azure.com/subscriptions/…`.
        request: String,
    },
    /// A wait ran out: ARM kept throttling, kept conflicting, or an operation kept running.
    #[error("{operation}: gave up after {}: {pending}", joinery_util::duration::format(*.waited))]
    Timeout {
        /// What was being done, e.g. `updating the identities of VM /subscriptions/…`.
        operation: String,
        /// What was still pending, e.g. `operation … still InProgress`.
        pending: String,
        /// How long the client waited.
        waited: Duration,
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

impl ArmError {
    /// ARM's error code (`ResourceNotFound`, `PrincipalNotFound`, …); empty for other errors.
    pub fn code(&self) -> &str {
        match self {
            ArmError::Api { code, .. } => code,
            _ => "",
        }
    }

    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the object (or its container) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether ARM refused for now and the same request may succeed later: throttling (429)
    /// or a conflict with an operation in progress (409 `ConflictingConcurrentWriteNotAllowed`
    /// from Compute, `AnotherOperationInProgress` from Network, ARM's generic `Conflict`).
    /// Not the permanent 409s (`RoleAssignmentExists`, `RoleDefinitionHasAssignments`, …).
    pub fn is_transient(&self) -> bool {
        match self.status() {
            Some(429) => true,
            Some(409) => {
                matches!(
                    self.code(),
                    "ConflictingConcurrentWriteNotAllowed" | "AnotherOperationInProgress" | "Conflict"
                )
            }
            _ => false,
        }
    }
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
    pub(super) base: String,
    http: reqwest::Client,
    token: String,
    pub(super) limits: WaitLimits,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient").field("base", &self.base).field("token", &"<redacted>").finish()
    }
}

/// A response ARM accepted (2xx).
pub(super) struct Answer {
    /// HTTP status.
    pub(super) status: u16,
    /// Headers (`Azure-AsyncOperation`, `Location`, `Retry-After`, …).
    pub(super) headers: reqwest::header::HeaderMap,
    /// Body.
    pub(super) body: Vec<u8>,
}

impl Answer {
    /// A header as text.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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
            https_only: true,
            platform_roots: true,
        })
        .map_err(ArmError::Invalid)?;
        Ok(ArmClient { base, http, token: token.into(), limits: WaitLimits::default() })
    }

    /// The same client with other wait limits (the default waits up to 10 minutes).
    pub fn with_limits(mut self, limits: WaitLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sends one request; non-2xx statuses become [`ArmError::Api`] (with the `Retry-After`
    /// the caller may honour).
    async fn send_once(
        &self,
        method: &reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, (ArmError, Option<Duration>)> {
        let mut req = self.http.request(method.clone(), url).bearer_auth(&self.token).header("User-Agent", "joinery");
        if let Some(b) = body {
            req = req.json(b);
        }
        if let Some(etag) = if_match {
            req = req.header("If-Match", etag);
        }
        let transport = |message: String| (ArmError::Http { url: url.to_string(), message }, None);
        let resp = req.send().await.map_err(|e| transport(e.to_string()))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = crate::http::read_capped(resp, MAX_BODY).await.map_err(transport)?;
        if status.is_success() {
            return Ok(Answer { status: status.as_u16(), headers, body });
        }
        let request = format!("{method} {}", url.split('?').next().unwrap_or(url));
        let error = match serde_json::from_slice::<ErrorResponse>(&body) {
            Ok(e) => ArmError::Api { status: status.as_u16(), code: e.error.code, message: e.error.message, request },
            Err(_) => ArmError::Api {
                status: status.as_u16(),
                code: String::new(),
                message: crate::http::describe_error_body(&body),
                request,
            },
        };
        Err((error, retry_after(&headers)))
    }

    /// Sends a request, retrying what ARM refuses only for now ([`ArmError::is_transient`])
    /// after its `Retry-After` or a backoff, until `deadline`.
    pub(super) async fn call(
        &self,
        deadline: &Deadline,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
        if_match: Option<&str>,
    ) -> Result<Answer, ArmError> {
        let mut attempt = 0u32;
        loop {
            match self.send_once(&method, url, body, if_match).await {
                Ok(answer) => return Ok(answer),
                Err((e, after)) if e.is_transient() => {
                    let pending = format!("{method} {} still refused: {e}", url.split('?').next().unwrap_or(url));
                    let wait = after.unwrap_or_else(|| self.limits.backoff(attempt));
                    tracing::info!(status = e.status(), code = e.code(), wait = ?wait, "ARM refused for now; retrying");
                    deadline.sleep(wait, pending).await?;
                    attempt += 1;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// A request body as JSON. Through `Value`, whose maps are sorted, so keys go out in a
    /// stable order whatever the struct's field order.
    pub(super) fn encode(url: &str, body: &impl Serialize) -> Result<serde_json::Value, ArmError> {
        serde_json::to_value(body).map_err(|e| ArmError::Invalid(format!("request body for {url}: {e}")))
    }

    pub(super) fn decode<T: serde::de::DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, ArmError> {
        serde_json::from_slice(body).map_err(|e| ArmError::Decode { url: url.to_string(), message: e.to_string() })
    }

    pub(super) fn decode_answer<T: serde::de::DeserializeOwned>(url: &str, a: &Answer) -> Result<T, ArmError> {
        Self::decode(url, &a.body)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, ArmError> {
        let deadline = self.deadline(format!("reading {}", url.split('?').next().unwrap_or(url)));
        let answer = self.call(&deadline, reqwest::Method::GET, url, None, None).await?;
        Self::decode(url, &answer.body)
    }

    /// A deadline for `operation` under this client's limits.
    pub(super) fn deadline(&self, operation: String) -> Deadline {
        Deadline::new(operation, self.limits.max_wait)
    }

    /// A write (PUT/DELETE) that is not long-running.
    async fn write(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<Answer, ArmError> {
        let deadline = self.deadline(format!("{what} {}", url.split('?').next().unwrap_or(url)));
        self.call(&deadline, method, url, body, None).await
    }

    /// The URL of `{id}` (a resource id or scope path) with `api-version`.
    pub(super) fn url(&self, id: &str, api_version: &str) -> Result<String, ArmError> {
        if !id.starts_with('/') || id.contains("..") || id.contains('?') || id.contains('#') || id.contains("//") {
            return Err(ArmError::Invalid(format!("{id:?} is not an ARM resource id")));
        }
        Ok(format!("{}{}?api-version={api_version}", self.base, id.trim_end_matches('/')))
    }

    /// `GET {id}?api-version=...` of a VM by resource id.
    pub async fn get_vm(&self, id: &str) -> Result<VirtualMachine, ArmError> {
        let rid = crate::resource_id::ResourceId::parse(id).map_err(|e| ArmError::Invalid(e.to_string()))?;
        if !rid.has_type("virtualMachines") {
            return Err(ArmError::Invalid(format!("{id:?} is not a VM id")));
        }
        let url = self.url(id, COMPUTE_API_VERSION)?;
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
            let page: Page<VirtualMachine> = self.get_json(&url).await?;
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

impl ArmClient {
    /// `GET` a user-assigned identity by id.
    pub async fn get_identity(&self, id: &str) -> Result<Identity, ArmError> {
        let rid = crate::resource_id::ResourceId::parse(id).map_err(|e| ArmError::Invalid(e.to_string()))?;
        if !rid.has_type("userAssignedIdentities") {
            return Err(ArmError::Invalid(format!("{id:?} is not a user-assigned identity id")));
        }
        self.get_json(&self.url(id, MSI_API_VERSION)?).await
    }

    /// `PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`.
    pub async fn put_role_assignment(
        &self,
        scope: &str,
        name: &str,
        role_definition_id: &str,
        principal_id: &str,
        description: Option<&str>,
    ) -> Result<RoleAssignment, ArmError> {
        if !is_guid(name) {
            return Err(ArmError::Invalid(format!("role assignment name {name:?} is not a GUID")));
        }
        let id = format!("{}/providers/Microsoft.Authorization/roleAssignments/{name}", scope.trim_end_matches('/'));
        let url = self.url(&id, AUTHORIZATION_API_VERSION)?;
        let request = RoleAssignmentRequest::service_principal(role_definition_id, principal_id, description);
        let answer = self
            .write(reqwest::Method::PUT, &url, Some(&Self::encode(&url, &request)?), "creating the role assignment")
            .await?;
        Self::decode(&url, &answer.body)
    }

    /// `GET` a role assignment by id; `None` when it does not exist.
    pub async fn get_role_assignment(&self, id: &str) -> Result<Option<RoleAssignment>, ArmError> {
        match self.get_json(&self.url(id, AUTHORIZATION_API_VERSION)?).await {
            Ok(a) => Ok(Some(a)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `DELETE` a role assignment by id (absent is fine).
    pub async fn delete_role_assignment(&self, id: &str) -> Result<(), ArmError> {
        let url = self.url(id, AUTHORIZATION_API_VERSION)?;
        match self.write(reqwest::Method::DELETE, &url, None, "deleting the role assignment").await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Role assignments of `principal_id` that apply at `scope` (including inherited ones).
    pub async fn list_role_assignments(
        &self,
        scope: &str,
        principal_id: &str,
    ) -> Result<Vec<RoleAssignment>, ArmError> {
        let id = format!("{}/providers/Microsoft.Authorization/roleAssignments", scope.trim_end_matches('/'));
        let url = format!(
            "{}&$filter={}",
            self.url(&id, AUTHORIZATION_API_VERSION)?,
            percent_encode(&format!("principalId eq '{principal_id}'"))
        );
        Ok(self.get_json::<Page<RoleAssignment>>(&url).await?.value)
    }

    /// `PUT` a custom role definition at `assignable_scopes[0]`.
    pub async fn put_role_definition(
        &self,
        name: &str,
        role_name: &str,
        description: &str,
        actions: &[&str],
        assignable_scopes: &[String],
    ) -> Result<RoleDefinition, ArmError> {
        if !is_guid(name) {
            return Err(ArmError::Invalid(format!("role definition name {name:?} is not a GUID")));
        }
        let scope = assignable_scopes.first().ok_or_else(|| ArmError::Invalid("no assignable scope".into()))?;
        let id = format!("{}/providers/Microsoft.Authorization/roleDefinitions/{name}", scope.trim_end_matches('/'));
        let url = self.url(&id, AUTHORIZATION_API_VERSION)?;
        let request = RoleDefinitionRequest::custom(name, role_name, description, actions, assignable_scopes);
        let answer = self
            .write(reqwest::Method::PUT, &url, Some(&Self::encode(&url, &request)?), "creating the custom role")
            .await?;
        Self::decode(&url, &answer.body)
    }

    /// `GET` a role definition by id; `None` when it does not exist.
    pub async fn get_role_definition(&self, id: &str) -> Result<Option<RoleDefinition>, ArmError> {
        match self.get_json(&self.url(id, AUTHORIZATION_API_VERSION)?).await {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Role definitions visible at `scope` named `role_name`.
    pub async fn find_role_definitions(&self, scope: &str, role_name: &str) -> Result<Vec<RoleDefinition>, ArmError> {
        let id = format!("{}/providers/Microsoft.Authorization/roleDefinitions", scope.trim_end_matches('/'));
        let url = format!(
            "{}&$filter={}",
            self.url(&id, AUTHORIZATION_API_VERSION)?,
            percent_encode(&format!("roleName eq '{}'", role_name.replace('\'', "''")))
        );
        Ok(self.get_json::<Page<RoleDefinition>>(&url).await?.value)
    }

    /// `DELETE` a role definition by id (absent is fine).
    pub async fn delete_role_definition(&self, id: &str) -> Result<(), ArmError> {
        let url = self.url(id, AUTHORIZATION_API_VERSION)?;
        match self.write(reqwest::Method::DELETE, &url, None, "deleting the custom role").await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding_and_ids() {
        assert_eq!(percent_encode("principalId eq 'a-b'"), "principalId%20eq%20%27a-b%27");
        assert!(is_guid("acdd72a7-3385-48ef-bd42-f606fba81ae7"));
        let c = ArmClient::new("t", ArmOptions { base_url: Some("https://h:1/".into()), extra_ca_pem: None }).unwrap();
        assert_eq!(c.url("/subscriptions/s", "v").unwrap(), "https://h:1/subscriptions/s?api-version=v");
        assert!(c.url("subscriptions/s", "v").is_err());
        assert!(c.url("/subscriptions/../x", "v").is_err());
    }
}
