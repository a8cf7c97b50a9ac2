#!/usr/bin/env bash
# Runs the plan benchmarks in one go and prints drift_finding's cost against the named baseline,
# terraform-json parsing the same generated plan (10,000 resources, 1,000 drifted).
# Targets: time ratio <= 1.5x, bytes allocated <= 3x the file size.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
count="${BENCH_COUNT:-5}"
out="$(go test ./internal/drift/tofuplan/ -run '^$' -bench '^BenchmarkPlan' -benchmem -count "$count")"
echo "$out"
echo "$out" | awk -v count="$count" '
  /^BenchmarkPlanTerraformJSON/ { bt += $3; bn++; bmb = $5 }
  /^BenchmarkPlanDriftFinding/  { dt += $3; dn++; dmb = $5; for (i = 1; i <= NF; i++) if ($i == "B/op") db += $(i-1) }
  END {
    if (bn == 0 || dn == 0) { print "benchmarks did not run" > "/dev/stderr"; exit 1 }
    bt /= bn; dt /= dn; db /= dn
    size = bmb * 1e6 * bt / 1e9   # MB/s x s/op = bytes per op
    printf "\nbaseline: terraform-json (json.Unmarshal into tfjson.Plan), mean of %d runs\n", count
    printf "plan file:                 %.1f MB\n", size / 1e6
    printf "terraform-json parse:      %.1f ms/op\n", bt / 1e6
    printf "drift_finding evaluation:  %.1f ms/op\n", dt / 1e6
    printf "time ratio (drift/baseline):        %.2fx  (target <= 1.5x)\n", dt / bt
    printf "allocated / file size (drift):      %.2fx  (target <= 3x)\n", db / size
  }'
