//! `teleport.trust.v1.TrustService`: reading certificate authorities, as
//! Teleport's `lib/auth/trust/trustv1` answers it.
//!
//! Every authenticated identity may list and read CAs without their keys:
//! Teleport gives every role the implicit rule `cert_authority: [list,
//! readnosecrets]`, and a bot's role names it again (bots watch the CAs for
//! rotations, and tbot writes them into its outputs with the bot's own
//! identity). Reading keys needs `cert_authority: read`, which no devstack
//! identity holds. A type Teleport does not know is refused with the
//! message of its `CertAuthType.Check`; a type Teleport knows but the
//! devstack does not keep (see [`super::ca`]) is an empty list, or
//! `NotFound` for one CA.

use std::sync::Arc;

use joinery_teleport::proto::teleport::trust::v1::trust_service_server::TrustService;
use joinery_teleport::proto::teleport::trust::v1::{
    GetCertAuthoritiesRequest, GetCertAuthoritiesResponse, GetCertAuthorityRequest,
};
use joinery_teleport::proto::types::CertAuthorityV2;
use tonic::{Request, Response, Status};

use super::{Cluster, caller};

/// Teleport's CA types (`types.CertAuthTypes` of the API module
/// tests/teleport-go-client builds against).
const CA_TYPES: &[&str] =
    &["host", "user", "db", "db_client", "openssh", "jwt", "saml_idp", "oidc_idp", "spiffe", "okta"];

/// The trust service.
pub struct TrustApi(pub Arc<Cluster>);

/// Teleport's `CertAuthType.Check`.
fn check_type(ca_type: &str) -> Result<(), Status> {
    if CA_TYPES.contains(&ca_type) {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!("{ca_type:?} authority type is not supported")))
    }
}

fn authenticate<T>(req: &Request<T>) -> Result<(), Status> {
    caller(req).map(|_| ()).ok_or_else(|| Status::unauthenticated("client certificate required"))
}

/// Reading keys needs `cert_authority: read`, which no devstack identity holds.
fn check_keys(include_key: bool) -> Result<(), Status> {
    if include_key {
        return Err(Status::permission_denied("access denied to perform action \"read\" on \"cert_authority\""));
    }
    Ok(())
}

#[tonic::async_trait]
impl TrustService for TrustApi {
    async fn get_cert_authority(
        &self,
        req: Request<GetCertAuthorityRequest>,
    ) -> Result<Response<CertAuthorityV2>, Status> {
        authenticate(&req)?;
        // Teleport builds a dummy CA for the access check first, so a
        // malformed request fails its checks: the name, then the type.
        let r = req.get_ref();
        if r.domain.is_empty() {
            return Err(Status::invalid_argument("missing parameter Name"));
        }
        check_type(&r.r#type)?;
        check_keys(r.include_key)?;
        let ca = Some(&r.domain)
            .filter(|d| *d == self.0.name())
            .and_then(|_| self.0.ca.cert_authority(&r.r#type))
            .ok_or_else(|| Status::not_found(format!("key \"/authorities/{}/{}\" is not found", r.r#type, r.domain)))?;
        Ok(Response::new(ca))
    }

    async fn get_cert_authorities(
        &self,
        req: Request<GetCertAuthoritiesRequest>,
    ) -> Result<Response<GetCertAuthoritiesResponse>, Status> {
        authenticate(&req)?;
        check_keys(req.get_ref().include_key)?;
        let ca_type = &req.get_ref().r#type;
        check_type(ca_type)?;
        let cert_authorities_v2 = self.0.ca.cert_authority(ca_type).into_iter().collect();
        Ok(Response::new(GetCertAuthoritiesResponse { cert_authorities_v2 }))
    }
}
