//! What IMDS answers: the managed-identity token response and the attested
//! document's JSON content.
#![no_main]

use joinery_azure::attested::AttestedData;
use joinery_azure::imds::ManagedIdentityToken;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = serde_json::from_slice::<ManagedIdentityToken>(bytes);
    let _ = AttestedData::from_json(bytes);
});
