//! Parsing, validating and rendering whole files (moved here from the
//! agent's `config::tests` with the code they test).

// A test binary links every dependency of its package; unused ones are
// caught on the library target.
#![allow(unused_crate_dependencies)]

use std::time::Duration;

use joinery_tbot_config::bootstrap::{Bootstrap, IdentityDirectory};
use joinery_tbot_config::onboarding::azure::AzureOnboarding;
use joinery_tbot_config::{
    BotConfig, Config, ConfigError, DEFAULT_CREDENTIAL_TTL, DEFAULT_RENEWAL_INTERVAL, Destination, JoinMethod, Output,
    Server, Source,
};

const SEED: &str = include_str!("../testdata/seed.yaml");

fn parse(text: &str) -> Result<Config, ConfigError> {
    let src = Source::new("tbot.yaml", text);
    BotConfig::parse(&src)?.validate(&src)
}

#[test]
fn seed_parses() {
    let c = parse(SEED).unwrap();
    assert_eq!(c.server, Server::Proxy("example.teleport.sh:443".into()));
    assert_eq!(
        c.onboarding.method,
        JoinMethod::Azure(AzureOnboarding { client_id: Some("22222222-2222-2222-2222-222222222222".into()) })
    );
    assert_eq!(c.storage, Destination::Memory);
    assert_eq!(c.credential_ttl, DEFAULT_CREDENTIAL_TTL.value());
    assert_eq!(c.renewal_interval, DEFAULT_RENEWAL_INTERVAL.value());
    assert_eq!(c.onboarding.token.masked(), "********bot");
}

#[test]
fn errors_name_key_and_line() {
    let e = parse("version: v2\nauth_server: a:3025\nonboarding:\n  token: x\n  tokn: y\n").unwrap_err().to_string();
    assert!(e.contains("tokn") && e.contains("line 5"), "{e}");
    let e =
        parse("version: v2\nauth_server: a:3025\noneshot: maybe\nonboarding: {token: x}\n").unwrap_err().to_string();
    assert!(e.contains("oneshot") && e.contains("line 3"), "{e}");
    let e = parse("version: v2\nauth_server: a:3025\nonboarding: {token: x}\nrenewal_interval: 1h\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("renewal_interval (line 4)"), "{e}");
    let e =
        parse("version: v2\nauth_server: a:3025\nonboarding: {token: x}\ncredential_ttl: 5\n").unwrap_err().to_string();
    assert!(e.contains("credential_ttl") && e.contains("line 4"), "{e}");
    let e = parse("version: v1\n").unwrap_err().to_string();
    assert!(e.contains("only version v2"), "{e}");
    let e = parse("").unwrap_err().to_string();
    assert!(e.contains("version") && e.contains("v2"), "{e}");
    let e = parse("version: v2\nauth_server: a\n").unwrap_err().to_string();
    assert!(e.contains("onboarding.token"), "{e}");
    let e = parse("version: v2\nauth_server: a\nproxy_server: b\nonboarding: {token: x}\n").unwrap_err().to_string();
    assert!(e.contains("mutually exclusive"), "{e}");
    let e = parse("version: v2\nauth_server: a\nfips: true\nonboarding: {token: x}\n").unwrap_err().to_string();
    assert!(e.contains("fips (line 3)"), "{e}");
    let e = parse(
        "version: v2\nauth_server: a\nonboarding:\n  join_method: azure\n  token: x\n  azure:\n    client_id: nope\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("onboarding.azure.client_id (line 7)"), "{e}");
    let e =
        parse("version: v2\nauth_server: a\nonboarding: {token: x, join_method: gitlab}\n").unwrap_err().to_string();
    assert!(e.contains("gitlab") && e.contains("line 3"), "{e}");
    let e = parse("version: v2\nauth_server: a\nonboarding: {token: x}\noutputs:\n  - type: database\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("outputs[0]") && e.contains("line 5"), "{e}");
}

#[test]
fn defaults_and_short_values() {
    let c = parse(
        "version: v2\nauth_server: localhost\nonboarding: {token: abc}\nrenewal_interval: 2s\ncertificate_ttl: 1m\nstorage: {memory: true}\noutputs:\n - type: identity\n   destination: {type: directory, path: /tmp/x}\n   roles: [access]\n   ssh_config: off\n",
    )
    .unwrap();
    assert_eq!(c.server, Server::Auth("localhost:3025".into()));
    assert_eq!(c.renewal_interval, Duration::from_secs(2));
    assert_eq!(c.credential_ttl, Duration::from_secs(60));
    assert_eq!(c.storage, Destination::Memory);
    let Output::Identity(output) = &c.outputs[0];
    assert!(!output.ssh_config);
    let c = parse("version: v2\nauth_server: a:1\nonboarding: {token: abc}\ncertificate_ttl: 1m\ncredential_ttl: 2h\n")
        .unwrap();
    assert_eq!(c.credential_ttl, Duration::from_secs(7200));
}

#[test]
fn the_token_is_kept_as_written_for_the_agent_to_read() {
    let c = parse("version: v2\nauth_server: a\nonboarding: {token: /nonexistent/token}\n").unwrap();
    assert_eq!(c.onboarding.token.value(), "/nonexistent/token");
    let c = parse("version: v2\nauth_server: a\nonboarding: {token: x, ca_path: /nonexistent/ca.pem}\n").unwrap();
    assert_eq!(c.onboarding.ca_path.as_deref(), Some(std::path::Path::new("/nonexistent/ca.pem")));
}

#[test]
fn every_part_reports_its_first_problem() {
    let text = "version: v2\nauth_server: a\nproxy_server: b\nonboarding: {}\noutputs:\n  - type: identity\n  - type: identity\n    destination: {type: memory}\n    roles: ['']\nrenewal_interval: 2h\n";
    let src = Source::new("tbot.yaml", text);
    let errors = BotConfig::parse(&src).unwrap().validate_all(&src).unwrap_err();
    let keys: Vec<_> = errors.iter().map(|e| e.key().unwrap()).collect();
    assert_eq!(
        keys,
        ["proxy_server", "onboarding.token", "outputs[0].destination", "outputs[1].roles", "renewal_interval"]
    );
    // `validate` reports the first one, as the agent prints it.
    assert_eq!(BotConfig::parse(&src).unwrap().validate(&src).unwrap_err(), errors[0]);
}

#[test]
fn a_parsed_file_renders_back_to_the_same_model() {
    let text = "version: v2\nproxy_server: p:443\nonboarding:\n  join_method: azure\n  token: t\n  ca_pins: []\n  azure: {client_id: 22222222-2222-2222-2222-222222222222}\nstorage: {memory: true}\noutputs:\n  - destination: {path: /a}\n    type: identity\n    roles: [x]\n    cluster: leaf\n    ssh_config: off\nservices:\n  - type: identity\n    destination: {type: memory}\ncertificate_ttl: 90m\nrenewal_interval: 20m\ndiag_addr: 127.0.0.1:3000\ndebug: true\n";
    let src = Source::new("tbot.yaml", text);
    let model = BotConfig::parse(&src).unwrap();
    let yaml = model.to_yaml().unwrap();
    let again = BotConfig::parse(&Source::new("rendered", &yaml)).unwrap();
    assert_eq!(again, model, "{yaml}");
    // The spelling of durations is kept; unset keys are left out; each output starts with its type.
    assert!(yaml.contains("certificate_ttl: 90m\n"), "{yaml}");
    assert!(!yaml.contains("credential_ttl") && !yaml.contains("insecure"), "{yaml}");
    assert!(yaml.contains("outputs:\n- type: identity\n  destination:\n    path: /a\n"), "{yaml}");
}

/// The keys and values `teleport_agent_config` has always rendered.
#[test]
fn a_vm_bootstrap_renders_the_data_source_yaml() {
    let vm = Bootstrap {
        proxy_server: Some("teleport.example.com:443".into()),
        token: "azure-bot: tricky # value".into(),
        azure_client_id: Some("22222222-2222-2222-2222-222222222222".into()),
        outputs: vec![IdentityDirectory { path: "/opt/machine-id".into(), roles: vec!["access".into()] }],
        ..Bootstrap::default()
    };
    let yaml = vm.tbot_yaml().unwrap();
    let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    let want: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        r#"
version: v2
proxy_server: teleport.example.com:443
onboarding:
  join_method: azure
  token: 'azure-bot: tricky # value'
  azure:
    client_id: 22222222-2222-2222-2222-222222222222
storage:
  type: memory
outputs:
- type: identity
  destination:
    type: directory
    path: /opt/machine-id
  roles:
  - access
certificate_ttl: 1h
renewal_interval: 20m
oneshot: false
"#,
    )
    .unwrap();
    assert_eq!(parsed, want, "{yaml}");
    let config = vm.validate().unwrap();
    assert_eq!(config.storage, Destination::Memory);

    // A token join leaves out the Azure block; pins and a CA path are kept.
    let token_vm = Bootstrap {
        auth_server: Some("auth:3025".into()),
        proxy_server: None,
        join_method: Some(joinery_tbot_config::JoinMethodName::Token),
        ca_pins: vec![format!("sha256:{}", "a".repeat(64))],
        ca_path: Some("/etc/ca.pem".into()),
        outputs: vec![],
        certificate_ttl: Some("2h".into()),
        renewal_interval: Some("30m".into()),
        oneshot: true,
        ..vm
    };
    let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(&token_vm.tbot_yaml().unwrap()).unwrap();
    assert_eq!(parsed["onboarding"]["join_method"], "token");
    assert!(parsed["onboarding"].get("azure").is_none());
    assert_eq!(parsed["onboarding"]["ca_path"], "/etc/ca.pem");
    assert_eq!(parsed["outputs"], serde_yaml_ng::Value::Sequence(vec![]));
    assert_eq!(parsed["certificate_ttl"], "2h");
    assert_eq!(parsed["oneshot"], true);
}

#[test]
fn a_vm_bootstrap_reports_problems_by_input() {
    let vm = Bootstrap {
        auth_server: Some("a:3025".into()),
        proxy_server: Some("p:443".into()),
        token: "t".into(),
        renewal_interval: Some("2h".into()),
        ..Bootstrap::default()
    };
    let errors = vm.validate().unwrap_err();
    let inputs: Vec<_> = errors.iter().filter_map(|e| Bootstrap::input_for_key(e.key()?)).collect();
    assert_eq!(inputs, ["proxy_server", "renewal_interval"]);
    let bad = Bootstrap { certificate_ttl: Some("soon".into()), renewal_interval: Some("1x".into()), ..vm };
    let errors = bad.validate().unwrap_err();
    let keys: Vec<_> = errors.iter().filter_map(|e| e.key()).collect();
    assert_eq!(keys, ["certificate_ttl", "renewal_interval"]);
}
