//! GitHub Actions' OIDC token service, emulated: what a job with `permissions: id-token:
//! write` talks to, and the issuer Teleport and Entra fetch keys from.
//!
//! One HTTPS listener (under the devstack's HTTPS CA, the one `azure.ca_file` names) serves:
//!
//! * `GET /_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken?api-version=2.0`
//!   `[&audience=AUD]` with `Authorization: Bearer <request token>`: the runner's
//!   `ACTIONS_ID_TOKEN_REQUEST_URL`, answering `{"value": "<jwt>"}` (what
//!   `@actions/core`'s `getIDToken` and Teleport's `githubactions.IDTokenSource` read);
//! * `GET /.well-known/openid-configuration` and `GET /.well-known/jwks`: the issuer's
//!   discovery and keys. The issuer keeps GitHub's name,
//!   `https://token.actions.githubusercontent.com`, so tokens, Teleport `github` join tokens
//!   and Entra federated credentials read exactly as they do for real; the devstack's
//!   verifiers fetch that issuer from here ([`crate::oidc::Discovery`]);
//! * `POST /_devstack/runs` (test hook, not GitHub's): a JSON [`Run`] in, a fresh request
//!   URL and token for it out, with the environment a runner would set — plus
//!   `JOINERY_CI_CA_FILE`, the one variable GitHub does not set: the devstack's HTTPS CA, which
//!   the agent and the provider trust for the token service (real runners need none).
//!
//! The signing key lives in `DIR/github/token-signing-key.der` so a restart keeps issued
//! tokens verifiable. Request tokens are per start (a runner's live as long as its job).

pub mod claims;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use hyper::{Method, StatusCode};
use joinery_util::fs::{ensure_private_dir, write_atomic};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use claims::{ISSUER, Run};

use crate::azure::http::{Req, Resp, json};
use crate::azure::sign::TokenIssuer;

/// Path of the test hook that starts a run.
pub const RUNS_PATH: &str = "/_devstack/runs";

/// What `devstack.json` says about the emulated GitHub Actions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GithubInfo {
    /// The issuer tokens name (`iss`): GitHub's.
    pub issuer: String,
    /// Where that issuer is served (`https://127.0.0.1:P`).
    pub served_at: String,
    /// PEM CA of the listener (the devstack's HTTPS CA).
    pub ca_file: PathBuf,
    /// `POST` a JSON run here for a new request URL and token (test hook).
    pub runs_endpoint: String,
    /// The default run.
    pub run: Run,
    /// The environment GitHub Actions sets for a job of the default run.
    pub actions_env: BTreeMap<String, String>,
}

/// A started token service.
pub struct Started {
    /// The `devstack.json` section.
    pub info: GithubInfo,
    /// Fetches this issuer's keys from the listener (for the devstack's verifiers).
    pub discovery: crate::oidc::Discovery,
}

struct Service {
    issuer: TokenIssuer,
    base: String,
    ca_file: PathBuf,
    runs: Mutex<HashMap<String, (Run, u64)>>,
}

/// What the runs hook answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunStarted {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub request_url: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub request_token: String,
    /// Every variable a runner sets for the run's jobs that Joinery reads.
    pub env: BTreeMap<String, String>,
}

impl Service {
    fn start_run(&self, run: Run) -> RunStarted {
        let ca_file = self.ca_file.display().to_string();
        let run_id = u64::from(rand::random::<u32>()) + 1_000_000_000;
        let request_token: String = (0..40).map(|_| format!("{:x}", rand::random::<u8>() % 16)).collect();
        let plan = uuid::Uuid::new_v4();
        let job = uuid::Uuid::new_v4();
        let request_url =
            format!("{}/_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken?api-version=2.0", self.base);
        let env = [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".to_string()),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", request_url.clone()),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token.clone()),
            ("GITHUB_REPOSITORY", run.repository.clone()),
            ("GITHUB_REPOSITORY_OWNER", run.owner().to_string()),
            ("GITHUB_WORKFLOW", run.workflow.clone()),
            ("GITHUB_REF", run.git_ref.clone()),
            ("GITHUB_REF_NAME", run.ref_name().to_string()),
            ("GITHUB_REF_TYPE", run.ref_type().to_string()),
            ("GITHUB_ACTOR", run.actor.clone()),
            ("GITHUB_EVENT_NAME", run.event_name.clone()),
            ("GITHUB_RUN_ID", run_id.to_string()),
            // Not GitHub's: the clients' trust for this emulated service.
            (joinery_azure::federation::CI_CA_FILE_ENV, ca_file),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        self.runs.lock().unwrap_or_else(|p| p.into_inner()).insert(request_token.clone(), (run, run_id));
        RunStarted { request_url, request_token, env }
    }

    fn handle(&self, req: Req) -> Resp {
        let path = req.path.trim_end_matches('/');
        match (&req.method, path) {
            (&Method::GET, "/.well-known/openid-configuration") => {
                json(StatusCode::OK, &claims::openid_configuration(ISSUER, &format!("{ISSUER}/.well-known/jwks")))
            }
            (&Method::GET, "/.well-known/jwks") => json(StatusCode::OK, &crate::azure::sign::jwks(&[&self.issuer])),
            (&Method::POST, RUNS_PATH) => {
                let run: Run = match serde_json::from_slice(&req.body) {
                    Ok(r) => r,
                    Err(e) => return json(StatusCode::BAD_REQUEST, &json!({ "message": format!("invalid run: {e}") })),
                };
                if let Err(e) = run.validate() {
                    return json(StatusCode::BAD_REQUEST, &json!({ "message": format!("invalid run: {e}") }));
                }
                json(StatusCode::CREATED, &self.start_run(run))
            }
            (&Method::GET, p)
                if p.starts_with("/_apis/distributedtask/hubs/Actions/plans/") && p.ends_with("/idtoken") =>
            {
                self.id_token(&req)
            }
            _ => json(StatusCode::NOT_FOUND, &json!({ "message": "Not Found" })),
        }
    }

    /// The runner's token endpoint: a bearer request token in, a signed ID token out.
    fn id_token(&self, req: &Req) -> Resp {
        let bearer = req
            .header("authorization")
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_string());
        let found = bearer.and_then(|t| self.runs.lock().unwrap_or_else(|p| p.into_inner()).get(&t).cloned());
        let Some((run, run_id)) = found else {
            tracing::warn!("GitHub token request without a valid request token");
            return crate::azure::http::empty(StatusCode::UNAUTHORIZED);
        };
        let audience = req.param("audience").filter(|a| !a.is_empty());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match self.issuer.issue(&run.claims(ISSUER, audience, now, run_id)) {
            Ok(token) => {
                tracing::info!(repository = %run.repository, audience = audience.unwrap_or("(default)"), "issued a GitHub Actions ID token");
                json(StatusCode::OK, &json!({ "value": token }))
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot sign a GitHub Actions ID token");
                crate::azure::http::empty(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Ports {
    https: u16,
}

/// Starts the token service (state in `dir/github`, the HTTPS CA in `dir/azure`) until
/// `shutdown` is set.
pub async fn start(dir: &Path, shutdown: tokio::sync::watch::Receiver<bool>) -> Result<Started> {
    let own = dir.join("github");
    ensure_private_dir(&own).with_context(|| format!("cannot use {}", own.display()))?;
    let ca_dir = dir.join("azure");
    ensure_private_dir(&ca_dir).with_context(|| format!("cannot use {}", ca_dir.display()))?;
    let ports_path = own.join("ports.json");
    let old: Ports = std::fs::read(&ports_path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let listener = match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], old.https))).await {
        Ok(l) => l,
        Err(_) => tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("cannot listen for the GitHub Actions token service")?,
    };
    let port = listener.local_addr()?.port();
    write_atomic(&ports_path, &serde_json::to_vec(&Ports { https: port })?, 0o644)?;
    let base = format!("https://127.0.0.1:{port}");
    let tls = crate::azure::keys::tls_material(&ca_dir)?;
    let service = Arc::new(Service {
        issuer: crate::azure::keys::token_issuer(&own)?,
        base: base.clone(),
        ca_file: tls.ca_file.clone(),
        runs: Mutex::new(HashMap::new()),
    });
    let run = Run::default();
    let started = service.start_run(run.clone());
    let s = service.clone();
    let mut stop = shutdown;
    tokio::spawn(crate::azure::http::serve(
        listener,
        Some(tls.server_config.clone()),
        move |r| {
            let s = s.clone();
            async move { s.handle(r) }
        },
        async move {
            let _ = stop.wait_for(|s| *s).await;
        },
    ));
    let ca_pem = std::fs::read(&tls.ca_file).with_context(|| format!("cannot read {}", tls.ca_file.display()))?;
    let mut discovery = crate::oidc::Discovery::new(&ca_pem)?;
    discovery.serve(ISSUER, &base);
    tracing::info!(served_at = %base, issuer = ISSUER, "GitHub Actions token service is up");
    Ok(Started {
        info: GithubInfo {
            issuer: ISSUER.to_string(),
            served_at: base.clone(),
            ca_file: tls.ca_file.clone(),
            runs_endpoint: format!("{base}{RUNS_PATH}"),
            run,
            actions_env: started.env,
        },
        discovery,
    })
}
