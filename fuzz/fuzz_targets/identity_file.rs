//! Teleport identity files (the provider's and the agent's credentials),
//! and the PEM keys and certificates inside them.
#![no_main]

use joinery_teleport::Identity;
use joinery_teleport::identity::{CertInfo, pem_certs_to_der};
use joinery_teleport::keys::KeyPair;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(identity) = Identity::parse(text) {
        let _ = identity.tls_info();
        let _ = identity.encode();
    }
    let _ = CertInfo::from_pem(text);
    let _ = CertInfo::from_der(text.as_bytes());
    let _ = KeyPair::from_pem(text);
    let _ = pem_certs_to_der(text);
});
