#!/usr/bin/env bash
# Regenerates the provider docs from `terraform providers schema -json`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tf="$root/.tools/bin/terraform-1.15"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides { "joinery/teleport" = "$root/target/debug" }
  direct {}
}
CFG
cat > "$work/main.tf" <<'HCL'
terraform {
  required_providers {
    teleport = { source = "joinery/teleport" }
  }
}
HCL
(cd "$work" && TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 "$tf" providers schema -json > "$work/schema.json")
python3 "$root/scripts/gendocs.py" "$work/schema.json" "$root/docs"
