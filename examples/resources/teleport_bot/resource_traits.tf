# A bot whose certificates carry SSH logins (role templates read the
# traits), valid for at most two hours.
resource "teleport_bot" "deployer" {
  metadata = {
    name        = "deployer"
    description = "Deploys from CI"
  }
  spec = {
    roles           = ["access"]
    traits          = { logins = ["deploy"] }
    max_session_ttl = "2h"
  }
}
