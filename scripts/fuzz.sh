#!/usr/bin/env bash
# Runs every fuzz target in the module (found by name, so a new target is never forgotten) for
# a duration (`30s`) or a number of executions (`1000000x`), and prints each target's executions.
# -timeout 0: go test's default 10-minute limit would end a long run as a failure. Minimisation
# is capped at 5 s: with go's default of 60 s, one interesting input can stall a
# 30 s run at zero executions. A crasher fails the run; `go test` has written it to the package's testdata/fuzz/ — fix the
# cause and commit the file as corpus.
#
# Targets run in FUZZ_LANES lanes at once (default: the number of CPUs), each with one fuzzing
# worker (-parallel 1): the machine fuzzes as many inputs per second as one target with a worker
# per CPU would, and every target still gets its whole FUZZTIME.
#
# usage: scripts/fuzz.sh [FUZZTIME]   (default 30s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime="${1:-30s}"
lanes="${FUZZ_LANES:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# fuzz_one DIR NAME LOG: one target; its output goes to LOG, a failure to LOG.failed.
fuzz_one() {
  local dir="$1" name="$2" log="$3"
  run() { go test "$dir" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s -parallel 1 -timeout 0 >"$log" 2>&1; }
  if ! run; then
    # Go's fuzzer can end a run with a bare "context deadline exceeded" when its time runs out
    # while a worker is still minimising; it found nothing and wrote no input. That one case is
    # run again; a real crasher always says "Failing input written to" and fails at once.
    if grep -q 'Failing input written to' "$log" || ! grep -q 'context deadline exceeded' "$log" || ! run; then
      touch "$log.failed"
    fi
  fi
}

targets=()
while IFS= read -r file; do
  dir="./$(dirname "$file")"
  for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    targets+=("$dir $name")
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' internal argocd-plugin cmd provider 2>/dev/null | sort)

i=0
for t in "${targets[@]}"; do
  read -r dir name <<<"$t"
  while (( $(jobs -rp | wc -l) >= lanes )); do wait -n || true; done
  echo "== $dir $name ($fuzztime)"
  fuzz_one "$dir" "$name" "$work/$i.log" &
  i=$((i + 1))
done
wait

summary=()
failed=0
i=0
for t in "${targets[@]}"; do
  read -r dir name <<<"$t"
  log="$work/$i.log"
  if [[ -e "$log.failed" ]]; then
    echo "== $dir $name: FAILED"
    cat "$log"
    echo "fuzz: $dir $name failed" >&2
    failed=1
  fi
  # A run that spent its time on baseline coverage prints no execs line.
  execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
  summary+=("$(printf '%-45s %-28s %s execs' "$dir" "$name" "${execs:-?}")")
  i=$((i + 1))
done
echo
echo "fuzz summary ($fuzztime each, $lanes lanes):"
printf '%s\n' "${summary[@]}"
exit "$failed"
