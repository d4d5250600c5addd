//! CPU time of the processes a figure involves, from `/proc` (Linux): where a wall-clock
//! figure goes — the benchmarked tool itself, Terraform, the devstack standing in for the
//! servers.

use std::time::Duration;

/// Clock ticks per second of `/proc/*/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// Fields of `/proc/{pid}/stat` after the command name, which may hold spaces.
fn stat_fields(pid: &str) -> Vec<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')').next().unwrap_or_default().split_whitespace().map(|f| f.parse().unwrap_or(0)).collect()
}

fn ticks(t: u64) -> Duration {
    Duration::from_secs_f64(t as f64 / TICKS_PER_SEC)
}

/// User + system CPU of a running process so far.
pub(crate) fn of(pid: u32) -> Duration {
    let f = stat_fields(&pid.to_string());
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name and state.
    ticks(f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0))
}

/// User + system CPU of this process's children that have been waited for (and of their
/// waited-for descendants: Terraform's provider plugins count under Terraform).
pub(crate) fn of_waited_children() -> Duration {
    let f = stat_fields("self");
    // cutime and cstime are fields 16 and 17.
    ticks(f.get(13).copied().unwrap_or(0) + f.get(14).copied().unwrap_or(0))
}
