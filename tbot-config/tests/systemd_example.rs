//! `examples/systemd/joinery-agent.service` is generated from the unit
//! model; this fails when the checked-in file differs.

// A test binary links every dependency of its package; unused ones are
// caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_tbot_config::systemd::{AgentUnit, REGENERATE_EXAMPLE};

#[test]
fn the_example_unit_is_generated() {
    let checked_in = include_str!("../../examples/systemd/joinery-agent.service");
    let generated = AgentUnit::example().render();
    if checked_in != generated {
        let first = checked_in.lines().zip(generated.lines()).position(|(a, b)| a != b);
        panic!(
            "examples/systemd/joinery-agent.service differs from the unit model (first differing line: {}).\n\
             Regenerate it with:\n    {REGENERATE_EXAMPLE}\n\n--- generated ---\n{generated}",
            first.map(|i| (i + 1).to_string()).unwrap_or_else(|| "past the end of one".into()),
        );
    }
}
