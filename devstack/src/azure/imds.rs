//! The emulated Instance Metadata Service, one per VM, plus the AIA download of the
//! attestation intermediate and a fault-injection hook.
//!
//! One plain-HTTP listener serves every VM under a path prefix, so an agent pointed at
//! `JOINERY_IMDS_ENDPOINT=http://127.0.0.1:PORT/vms/vm-1` talks to "its" IMDS with the
//! azure crate's `ImdsClient` unchanged (it appends `/metadata/...`):
//!
//! * `GET /vms/{vm}/metadata/versions`, `.../attested/document`, `.../identity/oauth2/token`,
//!   `.../identity/info`, `.../instance[/compute]`, with Azure's request checks
//!   (`Metadata: true`, no `X-Forwarded-For`, `api-version`, no duplicate parameters,
//!   GET only) and error bodies;
//! * IMDS's throttling (5 requests per second per VM, 20 for managed-identity tokens, by
//!   default: [`super::realism`]) answered with 429, and a newly attached identity served only
//!   once the VM update that attached it has ended plus the IMDS identity delay ("Identity not
//!   found" until then, as on a real VM's host);
//! * `GET /aia/intermediate.crt`: the DER intermediate the attestation leaf's AIA names;
//! * `POST /vms/{vm}/faults` with `{"status": 429, "count": 2, "retry_after": 1}`: the next
//!   `count` IMDS requests of that VM fail with `status` (what IMDS sends while updating or
//!   throttling), so agent tests can exercise retries; `DELETE` clears them. Not part of
//!   Azure: it exists only for tests.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::azure::sign::{ManagedIdentityTokenSpec, imds_token_response};
use hyper::{Method, StatusCode};
use joinery_azure::attested::{AttestedData, Plan, TimeStamp};
use serde_json::json;
use time::OffsetDateTime;

use super::Emulator;
use super::http::{Req, Resp, bytes, empty, json};
use super::state::Vm;

/// The api-versions IMDS lists, ascending (the client takes the last).
pub const API_VERSIONS: &[&str] = &[
    "2017-03-01",
    "2017-04-02",
    "2017-08-01",
    "2017-10-01",
    "2017-12-01",
    "2018-02-01",
    "2018-04-02",
    "2018-10-01",
    "2019-02-01",
    "2019-03-11",
    "2019-04-30",
    "2019-06-01",
    "2019-06-04",
    "2019-08-01",
    "2019-08-15",
    "2019-11-01",
    "2020-06-01",
    "2020-07-15",
    "2020-09-01",
    "2020-10-01",
    "2020-12-01",
    "2021-01-01",
    "2021-02-01",
    "2021-03-01",
    "2021-05-01",
    "2021-08-01",
    "2021-10-01",
    "2021-11-01",
    "2021-11-15",
    "2021-12-13",
    "2023-07-01",
    "2023-11-15",
    "2024-03-15",
    "2024-07-17",
    "2025-04-07",
];

/// Path of the intermediate certificate on the IMDS listener.
pub const AIA_PATH: &str = "/aia/intermediate.crt";

/// How long an attested document says it is valid (the docs show up to 6 h).
const DOCUMENT_LIFETIME: Duration = Duration::from_secs(6 * 3600);

/// One injected failure: HTTP status and optional `Retry-After` seconds.
type Fault = (u16, Option<u64>);

/// Pending injected failures, per VM (lower-case name).
#[derive(Default)]
pub struct Faults(Mutex<HashMap<String, VecDeque<Fault>>>);

impl Faults {
    fn take(&self, vm: &str) -> Option<Fault> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get_mut(&vm.to_ascii_lowercase()).and_then(VecDeque::pop_front)
    }

    fn set(&self, vm: &str, status: u16, count: usize, retry_after: Option<u64>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let queue = map.entry(vm.to_ascii_lowercase()).or_default();
        queue.clear();
        queue.extend(std::iter::repeat_n((status, retry_after), count));
    }
}

/// User-assigned identities attached to a VM that IMDS does not serve yet: `(vm, identity id)`
/// (lower case) → when it starts serving them.
#[derive(Default)]
pub struct PendingIdentities(Mutex<HashMap<(String, String), Instant>>);

impl PendingIdentities {
    /// IMDS of `vm` serves `identity` from `at` on.
    pub fn serve_from(&self, vm: &str, identity: &str, at: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        map.retain(|_, t| *t > now);
        map.insert((vm.to_ascii_lowercase(), identity.to_ascii_lowercase()), at);
    }

    /// Whether IMDS of `vm` serves `identity` now.
    fn served(&self, vm: &str, identity: &str) -> bool {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(vm.to_ascii_lowercase(), identity.to_ascii_lowercase())).is_none_or(|t| *t <= Instant::now())
    }
}

fn bad_request(msg: &str) -> Resp {
    json(StatusCode::BAD_REQUEST, &json!({ "error": msg }))
}

fn identity_error(status: StatusCode, code: &str, desc: &str) -> Resp {
    json(status, &json!({ "error": code, "error_description": desc }))
}

fn bad_api_version() -> Resp {
    let newest: Vec<&str> = API_VERSIONS.iter().rev().take(3).copied().collect();
    json(
        StatusCode::BAD_REQUEST,
        &json!({
            "error": "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds",
            "newest-versions": newest,
        }),
    )
}

/// Handles a request on the IMDS listener.
pub async fn handle(emu: &Emulator, req: Req) -> Resp {
    if req.path == AIA_PATH {
        return bytes(StatusCode::OK, "application/pkix-cert", emu.intermediate_der.clone());
    }
    let Some(rest) = req.path.strip_prefix("/vms/") else {
        return bad_request("Bad request. Unknown path; use /vms/{vm}/metadata/...");
    };
    let (vm_name, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(vm) = emu.arm.read(|s| s.vm(vm_name).cloned()) else {
        return json(StatusCode::NOT_FOUND, &json!({ "error": format!("no emulated VM named {vm_name:?}") }));
    };
    if sub == "faults" {
        return faults(emu, &vm, &req);
    }
    let Some(path) = sub.strip_prefix("metadata") else {
        return json(StatusCode::NOT_FOUND, &json!({ "error": "Not found" }));
    };
    if let Some((status, retry_after)) = emu.faults.take(&vm.name) {
        tracing::info!(vm = %vm.name, status, "IMDS fault injected");
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = json(
            code,
            &json!({ "error": "injected fault", "error_description": format!("devstack injected HTTP {status}") }),
        );
        if let Some(s) = retry_after
            && let Ok(v) = hyper::header::HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
        }
        return r;
    }
    let identity = path.starts_with("/identity");
    // Throttling per VM and category (IMDS: 5 requests/s; managed identity: 20 requests/s).
    let (category, limit) =
        if identity { ("identity", emu.realism.imds_identity_rate) } else { ("metadata", emu.realism.imds_rate) };
    if emu.imds_buckets.take(&format!("{}|{category}", vm.name.to_ascii_lowercase()), limit).is_err() {
        tracing::info!(vm = %vm.name, category, "IMDS request throttled");
        return if identity {
            identity_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "Too many requests")
        } else {
            json(StatusCode::TOO_MANY_REQUESTS, &json!({ "error": "Too many requests" }))
        };
    }
    if req.headers.contains_key("x-forwarded-for") {
        return bad_request("Bad request. Requests with the X-Forwarded-For header are not allowed");
    }
    if req.method != Method::GET {
        return json(StatusCode::METHOD_NOT_ALLOWED, &json!({ "error": "Method not allowed" }));
    }
    if !req.header("metadata").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return if identity {
            identity_error(StatusCode::BAD_REQUEST, "invalid_request", "Required metadata header not specified")
        } else {
            bad_request("Bad request. Required metadata header not specified")
        };
    }
    let mut seen = std::collections::HashSet::new();
    if req.query.iter().any(|(k, _)| !seen.insert(k.to_ascii_lowercase())) {
        return bad_request("Bad request. Duplicate query parameters are not allowed");
    }
    if path == "/versions" {
        return json(StatusCode::OK, &json!({ "apiVersions": API_VERSIONS }));
    }
    let version = match req.param("api-version") {
        Some(v) if API_VERSIONS.contains(&v) => v.to_string(),
        _ => return bad_api_version(),
    };
    match path {
        "/attested/document" if version.as_str() >= "2018-10-01" => attested(emu, &vm, &req, &version),
        "/identity/oauth2/token" if version.as_str() >= "2018-02-01" => token(emu, &vm, &req),
        "/identity/info" => json(StatusCode::OK, &json!({ "tenantId": emu.tenant_id() })),
        "/instance" | "/instance/compute" => {
            let compute = json!({
                "azEnvironment": "AzurePublicCloud",
                "location": vm.location,
                "name": vm.name,
                "resourceGroupName": vm.resource_group,
                "resourceId": vm.id(),
                "subscriptionId": vm.subscription,
                "vmId": vm.vm_id,
                "vmSize": "Standard_B1s",
            });
            if path == "/instance" {
                json(StatusCode::OK, &json!({ "compute": compute, "network": { "interface": [] } }))
            } else {
                json(StatusCode::OK, &compute)
            }
        }
        "/attested/document" | "/identity/oauth2/token" => bad_api_version(),
        _ => json(StatusCode::NOT_FOUND, &json!({ "error": "Not found" })),
    }
}

fn faults(emu: &Emulator, vm: &Vm, req: &Req) -> Resp {
    if req.method == Method::DELETE {
        emu.faults.set(&vm.name, 500, 0, None);
        return empty(StatusCode::NO_CONTENT);
    }
    if req.method != Method::POST {
        return empty(StatusCode::METHOD_NOT_ALLOWED);
    }
    #[derive(serde::Deserialize)]
    struct Body {
        status: u16,
        #[serde(default = "one")]
        count: usize,
        #[serde(default)]
        retry_after: Option<u64>,
    }
    fn one() -> usize {
        1
    }
    match serde_json::from_slice::<Body>(&req.body) {
        Ok(b) if (400..600).contains(&b.status) => {
            emu.faults.set(&vm.name, b.status, b.count, b.retry_after);
            empty(StatusCode::NO_CONTENT)
        }
        _ => bad_request("expected {\"status\": 400..599, \"count\": N, \"retry_after\": seconds?}"),
    }
}

fn attested(emu: &Emulator, vm: &Vm, req: &Req, version: &str) -> Resp {
    let now = OffsetDateTime::now_utc();
    let nonce = match req.param("nonce") {
        None => format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        ),
        Some(n)
            if !n.is_empty()
                && n.len() <= 32
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            n.to_string()
        }
        Some(_) => return bad_request("Bad request. Nonce must be 1 to 32 alphanumeric characters"),
    };
    let data = AttestedData {
        license_type: None,
        nonce,
        plan: Plan::default(),
        sku: (version >= "2019-11-01").then(|| "22_04-lts-gen2".to_string()),
        subscription_id: (version >= "2019-04-30").then(|| vm.subscription.clone()),
        time_stamp: TimeStamp::new(now, DOCUMENT_LIFETIME),
        vm_id: vm.vm_id.clone(),
    };
    match emu.signer.sign_document(&data) {
        Ok(body) => bytes(StatusCode::OK, "application/json; charset=utf-8", body),
        Err(e) => {
            tracing::error!(error = %e, "cannot sign attested document");
            bad_request("Internal error signing the attested document")
        }
    }
}

/// The identity a token request selects: `(principal, client, xms_mirid, xms_az_rid)`.
type Selected = (String, String, String, Option<String>);

/// The identity an IMDS token request selects on `vm`; the error is IMDS's response.
fn select_identity(emu: &Emulator, vm: &Vm, req: &Req) -> Result<Selected, Box<Resp>> {
    let not_found = || Box::new(identity_error(StatusCode::BAD_REQUEST, "invalid_request", "Identity not found"));
    let selectors: Vec<(&str, &str)> = ["client_id", "object_id", "msi_res_id"]
        .iter()
        .filter_map(|k| req.param(k).filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .collect();
    if selectors.len() > 1 {
        return Err(Box::new(identity_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Only one of client_id, object_id or msi_res_id may be specified",
        )));
    }
    // Identities the VM's host has not picked up yet are not there as far as IMDS knows.
    let uamis: Vec<_> = emu.arm.read(|s| {
        vm.user_assigned
            .iter()
            .filter(|id| emu.pending_identities.served(&vm.name, id))
            .filter_map(|id| s.identity_by_id(id).cloned())
            .collect::<Vec<_>>()
    });
    let system = vm.system_assigned.as_ref().map(|s| (s.principal_id.clone(), s.client_id.clone(), vm.id(), None));
    let uami = |i: &super::state::Identity| (i.principal_id.clone(), i.client_id.clone(), i.id(), Some(vm.id()));
    match selectors.first() {
        None => match (system, uamis.as_slice()) {
            (Some(s), _) => Ok(s),
            (None, [one]) => Ok(uami(one)),
            (None, []) => Err(not_found()),
            (None, _) => Err(Box::new(identity_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request",
            ))),
        },
        Some((kind, value)) => {
            let matches = |i: &&super::state::Identity| match *kind {
                "client_id" => i.client_id.eq_ignore_ascii_case(value),
                "object_id" => i.principal_id.eq_ignore_ascii_case(value),
                _ => i.id().eq_ignore_ascii_case(value),
            };
            if let Some(i) = uamis.iter().find(matches) {
                return Ok(uami(i));
            }
            match (system, *kind) {
                (Some(s), "client_id") if s.1.eq_ignore_ascii_case(value) => Ok(s),
                (Some(s), "object_id") if s.0.eq_ignore_ascii_case(value) => Ok(s),
                _ => Err(not_found()),
            }
        }
    }
}

fn token(emu: &Emulator, vm: &Vm, req: &Req) -> Resp {
    let Some(resource) = req.param("resource").filter(|r| !r.is_empty()) else {
        return identity_error(StatusCode::BAD_REQUEST, "invalid_request", "Required audience parameter not specified");
    };
    let (principal, client, mirid, az_rid) = match select_identity(emu, vm, req) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let spec = ManagedIdentityTokenSpec {
        tenant_id: emu.tenant_id(),
        principal_id: principal,
        client_id: client,
        resource: resource.to_string(),
        mi_resource_id: mirid,
        vm_resource_id: az_rid,
        issued_at: OffsetDateTime::now_utc(),
        lifetime: emu.token_lifetime,
    };
    match emu.issuer.issue_managed_identity(&spec) {
        Ok(t) => json(StatusCode::OK, &imds_token_response(&t, &spec)),
        Err(e) => {
            tracing::error!(error = %e, "cannot issue managed-identity token");
            identity_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unknown",
                "Failed to retrieve token from the Active directory",
            )
        }
    }
}
