//! Azure pieces of Joinery.
//!
//! A VM joins a Teleport cluster as a bot by proving two things with material only Azure can
//! produce: an **attested data document** (a PKCS#7 blob signed by Azure over the VM's id,
//! subscription and a server-chosen nonce) and a **managed-identity access token** (an RS256
//! JWT issued by Entra ID for ARM). This crate holds every Azure-specific piece of that flow,
//! for the three parties that need them:
//!
//! * the **VM agent** (client side): [`imds::ImdsClient`] to fetch the document and token from
//!   the Instance Metadata Service, and [`aia::AiaFetcher`] to collect the intermediate
//!   certificates a current Teleport server insists on receiving (the join itself, against
//!   Teleport, is the agent's: `joinery_agent::join::azure`);
//! * the **verifier** (what Teleport's Auth server does, reproduced by `joinery-devstack`):
//!   [`attested::AttestedVerifier`] for the document, [`jwt::AccessTokenVerifier`] for the
//!   token, [`resource_id::ResourceId`] for the `xms_mirid`/`xms_az_rid` fast path and
//!   [`arm::ArmClient`] for the slow path;
//! * the **Terraform provider** and the **ARM emulator**: [`arm`], the one set of ARM wire
//!   types (VMs and their identity patch, identities, role assignments and definitions) that
//!   the provider sends through [`arm::ArmClient`] and `joinery-devstack` serves.
//!
//! What Azure itself produces (the attestation PKI, PKCS#7 signing, managed-identity tokens)
//! is emulated in `joinery-devstack` (`joinery_devstack::azure::sign`), so no shipped binary
//! links signing code.
//!
//! Nothing here logs tokens or private keys; `Debug` impls of secret-holding types redact them.

pub mod aia;
pub mod arm;
pub mod attested;
pub mod credential;
pub mod federation;
pub mod imds;
pub mod jwt;
pub mod resource_id;

mod http;
