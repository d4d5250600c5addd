//! One TLS port for every Teleport client.
//!
//! Real Teleport serves API clients (mTLS, ALPN `h2`, SNI
//! `teleport.cluster.local`) on the Auth port and unauthenticated join
//! clients (ALPN `teleport-proxy-grpc`) on the proxy. The devstack serves
//! both on one port: client certificates are optional at the TLS layer and
//! each RPC decides whether it needs one.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use joinery_teleport::proto::legacy::auth_service_server::AuthServiceServer;
use joinery_teleport::proto::legacy::join_service_server::JoinServiceServer;
use joinery_teleport::proto::teleport::join::v1::join_service_server::JoinServiceServer as JoinV1Server;
use joinery_teleport::proto::teleport::machineid::v1::bot_service_server::BotServiceServer;
use joinery_teleport::proto::teleport::trust::v1::trust_service_server::TrustServiceServer;
use joinery_teleport::proto::teleport::users::v1::users_service_server::UsersServiceServer;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::Cluster;
use super::auth::AuthApi;
use super::bots::BotApi;
use super::join::{JoinApiV1, LegacyJoinApi};
use super::trust::TrustApi;
use super::users::UsersApi;

/// Largest gRPC message accepted, as Teleport's default.
const MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// Builds the server TLS configuration: the Auth certificate, optional
/// client certificates checked against the user CA, ALPN `h2` and
/// `teleport-proxy-grpc`.
pub fn server_tls(cluster: &Cluster) -> Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(cluster.ca.tls_user_ca_der().to_vec()))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()?;
    let (cert, key) = cluster.ca.issue_server_cert()?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![CertificateDer::from(cert)], PrivateKeyDer::Pkcs8(key.into()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), joinery_teleport::tls::ALPN_PROXY_GRPC.as_bytes().to_vec()];
    Ok(config)
}

/// Serves the Teleport API on `listener` until `shutdown` completes.
pub async fn serve(
    cluster: Arc<Cluster>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_tls(&cluster)?));
    let (tx, rx) = mpsc::channel(64);
    let accept_loop = tokio::spawn(async move {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else { continue };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok::<_, std::io::Error>(tls)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            });
        }
    });
    let result = tonic::transport::Server::builder()
        .layer(super::faults::FaultLayer(cluster.faults.clone()))
        .add_service(
            AuthServiceServer::new(AuthApi(cluster.clone()))
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(
            BotServiceServer::new(BotApi(cluster.clone()))
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(
            UsersServiceServer::new(UsersApi(cluster.clone()))
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(
            TrustServiceServer::new(TrustApi(cluster.clone()))
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(JoinServiceServer::new(LegacyJoinApi(cluster.clone())).max_decoding_message_size(MAX_MESSAGE_SIZE))
        .add_service(JoinV1Server::new(JoinApiV1(cluster.clone())).max_decoding_message_size(MAX_MESSAGE_SIZE))
        .serve_with_incoming_shutdown(ReceiverStream::new(rx), shutdown)
        .await
        .context("Teleport API server failed");
    accept_loop.abort();
    result
}
