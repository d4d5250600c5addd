#!/usr/bin/env bash
# Builds the Go program in tests/NAME (its own go.mod pins every dependency)
# into .tools/bin/NAME, again only when its sources change (a sha256 stamp in
# .tools/NAME.sha256); prints the binary's path. Used for the tools the tests
# and benchmarks run that only Go has: Teleport's Go API client check
# (teleport-go-client) and the plan benchmark's floor (floor-provider).
#
#   scripts/install-go-tool.sh NAME [BINARY]   BINARY defaults to NAME
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
name="$1"
src="$root/tests/$name"
bin="$root/.tools/bin/${2:-$name}"
stamp="$root/.tools/$name.sha256"
mkdir -p "$root/.tools/bin"
sum="$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -d' ' -f1)"
if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  echo "building tests/$name into $bin" >&2
  (cd "$src" && GOFLAGS=-mod=readonly go build -trimpath -o "$bin" .)
  echo "$sum" > "$stamp"
fi
echo "$bin"
