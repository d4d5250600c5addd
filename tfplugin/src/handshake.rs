//! The go-plugin handshake: the environment Terraform sets for a provider
//! process and the one line the provider prints back on stdout.

use super::PluginError;

/// Environment variable holding go-plugin's magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Terraform's magic cookie value (`internal/plugin6/serve.go`).
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The only application protocol this runtime speaks: tfplugin6.
pub const PROTOCOL_VERSION: u32 = 6;

/// What go-plugin prints when a plugin binary is run by hand.
pub const NOT_A_PLUGIN_MESSAGE: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically\n";

/// Whether the magic cookie shows we were started by Terraform.
pub fn cookie_matches(value: Option<&str>) -> bool {
    value == Some(MAGIC_COOKIE_VALUE)
}

/// Picks protocol 6 from `PLUGIN_PROTOCOL_VERSIONS` (e.g. `5,6`).
///
/// When the variable is absent go-plugin uses the plugin's own version, so
/// that counts as 6.
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, PluginError> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    let supported = offered.split(',').filter_map(|v| v.trim().parse::<u32>().ok()).any(|v| v == PROTOCOL_VERSION);
    if supported { Ok(PROTOCOL_VERSION) } else { Err(PluginError::UnsupportedProtocol(offered.to_string())) }
}

/// The handshake line: `1|6|NETWORK|ADDR|grpc|CERT\n`, where CERT is empty
/// without TLS.
pub fn handshake_line(network: &str, addr: &str, cert: &str) -> String {
    format!("1|{PROTOCOL_VERSION}|{network}|{addr}|grpc|{cert}\n")
}

/// The `TF_REATTACH_PROVIDERS` value for debug mode.
pub fn reattach_json(provider_address: &str, network: &str, addr: &str, pid: u32) -> String {
    let mut entry = serde_json::Map::new();
    entry.insert("Protocol".into(), "grpc".into());
    entry.insert("ProtocolVersion".into(), PROTOCOL_VERSION.into());
    entry.insert("Pid".into(), pid.into());
    // "Test" stops Terraform from killing the process after each command.
    entry.insert("Test".into(), true.into());
    entry.insert("Addr".into(), serde_json::json!({ "Network": network, "String": addr }));
    let mut top = serde_json::Map::new();
    top.insert(provider_address.to_string(), serde_json::Value::Object(entry));
    serde_json::Value::Object(top).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie() {
        assert!(cookie_matches(Some(MAGIC_COOKIE_VALUE)));
        assert!(!cookie_matches(Some("nope")));
        assert!(!cookie_matches(None));
    }

    #[test]
    fn versions() {
        assert_eq!(negotiate_version(Some("5,6")).unwrap(), 6);
        assert_eq!(negotiate_version(Some(" 6 ")).unwrap(), 6);
        assert_eq!(negotiate_version(None).unwrap(), 6);
        assert!(negotiate_version(Some("4,5")).is_err());
    }

    #[test]
    fn lines() {
        assert_eq!(handshake_line("tcp", "127.0.0.1:1234", ""), "1|6|tcp|127.0.0.1:1234|grpc|\n");
        let j: serde_json::Value =
            serde_json::from_str(&reattach_json("registry.terraform.io/joinery/teleport", "unix", "/tmp/p", 7))
                .unwrap();
        let e = &j["registry.terraform.io/joinery/teleport"];
        assert_eq!(e["ProtocolVersion"], 6);
        assert_eq!(e["Addr"]["Network"], "unix");
        assert_eq!(e["Pid"], 7);
    }
}
