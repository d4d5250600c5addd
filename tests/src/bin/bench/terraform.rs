//! The provider under Terraform: start-up, and plans over many resources
//! against the same count of `terraform_data` (Terraform's own floor).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use joinery_testkit::terraform::{Workspace, terraforms};
use joinery_testkit::{Devstack, binary};

use crate::median;
use crate::report::Report;

pub(crate) fn bench_handshake(report: &mut Report) {
    let provider = binary("terraform-provider-teleport");
    let mut samples = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let mut child = Command::new(&provider)
            .env("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env_remove("PLUGIN_CLIENT_CERT")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start provider");
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        std::io::BufRead::read_line(&mut out, &mut line).expect("handshake line");
        samples.push(start.elapsed());
        let _ = child.kill();
        let _ = child.wait();
    }
    report.add("provider", "start to handshake line (median of 20)", median(samples).as_secs_f64() * 1e3, "ms", None);
}

fn timed_plan(ws: &Workspace) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let r = ws.plan(&[]);
        assert_eq!(r.code, 0, "bench plan must be empty: {}", r.all());
        samples.push(start.elapsed());
    }
    median(samples)
}

pub(crate) fn bench_terraform(report: &mut Report) {
    const N: usize = 500;
    let (label, tf) = terraforms().remove(0);
    let stack = Devstack::start();

    // Measure the provider's peak RSS through a wrapper that records it.
    let rss_dir = tempfile::tempdir().expect("tempdir");
    let wrapper_dir = rss_dir.path().join("bin");
    std::fs::create_dir_all(&wrapper_dir).expect("dir");
    let wrapper = wrapper_dir.join("terraform-provider-teleport");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec /usr/bin/time -a -o {} -f %M {} \"$@\"\n",
            rss_dir.path().join("rss").display(),
            binary("terraform-provider-teleport").display()
        ),
    )
    .expect("wrapper");
    let _ = Command::new("chmod").arg("+x").arg(&wrapper).status();

    let ws = Workspace::with_provider(
        &label,
        &tf,
        stack.provider_env(),
        joinery_testkit::terraform::TELEPORT_SOURCE,
        &wrapper_dir,
    );
    ws.write(&format!(
        r#"provider "teleport" {{}}
resource "teleport_bot" "b" {{
  count    = {N}
  metadata = {{ name = "bench-${{count.index}}" }}
  spec     = {{ roles = ["access"] }}
}}
resource "teleport_provision_token" "t" {{
  count    = {N}
  version  = "v2"
  metadata = {{ name = "bench-token-${{count.index}}" }}
  spec     = {{ roles = ["Bot"], bot_name = teleport_bot.b[count.index].metadata.name, join_method = "token" }}
}}
"#
    ));
    let start = Instant::now();
    ws.apply();
    let apply = start.elapsed();
    let _ = std::fs::remove_file(rss_dir.path().join("rss"));
    let teleport_plan = timed_plan(&ws);
    let rss_kb: u64 = std::fs::read_to_string(rss_dir.path().join("rss"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .max()
        .unwrap_or(0);

    let floor = Workspace::new(&label, &tf, vec![]);
    std::fs::write(
        floor.work().join("main.tf"),
        format!("resource \"terraform_data\" \"d\" {{\n  count = {}\n  input = \"x-${{count.index}}\"\n}}\n", 2 * N),
    )
    .expect("floor config");
    floor.ok(&["init", "-no-color", "-input=false"]);
    floor.apply();
    let floor_plan = timed_plan(&floor);
    report.add("terraform", format!("apply {N} tokens + {N} bots ({label})"), apply.as_secs_f64(), "s", None);
    report.add(
        "terraform",
        format!("plan {N} tokens + {N} bots (median of 3)"),
        teleport_plan.as_secs_f64(),
        "s",
        Some(format!("{} terraform_data: {:.2} s", 2 * N, floor_plan.as_secs_f64())),
    );
    report.add(
        "terraform",
        "plan ratio teleport / terraform_data",
        teleport_plan.as_secs_f64() / floor_plan.as_secs_f64(),
        "x",
        Some("target 1.2".into()),
    );
    report.add("provider", "peak RSS during the plans", rss_kb as f64 / 1024.0, "MiB", None);
}
