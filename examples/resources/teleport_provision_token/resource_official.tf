# The official provider's example (its reference page for Teleport v18),
# unchanged but for the expiry: the published 2022-10-12T07:20:51Z is in the
# past, which both providers refuse at plan time.
resource "teleport_provision_token" "example" {
  version = "v2"
  metadata = {
    expires     = "2035-10-12T07:20:51Z"
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
