//! tbot's v2 configuration (`/etc/tbot.yaml`) as one serde model, for
//! everything in Joinery that reads or writes it: `joinery-agent` parses it,
//! the Terraform data source `teleport_agent_config` renders it, and both
//! apply the same defaults and rules. The agent's systemd unit lives here
//! too, for the same reason ([`systemd`]).
//!
//! The model follows tbot's (`lib/tbot/config`): the same keys, the same
//! defaults (1h credentials renewed every 20m, directory storage in
//! `/var/lib/teleport/bot`) and the same strictness (`KnownFields(true)`: a
//! misspelt key is an error, not a silently ignored setting). Every problem
//! is one message naming the key, with its line where the text has it.
//!
//! * [`BotConfig`]: the file as written, every key optional (a command line
//!   can fill gaps). [`BotConfig::parse`] decodes strictly,
//!   [`BotConfig::to_yaml`] renders with unset keys left out.
//! * [`Config`]: the validated result, from [`BotConfig::validate`] (pure: no
//!   file is read; the agent reads a token file and checks `ca_path` after).
//! * Each join method's block is a module of [`onboarding`] and each output
//!   type a module of [`outputs`], owning its keys and rules; adding one is
//!   described in those modules' docs.
//! * [`bootstrap`]: a VM's configuration and unit from a few inputs.
//!
//! # Parsing, as the agent does
//!
//! ```
//! use joinery_tbot_config::{BotConfig, Destination, JoinMethodName, Source};
//!
//! let text = "version: v2\nproxy_server: teleport.example.com\nonboarding:\n  join_method: azure\n  token: my-vms\nstorage:\n  type: memory\n";
//! let src = Source::new("/etc/tbot.yaml", text);
//! let config = BotConfig::parse(&src)?.validate(&src)?;
//! assert_eq!(config.server.addr(), "teleport.example.com:443");
//! assert_eq!(config.onboarding.method.name(), JoinMethodName::Azure);
//! assert_eq!(config.storage, Destination::Memory);
//!
//! let err = BotConfig::parse(&Source::new("tbot.yaml", "version: v2\nonboarding:\n  tokn: x\n")).unwrap_err();
//! assert!(err.to_string().contains("unknown field `tokn`"));
//! # Ok::<(), joinery_tbot_config::ConfigError>(())
//! ```
//!
//! # Rendering a VM's bootstrap, as `teleport_agent_config` does
//!
//! ```
//! use joinery_tbot_config::bootstrap::{Bootstrap, IdentityDirectory};
//! use joinery_tbot_config::systemd::{DEFAULT_AGENT_PATH, DEFAULT_CONFIG_PATH};
//!
//! let vm = Bootstrap {
//!     proxy_server: Some("teleport.example.com:443".into()),
//!     token: "my-vms".into(),
//!     azure_client_id: Some("22222222-2222-2222-2222-222222222222".into()),
//!     outputs: vec![IdentityDirectory { path: "/opt/machine-id".into(), roles: vec!["access".into()] }],
//!     ..Bootstrap::default()
//! };
//! vm.validate().map_err(|errors| errors[0].clone())?; // each error has a key(): Bootstrap::input_for_key
//! let yaml = vm.tbot_yaml().map_err(|errors| errors[0].clone())?;
//! assert!(yaml.contains("join_method: azure") && yaml.contains("type: memory"));
//! let unit = vm.unit(DEFAULT_AGENT_PATH, DEFAULT_CONFIG_PATH).render();
//! assert!(unit.contains("RestartPreventExitStatus=1 2") && unit.contains("ReadWritePaths=/opt/machine-id"));
//! assert!(!unit.contains("User="));
//!
//! let bad = Bootstrap { renewal_interval: Some("2h".into()), ..vm };
//! let errors = bad.validate().unwrap_err();
//! assert_eq!(errors[0].key(), Some("renewal_interval"));
//! # Ok::<(), joinery_tbot_config::ConfigError>(())
//! ```

pub mod bootstrap;
pub mod destination;
pub mod onboarding;
pub mod outputs;
pub mod systemd;

mod bot_config;
mod config;
mod error;
mod limits;
mod tagged;
mod values;

pub use bot_config::{BotConfig, VERSION};
pub use config::{
    Config, DEFAULT_AUTH_PORT, DEFAULT_CREDENTIAL_TTL, DEFAULT_PROXY_PORT, DEFAULT_RENEWAL_INTERVAL,
    DEFAULT_STORAGE_DIR, Server,
};
pub use destination::{Destination, DestinationConfig, DestinationKind, SymlinkPolicy};
pub use error::{ConfigError, Source};
pub use onboarding::{JoinMethod, JoinMethodName, Onboarding, OnboardingConfig, Token, mask};
pub use outputs::identity::{IdentityOutput, IdentityOutputConfig};
pub use outputs::{Output, OutputConfig};
pub use values::{GoDuration, Switch};
