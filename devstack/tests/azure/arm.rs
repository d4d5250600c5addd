//! The emulated ARM (RBAC, paging, identities, role assignments and definitions, the VM
//! identity PATCH, persistence across restarts) and Entra's client-credentials errors.

use joinery_azure::imds::{ARM_RESOURCE, IdentitySelector};
use joinery_testkit::Devstack;
use serde_json::{Value, json};

use crate::support::{arm_client, az, https_ca, imds, material, subscription, vm};

/// A client-credentials token for the provider's service principal.
async fn provider_token(stack: &Devstack) -> String {
    let a = az(stack);
    let http = https(stack);
    let url =
        format!("{}/{}/oauth2/v2.0/token", a["authority_host"].as_str().unwrap(), a["tenant_id"].as_str().unwrap());
    let resp: Value = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", a["client_id"].as_str().unwrap()),
            ("client_secret", a["client_secret"].as_str().unwrap()),
            ("scope", "https://management.azure.com/.default"),
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(resp["expires_in"].is_number());
    resp["access_token"].as_str().unwrap().to_string()
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn https(stack: &Devstack) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&https_ca(stack)).unwrap())
        .build()
        .unwrap()
}

/// Polls `f` until it gives a value, for up to 30 s (the emulator's delays are seconds).
async fn eventually<T, F, Fut>(what: &str, f: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn arm(
    stack: &Devstack,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let url = format!("{}{path}", az(stack)["arm_endpoint"].as_str().unwrap());
    let mut req = https(stack).request(method.parse().unwrap(), url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn arm_refuses_a_vm_identity_without_read_permission() {
    let stack = Devstack::start();
    let vm2_token = imds(&stack, "vm-2").access_token(ARM_RESOURCE, None).await.unwrap().access_token;
    let err = arm_client(&stack, &vm2_token).get_vm(vm(&stack, "vm-1")["id"].as_str().unwrap()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("AuthorizationFailed") && text.contains("Microsoft.Compute/virtualMachines/read"), "{text}");
    // vm-1's identity reads group1 but not group2.
    let vm1_token = imds(&stack, "vm-1").access_token(ARM_RESOURCE, None).await.unwrap().access_token;
    let c = arm_client(&stack, &vm1_token);
    assert_eq!(
        c.get_vm(vm(&stack, "vm-1")["id"].as_str().unwrap()).await.unwrap().properties.vm_id.as_deref(),
        vm(&stack, "vm-1")["vm_id"].as_str()
    );
    assert!(
        c.get_vm(vm(&stack, "vm-2")["id"].as_str().unwrap())
            .await
            .unwrap_err()
            .to_string()
            .contains("AuthorizationFailed")
    );
    let listed: Vec<String> = c.list_vms(&subscription(&stack)).await.unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(listed, ["vm-1", "vm-3"], "the list is filtered to what the caller may read");
    // No token, garbage token.
    let (s, b, _) = arm(&stack, "garbage", "GET", "/subscriptions/x?api-version=2022-01-01", None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (401, "InvalidAuthenticationToken"));
    let url = format!("{}/subscriptions/x?api-version=2022-01-01", az(&stack)["arm_endpoint"].as_str().unwrap());
    let b: Value = https(&stack).get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(b["error"]["code"], "AuthenticationFailed");
}

#[tokio::test]
async fn arm_lists_vms_with_paging_for_the_provider() {
    let stack = Devstack::start();
    let token = provider_token(&stack).await;
    let vms = arm_client(&stack, &token).list_vms(&subscription(&stack)).await.unwrap();
    assert_eq!(vms.len(), 3);
    let (s, b, _) = arm(
        &stack,
        &token,
        "GET",
        &format!("/subscriptions/{}/providers/Microsoft.Compute/virtualMachines", subscription(&stack)),
        None,
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (400, "MissingApiVersionParameter"));
    let (s, b, _) = arm(&stack, &token, "GET", &format!("/subscriptions/{}/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines/x?api-version=2024-11-01", subscription(&stack)), None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (404, "ResourceGroupNotFound"));
    let (s, b, _) = arm(&stack, &token, "GET", &format!("/subscriptions/{}/resourcegroups/GROUP1/providers/Microsoft.Compute/virtualMachines/nope?api-version=2024-11-01", subscription(&stack)), None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (404, "ResourceNotFound"));
}

#[tokio::test]
async fn arm_identity_role_and_vm_lifecycle_survives_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stack");
    let mut stack = Devstack::start_in(&dir, &[]);
    let token = provider_token(&stack).await;
    let sub = subscription(&stack);
    let rg = format!("/subscriptions/{sub}/resourceGroups/group2");
    let uami = format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/agent-id");
    let v = "api-version=2023-01-31";

    // User-assigned identity: create, idempotent update, get.
    let (s, b, _) =
        arm(&stack, &token, "PUT", &format!("{uami}?{v}"), Some(json!({"location": "eastus", "tags": {"a": "b"}})))
            .await;
    assert_eq!(s, 201, "{b}");
    let principal = b["properties"]["principalId"].as_str().unwrap().to_string();
    let client_id = b["properties"]["clientId"].as_str().unwrap().to_string();
    let (s, _, _) = arm(&stack, &token, "PUT", &format!("{uami}?{v}"), Some(json!({"location": "eastus"}))).await;
    assert_eq!(s, 200);
    let (s, b, _) = arm(
        &stack,
        &token,
        "PUT",
        &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x?{v}"),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (400, "LocationRequired"));

    // Custom role definition and a role assignment of it.
    let role = "5d0b3c2e-1111-4222-8333-444455556666";
    let rdp =
        format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}?api-version=2022-04-01");
    let (s, b, _) = arm(&stack, &token, "PUT", &rdp, Some(json!({"properties": {
        "roleName": "VM Reader (agent verifier)", "description": "Read VMs only", "type": "CustomRole",
        "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/read"], "notActions": [], "dataActions": [], "notDataActions": []}],
        "assignableScopes": [format!("/subscriptions/{sub}")]}}))).await;
    assert_eq!(s, 201, "{b}");
    let (s, b, _) = arm(&stack, &token, "GET", &format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName%20eq%20'Reader'"), None).await;
    assert_eq!(s, 200);
    assert_eq!(b["value"][0]["name"], "acdd72a7-3385-48ef-bd42-f606fba81ae7");
    let ra_name = "7e1f2a3b-aaaa-4bbb-8ccc-dddddddddddd";
    let rap = format!("{rg}/providers/Microsoft.Authorization/roleAssignments/{ra_name}?api-version=2022-04-01");
    let body = json!({"properties": {"roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"), "principalId": principal, "principalType": "ServicePrincipal"}});
    let (s, b, _) = arm(&stack, &token, "PUT", &rap, Some(body.clone())).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["properties"]["scope"], rg);
    let other = format!(
        "{rg}/providers/Microsoft.Authorization/roleAssignments/8e1f2a3b-aaaa-4bbb-8ccc-dddddddddddd?api-version=2022-04-01"
    );
    let (s, b, _) = arm(&stack, &token, "PUT", &other, Some(body)).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (409, "RoleAssignmentExists"));
    let (s, b, _) = arm(&stack, &token, "PUT", &rap, Some(json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": principal}}))).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (409, "RoleAssignmentUpdateNotPermitted"));
    let (s, b, _) = arm(&stack, &token, "PUT", &other, Some(json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": "00000000-0000-4000-8000-000000000000"}}))).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (400, "PrincipalNotFound"));
    let (s, b, _) = arm(&stack, &token, "GET", &format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId%20eq%20'{principal}'"), None).await;
    assert_eq!((s, b["value"].as_array().unwrap().len()), (200, 1));
    // The role definition is in use.
    let (s, b, _) = arm(&stack, &token, "DELETE", &rdp, None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (409, "RoleDefinitionHasAssignments"));

    // Attach the identity to vm-2: 200 + Azure-AsyncOperation (Compute's long-running
    // update), `Updating` until the operation succeeds; then vm-2's IMDS serves it.
    let vm2 = vm(&stack, "vm-2")["id"].as_str().unwrap().to_string();
    let (s, b, h) = arm(
        &stack,
        &token,
        "PATCH",
        &format!("{vm2}?api-version=2024-11-01"),
        Some(
            json!({"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {uami.clone(): {}}}}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["properties"]["provisioningState"], "Updating");
    let op = h.get("azure-asyncoperation").unwrap().to_str().unwrap().to_string();
    let status: Value = https(&stack).get(&op).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["status"], "InProgress");
    let succeeded = eventually("the VM update", || async {
        let status: Value = https(&stack).get(&op).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        (status["status"] == "Succeeded").then_some(())
    });
    succeeded.await;
    let t = eventually("IMDS serving the new identity", || async {
        imds(&stack, "vm-2").access_token(ARM_RESOURCE, Some(&IdentitySelector::ClientId(client_id.clone()))).await.ok()
    })
    .await;
    // It can read VMs in group2 once the role assignment has taken effect, but only there.
    let c = arm_client(&stack, &t.access_token);
    eventually("the role assignment taking effect", || async { c.get_vm(&vm2).await.ok() }).await;
    assert!(c.get_vm(vm(&stack, "vm-1")["id"].as_str().unwrap()).await.is_err());

    // Restart: ARM state, identities and the PKI survive.
    let root_before = material(&stack).root;
    stack.stop();
    let stack = Devstack::start_in(&dir, &[]);
    assert_eq!(material(&stack).root, root_before);
    let token = provider_token(&stack).await;
    let (s, b, _) = arm(&stack, &token, "GET", &format!("{uami}?{v}"), None).await;
    assert_eq!((s, b["properties"]["clientId"].as_str().unwrap()), (200, client_id.as_str()));
    let (s, _, _) = arm(&stack, &token, "GET", &rap, None).await;
    assert_eq!(s, 200);
    // Old tokens still verify (same signing key).
    arm_client(&stack, &t.access_token).get_vm(&vm2).await.unwrap();

    // Deletes.
    let (s, _, _) = arm(&stack, &token, "DELETE", &rap, None).await;
    assert_eq!(s, 200);
    let (s, _, _) = arm(&stack, &token, "DELETE", &rap, None).await;
    assert_eq!(s, 204);
    let (s, b, _) = arm(&stack, &token, "GET", &rap, None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (404, "RoleAssignmentNotFound"));
    let (s, _, _) = arm(&stack, &token, "DELETE", &rdp, None).await;
    assert_eq!(s, 200);
    let (s, _, _) = arm(&stack, &token, "DELETE", &format!("{uami}?{v}"), None).await;
    assert_eq!(s, 200);
    let (s, b, _) = arm(&stack, &token, "GET", &format!("{uami}?{v}"), None).await;
    assert_eq!((s, b["error"]["code"].as_str().unwrap()), (404, "ResourceNotFound"));
}

#[tokio::test]
async fn entra_client_credentials_errors() {
    let stack = Devstack::start();
    let a = az(&stack);
    let url =
        format!("{}/{}/oauth2/v2.0/token", a["authority_host"].as_str().unwrap(), a["tenant_id"].as_str().unwrap());
    let resp = https(&stack)
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", a["client_id"].as_str().unwrap()),
            ("client_secret", "wrong"),
            ("scope", "https://management.azure.com/.default"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let b: Value = resp.json().await.unwrap();
    assert_eq!(b["error"], "invalid_client");
    assert_eq!(b["error_codes"][0], 7000215);
}
