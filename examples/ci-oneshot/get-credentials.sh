#!/usr/bin/env bash
# Fetch short-lived Teleport credentials in a CI step, then use them.
#
#   export TELEPORT_BOT_TOKEN=...   # from the CI secret store
#   ./get-credentials.sh
#
# joinery-agent exits 0 once ./machine-id is written, 1 for an invalid
# config (nothing was contacted), 3 if the join failed (the server's reason
# is on stderr).
set -euo pipefail

: "${TELEPORT_BOT_TOKEN:?set TELEPORT_BOT_TOKEN from the CI secret store}"
here="$(cd "$(dirname "$0")" && pwd)"

joinery-agent check -c "$here/tbot.yaml" >/dev/null
joinery-agent start -c "$here/tbot.yaml" --log-format json

# The identity file works with tsh and tctl:
tsh -i ./machine-id/identity --proxy=teleport.example.com:443 ls
