//! The provider under Terraform: start-up, and plans over many resources
//! against the same count of `terraform_data` in the same shape (Terraform's own floor),
//! with where the CPU goes: Terraform itself, the provider, the devstack.
//!
//! What bounds the ratio (measured, Terraform 1.11, 500 tokens + 500 bots): Terraform's own
//! CPU is over 90 % of a plan, the provider's about 5 %, the devstack's about 1 %. A plugin
//! resource costs Terraform several times a built-in `terraform_data` one: three gRPC calls
//! per instance (UpgradeResourceState, ReadResource, PlanResourceChange) over go-plugin's
//! mTLS, and a schema of 25 (bot) or 145 (token, the official provider's shape) attributes to
//! walk, against 4.

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

/// A plan's median wall time over three runs, and the mean CPU per run of Terraform with its
/// plugins (waited-for children) and of the devstack.
struct Plan {
    wall: Duration,
    terraform_cpu: Duration,
    devstack_cpu: Duration,
}

fn timed_plan(ws: &Workspace, stack: Option<&Devstack>) -> Plan {
    let mut samples = Vec::new();
    let stack_cpu = || stack.map(|s| crate::cpu::of(s.pid())).unwrap_or_default();
    let (children, server) = (crate::cpu::of_waited_children(), stack_cpu());
    for _ in 0..3 {
        let start = Instant::now();
        let r = ws.plan(&[]);
        assert_eq!(r.code, 0, "bench plan must be empty: {}", r.all());
        samples.push(start.elapsed());
    }
    Plan {
        wall: median(samples),
        terraform_cpu: (crate::cpu::of_waited_children() - children) / 3,
        devstack_cpu: (stack_cpu() - server) / 3,
    }
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
            "#!/bin/sh\nexec /usr/bin/time -a -o {} -f '%M %U %S' {} \"$@\"\n",
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
    let main_tf = format!(
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
    );
    ws.write(&main_tf);
    let start = Instant::now();
    ws.apply();
    let apply = start.elapsed();
    let _ = std::fs::remove_file(rss_dir.path().join("rss"));
    let teleport_plan = timed_plan(&ws, Some(&stack));
    // One line per provider process: peak RSS (KiB), user and system CPU (s).
    let runs: Vec<Vec<f64>> = std::fs::read_to_string(rss_dir.path().join("rss"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split_whitespace().filter_map(|f| f.parse().ok()).collect::<Vec<f64>>())
        .filter(|f| f.len() == 3)
        .collect();
    let rss_kb = runs.iter().map(|f| f[0]).fold(0.0, f64::max);
    let provider_cpu = runs.iter().map(|f| f[1] + f[2]).sum::<f64>() / 3.0;

    let floor = Workspace::new(&label, &tf, vec![]);
    // The same shape as the Teleport configuration: N of one resource, N of another each
    // referencing its partner by `count.index`. The reference matters: Terraform evaluates
    // `b[count.index]` by building the whole `b` tuple, which alone makes 1000
    // `terraform_data` plan 2.7× slower (1.6 s → 4.3 s CPU, Terraform 1.11) than 1000
    // unrelated ones — the cause of the 5.8× vs 1.6× disagreement the issue noted.
    std::fs::write(
        floor.work().join("main.tf"),
        format!(
            r#"resource "terraform_data" "b" {{
  count = {N}
  input = {{ name = "bench-${{count.index}}", roles = ["access"] }}
}}
resource "terraform_data" "t" {{
  count = {N}
  input = {{ name = "bench-token-${{count.index}}", bot_name = terraform_data.b[count.index].output.name }}
}}
"#
        ),
    )
    .expect("floor config");
    floor.ok(&["init", "-no-color", "-input=false"]);
    floor.apply();
    let floor_plan = timed_plan(&floor, None);
    let framework = framework_floor(&label, &tf, &ws, &main_tf);
    report.add("terraform", format!("apply {N} tokens + {N} bots ({label})"), apply.as_secs_f64(), "s", None);
    report.add(
        "terraform",
        format!("plan {N} tokens + {N} bots (median of 3)"),
        teleport_plan.wall.as_secs_f64(),
        "s",
        Some(format!("{} terraform_data, same shape: {:.2} s", 2 * N, floor_plan.wall.as_secs_f64())),
    );
    report.add(
        "terraform",
        "plan ratio teleport / terraform_data",
        teleport_plan.wall.as_secs_f64() / floor_plan.wall.as_secs_f64(),
        "x",
        Some("target 1.2".into()),
    );
    if let Some(framework) = &framework {
        report.add(
            "terraform",
            "plan ratio teleport / do-nothing framework provider, same schemas",
            teleport_plan.wall.as_secs_f64() / framework.wall.as_secs_f64(),
            "x",
            Some(format!(
                "framework floor: {:.2} s wall, {:.2} s CPU ({:.1}x terraform_data's CPU)",
                framework.wall.as_secs_f64(),
                framework.terraform_cpu.as_secs_f64(),
                framework.terraform_cpu.as_secs_f64() / floor_plan.terraform_cpu.as_secs_f64()
            )),
        );
    }
    let terraform_own = teleport_plan.terraform_cpu.as_secs_f64() - provider_cpu;
    report.add(
        "terraform",
        "plan CPU: Terraform and provider, per plan",
        teleport_plan.terraform_cpu.as_secs_f64(),
        "s",
        Some(format!(
            "terraform_data {:.2} s{}",
            floor_plan.terraform_cpu.as_secs_f64(),
            framework
                .as_ref()
                .map(|f| format!(", framework floor {:.2} s", f.terraform_cpu.as_secs_f64()))
                .unwrap_or_default()
        )),
    );
    report.add(
        "terraform",
        "plan CPU: Terraform itself, per plan",
        terraform_own,
        "s",
        Some(format!("over terraform_data: {:.2} s", floor_plan.terraform_cpu.as_secs_f64())),
    );
    report.add(
        "terraform",
        "plan CPU: provider, per plan",
        provider_cpu,
        "s",
        Some(format!("devstack (Teleport) {:.2} s", teleport_plan.devstack_cpu.as_secs_f64())),
    );
    report.add("provider", "peak RSS during the plans", rss_kb / 1024.0, "MiB", None);
}

/// The same configuration planned with the do-nothing terraform-plugin-framework provider of
/// `tests/floor-provider` serving the provider's own resource schemas
/// (`scripts/install-floor-provider.sh`, `make bench` builds it): what any framework provider
/// with the official schema costs Terraform. `None` when it is not built.
fn framework_floor(label: &str, tf: &std::path::Path, teleport: &Workspace, main_tf: &str) -> Option<Plan> {
    let bin = joinery_testkit::workspace_root().join(".tools/bin/terraform-provider-floor");
    if !bin.is_file() {
        eprintln!("no {}: run ./scripts/install-floor-provider.sh (make bench does)", bin.display());
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = dir.path().join("schema.json");
    std::fs::write(&schema, teleport.ok(&["providers", "schema", "-json"]).stdout).expect("schema");
    let env = vec![("JOINERY_FLOOR_SCHEMA".to_string(), schema.display().to_string())];
    let floor = Workspace::with_provider(label, tf, env, "joinery/floor", bin.parent()?);
    let requirements = "terraform {\n  required_providers {\n    teleport = { source = \"joinery/floor\" }\n  }\n}\n";
    std::fs::write(floor.work().join("main.tf"), format!("{requirements}{main_tf}")).expect("floor main.tf");
    floor.apply();
    Some(timed_plan(&floor, None))
}
