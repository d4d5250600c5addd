//! The devstack's Teleport API, through the public client: every RPC, its
//! errors, persistence, and token joins.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use std::time::{Duration, SystemTime};

use joinery_teleport::identity::pem_certs_to_der;
use joinery_teleport::join::{self, JoinService, JoinedCerts};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::legacy::UserCertsRequest;
use joinery_teleport::proto::teleport::join::v1;
use joinery_teleport::proto::types::{
    ProvisionTokenSpecV2Azure, ProvisionTokenSpecV2GitLab, ProvisionTokenSpecV2Kubernetes,
    ProvisionTokenSpecV2Spacelift, ProvisionTokenSpecV2tpm, TokenRule, provision_token_spec_v2_azure,
    provision_token_spec_v2_git_lab, provision_token_spec_v2_kubernetes,
};
use joinery_teleport::{Credentials, Error};
use joinery_testkit::Devstack;

mod common;
use common::{bot, token, verify_client_cert};

#[tokio::test]
async fn ping_reports_cluster_and_version() {
    let stack = Devstack::start();
    let pong = stack.admin().await.ping().await.unwrap();
    assert_eq!(pong.cluster_name, stack.info["teleport"]["cluster_name"].as_str().unwrap());
    assert!(pong.server_version.starts_with("18."), "{}", pong.server_version);
    let pin = stack.info["teleport"]["ca_pin"].as_str().unwrap();
    let ca = pem_certs_to_der(&stack.ca_pem()).remove(0);
    assert_eq!(joinery_teleport::identity::ca_pin(&ca).unwrap(), pin);
    assert_eq!(stack.info["provider_env"]["TF_TELEPORT_ADDR"], stack.info["teleport"]["addr"]);
}

#[tokio::test]
async fn token_lifecycle_and_errors() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    admin.create_bot(bot("robot", &["access"])).await.unwrap();
    admin.create_token(token("tok-one", "robot")).await.unwrap();

    let got = admin.get_token("tok-one").await.unwrap();
    assert_eq!(got.kind, "token");
    assert_eq!(got.spec.as_ref().unwrap().roles, vec!["Bot"]);
    let rev1 = got.metadata.as_ref().unwrap().revision.clone();
    assert!(!rev1.is_empty());

    match admin.create_token(token("tok-one", "robot")).await {
        Err(Error::AlreadyExists(m)) => assert!(!m.contains("tok-one"), "token names are secret: {m}"),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }

    let mut changed = token("tok-one", "robot");
    changed.metadata.as_mut().unwrap().description = "changed".into();
    admin.upsert_token(changed).await.unwrap();
    let got = admin.get_token("tok-one").await.unwrap();
    assert_eq!(got.metadata.as_ref().unwrap().description, "changed");
    assert_ne!(got.metadata.as_ref().unwrap().revision, rev1, "revision changes on every write");

    assert_eq!(admin.get_tokens().await.unwrap().len(), 1);
    admin.delete_token("tok-one").await.unwrap();
    assert!(matches!(admin.get_token("tok-one").await, Err(Error::NotFound(_))));
    assert!(matches!(admin.delete_token("tok-one").await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn token_validation_matches_teleport() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    let mut no_bot = token("t1", "");
    assert!(matches!(admin.create_token(no_bot.clone()).await, Err(Error::BadParameter(m)) if m.contains("bot_name")));
    no_bot.spec.as_mut().unwrap().roles.clear();
    assert!(matches!(admin.create_token(no_bot).await, Err(Error::BadParameter(m)) if m.contains("roles")));
    let mut azure = token("t2", "robot");
    azure.spec.as_mut().unwrap().join_method = "azure".into();
    assert!(matches!(admin.create_token(azure.clone()).await, Err(Error::BadParameter(m)) if m.contains("azure")));
    azure.spec.as_mut().unwrap().azure = Some(ProvisionTokenSpecV2Azure {
        allow: vec![provision_token_spec_v2_azure::Rule { subscription: "".into(), resource_groups: vec![] }],
    });
    assert!(matches!(admin.create_token(azure).await, Err(Error::BadParameter(m)) if m.contains("subscription")));
    // Nothing was stored by the rejected writes.
    assert!(admin.get_tokens().await.unwrap().is_empty());
}

/// A `Bot` token for `robot` with `join_method` and `edit` applied to its spec.
fn method_token(
    name: &str,
    method: &str,
    edit: impl FnOnce(&mut joinery_teleport::proto::types::ProvisionTokenSpecV2),
) -> joinery_teleport::proto::types::ProvisionTokenV2 {
    let mut t = token(name, "robot");
    let spec = t.spec.as_mut().unwrap();
    spec.join_method = method.into();
    edit(spec);
    t
}

#[tokio::test]
async fn join_method_rules_and_messages_are_teleports() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    let gitlab_rule =
        |r: provision_token_spec_v2_git_lab::Rule| ProvisionTokenSpecV2GitLab { allow: vec![r], ..Default::default() };
    let cases: Vec<(joinery_teleport::proto::types::ProvisionTokenV2, &str)> = vec![
        (
            method_token("m1", "gitlab", |_| {}),
            "\"gitlab\" configuration must be provided for the join method \"gitlab\"",
        ),
        (
            method_token("m2", "gitlab", |s| s.git_lab = Some(gitlab_rule(Default::default()))),
            "the \"gitlab\" join method requires allow rules with at least one of ['sub', 'project_path', 'namespace_path', 'ci_config_ref_uri'] to ensure security.",
        ),
        (
            method_token("m3", "kubernetes", |s| {
                s.kubernetes = Some(ProvisionTokenSpecV2Kubernetes {
                    allow: vec![provision_token_spec_v2_kubernetes::Rule { service_account: "no-namespace".into() }],
                    ..Default::default()
                })
            }),
            "spec.kubernetes:\n\tallow[0].service_account: name of service account should be in format \"namespace:service_account\", got \"no-namespace\" instead",
        ),
        (
            method_token("m4", "spacelift", |s| s.spacelift = Some(ProvisionTokenSpecV2Spacelift::default())),
            "spec.spacelift: failed validation\n\thostname: should be set to the hostname of the spacelift tenant",
        ),
        (
            method_token("m5", "tpm", |s| {
                s.tpm =
                    Some(ProvisionTokenSpecV2tpm { ek_cert_allowed_c_as: vec!["not pem".into()], ..Default::default() })
            }),
            "spec.tpm: failed validation\n\tekcert_allowed_cas[0]: no pem block found",
        ),
        (
            method_token("m6", "iam", |s| {
                s.allow = vec![TokenRule {
                    aws_regions: vec!["us-east-1".into()],
                    aws_account: "1".into(),
                    ..Default::default()
                }]
            }),
            "the \"iam\" join method does not support the \"aws_regions\" parameter",
        ),
        (
            method_token("m7", "token", |s| {
                s.allow = vec![TokenRule { aws_account: "1".into(), ..Default::default() }]
            }),
            "allow rules are not compatible with the \"token\" join method",
        ),
        (
            method_token("m8", "azure_devops", |_| {}),
            "spec.azure_devops: must be configured for the join method \"azure_devops\"",
        ),
        (method_token("m9", "env0", |_| {}), "unknown join method \"env0\""),
    ];
    for (t, expected) in cases {
        match admin.create_token(t).await {
            Err(Error::BadParameter(m)) => assert_eq!(m, expected),
            other => panic!("expected BadParameter {expected:?}, got {other:?}"),
        }
    }
    assert!(admin.get_tokens().await.unwrap().is_empty(), "nothing stored");
}

#[tokio::test]
async fn tokens_keep_every_field_and_teleports_defaults() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    // Defaults Teleport fills in: a GitLab domain, an explicit false nullable bool kept.
    let gitlab = method_token("gitlab-ci", "gitlab", |s| {
        s.git_lab = Some(ProvisionTokenSpecV2GitLab {
            allow: vec![provision_token_spec_v2_git_lab::Rule {
                project_path: "group/project".into(),
                ref_protected: Some(joinery_teleport::proto::types::BoolValue { value: false }),
                ..Default::default()
            }],
            static_jwks: "{\"keys\":[]}".into(),
            ..Default::default()
        })
    });
    admin.create_token(gitlab.clone()).await.unwrap();
    let got = admin.get_token("gitlab-ci").await.unwrap().spec.unwrap().git_lab.unwrap();
    assert_eq!(got.domain, "gitlab.com");
    assert_eq!(got.static_jwks, "{\"keys\":[]}");
    assert_eq!(got.allow[0].ref_protected.as_ref().map(|b| b.value), Some(false));

    // A bound-keypair token gets its recovery limit and a registration secret,
    // the configured one when there is one; an update keeps the issued secret.
    admin.create_token(method_token("bk", "bound_keypair", |_| {})).await.unwrap();
    let got = admin.get_token("bk").await.unwrap();
    assert_eq!(got.spec.as_ref().unwrap().bound_keypair.as_ref().unwrap().recovery.as_ref().unwrap().limit, 1);
    let secret = got.status.as_ref().unwrap().bound_keypair.as_ref().unwrap().registration_secret.clone();
    assert_eq!(secret.len(), 32);
    admin.upsert_token(got.clone()).await.unwrap();
    let again = admin.get_token("bk").await.unwrap();
    assert_eq!(again.status.unwrap().bound_keypair.unwrap().registration_secret, secret);
}

#[tokio::test]
async fn expired_tokens_are_gone() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    let mut t = token("short-lived", "robot");
    let expires = SystemTime::now() + Duration::from_secs(2);
    t.metadata.as_mut().unwrap().expires = Some(join::timestamp(expires));
    admin.upsert_token(t).await.unwrap();
    assert!(admin.get_token("short-lived").await.is_ok());
    let deadline = SystemTime::now() + Duration::from_secs(10);
    loop {
        match admin.get_token("short-lived").await {
            Err(Error::NotFound(_)) => break,
            Ok(_) => assert!(SystemTime::now() < deadline, "token did not expire"),
            Err(e) => panic!("{e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admin.get_tokens().await.unwrap().is_empty());
}

#[tokio::test]
async fn bot_lifecycle_and_errors() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    let created = admin.create_bot(bot("robot", &["access"])).await.unwrap();
    let status = created.status.clone().unwrap();
    assert_eq!(status.user_name, "bot-robot");
    assert_eq!(status.role_name, "bot-robot");
    assert!(matches!(admin.create_bot(bot("robot", &["access"])).await, Err(Error::AlreadyExists(_))));

    let got = admin.get_bot("robot").await.unwrap();
    assert_eq!(got.spec.as_ref().unwrap().roles, vec!["access"]);
    // As Teleport's botFromUserAndRole: a bot is rebuilt from its user and
    // role, and carries no revision of its own.
    assert_eq!(got.metadata.as_ref().unwrap().revision, "");

    let updated = admin.update_bot(bot("robot", &["access", "editor"]), vec!["spec.roles".into()]).await.unwrap();
    assert_eq!(updated.spec.as_ref().unwrap().roles, vec!["access", "editor"]);
    assert_eq!(admin.get_bot("robot").await.unwrap().spec.unwrap().roles, vec!["access", "editor"]);

    let upserted = admin.upsert_bot(bot("robot", &["viewer"])).await.unwrap();
    assert_eq!(upserted.spec.as_ref().unwrap().roles, vec!["viewer"]);

    for i in 0..3 {
        admin.create_bot(bot(&format!("extra-{i}"), &[])).await.unwrap();
    }
    let mut raw =
        joinery_teleport::proto::teleport::machineid::v1::bot_service_client::BotServiceClient::new(admin.channel());
    let page = raw
        .list_bots(joinery_teleport::proto::teleport::machineid::v1::ListBotsRequest {
            page_size: 2,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.bots.len(), 2);
    assert!(!page.next_page_token.is_empty());
    assert_eq!(admin.list_bots().await.unwrap().len(), 4);

    admin.delete_bot("robot").await.unwrap();
    assert!(matches!(admin.get_bot("robot").await, Err(Error::NotFound(_))));
    assert!(matches!(admin.delete_bot("robot").await, Err(Error::NotFound(_))));
    let mut nameless = bot("", &[]);
    nameless.metadata = None;
    assert!(matches!(admin.create_bot(nameless).await, Err(Error::BadParameter(_))));
}

async fn join_bot(stack: &Devstack, bot_name: &str, roles: &[&str]) -> (KeyPair, JoinedCerts, JoinService) {
    let admin = stack.admin().await;
    admin.create_bot(bot(bot_name, roles)).await.unwrap();
    admin.create_token(token(&format!("join-{bot_name}"), bot_name)).await.unwrap();
    join::join_with_token(&stack.anonymous().await, &format!("join-{bot_name}"), Duration::from_secs(3600))
        .await
        .unwrap()
}

#[tokio::test]
async fn token_join_issues_verifiable_bot_certificates() {
    let stack = Devstack::start();
    let (key, certs, service) = join_bot(&stack, "robot", &["access"]).await;
    assert_eq!(service, JoinService::V1);
    let info = verify_client_cert(&stack, &certs.tls_cert_pem);
    assert_eq!(info.username, "bot-robot");
    assert_eq!(info.roles, vec!["bot-robot"]);
    assert_eq!(info.bot_name.as_deref(), Some("robot"));
    assert!(info.renewable, "token joins are renewable");
    assert_eq!(info.generation, Some(1));
    let ttl = info.not_after.duration_since(SystemTime::now()).unwrap();
    assert!(ttl <= Duration::from_secs(3600) && ttl > Duration::from_secs(3500), "{ttl:?}");
    assert!(certs.ssh_cert.starts_with("ecdsa-sha2-nistp256-cert-v01@openssh.com "));
    let ssh = ssh_key::Certificate::from_openssh(&certs.ssh_cert).unwrap();
    assert_eq!(ssh.key_id(), "bot-robot");
    assert_eq!(ssh.public_key(), key.ssh_public_key().key_data());
    // The CA the server returns is the one devstack.json publishes.
    assert_eq!(pem_certs_to_der(&certs.tls_ca_pems[0]), pem_certs_to_der(&stack.ca_pem()));
    // Token-method tokens are single use.
    let admin = stack.admin().await;
    assert!(matches!(admin.get_token("join-robot").await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn legacy_token_join_uses_pem_encodings() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    admin.create_bot(bot("old", &["access"])).await.unwrap();
    admin.create_token(token("legacy-tok", "old")).await.unwrap();
    let key = KeyPair::generate();
    let req = join::legacy_bot_request("legacy-tok", &key, SystemTime::now() + Duration::from_secs(600));
    let certs = stack.anonymous().await.legacy_join().register_using_token(req).await.unwrap().into_inner();
    let certs = JoinedCerts::from_legacy(certs).unwrap();
    assert!(certs.tls_cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(certs.ssh_cert.contains("-cert-v01@openssh.com "));
    assert!(certs.ssh_ca_keys[0].starts_with("ssh-ed25519 "));
    let info = verify_client_cert(&stack, &certs.tls_cert_pem);
    assert_eq!(info.username, "bot-old");
}

#[tokio::test]
async fn join_rejections() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    let anon = stack.anonymous().await;
    // Unknown token.
    let err = join::join_with_token(&anon, "no-such-token", Duration::from_secs(60)).await.unwrap_err();
    assert!(matches!(&err, Error::AccessDenied(m) if m.contains("token expired or not found")), "{err}");
    // Token for a bot that does not exist.
    admin.create_token(token("orphan", "ghost")).await.unwrap();
    let err = join::join_with_token(&anon, "orphan", Duration::from_secs(60)).await.unwrap_err();
    assert!(matches!(&err, Error::AccessDenied(m) if m.contains("ghost")), "{err}");
    // A token of another join method on the token endpoint.
    let mut az = token("az", "ghost");
    az.spec.as_mut().unwrap().join_method = "azure".into();
    az.spec.as_mut().unwrap().azure = Some(ProvisionTokenSpecV2Azure {
        allow: vec![provision_token_spec_v2_azure::Rule { subscription: "s".into(), resource_groups: vec![] }],
    });
    admin.create_token(az).await.unwrap();
    let err = join::join_with_token(&anon, "az", Duration::from_secs(60)).await.unwrap_err();
    assert!(matches!(&err, Error::AccessDenied(m) if m.contains("\"azure\" join method")), "{err}");
}

#[tokio::test]
async fn malformed_join_requests_get_errors_and_change_nothing() {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    admin.create_bot(bot("robot", &[])).await.unwrap();
    admin.create_token(token("keep-me", "robot")).await.unwrap();
    let anon = stack.anonymous().await;

    // Missing token name.
    let r = join::JoinStream::open(&anon, v1::ClientInit { system_role: "Bot".into(), ..Default::default() }).await;
    let err = match r {
        Ok(mut s) => s.recv().await.unwrap_err(),
        Err(e) => e,
    };
    assert!(matches!(&err, Error::BadParameter(m) if m.contains("TokenName")), "{err}");

    // Garbage keys.
    let mut s = join::JoinStream::open(
        &anon,
        v1::ClientInit { token_name: "keep-me".into(), system_role: "Bot".into(), ..Default::default() },
    )
    .await
    .unwrap();
    s.recv_server_init().await.unwrap();
    s.send(v1::join_request::Payload::TokenInit(v1::TokenInit {
        client_params: Some(v1::ClientParams {
            payload: Some(v1::client_params::Payload::BotParams(v1::BotParams {
                public_keys: Some(v1::PublicKeys {
                    public_tls_key: b"garbage".to_vec(),
                    public_ssh_key: b"junk".to_vec(),
                }),
                expires: Some(join::timestamp(SystemTime::now())),
            })),
        }),
        secret: String::new(),
    }))
    .await
    .unwrap();
    let err = s.recv().await.unwrap_err();
    assert!(matches!(&err, Error::BadParameter(m) if m.contains("TLS public key")), "{err}");

    // Legacy garbage keys.
    let mut req = join::legacy_bot_request("keep-me", &KeyPair::generate(), SystemTime::now());
    req.public_ssh_key = b"not a key".to_vec();
    let err: Error = anon.legacy_join().register_using_token(req).await.unwrap_err().into();
    assert!(matches!(&err, Error::BadParameter(m) if m.contains("SSH public key")), "{err}");

    // Oversized message.
    let huge = "x".repeat(5 * 1024 * 1024);
    let err: Error = anon
        .legacy_join()
        .register_using_token(join::legacy_bot_request(&huge, &KeyPair::generate(), SystemTime::now()))
        .await
        .unwrap_err()
        .into();
    assert!(!matches!(err, Error::NotFound(_)), "{err}");

    // The token survived every failed attempt.
    assert!(admin.get_token("keep-me").await.is_ok());
    // And the server is still healthy.
    admin.ping().await.unwrap();
}

#[tokio::test]
async fn bot_identity_permissions() {
    let stack = Devstack::start();
    let (key, certs, _) = join_bot(&stack, "robot", &["access"]).await;
    let cluster = stack.info["teleport"]["cluster_name"].as_str().unwrap().to_string();
    let identity = certs.into_identity(&key, &cluster);
    let bot_client = stack.client(Credentials::from_identity(&identity).unwrap()).await;

    // A bot may not manage tokens or bots.
    assert!(matches!(bot_client.get_tokens().await, Err(Error::AccessDenied(_))));
    assert!(matches!(bot_client.create_token(token("evil", "robot")).await, Err(Error::AccessDenied(_))));
    assert!(matches!(bot_client.delete_bot("robot").await, Err(Error::AccessDenied(_))));

    // It may get role-impersonated certificates for its own roles...
    let out_key = KeyPair::generate();
    let req = UserCertsRequest {
        username: "bot-robot".into(),
        expires: Some(join::timestamp(SystemTime::now() + Duration::from_secs(600))),
        role_requests: vec!["access".into()],
        use_role_requests: true,
        ssh_public_key: out_key.ssh_authorized_key().into_bytes(),
        tls_public_key: out_key.public_key_pkix_pem().into_bytes(),
        ..Default::default()
    };
    let out = bot_client.generate_user_certs(req.clone()).await.unwrap();
    let info = verify_client_cert(&stack, std::str::from_utf8(&out.tls).unwrap());
    assert_eq!(info.roles, vec!["access"]);
    assert!(!info.renewable);

    // ...but not for roles it does not hold, nor for another user.
    let mut bad = req.clone();
    bad.role_requests = vec!["editor".into()];
    assert!(matches!(bot_client.generate_user_certs(bad).await, Err(Error::AccessDenied(_))));
    let mut other = req.clone();
    other.username = "bot-other".into();
    assert!(matches!(bot_client.generate_user_certs(other).await, Err(Error::AccessDenied(_))));

    // A token-joined bot renews its own certificate with a fresh key.
    let renew_key = KeyPair::generate();
    let renewal = UserCertsRequest {
        username: "bot-robot".into(),
        expires: Some(join::timestamp(SystemTime::now() + Duration::from_secs(600))),
        ssh_public_key: renew_key.ssh_authorized_key().into_bytes(),
        tls_public_key: renew_key.public_key_pkix_pem().into_bytes(),
        ..Default::default()
    };
    let renewed = bot_client.generate_user_certs(renewal.clone()).await.unwrap();
    let info = verify_client_cert(&stack, std::str::from_utf8(&renewed.tls).unwrap());
    assert_eq!(info.generation, Some(2));
    assert!(info.renewable);

    // Renewing again with the certificate that was already renewed (a lost
    // answer, or a copied identity) is refused, as Teleport refuses it.
    let again = bot_client.generate_user_certs(renewal).await;
    match again {
        Err(Error::AccessDenied(m)) => assert!(m.contains("generation mismatch: stored=2, presented=1"), "{m}"),
        other => panic!("expected a generation mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn state_survives_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stack");
    let ca_before;
    {
        let stack = Devstack::start_in(&dir, &[]);
        let admin = stack.admin().await;
        admin.create_bot(bot("keeper", &["access"])).await.unwrap();
        admin.create_token(token("kept-token", "keeper")).await.unwrap();
        ca_before = stack.ca_pem();
    }
    let stack = Devstack::start_in(&dir, &[]);
    assert_eq!(stack.ca_pem(), ca_before, "CAs persist");
    let admin = stack.admin().await;
    assert_eq!(admin.get_bot("keeper").await.unwrap().status.unwrap().user_name, "bot-keeper");
    assert_eq!(admin.get_token("kept-token").await.unwrap().spec.unwrap().bot_name, "keeper");
    // A bot that joined before the restart... joins again fine after it.
    let certs = join::join_with_token(&stack.anonymous().await, "kept-token", Duration::from_secs(600)).await.unwrap();
    verify_client_cert(&stack, &certs.1.tls_cert_pem);
}
