#!/usr/bin/env bash
# Stress scenarios (`evaluate.robustness`) on ROWS (default 1,000,000) generated loans, 30 % of
# them (300,000) the test set, four fitted models (logistic, tree, forest, boosting): what each
# scenario costs is the scoring of its stressed test rows by the four models, nothing refitted.
# Per scenario: seconds (from the evaluate manifest's timings) and the selected model's AUC,
# AUC change and score PSI. Writes bench/results/robustness.{json,md}.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rows="${ROWS:-1000000}"
cargo build --quiet --release -p riskpipe-cli
bin="$repo/target/release/riskpipe"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export RISKPIPE_MASK_KEY="${RISKPIPE_MASK_KEY:-bench-robustness-key-0123456789abcdef}"
cat > "$work/p.yaml" <<YAML
version: 1
name: robustness_bench
task: credit_scoring
seed: 5
data:
  synth: loans
  rows: $rows
  target: default_flag
  id: id
privacy:
  columns:
    name: { action: drop }
    email: { action: drop }
    phone: { action: drop }
    national_id: { action: hash }
    date_of_birth: { action: generalize, to: year }
    postcode: { action: truncate, chars: 2 }
features:
  exclude: [application_date]
  test_fraction: 0.3
train:
  cv_folds: 2
  models:
    logistic: { l2: [0.001] }
    tree: { max_depth: [6], min_samples_leaf: [200] }
    forest: { n_trees: [50], max_depth: [8] }
    boosting: { n_trees: [200], learning_rate: [0.1], max_depth: [3] }
evaluate:
  robustness:
    scenarios:
      - { column: income, scale: 0.9 }
      - { column: income, shift: -5000 }
      - { column: debt_to_income, missing: 0.2 }
      - { column: loan_amount, outliers: 0.01 }
      - { column: interest_rate, permute: true }
      - { column: purpose, permute: true }
YAML
"$bin" -q run "$work/p.yaml" --run-dir "$work/run" --stage ingest
for s in privacy features train evaluate; do
  "$bin" -q run "$work/p.yaml" --run-dir "$work/run" --stage "$s"
done
python3 - "$work/run" "$repo/bench/results" <<'PY'
import json, os, sys
run, out = sys.argv[1], sys.argv[2]
m = json.load(open(f"{run}/evaluate/metrics.json"))
man = json.load(open(f"{run}/evaluate/manifest.json"))
r = m["robustness"]
sel = r["selected"]
rows = []
for s in r["scenarios"]:
    x = s["models"][sel]
    rows.append({"scenario": s["name"], "rows_changed": s["rows_changed"],
                 "seconds": man["timings"][f"robustness {s['name']}"],
                 "auc": x["auc"], "auc_change": x["auc_change"], "psi": x["psi"],
                 "models": {k: v["auc"] for k, v in s["models"].items()}})
res = {"test_rows": r["rows"], "models": sorted(r["scenarios"][0]["models"]), "selected": sel,
       "unstressed_auc": {k: v["test"]["auc"] for k, v in m["models"].items()}, "scenarios": rows}
os.makedirs(out, exist_ok=True)
json.dump(res, open(f"{out}/robustness.json", "w"), indent=1)
md = f"""# Stress scenarios (bench/robustness.sh)

{res['test_rows']:,} test rows, models {', '.join(res['models'])} (selected: {sel}, unstressed test AUC
{res['unstressed_auc'][sel]:.4f}); each scenario re-transforms the stressed rows and scores them
with all four fitted models, nothing refitted.

| scenario | rows changed | seconds (4 models) | {sel} AUC | change | score PSI |
|---|---|---|---|---|---|
""" + "".join(f"| {x['scenario']} | {x['rows_changed']:,} | {x['seconds']:.2f} | {x['auc']:.4f} | {x['auc_change']:+.4f} | {x['psi']:.3f} |\n" for x in rows)
open(f"{out}/robustness.md", "w").write(md)
print(md)
PY
