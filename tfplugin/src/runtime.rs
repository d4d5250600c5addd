//! The plugin process: listen, print the handshake, serve gRPC until
//! Terraform calls `plugin.GRPCController/Shutdown`.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::framework::{Provider, ProviderService};
use super::handshake::{handshake_line, reattach_json};
use super::proto::controller::Empty;
use super::proto::controller::grpc_controller_server::{GrpcController, GrpcControllerServer};
use super::proto::tfplugin6::provider_server::ProviderServer;
use super::tls::AutoMtls;
use super::transport::{Conn, Listener, Transport};
use super::{PluginError, ServeOptions};

/// How the process was started.
pub(crate) enum Mode {
    /// By Terraform (go-plugin managed), with AutoMTLS unless disabled.
    Managed { tls: Option<AutoMtls> },
    /// By hand with `--debug`: plaintext, print `TF_REATTACH_PROVIDERS`,
    /// serve until Ctrl-C.
    Debug,
}

/// go-plugin's message-size limit (`math.MaxInt32`); schemas and plans of
/// big configurations exceed tonic's 4 MiB default.
const MAX_MESSAGE_SIZE: usize = i32::MAX as usize;

/// How long a TLS handshake may take before the connection is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long in-flight RPCs get after Shutdown; Terraform SIGKILLs at 2 s.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1000);

/// Serves `provider` until shutdown.
pub(crate) async fn run<P: Provider>(provider: P, options: &ServeOptions, mode: Mode) -> Result<(), PluginError> {
    let transport = Transport::from_env();
    let listener = Listener::bind(transport).await.map_err(PluginError::Listen)?;
    let network = listener.network();
    let address = listener.address().map_err(PluginError::Listen)?;

    let (shutdown_tx, mut shutdown_rx) = watch::channel(false);
    let debug = matches!(mode, Mode::Debug);

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    // go-plugin's Ping checks the "plugin" service.
    health_reporter.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;

    let provider_service = ProviderServer::new(ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let controller = GrpcControllerServer::new(Controller {
        // In debug mode only Ctrl-C ends the process, so it survives
        // across Terraform commands.
        shutdown: (!debug).then(|| shutdown_tx.clone()),
    });

    let (tls, cert) = match mode {
        Mode::Managed { tls: Some(t) } => (Some(tokio_rustls::TlsAcceptor::from(t.server_config)), t.handshake_cert),
        Mode::Managed { tls: None } | Mode::Debug => (None, String::new()),
    };

    let (conn_tx, conn_rx) = mpsc::channel::<Result<Conn, std::io::Error>>(16);
    tokio::spawn(accept_loop(listener, tls, conn_tx, shutdown_rx.clone()));
    tokio::spawn(handle_interrupts(debug, shutdown_tx.clone()));

    announce(options, debug, network, &address, &cert)?;
    tracing::info!(network, address = %address, tls = !cert.is_empty(), "plugin serving");

    let shutdown_signal = {
        let mut rx = shutdown_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(provider_service)
        .add_service(controller)
        .serve_with_incoming_shutdown(ReceiverStream::new(conn_rx), shutdown_signal);

    // Graceful shutdown waits for connections to close; don't let a client
    // that keeps its connection open hold us past Terraform's 2 s deadline.
    let deadline = async {
        let _ = shutdown_rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result.map_err(PluginError::Serve)?,
        () = deadline => tracing::debug!("shutdown grace period elapsed"),
    }
    tracing::debug!("plugin exiting");
    Ok(())
}

/// Prints the handshake line (managed) or reattach instructions (debug).
fn announce(options: &ServeOptions, debug: bool, network: &str, address: &str, cert: &str) -> Result<(), PluginError> {
    use std::io::Write as _;
    let text = if debug {
        let json = reattach_json(&options.provider_address, network, address, std::process::id());
        format!(
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{json}'\n\n"
        )
    } else {
        handshake_line(network, address, cert)
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(PluginError::Handshake)
}

async fn accept_loop(
    listener: Listener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    conns: mpsc::Sender<Result<Conn, std::io::Error>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let conn = tokio::select! {
            conn = listener.accept() => conn,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let conns = conns.clone();
        let tls = tls.clone();
        // Handshake off the accept loop so one slow client can't block others.
        tokio::spawn(async move {
            let conn = match tls {
                Some(acceptor) => match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, conn.into_tls(&acceptor)).await {
                    Ok(Ok(c)) => c,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::warn!("TLS handshake timed out");
                        return;
                    }
                },
                None => conn,
            };
            let _ = conns.send(Ok(conn)).await;
        });
    }
    // Dropping the listener removes the unix socket file.
    drop(listener);
}

/// Ctrl-C in a terminal signals the whole process group, Terraform included;
/// like go-plugin we ignore it and let Terraform stop us (StopProvider, then
/// Shutdown). In debug mode Ctrl-C is how the user stops the provider.
async fn handle_interrupts(debug: bool, shutdown: watch::Sender<bool>) {
    loop {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        if debug {
            tracing::info!("interrupted, shutting down");
            let _ = shutdown.send(true);
            return;
        }
        tracing::debug!("plugin received interrupt signal, ignoring");
    }
}

/// `plugin.GRPCController`: Terraform's way of ending a provider process.
struct Controller {
    shutdown: Option<watch::Sender<bool>>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _req: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("GRPCController.Shutdown called");
        if let Some(tx) = &self.shutdown {
            let _ = tx.send(true);
        }
        Ok(Response::new(Empty {}))
    }
}
