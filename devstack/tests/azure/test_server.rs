//! A plain-HTTP server for the signing tests (AIA downloads, OIDC discovery), on the
//! emulator's own HTTP plumbing: answers with a handler and records the paths it was asked
//! for. Ready when `start` returns (the socket is bound).

use std::sync::{Arc, Mutex};

use joinery_devstack::azure::http::{Req, Resp, serve};

pub(crate) struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    pub(crate) port: u16,
    paths: Arc<Mutex<Vec<String>>>,
}

impl TestServer {
    /// Serves `handler` until the test's runtime ends.
    pub(crate) async fn start(handler: impl Fn(&Req) -> Resp + Send + Sync + 'static) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let paths: Arc<Mutex<Vec<String>>> = Default::default();
        let (handler, seen) = (Arc::new(handler), paths.clone());
        let respond = move |req: Req| {
            seen.lock().unwrap().push(req.path.clone());
            let resp = handler(&req);
            async move { resp }
        };
        tokio::spawn(serve(listener, None, respond, std::future::pending()));
        TestServer { base: format!("http://127.0.0.1:{port}"), port, paths }
    }

    /// How many requests arrived.
    pub(crate) fn requests(&self) -> usize {
        self.paths.lock().unwrap().len()
    }

    /// How many requests asked for `path`.
    pub(crate) fn count(&self, path: &str) -> usize {
        self.paths.lock().unwrap().iter().filter(|p| *p == path).count()
    }
}
