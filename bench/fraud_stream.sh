#!/usr/bin/env bash
# Bounded memory on a growing stream of events: `riskpipe score` of generated card transactions
# (50,000 cards, 100,000 terminals, about 100,000 transactions a day) with a fraud bundle, which
# computes each row's window features from per-card and per-terminal state as the rows arrive.
# Streams of DAYS... days (default 30 100 300 1040: about 3M, 10M, 30M and 100M rows), each
# generated to Parquet, scored (wall time and peak RSS), then deleted. The peak RSS must not
# grow with the rows. Writes bench/results/fraud_stream.{json,md}.
# Usage: bench/fraud_stream.sh [DAYS...]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
days=("$@")
[ ${#days[@]} -gt 0 ] || days=(30 100 300 1040)
py="$("$repo/bench/setup_venv.sh" | tail -1)"
cargo build --quiet --release -p riskpipe-cli
bin="$repo/target/release/riskpipe"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/stream.yaml" <<YAML
version: 1
name: stream_scorer
task: fraud_detection
seed: 3
data:
  synth: transactions
  customers: 2000
  terminals: 4000
  days: 110
  target: TX_FRAUD
  id: TRANSACTION_ID
features:
  time_column: TX_DATETIME
  exclude: [TX_TIME_SECONDS, TX_TIME_DAYS]
  cap_lower: 0
  cap_upper: 1
  windows:
    entities:
      - { column: CUSTOMER_ID, windows: [1d, 7d, 30d], mean: TX_AMOUNT, ratio: true }
      - { column: TERMINAL_ID, windows: [1d, 7d, 30d], risk_delay: 7d }
  split: periods
  periods: { start: 2018-06-25, train_days: 7, delay_days: 7, test_days: 7, validation_folds: 1, card: CUSTOMER_ID }
train:
  models:
    boosting: { n_trees: [200], learning_rate: [0.05], max_leaves: [15] }
YAML
echo "riskpipe: training the scorer" >&2
"$bin" -q run "$work/stream.yaml" --run-dir "$work/run" > /dev/null

lines=""
for d in "${days[@]}"; do
  echo "riskpipe synth: $d days" >&2
  /usr/bin/time -f "%e %M" -o "$work/synth.time" \
    "$bin" -q synth transactions --customers 50000 --terminals 100000 --days "$d" --seed 7 --out "$work/tx.parquet" > /dev/null
  rows="$("$py" -c 'import sys, pyarrow.parquet as pq; print(pq.ParquetFile(sys.argv[1]).metadata.num_rows)' "$work/tx.parquet")"
  echo "riskpipe score: $rows rows" >&2
  /usr/bin/time -f "%e %M" -o "$work/score.time" \
    "$bin" -q score --bundle "$work/run/deploy/bundle" --input "$work/tx.parquet" --output "$work/scores.parquet" --no-reasons > /dev/null
  scored="$("$py" -c 'import sys, pyarrow.parquet as pq; print(pq.ParquetFile(sys.argv[1]).metadata.num_rows)' "$work/scores.parquet")"
  [ "$scored" = "$rows" ] || { echo "error: $scored rows scored of $rows" >&2; exit 1; }
  lines="$lines$d $rows $(tr '\n' ' ' < "$work/synth.time") $(tr '\n' ' ' < "$work/score.time")
"
  rm -f "$work/tx.parquet" "$work/tx.truth.parquet" "$work/scores.parquet"
done

"$py" - "$lines" "$repo/bench/results" <<'PY'
import json, sys
lines, out = sys.argv[1:]
runs = []
for l in lines.strip().splitlines():
    d, rows, ss, sr, s, r = l.split()
    runs.append({"days": int(d), "rows": int(rows), "synth_secs": float(ss), "synth_peak_rss_mib": float(sr) / 1024,
                 "score_secs": float(s), "score_peak_rss_mib": float(r) / 1024, "rows_per_sec": int(rows) / float(s)})
growth = runs[-1]["score_peak_rss_mib"] / runs[0]["score_peak_rss_mib"]
res = {"customers": 50000, "terminals": 100000, "model": "boosting, 200 trees, 15 leaves", "runs": runs,
       "rss_largest_over_smallest": growth}
json.dump(res, open(f"{out}/fraud_stream.json", "w"), indent=2)
with open(f"{out}/fraud_stream.md", "w") as f:
    f.write("# Event-order scoring on growing streams (50,000 cards, 100,000 terminals, generated)\n\n")
    f.write("`riskpipe score --no-reasons`, Parquet in and out, window state per card and terminal, 2 cores.\n\n")
    f.write("| days | rows | score s | transactions/s | score peak RSS (MiB) | synth s | synth peak RSS (MiB) |\n|---|---|---|---|---|---|---|\n")
    for r in runs:
        f.write(f"| {r['days']} | {r['rows']:,} | {r['score_secs']:.1f} | {r['rows_per_sec']:,.0f} | "
                f"**{r['score_peak_rss_mib']:.0f}** | {r['synth_secs']:.1f} | {r['synth_peak_rss_mib']:.0f} |\n")
    f.write(f"\nPeak RSS of the largest stream over the smallest: **{growth:.2f}x** for "
            f"{runs[-1]['rows'] / runs[0]['rows']:.0f}x the rows.\n")
print(open(f"{out}/fraud_stream.md").read())
PY
