#!/usr/bin/env bash
# `make release-check`: `goreleaser check` on .goreleaser.yml, then a snapshot release (no signing,
# no publishing) of linux/amd64 alone, then a check of the layout the registries read in dist/:
# one zip per program named <name>_<version>_linux_amd64.zip holding the right binary (the
# provider's as terraform-provider-drift_v<version>, its version set by -ldflags),
# terraform-provider-drift_<version>_SHA256SUMS listing every zip and the manifest with the right
# sums, and terraform-provider-drift_<version>_manifest.json (terraform-registry-manifest.json, which
# the release uploads under that name).
#
# goreleaser's release command has no single-target mode, so the snapshot runs on a copy of the
# config whose builds' goos/goarch lists are narrowed to linux/amd64; nothing else differs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
start=$SECONDS
bash scripts/tools.sh goreleaser
eval "$(bash scripts/tools.sh paths)"
fail() { printf 'release-check: %s\n' "$*" >&2; exit 1; }

"$GORELEASER" check

# Narrow every build to linux/amd64; refuse a config whose builds the rewrite would not all reach.
builds="$(grep -cE '^  - id: ' <(sed -n '/^builds:/,/^[a-z]/p' .goreleaser.yml))"
goos_lines="$(grep -cE '^    goos: \[[^]]*\]$' .goreleaser.yml || true)"
goarch_lines="$(grep -cE '^    goarch: \[[^]]*\]$' .goreleaser.yml || true)"
[[ "$builds" -gt 0 && "$goos_lines" == "$builds" && "$goarch_lines" == "$builds" ]] ||
  fail ".goreleaser.yml: every build needs one-line 'goos: [...]' and 'goarch: [...]' lists ($builds builds, $goos_lines goos, $goarch_lines goarch)"
cfg="$(mktemp --suffix=.yml)"
trap 'rm -f "$cfg"' EXIT
sed -E 's/^    goos: \[[^]]*\]$/    goos: [linux]/; s/^    goarch: \[[^]]*\]$/    goarch: [amd64]/' .goreleaser.yml > "$cfg"

"$GORELEASER" release --config "$cfg" --snapshot --clean --skip=sign,publish

# The layout.
meta="dist/metadata.json"
[[ -f "$meta" ]] || fail "$meta is missing"
version="$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' "$meta")"
project="$(sed -n 's/.*"project_name":"\([^"]*\)".*/\1/p' "$meta")"
[[ -n "$version" && "$project" == terraform-provider-drift ]] || fail "$meta: version '$version', project '$project'"
sums="dist/${project}_${version}_SHA256SUMS"
manifest="${project}_${version}_manifest.json"
[[ -f "$sums" ]] || fail "$sums is missing"
# The manifest is a release asset, not a build output: the publish step uploads
# terraform-registry-manifest.json under the same name the SHA256SUMS gives it. Check the resolved
# config says so, then put it in dist/ under that name so dist/ holds the release's whole layout.
release_cfg="$(awk '/^release:/{f=1; next} /^[^ ]/{f=0} f' dist/config.yaml)"
grep -qE "^    - glob: terraform-registry-manifest.json$" <<<"$release_cfg" &&
  grep -qF "name_template: '{{ .ProjectName }}_{{ .Version }}_manifest.json'" <<<"$release_cfg" ||
  fail "the release does not upload terraform-registry-manifest.json as ${manifest}: $release_cfg"
grep -q '"protocol_versions": \["6.0"\]' terraform-registry-manifest.json || fail "terraform-registry-manifest.json does not declare protocol 6.0"
cp terraform-registry-manifest.json "dist/$manifest"

declare -A binary=(
  ["$project"]="${project}_v${version}"
  [driftplane]=driftplane
  [argocd-driftplane]=argocd-driftplane
)
want=("$manifest")
for name in "${!binary[@]}"; do
  zip="${name}_${version}_linux_amd64.zip"
  [[ -f "dist/$zip" ]] || fail "dist/$zip is missing"
  listing="$(unzip -Z1 "dist/$zip")"
  grep -qxF "${binary[$name]}" <<<"$listing" || fail "dist/$zip does not hold ${binary[$name]}: $listing"
  want+=("$zip")
done
zips="$(find dist -maxdepth 1 -name '*.zip' | wc -l)"
[[ "$zips" -eq ${#binary[@]} ]] || fail "dist/ holds $zips zips, want ${#binary[@]} (linux/amd64 only): $(ls dist)"
# Exactly the zips and the manifest are summed, each with its right sum.
[[ "$(awk '{print $2}' "$sums" | sort)" == "$(printf '%s\n' "${want[@]}" | sort)" ]] ||
  fail "$sums lists $(awk '{print $2}' "$sums" | xargs), want ${want[*]}"
(cd dist && sha256sum --quiet -c "$(basename "$sums")") || fail "$sums: a sum does not match"

# The provider binary carries the release version.
tmp="$(mktemp -d)"
trap 'rm -f "$cfg"; rm -rf "$tmp"' EXIT
unzip -q "dist/${project}_${version}_linux_amd64.zip" -d "$tmp"
# (-trimpath keeps -ldflags out of the build info: look for the string itself, which only -X puts there.)
grep -qaF -- "$version" "$tmp/${project}_v${version}" ||
  fail "the provider binary was not built with -X main.version=${version}"

echo "release-check: ok: ${want[*]} in dist/ for version $version ($((SECONDS - start))s)"
