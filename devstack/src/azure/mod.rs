//! The Azure side of the devstack: an emulator of the three Azure services a VM join and the
//! Terraform provider touch, and the `azure` join method of the emulated Teleport.
//!
//! Why an emulator rather than mocks: the agent, the provider and the verifier are all
//! tested against the same wire behaviour (IMDS's quirks, Entra's issuer and key discovery,
//! ARM's status codes, error envelopes and RBAC), so a test passing here says something about
//! real Azure.
//!
//! * [`imds`]: per-VM IMDS on plain HTTP (`http://127.0.0.1:P/vms/{vm}`), the AIA download
//!   and the fault-injection hook;
//! * [`entra`]: OIDC discovery, JWKS and the client-credentials token endpoints (HTTPS);
//! * [`arm`]: ARM with RBAC (HTTPS), over the persisted [`state`];
//! * [`sign`]: what Azure signs (attested documents, managed-identity tokens, JWKS);
//! * [`keys`]: persisted PKI and keys; [`fixture`]: the seed; [`rbac`]: role evaluation;
//! * [`realism`]: how asynchronous, throttled and eventually consistent it is (the `up`
//!   flags), with [`throttle`]'s token buckets;
//! * [`verifier`]: the server-side Azure join check.
//!
//! # Environment variable names (also listed in `devstack.json` under `azure.env_vars`)
//!
//! | Variable | For | Meaning |
//! |---|---|---|
//! | `JOINERY_IMDS_ENDPOINT` | agent | IMDS base URL of one VM (`vms[].agent_env`) |
//! | `JOINERY_AZURE_AIA_ALLOW` | agent | extra `host:port` allowed for AIA downloads |
//! | `ARM_TENANT_ID`, `ARM_SUBSCRIPTION_ID` | provider | tenant and default subscription |
//! | `ARM_CLIENT_ID`, `ARM_CLIENT_SECRET` | provider | the provider's service principal |
//! | `ARM_CLIENT_CERTIFICATE_PATH`, `…_PASSWORD` | provider | its certificate (`azure.client_certificate_*` in `devstack.json`; not in `provider_env`) |
//! | `JOINERY_ARM_ENDPOINT` | provider | ARM base URL (`https://127.0.0.1:P`) |
//! | `JOINERY_AZURE_AUTHORITY_HOST` | provider | Entra authority (`https://127.0.0.1:P`) |
//! | `JOINERY_AZURE_CA_FILE` | provider | PEM CA of the emulator's HTTPS endpoints |

pub mod arm;
pub mod assertion;
pub mod certificate;
pub mod entra;
pub mod federated;
pub mod fixture;
pub mod http;
pub mod imds;
pub mod keys;
pub mod rbac;
pub mod realism;
pub mod sign;
pub mod state;
pub mod store;
pub mod throttle;
pub mod verifier;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use joinery_util::fs::{ensure_private_dir, write_atomic};
use serde::{Deserialize, Serialize};
use sign::{AttestedSigner, TokenIssuer};
use tokio::net::TcpListener;

use crate::teleport::delegated::JoinMethods;
use fixture::AzureFixture;
use realism::Realism;
use state::ArmStore;
use throttle::Buckets;

/// Lifetime of managed-identity tokens (real ones live about 24 h).
const TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The shared emulator state every listener reads.
pub struct Emulator {
    /// Persisted ARM state.
    pub arm: ArmStore,
    /// Entra token signing key.
    pub issuer: TokenIssuer,
    /// The same key, for checking bearer tokens.
    pub decoding_key: jsonwebtoken::DecodingKey,
    /// Attested-document signer.
    pub signer: AttestedSigner,
    /// Attestation intermediate (DER), served over AIA.
    pub intermediate_der: Vec<u8>,
    /// Authority base URL.
    pub authority: String,
    /// ARM base URL.
    pub arm_endpoint: String,
    /// Injected IMDS faults.
    pub faults: imds::Faults,
    /// Finished ARM async operations.
    pub operations: arm::Operations,
    /// Managed-identity token lifetime.
    pub token_lifetime: Duration,
    /// The realism knobs.
    pub realism: Realism,
    /// ARM throttling, by subscription, principal and operation type.
    pub arm_buckets: Buckets,
    /// IMDS throttling, by VM and category.
    pub imds_buckets: Buckets,
    /// Identities attached to a VM that IMDS does not serve yet.
    pub pending_identities: imds::PendingIdentities,
    /// Fetches external issuers' keys (federated credentials).
    pub oidc: crate::oidc::Discovery,
    tenant: String,
}

impl Emulator {
    /// The tenant id.
    pub fn tenant_id(&self) -> String {
        self.tenant.clone()
    }
}

/// A user-assigned identity, as `devstack.json` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityInfo {
    /// Name.
    pub name: String,
    /// ARM id.
    pub id: String,
    /// Resource group.
    pub resource_group: String,
    /// Client id.
    pub client_id: String,
    /// Principal id.
    pub principal_id: String,
}

/// One identity of a VM.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VmIdentityInfo {
    /// `SystemAssigned` or `UserAssigned`.
    pub kind: String,
    /// ARM id (the VM's own id for a system-assigned identity; this is `xms_mirid`).
    pub id: String,
    /// Client id.
    pub client_id: String,
    /// Principal id.
    pub principal_id: String,
}

/// A VM, as `devstack.json` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VmInfo {
    /// Name.
    pub name: String,
    /// ARM id.
    pub id: String,
    /// Resource group.
    pub resource_group: String,
    /// vmId.
    pub vm_id: String,
    /// Identities.
    pub identities: Vec<VmIdentityInfo>,
    /// IMDS base URL of this VM.
    pub imds_endpoint: String,
    /// Test hook: POST `{"status":429,"count":2}` to fail the next IMDS requests.
    pub faults_endpoint: String,
    /// Environment pointing an agent at this VM.
    pub agent_env: BTreeMap<String, String>,
}

/// What `devstack.json` says about Azure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AzureInfo {
    /// Tenant id.
    pub tenant_id: String,
    /// Default subscription id.
    pub subscription_id: String,
    /// ARM base URL (HTTPS).
    pub arm_endpoint: String,
    /// Entra authority base URL (HTTPS).
    pub authority_host: String,
    /// PEM CA of the HTTPS endpoints.
    pub ca_file: PathBuf,
    /// The provider's service principal.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// A PKCS#12 bundle of a certificate registered on it (azurerm's `client_certificate_path`).
    pub client_certificate_path: PathBuf,
    /// The bundle's password.
    pub client_certificate_password: String,
    /// URL serving the attestation intermediate (what the leaf's AIA names).
    pub aia_url: String,
    /// User-assigned identities.
    pub identities: Vec<IdentityInfo>,
    /// VMs.
    pub vms: Vec<VmInfo>,
    /// Environment variable names and what they mean.
    pub env_vars: BTreeMap<String, String>,
    /// The realism knobs in effect ([`realism::Realism`]).
    #[serde(default)]
    pub realism: serde_json::Value,
}

/// Registers the devstack's generated certificate (named `devstack`) on the first service
/// principal, replacing an older one of that name.
fn register_client_certificate(arm: &ArmStore, files: &keys::ClientCertificateFiles) -> Result<()> {
    arm.write(|s| {
        if let Some(sp) = s.service_principals.first_mut()
            && !sp.certificates.iter().any(|c| c.certificate == files.certificate_pem)
        {
            sp.certificates.retain(|c| c.name != DEVSTACK_CERTIFICATE);
            sp.certificates.push(fixture::CertificateCredential {
                name: DEVSTACK_CERTIFICATE.into(),
                certificate: files.certificate_pem.clone(),
            });
        }
        Ok::<_, anyhow::Error>(())
    })
}

/// The name of the certificate the devstack generates and registers.
const DEVSTACK_CERTIFICATE: &str = "devstack";

/// A started emulator.
pub struct Started {
    /// The `devstack.json` section.
    pub info: AzureInfo,
    /// Variables to add to `provider_env`.
    pub provider_env: BTreeMap<String, String>,
}

#[derive(Default, Serialize, Deserialize)]
struct Ports {
    imds: u16,
    authority: u16,
    arm: u16,
}

/// Binds `127.0.0.1:port`, falling back to an ephemeral port if it is taken.
async fn bind(port: u16, what: &str) -> Result<TcpListener> {
    if port != 0
        && let Ok(l) = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await
    {
        return Ok(l);
    }
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.with_context(|| format!("cannot listen for {what}"))
}

fn env_docs() -> BTreeMap<String, String> {
    [
        ("JOINERY_IMDS_ENDPOINT", "agent: IMDS base URL of one emulated VM (see vms[].agent_env)"),
        ("JOINERY_AZURE_AIA_ALLOW", "agent: extra host:port allowed for AIA intermediate downloads"),
        ("ARM_TENANT_ID", "provider: Entra tenant id"),
        ("ARM_SUBSCRIPTION_ID", "provider: default subscription id"),
        ("ARM_CLIENT_ID", "provider: service principal client id"),
        ("ARM_CLIENT_SECRET", "provider: service principal client secret"),
        (
            "ARM_CLIENT_CERTIFICATE_PATH",
            "provider: the service principal's PKCS#12 bundle (azure.client_certificate_path, password in \
             azure.client_certificate_password); not in provider_env, which signs in with the secret",
        ),
        ("JOINERY_ARM_ENDPOINT", "provider: ARM base URL (instead of https://management.azure.com)"),
        ("JOINERY_AZURE_AUTHORITY_HOST", "provider: Entra authority (instead of https://login.microsoftonline.com)"),
        ("JOINERY_AZURE_CA_FILE", "provider: PEM CA to trust for the ARM and authority endpoints"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Starts the emulator's listeners (state in `dir/azure`), running until `shutdown` is set,
/// and registers the `azure` join method's verifier in `joins`. Entra fetches the keys of
/// federated credentials' issuers through `oidc`.
pub async fn start(
    dir: &Path,
    fixture: &AzureFixture,
    realism: &Realism,
    shutdown: tokio::sync::watch::Receiver<bool>,
    joins: &mut JoinMethods,
    oidc: &crate::oidc::Discovery,
) -> Result<Started> {
    let dir = dir.join("azure");
    ensure_private_dir(&dir).with_context(|| format!("cannot use {}", dir.display()))?;
    let ports_path = dir.join("ports.json");
    let old: Ports = std::fs::read(&ports_path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let imds_listener = bind(old.imds, "the Azure IMDS emulator").await?;
    let authority_listener = bind(old.authority, "the Azure authority emulator").await?;
    let arm_listener = bind(old.arm, "the ARM emulator").await?;
    let ports = Ports {
        imds: imds_listener.local_addr()?.port(),
        authority: authority_listener.local_addr()?.port(),
        arm: arm_listener.local_addr()?.port(),
    };
    write_atomic(&ports_path, &serde_json::to_vec(&ports)?, 0o644)?;

    let imds_base = format!("http://127.0.0.1:{}", ports.imds);
    let authority = format!("https://127.0.0.1:{}", ports.authority);
    let arm_endpoint = format!("https://127.0.0.1:{}", ports.arm);
    let aia_url = format!("{imds_base}{}", imds::AIA_PATH);

    let pki = keys::AttestationPki::load_or_create(&dir, &aia_url)?;
    let issuer = keys::token_issuer(&dir)?;
    let tls = keys::tls_material(&dir)?;
    let arm = ArmStore::open(&dir, fixture)?;
    let client_certificate = keys::ClientCertificateFiles::load_or_create(&dir)?;
    register_client_certificate(&arm, &client_certificate)?;
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(issuer.jwk()).context("emulator JWK")?;
    let decoding_key = jsonwebtoken::DecodingKey::from_jwk(&jwk).context("emulator JWK")?;
    let tenant = arm.read(|s| s.tenant_id.clone());
    let emu = Arc::new(Emulator {
        arm,
        issuer,
        decoding_key,
        signer: pki.signer()?,
        intermediate_der: pki.intermediate_der()?,
        authority: authority.clone(),
        arm_endpoint: arm_endpoint.clone(),
        faults: Default::default(),
        operations: Default::default(),
        token_lifetime: TOKEN_LIFETIME,
        realism: realism.clone(),
        arm_buckets: Buckets::default(),
        imds_buckets: Buckets::default(),
        pending_identities: Default::default(),
        oidc: oidc.clone(),
        tenant,
    });

    let stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let e = emu.clone();
    tokio::spawn(http::serve(
        imds_listener,
        None,
        move |r| {
            let e = e.clone();
            async move { imds::handle(&e, r).await }
        },
        stop(shutdown.clone()),
    ));
    let e = emu.clone();
    tokio::spawn(http::serve(
        authority_listener,
        Some(tls.server_config.clone()),
        move |r| {
            let e = e.clone();
            async move { entra::handle(&e, r).await }
        },
        stop(shutdown.clone()),
    ));
    let e = emu.clone();
    tokio::spawn(http::serve(
        arm_listener,
        Some(tls.server_config.clone()),
        move |r| {
            let e = e.clone();
            async move { arm::handle(&e, r).await }
        },
        stop(shutdown),
    ));

    let https_ca_pem = std::fs::read(&tls.ca_file).with_context(|| format!("cannot read {}", tls.ca_file.display()))?;
    joins.register(Arc::new(verifier::AzureVerifier::new(verifier::VerifierConfig {
        root_der: pki.root_der()?,
        aia_host: format!("127.0.0.1:{}", ports.imds),
        authority: authority.clone(),
        arm_endpoint: arm_endpoint.clone(),
        https_ca_pem,
        arm_lookup: realism.verifier_arm_lookup,
    })?));

    let info = emu.arm.read(|s| {
        let identities = s
            .identities
            .iter()
            .map(|i| IdentityInfo {
                name: i.name.clone(),
                id: i.arm_id(),
                resource_group: i.resource_group.clone(),
                client_id: i.client_id.clone(),
                principal_id: i.principal_id.clone(),
            })
            .collect();
        let vms = s
            .vms
            .iter()
            .map(|v| {
                let mut ids: Vec<VmIdentityInfo> = v
                    .system_assigned
                    .iter()
                    .map(|x| VmIdentityInfo {
                        kind: "SystemAssigned".into(),
                        id: v.id(),
                        client_id: x.client_id.clone(),
                        principal_id: x.principal_id.clone(),
                    })
                    .collect();
                ids.extend(v.user_assigned.iter().filter_map(|id| s.identity_by_id(id)).map(|i| VmIdentityInfo {
                    kind: "UserAssigned".into(),
                    id: i.arm_id(),
                    client_id: i.client_id.clone(),
                    principal_id: i.principal_id.clone(),
                }));
                let imds_endpoint = format!("{imds_base}/vms/{}", v.name);
                VmInfo {
                    name: v.name.clone(),
                    id: v.id(),
                    resource_group: v.resource_group.clone(),
                    vm_id: v.vm_id.clone(),
                    identities: ids,
                    faults_endpoint: format!("{imds_endpoint}/faults"),
                    agent_env: [
                        ("JOINERY_IMDS_ENDPOINT".to_string(), imds_endpoint.clone()),
                        ("JOINERY_AZURE_AIA_ALLOW".to_string(), format!("127.0.0.1:{}", ports.imds)),
                    ]
                    .into_iter()
                    .collect(),
                    imds_endpoint,
                }
            })
            .collect();
        let sp = s.service_principals.first().cloned();
        AzureInfo {
            tenant_id: s.tenant_id.clone(),
            subscription_id: s.subscriptions.first().map(|x| x.id.clone()).unwrap_or_default(),
            arm_endpoint: arm_endpoint.clone(),
            authority_host: authority.clone(),
            ca_file: tls.ca_file.clone(),
            client_id: sp.as_ref().map(|p| p.client_id.clone()).unwrap_or_default(),
            client_secret: sp.map(|p| p.client_secret).unwrap_or_default(),
            client_certificate_path: client_certificate.pfx.clone(),
            client_certificate_password: client_certificate.password.clone(),
            aia_url: aia_url.clone(),
            identities,
            vms,
            env_vars: env_docs(),
            realism: serde_json::to_value(realism).unwrap_or_default(),
        }
    });
    let provider_env = [
        ("ARM_TENANT_ID", info.tenant_id.clone()),
        ("ARM_SUBSCRIPTION_ID", info.subscription_id.clone()),
        ("ARM_CLIENT_ID", info.client_id.clone()),
        ("ARM_CLIENT_SECRET", info.client_secret.clone()),
        ("JOINERY_ARM_ENDPOINT", info.arm_endpoint.clone()),
        ("JOINERY_AZURE_AUTHORITY_HOST", info.authority_host.clone()),
        ("JOINERY_AZURE_CA_FILE", info.ca_file.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    tracing::info!(imds = %imds_base, authority = %authority, arm = %arm_endpoint, "Azure emulator is up");
    Ok(Started { info, provider_env })
}
