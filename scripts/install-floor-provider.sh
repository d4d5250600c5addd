#!/usr/bin/env bash
# Builds tests/floor-provider (a do-nothing terraform-plugin-framework provider
# serving another provider's resource schemas, the plan benchmark's floor) into
# .tools/bin/terraform-provider-floor. Rebuilt only when its sources change;
# prints the binary's path.
exec "$(dirname "$0")/install-go-tool.sh" floor-provider terraform-provider-floor
