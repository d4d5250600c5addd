//! Managed-identity tokens as Entra issues them: RS256 JWTs with the v1 claim set of an ARM
//! managed-identity token, the JWKS and OIDC discovery documents that verify them, and the
//! IMDS token response with its numbers-as-strings.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use joinery_azure::jwt::issuer_for_tenant;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{SignError, generate_rsa_key_pkcs8};

/// What an emulated managed-identity token says.
#[derive(Debug, Clone)]
pub struct ManagedIdentityTokenSpec {
    /// Tenant id (`tid`).
    pub tenant_id: String,
    /// Principal (object) id of the identity (`oid` and `sub`).
    pub principal_id: String,
    /// Client (application) id of the identity (`appid`).
    pub client_id: String,
    /// The requested resource, verbatim: becomes `aud`.
    pub resource: String,
    /// `xms_mirid`: the VM id (system-assigned) or the UAMI id (user-assigned).
    pub mi_resource_id: String,
    /// `xms_az_rid`: the VM id, for user-assigned identities only.
    pub vm_resource_id: Option<String>,
    /// Issue time (`iat`, `nbf`).
    pub issued_at: OffsetDateTime,
    /// Lifetime (`exp` - `iat`); real MI tokens live about 24 h.
    pub lifetime: Duration,
}

fn random_b64url(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The full v1 claim set of an ARM managed-identity token.
pub fn managed_identity_claims(spec: &ManagedIdentityTokenSpec) -> Value {
    let iss = issuer_for_tenant(&spec.tenant_id);
    let iat = spec.issued_at.unix_timestamp();
    let exp = iat + i64::try_from(spec.lifetime.as_secs()).unwrap_or(86_400);
    let mut claims = json!({
        "aud": spec.resource,
        "iss": iss,
        "iat": iat,
        "nbf": iat,
        "exp": exp,
        "aio": random_b64url(48),
        "appid": spec.client_id,
        "appidacr": "2",
        "idp": iss,
        "idtyp": "app",
        "oid": spec.principal_id,
        "rh": format!("0.{}.", random_b64url(36)),
        "sub": spec.principal_id,
        "tid": spec.tenant_id,
        "uti": random_b64url(16),
        "ver": "1.0",
        "xms_mirid": spec.mi_resource_id,
        "xms_tcdt": 1_600_000_000i64,
    });
    if let (Some(vm), Some(obj)) = (&spec.vm_resource_id, claims.as_object_mut()) {
        obj.insert("xms_az_rid".to_string(), Value::String(vm.clone()));
    }
    claims
}

/// Issues RS256 tokens under one key, like an Entra signing key.
#[derive(Clone)]
pub struct TokenIssuer {
    kid: String,
    encoding_key: jsonwebtoken::EncodingKey,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// A fresh RSA-2048 signing key.
    pub fn generate() -> Result<Self, SignError> {
        Self::from_pkcs8(&generate_rsa_key_pkcs8()?, None)
    }

    /// From a PKCS#8 DER RSA key. `kid` defaults to a thumbprint-like value derived from the
    /// public key (27 base64url characters, the shape of Entra's `x5t`).
    pub fn from_pkcs8(key_pkcs8_der: &[u8], kid: Option<String>) -> Result<Self, SignError> {
        let key = rsa::RsaPrivateKey::from_pkcs8_der(key_pkcs8_der).map_err(|e| SignError::Key(e.to_string()))?;
        let pkcs1 = key.to_pkcs1_der().map_err(|e| SignError::Key(e.to_string()))?;
        let public = key.to_public_key();
        let kid = match kid {
            Some(k) => k,
            None => {
                let spki = public.to_public_key_der().map_err(|e| SignError::Key(e.to_string()))?;
                let digest = Sha256::digest(spki.as_bytes());
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..20])
            }
        };
        Ok(TokenIssuer {
            kid,
            encoding_key: jsonwebtoken::EncodingKey::from_rsa_der(pkcs1.as_bytes()),
            n: public.n().to_bytes_be(),
            e: public.e().to_bytes_be(),
        })
    }

    /// The key id (`kid`, also used as `x5t`).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs arbitrary claims with header `{"typ":"JWT","alg":"RS256","x5t":kid,"kid":kid}`.
    pub fn issue<T: Serialize>(&self, claims: &T) -> Result<String, SignError> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.typ = Some("JWT".to_string());
        header.kid = Some(self.kid.clone());
        header.x5t = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding_key).map_err(|e| SignError::Token(e.to_string()))
    }

    /// Issues a managed-identity token with [`managed_identity_claims`].
    pub fn issue_managed_identity(&self, spec: &ManagedIdentityTokenSpec) -> Result<String, SignError> {
        self.issue(&managed_identity_claims(spec))
    }

    /// This key as a JWK (`kty, use, kid, x5t, n, e`).
    pub fn jwk(&self) -> Value {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": b64(&self.n),
            "e": b64(&self.e),
        })
    }
}

/// A JWKS document (`{"keys":[...]}`) holding the given issuers' keys.
pub fn jwks(issuers: &[&TokenIssuer]) -> Value {
    json!({ "keys": issuers.iter().map(|i| i.jwk()).collect::<Vec<_>>() })
}

/// The v1 OIDC discovery document of tenant `tid`, with keys at `jwks_uri`.
/// `authority` is the Entra base the emulator serves (e.g. `https://127.0.0.1:8443`).
pub fn openid_configuration(tid: &str, jwks_uri: &str, authority: &str) -> Value {
    let authority = authority.trim_end_matches('/');
    json!({
        "token_endpoint": format!("{authority}/{tid}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": jwks_uri,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": issuer_for_tenant(tid),
        "authorization_endpoint": format!("{authority}/{tid}/oauth2/authorize"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"],
        "tenant_region_scope": "NA",
    })
}

/// The v2.0 OIDC discovery document of tenant `tid`
/// (`{authority}/{tid}/v2.0/.well-known/openid-configuration`), the one MSAL — and so every
/// Azure SDK's `ClientSecretCredential` — reads: issuer
/// `https://login.microsoftonline.com/{tid}/v2.0`, the v2.0 token endpoint (which takes
/// `scope`, not `resource`) and the v2.0 keys. As with v1, the issuer is Azure's own string
/// while the endpoints are the emulator's.
pub fn openid_configuration_v2(tid: &str, authority: &str) -> Value {
    let a = authority.trim_end_matches('/');
    json!({
        "token_endpoint": format!("{a}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{a}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": v2_issuer(tid),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{a}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{a}/{tid}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{a}/{tid}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{a}/{tid}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })
}

/// The issuer of tenant `tid`'s v2.0 tokens.
pub fn v2_issuer(tid: &str) -> String {
    format!("https://login.microsoftonline.com/{tid}/v2.0")
}

/// A v2.0 JWKS: v2.0 keys also carry the `issuer` they sign for.
pub fn jwks_v2(issuers: &[&TokenIssuer], issuer: &str) -> Value {
    let keys: Vec<Value> = issuers
        .iter()
        .map(|i| {
            let mut k = i.jwk();
            if let Some(o) = k.as_object_mut() {
                o.insert("issuer".into(), Value::String(issuer.to_string()));
            }
            k
        })
        .collect();
    json!({ "keys": keys })
}

/// The IMDS `/metadata/identity/oauth2/token` success body for `token` issued from `spec`:
/// every number is a JSON string, as IMDS sends it.
pub fn imds_token_response(token: &str, spec: &ManagedIdentityTokenSpec) -> Value {
    let iat = spec.issued_at.unix_timestamp();
    let life = spec.lifetime.as_secs();
    json!({
        "access_token": token,
        "refresh_token": "",
        "expires_in": life.to_string(),
        "expires_on": (iat + i64::try_from(life).unwrap_or(0)).to_string(),
        "ext_expires_in": life.to_string(),
        "not_before": iat.to_string(),
        "resource": spec.resource,
        "token_type": "Bearer",
        "client_id": spec.client_id,
    })
}
