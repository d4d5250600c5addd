//! Certificate credentials in the emulated Entra: a client-credentials grant whose
//! `client_assertion` the app signed itself with the private key of a certificate registered
//! on it (Microsoft Graph `keyCredentials`, type `AsymmetricX509Cert`) — what azurerm's
//! `client_certificate_path`, MSAL's `.WithCertificate()` and the Azure SDKs'
//! `CertificateCredential` send.
//!
//! The format (<https://learn.microsoft.com/entra/identity-platform/certificate-credentials>):
//! header `alg` PS256 (or the older RS256), the certificate named by `x5t#S256` (SHA-256
//! thumbprint, current MSAL), `x5t` (SHA-1, older MSAL and the Azure SDKs) or `kid` (SHA-1,
//! HashiCorp's go-azure-sdk, base64url with or without padding); claims `aud` = the tenant's
//! token endpoint, `iss` = `sub` = the client id, `jti`, `nbf`, `exp`.
//!
//! Checks, in this order, each with Entra's code (401 `invalid_client` unless noted):
//!
//! 1. the assertion is a JWT (`AADSTS50027`, 400) naming a certificate thumbprint
//!    (`AADSTS50027` "No certificate thumbprint specified in token header");
//! 2. one audience (`AADSTS5002741`), the tenant's v2.0 or v1 token endpoint on this authority
//!    (`AADSTS50012` "Client assertion audience claim does not match Realm issuer", wording
//!    observed in 2017);
//! 3. `sub` is the client id (`AADSTS700021`);
//! 4. now within `nbf`..`exp` ([`super::assertion::check_time_range`], `AADSTS700024`);
//! 5. the thumbprint names a certificate of the app (`AADSTS700027` "The certificate with
//!    identifier used to sign the client assertion is not registered on application. [Reason -
//!    The key was not found., …]"), valid now ("The key used is expired."), and the signature
//!    verifies under its key ("The provided signature value did not match the expected
//!    signature value.").
//!
//! Which thumbprint Entra prints for an `x5t#S256` is not documented; the devstack prints the
//! header's value in upper-case hex, as Entra does for SHA-1 ones.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;

use super::assertion::{Refusal, check_time_range, malformed, refuse};
use crate::oidc::peek;

/// Entra's pointer to an app's key credentials, for app `app`.
fn see_keys(app: &str) -> String {
    format!(
        "Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/{app}'"
    )
}

/// How a certificate was named in the assertion's header.
enum Thumbprint {
    Sha256(Vec<u8>),
    Sha1(Vec<u8>),
}

impl Thumbprint {
    fn of(header: &jsonwebtoken::Header) -> Option<Thumbprint> {
        let decode = |v: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(v.trim_end_matches('='))
                .ok()
                .filter(|b| !b.is_empty())
        };
        if let Some(t) = header.x5t_s256.as_deref().and_then(decode) {
            return Some(Thumbprint::Sha256(t));
        }
        header.x5t.as_deref().or(header.kid.as_deref()).and_then(decode).map(Thumbprint::Sha1)
    }

    fn matches(&self, der: &[u8]) -> bool {
        match self {
            Thumbprint::Sha256(t) => Sha256::digest(der)[..] == t[..],
            Thumbprint::Sha1(_) => self.hex() == joinery_azure::credential::thumbprint(der),
        }
    }

    fn hex(&self) -> String {
        match self {
            Thumbprint::Sha256(t) | Thumbprint::Sha1(t) => hex::encode_upper(t),
        }
    }
}

/// The token endpoints an assertion for `tenant` at `authority` (the emulator's https base)
/// may name as its audience.
pub fn audiences(authority: &str, tenant: &str) -> [String; 2] {
    let base = authority.trim_end_matches('/');
    [format!("{base}/{tenant}/oauth2/v2.0/token"), format!("{base}/{tenant}/oauth2/token")]
}

/// Checks a self-signed `assertion` of app `client_id` against its registered `certificates`
/// (DER) at Unix time `now`; `audiences` are the token endpoints it may be addressed to.
pub fn authenticate(
    certificates: &[Vec<u8>],
    client_id: &str,
    assertion: &str,
    audiences: &[String],
    now: i64,
) -> Result<(), Refusal> {
    let Ok((claims, _)) = peek(assertion) else {
        return Err(malformed());
    };
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return Err(malformed());
    };
    let Some(thumbprint) = Thumbprint::of(&header) else {
        return Err(refuse(50027, "Invalid JWT token. No certificate thumbprint specified in token header.".into()));
    };
    if claims.aud.len() > 1 {
        return Err(refuse(
            5002741,
            format!(
                "Number of audience values in the provided client credential exceed maximum allowed. {} audience values provided, maximum allowed is 1.",
                claims.aud.len()
            ),
        ));
    }
    if !claims.aud.iter().any(|a| audiences.iter().any(|ok| ok.eq_ignore_ascii_case(a))) {
        return Err(refuse(50012, "Client assertion audience claim does not match Realm issuer.".into()));
    }
    if !claims.sub.eq_ignore_ascii_case(client_id) {
        return Err(refuse(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .".into(),
        ));
    }
    check_time_range(&claims, now)?;
    let used = thumbprint.hex();
    let Some(cert) = certificates
        .iter()
        .filter(|der| thumbprint.matches(der))
        .find_map(|der| x509_parser::parse_x509_certificate(der).ok().map(|(_, c)| c))
    else {
        return Err(refuse(
            700027,
            format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{used}', {}]",
                see_keys(client_id)
            ),
        ));
    };
    let found = found_key(&cert);
    let invalid = |reason: &str| {
        refuse(
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key used by client: '{used}', Found key '{found}', {}]",
                see_keys(client_id)
            ),
        )
    };
    let validity = cert.validity();
    if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
        return Err(invalid("The key used is expired."));
    }
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) || !signature_verifies(assertion, header.alg, &cert) {
        return Err(invalid("The provided signature value did not match the expected signature value."));
    }
    Ok(())
}

/// Entra's description of a registered key: `Start=MM/DD/YYYY HH:MM:SS, End=…`.
fn found_key(cert: &X509Certificate<'_>) -> String {
    let format = time::macros::format_description!("[month]/[day]/[year] [hour]:[minute]:[second]");
    let at = |t: &x509_parser::time::ASN1Time| t.to_datetime().format(&format).unwrap_or_default();
    format!("Start={}, End={}", at(&cert.validity().not_before), at(&cert.validity().not_after))
}

/// Whether `assertion`'s signature verifies under the RSA key of `cert` with `alg`.
fn signature_verifies(assertion: &str, alg: Algorithm, cert: &X509Certificate<'_>) -> bool {
    let key = DecodingKey::from_rsa_der(&cert.public_key().subject_public_key.data);
    let mut validation = Validation::new(alg);
    // Every claim was checked above, with Entra's codes: only the signature is left.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &validation).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use joinery_azure::credential::{ClientCertificate, pkcs12_bundle};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    const APP: &str = "f4e6a8b0-3c5d-4e7f-8a1b-2c3d4e5f6a70";

    fn certificate() -> (Vec<u8>, ClientCertificate) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(2);
        let cert = params.self_signed(&key).unwrap();
        let pfx = pkcs12_bundle(cert.der(), &key.serialize_der(), "").unwrap();
        (cert.der().to_vec(), ClientCertificate::from_pkcs12(&pfx, "", SystemTime::now()).unwrap())
    }

    #[test]
    fn only_a_registered_certificate_signs_the_app_in() {
        let (der, client) = certificate();
        let (_, stranger) = certificate();
        let aud = audiences("https://127.0.0.1:9/", "tid");
        let now = SystemTime::now();
        let unix = now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        let code = |c: &ClientCertificate, client_id: &str, audience: &str, at: i64| {
            let jwt = c.assertion(client_id, audience, now).unwrap();
            authenticate(std::slice::from_ref(&der), APP, &jwt, &aud, at).map_err(|r| (r.code, r.message))
        };
        assert_eq!(code(&client, APP, &aud[0], unix), Ok(()));
        assert_eq!(code(&client, APP, &aud[1], unix), Ok(()), "the v1 endpoint is a token endpoint too");
        let (c, m) = code(&stranger, APP, &aud[0], unix).unwrap_err();
        assert_eq!(c, 700027);
        assert!(m.contains("The key was not found") && m.contains(APP), "{m}");
        assert_eq!(code(&client, APP, "https://127.0.0.1:9/other/oauth2/v2.0/token", unix).unwrap_err().0, 50012);
        assert_eq!(code(&client, "someone-else", &aud[0], unix).unwrap_err().0, 700021);
        assert_eq!(code(&client, APP, &aud[0], unix + 3600).unwrap_err().0, 700024);
        let (c, m) = code(&client, APP, &aud[0], unix + 3 * 86400 - 700).unwrap_err();
        assert_eq!(c, 700024, "{m}");
        // A certificate past its end date: the assertion is signed "in the future" to isolate it.
        let later = now + Duration::from_secs(3 * 86400);
        let jwt = client.assertion(APP, &aud[0], later).unwrap();
        let r = authenticate(std::slice::from_ref(&der), APP, &jwt, &aud, unix + 3 * 86400).unwrap_err();
        assert!(r.code == 700027 && r.message.contains("The key used is expired"), "{}", r.message);
        // A signature by another key under the registered certificate's thumbprint.
        let good = client.assertion(APP, &aud[0], now).unwrap();
        let forged = stranger.assertion(APP, &aud[0], now).unwrap();
        let spliced = format!("{}.{}", good.rsplit_once('.').unwrap().0, forged.rsplit_once('.').unwrap().1);
        let r = authenticate(std::slice::from_ref(&der), APP, &spliced, &aud, unix).unwrap_err();
        assert!(r.code == 700027 && r.message.contains("did not match the expected signature"), "{}", r.message);
        assert_eq!(authenticate(&[der], APP, "not-a-jwt", &aud, unix).unwrap_err().code, 50027);
    }
}
