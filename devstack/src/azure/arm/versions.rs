//! `api-version` per resource type, and ARM's answers to one it does not support.
//!
//! ARM routes a request to its resource provider by resource type *and* api-version: an
//! unknown version of a provider's type is 400 `NoRegisteredProviderFound`, listing the
//! supported versions and locations ("No registered resource provider found for location
//! 'centralus' and API version '2018-07-02' for type 'storageAccounts'. The supported
//! api-versions are '…'. The supported locations are '…'."); one of ARM's own types
//! (subscriptions, resource groups) is 400 `InvalidApiVersionParameter` ("The api-version
//! '2018-12-01' is invalid. The supported versions are '…'."). The lists below are the
//! versions each provider publishes (azure-rest-api-specs' stable and preview folders,
//! and the versions Azure's SDKs send by default: azure-mgmt-compute 39 sends 2026-04-01,
//! azure-mgmt-msi 7.1 2024-11-30, azure-mgmt-authorization 4.0 2022-04-01).

use hyper::StatusCode;

use super::failure::{Failure, arm_error};

/// A resource type the emulator serves, for api-version checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ApiType {
    /// `Microsoft.Resources`: subscriptions and resource groups (ARM itself).
    Resources,
    /// `Microsoft.Compute/virtualMachines` and its `locations/operations`.
    VirtualMachines,
    /// `Microsoft.ManagedIdentity/userAssignedIdentities`.
    UserAssignedIdentities,
    /// `Microsoft.Authorization/roleAssignments`.
    RoleAssignments,
    /// `Microsoft.Authorization/roleDefinitions`.
    RoleDefinitions,
}

const RESOURCES: &[&str] = &[
    "2026-06-01",
    "2025-04-01",
    "2025-03-01",
    "2024-11-01",
    "2024-08-01",
    "2024-07-01",
    "2024-03-01",
    "2023-07-01",
    "2022-12-01",
    "2022-09-01",
    "2022-06-01",
    "2022-05-01",
    "2022-01-01",
    "2021-04-01",
    "2021-01-01",
    "2020-10-01",
    "2020-09-01",
    "2020-08-01",
    "2020-07-01",
    "2020-06-01",
    "2020-05-01",
    "2020-01-01",
    "2019-11-01",
    "2019-10-01",
    "2019-09-01",
    "2019-08-01",
    "2019-07-01",
    "2019-06-01",
    "2019-05-10",
    "2019-05-01",
    "2019-03-01",
    "2018-11-01",
    "2018-09-01",
    "2018-08-01",
    "2018-07-01",
    "2018-06-01",
    "2018-05-01",
    "2018-02-01",
    "2018-01-01",
    "2017-12-01",
    "2017-08-01",
    "2017-06-01",
    "2017-05-10",
    "2017-05-01",
    "2017-03-01",
    "2016-09-01",
    "2016-07-01",
    "2016-06-01",
    "2016-02-01",
    "2015-11-01",
    "2015-01-01",
    "2014-04-01-preview",
    "2014-04-01",
    "2014-01-01",
];

const COMPUTE: &[&str] = &[
    "2015-05-01-preview",
    "2015-06-15",
    "2016-03-30",
    "2016-04-30-preview",
    "2016-08-30",
    "2017-03-30",
    "2017-12-01",
    "2018-04-01",
    "2018-06-01",
    "2018-10-01",
    "2019-03-01",
    "2019-07-01",
    "2019-12-01",
    "2020-06-01",
    "2020-12-01",
    "2021-03-01",
    "2021-04-01",
    "2021-07-01",
    "2021-11-01",
    "2022-03-01",
    "2022-08-01",
    "2022-11-01",
    "2023-03-01",
    "2023-07-01",
    "2023-09-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
    "2026-04-01",
];

const MSI: &[&str] = &[
    "2015-08-31-preview",
    "2018-11-30",
    "2021-09-30-preview",
    "2022-01-31-preview",
    "2023-01-31",
    "2023-07-31-preview",
    "2024-11-30",
    "2025-01-31-preview",
];

const ROLE_ASSIGNMENTS: &[&str] = &[
    "2015-06-01",
    "2015-07-01",
    "2017-10-01-preview",
    "2018-01-01-preview",
    "2018-09-01-preview",
    "2018-12-01-preview",
    "2019-04-01-preview",
    "2020-03-01-preview",
    "2020-04-01-preview",
    "2020-08-01-preview",
    "2020-10-01-preview",
    "2022-01-01-preview",
    "2022-04-01",
];

const ROLE_DEFINITIONS: &[&str] =
    &["2015-06-01", "2015-07-01", "2018-01-01-preview", "2022-04-01", "2022-05-01-preview"];

/// The locations the emulated providers are registered in.
const LOCATIONS: &str = "eastus, eastus2, westus, westus2, centralus, northeurope, westeurope";

impl ApiType {
    fn versions(self) -> &'static [&'static str] {
        match self {
            ApiType::Resources => RESOURCES,
            ApiType::VirtualMachines => COMPUTE,
            ApiType::UserAssignedIdentities => MSI,
            ApiType::RoleAssignments => ROLE_ASSIGNMENTS,
            ApiType::RoleDefinitions => ROLE_DEFINITIONS,
        }
    }

    /// The type's name in ARM's message.
    fn name(self) -> &'static str {
        match self {
            ApiType::Resources => "resourceGroups",
            ApiType::VirtualMachines => "virtualMachines",
            ApiType::UserAssignedIdentities => "userAssignedIdentities",
            ApiType::RoleAssignments => "roleAssignments",
            ApiType::RoleDefinitions => "roleDefinitions",
        }
    }

    /// ARM's 400 unless `version` is supported; `location` is the request's region
    /// (`global` for tenant-wide types).
    pub(super) fn check(self, version: &str, location: &str) -> Result<(), Failure> {
        if self.versions().contains(&version) {
            return Ok(());
        }
        if self == ApiType::Resources {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                &format!(
                    "The api-version '{version}' is invalid. The supported versions are '{}'.",
                    RESOURCES.join(",")
                ),
            ));
        }
        let locations = if location == "global" { "" } else { LOCATIONS };
        Err(arm_error(
            StatusCode::BAD_REQUEST,
            "NoRegisteredProviderFound",
            &format!(
                "No registered resource provider found for location '{location}' and API version '{version}' for type '{}'. The supported api-versions are '{}'. The supported locations are '{locations}'.",
                self.name(),
                self.versions().join(", ")
            ),
        ))
    }
}

/// Whether a Compute api-version has VM `etag`s and `If-Match` (2023-09-01 and later).
pub(super) fn compute_has_etags(version: &str) -> bool {
    version >= "2023-09-01"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_versions_our_clients_and_azures_sdks_send_are_served() {
        let ours = joinery_azure::arm::COMPUTE_API_VERSION;
        for (t, v) in [
            (ApiType::VirtualMachines, ours),
            (ApiType::VirtualMachines, "2026-04-01"),
            (ApiType::UserAssignedIdentities, joinery_azure::arm::MSI_API_VERSION),
            (ApiType::UserAssignedIdentities, "2024-11-30"),
            (ApiType::RoleAssignments, joinery_azure::arm::AUTHORIZATION_API_VERSION),
            (ApiType::RoleDefinitions, joinery_azure::arm::AUTHORIZATION_API_VERSION),
            (ApiType::Resources, "2022-01-01"),
        ] {
            t.check(v, "eastus").unwrap();
        }
        assert!(compute_has_etags(ours) && !compute_has_etags("2023-07-01"));
    }

    #[test]
    fn unknown_versions_get_arms_messages() {
        let e = format!("{:?}", ApiType::VirtualMachines.check("2099-01-01", "eastus").unwrap_err());
        assert!(e.contains("NoRegisteredProviderFound"), "{e}");
        assert!(e.contains("No registered resource provider found for location 'eastus' and API version '2099-01-01' for type 'virtualMachines'. The supported api-versions are '2015-05-01-preview, 2015-06-15,"), "{e}");
        let e = format!("{:?}", ApiType::Resources.check("2099-01-01", "global").unwrap_err());
        assert!(
            e.contains("InvalidApiVersionParameter")
                && e.contains(
                    "The api-version '2099-01-01' is invalid. The supported versions are '2026-06-01,2025-04-01,"
                ),
            "{e}"
        );
    }
}
