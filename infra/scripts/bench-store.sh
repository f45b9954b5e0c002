#!/usr/bin/env bash
# Runs BenchmarkStoreRoundTrip (shared/dynamo) twice in one go, against the embedded DynamoDB
# (minidyn) and against dynalite, then prints both side by side as a Markdown table of medians
# over COUNT runs (default 5). Raw `go test -bench` output is kept in bin/bench/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
count=${COUNT:-5}
out=bin/bench
mkdir -p "$out"
cmd=(go test -run '^$' -bench '^BenchmarkStoreRoundTrip$' -benchmem -count "$count" ./shared/dynamo)

echo "== embedded: ${cmd[*]}"
env -u OMNIBRIDGE_DYNAMODB_ENDPOINT "${cmd[@]}" | tee "$out/store-embedded.txt"
echo "== dynalite: infra/scripts/with-dynalite.sh ${cmd[*]}"
infra/scripts/with-dynalite.sh "${cmd[@]}" | tee "$out/store-dynalite.txt"

echo
echo "Median (min–max) of $count runs, µs per call; allocations per call in the Go process:"
echo
awk '
  FNR == 1 { f++ }
  /^BenchmarkStoreRoundTrip\// {
    name = $1; sub(/^BenchmarkStoreRoundTrip\//, "", name); sub(/-[0-9]+$/, "", name)
    if (!(name in seen)) { seen[name] = 1; order[++k] = name }
    c = ++n[f, name]; ns[f, name, c] = $3
    for (i = 4; i < NF; i++) if ($(i+1) == "allocs/op") al[f, name, c] = $i
  }
  # q(arr, f, name, which): which = "med", "min" or "max" of the runs.
  function q(arr, f, name, which,   c, i, j, t, v) {
    c = n[f, name]
    if (c == 0) return 0
    for (i = 1; i <= c; i++) v[i] = arr[f, name, i] + 0
    for (i = 2; i <= c; i++) { t = v[i]; for (j = i - 1; j > 0 && v[j] > t; j--) v[j+1] = v[j]; v[j+1] = t }
    if (which == "min") return v[1]
    if (which == "max") return v[c]
    return (c % 2) ? v[(c+1)/2] : (v[c/2] + v[c/2+1]) / 2
  }
  function cell(f, o) {
    return sprintf("%.0f (%.0f–%.0f)", q(ns, f, o, "med") / 1000, q(ns, f, o, "min") / 1000, q(ns, f, o, "max") / 1000)
  }
  END {
    print "| operation | embedded (minidyn) µs | dynalite µs | dynalite / embedded | allocs/op embedded | allocs/op dynalite |"
    print "|---|---:|---:|---:|---:|---:|"
    for (i = 1; i <= k; i++) {
      o = order[i]; e = q(ns, 1, o, "med"); d = q(ns, 2, o, "med")
      printf "| %s | %s | %s | %.2f× | %d | %d |\n", o, cell(1, o), cell(2, o), (e > 0 ? d / e : 0), q(al, 1, o, "med"), q(al, 2, o, "med")
    }
  }
' "$out/store-embedded.txt" "$out/store-dynalite.txt"
