//! `joinery-devstack tctl`: an admin CLI in the spirit of Teleport's `tctl`.
//!
//! It is a genuine client of the gRPC API (it uses the admin identity that
//! `up` wrote), so everything it does goes through the same checks as the
//! Terraform provider. Resources are read and printed in Teleport's YAML
//! resource format (`kind`, `version`, `metadata`, `spec`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use joinery_teleport::proto::teleport::header::v1::Metadata as HeaderMetadata;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec};
use joinery_teleport::proto::types::{Metadata, ProvisionTokenSpecV2, ProvisionTokenV2};
use joinery_teleport::{Client, ClientConfig, Credentials, RetryPolicy};
use serde::Serialize;
use serde_yaml_ng::Value as Yaml;

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

mod yaml;

use yaml::{BOT, TOKEN, from_yaml, kind_of, to_yaml};

// ---- Commands -------------------------------------------------------------

async fn create(client: &Client, file: &Path, force: bool) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let resource: Yaml =
        serde_yaml_ng::from_str(&text).with_context(|| format!("{}: not a Teleport resource", file.display()))?;
    match kind_of(&resource).unwrap_or_default() {
        "token" => {
            let token: ProvisionTokenV2 =
                from_yaml(TOKEN, &resource).with_context(|| format!("{}: invalid token", file.display()))?;
            let name = token.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
            if force {
                client.upsert_token(token).await?;
            } else {
                client.create_token(token).await?;
            }
            println!("provision_token {:?} has been {}", mask(&name), if force { "updated" } else { "created" });
        }
        "bot" => {
            let bot: Bot = from_yaml(BOT, &resource).with_context(|| format!("{}: invalid bot", file.display()))?;
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
        Some(("token" | "tokens", name)) => print(&[to_yaml(TOKEN, &client.get_token(name).await?)?], format),
        Some(("bot" | "bots", name)) => print(&[to_yaml(BOT, &client.get_bot(name).await?)?], format),
        None if resource == "tokens" || resource == "token" => {
            let tokens: Vec<Yaml> =
                client.get_tokens().await?.iter().map(|t| to_yaml(TOKEN, t)).collect::<Result<_>>()?;
            print(&tokens, format)
        }
        None if resource == "bots" || resource == "bot" => {
            let bots: Vec<Yaml> = client.list_bots().await?.iter().map(|b| to_yaml(BOT, b)).collect::<Result<_>>()?;
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
