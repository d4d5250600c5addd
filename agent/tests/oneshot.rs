//! One-shot runs and `check`, against a real devstack: the seed's tbot.yaml,
//! identity outputs, CLI overrides and rejections.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

mod common;

use common::*;

/// The seed guide's step 3 `tbot.yaml`, exactly as written (note `azure :`).
const SEED: &str = include_str!("../../tbot-config/testdata/seed.yaml");

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn seed_config_passes_check_and_the_machine_gets_a_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_config(tmp.path(), "tbot.yaml", SEED);
    // No IMDS here: point it at a closed port so check fails fast on that part.
    let out = agent_cmd()
        .args(["check", "-c", cfg.to_str().unwrap()])
        .env("JOINERY_IMDS_ENDPOINT", "http://127.0.0.1:9")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The configuration is valid, but this machine cannot join: a verdict and exit 3.
    assert_eq!(out.status.code(), Some(3), "check: {}{stdout}", stderr(&out));
    assert!(stdout.contains("valid"), "{stdout}");
    assert!(
        stdout.contains("verdict: cannot join: this machine's Azure instance metadata is not available"),
        "{stdout}"
    );
    assert!(stdout.contains("proxy_server: example.teleport.sh:443"), "{stdout}");
    assert!(stdout.contains("join_method: azure"), "{stdout}");
    assert!(stdout.contains("azure.client_id: 22222222-2222-2222-2222-222222222222"), "{stdout}");
    assert!(stdout.contains("azure: not available: "), "an azure line about IMDS: {stdout}");
    assert!(!stdout.contains("example-bot"), "the token is masked: {stdout}");
}

#[test]
fn seed_adapted_to_devstack_oneshot_exits_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let token = stack.add_bot("example", "access");
    // The seed, with the devstack as the proxy and a token join; the
    // devstack's CA is trusted through SSL_CERT_FILE (the system roots path).
    let yaml = SEED
        .replace("example.teleport.sh:443", &stack.addr())
        .replace("join_method: azure", "join_method: token")
        .replace("token: example-bot", &format!("token: {token}"))
        .replace("  azure :\n    client_id: 22222222-2222-2222-2222-222222222222\n", "");
    let cfg = write_config(tmp.path(), "tbot.yaml", &yaml);
    let out = agent_cmd()
        .args(["start", "-c", cfg.to_str().unwrap(), "--oneshot"])
        .env("SSL_CERT_FILE", stack.ca_file())
        .output()
        .unwrap();
    assert!(out.status.success(), "one-shot failed: {}", stderr(&out));
    let log = stderr(&out);
    assert!(!log.contains(&token), "the token never appears in logs: {log}");
    assert!(log.contains(&token[token.len() * 3 / 4..]), "the masked token is logged: {log}");
}

#[test]
fn identity_output_files_modes_and_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let token = stack.add_bot("robot", "access,editor");
    let dest = tmp.path().join("out/machine-id");
    let yaml = format!(
        "version: v2\nauth_server: {}\nonboarding:\n  join_method: token\n  token: {token}\n  ca_pins: [\"{}\"]\nstorage:\n  type: memory\noutputs:\n  - type: identity\n    destination:\n      type: directory\n      path: {}\n    roles: [access]\n",
        stack.addr(),
        stack.pin(),
        dest.display()
    );
    let cfg = write_config(tmp.path(), "tbot.yaml", &yaml);
    let out = run_agent(&["start", "legacy", "-c", cfg.to_str().unwrap(), "--oneshot"]);
    assert!(out.status.success(), "one-shot failed: {}", stderr(&out));

    assert_eq!(mode(&dest), 0o700);
    for f in [
        "identity",
        "key",
        "key.pub",
        "tlscert",
        "key-cert.pub",
        "teleport-host-ca.crt",
        "teleport-user-ca.crt",
        "teleport-database-ca.crt",
        "known_hosts",
        "ssh_config",
    ] {
        let p = dest.join(f);
        assert!(p.is_file(), "{f} written");
        assert_eq!(mode(&p), 0o600, "{f} mode");
    }
    let tlscert = std::fs::read_to_string(dest.join("tlscert")).unwrap();
    let (cn, roles) = verify_user_cert(&stack, &tlscert);
    assert_eq!(cn, "bot-robot");
    assert_eq!(roles, vec!["access".to_string()], "the output carries exactly its roles");
    let host_ca = std::fs::read_to_string(dest.join("teleport-host-ca.crt")).unwrap();
    assert_eq!(pem_certs(&host_ca), pem_certs(&std::fs::read_to_string(stack.ca_file()).unwrap()));
    let identity = std::fs::read_to_string(dest.join("identity")).unwrap();
    assert!(identity.contains(tlscert.trim()), "identity embeds the tlscert");
    assert!(identity.contains("-cert-v01@openssh.com"), "identity has the SSH cert");
    assert!(identity.contains("@cert-authority"), "identity has the SSH CA");
    let known_hosts = std::fs::read_to_string(dest.join("known_hosts")).unwrap();
    assert!(known_hosts.starts_with(&format!("@cert-authority {},*.{}", stack.cluster(), stack.cluster())));
    let key_pub = std::fs::read_to_string(dest.join("key.pub")).unwrap();
    assert!(key_pub.starts_with("ecdsa-sha2-nistp256 "), "{key_pub}");
}

/// What a program that trusted tbot's files checks: `tlscert` against the
/// written user CA (OpenSSL), `key-cert.pub` as a user certificate signed by
/// the cluster's SSH user CA (OpenSSH), the database CA as a CA of its own.
#[test]
fn identity_output_ca_files_verify_the_certificates() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let token = stack.add_bot("verifier", "access");
    let dest = tmp.path().join("out");
    let out = agent_cmd()
        .args(["start", "--oneshot", "--ca-pin", &stack.pin(), "--auth-server", &stack.addr(), "--token", &token])
        .args(["--destination-dir", dest.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "one-shot failed: {}", stderr(&out));

    let tool = |cmd: &str, args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(cmd).args(args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    };
    let path = |f: &str| dest.join(f).into_os_string();
    let verify = |ca: &str| tool("openssl", &["verify".as_ref(), "-CAfile".as_ref(), &path(ca), &path("tlscert")]);
    let (ok, text) = verify("teleport-user-ca.crt");
    assert!(ok && text.contains(": OK"), "tlscert verifies against teleport-user-ca.crt: {text}");
    // The other files hold other CAs: the user CA is the one that signs.
    for other in ["teleport-host-ca.crt", "teleport-database-ca.crt"] {
        let (ok, text) = verify(other);
        assert!(!ok, "tlscert must not verify against {other}: {text}");
    }
    for f in ["teleport-user-ca.crt", "teleport-database-ca.crt"] {
        let (ok, text) =
            tool("openssl", &["x509".as_ref(), "-noout".as_ref(), "-subject".as_ref(), "-in".as_ref(), &path(f)]);
        assert!(ok && text.contains(&stack.cluster()), "{f} is a CA of the cluster: {text}");
    }

    let (ok, cert) = tool("ssh-keygen", &["-L".as_ref(), "-f".as_ref(), &path("key-cert.pub")]);
    assert!(ok, "ssh-keygen -L: {cert}");
    assert!(cert.contains("user certificate"), "{cert}");
    // The cluster's SSH user CA, as the devstack keeps it, is the signer.
    let ca_key = stack.dir.join("ca/ssh-user.key").into_os_string();
    let (ok, ca_pub) = tool("ssh-keygen", &["-y".as_ref(), "-f".as_ref(), &ca_key]);
    assert!(ok, "ssh-keygen -y: {ca_pub}");
    let ca_pub_file = tmp.path().join("ssh-user-ca.pub");
    std::fs::write(&ca_pub_file, &ca_pub).unwrap();
    let (ok, fingerprint) = tool("ssh-keygen", &["-l".as_ref(), "-f".as_ref(), ca_pub_file.as_os_str()]);
    assert!(ok, "ssh-keygen -l: {fingerprint}");
    let fingerprint = fingerprint.split_whitespace().nth(1).unwrap().to_string();
    let signer = cert.lines().find(|l| l.trim_start().starts_with("Signing CA:")).unwrap_or_default();
    assert!(signer.contains(&fingerprint), "key-cert.pub is signed by the user CA {fingerprint}: {signer}");
    // The host CA (known_hosts) is not the user CA.
    let known_hosts = std::fs::read_to_string(dest.join("known_hosts")).unwrap();
    let ca_b64 = ca_pub.split_whitespace().nth(1).unwrap();
    assert!(!known_hosts.contains(ca_b64), "known_hosts trusts host CAs only");
}

#[test]
fn cli_flags_without_config_and_env_token() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    let token = stack.add_bot("flags", "access");
    let dest = tmp.path().join("dest");
    let data = tmp.path().join("data");
    let out = agent_cmd()
        .args(["start", "--oneshot", "--ca-pin", &stack.pin()])
        .args(["--destination-dir", dest.to_str().unwrap(), "--data-dir", data.to_str().unwrap()])
        .env("TELEPORT_AUTH_SERVER", stack.addr())
        .env("TELEPORT_BOT_TOKEN", &token)
        .output()
        .unwrap();
    assert!(out.status.success(), "one-shot failed: {}", stderr(&out));
    // An output with no roles gets every role the bot may impersonate.
    let (cn, roles) = verify_user_cert(&stack, &std::fs::read_to_string(dest.join("tlscert")).unwrap());
    assert_eq!((cn.as_str(), roles), ("bot-flags", vec!["access".to_string()]));
    // Directory storage keeps the bot identity and the token hash, privately.
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("identity")), 0o600);
    assert!(data.join("tokenhash").is_file());
    // And, as tbot's storage, the CAs the identity trusts (`$`-joined).
    let tls_cas = std::fs::read_to_string(data.join("tlscacerts")).unwrap();
    assert_eq!(pem_certs(&tls_cas.replace('$', "")), pem_certs(&stack.ca_pem()), "{tls_cas}");
    assert!(std::fs::read_to_string(data.join("sshcacerts")).unwrap().contains("ssh-ed25519 "));

    // The token is single-use, yet a second run renews the stored identity.
    let out = agent_cmd()
        .args(["start", "--oneshot", "--ca-pin", &stack.pin(), "--token", &token])
        .args(["--destination-dir", dest.to_str().unwrap(), "--data-dir", data.to_str().unwrap()])
        .args(["--auth-server", &stack.addr()])
        .output()
        .unwrap();
    assert!(out.status.success(), "second one-shot failed: {}", stderr(&out));
    assert!(stderr(&out).contains("stored bot identity"), "{}", stderr(&out));
}

#[test]
fn token_the_bot_may_not_use_fails_with_the_servers_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Devstack::start_in(&tmp.path().join("stack"), &[]);
    stack.add_bot("example", "access");
    // The seed's Azure token: a token join with it must be refused.
    let token_yaml = "kind: token\nversion: v2\nmetadata:\n  name: example-bot\nspec:\n  roles: [Bot]\n  bot_name: example\n  join_method: azure\n  azure:\n    allow:\n    - subscription: 11111111-1111-1111-1111-111111111111\n      resource_groups: [\"group1\"]\n";
    let f = write_config(tmp.path(), "bot-token.yaml", token_yaml);
    stack.tctl_ok(&["create", "-f", f.to_str().unwrap()]);
    let out = run_agent(&[
        "start",
        "--oneshot",
        "--auth-server",
        &stack.addr(),
        "--token",
        "example-bot",
        "--ca-pin",
        &stack.pin(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("only valid for the \"azure\" join method"), "the server's reason is shown: {err}");

    // An unknown token likewise.
    let out = run_agent(&["start", "--oneshot", "--auth-server", &stack.addr(), "--token", "nope", "--insecure"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("token expired or not found"), "{}", stderr(&out));

    // A wrong pin is refused before the token is sent.
    let bad_pin = format!("sha256:{}", "0".repeat(64));
    let out = run_agent(&["start", "--oneshot", "--auth-server", &stack.addr(), "--token", "x", "--ca-pin", &bad_pin]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("matches none of onboarding.ca_pins"), "{}", stderr(&out));
}

/// Every configuration error: exit code 1, one message naming the key (and
/// line), and no network call (the server address is unroutable).
#[test]
fn config_errors_exit_1_and_name_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "version: v2\nauth_server: 127.0.0.1:9\nonboarding:\n  token: abc\n";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (format!("{base}  tokn: x\n"), vec!["onboarding", "tokn", "line 5"]),
        (format!("{base}unknown_key: 1\n"), vec!["unknown_key", "line 5"]),
        (format!("{base}oneshot: sometimes\n"), vec!["oneshot", "line 5"]),
        (format!("{base}outputs: 3\n"), vec!["outputs", "line 5"]),
        ("version: v1\nauth_server: a:1\n".into(), vec!["version", "only version v2"]),
        ("auth_server: a:1\nonboarding: {token: x}\n".into(), vec!["version", "v2"]),
        ("".into(), vec!["version", "v2"]),
        ("version: v2\nonboarding: {token: x}\n".into(), vec!["proxy_server", "auth_server"]),
        (format!("{base}proxy_server: p:443\n"), vec!["proxy_server", "mutually exclusive"]),
        ("version: v2\nauth_server: a:1\n".into(), vec!["onboarding.token"]),
        (
            "version: v2\nauth_server: a:1\nonboarding: {token: /nonexistent/token}\n".into(),
            vec!["onboarding.token", "/nonexistent/token"],
        ),
        (format!("{base}renewal_interval: 2h\n"), vec!["renewal_interval", "line 5", "credential_ttl"]),
        (format!("{base}renewal_interval: 20m\ncertificate_ttl: 10m\n"), vec!["renewal_interval", "certificate_ttl"]),
        (format!("{base}credential_ttl: 1x\n"), vec!["credential_ttl", "line 5"]),
        (format!("{base}certificate_ttl: 0s\n"), vec!["certificate_ttl", "positive"]),
        (format!("{base}fips: true\n"), vec!["fips", "line 5", "not supported"]),
        (format!("{base}  join_method: gitlab\n"), vec!["join_method", "gitlab", "line 5"]),
        (
            format!("{base}  join_method: azure\n  azure:\n    client_id: not-a-uuid\n"),
            vec!["onboarding.azure.client_id", "line 7", "UUID"],
        ),
        (format!("{base}  ca_pins: [md5:abc]\n"), vec!["onboarding.ca_pins", "line 5"]),
        (format!("{base}  ca_path: /nonexistent/ca.pem\n"), vec!["onboarding.ca_path", "line 5"]),
        (format!("{base}storage:\n  type: disk\n"), vec!["storage.type", "disk", "line 6"]),
        (format!("{base}storage:\n  type: directory\n"), vec!["storage.path"]),
        (format!("{base}outputs:\n  - type: database\n"), vec!["outputs[0].type", "database", "line 6"]),
        (format!("{base}outputs:\n  - type: identity\n"), vec!["outputs[0].destination", "required"]),
        (
            format!(
                "{base}outputs:\n  - type: identity\n    destination: {{type: directory, path: /tmp/x}}\n    ssh_config: maybe\n"
            ),
            vec!["ssh_config", "line 8"],
        ),
        (format!("{base}diag_addr: nowhere\n"), vec!["diag_addr", "line 5"]),
        (format!("{base}onboarding2: {{}}\n"), vec!["onboarding2", "line 5"]),
    ];
    for (i, (yaml, wanted)) in cases.iter().enumerate() {
        let cfg = write_config(tmp.path(), &format!("c{i}.yaml"), yaml);
        let started = std::time::Instant::now();
        let out = run_agent(&["start", "-c", cfg.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "case {i} ({yaml:?}) should exit 1: {err}");
        for w in wanted {
            assert!(err.contains(w), "case {i} ({yaml:?}): message should contain {w:?}: {err}");
        }
        assert_eq!(err.trim().lines().count(), 1, "case {i}: one message: {err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "case {i}: no network call");
        // `check` validates the same way.
        let out = run_agent(&["check", "-c", cfg.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "check, case {i}: {}", stderr(&out));
    }
    // A bad duration on the command line is a config error too.
    let out = run_agent(&["start", "--auth-server", "a:1", "--token", "x", "--renewal-interval", "soon"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--renewal-interval"), "{}", stderr(&out));
    // A missing file.
    let out = run_agent(&["start", "-c", "/nonexistent/tbot.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("/nonexistent/tbot.yaml"), "{}", stderr(&out));
}

#[test]
fn azure_join_failure_is_not_a_config_error() {
    let tmp = tempfile::tempdir().unwrap();
    let yaml =
        SEED.replace("example.teleport.sh:443", "127.0.0.1:9").replace("outputs: []", "outputs: []\noneshot: true");
    let cfg = write_config(tmp.path(), "tbot.yaml", &yaml);
    let out = run_agent(&["start", "-c", cfg.to_str().unwrap(), "--insecure"]);
    assert_ne!(out.status.code(), Some(0));
    assert_ne!(out.status.code(), Some(1), "a valid config is not a config error: {}", stderr(&out));
}

#[test]
fn version_prints() {
    let out = run_agent(&["version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("joinery-agent v"));
}
