//! Asynchronous operations: a VM PATCH answers 202 with an `Azure-AsyncOperation` URL; the
//! emulator applies the change at once and records the operation as succeeded, so a client
//! polls exactly as it would against ARM and finds it done.

use std::collections::HashMap;
use std::sync::Mutex;

use hyper::StatusCode;
use joinery_azure::arm::AsyncOperation;

use super::failure::{Failure, arm_error};
use crate::azure::http::{Resp, json};
use crate::azure::state::now_rfc3339;

/// Completed asynchronous operations, by id.
#[derive(Default)]
pub struct Operations(Mutex<HashMap<String, AsyncOperation>>);

impl Operations {
    /// Records a new operation that has succeeded; returns its id.
    pub(super) fn succeeded(&self) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_rfc3339();
        let op = AsyncOperation {
            name: Some(id.clone()),
            status: "Succeeded".into(),
            start_time: Some(now.clone()),
            end_time: Some(now),
            error: None,
        };
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), op);
        id
    }

    /// `GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/operations/{id}`.
    pub(super) fn get(&self, id: &str) -> Result<Resp, Failure> {
        let op = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned();
        op.map(|o| json(StatusCode::OK, &o)).ok_or_else(|| {
            arm_error(StatusCode::NOT_FOUND, "NotFound", &format!("The operation '{id}' was not found."))
        })
    }
}
