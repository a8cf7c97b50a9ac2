#!/usr/bin/env bash
# Builds the real programs the tests and docs need, from the Go module proxy, into a
# per-user cache keyed by version (~/.cache/driftplane/tools/<name>-<version>/). Nothing is downloaded from
# release sites: every tool here is compiled from its Go module. Re-runs are no-ops.
#
# usage: scripts/tools.sh [tofu|terraform|local|kubernetes-provider|tfplugindocs|golangci-lint|controller-gen|promtool|alertmanager|minio|gitea|goreleaser|all]...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The cache is per user, outside the clone, so a second clone on the machine reuses what the
# first built; DRIFTPLANE_TOOLS_DIR overrides it.
TOOLS="${DRIFTPLANE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/driftplane/tools}"

TOFU_VERSION="${TOFU_VERSION:-1.10.10}"
# hashicorp/terraform-provider-local v2.9.0 lives under its old module path; this pseudo-version
# is the v2.9.0 release commit (what @latest resolves to).
LOCAL_VERSION="2.9.0"
LOCAL_MODULE="github.com/terraform-providers/terraform-provider-local@v1.4.1-0.20260513075820-3561e410f9fe"
# hashicorp/terraform-provider-kubernetes has no /v2 module path, so its v2 commits resolve only as
# v1 pseudo-versions; the mirror names it by the release it is cut from (KUBERNETES_PROVIDER_VERSION).
KUBERNETES_PROVIDER_VERSION="2.99.0-dev"
KUBERNETES_PROVIDER_MODULE="github.com/hashicorp/terraform-provider-kubernetes@v1.13.4-0.20260821094251-3a33fb6cc605"
TFPLUGINDOCS_VERSION="${TFPLUGINDOCS_VERSION:-v0.25.0}"
GOLANGCI_VERSION="${GOLANGCI_VERSION:-v2.15.0}"
# Terraform 1.5.7 is the last MPL release, still widely run: the acceptance tests run against it too.
TERRAFORM_VERSION="${TERRAFORM_VERSION:-1.5.7}"
# goreleaser for `make release-check` only; v2.15.1 is the newest the module proxy serves that this Go builds.
GORELEASER_VERSION="${GORELEASER_VERSION:-v2.15.1}"
# controller-gen writes the CRDs and deepcopy code of api/v1alpha1 (make generate).
CONTROLLER_GEN_VERSION="${CONTROLLER_GEN_VERSION:-v0.23.0}"
# promtool checks and unit-tests the Prometheus rules shipped with the Argo CD plugin.
PROMTOOL_VERSION="${PROMTOOL_VERSION:-v0.316.0}"
# Alertmanager receives the alerts the routing receivers push (real API v2 in the tests).
ALERTMANAGER_VERSION="${ALERTMANAGER_VERSION:-v0.35.0}"
# MinIO is a production S3 server with conditional writes: the ledger's concurrent-writer tests.
MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
# Gitea is a real forge for the issue and pull-request tests.
GITEA_VERSION="${GITEA_VERSION:-v1.27.3}"
# Kubernetes and etcd versions are pinned by the build modules under tools/.
KUBE_VERSION="$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p;s/^[[:space:]]*k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$ROOT/tools/kube/go.mod" | head -1)"
ARGOCD_VERSION="$(sed -n 's/^require github.com\/argoproj\/argo-cd\/v3 \(v[0-9.]*\)$/\1/p;s/^[[:space:]]*github.com\/argoproj\/argo-cd\/v3 \(v[0-9.]*\)$/\1/p' "$ROOT/tools/argocd/go.mod" | head -1)"
ETCD_VERSION="$(sed -n 's/^require go.etcd.io\/etcd\/server\/v3 \(v[0-9.]*\)$/\1/p' "$ROOT/tools/etcd/go.mod")"

export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_ENABLED=0

log() { printf '[tools] %s\n' "$*" >&2; }

build_tofu() {
  local dest="$TOOLS/tofu-$TOFU_VERSION"
  [[ -x "$dest/tofu" ]] && return 0
  log "building OpenTofu v$TOFU_VERSION from the Go module proxy (cold: several minutes)"
  local dir work
  dir="$(cd "$ROOT" && go mod download -json "github.com/opentofu/opentofu@v$TOFU_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || { log "go mod download gave no directory for opentofu"; return 1; }
  # The module has a `replace` line, so `go install` refuses it; build from a writable copy.
  work="$(mktemp -d "$TOOLS/.tofu-src.XXXXXX")"
  cp -r "$dir/." "$work/"
  chmod -R u+w "$work"
  (cd "$work" && go build -trimpath \
     -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
     -o "$work/out/tofu" ./cmd/tofu)
  mkdir -p "$dest"
  mv "$work/out/tofu" "$dest/tofu"
  rm -rf "$work"
  log "tofu: $("$dest/tofu" version | head -1)"
}

build_local() {
  local dest="$TOOLS/terraform-provider-local-$LOCAL_VERSION"
  local bin="$dest/registry.opentofu.org/hashicorp/local/$LOCAL_VERSION/linux_amd64/terraform-provider-local_v$LOCAL_VERSION"
  if [[ ! -x "$bin" ]]; then
    log "building hashicorp/local v$LOCAL_VERSION"
    local gobin
    gobin="$(mktemp -d "$TOOLS/.local-bin.XXXXXX")"
    GOBIN="$gobin" go install "$LOCAL_MODULE"
    mkdir -p "$(dirname "$bin")"
    mv "$gobin/terraform-provider-local" "$bin"
    rm -rf "$gobin"
  fi
  # The same mirror serves Terraform too, which looks under registry.terraform.io. Terraform
  # (1.5) follows no symlink above the platform directory, so that one alone is a link; an older
  # cache's link of the whole hashicorp/local directory is replaced.
  local tf="$dest/registry.terraform.io/hashicorp/local"
  [[ -L "$tf" ]] && rm -f "$tf"
  if [[ ! -L "$tf/$LOCAL_VERSION/linux_amd64" ]]; then
    mkdir -p "$tf/$LOCAL_VERSION"
    ln -sfn "../../../../registry.opentofu.org/hashicorp/local/$LOCAL_VERSION/linux_amd64" "$tf/$LOCAL_VERSION/linux_amd64"
  fi
}

# build_kubernetes_provider lays hashicorp/kubernetes out as a filesystem mirror, like hashicorp/local,
# so OpenTofu installs it offline (the noise-from-real-providers tests against kube-apiserver).
build_kubernetes_provider() {
  local dest="$TOOLS/terraform-provider-kubernetes-$KUBERNETES_PROVIDER_VERSION"
  local bin="$dest/registry.opentofu.org/hashicorp/kubernetes/$KUBERNETES_PROVIDER_VERSION/linux_amd64/terraform-provider-kubernetes_v$KUBERNETES_PROVIDER_VERSION"
  [[ -x "$bin" ]] && return 0
  log "building hashicorp/kubernetes ($KUBERNETES_PROVIDER_MODULE; cold: ~6 minutes)"
  local gobin
  gobin="$(mktemp -d "$TOOLS/.kubernetes-provider-bin.XXXXXX")"
  GOBIN="$gobin" go install -trimpath -ldflags "-s -w" "$KUBERNETES_PROVIDER_MODULE"
  mkdir -p "$(dirname "$bin")"
  mv "$gobin/terraform-provider-kubernetes" "$bin"
  rm -rf "$gobin"
}

build_kube() {
  local dest="$TOOLS/kube-$KUBE_VERSION"
  [[ -x "$dest/kube-apiserver" && -x "$dest/kubectl" && -x "$dest/kube-controller-manager" ]] && return 0
  log "building kube-apiserver, kube-controller-manager and kubectl $KUBE_VERSION (cold: ~15 minutes)"
  mkdir -p "$dest.tmp"
  # Keep what an earlier run built, so adding a program does not rebuild the others.
  [[ -d "$dest" ]] && cp -p "$dest"/* "$dest.tmp"/ 2>/dev/null || true
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2) -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
  local prog
  for prog in kube-apiserver kube-controller-manager kubectl; do
    [[ -x "$dest.tmp/$prog" ]] && continue
    (cd "$ROOT/tools/kube" && go build -trimpath -ldflags "$ld" -o "$dest.tmp/$prog" "k8s.io/kubernetes/cmd/$prog")
  done
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
}

build_etcd() {
  local dest="$TOOLS/etcd-$ETCD_VERSION"
  [[ -x "$dest/etcd" ]] && return 0
  log "building etcd $ETCD_VERSION"
  mkdir -p "$dest.tmp"
  (cd "$ROOT/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$dest.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
}

build_argocd() {
  local dest="$TOOLS/argocd-$ARGOCD_VERSION"
  [[ -x "$dest/argocd" ]] && return 0
  log "building argocd $ARGOCD_VERSION (cold: ~7 minutes)"
  mkdir -p "$dest.tmp"
  (cd "$ROOT/tools/argocd" && go build -trimpath \
     -ldflags "-s -w -X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}" \
     -o "$dest.tmp/argocd" github.com/argoproj/argo-cd/v3/cmd)
  # The one binary is every Argo CD component; it picks by the name it is run as.
  ln -sf argocd "$dest.tmp/argocd-cmp-server"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
}

build_controller_gen() {
  install_tool controller-gen "$CONTROLLER_GEN_VERSION" "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_GEN_VERSION"
}

build_terraform() {
  [[ -x "$TOOLS/terraform-$TERRAFORM_VERSION/terraform" ]] && return 0
  install_tool terraform "$TERRAFORM_VERSION" "github.com/hashicorp/terraform@v$TERRAFORM_VERSION" -trimpath -ldflags "-s -w"
  log "terraform: $(CHECKPOINT_DISABLE=1 "$TOOLS/terraform-$TERRAFORM_VERSION/terraform" version 2>/dev/null | head -1)"
}

build_goreleaser() {
  install_tool goreleaser "$GORELEASER_VERSION" "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION" -trimpath -ldflags "-s -w"
}

build_gitea() {
  local dest="$TOOLS/gitea-$GITEA_VERSION"
  [[ -x "$dest/gitea" ]] && return 0
  log "building Gitea $GITEA_VERSION from the Go module proxy (cold: ~6 min)"
  local dir work
  dir="$(cd "$ROOT" && go mod download -json "code.gitea.io/gitea@$GITEA_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || { log "go mod download gave no directory for gitea"; return 1; }
  # Its go.mod names the module gitea.dev, so `go install code.gitea.io/gitea@…` refuses it:
  # build from a writable copy, which also serves as STATIC_ROOT_PATH (templates, locales).
  work="$(mktemp -d "$TOOLS/.gitea-src.XXXXXX")"
  cp -r "$dir/." "$work/"
  chmod -R u+w "$work"
  (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$work/gitea" .)
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  mv "$work/gitea" "$dest.tmp/gitea"
  for d in options templates public; do
    [[ -d "$work/$d" ]] && mv "$work/$d" "$dest.tmp/$d"
  done
  rm -rf "$work"
  mv "$dest.tmp" "$dest"
}

build_alertmanager() {
  local dest="$TOOLS/alertmanager-$ALERTMANAGER_VERSION"
  [[ -x "$dest/alertmanager" ]] && return 0
  log "building alertmanager $ALERTMANAGER_VERSION from the Go module proxy"
  local dir work
  dir="$(cd "$ROOT" && go mod download -json "github.com/prometheus/alertmanager@$ALERTMANAGER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || { log "go mod download gave no directory for alertmanager"; return 1; }
  # The module embeds its web UI from ui/app/dist, which npm builds and the module zip leaves
  # out, so `go install` fails; the tests use the API only: build from a writable copy with a
  # placeholder UI.
  work="$(mktemp -d "$TOOLS/.alertmanager-src.XXXXXX")"
  cp -r "$dir/." "$work/"
  chmod -R u+w "$work"
  for ui in elm mantine; do
    mkdir -p "$work/ui/app/dist/$ui"
    echo '<!doctype html><title>Alertmanager (API only)</title>' >"$work/ui/app/dist/$ui/index.html"
  done
  (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$work/out/alertmanager" ./cmd/alertmanager)
  mkdir -p "$dest"
  mv "$work/out/alertmanager" "$dest/alertmanager"
  rm -rf "$work"
}

go_install() { # name version module
  install_tool "$1" "$2" "$3@$2"
}

# install_tool NAME VERSION MODULE@VERSION [go install flags]: builds into a temporary folder and
# moves the binary into the cache folder keyed by version, so an interrupted build leaves nothing
# that a later run would take for a finished one.
install_tool() {
  local name="$1" version="$2" module="$3"
  shift 3
  local dest="$TOOLS/$name-$version"
  [[ -x "$dest/$name" ]] && return 0
  log "building $name $version from the Go module proxy"
  local gobin
  gobin="$(mktemp -d "$TOOLS/.$name-bin.XXXXXX")"
  GOBIN="$gobin" go install "$@" "$module"
  mkdir -p "$dest"
  mv "$gobin/$name" "$dest/$name"
  rm -rf "$gobin"
}

mkdir -p "$TOOLS"
targets=("$@")
if [[ ${#targets[@]} -eq 0 || "${targets[0]}" == all ]]; then
  # OpenTofu, then Terraform (each several minutes cold), build in a second lane alongside the
  # others (2 cores; kube alone is the longest), then wait for it.
  { build_tofu; build_terraform; go_install promtool "$PROMTOOL_VERSION" github.com/prometheus/prometheus/cmd/promtool
    build_alertmanager
    go_install minio "$MINIO_VERSION" github.com/minio/minio; build_kubernetes_provider; } &
  tofu_pid=$!
  targets=(local tfplugindocs golangci-lint controller-gen etcd kube argocd gitea)
  trap 'kill $tofu_pid 2>/dev/null || true' EXIT
fi
for t in "${targets[@]}"; do
  case "$t" in
    tofu) build_tofu ;;
    terraform) build_terraform ;;
    goreleaser) build_goreleaser ;;
    kube) build_kube ;;
    etcd) build_etcd ;;
    argocd) build_argocd ;;
    local) build_local ;;
    kubernetes-provider) build_kubernetes_provider ;;
    controller-gen) build_controller_gen ;;
    promtool) go_install promtool "$PROMTOOL_VERSION" github.com/prometheus/prometheus/cmd/promtool ;;
    alertmanager) build_alertmanager ;;
    minio) go_install minio "$MINIO_VERSION" github.com/minio/minio ;;
    gitea) build_gitea ;;
    tfplugindocs) go_install tfplugindocs "$TFPLUGINDOCS_VERSION" github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs ;;
    golangci-lint) CGO_ENABLED=1 go_install golangci-lint "$GOLANGCI_VERSION" github.com/golangci/golangci-lint/v2/cmd/golangci-lint ;;
    paths)
      echo "TOFU=$TOOLS/tofu-$TOFU_VERSION/tofu"
      echo "TERRAFORM=$TOOLS/terraform-$TERRAFORM_VERSION/terraform"
      echo "GORELEASER=$TOOLS/goreleaser-$GORELEASER_VERSION/goreleaser"
      echo "LOCAL_MIRROR=$TOOLS/terraform-provider-local-$LOCAL_VERSION"
      echo "KUBERNETES_PROVIDER_MIRROR=$TOOLS/terraform-provider-kubernetes-$KUBERNETES_PROVIDER_VERSION"
      echo "TFPLUGINDOCS=$TOOLS/tfplugindocs-$TFPLUGINDOCS_VERSION/tfplugindocs"
      echo "GOLANGCI_LINT=$TOOLS/golangci-lint-$GOLANGCI_VERSION/golangci-lint"
      echo "CONTROLLER_GEN=$TOOLS/controller-gen-$CONTROLLER_GEN_VERSION/controller-gen"
      echo "PROMTOOL=$TOOLS/promtool-$PROMTOOL_VERSION/promtool"
      echo "ALERTMANAGER=$TOOLS/alertmanager-$ALERTMANAGER_VERSION/alertmanager"
      echo "MINIO=$TOOLS/minio-$MINIO_VERSION/minio"
      echo "GITEA=$TOOLS/gitea-$GITEA_VERSION/gitea"
      echo "KUBE_APISERVER=$TOOLS/kube-$KUBE_VERSION/kube-apiserver"
      echo "KUBE_CONTROLLER_MANAGER=$TOOLS/kube-$KUBE_VERSION/kube-controller-manager"
      echo "KUBECTL=$TOOLS/kube-$KUBE_VERSION/kubectl"
      echo "ETCD=$TOOLS/etcd-$ETCD_VERSION/etcd"
      echo "ARGOCD=$TOOLS/argocd-$ARGOCD_VERSION/argocd" ;;
    *) log "unknown tool: $t"; exit 2 ;;
  esac
done
if [[ -n "${tofu_pid:-}" ]]; then
  wait "$tofu_pid"
  trap - EXIT
fi
