//! `joinery-agent check`'s verdict: can this machine join, and if not, why
//! and what to change.
//!
//! For `join_method: azure` the checks run in the order a join needs them,
//! and the first failure is the verdict:
//!
//! 1. IMDS describes the VM (an attested document): else this is not an
//!    Azure VM, or IMDS is not reached directly;
//! 2. IMDS issues a token for the managed identity: else the VM has no
//!    managed identity, or the configured `client_id` names one the VM does
//!    not have;
//! 3. with `--join` only: Teleport takes the token (a `teleport.join.v1`
//!    `ClientInit` answered by `ServerInit`, nothing proven yet);
//! 4. with `--join` only: a real join, whose credentials are discarded.
//!
//! Whatever the verdict, when IMDS named the VM's subscription and resource
//! group the `azure.allow` rule that admits it is printed (YAML for `tctl`,
//! HCL for `teleport_provision_token`). Without `--join` nothing is sent to
//! Teleport. A `token` join is never attempted: it would spend the
//! single-use token.

use std::process::ExitCode;
use std::time::Duration;

use joinery_tbot_config::{Config, JoinMethod, JoinMethodName};

use crate::join::azure::vm::VmFacts;
use crate::join::azure::{AzureJoin, JoinError as AzureError, REJECTION_DOC, probe_token};
use crate::join::{self, JoinError};

/// Exit code of a machine that cannot join (as a failed one-shot join).
const EXIT_CANNOT_JOIN: u8 = 3;
/// Exit code of a check that was asked for what it cannot do.
const EXIT_USAGE: u8 = 2;
/// Lifetime asked for the discarded credentials of `--join`.
const PROBE_TTL: Duration = Duration::from_secs(300);

/// What `check` concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing found that stops a join (what was checked is said).
    Ready(String),
    /// A real join succeeded (`--join`).
    Joined(String),
    /// This machine cannot join: why, and what to change.
    CannotJoin {
        /// Why, with the answer that said so.
        why: String,
        /// The documented fix.
        fix: String,
    },
    /// The check cannot answer what it was asked.
    NotChecked(String),
}

impl Verdict {
    /// The process exit code for this verdict.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Verdict::Ready(_) | Verdict::Joined(_) => ExitCode::SUCCESS,
            Verdict::CannotJoin { .. } => ExitCode::from(EXIT_CANNOT_JOIN),
            Verdict::NotChecked(_) => ExitCode::from(EXIT_USAGE),
        }
    }

    /// The lines `check` prints.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Verdict::Ready(what) => vec![format!("verdict: ready: {what}")],
            Verdict::Joined(what) => vec![format!("verdict: joined: {what}")],
            Verdict::CannotJoin { why, fix } => vec![format!("verdict: cannot join: {why}"), format!("fix: {fix}")],
            Verdict::NotChecked(why) => vec![format!("verdict: not checked: {why}")],
        }
    }
}

/// Checks whether this machine can join with `cfg` (really joining with `join`), prints the
/// verdict (and the rule admitting an Azure VM) and returns the exit code.
pub async fn run(cfg: &Config, join: bool) -> ExitCode {
    let (verdict, facts) = match &cfg.onboarding.method {
        JoinMethod::Azure(block) => azure(cfg, &AzureJoin::new(cfg.onboarding.token.clone(), block), join).await,
        other => (not_joinable(other.name(), join), None),
    };
    for line in verdict.lines() {
        println!("{line}");
    }
    if let Some(rule) = facts.as_ref().and_then(VmFacts::allow_rule) {
        println!("azure.allow rule admitting this VM (YAML, tctl create):");
        print!("{}", indent(&rule.yaml()));
        println!("azure.allow rule admitting this VM (HCL, teleport_provision_token):");
        print!("{}", indent(&rule.hcl()));
    }
    verdict.exit_code()
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Methods `check` does not join with.
fn not_joinable(method: JoinMethodName, join: bool) -> Verdict {
    match (method, join) {
        (JoinMethodName::Token, false) => {
            Verdict::Ready("join_method token needs nothing of this machine; Teleport checks the token at start".into())
        }
        (JoinMethodName::Token, true) => Verdict::NotChecked(
            "--join is not done for join_method token: a bot's token is single-use, a check would spend it".into(),
        ),
        (other, _) => Verdict::NotChecked(format!("check has no verdict for join_method {other}")),
    }
}

/// The Azure verdict, and the VM's facts when IMDS gave them.
async fn azure(cfg: &Config, method: &AzureJoin, join: bool) -> (Verdict, Option<VmFacts>) {
    let facts = match VmFacts::read(method.client_id()).await {
        Ok(f) => f,
        Err(e) => {
            let verdict = Verdict::CannotJoin {
                why: format!("this machine's Azure instance metadata is not available ({e})"),
                fix: "run on an Azure VM; IMDS (169.254.169.254) must be reached directly, never through a proxy \
                      (docs/troubleshooting.md#imds)"
                    .into(),
            };
            return (verdict, None);
        }
    };
    if let Err(e) = &facts.identity {
        let verdict = match method.client_id() {
            Some(id) => Verdict::CannotJoin {
                why: format!("the managed identity with client_id {id} gets no token on this VM ({e})"),
                fix: "attach that user-assigned identity to this VM (teleport_azure_identity_binding does), or \
                      correct onboarding.azure.client_id"
                    .into(),
            },
            None => Verdict::CannotJoin {
                why: format!("this VM has no managed identity ({e})"),
                fix: "assign the VM a system-assigned identity, or attach a user-assigned one and set \
                      onboarding.azure.client_id"
                    .into(),
            },
        };
        return (verdict, Some(facts));
    }
    if !join {
        let verdict = Verdict::Ready(
            "this VM can prove who it is (attested document and managed-identity token); \
             `joinery-agent check --join` asks Teleport whether it admits it"
                .into(),
        );
        return (verdict, Some(facts));
    }
    (teleport_verdict(cfg, method, &facts).await, Some(facts))
}

/// Asks Teleport: does it take the token, and does it admit this VM.
async fn teleport_verdict(cfg: &Config, method: &AzureJoin, facts: &VmFacts) -> Verdict {
    let token = &cfg.onboarding.token;
    let client = match crate::connect::join_client(cfg).await {
        Ok(c) => c,
        Err(e) => {
            return Verdict::CannotJoin {
                why: format!("cannot reach Teleport: {e}"),
                fix: "check auth_server / proxy_server and onboarding.ca_pins / ca_path".into(),
            };
        }
    };
    let rule_fix = |what: &str| match facts.allow_rule() {
        Some(r) => format!(
            "{what} a spec.azure.allow rule for subscription {} and resource group {} (printed below; {REJECTION_DOC})",
            r.subscription, r.resource_group
        ),
        None => format!("{what} a spec.azure.allow rule that admits this VM ({REJECTION_DOC})"),
    };
    // An older service, or one that cannot tell before a proof, leaves it to the join.
    if let Err(e @ joinery_teleport::Error::AccessDenied(_)) = probe_token(&client, token.value()).await {
        return Verdict::CannotJoin {
            why: format!("Teleport does not take the token {}: {e}", token.masked()),
            fix: rule_fix(&format!(
                "create the azure token {} (tctl create, or teleport_provision_token) or correct onboarding.token; it needs",
                token.masked()
            )),
        };
    }
    match join::join(method, token, &client, PROBE_TTL).await {
        Ok(identity) => {
            let bot = identity.tls_info().ok().and_then(|i| i.bot_name).unwrap_or_else(|| "(unknown)".into());
            Verdict::Joined(format!(
                "Teleport admitted this VM as bot {bot} with token {} (the credentials were discarded)",
                token.masked()
            ))
        }
        Err(JoinError::Azure(AzureError::Rejected { source, .. })) => Verdict::CannotJoin {
            why: format!("Teleport did not admit this VM ({}): {source}", facts.context()),
            fix: rule_fix(&format!("add to the token {}", token.masked())),
        },
        Err(e) => {
            Verdict::CannotJoin { why: e.to_string(), fix: "see docs/troubleshooting.md for this message".into() }
        }
    }
}
