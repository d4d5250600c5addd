//! Teleport's protobuf answers the clients decode and read: certificates
//! from both join services, tokens, bots, Ping.
#![no_main]

use joinery_teleport::join::JoinedCerts;
use joinery_teleport::proto::legacy::{Certs, PingResponse};
use joinery_teleport::proto::teleport::join::v1::{Certificates, JoinResponse};
use joinery_teleport::proto::teleport::machineid::v1::Bot;
use joinery_teleport::proto::types::ProvisionTokenV2;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(certs) = Certs::decode(bytes) {
        let _ = JoinedCerts::from_legacy(certs);
    }
    if let Ok(certs) = Certificates::decode(bytes) {
        let _ = JoinedCerts::from_v1(certs);
    }
    let _ = JoinResponse::decode(bytes);
    let _ = ProvisionTokenV2::decode(bytes);
    let _ = Bot::decode(bytes);
    let _ = PingResponse::decode(bytes);
});
