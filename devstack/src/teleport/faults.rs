//! Faults on the Teleport API, for tests that reproduce what a real
//! cluster does under trouble: a call refused as `Unavailable` before it
//! does anything, or one whose answer is lost after it did its work (a
//! connection reset after the commit), which is what makes a non-idempotent
//! retry dangerous.
//!
//! A test writes `DIR/teleport-faults.json`, keyed by gRPC method name or
//! full path, and each matching call takes one fault from its count:
//!
//! ```json
//! {"CreateBot": {"fault": "lose_answer", "count": 1}}
//! ```
//!
//! Without the file there are no faults; the file is read on each call, so
//! a running devstack picks up a new one at once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tonic::Status;

/// The file a test writes, in the state directory.
pub const FAULTS_FILE: &str = "teleport-faults.json";

/// What happens to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Refused with `Unavailable`; nothing is done.
    Unavailable,
    /// Done, then answered with `Unavailable` instead of its result.
    LoseAnswer,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    fault: Fault,
    count: u32,
}

/// The faults of one devstack.
#[derive(Debug, Clone)]
pub struct Faults {
    file: Arc<PathBuf>,
    lock: Arc<Mutex<()>>,
}

impl Faults {
    /// Faults from `dir`'s [`FAULTS_FILE`].
    pub fn new(dir: &std::path::Path) -> Self {
        Faults { file: Arc::new(dir.join(FAULTS_FILE)), lock: Arc::default() }
    }

    /// Takes one fault for the method at `path` (`/pkg.Service/Method`), if any is left.
    fn take(&self, path: &str) -> Option<Fault> {
        // The lock only serializes this process's readers and writers of the file.
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = std::fs::read(&*self.file).ok()?;
        let mut entries: BTreeMap<String, Entry> = match serde_json::from_slice(&bytes) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(file = %self.file.display(), error = %e, "ignoring an unreadable faults file");
                return None;
            }
        };
        let method = path.rsplit('/').next().unwrap_or(path);
        let key = [path, method].into_iter().find(|k| entries.get(*k).is_some_and(|e| e.count > 0))?.to_string();
        let entry = entries.get_mut(&key)?;
        entry.count -= 1;
        let fault = entry.fault;
        if let Ok(bytes) = serde_json::to_vec(&entries) {
            let _ = joinery_util::fs::write_atomic(&self.file, &bytes, joinery_util::fs::SECRET_FILE_MODE);
        }
        tracing::warn!(method = %path, ?fault, "injecting a fault");
        Some(fault)
    }
}

/// The tower layer applying [`Faults`] to every gRPC call.
#[derive(Debug, Clone)]
pub struct FaultLayer(pub Faults);

impl<S> tower::Layer<S> for FaultLayer {
    type Service = FaultService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FaultService { inner, faults: self.0.clone() }
    }
}

/// See [`FaultLayer`].
#[derive(Debug, Clone)]
pub struct FaultService<S> {
    inner: S,
    faults: Faults,
}

impl<S, B> tower::Service<http::Request<B>> for FaultService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        match self.faults.take(req.uri().path()) {
            None => Box::pin(self.inner.call(req)),
            Some(Fault::Unavailable) => {
                Box::pin(async { Ok(Status::unavailable("injected fault: unavailable").into_http()) })
            }
            Some(Fault::LoseAnswer) => {
                let call = self.inner.call(req);
                Box::pin(async move {
                    // A unary handler has done its work when its response is ready.
                    let _done = call.await?;
                    Ok(Status::unavailable("injected fault: connection reset after the call").into_http())
                })
            }
        }
    }
}
