//! Full Azure joins through the client library (`joinery_agent::join::azure`), over both join
//! services, including the ARM fallback of the verifier.

use joinery_azure::imds::IdentitySelector;
use joinery_teleport::Error;
use joinery_teleport::join::JoinService;

use crate::support::{
    JoinError, TTL, aia, assert_reason, az, finish_v1, imds, join_with_azure, join_with_azure_legacy,
    join_with_azure_v1, material, open_v1, real_solution, rejected, stack_with_token, stack_with_token_in, text,
    verify_bot_cert, vm, vm1_claims,
};

#[tokio::test]
async fn vm1_user_assigned_joins_through_join_v1() {
    let stack = stack_with_token(&["GROUP1"]).await;
    let (key, certs, service) =
        join_with_azure(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-1"), None, &aia(&stack))
            .await
            .unwrap();
    assert_eq!(service, JoinService::V1);
    let info = verify_bot_cert(&stack, &certs, &key);
    assert_eq!(info.bot_name.as_deref(), Some("robot"));
    assert_eq!(info.username, "bot-robot");
    assert!(!info.renewable, "delegated joins are not renewable");
    // Azure tokens are reusable: a second join works.
    let admin = stack.admin().await;
    admin.get_token("az-token").await.unwrap();
    let sel = IdentitySelector::ClientId(text(&vm(&stack, "vm-1")["identities"][0], "client_id"));
    join_with_azure(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-1"), Some(sel), &aia(&stack))
        .await
        .unwrap();
}

#[tokio::test]
async fn vm2_system_assigned_joins_through_join_v1() {
    let stack = stack_with_token(&["group2"]).await;
    let (key, certs, service) =
        join_with_azure(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-2"), None, &aia(&stack))
            .await
            .unwrap();
    assert_eq!(service, JoinService::V1);
    assert_eq!(verify_bot_cert(&stack, &certs, &key).bot_name.as_deref(), Some("robot"));
}

#[tokio::test]
async fn both_vms_join_through_the_legacy_service() {
    let stack = stack_with_token(&[]).await;
    for name in ["vm-1", "vm-2"] {
        let (key, certs) =
            join_with_azure_legacy(&stack.anonymous().await, "az-token", TTL, &imds(&stack, name), None).await.unwrap();
        assert!(certs.tls_cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(verify_bot_cert(&stack, &certs, &key).bot_name.as_deref(), Some("robot"), "{name}");
    }
}

/// A server whose `join.v1` lacks Azure, one without `join.v1`, and one whose Azure messages
/// are numbered otherwise: each v1 attempt fails at the protocol level, and the join
/// completes over the legacy stream.
#[tokio::test]
async fn protocol_doubt_falls_back_to_the_legacy_service() {
    for (mode, v1_failure) in [
        ("without-azure", "join method azure is not yet implemented by the new join service"),
        ("absent", "unknown service teleport.join.v1.JoinService"),
        ("renumbered-azure", "expected an Azure challenge"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let started = joinery_testkit::Devstack::start_in(&tmp.path().join("stack"), &["--join-v1", mode]);
        let stack = stack_with_token_in(started, &["group1"]).await;
        let client = stack.anonymous().await;
        let v1 = join_with_azure_v1(&client, "az-token", TTL, &imds(&stack, "vm-1"), None, &aia(&stack)).await;
        let err = v1.err().unwrap_or_else(|| panic!("{mode}: the v1 join must fail"));
        assert!(err.is_protocol_doubt() && err.to_string().contains(v1_failure), "{mode}: {err}");
        let (key, certs, service) =
            join_with_azure(&client, "az-token", TTL, &imds(&stack, "vm-1"), None, &aia(&stack)).await.unwrap();
        assert_eq!(service, JoinService::Legacy, "{mode}");
        assert_eq!(verify_bot_cert(&stack, &certs, &key).bot_name.as_deref(), Some("robot"), "{mode}");
        // An access decision is final, whatever the service: no fallback hides it.
        let err =
            join_with_azure(&client, "az-token", TTL, &imds(&stack, "vm-2"), None, &aia(&stack)).await.unwrap_err();
        assert!(!err.is_protocol_doubt(), "{mode}: {err}");
        assert!(matches!(&err, JoinError::Teleport(Error::AccessDenied(_))), "{mode}: {err}");
    }
}

#[tokio::test]
async fn legacy_rejection_carries_the_reason() {
    let stack = stack_with_token(&["group1"]).await;
    let err = join_with_azure_legacy(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-2"), None)
        .await
        .unwrap_err();
    let vm_id = text(vm(&stack, "vm-2"), "vm_id");
    assert!(
        matches!(&err, JoinError::Teleport(Error::AccessDenied(m))
            if m.contains(&format!("instance {vm_id} did not match any allow rules in token az-token"))),
        "{err}"
    );
}

#[tokio::test]
async fn vm_without_identity_cannot_join() {
    let stack = stack_with_token(&[]).await;
    let err = join_with_azure_v1(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-3"), None, &aia(&stack))
        .await
        .unwrap_err();
    assert!(matches!(&err, JoinError::Imds(e) if e.to_string().contains("Identity not found")), "{err}");
}

#[tokio::test]
async fn arm_fallback_joins_with_read_permission_and_refuses_without() {
    let stack = stack_with_token(&["group1"]).await;
    // A token without xms_az_rid (xms_mirid names the identity, not a VM) forces the ARM path;
    // vm1-identity is Reader on group1, so listing finds vm-1.
    let (stream, challenge) = open_v1(&stack, "az-token").await;
    let mut solution = real_solution(&stack, "vm-1", &challenge).await;
    let mut claims = vm1_claims(&stack);
    claims.as_object_mut().unwrap().remove("xms_az_rid");
    solution.access_token = material(&stack).issuer.issue(&claims).unwrap();
    finish_v1(stream, solution).await.unwrap();

    // tbot-identity has no role assignment: ARM says 403 and the join is refused.
    let tbot =
        az(&stack)["identities"].as_array().unwrap().iter().find(|i| i["name"] == "tbot-identity").unwrap().clone();
    let reason = rejected(&stack, |f| {
        let mut c = vm1_claims(&stack);
        c["xms_mirid"] = tbot["id"].clone();
        c["oid"] = tbot["principal_id"].clone();
        c["sub"] = tbot["principal_id"].clone();
        c["appid"] = tbot["client_id"].clone();
        c.as_object_mut().unwrap().remove("xms_az_rid");
        f.issue(&c);
    })
    .await;
    // Teleport passes the Azure SDK's error text on: the request, the status and ARM's code.
    assert_reason(&reason, "RESPONSE 403: 403 Forbidden");
    assert_reason(&reason, "ERROR CODE: AuthorizationFailed");
}
