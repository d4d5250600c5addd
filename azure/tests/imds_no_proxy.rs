//! Its own test binary because it changes process-wide proxy variables.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

#[path = "common/mod.rs"]
mod common;

use joinery_azure::imds::{IMDS_ENDPOINT_ENV, ImdsClient, RetryPolicy};

#[tokio::test]
async fn ignores_proxy_env_and_reads_endpoint_env() {
    let server = common::spawn(|_, _| common::Response::new(200, r#"{"apiVersions":["2021-02-01"]}"#)).await;
    // A "proxy" that records whether anyone talks to it.
    let proxy = common::spawn(|_, _| common::Response::new(502, "proxied")).await;
    // SAFETY: this binary holds a single test, so no other thread reads the environment.
    unsafe {
        for k in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            std::env::set_var(k, &proxy.base);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
        std::env::set_var(IMDS_ENDPOINT_ENV, &server.base);
    }
    let c = ImdsClient::from_env().unwrap().with_retry_policy(RetryPolicy::none());
    assert_eq!(c.base_url(), server.base);
    assert_eq!(c.api_version().await.unwrap(), "2021-02-01");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(proxy.requests().len(), 0);

    // Sanity check that the proxy variables are live: an ordinary client does use them.
    let via_proxy = reqwest::get(format!("{}/metadata/versions", server.base)).await.unwrap();
    assert_eq!(via_proxy.status().as_u16(), 502);
    assert_eq!(proxy.requests().len(), 1);

    unsafe { std::env::remove_var(IMDS_ENDPOINT_ENV) };
    assert_eq!(ImdsClient::from_env().unwrap().base_url(), "http://169.254.169.254");
}
