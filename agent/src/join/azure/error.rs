//! Why an Azure join failed, and how the agent reports it: the server's
//! reason as it is, with what the agent knows added to a refusal; a broken
//! exchange as a protocol error (and a reason to try the legacy stream); the
//! VM's own failures as an attestation problem; a role assignment not
//! effective yet as exactly that. Each has a bounded metric label.

use joinery_azure::aia::AiaError;
use joinery_azure::attested::AttestedError;
use joinery_azure::imds::ImdsError;
use joinery_teleport::Error as TeleportError;

use super::vm;
use crate::renew::teleport_reason;

/// Why an Azure join failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// Teleport refused or failed; the message is the server's reason.
    #[error("azure join: {0}")]
    Teleport(#[from] TeleportError),
    /// IMDS could not provide the document or token.
    #[error("azure join: {0}")]
    Imds(#[from] ImdsError),
    /// The attested document IMDS returned cannot be read.
    #[error("azure join: attested document from IMDS: {0}")]
    Document(#[from] AttestedError),
    /// The intermediates could not be fetched.
    #[error("azure join: fetching the attested document's intermediate certificates: {0}")]
    Aia(#[from] AiaError),
    /// The server broke the protocol.
    #[error("azure join: unexpected response from Teleport: {0}")]
    Protocol(String),
    /// Teleport refused this VM (access denied); the agent adds what it knows.
    #[error("azure join: {source}")]
    Rejected {
        /// The server's answer, unchanged.
        source: TeleportError,
        /// The token the VM joined with, masked as in every log line.
        token: String,
        /// This VM as IMDS describes it, or why it could not be described.
        vm: Box<Result<vm::VmFacts, String>>,
    },
}

/// [`JoinError::role_assignment_pending`] of a Teleport error.
fn pending_message(e: &TeleportError) -> Option<String> {
    let TeleportError::AccessDenied(text) = e else { return None };
    let code = text.lines().find_map(|l| l.trim().strip_prefix("ERROR CODE: "))?;
    if code.trim() != "AuthorizationFailed" {
        return None;
    }
    let body = text.find('{').and_then(|start| {
        let end = text.rfind('}')?;
        serde_json::from_str::<serde_json::Value>(&text[start..=end]).ok()
    });
    let message = body
        .as_ref()
        .and_then(|b| b.pointer("/error/message"))
        .and_then(|m| m.as_str())
        .unwrap_or("the identity may not read the VM");
    Some(message.to_string())
}

/// Whether `e` is the AuthorizationFailed answer of a role assignment not effective yet.
pub(super) fn is_pending(e: &TeleportError) -> bool {
    pending_message(e).is_some()
}

impl JoinError {
    /// Whether a failed `teleport.join.v1` attempt leaves doubt about the protocol rather than
    /// an answer about access, so the legacy stream (whose messages are long stable) may
    /// succeed: the service or its Azure method is not implemented (`Unimplemented`); the
    /// server sent what this client cannot read ([`JoinError::Protocol`], e.g. a challenge
    /// numbered otherwise); or it could not read what this client sent (`InvalidArgument`:
    /// Teleport's `trace.BadParameter` for an unrecognized message, the only parameter the
    /// server checks on the v1 Azure path before its access decision). An access decision
    /// (`PermissionDenied`), a missing object, an unreachable server or the VM's own failure
    /// is final: the legacy stream would meet the same answer.
    pub fn is_protocol_doubt(&self) -> bool {
        matches!(
            self,
            JoinError::Protocol(_)
                | JoinError::Teleport(
                    TeleportError::NotImplemented(_) | TeleportError::Protocol(_) | TeleportError::BadParameter(_)
                )
        )
    }

    /// ARM's message when Teleport refused the join because its ARM look-up of this VM, made
    /// with the VM's own token, was refused with `AuthorizationFailed`: the identity's role
    /// assignment has not taken effect yet (Azure applies one within about 10 minutes). This
    /// is what a VM's first boot meets with a Teleport that looks VMs up in ARM (before v16,
    /// or when the token does not name the VM), and it passes by itself.
    ///
    /// Teleport hands on the Azure SDK's error text (`azcore.ResponseError`: request,
    /// `RESPONSE 403: …`, `ERROR CODE: …`, the JSON body) as `AccessDenied`; the code is read
    /// from its `ERROR CODE:` line, the message from its body.
    pub fn role_assignment_pending(&self) -> Option<String> {
        match self {
            JoinError::Teleport(e) => pending_message(e),
            _ => None,
        }
    }
}

/// How the agent reports a failed Azure join: the server's reason as is, a
/// broken exchange as a Teleport protocol error, the VM's own failures
/// as an attestation problem, and a role assignment that has not taken
/// effect yet as exactly that (the daemon retries it with backoff).
pub(crate) fn message(e: &JoinError) -> String {
    if let Some(arm) = e.role_assignment_pending() {
        return format!(
            "role assignment not effective yet: Teleport's ARM look-up of this VM with its managed identity was refused \
             (AuthorizationFailed: {arm}); Azure applies a new role assignment within about 10 minutes, so this passes \
             by itself (the agent retries)"
        );
    }
    match e {
        JoinError::Teleport(e) => e.to_string(),
        JoinError::Rejected { source, token, vm } => rejected(source, token, vm),
        JoinError::Protocol(m) => TeleportError::Protocol(m.clone()).to_string(),
        JoinError::Imds(e) => attestation(e),
        JoinError::Document(e) => attestation(e),
        JoinError::Aia(e) => attestation(e),
    }
}

/// Where the documented fix of a refused Azure join is.
pub const REJECTION_DOC: &str = "docs/troubleshooting.md#a-refused-azure-join";

/// The server's reason as it is, then this VM and the fix: a person reading
/// the log learns which VM and identity were refused and where to look.
fn rejected(source: &TeleportError, token: &str, vm: &Result<vm::VmFacts, String>) -> String {
    let this = match vm {
        Ok(facts) => facts.context(),
        Err(e) => format!("this VM could not be described: {e}"),
    };
    format!(
        "{source} [{this}]; fix: Teleport's token {token:?} must be an azure token whose spec.azure.allow admits \
         this subscription and resource group; `joinery-agent check --join` prints the rule ({REJECTION_DOC})"
    )
}

fn attestation(e: &dyn std::fmt::Display) -> String {
    format!("cannot get the VM's Azure attestation: {e}")
}

/// The metric label of a failed Azure join: the cause, as precisely as a
/// bounded set of labels allows (IMDS's HTTP status, unreachable IMDS, a bad
/// document, the AIA download, or the server's reason).
pub(crate) fn reason(e: &JoinError) -> &'static str {
    if e.role_assignment_pending().is_some() {
        return "azure_role_assignment_pending";
    }
    match e {
        JoinError::Teleport(e) | JoinError::Rejected { source: e, .. } => teleport_reason(e),
        JoinError::Protocol(_) => "protocol",
        JoinError::Imds(e) => imds_reason(e),
        JoinError::Document(_) => "attestation_document",
        JoinError::Aia(_) => "attestation_aia",
    }
}

fn imds_reason(e: &ImdsError) -> &'static str {
    match e {
        ImdsError::GaveUp { last, .. } => imds_reason(last),
        ImdsError::Unreachable { .. } => "imds_unreachable",
        ImdsError::Status { status, .. } => match status {
            400 => "imds_http_400",
            403 => "imds_http_403",
            404 => "imds_http_404",
            410 => "imds_http_410",
            429 => "imds_http_429",
            500 => "imds_http_500",
            502 => "imds_http_502",
            503 => "imds_http_503",
            504 => "imds_http_504",
            _ => "imds_http_other",
        },
        ImdsError::BadResponse { .. } => "imds_bad_response",
        ImdsError::VersionTooOld(_) => "imds_version",
        ImdsError::InvalidNonce => "protocol",
        ImdsError::Setup(_) => "imds_setup",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_the_servers_reason_and_label_and_adds_the_vm_and_the_fix() {
        let e = JoinError::Rejected {
            source: TeleportError::AccessDenied("instance 1 did not match any allow rules in token az".into()),
            token: "*z".into(),
            vm: Box::new(Err("IMDS: unreachable".into())),
        };
        assert_eq!(reason(&e), "access_denied");
        let m = message(&e);
        assert!(m.starts_with("access denied: instance 1 did not match any allow rules in token az ["), "{m}");
        assert!(m.contains("[this VM could not be described: IMDS: unreachable]; fix: Teleport's token \"*z\""), "{m}");
        assert!(m.ends_with(&format!("({REJECTION_DOC})")), "{m}");
        assert!(!e.is_protocol_doubt(), "an access decision is final");
        assert!(JoinError::Teleport(TeleportError::NotImplemented("x".into())).is_protocol_doubt());
        assert!(!JoinError::Teleport(TeleportError::AccessDenied("x".into())).is_protocol_doubt());
    }
}
