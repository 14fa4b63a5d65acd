#!/usr/bin/env bash
# Bulk scoring speed, before and after the scorer was made fast for the scoring service:
# `riskpipe score --no-reasons` from Parquet by the scorer as it was before the service work
# (the parent of commit 20836f6, built from `git archive` into target/score-baseline) and by
# this tree, on the same generated file in the same run, each bundle made by its own binary from
# pipelines/credit_scoring.yaml (the demo scorecard). Three alternating runs each; the median
# counts. Both outputs must hold the same ids, PDs and scores. Then the model step alone
# (crates/scoring/benches/model_step.rs: masked rows in memory through transform, model and
# points). Writes bench/results/score_speed.md and score_speed.json.
# Usage: bench/score_speed.sh [ROWS]   (default 2000000)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-2000000}"
base_rev="$(git -C "$repo" rev-parse 20836f6^)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export RISKPIPE_MASK_KEY="${RISKPIPE_MASK_KEY:-riskpipe-demo-key-not-secret}"
py="$(bash "$repo/bench/setup_venv.sh" | tail -1)"

cargo build --quiet --release -p riskpipe-cli
new="$repo/target/release/riskpipe"
mkdir -p "$work/base"
git -C "$repo" archive "$base_rev" | tar -x -C "$work/base"
CARGO_TARGET_DIR="$repo/target/score-baseline" cargo build --quiet --release -p riskpipe-cli \
  --manifest-path "$work/base/Cargo.toml"
old="$repo/target/score-baseline/release/riskpipe"

"$new" -q run "$repo/pipelines/credit_scoring.yaml" --run-dir "$work/new_run" > /dev/null
"$old" -q run "$repo/pipelines/credit_scoring.yaml" --run-dir "$work/old_run" > /dev/null
"$new" -q synth loans --rows "$rows" --seed 9 --out "$work/input.parquet" > /dev/null

seconds() { # binary, bundle, output -> wall seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$1" -q score --bundle "$2" --input "$work/input.parquet" --output "$3" --no-reasons > /dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
old_times=(); new_times=()
for _ in 1 2 3; do
  old_times+=("$(seconds "$old" "$work/old_run/deploy/bundle" "$work/old.parquet")")
  new_times+=("$(seconds "$new" "$work/new_run/deploy/bundle" "$work/new.parquet")")
done
step="$(cargo bench --quiet -p riskpipe-scoring --bench model_step -- \
  "$work/new_run/deploy/bundle" "$work/input.parquet" 2>/dev/null | tail -1)"

"$py" - "$rows" "$base_rev" "$work/old.parquet" "$work/new.parquet" "$step" \
  "${old_times[*]}" "${new_times[*]}" "$repo/bench/results" <<'PY'
import json, statistics, sys
import pyarrow.parquet as pq
rows, base, old_out, new_out, step, old_t, new_t, out = sys.argv[1:]
rows = int(rows)
old_t = [float(x) for x in old_t.split()]
new_t = [float(x) for x in new_t.split()]
a = pq.read_table(old_out).select(["id", "pd", "score"])
b = pq.read_table(new_out).select(["id", "pd", "score"])
same = a.equals(b)
if not same:
    sys.exit("the scorer's output changed: ids, PDs or scores differ from the baseline's")
step = json.loads(step)
om, nm = statistics.median(old_t), statistics.median(new_t)
res = {
    "rows": rows,
    "baseline_commit": base[:12],
    "baseline_secs": old_t,
    "now_secs": new_t,
    "baseline_rows_per_sec": rows / om,
    "now_rows_per_sec": rows / nm,
    "speedup": om / nm,
    "same_output": same,
    "model_step": step,
}
json.dump(res, open(f"{out}/score_speed.json", "w"), indent=2)
with open(f"{out}/score_speed.md", "w") as f:
    f.write(f"# Bulk scoring speed ({rows:,} rows, demo scorecard, Parquet in and out, --no-reasons)\n\n")
    f.write("| scorer | runs (s) | median s | rows/s |\n|---|---|---|---|\n")
    f.write(f"| before the service work ({base[:12]}) | {', '.join(f'{t:.2f}' for t in old_t)} | {om:.2f} | {rows/om:,.0f} |\n")
    f.write(f"| now | {', '.join(f'{t:.2f}' for t in new_t)} | {nm:.2f} | {rows/nm:,.0f} |\n\n")
    f.write(f"Speed-up: **{om/nm:.2f}x**; ids, PDs and scores identical: {same}.\n\n")
    f.write(f"Model step alone (masked rows in memory, transform + model + points, {step['threads']} threads, "
            f"fastest of 5): {step['best_secs']:.3f} s, **{step['rows_per_sec']:,.0f} rows/s**.\n")
print(open(f"{out}/score_speed.md").read())
PY
