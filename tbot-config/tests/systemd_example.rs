//! `examples/systemd/joinery-agent.service` and the Debian package's
//! `packaging/deb/joinery-agent.service` are generated from the unit model;
//! this fails when a checked-in file differs.

// A test binary links every dependency of its package; unused ones are
// caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_tbot_config::systemd::{AgentUnit, REGENERATE_EXAMPLE, REGENERATE_PACKAGED};

fn assert_generated(path: &str, checked_in: &str, unit: AgentUnit, regenerate: &str) {
    let generated = unit.render();
    if checked_in != generated {
        let first = checked_in.lines().zip(generated.lines()).position(|(a, b)| a != b);
        panic!(
            "{path} differs from the unit model (first differing line: {}).\n\
             Regenerate it with:\n    {regenerate}\n\n--- generated ---\n{generated}",
            first.map(|i| (i + 1).to_string()).unwrap_or_else(|| "past the end of one".into()),
        );
    }
}

#[test]
fn the_example_unit_is_generated() {
    assert_generated(
        "examples/systemd/joinery-agent.service",
        include_str!("../../examples/systemd/joinery-agent.service"),
        AgentUnit::example(),
        REGENERATE_EXAMPLE,
    );
}

#[test]
fn the_packaged_unit_is_generated() {
    assert_generated(
        "packaging/deb/joinery-agent.service",
        include_str!("../../packaging/deb/joinery-agent.service"),
        AgentUnit::packaged(),
        REGENERATE_PACKAGED,
    );
}
