#!/usr/bin/env bash
# Builds tests/teleport-go-client (Teleport's own Go API client, pinned in its
# go.mod) into .tools/bin/teleport-go-client, which the tests run against the
# devstack. Rebuilt only when its sources change; prints the binary's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/tests/teleport-go-client"
bin="$root/.tools/bin/teleport-go-client"
stamp="$root/.tools/teleport-go-client.sha256"
mkdir -p "$root/.tools/bin"
sum="$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go | sha256sum | cut -d' ' -f1)"
if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  echo "building Teleport's Go API client check into $bin" >&2
  (cd "$src" && GOFLAGS=-mod=readonly go build -trimpath -o "$bin" .)
  echo "$sum" > "$stamp"
fi
echo "$bin"
