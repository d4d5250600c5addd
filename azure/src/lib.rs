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
//! * the **emulator** (what Azure does, also in `joinery-devstack`): [`sign`] builds an emulated
//!   PKI, signs attested documents with Azure's exact PKCS#7 quirks, and issues managed-identity
//!   tokens plus the JWKS/OIDC documents that verify them.
//!
//! Nothing here logs tokens or private keys; `Debug` impls of secret-holding types redact them.

pub mod aia;
pub mod arm;
pub mod attested;
pub mod credential;
pub mod imds;
pub mod jwt;
pub mod resource_id;
pub mod sign;

mod http;
