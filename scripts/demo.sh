#!/usr/bin/env bash
# `make demo`: the whole story on the local devstack, one line per step.
#
#   1. build the binaries            4. terraform apply examples/quickstart: bot,
#   2. find or install Terraform        identity binding (tbot-identity -> vm-3), token
#   3. start joinery-devstack        5. run the agent once as the Azure VM vm-3
#                                    6. show the identity it received, clean up
#
# Everything lives under .demo/ (ignored); logs are in .demo/logs/. The
# devstack is stopped on exit, success or not.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
demo="$root/.demo"
logs="$demo/logs"
rm -rf "$demo"
mkdir -p "$logs"
chmod 700 "$demo"
step_name=""
step_start=0
devstack_pid=""

cleanup() {
  if [ -n "$devstack_pid" ] && kill -0 "$devstack_pid" 2>/dev/null; then
    kill -TERM "$devstack_pid" 2>/dev/null || true
    wait "$devstack_pid" 2>/dev/null || true
  fi
}
on_error() {
  echo "FAILED at step: $step_name (logs: $logs)" >&2
  for f in "$logs"/*.log; do
    [ -s "$f" ] || continue
    echo "--- last lines of $f" >&2
    tail -n 15 "$f" >&2
  done
}
trap cleanup EXIT
trap on_error ERR

now() { date +%s.%N; }
step() { step_name="$1"; step_start=$(now); printf '%-58s' "==> $1"; }
done_step() { printf ' %6.1fs\n' "$(python3 -c "print($(now) - $step_start)")"; }

step "build joinery binaries (cargo build)"
(cd "$root" && cargo build --workspace --bins) >"$logs/build.log" 2>&1
done_step

step "find Terraform >= 1.11 (or install 1.15 into .tools/)"
bin="$("$root/scripts/install-terraform.sh" 2>"$logs/terraform-install.log")"
if [ -x "$bin/terraform-system" ]; then tf="$bin/terraform-system"; else tf="$bin/terraform-1.15"; fi
done_step
echo "    using $("$tf" version 2>/dev/null | head -1)"

step "start joinery-devstack (Teleport + Azure emulator)"
"$root/target/debug/joinery-devstack" up --dir "$demo/stack" >"$logs/devstack.log" 2>&1 &
devstack_pid=$!
for _ in $(seq 1 600); do
  [ -s "$demo/stack/devstack.json" ] && break
  kill -0 "$devstack_pid" 2>/dev/null || { echo; echo "devstack exited" >&2; false; }
  sleep 0.1
done
[ -s "$demo/stack/devstack.json" ]
done_step

info="$demo/stack/devstack.json"
j() { python3 -c "import json,sys; d=json.load(open('$info')); print(eval(sys.argv[1]))" "$1"; }
vm_json() { python3 -c "import json; d=json.load(open('$info')); vm=[v for v in d['azure']['vms'] if v['name']=='vm-3'][0]; print($1)"; }

step "terraform apply examples/quickstart (bot, binding, token)"
mkdir -p "$demo/tf"
cp "$root/examples/quickstart/"*.tf "$demo/tf/"
cat >"$demo/cli.tfrc" <<CFG
provider_installation {
  dev_overrides { "joinery/teleport" = "$root/target/debug" }
  direct {}
}
CFG
export TF_CLI_CONFIG_FILE="$demo/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
eval "$(python3 -c "
import json, shlex
d = json.load(open('$info'))
for k, v in d['provider_env'].items():
    print('export %s=%s' % (k, shlex.quote(v)))
")"
export TF_VAR_teleport_addr="$(j "d['teleport']['addr']")"
export TF_VAR_ca_pin="$(j "d['teleport']['ca_pin']")"
export TF_VAR_identity_id="$(j "[i['id'] for i in d['azure']['identities'] if i['name']=='tbot-identity'][0]")"
export TF_VAR_vm_id="$(vm_json "vm['id']")"
export TF_VAR_output_dir="$demo/vm-3/machine-id"
(cd "$demo/tf" && "$tf" apply -auto-approve -no-color -input=false) >"$logs/terraform.log" 2>&1
(cd "$demo/tf" && "$tf" output -raw tbot_yaml) >"$demo/vm-3-tbot.yaml" 2>>"$logs/terraform.log"
done_step

step "joinery-agent start --oneshot as Azure VM vm-3"
mkdir -p "$demo/vm-3"
(
  eval "$(python3 -c "
import json, shlex
d = json.load(open('$info'))
vm = [v for v in d['azure']['vms'] if v['name'] == 'vm-3'][0]
for k, v in vm['agent_env'].items():
    print('export %s=%s' % (k, shlex.quote(v)))
")"
  "$root/target/debug/joinery-agent" start -c "$demo/vm-3-tbot.yaml" --oneshot
) >"$logs/agent.log" 2>&1
done_step

echo
echo "The VM's identity (from $demo/vm-3/machine-id/tlscert):"
"$root/target/debug/joinery-devstack" inspect "$demo/vm-3/machine-id/tlscert" | sed 's/^/    /'
echo "Files written by the agent:"
(cd "$demo/vm-3/machine-id" && ls -l | tail -n +2 | awk '{print "    " $1 "  " $NF}')
echo

step "terraform destroy and stop the devstack"
(cd "$demo/tf" && "$tf" destroy -auto-approve -no-color -input=false) >>"$logs/terraform.log" 2>&1
cleanup
devstack_pid=""
done_step
echo "demo complete"
