//! The provider's `azure { … }` block: its settings, each falling back to an
//! azurerm-style environment variable (`ARM_*`), and the resolved model.
//!
//! Nothing here talks to Azure; see [`crate::azure`] for the ARM client
//! built from these settings on first use.

use serde::Deserialize;

use super::settings::{Setting, resolve_all};
use joinery_tfplugin::cty::Value;
use joinery_tfplugin::framework::{Attribute, AttributePath};

/// The block's attribute name in the provider configuration.
pub const BLOCK: &str = "azure";

/// `subscription_id`.
pub const SUBSCRIPTION_ID: Setting = Setting::string(
    "subscription_id",
    "ARM_SUBSCRIPTION_ID",
    "Default subscription, used by `teleport_azure_vm` lookups by resource group and name.",
);
/// `tenant_id`.
pub const TENANT_ID: Setting = Setting::string("tenant_id", "ARM_TENANT_ID", "Entra ID tenant (directory) ID.");
/// `client_id`.
pub const CLIENT_ID: Setting = Setting::string(
    "client_id",
    "ARM_CLIENT_ID",
    "Client ID of the service principal, or of the user-assigned managed identity with `use_msi`.",
);
/// `client_secret`.
pub const CLIENT_SECRET: Setting = Setting::string(
    "client_secret",
    "ARM_CLIENT_SECRET",
    "Client secret of the service principal. When set (with `client_id` and `tenant_id`) it is used first.",
)
.sensitive();
/// `client_certificate_path`.
pub const CLIENT_CERTIFICATE_PATH: Setting = Setting::string(
    "client_certificate_path",
    "ARM_CLIENT_CERTIFICATE_PATH",
    "Path of a PKCS#12 bundle (`.pfx`/`.p12`: an RSA certificate registered on the application and its private key) \
     to sign in as the service principal with `client_id` and `tenant_id`. Used before a client secret.",
);
/// `client_certificate`.
pub const CLIENT_CERTIFICATE: Setting = Setting::string(
    "client_certificate",
    "ARM_CLIENT_CERTIFICATE",
    "The PKCS#12 bundle itself, base64-encoded (instead of `client_certificate_path`).",
)
.sensitive();
/// `client_certificate_password`.
pub const CLIENT_CERTIFICATE_PASSWORD: Setting = Setting::string(
    "client_certificate_password",
    "ARM_CLIENT_CERTIFICATE_PASSWORD",
    "Password of the PKCS#12 bundle (empty when it has none).",
)
.sensitive();
/// `environment`.
pub const ENVIRONMENT: Setting =
    Setting::string("environment", "ARM_ENVIRONMENT", "Cloud: `public` (default), `usgovernment` or `china`.");
/// `msi_endpoint`.
pub const MSI_ENDPOINT: Setting = Setting::string(
    "msi_endpoint",
    "ARM_MSI_ENDPOINT",
    "Base URL of the Instance Metadata Service for `use_msi` (default the link-local IMDS).",
);
/// `arm_endpoint`.
pub const ARM_ENDPOINT: Setting = Setting::string(
    "arm_endpoint",
    "JOINERY_ARM_ENDPOINT",
    "ARM base URL overriding the cloud's (Azure Stack, the devstack).",
);
/// `authority_host`.
pub const AUTHORITY_HOST: Setting = Setting::string(
    "authority_host",
    "JOINERY_AZURE_AUTHORITY_HOST",
    "Entra ID authority URL overriding the cloud's (Azure Stack, the devstack).",
);
/// `ca_file`.
pub const CA_FILE: Setting = Setting::string(
    "ca_file",
    "JOINERY_AZURE_CA_FILE",
    "PEM file of extra CA certificates to trust for ARM and Entra ID (Azure Stack, the devstack).",
);
/// `use_msi`.
pub const USE_MSI: Setting = Setting::flag(
    "use_msi",
    "ARM_USE_MSI",
    false,
    "Authenticate with a managed identity (IMDS) when no client secret is configured.",
);
/// `use_cli`.
pub const USE_CLI: Setting = Setting::flag(
    "use_cli",
    "ARM_USE_CLI",
    true,
    "Authenticate with the Azure CLI (`az account get-access-token`) when neither a client secret nor `use_msi` \
     applies. Default `true`.",
);

/// `use_oidc`.
pub const USE_OIDC: Setting = Setting::flag(
    "use_oidc",
    "ARM_USE_OIDC",
    false,
    "Authenticate with workload identity federation: an OIDC token from the CI (`oidc_token`, \
     `oidc_token_file_path`, or requested with `oidc_request_url` / `oidc_request_token`) exchanged with Entra ID \
     for the application `client_id`, which must have a federated identity credential for the token's issuer and \
     subject. No secret is stored anywhere.",
);
/// `oidc_token`.
pub const OIDC_TOKEN: Setting =
    Setting::string("oidc_token", "ARM_OIDC_TOKEN", "An OIDC ID token to exchange (with `use_oidc`).").sensitive();
/// `oidc_token_file_path`.
pub const OIDC_TOKEN_FILE_PATH: Setting = Setting::string(
    "oidc_token_file_path",
    "ARM_OIDC_TOKEN_FILE_PATH",
    "File holding the OIDC ID token (with `use_oidc`; re-read on each use, as Kubernetes rotates it).",
)
.or_env("AZURE_FEDERATED_TOKEN_FILE");
/// `oidc_request_url`.
pub const OIDC_REQUEST_URL: Setting = Setting::string(
    "oidc_request_url",
    "ARM_OIDC_REQUEST_URL",
    "The CI's token service (with `use_oidc`): GitHub Actions' `ACTIONS_ID_TOKEN_REQUEST_URL`, or Azure Pipelines' \
     `SYSTEM_OIDCREQUESTURI` together with `ado_pipeline_service_connection_id`.",
)
.or_env("ACTIONS_ID_TOKEN_REQUEST_URL");
/// `oidc_request_token`.
pub const OIDC_REQUEST_TOKEN: Setting = Setting::string(
    "oidc_request_token",
    "ARM_OIDC_REQUEST_TOKEN",
    "Bearer token for `oidc_request_url`: GitHub Actions' `ACTIONS_ID_TOKEN_REQUEST_TOKEN` or Azure Pipelines' \
     `SYSTEM_ACCESSTOKEN`.",
)
.or_env("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
.sensitive();
/// `ado_pipeline_service_connection_id`.
pub const ADO_PIPELINE_SERVICE_CONNECTION_ID: Setting = Setting::string(
    "ado_pipeline_service_connection_id",
    "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID",
    "Azure Pipelines: the Azure Resource Manager service connection (workload identity federation) whose token \
     `oidc_request_url` issues.",
)
.or_env("ARM_OIDC_AZURE_SERVICE_CONNECTION_ID");

const SETTINGS: &[Setting] = &[
    SUBSCRIPTION_ID,
    TENANT_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    CLIENT_CERTIFICATE_PATH,
    CLIENT_CERTIFICATE,
    CLIENT_CERTIFICATE_PASSWORD,
    ENVIRONMENT,
    MSI_ENDPOINT,
    ARM_ENDPOINT,
    AUTHORITY_HOST,
    CA_FILE,
    USE_MSI,
    USE_CLI,
    USE_OIDC,
    OIDC_TOKEN,
    OIDC_TOKEN_FILE_PATH,
    OIDC_REQUEST_URL,
    OIDC_REQUEST_TOKEN,
    ADO_PIPELINE_SERVICE_CONNECTION_ID,
];

/// The path of one of the block's settings, for diagnostics.
pub fn path(setting: &Setting) -> AttributePath {
    AttributePath::root(BLOCK).attr(setting.name)
}

/// The `azure` attribute of the provider schema.
pub fn schema_attribute() -> Attribute {
    Attribute::single_nested(BLOCK, SETTINGS.iter().map(Setting::attribute)).optional().description(
        "Azure settings, used only by the Azure resources and data sources (`teleport_azure_*`); Azure is contacted \
         only when one of them is used. Every setting is optional and falls back to an azurerm-style environment \
         variable (`ARM_*`, not `TF_TELEPORT_*`).",
    )
}

/// Resolved Azure settings: the model of the `azure` block once every
/// setting is resolved.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AzureSettings {
    /// Default subscription.
    pub subscription_id: Option<String>,
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Client id.
    pub client_id: Option<String>,
    /// Client secret (secret).
    pub client_secret: Option<String>,
    /// PKCS#12 bundle file.
    pub client_certificate_path: Option<String>,
    /// PKCS#12 bundle, base64 (secret).
    pub client_certificate: Option<String>,
    /// Its password (secret).
    pub client_certificate_password: Option<String>,
    /// `environment`.
    pub environment: Option<String>,
    /// IMDS base URL.
    pub msi_endpoint: Option<String>,
    /// ARM base URL override.
    pub arm_endpoint: Option<String>,
    /// Authority override.
    pub authority_host: Option<String>,
    /// Extra CA file.
    pub ca_file: Option<String>,
    /// `use_msi`.
    pub use_msi: bool,
    /// `use_cli`.
    pub use_cli: bool,
    /// `use_oidc`.
    pub use_oidc: bool,
    /// A given OIDC token (secret).
    pub oidc_token: Option<String>,
    /// A file holding the OIDC token.
    pub oidc_token_file_path: Option<String>,
    /// The CI's token service.
    pub oidc_request_url: Option<String>,
    /// Its bearer token (secret).
    pub oidc_request_token: Option<String>,
    /// Azure Pipelines service connection.
    pub ado_pipeline_service_connection_id: Option<String>,
}

impl std::fmt::Debug for AzureSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureSettings")
            .field("subscription_id", &self.subscription_id)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("client_certificate_path", &self.client_certificate_path)
            .field("client_certificate", &self.client_certificate.as_ref().map(|_| "<redacted>"))
            .field("client_certificate_password", &self.client_certificate_password.as_ref().map(|_| "<redacted>"))
            .field("environment", &self.environment)
            .field("arm_endpoint", &self.arm_endpoint)
            .field("use_msi", &self.use_msi)
            .field("use_cli", &self.use_cli)
            .field("use_oidc", &self.use_oidc)
            .field("oidc_token", &self.oidc_token.as_ref().map(|_| "<redacted>"))
            .field("oidc_token_file_path", &self.oidc_token_file_path)
            .field("oidc_request_url", &self.oidc_request_url)
            .field("oidc_request_token", &self.oidc_request_token.as_ref().map(|_| "<redacted>"))
            .field("ado_pipeline_service_connection_id", &self.ado_pipeline_service_connection_id)
            .finish_non_exhaustive()
    }
}

/// The block (an object, or null when absent) with every setting resolved,
/// ready to decode as [`AzureSettings`]. Unlike the `TF_TELEPORT_*`
/// variables, `ARM_*` values are trimmed, as azurerm does.
pub(super) fn resolve(block: &Value, env: &dyn Fn(&str) -> Option<String>) -> Value {
    resolve_all(SETTINGS, block, &|name| env(name).map(|v| v.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use joinery_tfplugin::framework::model;

    use super::*;

    impl AzureSettings {
        fn resolve(azure: &Value, env: impl Fn(&str) -> Option<String>) -> AzureSettings {
            model::from_value(&resolve(azure, &env)).unwrap()
        }
    }

    #[test]
    fn config_beats_env_and_flags_default() {
        let env = |k: &str| match k {
            "ARM_TENANT_ID" => Some("t-env".to_string()),
            "ARM_CLIENT_SECRET" => Some("s".to_string()),
            "JOINERY_ARM_ENDPOINT" => Some("https://127.0.0.1:1".to_string()),
            "ARM_USE_MSI" => Some("true".to_string()),
            _ => None,
        };
        let s = AzureSettings::resolve(
            &Value::object([("tenant_id", Value::from("t-cfg")), ("use_msi", Value::from(false))]),
            env,
        );
        assert_eq!(s.tenant_id.as_deref(), Some("t-cfg"));
        assert_eq!(s.arm_endpoint.as_deref(), Some("https://127.0.0.1:1"));
        assert!(!s.use_msi && s.use_cli);
        assert!(!format!("{s:?}").contains("\"s\""), "secret redacted");
        let s = AzureSettings::resolve(&Value::Null, env);
        assert!(s.use_msi);
        assert_eq!(s.tenant_id.as_deref(), Some("t-env"));
    }

    #[test]
    fn schema_has_descriptions() {
        let a = schema_attribute();
        let (_, nested) = a.nested_attributes().unwrap();
        assert!(nested.iter().all(|n| !n.description.is_empty() && n.optional));
        assert!(nested.iter().any(|n| n.name == "client_secret" && n.sensitive));
        assert!(nested.iter().any(|n| n.name == "oidc_request_token" && n.sensitive));
        assert!(nested.iter().any(|n| n.name == "oidc_token" && n.sensitive));
        assert!(nested.iter().any(|n| n.name == "client_certificate" && n.sensitive));
        assert!(nested.iter().any(|n| n.name == "client_certificate_password" && n.sensitive));
    }
}
