//! Shared HTTP plumbing: one place that decides how reqwest clients are built (TLS roots,
//! proxies, redirects) and how response bodies are read with a size cap, so no module can
//! accidentally read an unbounded body or follow a redirect to an unvetted host.

use std::time::Duration;

/// Options for [`build_client`].
pub(crate) struct ClientOptions<'a> {
    /// PEM bundle of extra CA certificates to trust on top of the platform roots.
    pub extra_ca_pem: Option<&'a [u8]>,
    /// Never use a proxy, whatever the environment says (IMDS must be reached directly).
    pub no_proxy: bool,
    /// Timeout of a whole request (connect + headers + body).
    pub timeout: Duration,
    /// Refuse any URL that is not `https` (for clients that send secrets or
    /// bearer tokens; IMDS and AIA downloads are plain `http` by design).
    pub https_only: bool,
    /// Trust the platform's root certificates (plus `extra_ca_pem`). Loading
    /// them reads and parses every certificate of the system store, about
    /// 20 ms per client; a client that only ever speaks plain `http` (IMDS,
    /// AIA downloads) skips it and trusts `extra_ca_pem` alone.
    pub platform_roots: bool,
}

/// Builds a reqwest client that never follows redirects.
pub(crate) fn build_client(opts: &ClientOptions<'_>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(opts.timeout)
        .connect_timeout(opts.timeout.min(Duration::from_secs(10)))
        .https_only(opts.https_only);
    if opts.no_proxy {
        builder = builder.no_proxy();
    }
    let mut extra = Vec::new();
    if let Some(pem) = opts.extra_ca_pem {
        extra = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("invalid extra CA PEM bundle: {e}"))?;
        if extra.is_empty() {
            return Err("extra CA PEM bundle holds no certificate".to_string());
        }
    }
    builder = if opts.platform_roots { builder.tls_certs_merge(extra) } else { builder.tls_certs_only(extra) };
    builder.build().map_err(|e| format!("cannot build HTTP client: {e}"))
}

/// Reads a response body, failing once it exceeds `max` bytes.
pub(crate) async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if let Some(len) = resp.content_length()
        && len > max as u64
    {
        return Err(format!("response body of {len} bytes exceeds the {max} byte limit"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("reading response body: {e}"))? {
        if body.len() + chunk.len() > max {
            return Err(format!("response body exceeds the {max} byte limit"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Renders the most useful part of an error body: `error` / `error_description` of a JSON
/// body (IMDS and Entra shapes), `error.code` / `error.message` (ARM shape), else the body
/// text, truncated.
pub(crate) fn describe_error_body(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        match v.get("error") {
            Some(serde_json::Value::String(code)) => {
                return match v.get("error_description").and_then(|d| d.as_str()) {
                    Some(desc) => format!("{code}: {desc}"),
                    None => code.clone(),
                };
            }
            Some(serde_json::Value::Object(obj)) => {
                let code = obj.get("code").and_then(|c| c.as_str()).unwrap_or("");
                let msg = obj.get("message").and_then(|c| c.as_str()).unwrap_or("");
                return format!("{code}: {msg}");
            }
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_string();
    }
    text.chars().take(300).collect()
}

/// Percent-encodes a query or form value: RFC 3986 unreserved characters stay, every other
/// byte becomes `%XX` (a space is `%20`, never `+`).
pub(crate) fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
