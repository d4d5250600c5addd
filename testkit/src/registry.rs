//! A provider registry and network mirror on local HTTPS, serving a release
//! folder as `scripts/release.sh` writes it.
//!
//! `terraform init` installs a provider the way it does from a public
//! registry only over HTTPS, from a host it discovered, with a signature it
//! checked: this server speaks the two protocols Terraform and OpenTofu use
//! for that, from the release's own files, so a test proves the release
//! installs as users will install it.
//!
//! - [Provider Registry Protocol]: `/.well-known/terraform.json` (service
//!   discovery), `/v1/providers/NS/TYPE/versions`, and
//!   `/v1/providers/NS/TYPE/VERSION/download/OS/ARCH`, which names the zip,
//!   `SHA256SUMS`, its signature and the public key that made it.
//! - [Provider Network Mirror Protocol] under `/mirror/`:
//!   `HOSTNAME/NS/TYPE/index.json` and `HOSTNAME/NS/TYPE/VERSION.json`, each
//!   archive with its `zh:` hash (the zip's SHA-256, from `SHA256SUMS`).
//! - The release's files under `/files/`.
//!
//! The certificate is for `localhost`, issued by a CA made for this server:
//! give Terraform [`Registry::ca_file`] as `SSL_CERT_FILE` (Go reads it).
//!
//! [Provider Registry Protocol]: https://developer.hashicorp.com/terraform/internals/provider-registry-protocol
//! [Provider Network Mirror Protocol]: https://developer.hashicorp.com/terraform/internals/provider-network-mirror-protocol

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::{Value, json};

/// The public half of the key that signed the release, as the registry
/// hands it to Terraform.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// The long key ID (16 hex digits).
    pub key_id: String,
    /// The ASCII-armored public key.
    pub ascii_armor: String,
}

/// One platform's zip in the release.
#[derive(Debug, Clone)]
struct Archive {
    os: String,
    arch: String,
    filename: String,
    sha256: String,
}

/// What the server publishes: one provider version, read from a release folder.
#[derive(Debug)]
struct Site {
    dir: PathBuf,
    namespace: String,
    kind: String,
    version: String,
    protocols: Vec<String>,
    archives: Vec<Archive>,
    key: SigningKey,
    requests: Mutex<Vec<String>>,
}

/// A running registry; stopped when dropped.
pub struct Registry {
    port: u16,
    ca_file: PathBuf,
    site: Arc<Site>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Serves the provider release in `release` (its `*_SHA256SUMS`,
    /// `*_manifest.json`, zips and signature) as `namespace/TYPE`, handing
    /// Terraform `key` as the signing key.
    pub fn serve(release: &Path, namespace: &str, key: SigningKey) -> Registry {
        let site = Arc::new(Site::read(release, namespace, key));
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "Joinery test registry CA");
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let leaf_key = KeyPair::generate().expect("server key");
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .expect("server params")
            .signed_by(&leaf_key, &Issuer::from_params(&ca, &ca_key))
            .expect("server certificate");
        let ca_file = dir.path().join("registry-ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).expect("write the CA");

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .expect("TLS configuration");
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the registry");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().expect("bound address").port();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let served = site.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("registry runtime");
            runtime.block_on(run(listener, acceptor, served, stopped));
        });
        Registry { port, ca_file, site, stop: Some(stop), thread: Some(thread), _dir: dir }
    }

    /// `localhost:PORT`, the hostname part of the provider's source address.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// The provider's source address on this registry, `localhost:PORT/NS/TYPE`.
    pub fn source(&self) -> String {
        format!("{}/{}/{}", self.host(), self.site.namespace, self.site.kind)
    }

    /// The network mirror's base URL, for `network_mirror { url = … }`.
    pub fn mirror_url(&self) -> String {
        format!("https://{}/mirror/", self.host())
    }

    /// The CA that issued the server's certificate (PEM), for `SSL_CERT_FILE`.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The version served.
    pub fn version(&self) -> &str {
        &self.site.version
    }

    /// The `zh:` hash of every archive (the zip's SHA-256), by `os_arch`.
    pub fn zip_hashes(&self) -> BTreeMap<String, String> {
        self.site.archives.iter().map(|a| (format!("{}_{}", a.os, a.arch), format!("zh:{}", a.sha256))).collect()
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.site.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn run(
    listener: std::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    site: Arc<Site>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("registry listener");
    loop {
        let tcp = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => continue,
            },
        };
        let (acceptor, site) = (acceptor.clone(), site.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else { return };
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let site = site.clone();
                async move { Ok::<_, Infallible>(site.respond(req.uri().path())) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
        });
    }
}

impl Site {
    /// Reads the provider release in `dir`: the version from its
    /// `terraform-provider-TYPE_VERSION_SHA256SUMS`, the zips listed there,
    /// the protocols from the manifest.
    fn read(dir: &Path, namespace: &str, key: SigningKey) -> Site {
        let names: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read the release {}: {e}", dir.display()))
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        let sums = names
            .iter()
            .find(|n| n.starts_with("terraform-provider-") && n.ends_with("_SHA256SUMS"))
            .unwrap_or_else(|| panic!("no terraform-provider-*_SHA256SUMS in {}", dir.display()));
        let stem = sums.trim_end_matches("_SHA256SUMS");
        let (name, version) = stem.rsplit_once('_').expect("terraform-provider-TYPE_VERSION");
        let kind = name.trim_start_matches("terraform-provider-").to_string();
        let manifest: Value = serde_json::from_slice(&read(dir, &format!("{stem}_manifest.json"))).expect("manifest");
        let protocols = manifest["metadata"]["protocol_versions"]
            .as_array()
            .map(|v| v.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let archives = String::from_utf8(read(dir, sums))
            .expect("SHA256SUMS is text")
            .lines()
            .filter_map(|line| {
                let (sha256, filename) = line.split_once("  ")?;
                let platform = filename.strip_prefix(&format!("{stem}_"))?.strip_suffix(".zip")?;
                let (os, arch) = platform.split_once('_')?;
                Some(Archive { os: os.into(), arch: arch.into(), filename: filename.into(), sha256: sha256.into() })
            })
            .collect();
        Site {
            dir: dir.to_path_buf(),
            namespace: namespace.into(),
            kind,
            version: version.into(),
            protocols,
            archives,
            key,
            requests: Mutex::new(Vec::new()),
        }
    }

    fn respond(&self, path: &str) -> Response<Full<Bytes>> {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(path.to_string());
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let provider = [self.namespace.as_str(), self.kind.as_str()];
        match segments.as_slice() {
            [".well-known", "terraform.json"] => ok_json(json!({ "providers.v1": "/v1/providers/" })),
            ["v1", "providers", ns, kind, "versions"] if [*ns, *kind] == provider => ok_json(self.versions()),
            ["v1", "providers", ns, kind, version, "download", os, arch] if [*ns, *kind] == provider => {
                match self.archive(version, os, arch) {
                    Some(archive) => ok_json(self.download(archive)),
                    None => not_found(),
                }
            }
            ["mirror", _host, ns, kind, "index.json"] if [*ns, *kind] == provider => {
                ok_json(json!({ "versions": { self.version.as_str(): {} } }))
            }
            ["mirror", _host, ns, kind, file]
                if [*ns, *kind] == provider && *file == format!("{}.json", self.version) =>
            {
                ok_json(self.mirror_archives())
            }
            ["files", name] if !name.contains("..") && self.dir.join(name).is_file() => {
                Response::new(Full::new(Bytes::from(read(&self.dir, name))))
            }
            _ => not_found(),
        }
    }

    fn archive(&self, version: &str, os: &str, arch: &str) -> Option<&Archive> {
        (version == self.version).then(|| self.archives.iter().find(|a| a.os == os && a.arch == arch)).flatten()
    }

    fn versions(&self) -> Value {
        let platforms: Vec<Value> = self.archives.iter().map(|a| json!({ "os": a.os, "arch": a.arch })).collect();
        json!({ "versions": [{ "version": self.version, "protocols": self.protocols, "platforms": platforms }] })
    }

    fn download(&self, archive: &Archive) -> Value {
        let sums = format!("terraform-provider-{}_{}_SHA256SUMS", self.kind, self.version);
        json!({
            "protocols": self.protocols,
            "os": archive.os,
            "arch": archive.arch,
            "filename": archive.filename,
            // Relative URLs: Terraform resolves them against this document's.
            "download_url": format!("/files/{}", archive.filename),
            "shasums_url": format!("/files/{sums}"),
            "shasums_signature_url": format!("/files/{sums}.sig"),
            "shasum": archive.sha256,
            "signing_keys": { "gpg_public_keys": [{
                "key_id": self.key.key_id,
                "ascii_armor": self.key.ascii_armor,
            }] },
        })
    }

    fn mirror_archives(&self) -> Value {
        let archives: serde_json::Map<String, Value> = self
            .archives
            .iter()
            .map(|a| {
                let entry = json!({ "url": format!("/files/{}", a.filename), "hashes": [format!("zh:{}", a.sha256)] });
                (format!("{}_{}", a.os, a.arch), entry)
            })
            .collect();
        json!({ "archives": archives })
    }
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("read {}: {e}", dir.join(name).display()))
}

fn ok_json(body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    response
}

fn not_found() -> Response<Full<Bytes>> {
    let mut response = ok_json(json!({ "errors": ["Not Found"] }));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}
