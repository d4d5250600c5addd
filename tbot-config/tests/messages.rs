//! Every message of the strict decoding and the validation, byte for byte,
//! over a corpus of broken (and a few valid) files: the messages the agent
//! printed before this crate existed (one deliberate exception is marked),
//! so that none changes by accident.

// A test binary links every dependency of its package; unused ones are
// caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_tbot_config::{BotConfig, ConfigError, Source};

fn check(text: &str) -> Result<(), ConfigError> {
    let src = Source::new("tbot.yaml", text);
    BotConfig::parse(&src)?.validate(&src).map(|_| ())
}

/// (file, the message, or `None` for a valid file).
const CASES: &[(&str, Option<&str>)] = &[
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  tokn: x\n",
        Some(
            "invalid config tbot.yaml: onboarding: unknown field `tokn`, expected one of `join_method`, `token`, `ca_pins`, `ca_path`, `azure` at line 5 column 3",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nunknown_key: 1\n",
        Some(
            "invalid config tbot.yaml: unknown field `unknown_key`, expected one of `version`, `proxy_server`, `auth_server`, `onboarding`, `storage`, `outputs`, `services`, `oneshot`, `certificate_ttl`, `credential_ttl`, `renewal_interval`, `debug`, `diag_addr`, `insecure`, `fips` at line 5 column 1",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noneshot: sometimes\n",
        Some(
            "invalid config tbot.yaml: oneshot: invalid type: string \"sometimes\", expected a boolean at line 5 column 10",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs: 3\n",
        Some("invalid config tbot.yaml: outputs: invalid type: integer `3`, expected a sequence at line 5 column 10"),
    ),
    (
        "version: v1\nauth_server: a:1\n",
        Some(
            "invalid config tbot.yaml: version (line 1): is v1: only version v2 is supported; add `version: v2` (run `tbot migrate` for v1 files)",
        ),
    ),
    (
        "auth_server: a:1\nonboarding: {token: x}\n",
        Some(
            "invalid config tbot.yaml: version: is missing: only version v2 is supported; add `version: v2` (run `tbot migrate` for v1 files)",
        ),
    ),
    (
        "",
        Some(
            "invalid config tbot.yaml: version: is missing: only version v2 is supported; add `version: v2` (run `tbot migrate` for v1 files)",
        ),
    ),
    (
        "version: v2\nonboarding: {token: x}\n",
        Some(
            "invalid config tbot.yaml: proxy_server: one of proxy_server or auth_server is required (or --proxy-server / --auth-server)",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nproxy_server: p:443\n",
        Some(
            "invalid config tbot.yaml: proxy_server (line 5): auth_server and proxy_server are mutually exclusive: set one",
        ),
    ),
    (
        "version: v2\nauth_server: a:1\n",
        Some(
            "invalid config tbot.yaml: onboarding.token: a join token is required (onboarding.token, --token or TELEPORT_BOT_TOKEN)",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nrenewal_interval: 2h\n",
        Some(
            "invalid config tbot.yaml: renewal_interval (line 5): 2h0m0s is not shorter than credential_ttl 1h0m0s: credentials would expire before they are renewed",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nrenewal_interval: 20m\ncertificate_ttl: 10m\n",
        Some(
            "invalid config tbot.yaml: renewal_interval (line 5): 20m0s is not shorter than certificate_ttl 10m0s: credentials would expire before they are renewed",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ncredential_ttl: 1x\n",
        Some(
            "invalid config tbot.yaml: credential_ttl: invalid duration \"1x\": unknown unit (use ns, us, ms, s, m or h) at line 5 column 17",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ncertificate_ttl: 0s\n",
        Some("invalid config tbot.yaml: certificate_ttl (line 5): must be a positive duration such as \"1h\""),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nfips: true\n",
        Some("invalid config tbot.yaml: fips (line 5): FIPS mode is not supported by joinery-agent"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  join_method: gitlab\n",
        Some(
            "invalid config tbot.yaml: onboarding.join_method: unknown variant `gitlab`, expected one of `token`, `azure`, `github` at line 5 column 16",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  join_method: azure\n  azure:\n    client_id: not-a-uuid\n",
        Some(
            "invalid config tbot.yaml: onboarding.azure.client_id (line 7): \"not-a-uuid\" is not a UUID (the managed identity's client id, e.g. 22222222-2222-2222-2222-222222222222)",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  ca_pins: [md5:abc]\n",
        Some(
            "invalid config tbot.yaml: onboarding.ca_pins (line 5): \"md5:abc\" is not a pin of the form sha256:<64 hex digits>",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nstorage:\n  type: disk\n",
        Some(
            "invalid config tbot.yaml: storage.type: unknown variant `disk`, expected `directory` or `memory` at line 6 column 9",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nstorage:\n  type: directory\n",
        Some("invalid config tbot.yaml: storage.path: is required for a directory destination"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: database\n",
        Some(
            "invalid config tbot.yaml: outputs[0].type: unknown variant `database`, expected `identity` at line 6 column 11",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n",
        Some("invalid config tbot.yaml: outputs[0].destination: is required"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: directory, path: /tmp/x}\n    ssh_config: maybe\n",
        Some("invalid config tbot.yaml: outputs[0].ssh_config: expected on or off, got \"maybe\" at line 8 column 17"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ndiag_addr: nowhere\n",
        Some("invalid config tbot.yaml: diag_addr (line 5): \"nowhere\" is not host:port, e.g. 127.0.0.1:3000"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nonboarding2: {}\n",
        Some(
            "invalid config tbot.yaml: unknown field `onboarding2`, expected one of `version`, `proxy_server`, `auth_server`, `onboarding`, `storage`, `outputs`, `services`, `oneshot`, `certificate_ttl`, `credential_ttl`, `renewal_interval`, `debug`, `diag_addr`, `insecure`, `fips` at line 5 column 1",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nstorage: 3\n",
        Some(
            "invalid config tbot.yaml: storage: invalid type: integer `3`, expected struct RawDestination at line 5 column 10",
        ),
    ),
    (
        "version: v2\nauth_server: a\nonboarding: 3\n",
        Some(
            "invalid config tbot.yaml: onboarding: invalid type: integer `3`, expected struct RawOnboarding at line 3 column 13",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  azure: 3\n",
        Some(
            "invalid config tbot.yaml: onboarding.azure: invalid type: integer `3`, expected struct RawAzure at line 5 column 10",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  azure: {client: x}\n",
        Some(
            "invalid config tbot.yaml: onboarding.azure: unknown field `client`, expected `client_id` at line 5 column 11",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs: [3]\n",
        Some(
            "invalid config tbot.yaml: outputs[0]: invalid type: integer `3`, expected struct RawOutput at line 5 column 11",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: 3\n",
        Some(
            "invalid config tbot.yaml: outputs[0].destination: invalid type: integer `3`, expected struct RawDestination at line 7 column 18",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: directory, path: /x, mode: 1}\n",
        Some(
            "invalid config tbot.yaml: outputs[0].destination: unknown field `mode`, expected one of `type`, `path`, `memory`, `symlinks` at line 7 column 46",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: directory, path: /x}\n    bogus: 1\n",
        Some(
            "invalid config tbot.yaml: outputs[0]: unknown field `bogus`, expected one of `type`, `destination`, `roles`, `cluster`, `ssh_config` at line 8 column 5",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - destination: {type: directory, path: /x}\n    type: identity\n    bogus: 1\n",
        Some(
            "invalid config tbot.yaml: outputs[0]: unknown field `bogus`, expected one of `type`, `destination`, `roles`, `cluster`, `ssh_config` at line 8 column 5",
        ),
    ),
    // The one message that changed: a bad value written *before* an output's
    // `type` is decoded from a buffer, so it is reported with its key at the
    // output's line (before: "outputs[0].ssh_config: ... at line 7 column 17").
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - destination: {type: directory, path: /x}\n    ssh_config: maybe\n    type: identity\n",
        Some("invalid config tbot.yaml: outputs[0]: ssh_config: expected on or off, got \"maybe\" at line 6 column 5"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - destination: {type: directory, path: /x}\n    type: database\n",
        Some(
            "invalid config tbot.yaml: outputs[0].type: unknown variant `database`, expected `identity` at line 7 column 11",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - destination: {type: directory, path: /x}\n",
        Some("invalid config tbot.yaml: outputs[0]: missing field `type` at line 6 column 5"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - {}\n",
        Some("invalid config tbot.yaml: outputs[0]: missing field `type` at line 6 column 5"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    type: identity\n    destination: {type: directory, path: /x}\n",
        Some("invalid config tbot.yaml: outputs[0]: duplicate entry with key \"type\" at line 6 column 5"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: 3\n",
        Some("invalid config tbot.yaml: outputs[0].type: unknown variant `3`, expected `identity` at line 6 column 11"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: memory}\n    roles: [\"\"]\n",
        Some("invalid config tbot.yaml: outputs[0].roles (line 8): role names must not be empty"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: memory}\n    roles: 3\n",
        Some(
            "invalid config tbot.yaml: outputs[0].roles: invalid type: integer `3`, expected a sequence at line 8 column 12",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nservices:\n  - type: identity\n    destination: {type: memory, path: /x}\n",
        Some("invalid config tbot.yaml: outputs[0].destination.path: is not used by a memory destination"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: memory}\nservices:\n  - type: identity\n",
        Some("invalid config tbot.yaml: outputs[1].destination (line 7): is required"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nstorage: {memory: true, type: directory}\n",
        Some("invalid config tbot.yaml: storage.memory: conflicts with type"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nstorage: {memory: false}\n",
        Some("invalid config tbot.yaml: storage.type: is required: directory or memory"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nstorage: {memory: true, path: /x}\n",
        Some("invalid config tbot.yaml: storage.path: is not used by a memory destination"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nstorage: {memory: yes}\n",
        Some(
            "invalid config tbot.yaml: storage.memory: invalid type: string \"yes\", expected a boolean at line 5 column 19",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nstorage: {type: directory, path: \" \"}\n",
        Some("invalid config tbot.yaml: storage.path: is required for a directory destination"),
    ),
    ("version: 2\n", Some("invalid config tbot.yaml: version (line 1): must be a string such as v2")),
    ("version: v3\n", Some("invalid config tbot.yaml: version (line 1): unsupported version \"v3\": use v2")),
    ("- a\n- b\n", Some("invalid config tbot.yaml: the top level must be a mapping of keys to values")),
    ("version: [v2]\n", Some("invalid config tbot.yaml: version (line 1): must be a string such as v2")),
    (
        "version: v2\nauth_server: a: b\n",
        Some("invalid config tbot.yaml: mapping values are not allowed in this context at line 2 column 15"),
    ),
    (
        "version: v2\nauth_server: 'http://a:1'\nonboarding: {token: x}\n",
        Some("invalid config tbot.yaml: auth_server (line 2): \"http://a:1\" must be host:port, not a URL"),
    ),
    ("version: v2\nauth_server: '[::1]'\nonboarding: {token: x}\n", None),
    (
        "version: v2\nauth_server: '[::1'\nonboarding: {token: x}\n",
        Some("invalid config tbot.yaml: auth_server (line 2): \"[::1\": unterminated IPv6 address"),
    ),
    (
        "version: v2\nauth_server: 'a:b'\nonboarding: {token: x}\n",
        Some("invalid config tbot.yaml: auth_server (line 2): \"a:b\" has an invalid port"),
    ),
    (
        "version: v2\nauth_server: ':443'\nonboarding: {token: x}\n",
        Some("invalid config tbot.yaml: auth_server (line 2): \":443\" has no host"),
    ),
    (
        "version: v2\nauth_server: ''\nonboarding: {token: x}\n",
        Some("invalid config tbot.yaml: auth_server (line 2): must not be empty"),
    ),
    (
        "version: v2\nproxy_server: 'a:99999'\nonboarding: {token: x}\n",
        Some("invalid config tbot.yaml: proxy_server (line 2): \"a:99999\" has an invalid port"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ncredential_ttl: 5\n",
        Some(
            "invalid config tbot.yaml: credential_ttl: a bare number (5) is not a duration: add a unit, e.g. \"5s\" at line 5 column 17",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ncredential_ttl: 0\n",
        Some("invalid config tbot.yaml: credential_ttl (line 5): must be a positive duration such as \"1h\""),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ncredential_ttl: -5\n",
        Some(
            "invalid config tbot.yaml: credential_ttl: a bare number (-5) is not a duration: add a unit, e.g. \"-5s\" at line 5 column 17",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ncredential_ttl: 1.5\n",
        Some(
            "invalid config tbot.yaml: credential_ttl: invalid type: floating point `1.5`, expected a duration such as \"20m\" or \"1h\" at line 5 column 17",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ncredential_ttl: [1h]\n",
        Some(
            "invalid config tbot.yaml: credential_ttl: invalid type: sequence, expected a duration such as \"20m\" or \"1h\" at line 5 column 17",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nrenewal_interval: 0s\n",
        Some("invalid config tbot.yaml: renewal_interval (line 5): must be a positive duration such as \"20m\""),
    ),
    ("version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\nrenewal_interval: 2h\noneshot: true\n", None),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ncertificate_ttl: 1m\ncredential_ttl: 2h\n",
        None,
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ndiag_addr: ':80'\n",
        Some("invalid config tbot.yaml: diag_addr (line 5): \":80\" is not host:port, e.g. 127.0.0.1:3000"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ndiag_addr: 'a:x'\n",
        Some("invalid config tbot.yaml: diag_addr (line 5): \"a:x\" is not host:port, e.g. 127.0.0.1:3000"),
    ),
    ("version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ndiag_addr: '127.0.0.1:3000'\n", None),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ndebug: 3\n",
        Some("invalid config tbot.yaml: debug: invalid type: integer `3`, expected a boolean at line 5 column 8"),
    ),
    ("version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\ninsecure: true\n", None),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  join_method: token\n  azure:\n    client_id: 22222222-2222-2222-2222-222222222222\n",
        Some("invalid config tbot.yaml: onboarding.azure.client_id (line 7): is only used with join_method: azure"),
    ),
    ("version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  join_method: token\n  azure: {}\n", None),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  join_method: azure\n  azure:\n    client_id: ' 22222222-2222-2222-2222-222222222222 '\n",
        None,
    ),
    ("version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  join_method: azure\n", None),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  join_method: 3\n",
        Some(
            "invalid config tbot.yaml: onboarding.join_method: unknown variant `3`, expected one of `token`, `azure`, `github` at line 5 column 16",
        ),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  ca_pins: [sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
        None,
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  ca_pins: sha256:x\n",
        Some(
            "invalid config tbot.yaml: onboarding.ca_pins: invalid type: string \"sha256:x\", expected a sequence at line 5 column 12",
        ),
    ),
    ("version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n  ca_path: '  '\n", None),
    (
        "version: v2\nauth_server: a\nonboarding: {token: '  '}\n",
        Some(
            "invalid config tbot.yaml: onboarding.token: a join token is required (onboarding.token, --token or TELEPORT_BOT_TOKEN)",
        ),
    ),
    (
        "version: v2\nauth_server: a\nonboarding: {}\n",
        Some(
            "invalid config tbot.yaml: onboarding.token: a join token is required (onboarding.token, --token or TELEPORT_BOT_TOKEN)",
        ),
    ),
    (
        "version: v2\nauth_server: a\nonboarding: ~\n",
        Some(
            "invalid config tbot.yaml: onboarding.token: a join token is required (onboarding.token, --token or TELEPORT_BOT_TOKEN)",
        ),
    ),
    ("version: v2\nauth_server: a\nonboarding: {token: x}\noutputs: ~\nservices: ~\nstorage: ~\n", None),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: directory, path: /x}\n    ssh_config: on\n    cluster: ''\n    roles: [a, b]\n",
        None,
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {path: /x}\n    ssh_config: false\n    cluster: leaf\n",
        None,
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {}\n",
        Some("invalid config tbot.yaml: outputs[0].destination.type: is required: directory or memory"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: directory}\n",
        Some("invalid config tbot.yaml: outputs[0].destination.path: is required for a directory destination"),
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: memory, memory: true}\n",
        None,
    ),
    (
        "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\noutputs:\n  - type: identity\n    destination: {type: memory, memory: false}\n",
        Some("invalid config tbot.yaml: outputs[0].destination.memory: conflicts with type"),
    ),
    (
        "version: v2\nproxy_server: example.teleport.sh\nonboarding:\n  join_method: azure\n  token: example-bot\n  azure :\n    client_id: 22222222-2222-2222-2222-222222222222\nstorage:\n  type: memory\noutputs: []\n",
        None,
    ),
    (
        "version: v2\n\nauth_server: a\nonboarding:\n  token: x\n  # comment\n  ca_pins:\n    - 'sha256:zz'\n",
        Some(
            "invalid config tbot.yaml: onboarding.ca_pins (line 7): \"sha256:zz\" is not a pin of the form sha256:<64 hex digits>",
        ),
    ),
    (
        "version: v2\nauth_server: a\nonboarding: {token: x}\nrenewal_interval: 1h\n",
        Some(
            "invalid config tbot.yaml: renewal_interval (line 4): 1h0m0s is not shorter than credential_ttl 1h0m0s: credentials would expire before they are renewed",
        ),
    ),
    (
        "{version: v2, auth_server: a, onboarding: {token: x}, renewal_interval: 1h}\n",
        Some(
            "invalid config tbot.yaml: renewal_interval: 1h0m0s is not shorter than credential_ttl 1h0m0s: credentials would expire before they are renewed",
        ),
    ),
    (
        "version: v2\nauth_server: a\nonboarding: {token: x}\nversion: v2\n",
        Some("invalid config tbot.yaml: duplicate entry with key \"version\""),
    ),
    (
        "version: ''\n",
        Some(
            "invalid config tbot.yaml: version (line 1): is missing: only version v2 is supported; add `version: v2` (run `tbot migrate` for v1 files)",
        ),
    ),
    (
        "version: ~\n",
        Some(
            "invalid config tbot.yaml: version (line 1): is missing: only version v2 is supported; add `version: v2` (run `tbot migrate` for v1 files)",
        ),
    ),
    ("version: v2\nauth_server: a\nonboarding: {token: x}\nstorage: {type: directory, path: /var/x}\n", None),
    (
        "version: v2\nauth_server: a\nonboarding: {token: x}\noutputs:\n- type: identity\n  destination:\n    type: directory\n    path: /a\n- type: identity\n  destination:\n    type: directory\n    path: /b\n  roles:\n  - ''\n",
        Some("invalid config tbot.yaml: outputs[1].roles (line 13): role names must not be empty"),
    ),
    (
        "version: v2\n  auth_server: a\n",
        Some("invalid config tbot.yaml: mapping values are not allowed in this context at line 2 column 14"),
    ),
    (
        "version: v2\nauth_server: a\nauth_server: b\n",
        Some("invalid config tbot.yaml: duplicate entry with key \"auth_server\""),
    ),
];

#[test]
fn messages_are_unchanged() {
    let mut wrong = Vec::new();
    for (text, want) in CASES {
        let got = check(text).err().map(|e| e.to_string());
        if got.as_deref() != *want {
            wrong.push(format!("{text:?}\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases differ:\n{}", wrong.len(), CASES.len(), wrong.join("\n"));
}
