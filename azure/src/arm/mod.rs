//! Azure Resource Manager: the wire types of the resources Joinery reads and writes, and a
//! minimal client.
//!
//! The types are the **one** description of ARM's JSON in the workspace: [`ArmClient`] sends
//! and decodes them, and `joinery-devstack`'s ARM emulator serves and parses them, so the two
//! cannot drift apart. They derive `Serialize` and `Deserialize`; decoding is lenient (fields
//! Joinery does not need default), encoding reproduces what ARM sends, `null`s included. Key
//! order is not significant to ARM; serializers that want ARM-like output sorted by key go
//! through `serde_json::Value` (whose maps are sorted).
//!
//! One file per resource type:
//!
//! * [`vm`]: `Microsoft.Compute/virtualMachines` and the typed identity PATCH
//!   ([`VmIdentityPatch::attach`] / [`VmIdentityPatch::detach`]);
//! * [`identity`], for `Microsoft.ManagedIdentity/userAssignedIdentities`;
//! * [`role_assignment`], [`role_definition`]: `Microsoft.Authorization` RBAC;
//! * [`common`]: error envelope, list pages, asynchronous operations, subscriptions and
//!   resource groups;
//! * [`client`]: the HTTP client; [`wait`]: retries, long-running operations and the
//!   concurrency-safe VM identity update.

pub mod client;
pub mod common;
pub mod identity;
pub mod role_assignment;
pub mod role_definition;
pub mod vm;
pub mod wait;

pub use client::{ArmClient, ArmError, ArmOptions};
pub use common::{
    AsyncOperation, Audit, ErrorDetail, ErrorResponse, Page, ResourceGroup, ResourceGroupProperties, Subscription,
};
pub use identity::{IDENTITY_TYPE, Identity, IdentityProperties, IdentityRequest};
pub use role_assignment::{
    ROLE_ASSIGNMENT_TYPE, RoleAssignment, RoleAssignmentProperties, RoleAssignmentRequest,
    RoleAssignmentRequestProperties,
};
pub use role_definition::{
    Permission, ROLE_DEFINITION_TYPE, RoleDefinition, RoleDefinitionProperties, RoleDefinitionRequest,
    RoleDefinitionRequestProperties,
};
pub use vm::{
    HardwareProfile, IdentityType, OsProfile, UserAssignedIdentity, VM_TYPE, VirtualMachine, VmIdentity,
    VmIdentityPatch, VmPatch, VmProperties,
};
pub use wait::{VmUpdate, WaitLimits};

/// Public ARM endpoint.
pub const ARM_ENDPOINT: &str = "https://management.azure.com";
/// api-version used for `Microsoft.Compute/virtualMachines`.
pub const COMPUTE_API_VERSION: &str = "2024-11-01";
/// api-version used for `Microsoft.ManagedIdentity/userAssignedIdentities`.
pub const MSI_API_VERSION: &str = "2023-01-31";
/// api-version used for `Microsoft.Authorization` role assignments and definitions.
pub const AUTHORIZATION_API_VERSION: &str = "2022-04-01";

/// Resource tags (`{"name": "value"}`), kept as JSON values: ARM stores what it is given.
pub type Tags = serde_json::Map<String, serde_json::Value>;
