use std::time::Duration;

use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector, ImdsClient, ImdsError, RetryPolicy};
use serde_json::json;

use crate::common::{self, Response};

fn fast() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        budget: Duration::from_secs(10),
    }
}

const DOC: &str = r#"{"encoding":"pkcs7","signature":"MIIK"}"#;

fn client(base: &str) -> ImdsClient {
    ImdsClient::new(base).unwrap().with_retry_policy(fast()).with_api_version("2021-02-01")
}

#[tokio::test]
async fn retries_429_then_succeeds_and_sends_metadata_header() {
    let server = common::spawn(|_, n| {
        if n == 1 {
            Response::json(429, json!({"error": "Too many requests"})).with_header("Retry-After", "0")
        } else {
            Response::new(200, DOC)
        }
    })
    .await;
    let body = client(&server.base).attested_document("abc123").await.unwrap();
    assert_eq!(body, DOC.as_bytes()); // verbatim
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(r.method, "GET");
        assert_eq!(r.header("metadata"), Some("true"));
        assert!(r.header("x-forwarded-for").is_none());
        assert_eq!(r.path(), "/metadata/attested/document");
        assert_eq!(r.query(), "api-version=2021-02-01&format=json&nonce=abc123");
    }
}

#[tokio::test]
async fn the_retry_budget_ends_retries_with_the_last_answer() {
    let server = common::spawn(|_, _| Response::json(500, json!({"error": "server_error"}))).await;
    // Up to 50 retries, but all the waits must fit in 60 ms: the first (10-20 ms) always
    // does, the later ones (30-40 ms each) soon do not. (The first wait must fit whatever the
    // jitter, or the client rightly returns the plain error without retrying.)
    let policy = RetryPolicy {
        max_retries: 50,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(40),
        budget: Duration::from_millis(60),
    };
    let c = ImdsClient::new(&server.base).unwrap().with_retry_policy(policy).with_api_version("2021-02-01");
    let err = c.attested_document("n").await.unwrap_err();
    match &err {
        ImdsError::GaveUp { attempts, last, .. } => {
            assert!(*attempts < 5, "stopped by the budget, not the retry count: {attempts}");
            assert!(matches!(**last, ImdsError::Status { status: 500, .. }), "{last}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("HTTP 500"), "{err}");
}

#[tokio::test]
async fn a_newly_attached_identity_is_waited_for() {
    let server = common::spawn(|_, n| {
        if n < 3 {
            Response::json(400, json!({"error": "invalid_request", "error_description": "Identity not found"}))
        } else {
            Response::json(200, json!({"access_token": "t", "expires_on": "1800000000", "resource": ARM_RESOURCE, "token_type": "Bearer"}))
        }
    })
    .await;
    client(&server.base).access_token(ARM_RESOURCE, None).await.unwrap();
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn retries_410_then_succeeds() {
    let server = common::spawn(|_, n| if n < 3 { Response::new(410, "") } else { Response::new(200, DOC) }).await;
    client(&server.base).attested_document("n").await.unwrap();
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn gives_up_after_repeated_500() {
    let server =
        common::spawn(|_, _| Response::json(500, json!({"error": "server_error", "error_description": "boom"}))).await;
    let err = client(&server.base).attested_document("n").await.unwrap_err();
    assert_eq!(server.requests().len(), 5);
    match &err {
        ImdsError::GaveUp { endpoint, attempts, last } => {
            assert_eq!(endpoint, "/metadata/attested/document");
            assert_eq!(*attempts, 5);
            assert!(matches!(**last, ImdsError::Status { status: 500, .. }));
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("/metadata/attested/document") && msg.contains("boom") && msg.contains("5 attempts"), "{msg}");
}

#[tokio::test]
async fn does_not_retry_400() {
    let server = common::spawn(|_, _| {
        Response::json(
            400,
            json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
        )
    })
    .await;
    let err = client(&server.base).access_token(ARM_RESOURCE, None).await.unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert!(matches!(err, ImdsError::Status { status: 400, .. }), "{err}");
    assert!(err.to_string().contains("Required metadata header not specified"), "{err}");
    // "Identity not found" is retried (an identity may be on its way to the
    // host), and still reported as IMDS said it once the retries are spent.
    let server = common::spawn(|_, _| {
        Response::json(400, json!({"error": "invalid_request", "error_description": "Identity not found"}))
    })
    .await;
    let err = client(&server.base).access_token(ARM_RESOURCE, None).await.unwrap_err();
    assert_eq!(server.requests().len(), 5);
    assert!(
        matches!(&err, ImdsError::GaveUp { last, .. } if matches!(**last, ImdsError::Status { status: 400, .. })),
        "{err}"
    );
    assert!(err.to_string().contains("Identity not found"), "{err}");
}

#[tokio::test]
async fn discovers_version_and_gets_token_with_string_numbers() {
    let server = common::spawn(|req, _| match req.path() {
        "/metadata/versions" => Response::json(200, json!({"apiVersions": ["2018-02-01", "2019-06-04", "2021-02-01"]})),
        "/metadata/identity/oauth2/token" => Response::json(
            200,
            json!({
            "access_token": "eyJ0eXAi.e30.sig", "refresh_token": "", "expires_in": "86399",
            "expires_on": "1506484173", "not_before": "1506480273",
            "resource": "https://management.azure.com/", "token_type": "Bearer", "client_id": "cid"}),
        ),
        _ => Response::new(404, ""),
    })
    .await;
    let c = ImdsClient::new(format!("{}/", server.base)).unwrap().with_retry_policy(RetryPolicy::none());
    let tok = c.access_token(ARM_RESOURCE, Some(&IdentitySelector::ClientId("cid".into()))).await.unwrap();
    assert_eq!(tok.expires_in, Some(86399));
    assert_eq!(tok.expires_on, Some(1506484173));
    assert_eq!(tok.client_id.as_deref(), Some("cid"));
    assert!(!format!("{tok:?}").contains("eyJ0eXAi"), "Debug must redact the token");
    // A second call reuses the discovered version.
    c.access_token(ARM_RESOURCE, None).await.unwrap();
    assert_eq!(server.count("/metadata/versions"), 1);
    let reqs = server.requests();
    assert_eq!(reqs[0].query(), "format=json");
    assert_eq!(reqs[1].query(), "api-version=2021-02-01&client_id=cid&resource=https%3A%2F%2Fmanagement.azure.com%2F");
    assert_eq!(reqs[2].query(), "api-version=2021-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F");
}

#[tokio::test]
async fn rejects_old_imds_and_bad_nonce() {
    let server = common::spawn(|_, _| Response::json(200, json!({"apiVersions": ["2017-04-02", "2018-10-01"]}))).await;
    let c = ImdsClient::new(&server.base).unwrap();
    assert!(matches!(c.api_version().await.unwrap_err(), ImdsError::VersionTooOld(v) if v == "2018-10-01"));
    for bad in ["", "has space", "a/b", &"x".repeat(33)] {
        assert!(matches!(client(&server.base).attested_document(bad).await.unwrap_err(), ImdsError::InvalidNonce));
    }
}

#[tokio::test]
async fn unreachable_endpoint_is_reported() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = ImdsClient::new(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_retry_policy(RetryPolicy { max_retries: 1, ..fast() });
    let err = c.api_version().await.unwrap_err();
    assert!(err.to_string().contains("/metadata/versions") && err.to_string().contains("Azure VM"), "{err}");
}
