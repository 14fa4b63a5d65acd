#!/usr/bin/env bash
# k-anonymity by generalisation and local suppression (`privacy.k_anonymity`).
#  1. Lending Club (shared/data/lending_club_2015_5000, the 4,453 loans that ended Charged Off
#     or Fully Paid): bench/lending_club_anonymity.yaml reaches k = 5 over zip_code, addr_state,
#     annual_inc, emp_length and home_ownership; the same pipeline without the `k_anonymity`
#     section gives the model's AUC on the raw quasi-identifiers, so the AUC cost of the
#     generalisation is the selected model's test AUC refitted on the generalised columns
#     against it. The run reports the same cost itself (evaluate's `anonymity_cost`, the
#     selected family refitted without the generalisation); both go to the results.
#  2. Speed: the search on ROWS (default 1,000,000) generated loans with 5 quasi-identifiers
#     (postcode, date of birth, age, income, housing), best of RUNS (default 3) privacy stages,
#     the search's own seconds read from the stage manifest's timings.
# Writes bench/results/anonymity.{json,md}.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="${RISKPIPE_SHARED_DATA:-$repo/../shared/data}"
data="$shared/lending_club_2015_5000/lending_club_2015_5000.csv"
[ -f "$data" ] || { echo "error: $data is missing" >&2; exit 2; }
rows="${ROWS:-1000000}"
runs="${RUNS:-3}"
cargo build --quiet --release -p riskpipe-cli
bin="$repo/target/release/riskpipe"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export RISKPIPE_MASK_KEY="${RISKPIPE_MASK_KEY:-bench-anonymity-key-0123456789abcdef}"

# 1. Lending Club: the loans that ended (the target needs two values).
python3 - "$data" "$work/lc.csv" <<'PY'
import csv, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, newline="") as f, open(dst, "w", newline="") as g:
    r, w = csv.reader(f), csv.writer(g, lineterminator="\n")
    head = next(r)
    w.writerow(head)
    i = head.index("loan_status")
    for row in r:
        if row[i] in ("Charged Off", "Fully Paid"):
            w.writerow(row)
PY
sed "s|DATA/lending_club_2015_5000/lending_club_2015_5000.csv|$work/lc.csv|" \
  "$repo/bench/lending_club_anonymity.yaml" > "$work/k.yaml"
python3 - "$work/k.yaml" "$work/raw.yaml" <<'PY'
import sys
s = open(sys.argv[1]).read()
a, b = s.index("  k_anonymity:"), s.index("features:")
open(sys.argv[2], "w").write(s[:a] + s[b:])
PY
"$bin" -q run "$work/k.yaml" --run-dir "$work/lc-k"
"$bin" -q run "$work/raw.yaml" --run-dir "$work/lc-raw"

# 2. Speed on generated loans.
"$bin" -q synth loans --rows "$rows" --seed 11 --out "$work/loans.csv"
cat > "$work/speed.yaml" <<YAML
version: 1
name: anonymity_speed
task: credit_scoring
seed: 11
data:
  path: $work/loans.csv
  target: default_flag
  id: id
privacy:
  keep_raw: true
  columns:
    name: { action: drop }
    email: { action: drop }
    phone: { action: drop }
    national_id: { action: hash }
  k_anonymity:
    k: 10
    max_suppressed: 0.01
    quasi_identifiers:
      postcode: { prefix: [4, 3, 2, 1] }
      date_of_birth: { date: [month, year] }
      age: { bucket: [5, 10, 20] }
      income: { bucket: [1000, 5000, 25000] }
      housing: {}
YAML
"$bin" -q run "$work/speed.yaml" --run-dir "$work/speed" --stage ingest
for i in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/time-$i" \
    "$bin" -q run "$work/speed.yaml" --run-dir "$work/speed" --stage privacy --force
  cp "$work/speed/privacy/manifest.json" "$work/manifest-$i.json"
done
cp "$work/speed/privacy/report.json" "$work/speed-report.json"

python3 - "$work" "$rows" "$runs" "$repo/bench/results" <<'PY'
import json, sys, os
work, rows, runs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def metrics(run):
    m = json.load(open(f"{work}/{run}/evaluate/metrics.json"))
    sel = json.load(open(f"{work}/{run}/train/selection.json"))["selected"]
    return sel, m["models"][sel]["test"]["auc"]
k_sel, k_auc = metrics("lc-k")
# The cost the run itself reports (evaluate refits the selected family without the
# generalisation): the same figure as the second pipeline when both select the same family.
in_run = json.load(open(f"{work}/lc-k/evaluate/metrics.json"))["anonymity_cost"]
refit_secs = json.load(open(f"{work}/lc-k/evaluate/manifest.json"))["timings"]["anonymity_cost.refit_secs"]
r_sel, r_auc = metrics("lc-raw")
an = json.load(open(f"{work}/lc-k/privacy/report.json"))["anonymity"]
speed = []
for i in range(1, runs + 1):
    wall, rss = open(f"{work}/time-{i}").read().split()
    m = json.load(open(f"{work}/manifest-{i}.json"))
    speed.append({"stage_secs": float(wall), "search_secs": m["timings"]["k_anonymity_search"],
                  "peak_rss_mib": int(rss) / 1024})
best = min(speed, key=lambda s: s["search_secs"])
sp = json.load(open(f"{work}/speed-report.json"))["anonymity"]
res = {
    "lending_club": {"rows": an["rows"], "k_before": an["before"]["k"], "k_after": an["after"]["k"],
                     "classes_before": an["before"]["classes"], "classes_after": an["after"]["classes"],
                     "records_at_risk_before": an["before"]["records_at_risk"],
                     "prosecutor_max_after": an["after"]["prosecutor_max"],
                     "prosecutor_avg_before": an["before"]["prosecutor_avg"],
                     "prosecutor_avg_after": an["after"]["prosecutor_avg"],
                     "suppressed_rows": an["suppressed_rows"], "levels": an["levels"],
                     "information_loss": an["information_loss"],
                     "selected_raw": r_sel, "auc_raw": r_auc, "selected_k": k_sel, "auc_k": k_auc,
                     "auc_cost": r_auc - k_auc, "in_run": in_run, "in_run_refit_secs": refit_secs},
    "speed": {"rows": rows, "quasi_identifiers": len(sp["levels"]), "lattice_nodes": sp["lattice_nodes"],
              "evaluated_nodes": sp["evaluated_nodes"], "k_after": sp["after"]["k"],
              "suppressed_rows": sp["suppressed_rows"], "levels": sp["levels"], "runs": speed, "best": best},
}
os.makedirs(out, exist_ok=True)
json.dump(res, open(f"{out}/anonymity.json", "w"), indent=1)
lc, s = res["lending_club"], res["speed"]
md = f"""# k-anonymity (bench/anonymity.sh)

## Lending Club, {lc['rows']:,} loans, k = 5 over zip_code, addr_state, annual_inc, emp_length, home_ownership

| | raw quasi-identifiers | generalised |
|---|---|---|
| k | {lc['k_before']} | {lc['k_after']} |
| classes | {lc['classes_before']:,} | {lc['classes_after']:,} |
| records in classes below 5 | {lc['records_at_risk_before']:,} | 0 |
| prosecutor risk, average | {lc['prosecutor_avg_before']:.3f} | {lc['prosecutor_avg_after']:.3f} |
| selected model, test AUC | {lc['selected_raw']} {lc['auc_raw']:.4f} | {lc['selected_k']} {lc['auc_k']:.4f} |

Levels chosen: {', '.join(f'{c} {v}' for c, v in lc['levels'].items())}; information loss
{lc['information_loss']:.3f}; {lc['suppressed_rows']} rows suppressed; largest prosecutor risk
{lc['prosecutor_max_after']:.3f}. **AUC cost of the generalisation: {lc['auc_cost']:.4f}.**

The run's own report (`evaluate/metrics.json`, `anonymity_cost`, refit in
{lc['in_run_refit_secs']:.2f} s): {lc['in_run']['model']} test AUC {lc['in_run']['auc_generalised']:.4f}
generalised against {lc['in_run']['auc_raw']:.4f} refitted on the raw quasi-identifiers, a cost of
**{lc['in_run']['cost']:.4f}**.

## Speed: {s['rows']:,} generated loans x {s['quasi_identifiers']} quasi-identifiers, k = 10

Lattice of {s['lattice_nodes']} nodes, {s['evaluated_nodes']} evaluated; k reached {s['k_after']},
{s['suppressed_rows']:,} rows suppressed; levels: {', '.join(f'{c} {v}' for c, v in s['levels'].items())}.

| run | search s | privacy stage s | peak RSS MiB |
|---|---|---|---|
""" + "".join(f"| {i+1} | {r['search_secs']:.2f} | {r['stage_secs']:.2f} | {r['peak_rss_mib']:.0f} |\n" for i, r in enumerate(s['runs']))
md += f"\nBest search: **{s['best']['search_secs']:.2f} s** on 2 cores.\n"
open(f"{out}/anonymity.md", "w").write(md)
print(md)
PY
