//! How asynchronous, throttled and eventually consistent the emulated Azure is.
//!
//! Real Azure is never instant: a VM update is a long-running operation, a new role assignment
//! takes effect minutes after it is created (and a removed one stops taking effect minutes
//! later), a freshly created identity's principal is not yet replicated to the region that
//! checks it, IMDS serves a newly attached identity only once the VM's host has picked it up,
//! and ARM and IMDS throttle. A client that never meets these in tests will meet them in its
//! first real `terraform apply`. So every one is a knob of `joinery-devstack up`:
//!
//! | Knob (flag) | Default | `--realistic` | Source of the realistic figure |
//! |---|---|---|---|
//! | `--azure-rbac-delay` | 1s | 10m | Azure RBAC troubleshooting: "it can take up to 10 minutes for changes to take effect" |
//! | `--azure-principal-delay` | 1s | 2m | PrincipalNotFound is replication delay; Azure advises retrying (about 8 × 15 s) |
//! | `--azure-operation-duration` | 300ms | 30s | a VM identity update typically runs tens of seconds (not documented) |
//! | `--azure-imds-identity-delay` | 300ms | 1m | IMDS answers "Identity not found" until the host has the identity (not documented) |
//! | `--azure-arm-reads` | 250/25 | 250/25 | ARM throttling: bucket 250, refill 25/s per subscription and principal |
//! | `--azure-arm-writes` | 200/10 | 200/10 | same document: writes |
//! | `--azure-arm-deletes` | 200/10 | 200/10 | same document: deletes |
//! | `--azure-imds-rate` | off | 5/5 | IMDS: 5 requests per second per VM |
//! | `--azure-imds-identity-rate` | off | 20/20 | managed identity category: 20 requests per second |
//!
//! The defaults keep `make demo` and the tests fast but are never zero where Azure is never
//! instant; ARM's throttles are Azure's documented limits either way. IMDS's are off by
//! default because one devstack VM stands for many test runs joining back to back (a real
//! VM's agent asks IMDS a handful of times an hour); the agent's IMDS client retries 429. A flag given with
//! `--realistic` overrides that profile's value. Throttles are token buckets (`BURST/RATE`: a
//! full bucket of `BURST` requests, refilled by `RATE` per second), or `off`.
//!
//! `--azure-verifier-arm-lookup always` makes the emulated Teleport look the joining VM up in
//! ARM on every Azure join, as Teleport before v16 did (newer servers take the VM from the
//! token's `xms_az_rid`/`xms_mirid` and call ARM only as a fallback): with it, a join waits
//! for the identity's role assignment to take effect, which is what a VM's first boot meets.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Serialize, Serializer};

/// A token bucket: `burst` requests at once, refilled at `per_second`; `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle(pub Option<(u32, f64)>);

impl Throttle {
    /// `burst` requests at once, `per_second` more each second.
    pub const fn limit(burst: u32, per_second: f64) -> Throttle {
        Throttle(Some((burst, per_second)))
    }

    /// No limit.
    pub const OFF: Throttle = Throttle(None);
}

/// A throttle that is not `BURST/RATE` or `off`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid throttle {0:?}: use BURST/RATE (e.g. 250/25: 250 at once, 25 more per second) or off")]
pub struct InvalidThrottle(String);

impl FromStr for Throttle {
    type Err = InvalidThrottle;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidThrottle(s.to_string());
        if s.trim().eq_ignore_ascii_case("off") {
            return Ok(Throttle::OFF);
        }
        let (burst, rate) = s.trim().split_once('/').ok_or_else(bad)?;
        let burst: u32 = burst.trim().parse().map_err(|_| bad())?;
        let rate: f64 = rate.trim().parse().map_err(|_| bad())?;
        if burst == 0 || !(rate > 0.0 && rate.is_finite()) {
            return Err(bad());
        }
        Ok(Throttle::limit(burst, rate))
    }
}

impl fmt::Display for Throttle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("off"),
            Some((burst, rate)) => write!(f, "{burst}/{rate}"),
        }
    }
}

impl Serialize for Throttle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn go_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&joinery_util::duration::format(*d))
}

/// The realism knobs in effect (listed in `devstack.json` under `azure.realism`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Realism {
    /// How long a role assignment takes to take effect, or to stop taking effect once deleted.
    #[serde(serialize_with = "go_duration")]
    pub rbac_delay: Duration,
    /// How long a new identity's principal is unknown to a role assignment without `principalType`.
    #[serde(serialize_with = "go_duration")]
    pub principal_delay: Duration,
    /// How long a VM update (PATCH or PUT) runs.
    #[serde(serialize_with = "go_duration")]
    pub operation_duration: Duration,
    /// How long after a VM update ends IMDS starts serving a newly attached identity.
    #[serde(serialize_with = "go_duration")]
    pub imds_identity_delay: Duration,
    /// ARM reads per subscription and principal.
    pub arm_reads: Throttle,
    /// ARM writes per subscription and principal.
    pub arm_writes: Throttle,
    /// ARM deletes per subscription and principal.
    pub arm_deletes: Throttle,
    /// IMDS requests per VM (instance, attested document, versions).
    pub imds_rate: Throttle,
    /// IMDS managed-identity token requests per VM.
    pub imds_identity_rate: Throttle,
    /// Whether the emulated Teleport looks every joining VM up in ARM (`always`, Teleport
    /// before v16) or only when the token does not name the VM (`fallback`, newer servers).
    pub verifier_arm_lookup: ArmLookup,
}

/// When the emulated Teleport's Azure verifier calls ARM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ArmLookup {
    /// Only when the token's `xms_az_rid`/`xms_mirid` do not name a VM (Teleport 16+).
    Fallback,
    /// On every join (Teleport before 16).
    Always,
}

impl Realism {
    /// Fast but never instant: what `up` uses without flags.
    pub const DEFAULT: Realism = Realism {
        rbac_delay: Duration::from_secs(1),
        principal_delay: Duration::from_secs(1),
        operation_duration: Duration::from_millis(300),
        imds_identity_delay: Duration::from_millis(300),
        arm_reads: Throttle::limit(250, 25.0),
        arm_writes: Throttle::limit(200, 10.0),
        arm_deletes: Throttle::limit(200, 10.0),
        imds_rate: Throttle::OFF,
        imds_identity_rate: Throttle::OFF,
        verifier_arm_lookup: ArmLookup::Fallback,
    };

    /// Close to Azure's documented figures (`--realistic`).
    pub const REALISTIC: Realism = Realism {
        rbac_delay: Duration::from_secs(600),
        principal_delay: Duration::from_secs(120),
        operation_duration: Duration::from_secs(30),
        imds_identity_delay: Duration::from_secs(60),
        imds_rate: Throttle::limit(5, 5.0),
        imds_identity_rate: Throttle::limit(20, 20.0),
        ..Realism::DEFAULT
    };
}

impl Default for Realism {
    fn default() -> Self {
        Realism::DEFAULT
    }
}

fn duration(s: &str) -> Result<Duration, String> {
    joinery_util::duration::parse(s).map_err(|e| e.to_string())
}

/// The realism flags of `joinery-devstack up` (see the module documentation).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RealismArgs {
    /// Emulate Azure's documented delays (minutes for RBAC), not the fast defaults.
    #[arg(long)]
    pub realistic: bool,
    /// Delay before a role assignment (or its removal) takes effect [default 1s; realistic 10m].
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub azure_rbac_delay: Option<Duration>,
    /// Delay before a new identity's principal is found without principalType [default 1s; realistic 2m].
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub azure_principal_delay: Option<Duration>,
    /// How long a VM update runs [default 300ms; realistic 30s].
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub azure_operation_duration: Option<Duration>,
    /// Delay after a VM update before IMDS serves a new identity [default 300ms; realistic 1m].
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub azure_imds_identity_delay: Option<Duration>,
    /// ARM read throttle per subscription and principal, BURST/RATE or off [default 250/25].
    #[arg(long, value_name = "BURST/RATE")]
    pub azure_arm_reads: Option<Throttle>,
    /// ARM write throttle, BURST/RATE or off [default 200/10].
    #[arg(long, value_name = "BURST/RATE")]
    pub azure_arm_writes: Option<Throttle>,
    /// ARM delete throttle, BURST/RATE or off [default 200/10].
    #[arg(long, value_name = "BURST/RATE")]
    pub azure_arm_deletes: Option<Throttle>,
    /// IMDS throttle per VM, BURST/RATE or off [default off; realistic 5/5].
    #[arg(long, value_name = "BURST/RATE")]
    pub azure_imds_rate: Option<Throttle>,
    /// IMDS managed-identity token throttle per VM, BURST/RATE or off [default off; realistic 20/20].
    #[arg(long, value_name = "BURST/RATE")]
    pub azure_imds_identity_rate: Option<Throttle>,
    /// When the emulated Teleport looks the joining VM up in ARM [default fallback].
    #[arg(long, value_enum, value_name = "WHEN")]
    pub azure_verifier_arm_lookup: Option<ArmLookup>,
}

impl RealismArgs {
    /// The knobs: the profile, with each flag given overriding it.
    pub fn resolve(&self) -> Realism {
        let base = if self.realistic { Realism::REALISTIC } else { Realism::DEFAULT };
        Realism {
            rbac_delay: self.azure_rbac_delay.unwrap_or(base.rbac_delay),
            principal_delay: self.azure_principal_delay.unwrap_or(base.principal_delay),
            operation_duration: self.azure_operation_duration.unwrap_or(base.operation_duration),
            imds_identity_delay: self.azure_imds_identity_delay.unwrap_or(base.imds_identity_delay),
            arm_reads: self.azure_arm_reads.unwrap_or(base.arm_reads),
            arm_writes: self.azure_arm_writes.unwrap_or(base.arm_writes),
            arm_deletes: self.azure_arm_deletes.unwrap_or(base.arm_deletes),
            imds_rate: self.azure_imds_rate.unwrap_or(base.imds_rate),
            imds_identity_rate: self.azure_imds_identity_rate.unwrap_or(base.imds_identity_rate),
            verifier_arm_lookup: self.azure_verifier_arm_lookup.unwrap_or(base.verifier_arm_lookup),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        realism: RealismArgs,
    }

    fn parse(args: &[&str]) -> Result<Realism, clap::Error> {
        Cli::try_parse_from(std::iter::once("up").chain(args.iter().copied())).map(|c| c.realism.resolve())
    }

    #[test]
    fn defaults_are_fast_but_never_instant() {
        let r = parse(&[]).unwrap();
        assert_eq!(r, Realism::DEFAULT);
        for d in [r.rbac_delay, r.principal_delay, r.operation_duration, r.imds_identity_delay] {
            assert!(!d.is_zero() && d <= Duration::from_secs(1), "{d:?}");
        }
        assert_eq!(r.arm_reads, Throttle::limit(250, 25.0));
    }

    #[test]
    fn realistic_profile_and_overrides() {
        let r = parse(&["--realistic"]).unwrap();
        assert_eq!(r.rbac_delay, Duration::from_secs(600));
        assert_eq!(r.operation_duration, Duration::from_secs(30));
        assert_eq!(r.imds_rate, Throttle::limit(5, 5.0));
        let r = parse(&[
            "--realistic",
            "--azure-rbac-delay",
            "2s",
            "--azure-arm-reads",
            "5/2.5",
            "--azure-imds-rate",
            "off",
            "--azure-verifier-arm-lookup",
            "always",
        ])
        .unwrap();
        assert_eq!(r.rbac_delay, Duration::from_secs(2));
        assert_eq!(r.principal_delay, Duration::from_secs(120), "the profile's value stays");
        assert_eq!(r.arm_reads, Throttle::limit(5, 2.5));
        assert_eq!(r.imds_rate, Throttle::OFF);
        assert_eq!(r.verifier_arm_lookup, ArmLookup::Always);
    }

    #[test]
    fn bad_values_are_refused_naming_the_flag() {
        for args in [
            &["--azure-rbac-delay", "soon"][..],
            &["--azure-arm-writes", "200"],
            &["--azure-arm-writes", "0/1"],
            &["--azure-imds-rate", "5/-1"],
            &["--azure-verifier-arm-lookup", "sometimes"],
        ] {
            let e = parse(args).unwrap_err().to_string();
            assert!(e.contains(args[0]), "{e}");
        }
    }

    #[test]
    fn listed_as_text() {
        let v = serde_json::to_value(Realism::DEFAULT).unwrap();
        assert_eq!(v["rbac_delay"], "1s");
        assert_eq!(v["operation_duration"], "300ms");
        assert_eq!(v["arm_reads"], "250/25");
        assert_eq!(v["verifier_arm_lookup"], "fallback");
        assert_eq!(Throttle::OFF.to_string(), "off");
    }
}
