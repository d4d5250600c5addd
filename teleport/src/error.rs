//! Errors a Teleport call can end in, named the way Teleport names them.

use std::time::SystemTime;

/// What went wrong talking to Teleport.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Credentials could not be read or are incomplete.
    #[error("{0}")]
    Credentials(String),
    /// The identity's certificate has expired.
    #[error("the Teleport identity expired at {}; issue a new one (e.g. tctl auth sign) or renew it", crate::fmt_time(*.expired_at))]
    Expired {
        /// When the certificate expired.
        expired_at: SystemTime,
    },
    /// TCP or TLS connection failure.
    #[error("cannot connect to Teleport at {addr}: {detail}")]
    Connect {
        /// The address dialled.
        addr: String,
        /// Why.
        detail: String,
    },
    /// The server's certificate is not signed by the CA we trust.
    #[error("the server at {addr} is not trusted: {detail} (is the CA / identity file for this cluster?)")]
    UntrustedServer {
        /// The address dialled.
        addr: String,
        /// Why.
        detail: String,
    },
    /// gRPC PermissionDenied / Unauthenticated.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// gRPC NotFound.
    #[error("not found: {0}")]
    NotFound(String),
    /// gRPC AlreadyExists.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// A create was retried after an answer that was lost (`Unavailable`),
    /// and the retry found the object existing: the lost attempt may have
    /// created it. The caller reads it back and decides whether it is the
    /// object it asked for (see [`crate::RetryPolicy::run_create`]).
    #[error("already exists (an earlier attempt of this call may have created it): {0}")]
    MaybeCreated(String),
    /// gRPC InvalidArgument.
    #[error("bad parameter: {0}")]
    BadParameter(String),
    /// gRPC Unimplemented: the server is too old for this call.
    #[error("not implemented by this Teleport server: {0}")]
    NotImplemented(String),
    /// gRPC Unavailable, after retries.
    #[error("Teleport is unavailable: {0}")]
    Unavailable(String),
    /// No answer in time: the server may or may not have done the call.
    #[error("no answer from Teleport at {addr} within {}", joinery_util::duration::format(*.after))]
    Timeout {
        /// The address called.
        addr: String,
        /// How long we waited.
        after: std::time::Duration,
    },
    /// Any other gRPC status.
    #[error("Teleport returned {code:?}: {message}")]
    Other {
        /// The gRPC code.
        code: tonic::Code,
        /// The server's message.
        message: String,
    },
    /// The server answered something the protocol does not allow.
    #[error("unexpected response from Teleport: {0}")]
    Protocol(String),
}

impl Error {
    /// Whether the call failed because the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// Whether retrying may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable(_) | Error::Connect { .. } | Error::Timeout { .. })
    }
}

impl From<tonic::Status> for Error {
    fn from(status: tonic::Status) -> Self {
        let message = status.message().to_string();
        match status.code() {
            tonic::Code::NotFound => Error::NotFound(message),
            tonic::Code::AlreadyExists => Error::AlreadyExists(message),
            tonic::Code::PermissionDenied | tonic::Code::Unauthenticated => Error::AccessDenied(message),
            tonic::Code::InvalidArgument => Error::BadParameter(message),
            tonic::Code::Unimplemented => Error::NotImplemented(message),
            tonic::Code::Unavailable => Error::Unavailable(connection_detail(&status).unwrap_or(message)),
            code => Error::Other { code, message },
        }
    }
}

/// Digs the root cause (often a TLS error) out of a transport failure.
fn connection_detail(status: &tonic::Status) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(status);
    let mut last = None;
    while let Some(err) = source {
        last = Some(err.to_string());
        source = err.source();
    }
    last
}
