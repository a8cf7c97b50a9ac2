#!/usr/bin/env bash
# Runs every fuzz target in the module (found by name, so a new target is never forgotten) for
# a duration (`30s`) or a number of executions (`1000000x`), and prints each target's executions.
# -timeout 0: go test's default 10-minute limit would end a long run as a failure. Minimisation
# is capped at 5 s: with go's default of 60 s, one interesting input can stall a
# 30 s run at zero executions. A crasher fails the run; `go test` has written it to the package's testdata/fuzz/ — fix the
# cause and commit the file as corpus.
#
# usage: scripts/fuzz.sh [FUZZTIME]   (default 30s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime="${1:-30s}"
summary=()
while IFS= read -r file; do
  dir="./$(dirname "$file")"
  for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    echo "== $dir $name ($fuzztime)"
    log="$(mktemp)"
    run() { go test "$dir" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s -timeout 0 2>&1 | tee "$log"; }
    if ! run; then
      # Go's fuzzer can end a run with a bare "context deadline exceeded" when its time runs out
      # while a worker is still minimising; it found nothing and wrote no input. That one case is
      # run again; a real crasher always says "Failing input written to" and fails at once.
      if grep -q 'Failing input written to' "$log" || ! grep -q 'context deadline exceeded' "$log" || ! run; then
        echo "fuzz: $dir $name failed" >&2
        rm -f "$log"
        exit 1
      fi
    fi
    # A run that spent its time on baseline coverage prints no execs line.
    execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
    summary+=("$(printf '%-45s %-28s %s execs' "$dir" "$name" "${execs:-?}")")
    rm -f "$log"
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' internal argocd-plugin cmd provider 2>/dev/null | sort)
echo
echo "fuzz summary ($fuzztime each):"
printf '%s\n' "${summary[@]}"
