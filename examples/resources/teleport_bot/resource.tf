# A bot that may impersonate the `access` role, with SSH logins as traits.
resource "teleport_bot" "example" {
  metadata = {
    name = "example"
  }
  spec = {
    roles           = ["access"]
    traits          = { logins = ["ubuntu"] }
    max_session_ttl = "12h"
  }
}
