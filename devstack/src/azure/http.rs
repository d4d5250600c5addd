//! Minimal HTTP plumbing for the emulator: serving a handler over plain HTTP (IMDS, AIA) or
//! HTTPS (Entra, ARM) with hyper, and building JSON responses.
//!
//! The handlers are plain async functions from a buffered request to a response; bodies are
//! small, so buffering (with a cap) keeps every handler simple.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

/// Largest request body accepted.
const MAX_BODY: usize = 1024 * 1024;

/// A request as handlers see it.
pub struct Req {
    /// Method.
    pub method: hyper::Method,
    /// Path, percent-decoded.
    pub path: String,
    /// Raw query pairs in order (duplicates kept).
    pub query: Vec<(String, String)>,
    /// Headers.
    pub headers: hyper::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Req {
    /// The first value of a query parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The form-encoded body as a map (last value wins).
    pub fn form(&self) -> BTreeMap<String, String> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }
}

/// A response.
pub type Resp = Response<Full<Bytes>>;

/// A JSON response. The body goes through `serde_json::Value`, whose maps are sorted, so a
/// typed body and a `json!` one come out with their keys in the same (alphabetical) order.
pub fn json(status: StatusCode, v: &impl serde::Serialize) -> Resp {
    let body = match serde_json::to_value(v) {
        Ok(v) => v.to_string(),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode an emulator response");
            return empty(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// A binary response.
pub fn bytes(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    r
}

/// An empty response.
pub fn empty(status: StatusCode) -> Resp {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}

/// Percent-decodes a path.
fn decode_path(p: &str) -> String {
    let bytes = p.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn buffer(req: Request<Incoming>) -> Result<Req, Resp> {
    let (parts, body) = req.into_parts();
    let body =
        Limited::new(body, MAX_BODY).collect().await.map_err(|_| empty(StatusCode::PAYLOAD_TOO_LARGE))?.to_bytes();
    let query =
        parts.uri.query().map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
    Ok(Req { method: parts.method, path: decode_path(parts.uri.path()), query, headers: parts.headers, body })
}

/// Serves `handler` on `listener` (over TLS if `tls` is given) until `shutdown` resolves.
pub async fn serve<H, F>(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: H,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    H: Fn(Req) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Resp> + Send + 'static,
{
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => continue,
            },
        };
        let handler = handler.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let handler = handler.clone();
                async move {
                    let resp = match buffer(req).await {
                        Ok(r) => handler(r).await,
                        Err(resp) => resp,
                    };
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            let result = match acceptor {
                Some(acceptor) => match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => builder.serve_connection(TokioIo::new(tls), service).await,
                    _ => {
                        tracing::debug!(%peer, "emulator TLS handshake failed");
                        return;
                    }
                },
                None => builder.serve_connection(TokioIo::new(tcp), service).await,
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "emulator connection ended with an error");
            }
        });
    }
}
