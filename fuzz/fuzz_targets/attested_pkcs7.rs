//! The attested document IMDS returns (JSON envelope around base64 PKCS#7),
//! and everything the verifier reads from it before checking the chain.
#![no_main]

use joinery_azure::attested::{AttestedDocument, split_der_certificates};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(doc) = AttestedDocument::parse(bytes) {
        let _ = doc.signer_certificate();
        let _ = doc.verify_content_signature();
    }
    if let Ok(doc) = AttestedDocument::from_pkcs7_der(bytes) {
        let _ = doc.signer_certificate();
        let _ = doc.verify_content_signature();
    }
    let _ = split_der_certificates(bytes);
});
