#!/usr/bin/env bash
# Builds tests/teleport-go-client (Teleport's own Go API client, pinned in its
# go.mod) into .tools/bin/teleport-go-client, which the tests run against the
# devstack. Rebuilt only when its sources change; prints the binary's path.
exec "$(dirname "$0")/install-go-tool.sh" teleport-go-client
