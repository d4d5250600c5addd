//! The emulated GitHub Actions token service and the identities it unlocks, against a real
//! devstack process: a pipeline's ID token joins Teleport with the `github` method (both join
//! services) and signs in to Entra through a federated identity credential; tokens whose
//! rules, audience, subject or age are wrong are refused with each service's reason.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use base64::Engine as _;
use joinery_devstack::github::Run;
use joinery_teleport::Error;
use joinery_teleport::join::{JoinService, join_with_id_token, legacy_bot_request};
use joinery_teleport::keys::KeyPair;
use joinery_teleport::proto::types::{ProvisionTokenSpecV2GitHub, ProvisionTokenV2, provision_token_spec_v2_git_hub};
use joinery_testkit::Devstack;
use serde_json::Value;

use common::{bot, token, verify_client_cert};

const TTL: Duration = Duration::from_secs(3600);
/// What Teleport asks GitHub for.
const TELEPORT_AUDIENCE: &str = "teleport.cluster.local";
/// What Entra's federated credentials expect.
const ENTRA_AUDIENCE: &str = "api://AzureADTokenExchange";

fn http(stack: &Devstack) -> reqwest::Client {
    let ca = std::fs::read(stack.info["github"]["ca_file"].as_str().unwrap()).unwrap();
    let mut b = reqwest::Client::builder().no_proxy();
    for c in reqwest::Certificate::from_pem_bundle(&ca).unwrap() {
        b = b.add_root_certificate(c);
    }
    b.build().unwrap()
}

/// A new run's `(request URL, request token)`.
async fn start_run(stack: &Devstack, run: &Run) -> (String, String) {
    let resp =
        http(stack).post(stack.info["github"]["runs_endpoint"].as_str().unwrap()).json(run).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    (v["request_url"].as_str().unwrap().to_string(), v["request_token"].as_str().unwrap().to_string())
}

/// An ID token for `run`, fetched as `@actions/core` and tbot fetch it.
async fn id_token(stack: &Devstack, run: &Run, audience: &str) -> String {
    let (url, bearer) = start_run(stack, run).await;
    let resp = http(stack)
        .get(format!("{url}&audience={}", urlencode(audience)))
        .header("Authorization", format!("bearer {bearer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    v["value"].as_str().unwrap().to_string()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn github_token(name: &str, rule: provision_token_spec_v2_git_hub::Rule) -> ProvisionTokenV2 {
    let mut t = token(name, "pipeline");
    if let Some(spec) = t.spec.as_mut() {
        spec.join_method = "github".into();
        spec.git_hub = Some(ProvisionTokenSpecV2GitHub { allow: vec![rule], ..Default::default() });
    }
    t
}

async fn stack_with_github_token(rule: provision_token_spec_v2_git_hub::Rule) -> Devstack {
    let stack = Devstack::start();
    let admin = stack.admin().await;
    admin.create_bot(bot("pipeline", &["access"])).await.unwrap();
    admin.create_token(github_token("gh-token", rule)).await.unwrap();
    stack
}

fn repo_rule() -> provision_token_spec_v2_git_hub::Rule {
    provision_token_spec_v2_git_hub::Rule {
        repository: "joinery-demo/infrastructure".into(),
        r#ref: "refs/heads/main".into(),
        ..Default::default()
    }
}

/// The legacy service's answer to an ID-token join.
async fn legacy_join(stack: &Devstack, jwt: &str) -> Result<(), tonic::Status> {
    let key = KeyPair::generate();
    let req = joinery_teleport::proto::types::RegisterUsingTokenRequest {
        id_token: jwt.to_string(),
        ..legacy_bot_request("gh-token", &key, std::time::SystemTime::now() + TTL)
    };
    stack.anonymous().await.legacy_join().register_using_token(req).await.map(|_| ())
}

#[tokio::test]
async fn the_token_service_speaks_githubs_protocol() {
    let stack = Devstack::start();
    let gh = &stack.info["github"];
    assert_eq!(gh["issuer"], "https://token.actions.githubusercontent.com");
    let env = &gh["actions_env"];
    assert_eq!(env["GITHUB_ACTIONS"], "true");
    assert!(env["ACTIONS_ID_TOKEN_REQUEST_URL"].as_str().unwrap().ends_with("/idtoken?api-version=2.0"));

    // The default run's token, with and without an audience.
    let url = env["ACTIONS_ID_TOKEN_REQUEST_URL"].as_str().unwrap();
    let bearer = env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"].as_str().unwrap();
    let get = |u: String, auth: Option<String>| {
        let mut r = http(&stack).get(u);
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        r.send()
    };
    let v: Value = get(url.to_string(), Some(format!("Bearer {bearer}"))).await.unwrap().json().await.unwrap();
    let claims = payload(v["value"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://github.com/joinery-demo");
    assert_eq!(claims["iss"], "https://token.actions.githubusercontent.com");
    assert_eq!(claims["sub"], "repo:joinery-demo/infrastructure:ref:refs/heads/main");
    assert_eq!(claims["repository_owner"], "joinery-demo");
    assert_eq!(claims["ref_type"], "branch");
    assert_eq!(claims["workflow"], "terraform");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);

    let t =
        id_token(&stack, &Run { environment: Some("production".into()), ..Run::default() }, TELEPORT_AUDIENCE).await;
    let claims = payload(&t);
    assert_eq!(claims["aud"], TELEPORT_AUDIENCE);
    assert_eq!(claims["sub"], "repo:joinery-demo/infrastructure:environment:production");
    assert_eq!(claims["environment"], "production");

    // No request token, or a wrong one: 401.
    assert_eq!(get(url.to_string(), None).await.unwrap().status(), 401);
    assert_eq!(get(url.to_string(), Some("Bearer nope".into())).await.unwrap().status(), 401);

    // Discovery names GitHub's issuer; the keys verify the tokens.
    let base = gh["served_at"].as_str().unwrap();
    let doc: Value = get(format!("{base}/.well-known/openid-configuration"), None).await.unwrap().json().await.unwrap();
    assert_eq!(doc["issuer"], "https://token.actions.githubusercontent.com");
    assert_eq!(doc["jwks_uri"], "https://token.actions.githubusercontent.com/.well-known/jwks");
    let jwks: jsonwebtoken::jwk::JwkSet =
        get(format!("{base}/.well-known/jwks"), None).await.unwrap().json().await.unwrap();
    joinery_devstack::oidc::check_signature(&t, &jwks).unwrap();
}

#[tokio::test]
async fn a_pipeline_joins_with_the_github_method_through_both_services() {
    let stack = stack_with_github_token(repo_rule()).await;
    let jwt = id_token(&stack, &Run::default(), TELEPORT_AUDIENCE).await;
    let (_key, certs, service) =
        join_with_id_token(&stack.anonymous().await, "gh-token", "github", &jwt, TTL).await.unwrap();
    assert_eq!(service, JoinService::V1);
    let info = verify_client_cert(&stack, &certs.tls_cert_pem);
    assert_eq!(info.bot_name.as_deref(), Some("pipeline"));
    assert!(!info.renewable, "delegated joins are not renewable");
    // The legacy service takes the same token in IDToken; github tokens are reusable.
    legacy_join(&stack, &jwt).await.unwrap();
    stack.admin().await.get_token("gh-token").await.unwrap();
}

#[tokio::test]
async fn a_workflow_the_rules_do_not_allow_is_refused() {
    let rule = provision_token_spec_v2_git_hub::Rule { workflow: "deploy".into(), ..repo_rule() };
    let stack = stack_with_github_token(rule).await;
    let jwt = id_token(&stack, &Run::default(), TELEPORT_AUDIENCE).await;
    let err = join_with_id_token(&stack.anonymous().await, "gh-token", "github", &jwt, TTL).await.unwrap_err();
    match err {
        Error::AccessDenied(m) => {
            assert_eq!(m, "verifying OIDC token\n\tid token claims did not match any allow rules")
        }
        other => panic!("expected access denied, got {other:?}"),
    }
    let status = legacy_join(&stack, &jwt).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert_eq!(status.message(), "id token claims did not match any allow rules");
}

#[tokio::test]
async fn expired_or_misaddressed_tokens_are_refused_by_teleport() {
    let stack = stack_with_github_token(repo_rule()).await;
    let expired = id_token(&stack, &Run { issued_secs_ago: 3600, ..Run::default() }, TELEPORT_AUDIENCE).await;
    let status = legacy_join(&stack, &expired).await.unwrap_err();
    assert_eq!(status.message(), "validating with oidc\n\tverifying token\n\t\ttoken has expired");
    let err = join_with_id_token(&stack.anonymous().await, "gh-token", "github", &expired, TTL).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("verifying OIDC token\n\tvalidating with oidc\n\t\tverifying token\n\t\t\ttoken has expired"),
        "{err}"
    );

    let for_azure = id_token(&stack, &Run::default(), ENTRA_AUDIENCE).await;
    let status = legacy_join(&stack, &for_azure).await.unwrap_err();
    assert_eq!(
        status.message(),
        "validating with oidc\n\tverifying token\n\t\taudience is not valid: Audience must contain client_id \"teleport.cluster.local\""
    );
    // A token-method join token does not take ID tokens.
    let admin = stack.admin().await;
    admin.create_token(token("plain", "pipeline")).await.unwrap();
    let err = join_with_id_token(&stack.anonymous().await, "plain", "github", &for_azure, TTL).await.unwrap_err();
    assert!(err.to_string().contains("only valid for the \"token\" join method"), "{err}");
}

/// Entra's answer to a client-credentials grant with `assertion` for the provider's app.
async fn entra_grant(stack: &Devstack, assertion: &str) -> (u16, Value) {
    let az = &stack.info["azure"];
    let url =
        format!("{}/{}/oauth2/v2.0/token", az["authority_host"].as_str().unwrap(), az["tenant_id"].as_str().unwrap());
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", az["client_id"].as_str().unwrap()),
        ("scope", "https://management.azure.com/.default"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion),
    ];
    let body: String = form.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&");
    let resp = http(stack)
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn entra_signs_the_pipeline_in_through_its_federated_credential() {
    let stack = Devstack::start();
    let assertion = id_token(&stack, &Run::default(), ENTRA_AUDIENCE).await;
    let (status, body) = entra_grant(&stack, &assertion).await;
    assert_eq!(status, 200, "{body}");
    let access = payload(body["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], "https://management.azure.com/");
    assert_eq!(access["appid"], stack.info["azure"]["client_id"]);

    let refused = |(status, body): (u16, Value)| {
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"], "invalid_client");
        (body["error_codes"][0].as_u64().unwrap(), body["error_description"].as_str().unwrap().to_string())
    };
    let (code, text) = refused(entra_grant(&stack, &id_token(&stack, &Run::default(), TELEPORT_AUDIENCE).await).await);
    assert_eq!(code, 700212);
    assert!(text.starts_with("AADSTS700212: No matching federated identity record found for presented assertion audience 'teleport.cluster.local'."), "{text}");

    let other = Run { repository: "joinery-demo/other".into(), ..Run::default() };
    let (code, text) = refused(entra_grant(&stack, &id_token(&stack, &other, ENTRA_AUDIENCE).await).await);
    assert_eq!(code, 700213);
    assert!(text.contains("presented assertion subject 'repo:joinery-demo/other:ref:refs/heads/main'"), "{text}");

    let expired = Run { issued_secs_ago: 3600, ..Run::default() };
    let (code, text) = refused(entra_grant(&stack, &id_token(&stack, &expired, ENTRA_AUDIENCE).await).await);
    assert_eq!(code, 700024);
    assert!(text.starts_with("AADSTS700024: Client assertion is not within its valid time range."), "{text}");

    // A token signed by someone else is not GitHub's, whatever it claims.
    let forged = joinery_devstack::azure::sign::TokenIssuer::generate().unwrap().issue(&payload(&assertion)).unwrap();
    let (code, _) = refused(entra_grant(&stack, &forged).await);
    assert_eq!(code, 700027);
}
