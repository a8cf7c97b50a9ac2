#!/usr/bin/env bash
# make demo: a throwaway stack, real out-of-band drift, `tofu plan` failing on the classified
# finding, then passing once an exception accepts it. Needs only Go: OpenTofu and
# hashicorp/local are built from the Go module proxy on first use.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/tools.sh tofu local
eval "$(bash scripts/tools.sh paths)"

WORK="$ROOT/demo/work"
rm -rf "$WORK"
mkdir -p "$WORK/stack"
MIRROR="$WORK/mirror"
go build -o "$MIRROR/registry.opentofu.org/driftplane/drift/0.1.0/linux_amd64/terraform-provider-drift_v0.1.0" .
cat > "$WORK/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.opentofu.org/driftplane/drift"]
  }
  filesystem_mirror {
    path    = "$LOCAL_MIRROR"
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/driftplane/drift", "registry.opentofu.org/hashicorp/local"] }
}
CFG
export TF_CLI_CONFIG_FILE="$WORK/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
cp examples/demo/*.tf "$WORK/stack/"
cd "$WORK/stack"
tofu() { "$TOFU" "$@"; }
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "tofu init && tofu apply (the gate is excluded: there is no drift report yet)"
tofu init -input=false >/dev/null
tofu apply -auto-approve -input=false -exclude=data.drift_finding.payments | tail -1

say "someone edits the deployed config by hand"
printf 'max_connections = 5000 # hot fix, no ticket\n' > payments.conf
cat payments.conf

detect() {
  tofu plan -refresh-only -input=false -exclude=data.drift_finding.payments -out=drift.plan >/dev/null
  tofu show -json drift.plan > drift-plan.json
}
say "the drift job: tofu plan -refresh-only -exclude=data.drift_finding.payments -out=drift.plan && tofu show -json drift.plan > drift-plan.json"
detect

say "tofu plan — must fail on the unaccepted finding"
if tofu plan -input=false; then
  echo "demo: expected tofu plan to fail on unaccepted drift" >&2
  exit 1
fi

say "an on-call lead accepts it with a scoped, expiring exception (exceptions.tf)"
cp "$ROOT/examples/demo/accepted/exceptions.tf" exceptions.tf
cat exceptions.tf

say "tofu plan — passes now; the finding is reported as accepted"
tofu plan -input=false | sed -n '/Changes to Outputs/,$p'
echo
echo "demo: done (files in $WORK)"
