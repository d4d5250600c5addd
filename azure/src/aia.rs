//! Fetching the intermediate CAs of an attested document's signer via AIA.
//!
//! Azure embeds only the leaf in the attested document, and a current Teleport server wants
//! the intermediates sent with the join (`intermediate`, concatenated DER). The leaf names its
//! issuer's download location in the Authority Information Access extension (`caIssuers`), so
//! the agent walks that chain. The URL comes from a certificate nobody has verified yet, which
//! makes an open fetch an SSRF primitive; this fetcher therefore:
//!
//! * only fetches `http`/`https` URLs whose host (and port, if the allow entry has one) is on
//!   an allow-list (default: the Microsoft/DigiCert hosts Microsoft documents for Azure CA
//!   downloads), never with userinfo, never following redirects;
//! * caps each body (64 KiB by default), the number of hops (10) and the total time (20 s);
//! * stops on cycles, on self-signed certificates (roots are not sent) and on certificates
//!   without AIA; checks each fetched certificate is the issuer (subject = child's issuer);
//! * caches fetched certificates by URL.
//!
//! A failure on the first hop is an error; a failure further up (typically a root download)
//! ends the walk with what was collected, as Teleport does for DigiCert root URLs.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

/// Hosts Microsoft documents for Azure CA certificate downloads.
pub const DEFAULT_AIA_HOSTS: &[&str] = &[
    "www.microsoft.com",
    "caissuers.microsoft.com",
    "cacerts.digicert.com",
    "cacerts.digicert.cn",
    "cacerts.geotrust.com",
];

const OID_CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";

/// Why intermediates could not be collected.
#[derive(Debug, thiserror::Error)]
pub enum AiaError {
    /// The certificate cannot be parsed.
    #[error("cannot parse certificate: {0}")]
    BadCertificate(String),
    /// The leaf has no AIA caIssuers URL.
    #[error("signer certificate has no AIA caIssuers URL")]
    NoAia,
    /// The AIA URL is not allowed.
    #[error("AIA URL {0:?} is not on the allow-list of issuer hosts")]
    UrlNotAllowed(String),
    /// Download failed.
    #[error("fetching issuer certificate from {url}: {message}")]
    Fetch {
        /// URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The downloaded certificate is not the child's issuer.
    #[error("certificate from {0} is not the issuer of the certificate that points to it")]
    WrongIssuer(String),
    /// More than the allowed number of hops.
    #[error("issuer chain is longer than {0} hops")]
    TooManyHops(usize),
    /// The whole walk took too long.
    #[error("fetching intermediates took longer than {0:?}")]
    Timeout(Duration),
    /// The HTTP client could not be built.
    #[error("AIA fetcher setup: {0}")]
    Setup(String),
}

/// Fetches intermediates by following AIA `caIssuers` URLs under an allow-list.
pub struct AiaFetcher {
    /// For `http` URLs: no TLS roots.
    http: reqwest::Client,
    /// For `https` URLs, built on first use.
    https: OnceLock<reqwest::Client>,
    allowed: Vec<String>,
    max_hops: usize,
    max_bytes: usize,
    total_timeout: Duration,
    cache: Mutex<HashMap<String, Vec<u8>>>,
}

impl std::fmt::Debug for AiaFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiaFetcher")
            .field("allowed", &self.allowed)
            .field("max_hops", &self.max_hops)
            .finish_non_exhaustive()
    }
}

impl AiaFetcher {
    /// A fetcher with [`DEFAULT_AIA_HOSTS`]. Environment proxies are honoured (these are
    /// public Internet downloads, unlike IMDS).
    pub fn new() -> Result<Self, AiaError> {
        Ok(AiaFetcher {
            http: Self::client(false)?,
            https: OnceLock::new(),
            allowed: DEFAULT_AIA_HOSTS.iter().map(|s| s.to_string()).collect(),
            max_hops: 10,
            max_bytes: 64 * 1024,
            total_timeout: Duration::from_secs(20),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The download client. AIA URLs are plain `http` (RFC 5280 and every
    /// Azure certificate), so the platform roots are loaded only for the
    /// rare `https` URL (each fetched certificate is checked by its
    /// signature over the child anyway).
    fn client(platform_roots: bool) -> Result<reqwest::Client, AiaError> {
        crate::http::build_client(&crate::http::ClientOptions {
            extra_ca_pem: None,
            no_proxy: false,
            timeout: Duration::from_secs(10),
            https_only: false,
            platform_roots,
        })
        .map_err(AiaError::Setup)
    }

    /// Allows one more host: `host` (any port) or `host:port` (that port only), e.g. the
    /// devstack's `127.0.0.1:8080`.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.allowed.push(host.into().to_ascii_lowercase());
        self
    }

    /// Replaces the allow-list.
    pub fn with_allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed = hosts.into_iter().map(|h| h.into().to_ascii_lowercase()).collect();
        self
    }

    /// Sets the body size cap.
    pub fn with_max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }

    /// Sets the total time cap.
    pub fn with_total_timeout(mut self, t: Duration) -> Self {
        self.total_timeout = t;
        self
    }

    /// Checks a URL against the allow-list.
    pub fn is_allowed(&self, url: &str) -> bool {
        let Ok(u) = reqwest::Url::parse(url) else {
            return false;
        };
        if !matches!(u.scheme(), "http" | "https") || !u.username().is_empty() || u.password().is_some() {
            return false;
        }
        let Some(host) = u.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        let port = u.port_or_known_default();
        self.allowed.iter().any(|a| match a.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h == host && p.parse::<u16>().ok() == port,
            _ => *a == host,
        })
    }

    /// Walks the AIA chain of `leaf_der` and returns the intermediates (DER, leaf's issuer
    /// first, roots excluded).
    pub async fn fetch_intermediates(&self, leaf_der: &[u8]) -> Result<Vec<Vec<u8>>, AiaError> {
        match tokio::time::timeout(self.total_timeout, self.walk(leaf_der)).await {
            Ok(r) => r,
            Err(_) => Err(AiaError::Timeout(self.total_timeout)),
        }
    }

    async fn walk(&self, leaf_der: &[u8]) -> Result<Vec<Vec<u8>>, AiaError> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut current = leaf_der.to_vec();
        for hop in 0..=self.max_hops {
            let url = match ca_issuers_url(&current)? {
                Some(u) => u,
                None if hop == 0 => return Err(AiaError::NoAia),
                None => return Ok(out),
            };
            if hop == self.max_hops {
                return Err(AiaError::TooManyHops(self.max_hops));
            }
            if !seen.insert(url.clone()) {
                return Ok(out); // cycle
            }
            let fetched = match self.fetch_issuer(&url, &current).await {
                Ok(c) => c,
                Err(e) if hop == 0 => return Err(e),
                Err(e) => {
                    tracing::debug!(error = %e, "stopping AIA walk");
                    return Ok(out);
                }
            };
            if is_self_signed(&fetched)? {
                return Ok(out);
            }
            out.push(fetched.clone());
            current = fetched;
        }
        Ok(out)
    }

    async fn fetch_issuer(&self, url: &str, child: &[u8]) -> Result<Vec<u8>, AiaError> {
        if !self.is_allowed(url) {
            return Err(AiaError::UrlNotAllowed(url.to_string()));
        }
        let cached = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(url).cloned();
        let der = match cached {
            Some(d) => d,
            None => {
                let d = self.download(url).await?;
                self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(url.to_string(), d.clone());
                d
            }
        };
        let (_, issuer) = X509Certificate::from_der(&der)
            .map_err(|e| AiaError::Fetch { url: url.to_string(), message: format!("not a DER certificate: {e}") })?;
        let (_, child) = X509Certificate::from_der(child).map_err(|e| AiaError::BadCertificate(e.to_string()))?;
        if issuer.subject().as_raw() != child.issuer().as_raw() || !issuer.is_ca() {
            return Err(AiaError::WrongIssuer(url.to_string()));
        }
        Ok(der)
    }

    async fn download(&self, url: &str) -> Result<Vec<u8>, AiaError> {
        let fail = |message: String| AiaError::Fetch { url: url.to_string(), message };
        let http = if url.starts_with("https:") {
            match self.https.get() {
                Some(client) => client,
                None => {
                    let client = Self::client(true)?;
                    self.https.get_or_init(|| client)
                }
            }
        } else {
            &self.http
        };
        let resp = http.get(url).send().await.map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        let body = crate::http::read_capped(resp, self.max_bytes).await.map_err(fail)?;
        // Some servers hand out PEM; accept that too.
        if body.starts_with(b"-----BEGIN") {
            use rustls_pki_types::pem::PemObject;
            return rustls_pki_types::CertificateDer::from_pem_slice(&body)
                .map(|c| c.as_ref().to_vec())
                .map_err(|e| fail(format!("invalid PEM: {e}")));
        }
        Ok(body)
    }
}

fn ca_issuers_url(der: &[u8]) -> Result<Option<String>, AiaError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| AiaError::BadCertificate(e.to_string()))?;
    for ext in cert.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
            for desc in &aia.accessdescs {
                if desc.access_method.to_id_string() == OID_CA_ISSUERS
                    && let GeneralName::URI(uri) = &desc.access_location
                    && (uri.starts_with("http://") || uri.starts_with("https://"))
                {
                    return Ok(Some(uri.to_string()));
                }
            }
        }
    }
    Ok(None)
}

fn is_self_signed(der: &[u8]) -> Result<bool, AiaError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| AiaError::BadCertificate(e.to_string()))?;
    Ok(cert.subject().as_raw() == cert.issuer().as_raw())
}
