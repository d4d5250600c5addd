//! Bot instances as Teleport keeps them: an authenticated re-join continues
//! the bot's instance (next generation) instead of starting another, and
//! instances are deleted once their last certificate has expired.

use joinery_teleport::Credentials;
use serde_json::{Value, json};

use crate::support::{TTL, aia, imds, join_with_azure, stack_with_token};

/// The bot instances in the devstack's state file.
fn instances(stack: &joinery_testkit::Devstack) -> serde_json::Map<String, Value> {
    let state: Value = serde_json::from_slice(&std::fs::read(stack.dir.join("state.json")).unwrap()).unwrap();
    state["bot_instances"].as_object().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_authenticated_rejoin_continues_the_instance() {
    let stack = stack_with_token(&[]).await;
    let (key, certs, _) =
        join_with_azure(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-1"), None, &aia(&stack))
            .await
            .unwrap();
    let first = crate::common::verify_client_cert(&stack, &certs.tls_cert_pem);
    assert_eq!(first.generation, Some(1));
    let cluster = first.cluster_name.clone();
    let mut identity = certs.into_identity(&key, &cluster);
    for generation in 2..=4 {
        // As the agent renews an Azure bot: the whole join again, over its own mTLS identity.
        let client = stack.client(Credentials::from_identity(&identity).unwrap()).await;
        let (key, certs, _) =
            join_with_azure(&client, "az-token", TTL, &imds(&stack, "vm-1"), None, &aia(&stack)).await.unwrap();
        let info = crate::common::verify_client_cert(&stack, &certs.tls_cert_pem);
        assert_eq!(info.bot_instance_id, first.bot_instance_id, "the same instance");
        assert_eq!(info.generation, Some(generation));
        identity = certs.into_identity(&key, &cluster);
    }
    let all = instances(&stack);
    assert_eq!(all.len(), 1, "one instance for one VM: {all:?}");
    let instance = all.values().next().unwrap();
    assert_eq!(instance["generation"], 4);
    // It outlives the newest certificate by Teleport's 5-minute margin.
    let expires = instance["expires_unix"].as_u64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(expires > now + TTL.as_secs() && expires <= now + TTL.as_secs() + 5 * 60 + 5, "{expires} vs {now}");

    // An anonymous join is another VM (or a wiped one): a new instance.
    join_with_azure(&stack.anonymous().await, "az-token", TTL, &imds(&stack, "vm-2"), None, &aia(&stack))
        .await
        .unwrap();
    assert_eq!(instances(&stack).len(), 2);
}

#[test]
fn expired_instances_are_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stack");
    std::fs::create_dir_all(&dir).unwrap();
    let instance = |id: &str, expires: u64| {
        json!({"id": id, "bot_name": "robot", "join_method": "azure", "generation": 3,
               "last_seen": "2030-01-01T00:00:00Z", "expires_unix": expires})
    };
    std::fs::write(
        dir.join("state.json"),
        serde_json::to_vec(&json!({
            "version": 1,
            "bot_instances": {"old": instance("old", 1), "live": instance("live", u64::MAX / 2)}
        }))
        .unwrap(),
    )
    .unwrap();
    let stack = joinery_testkit::Devstack::start_in(&dir, &[]);
    // Any write prunes, as Teleport's backend drops expired items.
    stack.tctl_ok(&["bots", "add", "another", "--roles", "access"]);
    let all = instances(&stack);
    assert!(all.contains_key("live") && !all.contains_key("old"), "{all:?}");
}
