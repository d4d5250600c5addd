# CI jobs and pods that join without a secret. GitLab's ID token proves the
# project and a protected branch; a Kubernetes service account token proves
# the pod's identity, checked against the cluster's OIDC issuer.
resource "teleport_provision_token" "gitlab_ci" {
  version  = "v2"
  metadata = { name = "gitlab-ci" }
  spec = {
    roles       = ["Bot"]
    bot_name    = teleport_bot.deployer.metadata.name
    join_method = "gitlab"
    gitlab = {
      domain = "gitlab.example.com"
      allow = [{
        project_path  = "platform/infrastructure"
        ref_type      = "branch"
        ref           = "main"
        ref_protected = true
      }]
    }
  }
}

resource "teleport_provision_token" "kubernetes" {
  version  = "v2"
  metadata = { name = "kubernetes-tbot" }
  spec = {
    roles       = ["Bot"]
    bot_name    = teleport_bot.deployer.metadata.name
    join_method = "kubernetes"
    kubernetes = {
      type  = "oidc"
      oidc  = { issuer = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE" }
      allow = [{ service_account = "tbot:tbot" }]
    }
  }
}
