//! Managed-identity access tokens as the verifier reads them: header and
//! claims parsed before any key is looked up, then the signature.
#![no_main]

use std::time::Duration;

use joinery_azure::jwt::verify_with_keys;
use jsonwebtoken::jwk::JwkSet;
use libfuzzer_sys::fuzz_target;

/// One RSA key with kid `k1`, so tokens naming it reach signature checking.
const JWKS: &str = r#"{"keys":[{"kty":"RSA","use":"sig","kid":"k1","alg":"RS256","e":"AQAB","n":"xsOu_-IeSuSWfc5bwnOFFJZ0JteTqNAGblq4bRWWBc50GaR8lu6P4SZ-6p_9bDpBDuOdgFAa79etYAuC4MuAhxirByX86yAj9j1TCqnE1pwNyZQKkbXl5LHyN5EsB2aD5lNtmZmPSIkgLToORKWD1E_PAt0fw0L8aTK58gQa0tXRJx6kJtlxftQJy44s783XGw29QloE8jJdaFQ-X_T17ku53ymgdyrob13fmrrRkYErLG1XndMbJf7cFOoTB8mDYjYT6BnyKtja1hogDfQMXN5_J1xlHyd45Ieg6JvY6R2ndVZ99U8LWgevSNUmTjlwW9vm3SkqRBfUdVBTeAUk5Q"}]}"#;

fuzz_target!(|token: &str| {
    let Ok(keys) = serde_json::from_str::<JwkSet>(JWKS) else { return };
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let _ = verify_with_keys(token, &keys, None, now, Duration::from_secs(60));
});
