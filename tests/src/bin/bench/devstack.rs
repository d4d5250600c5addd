//! The devstack's own throughput: token upserts and joins, Azure joins
//! verified, and client round trips.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use joinery_teleport::join;
use joinery_testkit::Devstack;

use crate::report::Report;
use crate::{admin, anonymous, create_bot, token};

pub(crate) async fn bench_devstack(report: &mut Report) {
    const JOINS: usize = 400;
    const CLIENTS: usize = 16;
    let stack = Devstack::start();
    let admin = admin(&stack).await;
    create_bot(&admin, "bench").await;
    let start = Instant::now();
    for i in 0..JOINS {
        admin.upsert_token(token(&format!("bench-{i}"), "bench")).await.expect("token");
    }
    let upserts = JOINS as f64 / start.elapsed().as_secs_f64();
    report.add("devstack", "token upserts (sequential, persisted)", upserts, "/s", None);

    let queue = Arc::new(std::sync::Mutex::new((0..JOINS).collect::<Vec<_>>()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let client = anonymous(&stack).await;
        let queue = queue.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().map(|mut q| q.pop()).ok().flatten();
                let Some(i) = next else { break };
                join::join_with_token(&client, &format!("bench-{i}"), Duration::from_secs(3600)).await.expect("join");
            }
        }));
    }
    for t in tasks {
        t.await.expect("join task");
    }
    let joins = JOINS as f64 / start.elapsed().as_secs_f64();
    report.add("devstack", format!("token joins ({CLIENTS} clients, loopback)"), joins, "/s", None);

    admin.upsert_token(token("probe", "bench")).await.expect("probe");
    let calls = 2000;
    let start = Instant::now();
    for _ in 0..calls {
        admin.get_token("probe").await.expect("get");
    }
    let seq = calls as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let c = admin.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..calls / 16 {
                c.get_token("probe").await.expect("get");
            }
        }));
    }
    for t in tasks {
        t.await.expect("get task");
    }
    let par = calls as f64 / start.elapsed().as_secs_f64();
    report.add("client", "GetToken round trips (1 in flight)", seq, "/s", None);
    report.add("client", "GetToken round trips (16 in flight)", par, "/s", None);
}

/// Azure joins per second the devstack verifies (PKCS#7, JWT, allow rules,
/// certificate issuance per join), with the devstack pinned to `cpus`.
pub(crate) async fn bench_azure(report: &mut Report, cpus: &str) {
    const JOINS: usize = 200;
    const CLIENTS: usize = 8;
    let mut stack = Devstack::start();
    let pid = stack.pid();
    let _ = Command::new("taskset").args(["-a", "-p", "-c", cpus]).arg(pid.to_string()).stdout(Stdio::null()).status();
    let admin = admin(&stack).await;
    create_bot(&admin, "azure-bench").await;
    let sub = stack.info["azure"]["subscription_id"].as_str().unwrap_or_default().to_string();
    let mut t = token("azure-bench", "azure-bench");
    if let Some(spec) = t.spec.as_mut() {
        spec.join_method = "azure".into();
        spec.azure = Some(joinery_teleport::proto::types::ProvisionTokenSpecV2Azure {
            allow: vec![joinery_teleport::proto::types::provision_token_spec_v2_azure::Rule {
                subscription: sub,
                resource_groups: vec!["group1".into()],
            }],
        });
    }
    admin.upsert_token(t).await.expect("token");
    let vm = stack.info["azure"]["vms"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "vm-1"))
        .cloned()
        .unwrap_or_default();
    let imds_url = vm["imds_endpoint"].as_str().unwrap_or_default().to_string();
    let aia_host = vm["agent_env"]["JOINERY_AZURE_AIA_ALLOW"].as_str().unwrap_or_default().to_string();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = anonymous(&stack).await;
        let imds = joinery_azure::imds::ImdsClient::new(imds_url.clone()).expect("imds");
        let aia = joinery_azure::aia::AiaFetcher::new().expect("aia").allow_host(aia_host.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..JOINS / CLIENTS {
                joinery_agent::join::azure::join_with_azure(
                    &client,
                    "azure-bench",
                    Duration::from_secs(3600),
                    &imds,
                    None,
                    &aia,
                )
                .await
                .unwrap_or_else(|e| panic!("azure join {c}: {e}"));
            }
        }));
    }
    for t in tasks {
        t.await.expect("azure task");
    }
    let rate = JOINS as f64 / start.elapsed().as_secs_f64();
    report.add("devstack", format!("azure joins verified (cpus {cpus}, {CLIENTS} clients)"), rate, "/s", None);
    stack.stop();
}
