//! Prints the example unit, `examples/systemd/joinery-agent.service`, or with
//! `--packaged` the one the Debian package installs (`scripts/release.sh`):
//!
//! ```text
//! cargo run -q -p joinery-tbot-config --example systemd_unit > examples/systemd/joinery-agent.service
//! cargo run -q -p joinery-tbot-config --example systemd_unit -- --packaged
//! ```

// An example links every dependency of its package; unused ones are caught
// on the library target.
#![allow(unused_crate_dependencies)]

use joinery_tbot_config::systemd::AgentUnit;

fn main() {
    let unit = if std::env::args().any(|a| a == "--packaged") { AgentUnit::packaged() } else { AgentUnit::example() };
    print!("{}", unit.render());
}
