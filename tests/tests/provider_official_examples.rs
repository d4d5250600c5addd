//! The official provider's HCL, all of it, with real Terraform against the
//! devstack, for every installed Terraform version:
//!
//! - the examples of the official reference pages for `teleport_provision_token`
//!   and `teleport_bot` (Teleport v18: gravitational/teleport
//!   `docs/pages/reference/infrastructure-as-code/terraform-provider/resources/{provision_token,bot}.mdx`)
//!   apply, plan clean, import cleanly by CLI and by `import` block, and destroy;
//! - one token per join method with every attribute of its block set (one
//!   configuration, so one Terraform run covers them all) round-trips:
//!   HCL → Teleport → state, and Teleport → import → state;
//! - the deprecated top-level bot layout still applies and updates in place.
//!
//! Long because it holds the HCL of every join method.

// A test binary links every dependency and dev-dependency of its package;
// unused ones are caught on the library target.
#![allow(unused_crate_dependencies)]

use joinery_testkit::Devstack;
use joinery_testkit::terraform::{Workspace, terraforms};

const PROVIDER: &str = "provider \"teleport\" {}\n";

/// The official `teleport_provision_token` example, as published. Its expiry
/// (2022-10-12T07:20:51Z) is in the past, which the official provider's
/// `MustTimeBeInFuture` refuses at plan time as Joinery's does; the test
/// moves it to the future and changes nothing else.
const OFFICIAL_TOKENS: &str = r#"# Teleport Provision Token resource

resource "teleport_provision_token" "example" {
  version = "v2"
  metadata = {
    expires     = "2022-10-12T07:20:51Z"
    description = "Example token"

    labels = {
      example               = "yes"
      "teleport.dev/origin" = "dynamic" // This label is added on Teleport side by default
    }
  }

  spec = {
    roles = ["Node", "Auth"]
  }
}

resource "teleport_provision_token" "iam-token" {
  version = "v2"
  metadata = {
    name = "iam-token"
  }
  spec = {
    roles       = ["Bot"]
    bot_name    = "mybot"
    join_method = "iam"
    allow = [{
      aws_account = "123456789012"
    }]
  }
}
"#;

/// The official `teleport_bot` example, as published.
const OFFICIAL_BOT: &str = r#"# Teleport Machine ID Bot creation example

resource "teleport_bot" "example" {
  metadata = {
    name = "example"
  }

  spec = {
    roles = ["access"]
  }
}
"#;

fn official_config() -> String {
    let tokens = OFFICIAL_TOKENS.replace("2022-10-12T07:20:51Z", "2099-10-12T07:20:51Z");
    format!("{PROVIDER}{tokens}{OFFICIAL_BOT}")
}

#[test]
fn official_examples_apply_import_and_destroy() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        let ws = Workspace::new(&label, &tf, stack.provider_env());
        // The published expiry is refused at plan time, naming the attribute.
        ws.write(&format!("{PROVIDER}{OFFICIAL_TOKENS}"));
        let r = ws.run(&["validate", "-no-color"]);
        assert_ne!(r.code, 0, "[{label}] a past expiry must be refused");
        assert!(r.all().contains("\"2022-10-12T07:20:51Z\" is in the past"), "[{label}] {}", r.all());

        ws.write(&official_config());
        let plan = ws.plan(&[]);
        assert!(plan.stdout.contains("3 to add"), "[{label}] {}", plan.all());
        ws.apply();
        ws.assert_no_changes();
        let generated =
            ws.resource("teleport_provision_token.example")["metadata"]["name"].as_str().unwrap().to_string();
        let token = stack.get_json(&format!("token/{generated}")).expect("the example token exists");
        assert_eq!(token["spec"]["roles"], serde_json::json!(["Node", "Auth"]));
        assert_eq!(token["metadata"]["labels"]["teleport.dev/origin"], "dynamic");
        let iam = stack.get_json("token/iam-token").expect("iam-token exists");
        assert_eq!(iam["spec"]["allow"][0]["aws_account"], "123456789012");
        assert_eq!(stack.get_json("bot/example").expect("bot exists")["spec"]["roles"][0], "access");

        let forget = || {
            ws.ok(&[
                "state",
                "rm",
                "teleport_provision_token.example",
                "teleport_provision_token.iam-token",
                "teleport_bot.example",
            ])
        };
        // Import by CLI into an empty state: the plan is empty.
        forget();
        for (address, id) in [
            ("teleport_provision_token.example", generated.as_str()),
            ("teleport_provision_token.iam-token", "iam-token"),
            ("teleport_bot.example", "example"),
        ] {
            ws.ok(&["import", "-no-color", "-input=false", address, id]);
        }
        ws.assert_no_changes();

        // Import by `import` blocks: nothing to add or change.
        forget();
        ws.write(&format!(
            "{}\nimport {{\n  to = teleport_provision_token.example\n  id = \"{generated}\"\n}}\n\
             import {{\n  to = teleport_provision_token.iam-token\n  id = \"iam-token\"\n}}\n\
             import {{\n  to = teleport_bot.example\n  id = \"example\"\n}}\n",
            official_config()
        ));
        let plan = ws.plan(&[]);
        assert!(plan.stdout.contains("3 to import, 0 to add, 0 to change, 0 to destroy"), "[{label}] {}", plan.all());
        ws.apply();
        ws.assert_no_changes();

        ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
        assert!(stack.get_json(&format!("token/{generated}")).is_none());
        assert!(stack.get_json("token/iam-token").is_none());
        assert!(stack.get_json("bot/example").is_none());
    }
}

/// One token per join method, each block with every attribute set. Values
/// are in Teleport's own spelling (`2h0m0s`), so the import below reads
/// back exactly what is written; `ca.pem` is the devstack's CA, a real
/// certificate for the TPM's `ekcert_allowed_cas`.
const EVERY_JOIN_METHOD: &str = r#"
resource "teleport_bot" "ci" {
  metadata = {
    name        = "ci"
    description = "joins from everywhere"
    labels      = { team = "platform" }
    expires     = "2099-01-01T00:00:00Z"
  }
  spec = {
    roles           = ["access"]
    traits          = { logins = ["ci", "root"] }
    max_session_ttl = "2h0m0s"
  }
}

locals {
  bot = teleport_bot.ci.metadata.name
}

resource "teleport_provision_token" "token" {
  version = "v2"
  metadata = {
    name        = "rt-token"
    description = "a secret token"
    labels      = { method = "token" }
    expires     = "2099-01-01T00:00:00Z"
  }
  spec = {
    roles                          = ["Bot"]
    bot_name                       = local.bot
    join_method                    = "token"
    suggested_labels               = { env = ["prod", "dev"] }
    suggested_agent_matcher_labels = { db = ["postgres"] }
  }
}

resource "teleport_provision_token" "ec2" {
  version  = "v2"
  metadata = { name = "rt-ec2" }
  spec = {
    roles       = ["Node"]
    join_method = "ec2"
    aws_iid_ttl = "10m0s"
    allow = [{
      aws_account = "123456789012"
      aws_regions = ["us-west-2", "eu-west-1"]
      aws_role    = "arn:aws:iam::123456789012:role/teleport-ec2"
    }]
  }
}

resource "teleport_provision_token" "iam" {
  version  = "v2"
  metadata = { name = "rt-iam" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "iam"
    allow       = [{ aws_account = "123456789012", aws_arn = "arn:aws:sts::123456789012:assumed-role/ci/*" }]
  }
}

resource "teleport_provision_token" "github" {
  version  = "v2"
  metadata = { name = "rt-github" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "github"
    github = {
      enterprise_server_host = "ghes.example.com"
      static_jwks            = "{\"keys\":[]}"
      allow = [{
        sub              = "repo:acme/app:environment:prod"
        repository       = "acme/app"
        repository_owner = "acme"
        workflow         = "deploy"
        environment      = "prod"
        actor            = "octocat"
        ref              = "refs/heads/main"
        ref_type         = "branch"
      }]
    }
  }
}

resource "teleport_provision_token" "github_slug" {
  version  = "v2"
  metadata = { name = "rt-github-slug" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "github"
    github = {
      enterprise_slug = "acme-enterprise"
      allow           = [{ repository_owner = "acme" }]
    }
  }
}

resource "teleport_provision_token" "circleci" {
  version  = "v2"
  metadata = { name = "rt-circleci" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "circleci"
    circleci = {
      organization_id = "c2a3b4d5-0000-4000-8000-000000000001"
      allow           = [{ project_id = "p-1", context_id = "ctx-1" }]
    }
  }
}

resource "teleport_provision_token" "kubernetes_jwks" {
  version  = "v2"
  metadata = { name = "rt-kubernetes-jwks" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "kubernetes"
    kubernetes = {
      type        = "static_jwks"
      static_jwks = { jwks = "{\"keys\":[]}" }
      allow       = [{ service_account = "tbot:tbot" }]
    }
  }
}

resource "teleport_provision_token" "kubernetes_oidc" {
  version  = "v2"
  metadata = { name = "rt-kubernetes-oidc" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "kubernetes"
    kubernetes = {
      type  = "oidc"
      oidc  = { issuer = "http://oidc.internal.example", insecure_allow_http_issuer = true }
      allow = [{ service_account = "tbot:tbot" }]
    }
  }
}

resource "teleport_provision_token" "azure" {
  version  = "v2"
  metadata = { name = "rt-azure" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "azure"
    azure = {
      allow = [{ subscription = "11111111-2222-3333-4444-555555555555", resource_groups = ["group1", "group2"] }]
    }
  }
}

resource "teleport_provision_token" "gitlab" {
  version  = "v2"
  metadata = { name = "rt-gitlab" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "gitlab"
    gitlab = {
      domain      = "gitlab.example.com"
      static_jwks = "{\"keys\":[]}"
      allow = [{
        sub                   = "project_path:platform/infra:ref_type:branch:ref:main"
        ref                   = "main"
        ref_type              = "branch"
        namespace_path        = "platform"
        project_path          = "platform/infra"
        pipeline_source       = "push"
        environment           = "production"
        user_login            = "deployer"
        user_id               = "42"
        user_email            = "deployer@example.com"
        ref_protected         = true
        environment_protected = false
        ci_config_sha         = "0123456789abcdef0123456789abcdef01234567"
        ci_config_ref_uri     = "gitlab.example.com/platform/infra//.gitlab-ci.yml@refs/heads/main"
        deployment_tier       = "production"
        project_visibility    = "private"
      }]
    }
  }
}

resource "teleport_provision_token" "gcp" {
  version  = "v2"
  metadata = { name = "rt-gcp" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "gcp"
    gcp = {
      allow = [{
        project_ids      = ["acme-prod"]
        locations        = ["us-west1", "us-west1-b"]
        service_accounts = ["tbot@acme-prod.iam.gserviceaccount.com"]
      }]
    }
  }
}

resource "teleport_provision_token" "spacelift" {
  version  = "v2"
  metadata = { name = "rt-spacelift" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "spacelift"
    spacelift = {
      hostname             = "acme.app.spacelift.io"
      enable_glob_matching = true
      allow                = [{ space_id = "root-*", caller_id = "infra", caller_type = "stack", scope = "write" }]
    }
  }
}

resource "teleport_provision_token" "tpm" {
  version  = "v2"
  metadata = { name = "rt-tpm" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "tpm"
    tpm = {
      ekcert_allowed_cas = [file("ca.pem")]
      allow = [{
        description           = "build-server-100"
        ek_public_hash        = "d4b45864d9d6fabfc568d74f26c35ababde2105337d7af9a6605e1c56c891aa6"
        ek_certificate_serial = "73:df:dc:bd:af:ef:8a:d8:15:2e:96:71:7a:3e:7f:a4"
      }]
    }
  }
}

resource "teleport_provision_token" "terraform_cloud" {
  version  = "v2"
  metadata = { name = "rt-terraform-cloud" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "terraform_cloud"
    terraform_cloud = {
      audience = "teleport"
      hostname = "tfe.example.com"
      allow = [{
        organization_id   = "org-123"
        organization_name = "acme"
        project_id        = "prj-123"
        project_name      = "infra"
        workspace_id      = "ws-123"
        workspace_name    = "prod"
        run_phase         = "apply"
      }]
    }
  }
}

resource "teleport_provision_token" "bitbucket" {
  version  = "v2"
  metadata = { name = "rt-bitbucket" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "bitbucket"
    bitbucket = {
      audience              = "ari:cloud:bitbucket::workspace/00000000-0000-4000-8000-000000000000"
      identity_provider_url = "https://api.bitbucket.org/2.0/workspaces/acme/pipelines-config/identity/oidc"
      allow = [{
        workspace_uuid              = "{00000000-0000-4000-8000-000000000000}"
        repository_uuid             = "{00000000-0000-4000-8000-000000000001}"
        deployment_environment_uuid = "{00000000-0000-4000-8000-000000000002}"
        branch_name                 = "main"
      }]
    }
  }
}

resource "teleport_provision_token" "oracle" {
  version  = "v2"
  metadata = { name = "rt-oracle" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "oracle"
    oracle = {
      allow = [{
        tenancy             = "ocid1.tenancy.oc1..aaaa"
        parent_compartments = ["ocid1.compartment.oc1..bbbb"]
        regions             = ["us-phoenix-1", "iad"]
      }]
    }
  }
}

resource "teleport_provision_token" "azure_devops" {
  version  = "v2"
  metadata = { name = "rt-azure-devops" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "azure_devops"
    azure_devops = {
      organization_id = "0f5f1e2d-0000-4000-8000-000000000003"
      allow = [{
        sub                = "p://acme/infra/deploy"
        project_name       = "infra"
        pipeline_name      = "deploy"
        project_id         = "271ef6f7-0000-0000-0000-4b54d9129990"
        definition_id      = "1"
        repository_uri     = "https://github.com/acme/infra.git"
        repository_version = "e6b9eb29a288b27a3a82cc19c48b9d94b80aff36"
        repository_ref     = "refs/heads/main"
      }]
    }
  }
}

resource "teleport_provision_token" "bound_keypair" {
  version  = "v2"
  metadata = { name = "rt-bound-keypair" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "bound_keypair"
    bound_keypair = {
      onboarding = {
        registration_secret  = "s3cret-registration"
        must_register_before = "2099-01-01T00:00:00Z"
      }
      recovery     = { limit = 3, mode = "relaxed" }
      rotate_after = "2099-06-01T00:00:00Z"
    }
  }
}

resource "teleport_provision_token" "bound_keypair_defaults" {
  version  = "v2"
  metadata = { name = "rt-bound-keypair-defaults" }
  spec = {
    roles       = ["Bot"]
    bot_name    = local.bot
    join_method = "bound_keypair"
  }
}

output "registration_secret" {
  value = teleport_provision_token.bound_keypair.status.bound_keypair.registration_secret
}

output "generated_registration_secret" {
  value = teleport_provision_token.bound_keypair_defaults.status.bound_keypair.registration_secret
}
"#;

/// The resources of [`EVERY_JOIN_METHOD`], with their import ids.
const EVERY_RESOURCE: &[(&str, &str)] = &[
    ("teleport_bot.ci", "ci"),
    ("teleport_provision_token.token", "rt-token"),
    ("teleport_provision_token.ec2", "rt-ec2"),
    ("teleport_provision_token.iam", "rt-iam"),
    ("teleport_provision_token.github", "rt-github"),
    ("teleport_provision_token.github_slug", "rt-github-slug"),
    ("teleport_provision_token.circleci", "rt-circleci"),
    ("teleport_provision_token.kubernetes_jwks", "rt-kubernetes-jwks"),
    ("teleport_provision_token.kubernetes_oidc", "rt-kubernetes-oidc"),
    ("teleport_provision_token.azure", "rt-azure"),
    ("teleport_provision_token.gitlab", "rt-gitlab"),
    ("teleport_provision_token.gcp", "rt-gcp"),
    ("teleport_provision_token.spacelift", "rt-spacelift"),
    ("teleport_provision_token.tpm", "rt-tpm"),
    ("teleport_provision_token.terraform_cloud", "rt-terraform-cloud"),
    ("teleport_provision_token.bitbucket", "rt-bitbucket"),
    ("teleport_provision_token.oracle", "rt-oracle"),
    ("teleport_provision_token.azure_devops", "rt-azure-devops"),
    ("teleport_provision_token.bound_keypair", "rt-bound-keypair"),
    ("teleport_provision_token.bound_keypair_defaults", "rt-bound-keypair-defaults"),
];

#[test]
fn every_join_method_round_trips() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        let ws = Workspace::new(&label, &tf, stack.provider_env());
        std::fs::write(ws.work().join("ca.pem"), stack.ca_pem()).unwrap();
        ws.write(&format!("{PROVIDER}{EVERY_JOIN_METHOD}"));
        ws.apply();
        ws.assert_no_changes();

        // What Terraform wrote is what Teleport holds, field by field.
        let spec = |name: &str| stack.get_json(&format!("token/{name}")).expect(name)["spec"].clone();
        let gitlab = spec("rt-gitlab")["gitlab"].clone();
        assert_eq!(gitlab["domain"], "gitlab.example.com");
        assert_eq!(gitlab["allow"][0]["project_visibility"], "private");
        assert_eq!(gitlab["allow"][0]["ref_protected"], true);
        assert_eq!(gitlab["allow"][0]["environment_protected"], false, "[{label}] an explicit false is kept");
        assert_eq!(spec("rt-kubernetes-oidc")["kubernetes"]["oidc"]["insecure_allow_http_issuer"], true);
        assert_eq!(spec("rt-spacelift")["spacelift"]["enable_glob_matching"], true);
        assert_eq!(spec("rt-ec2")["aws_iid_ttl"], "10m0s");
        assert_eq!(spec("rt-tpm")["tpm"]["ekcert_allowed_cas"][0], stack.ca_pem().as_str());
        assert_eq!(spec("rt-azure-devops")["azure_devops"]["allow"][0]["definition_id"], "1");
        assert_eq!(spec("rt-bound-keypair")["bound_keypair"]["recovery"]["mode"], "relaxed");
        assert_eq!(spec("rt-token")["suggested_agent_matcher_labels"]["db"][0], "postgres");
        assert_eq!(spec("rt-bitbucket")["bitbucket"]["allow"][0]["branch_name"], "main");
        assert_eq!(spec("rt-oracle")["oracle"]["allow"][0]["regions"][1], "iad");
        assert_eq!(spec("rt-terraform-cloud")["terraform_cloud"]["allow"][0]["run_phase"], "apply");
        assert_eq!(spec("rt-gcp")["gcp"]["allow"][0]["locations"][1], "us-west1-b");
        assert_eq!(spec("rt-circleci")["circleci"]["allow"][0]["context_id"], "ctx-1");
        assert_eq!(spec("rt-github")["github"]["allow"][0]["actor"], "octocat");
        assert_eq!(spec("rt-github-slug")["github"]["enterprise_slug"], "acme-enterprise");
        // The status Teleport writes reaches Terraform: the configured secret, or a generated one.
        let out: serde_json::Value = serde_json::from_str(&ws.ok(&["output", "-json"]).stdout).unwrap();
        assert_eq!(out["registration_secret"]["value"], "s3cret-registration");
        let generated = out["generated_registration_secret"]["value"].as_str().unwrap_or_default();
        assert_eq!(generated.len(), 32, "[{label}] {out}");
        // Defaults Teleport fills in stay out of state where the user wrote none.
        let defaults = ws.resource("teleport_provision_token.bound_keypair_defaults");
        assert!(defaults["spec"]["bound_keypair"].is_null(), "[{label}] {defaults}");

        // An update keeps the server's status: the issued secret survives.
        let updated = EVERY_JOIN_METHOD.replace(
            "bot_name    = local.bot\n    join_method = \"bound_keypair\"\n  }",
            "bot_name    = local.bot\n    join_method = \"bound_keypair\"\n    suggested_labels = { env = [\"prod\"] }\n  }",
        );
        assert_ne!(updated, EVERY_JOIN_METHOD);
        ws.write(&format!("{PROVIDER}{updated}"));
        ws.apply();
        ws.assert_no_changes();
        let out: serde_json::Value = serde_json::from_str(&ws.ok(&["output", "-json"]).stdout).unwrap();
        assert_eq!(out["generated_registration_secret"]["value"], generated, "[{label}] the status was kept");

        // Teleport → Terraform: everything imports into a fresh state and plans clean.
        let mut forget = vec!["state", "rm"];
        forget.extend(EVERY_RESOURCE.iter().map(|(address, _)| *address));
        ws.ok(&forget);
        let imports: String =
            EVERY_RESOURCE.iter().map(|(to, id)| format!("import {{\n  to = {to}\n  id = \"{id}\"\n}}\n")).collect();
        ws.write(&format!("{PROVIDER}{updated}{imports}"));
        let plan = ws.plan(&[]);
        let expected = format!("{} to import, 0 to add, 0 to change, 0 to destroy", EVERY_RESOURCE.len());
        assert!(plan.stdout.contains(&expected), "[{label}] {}", plan.all());
        ws.apply();
        ws.assert_no_changes();

        ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
        let left = stack.tctl_ok(&["get", "tokens", "--format", "json"]);
        assert_eq!(left.trim(), "[]", "[{label}] every token is destroyed");
    }
}

#[test]
fn deprecated_bot_layout_still_applies() {
    for (label, tf) in terraforms() {
        let stack = Devstack::start();
        let ws = Workspace::new(&label, &tf, stack.provider_env());
        let legacy = |roles: &str| {
            format!(
                "{PROVIDER}resource \"teleport_bot\" \"legacy\" {{\n  name   = \"legacy\"\n  roles  = [{roles}]\n  \
                 traits = {{ logins = [\"root\"] }}\n  token_ttl = \"1h\"\n}}\n\noutput \"user\" {{ value = \
                 teleport_bot.legacy.user_name }}\n"
            )
        };
        ws.write(&legacy("\"access\""));
        let r = ws.apply();
        assert!(r.all().to_lowercase().contains("deprecated"), "[{label}] Terraform warns: {}", r.all());
        ws.assert_no_changes();
        let bot = stack.get_json("bot/legacy").expect("bot exists");
        assert_eq!(bot["spec"]["traits"][0]["values"][0], "root");
        let state = ws.resource("teleport_bot.legacy");
        assert_eq!(state["user_name"], "bot-legacy");
        assert!(state["metadata"].is_null() && state["spec"].is_null(), "[{label}] {state}");

        ws.write(&legacy("\"access\", \"editor\""));
        let plan = ws.plan(&[]);
        assert!(plan.stdout.contains("1 to change"), "[{label}] updated in place: {}", plan.all());
        ws.apply();
        ws.assert_no_changes();
        assert_eq!(stack.get_json("bot/legacy").unwrap()["spec"]["roles"][1], "editor");

        // Both layouts at once is an error naming the deprecated attribute.
        ws.write(&format!(
            "{PROVIDER}resource \"teleport_bot\" \"legacy\" {{\n  name = \"legacy\"\n  metadata = {{ name = \"legacy\" \
             }}\n  spec = {{}}\n}}\n"
        ));
        let r = ws.run(&["validate", "-no-color"]);
        assert_ne!(r.code, 0);
        assert!(r.all().contains("cannot be used in combination with `spec` or `metadata`"), "[{label}] {}", r.all());
        ws.write(&legacy("\"access\", \"editor\""));
        ws.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
        assert!(stack.get_json("bot/legacy").is_none());
    }
}
