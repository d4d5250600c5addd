//! Helpers for the Azure tests: reading `devstack.json`, clients for a VM's IMDS, and the
//! machinery of the rejection corpus (open a `teleport.join.v1` Azure join, forge the
//! solution, read the server's reason).

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use joinery_azure::aia::AiaFetcher;
use joinery_azure::arm::{ArmClient, ArmOptions};
use joinery_azure::attested::{AttestedData, Plan, TimeStamp};
use joinery_azure::imds::{ARM_RESOURCE, ImdsClient, RetryPolicy};
// The join client, in one place for the tests that use it.
pub(crate) use joinery_agent::join::azure::{JoinError, join_with_azure, join_with_azure_legacy, join_with_azure_v1};
use joinery_devstack::azure::sign::{
    AttestedSigner, EmulatorPki, EmulatorPkiConfig, ManagedIdentityTokenSpec, TokenIssuer, managed_identity_claims,
};
use joinery_teleport::Error;
use joinery_teleport::identity::CertInfo;
use joinery_teleport::join::{JoinStream, JoinedCerts, bot_params};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::teleport::join::v1;
use joinery_testkit::Devstack;
use serde_json::Value;
use time::OffsetDateTime;

use crate::common::{azure_token, bot, verify_client_cert};

/// Bot certificate lifetime asked for.
pub(crate) const TTL: Duration = Duration::from_secs(3600);

/// The `azure` section of `devstack.json`.
pub(crate) fn az(stack: &Devstack) -> &Value {
    &stack.info["azure"]
}

/// A VM of `devstack.json`.
pub(crate) fn vm<'a>(stack: &'a Devstack, name: &str) -> &'a Value {
    az(stack)["vms"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap()
}

/// The string at `key` of a `devstack.json` object.
pub(crate) fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {v}")).to_string()
}

/// A client of the VM's IMDS that does not retry.
pub(crate) fn imds(stack: &Devstack, vm_name: &str) -> ImdsClient {
    ImdsClient::new(vm(stack, vm_name)["imds_endpoint"].as_str().unwrap())
        .unwrap()
        .with_retry_policy(RetryPolicy::none())
}

/// An AIA fetcher allowed to reach the emulator.
pub(crate) fn aia(stack: &Devstack) -> AiaFetcher {
    AiaFetcher::new().unwrap().allow_host(text(&vm(stack, "vm-1")["agent_env"], "JOINERY_AZURE_AIA_ALLOW"))
}

/// The default subscription.
pub(crate) fn subscription(stack: &Devstack) -> String {
    text(az(stack), "subscription_id")
}

/// The PEM CA of the emulator's HTTPS endpoints.
pub(crate) fn https_ca(stack: &Devstack) -> Vec<u8> {
    std::fs::read(text(az(stack), "ca_file")).unwrap()
}

/// An ARM client of the emulator with `token`.
pub(crate) fn arm_client(stack: &Devstack, token: &str) -> ArmClient {
    let opts = ArmOptions { base_url: Some(text(az(stack), "arm_endpoint")), extra_ca_pem: Some(https_ca(stack)) };
    ArmClient::new(token, opts).unwrap()
}

/// A devstack with a bot `robot` and an azure token `az-token` allowing the default
/// subscription (optionally only `groups`).
pub(crate) async fn stack_with_token(groups: &[&str]) -> Devstack {
    stack_with_token_in(Devstack::start(), groups).await
}

/// [`stack_with_token`] on a devstack already started (e.g. with `--join-v1`).
pub(crate) async fn stack_with_token_in(stack: Devstack, groups: &[&str]) -> Devstack {
    let admin = stack.admin().await;
    admin.create_bot(bot("robot", &["access"])).await.unwrap();
    admin.create_token(azure_token("az-token", "robot", &subscription(&stack), groups)).await.unwrap();
    stack
}

/// Checks the joined certificates: TLS chains to the user CA, SSH is for `key`.
pub(crate) fn verify_bot_cert(stack: &Devstack, certs: &JoinedCerts, key: &KeyPair) -> CertInfo {
    let info = verify_client_cert(stack, &certs.tls_cert_pem);
    let ssh = ssh_key::Certificate::from_openssh(&certs.ssh_cert).unwrap();
    assert_eq!(ssh.public_key(), key.ssh_public_key().key_data());
    info
}

/// The emulator's attestation material, read from the state directory.
pub(crate) struct Material {
    pub(crate) root: Vec<u8>,
    pub(crate) intermediate: Vec<u8>,
    pub(crate) leaf: Vec<u8>,
    pub(crate) leaf_key: Vec<u8>,
    pub(crate) issuer: TokenIssuer,
}

pub(crate) fn material(stack: &Devstack) -> Material {
    let pki: Value = serde_json::from_slice(&std::fs::read(stack.dir.join("azure/attestation.json")).unwrap()).unwrap();
    let d = |k: &str| base64::engine::general_purpose::STANDARD.decode(pki[k].as_str().unwrap()).unwrap();
    let key = std::fs::read(stack.dir.join("azure/token-signing-key.der")).unwrap();
    Material {
        root: d("root"),
        intermediate: d("intermediate"),
        leaf: d("leaf"),
        leaf_key: d("leaf_key"),
        issuer: TokenIssuer::from_pkcs8(&key, None).unwrap(),
    }
}

impl Material {
    /// The emulator's own attested-document signer.
    pub(crate) fn signer(&self) -> AttestedSigner {
        AttestedSigner::from_pkcs8(&self.leaf, &self.leaf_key).unwrap()
    }
}

/// Claims of a managed-identity token for the user-assigned identity of vm-1.
pub(crate) fn vm1_claims(stack: &Devstack) -> Value {
    let v = vm(stack, "vm-1");
    let id = &v["identities"][0];
    managed_identity_claims(&ManagedIdentityTokenSpec {
        tenant_id: text(az(stack), "tenant_id"),
        principal_id: text(id, "principal_id"),
        client_id: text(id, "client_id"),
        resource: ARM_RESOURCE.into(),
        mi_resource_id: text(id, "id"),
        vm_resource_id: Some(text(v, "id")),
        issued_at: OffsetDateTime::now_utc(),
        lifetime: Duration::from_secs(3600),
    })
}

/// Opens a `teleport.join.v1` Azure join up to the challenge.
pub(crate) async fn open_v1(stack: &Devstack, token: &str) -> (JoinStream, String) {
    let client = stack.anonymous().await;
    let mut stream = JoinStream::open(
        &client,
        v1::ClientInit {
            join_method: Some("azure".into()),
            token_name: token.into(),
            system_role: "Bot".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    stream.recv_server_init().await.unwrap();
    let key = KeyPair::generate();
    stream
        .send(v1::join_request::Payload::AzureInit(v1::AzureInit {
            client_params: Some(bot_params(&key, SystemTime::now() + TTL)),
        }))
        .await
        .unwrap();
    let challenge = match stream.recv().await.unwrap() {
        v1::join_response::Payload::Challenge(v1::Challenge {
            payload: Some(v1::challenge::Payload::AzureChallenge(c)),
        }) => c.challenge,
        other => panic!("expected a challenge, got {other:?}"),
    };
    (stream, challenge)
}

/// Sends the solution and reads the result.
pub(crate) async fn finish_v1(
    mut stream: JoinStream,
    solution: v1::AzureChallengeSolution,
) -> Result<JoinedCerts, Error> {
    stream
        .send(v1::join_request::Payload::Solution(v1::ChallengeSolution {
            payload: Some(v1::challenge_solution::Payload::AzureChallengeSolution(solution)),
        }))
        .await?;
    stream.recv_bot_result().await
}

/// A genuine solution from vm's IMDS for `challenge`, with the emulator's intermediate.
pub(crate) async fn real_solution(stack: &Devstack, vm_name: &str, challenge: &str) -> v1::AzureChallengeSolution {
    let client = imds(stack, vm_name);
    v1::AzureChallengeSolution {
        attested_data: client.attested_document(challenge).await.unwrap(),
        intermediate: material(stack).intermediate,
        access_token: client.access_token(ARM_RESOURCE, None).await.unwrap().access_token,
    }
}

/// What a rejection test alters: vm-1's genuine solution for the challenge, and the means to
/// forge parts of it.
pub(crate) struct Forge<'a> {
    pub(crate) stack: &'a Devstack,
    pub(crate) material: Material,
    pub(crate) challenge: String,
    pub(crate) solution: v1::AzureChallengeSolution,
}

impl Forge<'_> {
    /// Replaces the attested data with vm-1's document for the challenge, altered by `edit`,
    /// signed by `signer`.
    pub(crate) fn sign(&mut self, signer: &AttestedSigner, edit: impl FnOnce(&mut AttestedData)) {
        let mut data = AttestedData {
            license_type: None,
            nonce: self.challenge.clone(),
            plan: Plan::default(),
            sku: None,
            subscription_id: Some(subscription(self.stack)),
            time_stamp: TimeStamp::new(OffsetDateTime::now_utc(), Duration::from_secs(300)),
            vm_id: text(vm(self.stack, "vm-1"), "vm_id"),
        };
        edit(&mut data);
        self.solution.attested_data = signer.sign_document(&data).unwrap();
    }

    /// Signs the document with a PKI of its own (sending that PKI's intermediate).
    pub(crate) fn sign_with_pki(&mut self, cfg: EmulatorPkiConfig) {
        let pki = EmulatorPki::generate(&cfg).unwrap();
        self.sign(&pki.signer().unwrap(), |_| {});
        self.solution.intermediate = pki.intermediate_der().to_vec();
    }

    /// Replaces the access token with `claims` signed by the emulator's Entra key.
    pub(crate) fn issue(&mut self, claims: &Value) {
        self.solution.access_token = self.material.issuer.issue(claims).unwrap();
    }
}

/// Runs a v1 join for `az-token` whose solution `forge` alters; returns the server's reason.
pub(crate) async fn rejected(stack: &Devstack, forge: impl FnOnce(&mut Forge)) -> String {
    let (stream, challenge) = open_v1(stack, "az-token").await;
    let solution = real_solution(stack, "vm-1", &challenge).await;
    let mut f = Forge { stack, material: material(stack), challenge, solution };
    forge(&mut f);
    match finish_v1(stream, f.solution).await {
        Ok(_) => panic!("join unexpectedly succeeded"),
        Err(Error::AccessDenied(m)) | Err(Error::BadParameter(m)) => m,
        Err(e) => panic!("unexpected error kind: {e:?}"),
    }
}

/// [`rejected`] on a fresh devstack whose token allows `groups`; asserts the reason names
/// `expected`.
pub(crate) async fn assert_rejected(groups: &[&str], expected: &str, forge: impl FnOnce(&mut Forge)) {
    let stack = stack_with_token(groups).await;
    assert_reason(&rejected(&stack, forge).await, expected);
}

pub(crate) fn assert_reason(reason: &str, expected: &str) {
    assert!(reason.contains(expected), "reason {reason:?} does not contain {expected:?}");
}
