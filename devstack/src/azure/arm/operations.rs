//! Asynchronous operations: a VM PATCH or PUT answers at once (Compute: 200, or 201 for a
//! new VM) with `Azure-AsyncOperation` and `Location`, and the operation then runs for the
//! realism knob's `operation_duration`. While it runs, the operation's status is
//! `InProgress`, the VM's `provisioningState` is `Updating` (or `Creating`) and a second write
//! to the VM is refused with Compute's 409; afterwards the status is `Succeeded`.
//!
//! * `GET …/locations/{l}/operations/{id}` (the `Azure-AsyncOperation` URL): the status body
//!   `{"name","status","startTime"[,"endTime"]}`;
//! * the same with `monitor=true` (the `Location` URL): 202 while running, 200 when done.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::StatusCode;
use joinery_azure::arm::AsyncOperation;

use super::failure::{Failure, arm_error};
use crate::azure::http::{Resp, empty, json};
use crate::azure::state::now_rfc3339;

struct Op {
    /// The VM it writes (lower-case ARM id).
    vm: String,
    /// `Updating` or `Creating`.
    state: &'static str,
    start_time: String,
    ends: Instant,
    end_time: Mutex<Option<String>>,
}

/// Operations by id.
#[derive(Default)]
pub struct Operations(Mutex<HashMap<String, Op>>);

impl Operations {
    /// Starts an operation on `vm` running for `duration`; returns its id.
    pub(super) fn start(&self, vm: &str, state: &'static str, duration: Duration) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let op = Op {
            vm: vm.to_ascii_lowercase(),
            state,
            start_time: now_rfc3339(),
            ends: Instant::now() + duration,
            end_time: Mutex::new(None),
        };
        let mut ops = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Forget operations finished long ago; a client polls within minutes.
        let stale = Instant::now().checked_sub(Duration::from_secs(3600));
        ops.retain(|_, o| stale.is_none_or(|s| o.ends > s));
        ops.insert(id.clone(), op);
        id
    }

    /// The provisioning state of `vm` while an operation on it runs, and that operation's id.
    pub(super) fn running_on(&self, vm: &str) -> Option<(&'static str, String)> {
        let now = Instant::now();
        let ops = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ops.iter().find(|(_, o)| o.ends > now && o.vm.eq_ignore_ascii_case(vm)).map(|(id, o)| (o.state, id.clone()))
    }

    /// When the operation ends.
    pub(super) fn ends(&self, id: &str) -> Option<Instant> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(id).map(|o| o.ends)
    }

    /// `GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}`,
    /// with `monitor=true` the `Location` protocol.
    pub(super) fn get(&self, id: &str, monitor: bool) -> Result<Resp, Failure> {
        let ops = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some(op) = ops.get(id) else {
            return Err(arm_error(StatusCode::NOT_FOUND, "NotFound", &format!("The operation '{id}' was not found.")));
        };
        let running = op.ends > Instant::now();
        if monitor {
            return Ok(empty(if running { StatusCode::ACCEPTED } else { StatusCode::OK }));
        }
        let end_time = (!running)
            .then(|| op.end_time.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(now_rfc3339).clone());
        let status = AsyncOperation {
            name: Some(id.to_string()),
            status: if running { "InProgress" } else { "Succeeded" }.into(),
            start_time: Some(op.start_time.clone()),
            end_time,
            error: None,
        };
        Ok(json(StatusCode::OK, &status))
    }
}
