# Run once with an administrator's identity: the pipeline's bot and the join tokens its
# pipelines use (examples/pipelines/github-actions.yml, azure-pipelines.yml). After this, the
# pipelines hold no Teleport secret.
resource "teleport_bot" "terraform" {
  metadata = { name = "terraform" }
  spec     = { roles = ["editor"] }
}

# GitHub Actions: only this repository's workflow `terraform` on main.
resource "teleport_provision_token" "terraform_ci" {
  version  = "v2"
  metadata = { name = "terraform-ci" }
  spec = {
    roles       = ["Bot"]
    bot_name    = teleport_bot.terraform.metadata.name
    join_method = "github"
    github = {
      allow = [{
        repository = "joinery-demo/infrastructure"
        workflow   = "terraform"
        ref        = "refs/heads/main"
      }]
    }
  }
}

# Azure Pipelines on self-hosted Azure VMs: the runners' subscription and resource group.
resource "teleport_provision_token" "terraform_runners" {
  version  = "v2"
  metadata = { name = "terraform-runners" }
  spec = {
    roles       = ["Bot"]
    bot_name    = teleport_bot.terraform.metadata.name
    join_method = "azure"
    azure = {
      allow = [{
        subscription    = "33333333-3333-3333-3333-333333333333"
        resource_groups = ["terraform-runners"]
      }]
    }
  }
}
