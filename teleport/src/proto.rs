//! Generated protobuf types and gRPC stubs, in Teleport's packages.
#![allow(clippy::all, missing_docs)]

/// `package types`: provision tokens, join requests, users, certificate authorities.
pub mod types {
    tonic::include_proto!("types");
}
/// `package wrappers`.
pub mod wrappers {
    tonic::include_proto!("wrappers");
}
/// `package proto`: the legacy AuthService and JoinService.
pub mod legacy {
    tonic::include_proto!("proto");
}
/// `package teleport.*`.
pub mod teleport {
    pub mod header {
        pub mod v1 {
            tonic::include_proto!("teleport.header.v1");
        }
    }
    pub mod machineid {
        pub mod v1 {
            tonic::include_proto!("teleport.machineid.v1");
        }
    }
    pub mod join {
        pub mod v1 {
            tonic::include_proto!("teleport.join.v1");
        }
    }
    pub mod users {
        pub mod v1 {
            tonic::include_proto!("teleport.users.v1");
        }
    }
    pub mod trust {
        pub mod v1 {
            tonic::include_proto!("teleport.trust.v1");
        }
    }
}

pub mod descriptors;
