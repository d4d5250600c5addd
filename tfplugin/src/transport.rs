//! Listeners and connections: unix socket (go-plugin's default on Unix) or
//! TCP on 127.0.0.1, each optionally wrapped in TLS.

use std::io;
#[cfg(unix)]
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use tokio::net::{UnixListener, UnixStream};
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

/// Environment switch: set `JOINERY_PLUGIN_TCP=1` to listen on TCP
/// 127.0.0.1 instead of a unix socket (always TCP where unix sockets don't exist).
pub const TCP_SWITCH: &str = "JOINERY_PLUGIN_TCP";

/// Which kind of listener to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A unix socket in `PLUGIN_UNIX_SOCKET_DIR` or the temp dir.
    Unix,
    /// TCP on 127.0.0.1, any free port.
    Tcp,
}

impl Transport {
    /// The transport selected by the environment.
    pub fn from_env() -> Transport {
        let tcp = std::env::var(TCP_SWITCH).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        if tcp || cfg!(not(unix)) { Transport::Tcp } else { Transport::Unix }
    }
}

/// A bound listener. A unix socket file is removed when this is dropped.
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix socket, with its path.
    #[cfg(unix)]
    Unix(UnixListener, PathBuf),
}

impl Listener {
    /// Binds a listener of the given kind.
    pub async fn bind(transport: Transport) -> io::Result<Listener> {
        match transport {
            Transport::Tcp => Ok(Listener::Tcp(TcpListener::bind("127.0.0.1:0").await?)),
            #[cfg(unix)]
            Transport::Unix => bind_unix(),
            #[cfg(not(unix))]
            Transport::Unix => Ok(Listener::Tcp(TcpListener::bind("127.0.0.1:0").await?)),
        }
    }

    /// The network name for the handshake line (`tcp` or `unix`).
    pub fn network(&self) -> &'static str {
        match self {
            Listener::Tcp(_) => "tcp",
            #[cfg(unix)]
            Listener::Unix(..) => "unix",
        }
    }

    /// The address for the handshake line.
    pub fn address(&self) -> io::Result<String> {
        match self {
            Listener::Tcp(l) => Ok(l.local_addr()?.to_string()),
            #[cfg(unix)]
            Listener::Unix(_, path) => Ok(path.display().to_string()),
        }
    }

    /// Accepts one plaintext connection.
    pub async fn accept(&self) -> io::Result<Conn> {
        match self {
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await?;
                // gRPC sends many small frames; don't let Nagle delay them.
                s.set_nodelay(true)?;
                Ok(Conn::Tcp(s))
            }
            #[cfg(unix)]
            Listener::Unix(l, _) => Ok(Conn::Unix(l.accept().await?.0)),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(unix)]
fn bind_unix() -> io::Result<Listener> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    // Same place go-plugin uses: PLUGIN_UNIX_SOCKET_DIR, else the temp dir.
    let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let mut last_err = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("plugin{}-{nanos:08x}-{n}", std::process::id()));
        match UnixListener::bind(&path) {
            Ok(l) => return Ok(Listener::Unix(l, path)),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("could not pick a unix socket name")))
}

/// One accepted connection, plaintext or TLS, over TCP or a unix socket.
pub enum Conn {
    /// Plain TCP.
    Tcp(TcpStream),
    /// Plain unix socket.
    #[cfg(unix)]
    Unix(UnixStream),
    /// TLS over TCP.
    TlsTcp(Box<TlsStream<TcpStream>>),
    /// TLS over a unix socket.
    #[cfg(unix)]
    TlsUnix(Box<TlsStream<UnixStream>>),
}

impl Conn {
    /// Runs the TLS handshake on a plaintext connection.
    pub async fn into_tls(self, acceptor: &tokio_rustls::TlsAcceptor) -> io::Result<Conn> {
        match self {
            Conn::Tcp(s) => Ok(Conn::TlsTcp(Box::new(acceptor.accept(s).await?))),
            #[cfg(unix)]
            Conn::Unix(s) => Ok(Conn::TlsUnix(Box::new(acceptor.accept(s).await?))),
            already => Ok(already),
        }
    }
}

/// Delegates to whichever stream is inside; all of them are `Unpin`.
macro_rules! delegate {
    ($self:ident, $s:ident => $body:expr) => {
        match $self.get_mut() {
            Conn::Tcp($s) => $body,
            #[cfg(unix)]
            Conn::Unix($s) => $body,
            Conn::TlsTcp($s) => $body,
            #[cfg(unix)]
            Conn::TlsUnix($s) => $body,
        }
    };
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        delegate!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_shutdown(cx))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Tcp(s) => s.is_write_vectored(),
            #[cfg(unix)]
            Conn::Unix(s) => s.is_write_vectored(),
            Conn::TlsTcp(s) => s.is_write_vectored(),
            #[cfg(unix)]
            Conn::TlsUnix(s) => s.is_write_vectored(),
        }
    }
}

impl Connected for Conn {
    // The peer is always Terraform on this machine; nothing to report.
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}
