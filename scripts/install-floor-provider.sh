#!/usr/bin/env bash
# Builds tests/floor-provider (a do-nothing terraform-plugin-framework provider
# serving another provider's resource schemas, the plan benchmark's floor) into
# .tools/bin/terraform-provider-floor. Rebuilt only when its sources change;
# prints the binary's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/tests/floor-provider"
bin="$root/.tools/bin/terraform-provider-floor"
stamp="$root/.tools/floor-provider.sha256"
mkdir -p "$root/.tools/bin"
sum="$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -d' ' -f1)"
if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  echo "building the floor provider into $bin" >&2
  (cd "$src" && GOFLAGS=-mod=readonly go build -trimpath -o "$bin" .)
  echo "$sum" > "$stamp"
fi
echo "$bin"
