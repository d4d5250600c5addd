//! The emulated IMDS: Azure's request checks and error bodies, and injected faults that the
//! client retries.

use std::time::Duration;

use joinery_azure::imds::{ARM_RESOURCE, ImdsClient, RetryPolicy};
use joinery_testkit::Devstack;
use serde_json::{Value, json};

use crate::support::{imds, vm};

async fn raw_get(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = reqwest::Client::builder().no_proxy().build().unwrap().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn imds_request_checks() {
    let stack = Devstack::start();
    let base = vm(&stack, "vm-1")["imds_endpoint"].as_str().unwrap().to_string();
    let doc = format!("{base}/metadata/attested/document?api-version=2021-02-01&nonce=abc");
    let md = [("Metadata", "true")];
    let (s, b) = raw_get(&doc, &[]).await;
    assert_eq!((s, b["error"].as_str().unwrap()), (400, "Bad request. Required metadata header not specified"));
    let (s, b) =
        raw_get(&format!("{base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x"), &[]).await;
    assert_eq!((s, b["error"].as_str().unwrap()), (400, "invalid_request"));
    let (s, b) = raw_get(&format!("{base}/metadata/attested/document?nonce=abc"), &md).await;
    assert_eq!(s, 400);
    assert!(b["error"].as_str().unwrap().contains("api-version is invalid"));
    assert!(b["newest-versions"].is_array());
    let (s, _) =
        raw_get(&format!("{base}/metadata/attested/document?api-version=2021-02-01&nonce={}", "a".repeat(33)), &md)
            .await;
    assert_eq!(s, 400);
    let (s, _) = raw_get(&doc, &[("Metadata", "True"), ("X-Forwarded-For", "10.0.0.1")]).await;
    assert_eq!(s, 400);
    let (s, _) = raw_get(&format!("{doc}&nonce=def"), &md).await;
    assert_eq!(s, 400, "duplicate parameters are rejected");
    let (s, b) = raw_get(&doc, &[("Metadata", "True")]).await;
    assert_eq!((s, b["encoding"].as_str().unwrap()), (200, "pkcs7"));
    let (s, b) = raw_get(
        &format!("{base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com"),
        &md,
    )
    .await;
    assert_eq!(s, 200);
    assert!(b["expires_in"].is_string() && b["expires_on"].is_string(), "numbers are strings: {b}");
    assert_eq!(b["resource"], "https://management.azure.com");
    let (s, b) = raw_get(&format!("{base}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x&client_id=00000000-0000-4000-8000-000000000000"), &md).await;
    assert_eq!((s, b["error_description"].as_str().unwrap()), (400, "Identity not found"));
}

#[tokio::test]
async fn imds_faults_are_retried_by_the_client() {
    let stack = Devstack::start();
    let v = vm(&stack, "vm-2");
    let faults = v["faults_endpoint"].as_str().unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = http.post(faults).json(&json!({"status": 429, "count": 2})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let client = ImdsClient::new(v["imds_endpoint"].as_str().unwrap()).unwrap().with_retry_policy(RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        budget: Duration::from_secs(10),
    });
    client.access_token(ARM_RESOURCE, None).await.unwrap();
    // Without retries the fault is visible.
    http.post(faults).json(&json!({"status": 410})).send().await.unwrap();
    let err = imds(&stack, "vm-2").access_token(ARM_RESOURCE, None).await.unwrap_err();
    assert!(err.to_string().contains("410"), "{err}");
}
