//! `join_method: token`: the provision token is the secret (single use).
//!
//! The protocol is `joinery_teleport::join::join_with_token` (shared with
//! the devstack's tests and the benches): `teleport.join.v1` first, the
//! legacy `RegisterUsingToken` on `Unimplemented`. The identity it returns
//! is renewable, so this method runs once per bot; renewals are
//! [`super::renew`].

use std::time::Duration;

use async_trait::async_trait;
use joinery_tbot_config::{JoinMethodName, Token};
use joinery_teleport::Client;
use joinery_teleport::join::{JoinedCerts, join_with_token};
use joinery_teleport::keys::KeyPair;

use super::{Join, JoinError};

/// The `token` method.
pub struct TokenJoin {
    token: Token,
}

impl TokenJoin {
    /// Joins with `token`.
    pub fn new(token: Token) -> Self {
        TokenJoin { token }
    }
}

#[async_trait]
impl Join for TokenJoin {
    fn method(&self) -> JoinMethodName {
        JoinMethodName::Token
    }

    async fn join(&self, client: &Client, ttl: Duration) -> Result<(KeyPair, JoinedCerts), JoinError> {
        let (key, certs, service) = join_with_token(client, self.token.value(), ttl).await?;
        tracing::debug!(?service, "joined");
        Ok((key, certs))
    }
}
