#!/usr/bin/env bash
# Event-order scoring speed on the fraud handbook's data (shared/data/fraud_sim_handbook):
# a boosting bundle trained on the handbook's transactions (window features per card and
# terminal, the baseline week's periods) scores all 1,754,155 of them with `riskpipe score`,
# which keeps each card's and terminal's window state from batch to batch. Three runs in
# batches of 65,536 rows (the default; wall time and peak RSS, the median counts), then one run
# in a single batch: both outputs must be identical, row for row. Writes
# bench/results/fraud_score.{json,md}.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
data="${RISKPIPE_SHARED_DATA:-$repo/../shared/data}/fraud_sim_handbook/transactions.csv.gz"
[ -f "$data" ] || { echo "error: $data is missing" >&2; exit 2; }
py="$("$repo/bench/setup_venv.sh" | tail -1)"
cargo build --quiet --release -p riskpipe-cli
bin="$repo/target/release/riskpipe"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gunzip -c "$data" > "$work/transactions.csv"

cat > "$work/score.yaml" <<YAML
version: 1
name: handbook_scorer
task: fraud_detection
seed: 0
data:
  path: $work/transactions.csv
  target: TX_FRAUD
  id: TRANSACTION_ID
features:
  time_column: TX_DATETIME
  exclude: [TX_TIME_SECONDS, TX_TIME_DAYS, TX_FRAUD_SCENARIO]
  cap_lower: 0
  cap_upper: 1
  windows:
    entities:
      - { column: CUSTOMER_ID, windows: [1d, 7d, 30d], mean: TX_AMOUNT, ratio: true }
      - { column: TERMINAL_ID, windows: [1d, 7d, 30d], risk_delay: 7d }
  split: periods
  periods: { start: 2018-07-25, train_days: 7, delay_days: 7, test_days: 7, validation_folds: 1, card: CUSTOMER_ID }
train:
  models:
    boosting: { n_trees: [200], learning_rate: [0.05], max_leaves: [15] }
YAML

echo "riskpipe: training the scorer" >&2
"$bin" -q run "$work/score.yaml" --run-dir "$work/run" > /dev/null
bundle="$work/run/deploy/bundle"
runs=""
for i in 1 2 3; do
  echo "riskpipe score: run $i" >&2
  /usr/bin/time -f "%e %M" -o "$work/score.time" \
    "$bin" -q score --bundle "$bundle" --input "$work/transactions.csv" --output "$work/batches.parquet" --no-reasons > /dev/null
  runs="$runs $(tr '\n' ' ' < "$work/score.time")"
done
echo "riskpipe score: one batch" >&2
RISKPIPE_BATCH_ROWS=2000000 /usr/bin/time -f "%e %M" -o "$work/one.time" \
  "$bin" -q score --bundle "$bundle" --input "$work/transactions.csv" --output "$work/one.parquet" --no-reasons > /dev/null

"$py" - "$work" "$runs" "$(cat "$work/one.time")" "$repo/bench/results" <<'PY'
import json, statistics, sys
import pyarrow.parquet as pq
work, runs, one, out = sys.argv[1:]
v = [float(x) for x in runs.split()]
secs, rss = v[0::2], v[1::2]
one_s, one_rss = (float(x) for x in one.split())
a = pq.read_table(f"{work}/batches.parquet")
b = pq.read_table(f"{work}/one.parquet")
if not a.equals(b):
    sys.exit("scores in batches differ from scores in one batch")
rows = a.num_rows
bundle = json.load(open(f"{work}/run/deploy/bundle/bundle.json"))
windows = 2 + sum(len(e["windows"]) * (3 if e.get("ratio") else 2) for e in bundle["events"]["windows"]["entities"])
med = statistics.median(secs)
res = {
    "rows": rows,
    "window_features": windows,
    "model": "boosting, 200 trees, 15 leaves",
    "batch_rows": 65536,
    "secs": secs,
    "peak_rss_mib": [r / 1024 for r in rss],
    "median_secs": med,
    "rows_per_sec": rows / med,
    "one_batch_secs": one_s,
    "one_batch_peak_rss_mib": one_rss / 1024,
    "same_output_in_one_batch": True,
}
json.dump(res, open(f"{out}/fraud_score.json", "w"), indent=2)
with open(f"{out}/fraud_score.md", "w") as f:
    f.write(f"# Event-order scoring ({rows:,} handbook transactions, CSV in, Parquet out, --no-reasons)\n\n")
    f.write(f"A boosting bundle (200 trees, 15 leaves) with {windows} window features per card and terminal, "
            "kept as state from batch to batch. 2 cores.\n\n")
    f.write("| batches | runs (s) | median s | transactions/s | peak RSS (MiB) |\n|---|---|---|---|---|\n")
    f.write(f"| 65,536 rows | {', '.join(f'{t:.2f}' for t in secs)} | {med:.2f} | **{rows/med:,.0f}** | "
            f"{', '.join(f'{r/1024:.0f}' for r in rss)} |\n")
    f.write(f"| one batch | {one_s:.2f} | {one_s:.2f} | {rows/one_s:,.0f} | {one_rss/1024:.0f} |\n\n")
    f.write("Scores in batches identical to scores in one batch, row for row: True.\n")
print(open(f"{out}/fraud_score.md").read())
PY
