//! The verifier's rejection corpus after the proofs: subscription and resource group against
//! the token's allow rules, and the token itself (method, expiry, bot).

use std::time::{Duration, SystemTime};

use joinery_teleport::Error;
use joinery_testkit::Devstack;

use crate::common::{azure_token, bot};
use crate::support::{
    JoinError, TTL, aia, assert_rejected, imds, join_with_azure, join_with_azure_legacy, subscription, text, vm,
};

#[tokio::test]
async fn rejects_subscription_mismatch() {
    let other = "99999999-8888-4777-8666-555555555555";
    assert_rejected(&[], "does not match subscription", |f| {
        let signer = f.material.signer();
        f.sign(&signer, |d| d.subscription_id = Some(other.into()));
    })
    .await;
}

#[tokio::test]
async fn rejects_resource_group_not_allowed() {
    let stack = crate::support::stack_with_token(&["group2"]).await;
    let vm_id = text(vm(&stack, "vm-1"), "vm_id");
    let reason = crate::support::rejected(&stack, |_| {}).await;
    crate::support::assert_reason(
        &reason,
        &format!("instance {vm_id} did not match any allow rules in token az-token"),
    );
}

/// A devstack with bot `robot` and no token yet.
async fn stack_with_bot() -> Devstack {
    let stack = Devstack::start();
    stack.admin().await.create_bot(bot("robot", &["access"])).await.unwrap();
    stack
}

/// The reason of an access-denied join of vm-1 with `token`.
async fn denied(stack: &Devstack, token: &str) -> String {
    let err = join_with_azure(&stack.anonymous().await, token, TTL, &imds(stack, "vm-1"), None, &aia(stack))
        .await
        .unwrap_err();
    match err {
        JoinError::Teleport(Error::AccessDenied(m)) => m,
        other => panic!("expected access denied, got {other}"),
    }
}

#[tokio::test]
async fn rejects_token_of_another_join_method() {
    let stack = stack_with_bot().await;
    let mut t = azure_token("plain", "robot", &subscription(&stack), &[]);
    let spec = t.spec.as_mut().unwrap();
    spec.join_method = "token".into();
    spec.azure = None;
    stack.admin().await.create_token(t).await.unwrap();
    let reason = denied(&stack, "plain").await;
    assert!(reason.contains("\"token\" join method"), "{reason}");
    // On the legacy stream too.
    let err =
        join_with_azure_legacy(&stack.anonymous().await, "plain", TTL, &imds(&stack, "vm-1"), None).await.unwrap_err();
    assert!(
        matches!(&err, JoinError::Teleport(Error::AccessDenied(m)) if m.contains("does not support the Azure join method")),
        "{err}"
    );
}

#[tokio::test]
async fn rejects_expired_token() {
    let stack = stack_with_bot().await;
    let mut t = azure_token("short", "robot", &subscription(&stack), &[]);
    let expires = SystemTime::now() + Duration::from_secs(1);
    t.metadata.as_mut().unwrap().expires = Some(joinery_teleport::join::timestamp(expires));
    stack.admin().await.create_token(t).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let reason = denied(&stack, "short").await;
    assert!(reason.contains("token expired or not found"), "{reason}");
}

#[tokio::test]
async fn rejects_token_for_a_missing_bot() {
    let stack = Devstack::start();
    stack.admin().await.create_token(azure_token("ghostly", "ghost", &subscription(&stack), &[])).await.unwrap();
    let reason = denied(&stack, "ghostly").await;
    assert!(reason.contains("ghost"), "{reason}");
}
