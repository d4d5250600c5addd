//! `joinery-devstack tctl`: an admin CLI in the spirit of Teleport's `tctl`.
//!
//! It is a genuine client of the gRPC API (it uses the admin identity that
//! `up` wrote), so everything it does goes through the same checks as the
//! Terraform provider. Resources are read and printed in Teleport's YAML
//! resource format (`kind`, `version`, `metadata`, `spec`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use joinery_teleport::proto::teleport::header::v1::Metadata as HeaderMetadata;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec, Trait};
use joinery_teleport::proto::types::{
    Metadata, ProvisionTokenSpecV2, ProvisionTokenSpecV2Azure, ProvisionTokenV2, TokenRule,
    provision_token_spec_v2_azure,
};
use joinery_teleport::{Client, ClientConfig, Credentials, RetryPolicy};
use serde::{Deserialize, Serialize};

use crate::up::DevstackInfo;

/// tctl subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a resource from a YAML file (`kind: token` or `kind: bot`).
    Create {
        /// Resource file.
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Overwrite an existing resource.
        #[arg(long)]
        force: bool,
    },
    /// Print resources: token/NAME, bot/NAME, tokens, bots.
    Get {
        /// What to get.
        resource: String,
        /// Output format.
        #[arg(long, default_value = "yaml", value_parser = ["yaml", "json"])]
        format: String,
    },
    /// Delete a resource: token/NAME or bot/NAME.
    Rm {
        /// What to delete.
        resource: String,
    },
    /// Manage bots.
    Bots {
        /// What to do with them.
        #[command(subcommand)]
        command: BotsCommand,
    },
}

/// `tctl bots` subcommands.
#[derive(Debug, Subcommand)]
pub enum BotsCommand {
    /// Add a bot with the given roles, and a token to join with.
    Add {
        /// Bot name.
        name: String,
        /// Roles the bot may impersonate, comma separated.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Name of an existing token to join with; a new one is created otherwise.
        #[arg(long)]
        token: Option<String>,
    },
    /// List bots.
    Ls,
    /// Remove a bot.
    Rm {
        /// Bot name.
        name: String,
    },
}

/// Runs a tctl command against the devstack in `dir`.
pub async fn run(dir: &Path, command: Command) -> Result<()> {
    let client = connect(dir).await?;
    match command {
        Command::Create { file, force } => create(&client, &file, force).await,
        Command::Get { resource, format } => get(&client, &resource, &format).await,
        Command::Rm { resource } => rm(&client, &resource).await,
        Command::Bots { command } => bots(&client, command).await,
    }
}

async fn connect(dir: &Path) -> Result<Client> {
    let info = DevstackInfo::load(dir)?;
    let creds = Credentials::from_identity_file(&info.teleport.admin_identity_file)?;
    Ok(Client::connect(ClientConfig {
        addr: info.teleport.addr.clone(),
        tls: creds.tls_settings(),
        retry: RetryPolicy { base: Duration::from_millis(100), cap: Duration::from_secs(1), max_tries: 3 },
        dial_timeout: Duration::from_secs(5),
    })
    .await?)
}

// ---- Teleport's YAML resource format ------------------------------------

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    kind: String,
}

/// Resource metadata as Teleport writes it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaYaml {
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
struct TokenYaml {
    kind: String,
    version: String,
    metadata: MetaYaml,
    spec: TokenSpecYaml,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenSpecYaml {
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
struct TokenRuleYaml {
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
struct AzureYaml {
    allow: Vec<AzureRuleYaml>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AzureRuleYaml {
    #[serde(default)]
    subscription: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    resource_groups: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BotYaml {
    kind: String,
    #[serde(default = "v1")]
    version: String,
    metadata: MetaYaml,
    spec: BotSpecYaml,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<BotStatusYaml>,
}

fn v1() -> String {
    "v1".into()
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BotSpecYaml {
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    traits: Vec<TraitYaml>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_session_ttl: Option<DurationYaml>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TraitYaml {
    name: String,
    #[serde(default)]
    values: Vec<String>,
}

/// A protobuf Duration as `tctl get bot/x` shows it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DurationYaml {
    seconds: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BotStatusYaml {
    user_name: String,
    role_name: String,
}

fn parse_time(s: &str) -> Result<prost_types::Timestamp> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("metadata.expires: {s:?} is not an RFC 3339 time"))?;
    Ok(prost_types::Timestamp { seconds: t.unix_timestamp(), nanos: t.nanosecond() as i32 })
}

fn fmt_timestamp(t: &prost_types::Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(t.seconds)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn token_from_yaml(y: TokenYaml) -> Result<ProvisionTokenV2> {
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
    })
}

fn token_to_yaml(t: &ProvisionTokenV2) -> TokenYaml {
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

fn bot_from_yaml(y: BotYaml) -> Result<Bot> {
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

fn bot_to_yaml(b: &Bot) -> BotYaml {
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

// ---- Commands -------------------------------------------------------------

async fn create(client: &Client, file: &Path, force: bool) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let header: Header =
        serde_yaml_ng::from_str(&text).with_context(|| format!("{}: not a Teleport resource", file.display()))?;
    match header.kind.as_str() {
        "token" => {
            let y: TokenYaml =
                serde_yaml_ng::from_str(&text).with_context(|| format!("{}: invalid token", file.display()))?;
            let token = token_from_yaml(y).with_context(|| format!("{}", file.display()))?;
            let name = token.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
            if force {
                client.upsert_token(token).await?;
            } else {
                client.create_token(token).await?;
            }
            println!("provision_token {:?} has been {}", mask(&name), if force { "updated" } else { "created" });
        }
        "bot" => {
            let y: BotYaml =
                serde_yaml_ng::from_str(&text).with_context(|| format!("{}: invalid bot", file.display()))?;
            let bot = bot_from_yaml(y)?;
            let name = bot.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
            if force {
                client.upsert_bot(bot).await?;
            } else {
                client.create_bot(bot).await?;
            }
            println!("bot {name:?} has been {}", if force { "updated" } else { "created" });
        }
        other => bail!("{}: unsupported resource kind {other:?} (supported: token, bot)", file.display()),
    }
    Ok(())
}

fn mask(name: &str) -> String {
    crate::teleport::resources::mask(name)
}

fn print<T: Serialize>(items: &[T], format: &str) -> Result<()> {
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(items)?);
    } else {
        let docs: Vec<String> = items.iter().map(serde_yaml_ng::to_string).collect::<Result<_, _>>()?;
        print!("{}", docs.join("---\n"));
    }
    Ok(())
}

async fn get(client: &Client, resource: &str, format: &str) -> Result<()> {
    match resource.split_once('/') {
        Some(("token" | "tokens", name)) => print(&[token_to_yaml(&client.get_token(name).await?)], format),
        Some(("bot" | "bots", name)) => print(&[bot_to_yaml(&client.get_bot(name).await?)], format),
        None if resource == "tokens" || resource == "token" => {
            let tokens: Vec<TokenYaml> = client.get_tokens().await?.iter().map(token_to_yaml).collect();
            print(&tokens, format)
        }
        None if resource == "bots" || resource == "bot" => {
            let bots: Vec<BotYaml> = client.list_bots().await?.iter().map(bot_to_yaml).collect();
            print(&bots, format)
        }
        _ => bail!("unsupported resource {resource:?} (use token/NAME, bot/NAME, tokens or bots)"),
    }
}

async fn rm(client: &Client, resource: &str) -> Result<()> {
    match resource.split_once('/') {
        Some(("token", name)) => {
            client.delete_token(name).await?;
            println!("token {:?} has been deleted", mask(name));
        }
        Some(("bot", name)) => {
            client.delete_bot(name).await?;
            println!("bot {name:?} has been deleted");
        }
        _ => bail!("unsupported resource {resource:?} (use token/NAME or bot/NAME)"),
    }
    Ok(())
}

async fn bots(client: &Client, command: BotsCommand) -> Result<()> {
    match command {
        BotsCommand::Add { name, roles, token } => {
            let bot = Bot {
                kind: "bot".into(),
                version: "v1".into(),
                metadata: Some(HeaderMetadata { name: name.clone(), ..Default::default() }),
                spec: Some(BotSpec { roles, ..Default::default() }),
                ..Default::default()
            };
            let bot = client.create_bot(bot).await?;
            let token_name = match token {
                Some(t) => t,
                None => {
                    let value = hex::encode(rand::random::<[u8; 16]>());
                    let expires = std::time::SystemTime::now() + Duration::from_secs(3600);
                    client
                        .create_token(ProvisionTokenV2 {
                            kind: "token".into(),
                            version: "v2".into(),
                            metadata: Some(Metadata {
                                name: value.clone(),
                                expires: Some(joinery_teleport::join::timestamp(expires)),
                                ..Default::default()
                            }),
                            spec: Some(ProvisionTokenSpecV2 {
                                roles: vec!["Bot".into()],
                                join_method: "token".into(),
                                bot_name: name.clone(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        })
                        .await?;
                    value
                }
            };
            let status = bot.status.unwrap_or_default();
            println!("Bot {name:?} has been created (user {:?}, role {:?}).", status.user_name, status.role_name);
            println!("The bot can join with the token:\n\n  {token_name}\n");
        }
        BotsCommand::Ls => {
            let bots = client.list_bots().await?;
            println!("{:<24} {:<28} Roles", "Bot", "User");
            println!("{:<24} {:<28} -----", "---", "----");
            for b in bots {
                let name = b.metadata.map(|m| m.name).unwrap_or_default();
                let user = b.status.map(|s| s.user_name).unwrap_or_default();
                let roles = b.spec.map(|s| s.roles.join(",")).unwrap_or_default();
                println!("{name:<24} {user:<28} {roles}");
            }
        }
        BotsCommand::Rm { name } => {
            client.delete_bot(&name).await?;
            println!("Bot {name:?} has been deleted.");
        }
    }
    Ok(())
}
