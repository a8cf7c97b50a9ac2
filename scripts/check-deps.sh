#!/usr/bin/env bash
# CI checks on the shape of the module (issue 10):
#  1. No test harness in what ships: none of the three binaries (the provider, cmd/driftplane,
#     argocd-plugin/cmd/argocd-driftplane) depends on package testing, net/http/httptest, or
#     anything under internal/testenv. A failure names the import chain that pulls it in.
#  2. Every package of the module says its job: a doc comment "Package <name> ..." (a command:
#     "Command <name> ..."), in a non-test file, or in a test file for a test-only package.
#  3. No package-level mutable state in product code (internal/cmd/checkstate): no package-level
#     var is written after init, from its package (tests included) or another, and none has a
#     type that exists to be changed (sync.Once, sync.Mutex, atomic values ...).
#
# One upstream exception, listed in allowed_testing_importers below: hashicorp/go-plugin, which
# every provider built on terraform-plugin-go links (tf5server/tf6server serve through it), has a
# non-test testing.go (TestConn, TestPluginGRPCConn ...) importing testing. It is allowed as an
# importer of testing and as nothing else; any other importer of testing fails, including a
# package of this module.
#
# usage: scripts/check-deps.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

module="$(go list -m)"
binaries=(. ./cmd/driftplane ./argocd-plugin/cmd/argocd-driftplane)
allowed_testing_importers=(github.com/hashicorp/go-plugin)
status=0

# forbidden PKG: is PKG something no binary may link?
forbidden() {
  case "$1" in
    testing | net/http/httptest | "$module"/internal/testenv | "$module"/internal/testenv/*) return 0 ;;
  esac
  return 1
}

for bin in "${binaries[@]}"; do
  graph="$(go list -e -deps -f '{{.ImportPath}} {{join .Imports " "}}' "$bin")"
  root="$(go list -e -f '{{.ImportPath}}' "$bin")"
  while read -r pkg; do
    forbidden "$pkg" || continue
    # Who imports it directly.
    importers="$(awk -v p="$pkg" '{for (i = 2; i <= NF; i++) if ($i == p) print $1}' <<<"$graph" | sort -u)"
    if [[ "$pkg" == testing ]]; then
      rest="$importers"
      for ok in "${allowed_testing_importers[@]}"; do
        rest="$(grep -vxF "$ok" <<<"$rest" || true)"
      done
      if [[ -z "$rest" ]]; then
        echo "check-deps: $bin links testing only through the allowed upstream importer(s): $(tr '\n' ' ' <<<"$importers")"
        continue
      fi
      importers="$rest"
    fi
    status=1
    echo "check-deps: $bin depends on $pkg, a test-only package; imported by:" >&2
    while read -r imp; do
      # The shortest chain from the binary to this importer (breadth-first over the graph).
      chain="$(awk -v root="$root" -v target="$imp" '
        { n = split($0, f, " "); for (i = 2; i <= n; i++) adj[f[1]] = adj[f[1]] " " f[i] }
        END {
          queue[0] = root; seen[root] = 1; head = 0; tail = 1
          while (head < tail) {
            cur = queue[head++]
            if (cur == target) break
            m = split(adj[cur], next_, " ")
            for (j = 1; j <= m; j++) if (!(next_[j] in seen)) { seen[next_[j]] = 1; parent[next_[j]] = cur; queue[tail++] = next_[j] }
          }
          if (!(target in seen)) { print target; exit }
          path = target
          for (c = target; c != root; c = parent[c]) path = parent[c] " -> " path
          print path
        }' <<<"$graph")"
      echo "  $chain -> $pkg" >&2
    done <<<"$importers"
  done < <(awk '{print $1}' <<<"$graph")
done

# Package doc comments. go list's .Doc covers non-test files only; a package with none (tests
# only) must carry its comment in a test file.
while IFS='|' read -r path name dir ngo files doc; do
  if [[ "$ngo" -gt 0 ]]; then
    want="Package $name "
    [[ "$name" == main ]] && want="Command "
    if [[ "$doc " != "$want"* ]]; then
      status=1
      echo "check-deps: $path has no doc comment saying its job (want \"// ${want}...\" in a doc.go)" >&2
    fi
    continue
  fi
  found=""
  for f in $files; do
    # The comment directly above the package clause.
    if awk '/^\/\/ Package [A-Za-z0-9_]+ /{c=1; next} /^\/\//{next} /^package /{exit !c} {c=0}' "$dir/$f"; then
      found=1
      break
    fi
  done
  if [[ -z "$found" ]]; then
    status=1
    echo "check-deps: $path (tests only) has no \"// Package ...\" comment in its test files" >&2
  fi
done < <(go list -e -f '{{.ImportPath}}|{{.Name}}|{{.Dir}}|{{len .GoFiles}}|{{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}|{{.Doc}}' ./...)

if ! go run ./internal/cmd/checkstate .; then
  status=1
  echo "check-deps: package-level mutable state (above): move it into a struct passed explicitly, or make it read-only (see README, Conventions)" >&2
fi

if [[ "$status" -eq 0 ]]; then
  echo "check-deps: ok (${binaries[*]} link no test harness; every package has a doc comment; no package-level mutable state)"
fi
exit "$status"
