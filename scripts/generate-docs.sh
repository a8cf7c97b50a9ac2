#!/usr/bin/env bash
# Generates docs/ with tfplugindocs from examples/ and templates/. tfplugindocs is given the
# provider schema read by the locally built OpenTofu from the locally built provider, so nothing
# is downloaded. The decision-table guide is generated from internal/drift/decisions.yaml.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/tools.sh tofu tfplugindocs
eval "$(bash scripts/tools.sh paths)"

go run ./internal/cmd/decisiondoc templates/guides/decision-table.md.tmpl

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mirror="$work/mirror/registry.opentofu.org/driftplane/drift/0.0.1/linux_amd64"
mkdir -p "$mirror" "$work/stack"
go build -o "$mirror/terraform-provider-drift_v0.0.1" .
cat > "$work/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.opentofu.org/driftplane/drift"]
  }
  direct { exclude = ["registry.opentofu.org/driftplane/drift"] }
}
CFG
cat > "$work/stack/main.tf" <<'TF'
terraform {
  required_providers {
    drift = { source = "driftplane/drift" }
  }
}
TF
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
(cd "$work/stack" && "$TOFU" init -input=false -no-color >/dev/null && "$TOFU" providers schema -json) > "$work/schema.json"
# tfplugindocs looks the schema up by the provider's short name.
sed -i 's#"registry.opentofu.org/driftplane/drift"#"drift"#' "$work/schema.json"
"$TFPLUGINDOCS" generate --provider-name drift --rendered-provider-name drift \
  --providers-schema "$work/schema.json" --examples-dir examples --website-source-dir templates \
  --rendered-website-dir docs
# The registry's rules for what was written (layout, front matter, sizes), on the same schema:
# given none, tfplugindocs would look for (or download) a terraform binary.
"$TFPLUGINDOCS" validate --provider-name drift --providers-schema "$work/schema.json" 2>"$work/validate.log" ||
  { grep -v '\[DEBUG\]' "$work/validate.log" >&2; exit 1; }
