#!/usr/bin/env bash
# Runs riskpipe's credit pipeline on each shared credit dataset, then the Python peers on the
# same split.parquet, and writes bench/results/credit_peers.{md,json}.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
data="${RISKPIPE_SHARED_DATA:-$repo/../shared/data}"
[ -d "$data" ] || { echo "error: shared data folder $data is missing" >&2; exit 2; }
py="$("$repo/bench/setup_venv.sh" | tail -1)"
cargo build --quiet --release -p riskpipe-cli
bin="$repo/target/release/riskpipe"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
specs="$work/specs.json"
cat > "$specs" <<JSON
[
 {"name": "german_credit", "file": "german_credit/german_credit.csv", "target": "class", "positive": "2",
  "yaml": "  target: class\n  positive: \"2\"\n"},
 {"name": "taiwan_default", "file": "taiwan_default/taiwan_default.csv", "target": "default_payment_next_month", "id": "ID",
  "yaml": "  target: default_payment_next_month\n  id: ID\n"},
 {"name": "heloc", "file": "heloc/heloc.csv", "target": "RiskPerformance", "positive": "Bad", "missing": [-7, -8, -9],
  "yaml": "  target: RiskPerformance\n  positive: Bad\n  missing_values: [\"\", \"-7\", \"-8\", \"-9\"]\n"},
 {"name": "give_me_some_credit", "file": "give_me_some_credit/cs-training.csv", "target": "SeriousDlqin2yrs", "id": "unnamed_0",
  "yaml": "  target: SeriousDlqin2yrs\n  id: unnamed_0\n"}
]
JSON
# The pipeline files of tests/it/real_data.rs, plus riskpipe's boosting as a challenger (it does
# not change the logistic model: folds and features are the same).
"$py" - "$specs" "$data" "$work" <<'PY'
import json, sys
specs = json.load(open(sys.argv[1]))
for s in specs:
    head = f"version: 1\nname: {s['name']}\ntask: credit_scoring\nseed: 42\ndata:\n  path: {sys.argv[2]}/{s['file']}\n" + s["yaml"]
    open(f"{sys.argv[3]}/{s['name']}.yaml", "w").write(
        head + "train:\n  select: logistic\n  models:\n    logistic: {}\n    tree: {}\n    boosting: {}\n")
    # The same split binned with explicit trends, for the IV comparison under equal constraints.
    for trend in ["auto_asc_desc", "peak", "valley"]:
        open(f"{sys.argv[3]}/{s['name']}_{trend}.yaml", "w").write(
            head + f"features:\n  binning:\n    trend: {trend}\n")
PY
for name in $("$py" -c "import json,sys; print(' '.join(s['name'] for s in json.load(open('$specs'))))"); do
  start=$(date +%s.%N)
  "$bin" -q run "$work/$name.yaml" --run-dir "$work/runs/$name"
  end=$(date +%s.%N)
  echo "$name: riskpipe pipeline $(echo "$end - $start" | bc) s" >&2
  for trend in auto_asc_desc peak valley; do
    "$bin" -q run "$work/${name}_$trend.yaml" --run-dir "$work/runs/${name}_$trend" --stage ingest
    for st in privacy features; do "$bin" -q run "$work/${name}_$trend.yaml" --run-dir "$work/runs/${name}_$trend" --stage $st; done
  done
done
"$py" "$repo/bench/credit_peers.py" "$data" "$work/runs" "$specs" "$repo/bench/results"
