//! Teleport's YAML resource format (`kind`, `version`, `metadata`, `spec`) for tokens and bots,
//! and its conversion from and to the API's protobuf types.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use joinery_teleport::proto::teleport::header::v1::Metadata as HeaderMetadata;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec, Trait};
use joinery_teleport::proto::types::{
    Metadata, ProvisionTokenSpecV2, ProvisionTokenSpecV2Azure, ProvisionTokenV2, TokenRule,
    provision_token_spec_v2_azure,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Header {
    pub(super) kind: String,
}

/// Resource metadata as Teleport writes it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MetaYaml {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revision: Option<String>,
    #[serde(default, skip_serializing)]
    namespace: Option<String>,
}

/// Converts between [`MetaYaml`] and a proto metadata type. Tokens (`types.Metadata`) and bots
/// (`teleport.header.v1.Metadata`) carry the same fields in two generated types.
macro_rules! metadata_conversions {
    ($($proto:ty),+) => {$(
        impl From<$proto> for MetaYaml {
            fn from(m: $proto) -> MetaYaml {
                MetaYaml {
                    name: m.name,
                    description: Some(m.description).filter(|d| !d.is_empty()),
                    labels: m.labels.into_iter().collect(),
                    expires: m.expires.as_ref().map(fmt_timestamp),
                    revision: Some(m.revision).filter(|r| !r.is_empty()),
                    namespace: None,
                }
            }
        }

        impl TryFrom<MetaYaml> for $proto {
            type Error = anyhow::Error;

            fn try_from(y: MetaYaml) -> Result<Self> {
                Ok(Self {
                    expires: y.expires.as_deref().map(parse_time).transpose()?,
                    name: y.name,
                    namespace: y.namespace.unwrap_or_default(),
                    description: y.description.unwrap_or_default(),
                    labels: y.labels.into_iter().collect(),
                    revision: y.revision.unwrap_or_default(),
                })
            }
        }
    )+};
}

metadata_conversions!(Metadata, HeaderMetadata);

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenYaml {
    kind: String,
    version: String,
    metadata: MetaYaml,
    spec: TokenSpecYaml,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenSpecYaml {
    roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    join_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bot_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    allow: Vec<TokenRuleYaml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    azure: Option<AzureYaml>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    suggested_labels: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenRuleYaml {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    aws_account: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    aws_regions: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    aws_role: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    aws_arn: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AzureYaml {
    allow: Vec<AzureRuleYaml>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AzureRuleYaml {
    #[serde(default)]
    subscription: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    resource_groups: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BotYaml {
    kind: String,
    #[serde(default = "v1")]
    version: String,
    metadata: MetaYaml,
    spec: BotSpecYaml,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<BotStatusYaml>,
}

pub(super) fn v1() -> String {
    "v1".into()
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BotSpecYaml {
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    traits: Vec<TraitYaml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_session_ttl: Option<DurationYaml>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TraitYaml {
    name: String,
    #[serde(default)]
    values: Vec<String>,
}

/// A protobuf Duration as `tctl get bot/x` shows it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DurationYaml {
    seconds: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BotStatusYaml {
    user_name: String,
    role_name: String,
}

pub(super) fn parse_time(s: &str) -> Result<prost_types::Timestamp> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("metadata.expires: {s:?} is not an RFC 3339 time"))?;
    Ok(prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 })
}

pub(super) fn fmt_timestamp(t: &prost_types::Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(t.seconds)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

pub(super) fn token_from_yaml(y: TokenYaml) -> Result<ProvisionTokenV2> {
    Ok(ProvisionTokenV2 {
        kind: y.kind,
        sub_kind: String::new(),
        version: y.version,
        metadata: Some(y.metadata.try_into()?),
        spec: Some(ProvisionTokenSpecV2 {
            roles: y.spec.roles,
            join_method: y.spec.join_method.unwrap_or_default(),
            bot_name: y.spec.bot_name.unwrap_or_default(),
            allow: y
                .spec
                .allow
                .into_iter()
                .map(|r| TokenRule {
                    aws_account: r.aws_account,
                    aws_regions: r.aws_regions,
                    aws_role: r.aws_role,
                    awsarn: r.aws_arn,
                })
                .collect(),
            azure: y.spec.azure.map(|a| ProvisionTokenSpecV2Azure {
                allow: a
                    .allow
                    .into_iter()
                    .map(|r| provision_token_spec_v2_azure::Rule {
                        subscription: r.subscription,
                        resource_groups: r.resource_groups,
                    })
                    .collect(),
            }),
            suggested_labels: if y.spec.suggested_labels.is_empty() {
                None
            } else {
                Some(joinery_teleport::proto::wrappers::LabelValues {
                    values: y
                        .spec
                        .suggested_labels
                        .into_iter()
                        .map(|(k, v)| (k, joinery_teleport::proto::wrappers::StringValues { values: v }))
                        .collect(),
                })
            },
            ..Default::default()
        }),
        status: None,
    })
}

pub(super) fn token_to_yaml(t: &ProvisionTokenV2) -> TokenYaml {
    let m = t.metadata.clone().unwrap_or_default();
    let s = t.spec.clone().unwrap_or_default();
    TokenYaml {
        kind: t.kind.clone(),
        version: t.version.clone(),
        metadata: m.into(),
        spec: TokenSpecYaml {
            roles: s.roles,
            join_method: Some(s.join_method).filter(|j| !j.is_empty()),
            bot_name: Some(s.bot_name).filter(|b| !b.is_empty()),
            allow: s
                .allow
                .into_iter()
                .map(|r| TokenRuleYaml {
                    aws_account: r.aws_account,
                    aws_regions: r.aws_regions,
                    aws_role: r.aws_role,
                    aws_arn: r.awsarn,
                })
                .collect(),
            azure: s.azure.map(|a| AzureYaml {
                allow: a
                    .allow
                    .into_iter()
                    .map(|r| AzureRuleYaml { subscription: r.subscription, resource_groups: r.resource_groups })
                    .collect(),
            }),
            suggested_labels: s
                .suggested_labels
                .map(|l| l.values.into_iter().map(|(k, v)| (k, v.values)).collect())
                .unwrap_or_default(),
        },
    }
}

pub(super) fn bot_from_yaml(y: BotYaml) -> Result<Bot> {
    Ok(Bot {
        kind: y.kind,
        sub_kind: String::new(),
        version: y.version,
        metadata: Some(y.metadata.try_into()?),
        spec: Some(BotSpec {
            roles: y.spec.roles,
            traits: y.spec.traits.into_iter().map(|t| Trait { name: t.name, values: t.values }).collect(),
            max_session_ttl: y.spec.max_session_ttl.map(|d| prost_types::Duration { seconds: d.seconds, nanos: 0 }),
        }),
        status: None,
        scope: String::new(),
    })
}

pub(super) fn bot_to_yaml(b: &Bot) -> BotYaml {
    let m = b.metadata.clone().unwrap_or_default();
    let s = b.spec.clone().unwrap_or_default();
    BotYaml {
        kind: b.kind.clone(),
        version: b.version.clone(),
        metadata: m.into(),
        spec: BotSpecYaml {
            roles: s.roles,
            traits: s.traits.into_iter().map(|t| TraitYaml { name: t.name, values: t.values }).collect(),
            max_session_ttl: s.max_session_ttl.map(|d| DurationYaml { seconds: d.seconds }),
        },
        status: b.status.clone().map(|s| BotStatusYaml { user_name: s.user_name, role_name: s.role_name }),
    }
}
