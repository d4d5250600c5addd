//! Prints the example unit, `examples/systemd/joinery-agent.service`:
//!
//! ```text
//! cargo run -q -p joinery-tbot-config --example systemd_unit > examples/systemd/joinery-agent.service
//! ```

// An example links every dependency of its package; unused ones are caught
// on the library target.
#![allow(unused_crate_dependencies)]

fn main() {
    print!("{}", joinery_tbot_config::systemd::AgentUnit::example().render());
}
