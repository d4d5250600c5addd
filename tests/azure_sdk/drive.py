"""Drives joinery-devstack's Azure emulator with Microsoft's own Python SDKs.

The SDKs are the independent check of the emulator's wire behaviour: where the emulator is
kinder than Azure (or just different), they fail. Run by tests/tests/azure_sdk.rs (so
`cargo test` runs it) with the venv of scripts/install-azure-sdk.sh:

    python drive.py <devstack dir>

The devstack must run with `--azure-principal-delay 60s --azure-arm-reads 30/5` (the test
starts it so). Each step prints `ok <step>`; a failure prints the SDK call that failed and what
the emulator answered (status, ARM error code, body), then exits 1.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

import requests
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceModifiedError
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    CertificateCredential,
    ClientSecretCredential,
    CredentialUnavailableError,
    ManagedIdentityCredential,
)
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient

ARM_SCOPE = "https://management.azure.com/.default"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


class StepFailed(Exception):
    """A step's own assertion failed."""


def emulator_answer(e):
    """What the emulator answered, for a failure message."""
    resp = getattr(e, "response", None)
    if resp is None:
        return "(no HTTP response)"
    try:
        body = resp.text()
    except Exception:  # noqa: BLE001 - best effort, for the message only
        body = "(unreadable body)"
    code = getattr(getattr(e, "error", None), "code", None)
    return f"HTTP {resp.status_code} {code or ''} {body[:600]}"


def step(name, fn):
    """Runs one step; on failure names the SDK call and the emulator's answer, and exits."""
    try:
        result = fn()
    except HttpResponseError as e:
        print(f"FAILED {name}: {type(e).__name__}: {e.message}\n  emulator answered: {emulator_answer(e)}")
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - any failure of a step is reported the same way
        print(f"FAILED {name}: {type(e).__name__}: {e}")
        traceback.print_exc(limit=4)
        sys.exit(1)
    print(f"ok {name}")
    return result


def expect(cond, what):
    if not cond:
        raise StepFailed(what)


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def main():
    stack_dir = sys.argv[1]
    with open(os.path.join(stack_dir, "devstack.json")) as f:
        info = json.load(f)
    az = info["azure"]
    # Every Azure SDK HTTP call goes through requests: trust the emulator's CA.
    os.environ["REQUESTS_CA_BUNDLE"] = az["ca_file"]
    tenant, sub = az["tenant_id"], az["subscription_id"]
    vms = {v["name"]: v for v in az["vms"]}
    identities = {i["name"]: i for i in az["identities"]}
    arm = az["arm_endpoint"]

    # --- Managed identity through IMDS (the SDK's documented override of the IMDS host).
    os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = vms["vm-1"]["imds_endpoint"]
    vm1_identity = identities["vm1-identity"]

    def mi_token():
        cred = ManagedIdentityCredential(client_id=vm1_identity["client_id"])
        t = cred.get_token(ARM_SCOPE)
        c = claims(t.token)
        # The SDK turns the scope into resource=https://management.azure.com (no slash).
        expect(c["aud"] == "https://management.azure.com", f"aud {c['aud']!r}")
        expect(c["iss"] == f"https://sts.windows.net/{tenant}/", f"iss {c['iss']!r}")
        expect(c["appid"] == vm1_identity["client_id"], f"appid {c['appid']!r}")
        expect(c["xms_az_rid"].lower() == vms["vm-1"]["id"].lower(), f"xms_az_rid {c.get('xms_az_rid')!r}")
        expect(t.expires_on > time.time() + 3600, f"expires_on {t.expires_on}")
        return t.token

    mi = step("ManagedIdentityCredential(client_id).get_token via IMDS", mi_token)

    def mi_arm_read():
        # ARM accepts the slash-less audience: the VM's identity reads its VM with it.
        c = ComputeManagementClient(_static(mi), sub, base_url=arm, credential_scopes=[ARM_SCOPE])
        vm = c.virtual_machines.get("group1", "vm-1")
        expect(vm.properties.vm_id == vms["vm-1"]["vm_id"], f"vmId {vm.properties.vm_id}")

    step("VirtualMachinesOperations.get with a managed-identity token (aud without slash)", mi_arm_read)

    def mi_unassigned():
        os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = vms["vm-3"]["imds_endpoint"]
        try:
            ManagedIdentityCredential(client_id=vm1_identity["client_id"]).get_token(ARM_SCOPE)
        except CredentialUnavailableError as e:
            expect("Identity not found" in str(e), f"message {e}")
            return
        raise StepFailed("vm-3 has no identity, yet IMDS served a token")

    step("ManagedIdentityCredential on a VM without that identity: CredentialUnavailableError", mi_unassigned)

    # --- The attested document, verified with openssl against the emulator's root.
    def attested():
        nonce = uuid.uuid4().hex
        r = requests.get(
            vms["vm-1"]["imds_endpoint"] + "/metadata/attested/document",
            params={"api-version": "2025-04-07", "nonce": nonce},
            headers={"Metadata": "true"},
            timeout=10,
        )
        expect(r.status_code == 200, f"HTTP {r.status_code} {r.text[:300]}")
        doc = r.json()
        expect(doc["encoding"] == "pkcs7", f"encoding {doc['encoding']}")
        with open(os.path.join(stack_dir, "azure", "attestation.json")) as f:
            root_der = base64.b64decode(json.load(f)["root"])
        intermediate_der = requests.get(az["aia_url"], timeout=10).content
        with tempfile.TemporaryDirectory() as d:
            p = lambda n: os.path.join(d, n)  # noqa: E731
            open(p("sig.der"), "wb").write(base64.b64decode(doc["signature"]))
            for name, der in [("root", root_der), ("intermediate", intermediate_der)]:
                open(p(name + ".der"), "wb").write(der)
                subprocess.run(
                    ["openssl", "x509", "-inform", "DER", "-in", p(name + ".der"), "-out", p(name + ".pem")], check=True
                )
            def openssl(*args):
                out = subprocess.run(["openssl", *args], capture_output=True)
                expect(out.returncode == 0, f"openssl {' '.join(args[:2])}: {out.stderr.decode()[:400]}")
                return out.stdout

            # The chain: the only embedded certificate (the leaf) to the root through the
            # intermediate from the AIA URL; then its SAN, as Microsoft's guidance says.
            openssl("pkcs7", "-inform", "DER", "-in", p("sig.der"), "-print_certs", "-out", p("leaf.pem"))
            verified = openssl("verify", "-CAfile", p("root.pem"), "-untrusted", p("intermediate.pem"), p("leaf.pem"))
            expect(verified.strip().endswith(b"OK"), f"openssl verify: {verified!r}")
            san = openssl("x509", "-in", p("leaf.pem"), "-noout", "-ext", "subjectAltName").decode()
            expect("DNS:metadata.azure.com" in san, f"SAN {san}")
            # The PKCS#7 signature over the content (chain checked above).
            out = subprocess.run(
                ["openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in", p("sig.der"), "-noverify"],
                capture_output=True,
            )
            expect(out.returncode == 0, f"openssl smime -verify: {out.stderr.decode()[:400]}")
            content = json.loads(out.stdout)
        expect(content["nonce"] == nonce, f"nonce {content['nonce']!r}")
        expect(content["vmId"] == vms["vm-1"]["vm_id"], f"vmId {content['vmId']!r}")
        expect(content["subscriptionId"] == sub, f"subscriptionId {content['subscriptionId']!r}")

    step("IMDS attested document verified by openssl against the emulator root", attested)

    # --- Entra: the v2.0 discovery MSAL reads, then the client-credentials grant.
    def discovery():
        base = az["authority_host"]
        v1 = requests.get(f"{base}/{tenant}/.well-known/openid-configuration", timeout=10).json()
        v2 = requests.get(f"{base}/{tenant}/v2.0/.well-known/openid-configuration", timeout=10).json()
        expect(v1["issuer"] == f"https://sts.windows.net/{tenant}/", f"v1 issuer {v1['issuer']}")
        expect(v2["issuer"] == f"https://login.microsoftonline.com/{tenant}/v2.0", f"v2 issuer {v2['issuer']}")
        expect(v1["token_endpoint"].endswith(f"/{tenant}/oauth2/token"), v1["token_endpoint"])
        expect(v2["token_endpoint"].endswith(f"/{tenant}/oauth2/v2.0/token"), v2["token_endpoint"])

    step("Entra v1 and v2.0 discovery documents", discovery)

    cred = ClientSecretCredential(
        tenant, az["client_id"], az["client_secret"], authority=az["authority_host"], disable_instance_discovery=True
    )

    def client_secret():
        t = cred.get_token(ARM_SCOPE)
        c = claims(t.token)
        # ARM tokens are v1 whichever endpoint issued them.
        expect(c["iss"] == f"https://sts.windows.net/{tenant}/" and c["ver"] == "1.0", f"iss/ver {c['iss']} {c['ver']}")
        expect(c["appid"] == az["client_id"], f"appid {c['appid']}")

    step("ClientSecretCredential.get_token (MSAL, v2.0 endpoint)", client_secret)

    # --- The service principal's certificate (the devstack's PKCS#12 bundle, read by
    # cryptography; MSAL signs the client assertion and names the certificate by thumbprint).
    def certificate_credential(path, password):
        return CertificateCredential(
            tenant, az["client_id"], certificate_path=path, password=password,
            authority=az["authority_host"], disable_instance_discovery=True,
        )

    def client_certificate():
        cred = certificate_credential(az["client_certificate_path"], az["client_certificate_password"])
        c = claims(cred.get_token(ARM_SCOPE).token)
        expect(c["appid"] == az["client_id"], f"appid {c['appid']}")
        vm = ComputeManagementClient(cred, sub, base_url=arm, credential_scopes=[ARM_SCOPE]).virtual_machines.get(
            "group1", "vm-1"
        )
        expect(vm.vm_id == vms["vm-1"]["vm_id"], f"vmId {vm.vm_id}")

    step("CertificateCredential.get_token with the devstack's PKCS#12 bundle, then an ARM read", client_certificate)

    def unregistered_certificate():
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
        from cryptography.x509.oid import NameOID
        import datetime

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stranger")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
        )
        with tempfile.NamedTemporaryFile(suffix=".pfx", delete=False) as f:
            f.write(pkcs12.serialize_key_and_certificates(b"stranger", key, cert, None, BestAvailableEncryption(b"pw")))
        try:
            certificate_credential(f.name, "pw").get_token(ARM_SCOPE)
        except ClientAuthenticationError as e:
            expect("AADSTS700027" in e.message and "not registered on application" in e.message, e.message)
            return
        finally:
            os.unlink(f.name)
        raise StepFailed("a certificate the application does not have signed in")

    step("CertificateCredential with an unregistered certificate: AADSTS700027", unregistered_certificate)

    mgmt = dict(base_url=arm, credential_scopes=[ARM_SCOPE])
    compute = ComputeManagementClient(cred, sub, **mgmt)
    msi = ManagedServiceIdentityClient(cred, sub, **mgmt)
    auth = AuthorizationManagementClient(cred, sub, **mgmt)

    # --- Managed identities.
    name = "sdk-" + uuid.uuid4().hex[:8]
    created = step(
        "UserAssignedIdentitiesOperations.create_or_update",
        lambda: msi.user_assigned_identities.create_or_update("group2", name, {"location": "eastus"}),
    )

    def listed():
        in_sub = [i.name for i in msi.user_assigned_identities.list_by_subscription()]
        in_rg = [i.name for i in msi.user_assigned_identities.list_by_resource_group("group2")]
        expect(name in in_sub and "tbot-identity" in in_sub, f"by subscription: {in_sub}")
        expect(name in in_rg and "tbot-identity" not in in_rg, f"by resource group: {in_rg}")

    step("UserAssignedIdentitiesOperations.list_by_subscription / list_by_resource_group", listed)

    # --- Role assignments: a brand-new principal is not replicated yet.
    scope = f"/subscriptions/{sub}/resourceGroups/group2"
    reader = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}"

    def role_definition():
        found = list(auth.role_definitions.list(scope, filter="roleName eq 'Reader'"))
        expect([d.name for d in found] == [READER], f"{[d.name for d in found]}")

    step("RoleDefinitionsOperations.list(filter=roleName eq 'Reader')", role_definition)

    def principal_not_found():
        try:
            auth.role_assignments.create(
                scope, str(uuid.uuid4()),
                # The model defaults principal_type to "User": None leaves it out, as a client
                # that does not know the principal's type does.
                RoleAssignmentCreateParameters(
                    role_definition_id=reader, principal_id=created.principal_id, principal_type=None
                ),
            )
        except HttpResponseError as e:
            expect(e.status_code == 400 and e.error.code == "PrincipalNotFound", emulator_answer(e))
            return
        raise StepFailed("a principal created a moment ago was found without principalType")

    step("RoleAssignmentsOperations.create without principalType: 400 PrincipalNotFound", principal_not_found)

    assignment = str(uuid.uuid4())

    def assigned():
        a = auth.role_assignments.create(
            scope, assignment,
            RoleAssignmentCreateParameters(
                role_definition_id=reader, principal_id=created.principal_id, principal_type="ServicePrincipal"
            ),
        )
        expect(a.principal_type == "ServicePrincipal", f"principal_type {a.principal_type}")
        mine = [x.name for x in auth.role_assignments.list_for_scope(scope, filter=f"principalId eq '{created.principal_id}'")]
        expect(mine == [assignment], f"{mine}")

    step("RoleAssignmentsOperations.create with principalType=ServicePrincipal", assigned)

    # --- VM updates: long-running, 200 + Azure-AsyncOperation, etag / If-Match.
    def attach():
        poller = compute.virtual_machines.begin_update(
            "group2", "vm-2",
            {"identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {created.id: {}}}},
            polling_interval=0.1,
        )
        vm = poller.result(timeout=60)
        ids = [k.lower() for k in vm.identity.user_assigned_identities]
        expect(created.id.lower() in ids, f"identities {ids}")
        expect(vm.properties.provisioning_state == "Succeeded", vm.properties.provisioning_state)
        return vm

    vm2 = step("VirtualMachinesOperations.begin_update (identity) as a long-running operation", attach)

    def stale_etag():
        expect(vm2.etag, "the VM has no etag")
        try:
            compute.virtual_machines.begin_update(
                "group2", "vm-2", {"tags": {}}, etag='"0"',
                match_condition=__import__("azure.core", fromlist=["MatchConditions"]).MatchConditions.IfNotModified,
            ).result(timeout=30)
        except ResourceModifiedError as e:
            expect(e.status_code == 412 and "PreconditionFailed" in emulator_answer(e), emulator_answer(e))
            return
        raise StepFailed("a stale If-Match was accepted")

    step("VirtualMachinesOperations.begin_update with a stale etag: 412 PreconditionFailed", stale_etag)

    def concurrent():
        first = compute.virtual_machines.begin_update("group2", "vm-2", {"tags": {}}, polling_interval=0.1)
        try:
            compute.virtual_machines.begin_update("group2", "vm-2", {"tags": {}}, polling_interval=0.1)
        except ResourceExistsError as e:
            expect(e.status_code == 409 and "ConflictingConcurrentWriteNotAllowed" in emulator_answer(e), emulator_answer(e))
            first.result(timeout=60)
            return
        raise StepFailed("a second update while the first runs was accepted")

    step("VirtualMachinesOperations.begin_update while another runs: 409", concurrent)

    def create_vm():
        vm_name = "sdk-vm-" + uuid.uuid4().hex[:6]
        poller = compute.virtual_machines.begin_create_or_update(
            "group2", vm_name,
            {"location": "eastus", "properties": {"hardwareProfile": {"vmSize": "Standard_B1s"}},
             "identity": {"type": "UserAssigned", "userAssignedIdentities": {created.id: {}}}},
            polling_interval=0.1,
        )
        vm = poller.result(timeout=60)
        expect(vm.name == vm_name and vm.properties.vm_id, f"{vm.name} {vm.properties.vm_id}")
        expect(vm.properties.provisioning_state == "Succeeded", vm.properties.provisioning_state)

    step("VirtualMachinesOperations.begin_create_or_update (PUT, 201)", create_vm)

    def unknown_version():
        try:
            compute.virtual_machines.get("group1", "vm-1", api_version="2099-01-01")
        except HttpResponseError as e:
            expect(e.status_code == 400 and e.error.code == "NoRegisteredProviderFound", emulator_answer(e))
            expect("The supported api-versions are" in e.message, e.message)
            return
        raise StepFailed("api-version 2099-01-01 was accepted")

    step("an unknown api-version: 400 NoRegisteredProviderFound", unknown_version)

    # --- Throttling: a burst beyond the read bucket is 429 + Retry-After, and the SDK's retry
    # policy rides it out.
    def throttled():
        token = cred.get_token(ARM_SCOPE).token
        url = f"{arm}/subscriptions/{sub}/resourceGroups/group1/providers/Microsoft.Compute/virtualMachines/vm-1"
        statuses = []
        for _ in range(200):
            r = requests.get(url, params={"api-version": "2024-11-01"}, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            statuses.append(r.status_code)
            if r.status_code == 429:
                expect(r.json()["error"]["code"] == "SubscriptionRequestsThrottled", r.text)
                expect(int(r.headers["Retry-After"]) >= 1, f"Retry-After {r.headers.get('Retry-After')}")
                break
            expect("x-ms-ratelimit-remaining-subscription-reads" in r.headers, f"headers {dict(r.headers)}")
        expect(statuses[-1] == 429, f"never throttled: {statuses}")
        results = []
        threads = [threading.Thread(target=lambda: results.append(compute.virtual_machines.get("group1", "vm-1").name)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        expect(results == ["vm-1"] * 3, f"{results}")

    step("ARM throttling: 429 SubscriptionRequestsThrottled + Retry-After, then the SDK retries", throttled)

    # --- Clean up what the SDK created.
    step("RoleAssignmentsOperations.delete", lambda: auth.role_assignments.delete(scope, assignment))
    print("all steps passed")


class _static:
    """A TokenCredential handing out one token (the managed-identity one)."""

    def __init__(self, token):
        self.token = token

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes, options=None):
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self.token, int(time.time()) + 3600)


if __name__ == "__main__":
    main()
