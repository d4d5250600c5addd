//! Client for the Azure Instance Metadata Service (IMDS), as the VM agent uses it.
//!
//! The agent needs two things from IMDS to join: the attested document for the server's
//! nonce and a managed-identity token for ARM. This client reproduces what Teleport's
//! `lib/cloud/imds/azure` client sends (so the devstack sees the same requests), and adds
//! Microsoft's retry guidance, because IMDS legitimately answers 404/410 while it updates and
//! 429 when throttled.
//!
//! * **Endpoint.** Default `http://169.254.169.254`. Override with [`ImdsClient::new`], or
//!   via the environment variable `JOINERY_IMDS_ENDPOINT` read by [`ImdsClient::from_env`]
//!   (e.g. `JOINERY_IMDS_ENDPOINT=http://127.0.0.1:8090` for the devstack).
//! * **No proxy, ever**: IMDS must be reached directly (the client ignores `HTTP_PROXY` &co).
//! * Every request is a GET with `Metadata: true`; never `X-Forwarded-For`.
//! * **Versions**: `/metadata/versions?format=json`, last entry, must be ≥ 2019-06-04; cached.
//! * **Attested document**: returned as the raw body bytes, verbatim, because the server
//!   verifies exactly those bytes.
//! * **Token**: resource `https://management.azure.com/` (trailing slash: Teleport checks the
//!   audience exactly), optional `client_id` / `object_id` / `msi_res_id`; the response's
//!   numbers are JSON strings.
//! * **Retries** ([`RetryPolicy`]): 404, 410, 429, 5xx and transport errors are retried with
//!   exponential backoff (2 s, 6 s, 14 s, 30 s, capped at 60 s by default) and full jitter
//!   (each wait drawn from its upper half), honouring `Retry-After` when it asks for longer;
//!   other 4xx are never retried, except 400 "Identity not found", which IMDS also answers for an
//!   identity attached a moment ago that has not reached the host yet. A retry budget bounds the whole sequence: a wait that would
//!   overrun it ends the retries at once, with IMDS's last answer as the error, so a caller
//!   with a deadline of its own reports "IMDS answered 500", not its own timeout.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Default IMDS base URL.
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254";
/// Environment variable read by [`ImdsClient::from_env`].
pub const IMDS_ENDPOINT_ENV: &str = "JOINERY_IMDS_ENDPOINT";
/// Oldest api-version accepted from version discovery (Teleport's minimum).
pub const MINIMUM_API_VERSION: &str = "2019-06-04";
/// The ARM resource to request tokens for, with the trailing slash.
pub const ARM_RESOURCE: &str = "https://management.azure.com/";

const MAX_BODY: usize = 1024 * 1024;
/// How long one request may take unless [`ImdsClient::with_request_timeout`] says otherwise.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How failed requests are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts in all).
    pub max_retries: u32,
    /// Backoff unit: the k-th retry waits up to `base_delay * (2^k - 1)`.
    pub base_delay: Duration,
    /// Upper bound of any wait, including one asked for by `Retry-After`.
    pub max_delay: Duration,
    /// How long the first attempt and every retry may take in all: no wait
    /// starts that would end past it.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// Microsoft's guidance: 5 retries, delta 2 s, max 60 s; two minutes in all.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
            budget: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..Self::default() }
    }

    /// The wait before retry `retry` (1-based): the backoff with full jitter
    /// in its upper half, at least what `Retry-After` asked, at most `max_delay`.
    fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 2u32.saturating_pow(retry).saturating_sub(1).max(1);
        let backoff = self.base_delay.saturating_mul(factor);
        let jittered = backoff / 2 + (backoff / 2).mul_f64(rand::random::<f64>());
        jittered.max(retry_after.unwrap_or_default()).min(self.max_delay)
    }
}

/// Which user-assigned identity to get a token for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySelector {
    /// The identity's client (application) id.
    ClientId(String),
    /// The identity's object (principal) id.
    ObjectId(String),
    /// The identity's ARM resource id.
    ResourceId(String),
}

/// IMDS failures. Each names the endpoint (path) involved.
#[derive(Debug, thiserror::Error)]
pub enum ImdsError {
    /// Connection failure or timeout.
    #[error("could not reach instance metadata at {endpoint}: {message}. Is this running on an Azure VM?")]
    Unreachable {
        /// Path requested.
        endpoint: String,
        /// Transport error.
        message: String,
    },
    /// IMDS answered with an error status.
    #[error("instance metadata {endpoint} returned HTTP {status}: {error}")]
    Status {
        /// Path requested.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// IMDS's error (`error` / `error_description`), or the body text.
        error: String,
    },
    /// Retries exhausted.
    #[error("instance metadata {endpoint} still failing after {attempts} attempts: {last}")]
    GaveUp {
        /// Path requested.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<ImdsError>,
    },
    /// The response is not what IMDS sends.
    #[error("instance metadata {endpoint} returned an unexpected response: {message}")]
    BadResponse {
        /// Path requested.
        endpoint: String,
        /// What is wrong.
        message: String,
    },
    /// The newest api-version is older than [`MINIMUM_API_VERSION`].
    #[error("instance metadata api-version {0} is older than the minimum {MINIMUM_API_VERSION}")]
    VersionTooOld(String),
    /// The nonce is not 1..=32 characters of `[A-Za-z0-9_-]`.
    #[error("invalid attested-data nonce: must be 1 to 32 characters of [A-Za-z0-9_-]")]
    InvalidNonce,
    /// The base URL is unusable or the client could not be built.
    #[error("instance metadata client setup: {0}")]
    Setup(String),
}

impl ImdsError {
    fn retryable(&self) -> bool {
        match self {
            ImdsError::Unreachable { .. } => true,
            // "Identity not found" is also IMDS's answer for an identity that was
            // attached a moment ago and has not reached the host yet.
            ImdsError::Status { status: 400, error, .. } => error.contains("Identity not found"),
            ImdsError::Status { status, .. } => matches!(status, 404 | 410 | 429) || (500..600).contains(status),
            _ => false,
        }
    }
}

fn num_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrString {
        N(u64),
        S(String),
    }
    Ok(match Option::<NumOrString>::deserialize(d)? {
        None => None,
        Some(NumOrString::N(n)) => Some(n),
        // Some hosts send dates here; keep the field optional rather than failing.
        Some(NumOrString::S(s)) => s.trim().parse().ok(),
    })
}

/// A managed-identity token response. `Debug` never shows the token.
#[derive(Clone, Deserialize)]
pub struct ManagedIdentityToken {
    /// The JWT. Secret: never log it.
    pub access_token: String,
    /// Lifetime in seconds.
    #[serde(default, deserialize_with = "num_or_string")]
    pub expires_in: Option<u64>,
    /// Expiry, Unix seconds.
    #[serde(default, deserialize_with = "num_or_string")]
    pub expires_on: Option<u64>,
    /// Not-before, Unix seconds.
    #[serde(default, deserialize_with = "num_or_string")]
    pub not_before: Option<u64>,
    /// The resource the token is for.
    #[serde(default)]
    pub resource: Option<String>,
    /// `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Client id of the identity used.
    #[serde(default)]
    pub client_id: Option<String>,
}

impl fmt::Debug for ManagedIdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentityToken")
            .field("access_token", &"<redacted>")
            .field("expires_on", &self.expires_on)
            .field("resource", &self.resource)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// IMDS client. Cheap to share behind an `Arc`; caches the selected api-version.
pub struct ImdsClient {
    base: String,
    http: reqwest::Client,
    retry: RetryPolicy,
    request_timeout: Duration,
    api_version: Mutex<Option<String>>,
}

impl fmt::Debug for ImdsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImdsClient").field("base", &self.base).field("retry", &self.retry).finish_non_exhaustive()
    }
}

impl ImdsClient {
    /// A client for IMDS at `base_url` (e.g. `http://169.254.169.254`), without proxy.
    pub fn new(base_url: impl Into<String>) -> Result<Self, ImdsError> {
        let base = base_url.into().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base).map_err(|e| ImdsError::Setup(format!("{base:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ImdsError::Setup(format!("{base:?} is not an http(s) URL")));
        }
        let http = crate::http::build_client(&crate::http::ClientOptions {
            extra_ca_pem: None,
            no_proxy: true,
            timeout: DEFAULT_REQUEST_TIMEOUT,
            https_only: false,
            // IMDS is plain http; an https endpoint (a test double) gets the platform roots.
            platform_roots: parsed.scheme() == "https",
        })
        .map_err(ImdsError::Setup)?;
        Ok(ImdsClient {
            base,
            http,
            retry: RetryPolicy::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            api_version: Mutex::new(None),
        })
    }

    /// A client for `$JOINERY_IMDS_ENDPOINT`, or [`DEFAULT_IMDS_ENDPOINT`] if unset or empty.
    pub fn from_env() -> Result<Self, ImdsError> {
        match std::env::var(IMDS_ENDPOINT_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::new(v.trim()),
            _ => Self::new(DEFAULT_IMDS_ENDPOINT),
        }
    }

    /// Replaces the retry policy (tests use millisecond delays).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces how long one request may take (10 s by default; IMDS is a
    /// link-local service that answers in milliseconds when it answers).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Uses this api-version instead of discovering one.
    pub fn with_api_version(self, version: impl Into<String>) -> Self {
        *self.api_version.lock().unwrap_or_else(|p| p.into_inner()) = Some(version.into());
        self
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// GET with retries; returns the body of a 200.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<u8>, ImdsError> {
        let mut url =
            reqwest::Url::parse(&format!("{}{path}", self.base)).map_err(|e| ImdsError::Setup(e.to_string()))?;
        if !query.is_empty() {
            // Keys sorted and form-encoded, like Go's url.Values.Encode().
            let mut q = query.to_vec();
            q.sort_by(|a, b| a.0.cmp(b.0));
            url.query_pairs_mut().extend_pairs(q);
        }
        let started = std::time::Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (err, retry_after) = match self.try_get(&url, path).await {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            if !err.retryable() {
                return Err(err);
            }
            let wait = self.retry.delay(attempt, retry_after);
            let over_budget = started.elapsed() + wait > self.retry.budget;
            if attempt > self.retry.max_retries || over_budget {
                if attempt == 1 {
                    return Err(err);
                }
                return Err(ImdsError::GaveUp { endpoint: path.to_string(), attempts: attempt, last: Box::new(err) });
            }
            tracing::debug!(endpoint = path, attempt, ?wait, error = %err, "retrying IMDS request");
            tokio::time::sleep(wait).await;
        }
    }

    async fn try_get(&self, url: &reqwest::Url, path: &str) -> Result<Vec<u8>, (ImdsError, Option<Duration>)> {
        let resp = self
            .http
            .get(url.clone())
            .header("Metadata", "true")
            .timeout(self.request_timeout)
            .send()
            .await
            .map_err(|e| (ImdsError::Unreachable { endpoint: path.to_string(), message: e.to_string() }, None))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = crate::http::read_capped(resp, MAX_BODY)
            .await
            .map_err(|m| (ImdsError::BadResponse { endpoint: path.to_string(), message: m }, None))?;
        if status == 200 {
            return Ok(body);
        }
        Err((
            ImdsError::Status { endpoint: path.to_string(), status, error: crate::http::describe_error_body(&body) },
            retry_after,
        ))
    }

    /// The api-version to use: the newest IMDS lists, which must be ≥ 2019-06-04. Cached.
    pub async fn api_version(&self) -> Result<String, ImdsError> {
        if let Some(v) = self.api_version.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(v);
        }
        #[derive(Deserialize)]
        struct Versions {
            #[serde(rename = "apiVersions")]
            api_versions: Vec<String>,
        }
        let path = "/metadata/versions";
        let body = self.get(path, &[("format", "json")]).await?;
        let v: Versions = serde_json::from_slice(&body)
            .map_err(|e| ImdsError::BadResponse { endpoint: path.to_string(), message: e.to_string() })?;
        let latest = v.api_versions.last().cloned().ok_or_else(|| ImdsError::BadResponse {
            endpoint: path.to_string(),
            message: "no api versions listed".to_string(),
        })?;
        // Dates in ISO form (with optional "-preview") compare correctly as strings.
        if latest.as_str() < MINIMUM_API_VERSION {
            return Err(ImdsError::VersionTooOld(latest));
        }
        *self.api_version.lock().unwrap_or_else(|p| p.into_inner()) = Some(latest.clone());
        Ok(latest)
    }

    /// The attested document for `nonce`, as the raw response body (forward it verbatim).
    pub async fn attested_document(&self, nonce: &str) -> Result<Vec<u8>, ImdsError> {
        if nonce.is_empty()
            || nonce.len() > 32
            || !nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ImdsError::InvalidNonce);
        }
        let version = self.api_version().await?;
        let path = "/metadata/attested/document";
        let body = self.get(path, &[("api-version", &version), ("format", "json"), ("nonce", nonce)]).await?;
        #[derive(Deserialize)]
        struct Envelope {
            #[allow(dead_code)]
            signature: String,
        }
        serde_json::from_slice::<Envelope>(&body).map_err(|e| ImdsError::BadResponse {
            endpoint: path.to_string(),
            message: format!("not an attested document: {e}"),
        })?;
        Ok(body)
    }

    /// A managed-identity token for `resource` (use [`ARM_RESOURCE`] for the join).
    pub async fn access_token(
        &self,
        resource: &str,
        identity: Option<&IdentitySelector>,
    ) -> Result<ManagedIdentityToken, ImdsError> {
        let version = self.api_version().await?;
        let path = "/metadata/identity/oauth2/token";
        let mut query: Vec<(&str, &str)> = vec![("api-version", &version), ("resource", resource)];
        match identity {
            Some(IdentitySelector::ClientId(v)) => query.push(("client_id", v)),
            Some(IdentitySelector::ObjectId(v)) => query.push(("object_id", v)),
            Some(IdentitySelector::ResourceId(v)) => query.push(("msi_res_id", v)),
            None => {}
        }
        let body = self.get(path, &query).await?;
        let token: ManagedIdentityToken = serde_json::from_slice(&body).map_err(|e| ImdsError::BadResponse {
            endpoint: path.to_string(),
            message: format!("not a token response: {e}"),
        })?;
        if token.access_token.is_empty() {
            return Err(ImdsError::BadResponse {
                endpoint: path.to_string(),
                message: "empty access_token".to_string(),
            });
        }
        Ok(token)
    }
}
