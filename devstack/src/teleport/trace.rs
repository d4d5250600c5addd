//! Teleport's errors as its server sends them: a `trace` error kind (its gRPC code) and the
//! messages `trace.Wrap` added around the cause, rendered by Go's `TraceErr.UserMessage` —
//! the newest message first, each older one and finally the cause indented one tab deeper.
//! Token validation and the join verifiers share it so every refusal reads like Teleport's.

use tonic::{Code, Status};

/// A `trace` error on its way to the wire.
#[derive(Debug)]
pub struct TraceError {
    code: Code,
    cause: String,
    /// Oldest first.
    messages: Vec<String>,
}

impl TraceError {
    /// `trace.BadParameter(message)` (InvalidArgument).
    pub fn bad(message: impl Into<String>) -> Self {
        Self::with_code(Code::InvalidArgument, message)
    }

    /// `trace.AccessDenied(message)` (PermissionDenied).
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::with_code(Code::PermissionDenied, message)
    }

    /// A plain Go error wrapped by trace (Unknown on the wire).
    pub fn plain(message: impl ToString) -> Self {
        Self::with_code(Code::Unknown, message.to_string())
    }

    fn with_code(code: Code, message: impl Into<String>) -> Self {
        TraceError { code, cause: message.into(), messages: Vec::new() }
    }

    /// `trace.Wrap(err, message)`.
    pub fn wrap(mut self, message: &str) -> Self {
        self.messages.push(message.to_string());
        self
    }

    /// Go's `TraceErr.UserMessage`.
    pub fn user_message(&self) -> String {
        let Some((newest, older)) = self.messages.split_last() else { return self.cause.clone() };
        let mut out = newest.clone();
        let mut indent = 1;
        for m in older.iter().rev() {
            out.push_str(&format!("\n{}{m}", "\t".repeat(indent)));
            indent += 1;
        }
        out.push_str(&format!("\n{}{}", "\t".repeat(indent), self.cause));
        out
    }
}

impl From<TraceError> for Status {
    fn from(e: TraceError) -> Status {
        Status::new(e.code, e.user_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_errors_render_like_trace() {
        let e = TraceError::bad("cause").wrap("inner").wrap("outer");
        assert_eq!(e.user_message(), "outer\n\tinner\n\t\tcause");
        let s = Status::from(TraceError::access_denied("no").wrap("verifying OIDC token"));
        assert_eq!(s.code(), Code::PermissionDenied);
        assert_eq!(s.message(), "verifying OIDC token\n\tno");
        assert_eq!(Status::from(TraceError::plain("x")).code(), Code::Unknown);
    }
}
