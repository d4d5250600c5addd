//! `joinery-bench`: the benchmark figures the issues ask for, on this machine.
//!
//! Run with `make bench` (release binaries). Each section starts what it
//! needs; at the end one table lists every figure with what it is compared
//! to (Terraform's own floor, an ideal schedule, a target), and the same
//! figures are written as JSON (`target/joinery-bench.json`, or
//! `JOINERY_BENCH_JSON`) for comparing runs. Nothing here is a pass/fail test.
//!
//! * `devstack`: token upserts and joins per second, Azure joins verified per
//!   second on one and two cores, `GetToken` round trips through the client.
//! * `agent`: one-shot Azure join time and peak RSS, binary size, idle daemon.
//! * `fleet`: 1,000 agents renewing through an auth outage.
//! * `provider`: start-to-handshake latency, and `terraform plan` over 500
//!   tokens + 500 bots against the same count of `terraform_data`.
//!
//! `joinery-bench agent fleet` runs only those sections.

// This target links every dependency of its package; unused ones are
// caught on the library target.
#![allow(unused_crate_dependencies)]

mod agent;
mod cpu;
mod devstack;
mod fleet;
mod report;
mod terraform;

use std::path::Path;
use std::time::{Duration, SystemTime};

use joinery_teleport::proto::teleport::header::v1::Metadata as HeaderMetadata;
use joinery_teleport::proto::teleport::machineid::v1::{Bot, BotSpec};
use joinery_teleport::proto::types::{Metadata, ProvisionTokenSpecV2, ProvisionTokenV2};
use joinery_teleport::tls::{ALPN_PROXY_GRPC, API_DOMAIN, TlsSettings, Trust};
use joinery_teleport::{Client, ClientConfig, Credentials, RetryPolicy};
use joinery_testkit::Devstack;

use report::Report;

pub(crate) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub(crate) async fn admin(stack: &Devstack) -> Client {
    let path = stack.info["teleport"]["admin_identity_file"].as_str().unwrap_or_default();
    let creds = Credentials::from_identity_file(Path::new(path)).expect("admin identity");
    Client::connect(ClientConfig {
        addr: stack.info["teleport"]["addr"].as_str().unwrap_or_default().to_string(),
        tls: creds.tls_settings(),
        retry: RetryPolicy::none(),
        dial_timeout: Duration::from_secs(5),
    })
    .await
    .expect("connect")
}

pub(crate) async fn anonymous(stack: &Devstack) -> Client {
    let ca = std::fs::read_to_string(stack.info["teleport"]["ca_file"].as_str().unwrap_or_default()).expect("ca");
    Client::connect(ClientConfig {
        addr: stack.info["teleport"]["addr"].as_str().unwrap_or_default().to_string(),
        tls: TlsSettings {
            trust: Trust::Roots(joinery_teleport::identity::pem_certs_to_der(&ca)),
            client_auth: None,
            server_name: API_DOMAIN.into(),
            alpn: vec![ALPN_PROXY_GRPC.into(), "h2".into()],
        },
        retry: RetryPolicy::none(),
        dial_timeout: Duration::from_secs(5),
    })
    .await
    .expect("connect")
}

/// Creates the bot `name` (no roles) that a section's tokens join as.
pub(crate) async fn create_bot(admin: &Client, name: &str) {
    admin
        .create_bot(Bot {
            metadata: Some(HeaderMetadata { name: name.into(), ..Default::default() }),
            spec: Some(BotSpec::default()),
            ..Default::default()
        })
        .await
        .expect("bot");
}

pub(crate) fn token(name: &str, bot: &str) -> ProvisionTokenV2 {
    ProvisionTokenV2 {
        version: "v2".into(),
        metadata: Some(Metadata { name: name.into(), ..Default::default() }),
        spec: Some(ProvisionTokenSpecV2 { roles: vec!["Bot".into()], bot_name: bot.into(), ..Default::default() }),
        ..Default::default()
    }
}

fn main() {
    let which: Vec<String> = std::env::args().skip(1).collect();
    let all = which.is_empty();
    let wanted = |name: &str| all || which.iter().any(|w| w == name);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut report = Report::new();
    if wanted("devstack") {
        runtime.block_on(devstack::bench_devstack(&mut report));
    }
    if wanted("azure") {
        runtime.block_on(devstack::bench_azure(&mut report, "0"));
        runtime.block_on(devstack::bench_azure(&mut report, "0,1"));
    }
    if wanted("agent") {
        agent::bench_agent(&mut report);
    }
    if wanted("fleet") {
        runtime.block_on(fleet::bench_fleet(&mut report));
    }
    if wanted("provider") {
        terraform::bench_handshake(&mut report);
        terraform::bench_terraform(&mut report);
    }
    print!("{}", report.table());
    let json = std::env::var("JOINERY_BENCH_JSON").unwrap_or_else(|_| "target/joinery-bench.json".into());
    match report.write_json(Path::new(&json), SystemTime::now()) {
        Ok(()) => println!("written to {json}"),
        Err(e) => eprintln!("cannot write {json}: {e}"),
    }
}
