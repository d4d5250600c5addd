//! Waiting on ARM: throttling and conflicts, long-running operations, and the VM identity
//! update that two writers can race on.
//!
//! What real ARM does, and how the client answers it:
//!
//! * **429** (`SubscriptionRequestsThrottled`, with `Retry-After` seconds) and the **transient
//!   409s** (another operation on the VM is running): the same request again after
//!   `Retry-After` (`retry-after-ms` / `x-ms-retry-after-ms` too, as Azure's SDKs read them),
//!   or after a capped exponential backoff when ARM gives none ([`ArmClient::call`]).
//! * **Long-running operations** (VM PATCH/PUT): Compute answers **200** (not 202) with
//!   `Azure-AsyncOperation`, so the client polls whatever the first status is: the
//!   `Azure-AsyncOperation` URL until `Succeeded`/`Failed`/`Canceled` (Azure's SDKs' first
//!   choice), else `Location` (202 while running), else the resource's own
//!   `provisioningState` — then GETs the resource.
//! * **Read-modify-write** of a VM's identities ([`ArmClient::update_vm_identity`]): the
//!   change is computed from the VM as read and sent with `If-Match: <etag>` (Compute supports
//!   it since api-version 2023-09-01); a 412 `PreconditionFailed` or a transient 409 means
//!   someone else wrote the VM meanwhile, so it is read again and the change recomputed —
//!   two bindings attaching identities to one VM at once never lose each other's.
//!
//! Every wait is bounded by a [`Deadline`] (10 minutes by default, [`WaitLimits`]); running
//! out is [`ArmError::Timeout`], naming the operation and what was still pending.

use std::time::{Duration, Instant};

use super::client::{Answer, ArmClient, ArmError};
use super::{AsyncOperation, COMPUTE_API_VERSION, VirtualMachine, VmIdentityPatch, VmPatch};

/// How long and how often the client waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitLimits {
    /// Longest total wait of one operation (all its retries and polls).
    pub max_wait: Duration,
    /// First wait between polls or retries when ARM names none; doubles each time.
    pub first_interval: Duration,
    /// Longest wait between polls or retries when ARM names none.
    pub max_interval: Duration,
}

impl Default for WaitLimits {
    /// 10 minutes in all (a VM update usually takes tens of seconds; azurerm allows 30
    /// minutes); polls at 250 ms, 500 ms, 1 s … up to 10 s.
    fn default() -> Self {
        WaitLimits {
            max_wait: Duration::from_secs(600),
            first_interval: Duration::from_millis(250),
            max_interval: Duration::from_secs(10),
        }
    }
}

impl WaitLimits {
    /// The wait before try `attempt + 1` when ARM names none.
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        self.first_interval.saturating_mul(1u32 << attempt.min(16)).min(self.max_interval)
    }
}

/// The end of an operation's waiting, and what to call the operation when it comes.
pub(super) struct Deadline {
    operation: String,
    start: Instant,
    limit: Duration,
}

impl Deadline {
    pub(super) fn new(operation: String, limit: Duration) -> Deadline {
        Deadline { operation, start: Instant::now(), limit }
    }

    /// Sleeps `wait`, or fails with what is `pending` if that would pass the deadline.
    pub(super) async fn sleep(&self, wait: Duration, pending: String) -> Result<(), ArmError> {
        let waited = self.start.elapsed();
        if waited + wait > self.limit {
            return Err(ArmError::Timeout { operation: self.operation.clone(), pending, waited });
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }
}

/// The wait a response asks for: `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds) or
/// `Retry-After` (seconds, or an HTTP date).
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = text(name).and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // An HTTP date: IMF-fixdate ends in "GMT", which RFC 2822 spells "+0000".
    let rfc2822 = value.strip_suffix(" GMT").map(|v| format!("{v} +0000")).unwrap_or_else(|| value.to_string());
    let at = time::OffsetDateTime::parse(&rfc2822, &time::format_description::well_known::Rfc2822).ok()?;
    let secs = (at - time::OffsetDateTime::now_utc()).whole_seconds();
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

/// What [`ArmClient::update_vm_identity`] did.
#[derive(Debug, Clone)]
pub struct VmUpdate {
    /// The VM afterwards.
    pub vm: VirtualMachine,
    /// Whether a PATCH was sent (the change was not already there).
    pub patched: bool,
}

impl ArmClient {
    /// Whether `url` stays on the base URL (so the bearer token never leaves it).
    fn on_base(&self, url: &str, what: &str) -> Result<(), ArmError> {
        if url.starts_with(&format!("{}/", self.base)) {
            Ok(())
        } else {
            Err(ArmError::Invalid(format!("{what} URL {url:?} leaves {}", self.base)))
        }
    }

    /// Sends a long-running request and waits until it is done, however it was answered.
    async fn long_running(
        &self,
        deadline: &Deadline,
        method: reqwest::Method,
        url: &str,
        body: &serde_json::Value,
        if_match: Option<&str>,
    ) -> Result<(), ArmError> {
        let first = self.call(deadline, method, url, Some(body), if_match).await?;
        if let Some(op) = first.header("azure-asyncoperation").map(str::to_string) {
            return self.poll_operation(deadline, &op, &first).await;
        }
        if let Some(location) = first.header("location").filter(|_| first.status == 202).map(str::to_string) {
            return self.poll_location(deadline, &location, &first).await;
        }
        // No status monitor: the resource's own provisioningState tells (201/202 without
        // headers, or a body still `Creating`/`Updating`).
        self.poll_resource(deadline, url, &first).await
    }

    /// The wait before the next poll: what the last answer asks, else the backoff.
    fn next_wait(&self, last: &Answer, polls: u32) -> Duration {
        super::wait::retry_after(&last.headers).unwrap_or_else(|| self.limits.backoff(polls))
    }

    /// Polls an `Azure-AsyncOperation` URL until the status is terminal.
    async fn poll_operation(&self, deadline: &Deadline, op_url: &str, first: &Answer) -> Result<(), ArmError> {
        self.on_base(op_url, "async operation")?;
        let mut polls = 0u32;
        let mut last_status = "InProgress".to_string();
        let mut wait = self.next_wait(first, 0);
        loop {
            deadline.sleep(wait, format!("operation {} still {last_status}", strip_query(op_url))).await?;
            let answer = self.call(deadline, reqwest::Method::GET, op_url, None, None).await?;
            let op: AsyncOperation = Self::decode_answer(op_url, &answer)?;
            match op.status.as_str() {
                s if s.eq_ignore_ascii_case("Succeeded") => return Ok(()),
                s if s.eq_ignore_ascii_case("Failed") || s.eq_ignore_ascii_case("Canceled") => {
                    let e = op.error.unwrap_or_default();
                    let or = |s: String, default: &str| if s.is_empty() { default.to_string() } else { s };
                    return Err(ArmError::Api {
                        status: answer.status,
                        code: or(e.code, &op.status),
                        message: or(e.message, &format!("the asynchronous operation ended {}", op.status)),
                        request: format!("GET {}", strip_query(op_url)),
                    });
                }
                other => last_status = if other.is_empty() { "InProgress".to_string() } else { other.to_string() },
            }
            polls += 1;
            wait = self.next_wait(&answer, polls);
        }
    }

    /// Polls a `Location` URL: 202 while running, 200/204 when done.
    async fn poll_location(&self, deadline: &Deadline, location: &str, first: &Answer) -> Result<(), ArmError> {
        self.on_base(location, "Location")?;
        let mut polls = 0u32;
        let mut wait = self.next_wait(first, 0);
        loop {
            deadline.sleep(wait, format!("{} still answers 202", strip_query(location))).await?;
            let answer = self.call(deadline, reqwest::Method::GET, location, None, None).await?;
            if answer.status != 202 {
                return Ok(());
            }
            polls += 1;
            wait = self.next_wait(&answer, polls);
        }
    }

    /// Polls the resource itself until its `provisioningState` is terminal.
    async fn poll_resource(&self, deadline: &Deadline, url: &str, first: &Answer) -> Result<(), ArmError> {
        let state = |a: &Answer| {
            serde_json::from_slice::<serde_json::Value>(&a.body)
                .ok()
                .and_then(|v| v.pointer("/properties/provisioningState").and_then(|s| s.as_str()).map(str::to_string))
        };
        let mut current = state(first).or_else(|| matches!(first.status, 201 | 202).then(|| "Accepted".to_string()));
        let mut polls = 0u32;
        let mut wait = self.next_wait(first, 0);
        while let Some(s) = current.filter(|s| !is_terminal(s)) {
            deadline.sleep(wait, format!("{} still {s}", strip_query(url))).await?;
            let answer = self.call(deadline, reqwest::Method::GET, url, None, None).await?;
            current = state(&answer);
            polls += 1;
            wait = self.next_wait(&answer, polls);
        }
        Ok(())
    }

    /// The VM after an update, failing if the update left it `Failed`.
    async fn vm_after(&self, deadline: &Deadline, vm_id: &str) -> Result<VirtualMachine, ArmError> {
        let url = self.url(vm_id, COMPUTE_API_VERSION)?;
        let answer = self.call(deadline, reqwest::Method::GET, &url, None, None).await?;
        let vm: VirtualMachine = Self::decode_answer(&url, &answer)?;
        if vm.properties.provisioning_state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("Failed")) {
            return Err(ArmError::Api {
                status: answer.status,
                code: "ProvisioningFailed".into(),
                message: format!("VM {vm_id} is in provisioning state Failed after the update"),
                request: format!("GET {}", strip_query(&url)),
            });
        }
        Ok(vm)
    }

    /// `PATCH`es a VM's `identity` block as given and waits for the update; returns the VM
    /// as it is afterwards. The patch is sent as is (no `If-Match`): to change the identities
    /// relative to what the VM has, use [`ArmClient::update_vm_identity`].
    pub async fn patch_vm_identity(&self, vm_id: &str, identity: VmIdentityPatch) -> Result<VirtualMachine, ArmError> {
        let deadline = self.deadline(format!("updating the identities of VM {vm_id}"));
        let url = self.url(vm_id, COMPUTE_API_VERSION)?;
        let body = Self::encode(&url, &VmPatch { identity: Some(identity) })?;
        self.long_running(&deadline, reqwest::Method::PATCH, &url, &body, None).await?;
        self.vm_after(&deadline, vm_id).await
    }

    /// Changes a VM's identities relative to what it has: reads the VM, asks `change` for the
    /// patch (`None`: nothing to do), and PATCHes it with `If-Match` on the VM's `etag`. When
    /// another writer got there first (412, or a 409 while its update runs), reads the VM
    /// again and asks `change` again, so concurrent updates never undo each other.
    pub async fn update_vm_identity(
        &self,
        vm_id: &str,
        change: impl Fn(&VirtualMachine) -> Option<VmIdentityPatch>,
    ) -> Result<VmUpdate, ArmError> {
        let deadline = self.deadline(format!("updating the identities of VM {vm_id}"));
        let url = self.url(vm_id, COMPUTE_API_VERSION)?;
        let mut attempt = 0u32;
        loop {
            let answer = self.call(&deadline, reqwest::Method::GET, &url, None, None).await?;
            let vm: VirtualMachine = Self::decode_answer(&url, &answer)?;
            let Some(patch) = change(&vm) else { return Ok(VmUpdate { vm, patched: false }) };
            let body = Self::encode(&url, &VmPatch { identity: Some(patch) })?;
            match self.long_running(&deadline, reqwest::Method::PATCH, &url, &body, vm.etag.as_deref()).await {
                Ok(()) => return Ok(VmUpdate { vm: self.vm_after(&deadline, vm_id).await?, patched: true }),
                Err(e) if e.status() == Some(412) || e.is_transient() => {
                    tracing::info!(vm = vm_id, code = e.code(), "the VM changed under us; reading it again");
                    deadline.sleep(self.limits.backoff(attempt), format!("VM {vm_id} kept changing: {e}")).await?;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether a provisioning state (or operation status) is final.
fn is_terminal(state: &str) -> bool {
    ["Succeeded", "Failed", "Canceled"].iter().any(|t| t.eq_ignore_ascii_case(state))
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn retry_after_forms() {
        let h = |pairs: &[(&'static str, &str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            m
        };
        assert_eq!(retry_after(&h(&[("retry-after", "7")])), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(&h(&[("retry-after", "7"), ("retry-after-ms", "1500")])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(retry_after(&h(&[("x-ms-retry-after-ms", "20")])), Some(Duration::from_millis(20)));
        assert_eq!(retry_after(&h(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")])), Some(Duration::ZERO));
        assert_eq!(retry_after(&h(&[("retry-after", "soon")])), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let l = WaitLimits::default();
        assert_eq!(l.backoff(0), Duration::from_millis(250));
        assert_eq!(l.backoff(2), Duration::from_secs(1));
        assert_eq!(l.backoff(30), Duration::from_secs(10));
        assert!(is_terminal("succeeded") && !is_terminal("Updating"));
    }

    #[tokio::test]
    async fn a_deadline_names_the_operation_and_what_is_pending() {
        let d = Deadline::new("updating the identities of VM v".into(), Duration::from_millis(50));
        d.sleep(Duration::from_millis(10), "x".into()).await.unwrap();
        let e = d.sleep(Duration::from_secs(1), "operation o still InProgress".into()).await.unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("updating the identities of VM v: gave up after"), "{text}");
        assert!(text.ends_with("operation o still InProgress"), "{text}");
    }
}
