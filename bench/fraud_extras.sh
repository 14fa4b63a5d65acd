#!/usr/bin/env bash
# Balanced bagging and anomaly scores as features under the fraud handbook's protocol on its
# data (shared/data/fraud_sim_handbook), the same four test folds as bench/fraud_models.sh
# (training windows from 2018-07-25, 08-01, 08-08, 08-15; 7 days of training, delay and test;
# settings chosen by average precision over four prequential folds). Each fold runs twice: on the
# window features alone, and with the scores of three detectors fitted on the training rows
# (`features.anomaly_scores: [iforest, ecod, hbos]`) as extra columns. A third run takes the
# window features with settings and model chosen by validation card precision@100
# (`train.metric: card_precision`) instead of average precision. Models: balanced bagging of
# 100 or 300 deep trees (`sampling: balanced`; the validation folds choose) and boosting. Mean test AUC, average precision and card
# precision@100 per model and variant. Writes bench/results/fraud_extras.{json,md}.
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

starts="2018-07-25 2018-08-01 2018-08-08 2018-08-15"
for variant in plain anomaly cp; do
  extra=""
  [ "$variant" = anomaly ] && extra="  anomaly_scores: [iforest, ecod, hbos]"
  metric=average_precision
  [ "$variant" = cp ] && metric=card_precision
  for start in $starts; do
    cat > "$work/$variant-$start.yaml" <<YAML
version: 1
name: handbook_extras
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
$extra
  windows:
    entities:
      - { column: CUSTOMER_ID, windows: [1d, 7d, 30d], mean: TX_AMOUNT, ratio: true }
      - { column: TERMINAL_ID, windows: [1d, 7d, 30d], risk_delay: 7d }
  split: periods
  periods: { start: $start, train_days: 7, delay_days: 7, test_days: 7, validation_folds: 4, card: CUSTOMER_ID }
train:
  metric: $metric
  models:
    bagging: { base: tree, max_depth: [20], min_samples_leaf: [1], n_estimators: [100, 300], sampling: balanced, balance_ratio: [0.1, 1.0] }
    boosting: { n_trees: [300], learning_rate: [0.05], max_leaves: [15] }
YAML
    echo "riskpipe: $variant, test fold from $start" >&2
    "$bin" run "$work/$variant-$start.yaml" --run-dir "$work/$variant-$start" -q
  done
done

"$py" - "$work" "$repo/bench/results" $starts <<'PY'
import json, sys
work, out, starts = sys.argv[1], sys.argv[2], sys.argv[3:]
mean = lambda xs: sum(xs) / len(xs)
res = {"published": {"XGBoost": [0.869, 0.687, 0.303], "balanced bagging": [0.879, 0.680, 0.305]}, "riskpipe": {}}
for variant in ["plain", "anomaly", "cp"]:
    folds = {}
    for s in starts:
        m = json.load(open(f"{work}/{variant}-{s}/evaluate/metrics.json"))
        cv = json.load(open(f"{work}/{variant}-{s}/train/cv.json"))
        for name, f in m["fraud"].items():
            g = cv[name]["grid"][cv[name]["best"]]["params"]
            folds.setdefault(name, []).append({
                "start": s, "auc": m["models"][name]["test"]["auc"], "ap": f["average_precision"],
                "cp100": f["card_precision"], "ceiling": f["ceiling"], "chosen": g,
            })
    res["riskpipe"][variant] = {n: {"folds": v, **{k: mean([x[k] for x in v]) for k in ["auc", "ap", "cp100", "ceiling"]}}
                                for n, v in folds.items()}
json.dump(res, open(f"{out}/fraud_extras.json", "w"), indent=1)
with open(f"{out}/fraud_extras.md", "w") as f:
    f.write("# Fraud: balanced bagging and anomaly scores as features, under the handbook's protocol\n\n")
    f.write("Written by `bench/fraud_extras.sh` on shared/data/fraud_sim_handbook: four test folds, settings chosen per fold "
            "by average precision over 4 prequential validation folds (bagging: 100 or 300 trees, balance ratio 0.1 or 1); means over the test folds. `+ anomaly scores`: "
            "the scores of iforest, ecod and hbos fitted on each training window, as extra columns. `chosen by card precision`: "
            "the window features, settings and model chosen by mean validation card precision@100 (`train.metric: card_precision`).\n\n")
    f.write("| model | features | AUC | average precision | card precision@100 | ceiling |\n|---|---|---|---|---|---|\n")
    for variant, label in [("plain", "windows"), ("anomaly", "windows + anomaly scores"),
                           ("cp", "windows, chosen by card precision")]:
        for n, r in res["riskpipe"][variant].items():
            f.write(f"| riskpipe {n} | {label} | {r['auc']:.3f} | {r['ap']:.3f} | {r['cp100']:.3f} | {r['ceiling']:.3f} |\n")
    for n, (a, p, c) in res["published"].items():
        f.write(f"| handbook {n} (published) | handbook's | {a:.3f} | {p:.3f} | {c:.3f} | |\n")
print(open(f"{out}/fraud_extras.md").read())
PY
