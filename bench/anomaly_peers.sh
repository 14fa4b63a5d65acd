#!/usr/bin/env bash
# riskpipe's anomaly detectors beside PyOD's, on the same splits and the same tables, 2 cores each.
#
# Quality: the ten ODDS tables in ../shared/data/odds_anomaly under PyOD's benchmark protocol (10
# random 60/40 splits, standardised on the training part, fitted on it outliers included,
# ROC-AUC on the test part, mean over splits); both sides read the same split files.
# Speed: a generated ROWS x 30 table (default 1,000,000), fit and score of every row, each
# detector in a process of its own, riskpipe's and PyOD's back to back, peak RSS measured.
# Writes bench/results/anomaly_peers.{jsonl,md}.
# Usage: bench/anomaly_peers.sh [ROWS]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-1000000}"
data="${RISKPIPE_SHARED_DATA:-$repo/../shared/data}/odds_anomaly"
[ -d "$data" ] || { echo "error: $data not found (set RISKPIPE_SHARED_DATA)" >&2; exit 2; }
py="$("$repo/bench/setup_venv.sh" | tail -1)"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --quiet --release -p riskpipe-models --example detect_bench
bin="$repo/target/release/examples/detect_bench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$repo/bench/results/anomaly_peers.jsonl"
: > "$out"
"$py" "$repo/bench/anomaly_peers.py" splits "$data" "$work"
for t in "$data"/*.csv; do
    name="$(basename "$t" .csv)"
    "$bin" odds "$t" "$work/$name.splits.json" >> "$out"
    "$py" "$repo/bench/anomaly_peers.py" odds "$t" "$work/$name.splits.json" >> "$out"
done
"$py" "$repo/bench/anomaly_peers.py" table "$rows" 30 "$work/table.parquet"
measure() {
    /usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/line"
    "$py" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); d["peak_rss_mib"]=int(open(sys.argv[2]).read().split()[-1])//1024; print(json.dumps(d))' \
        "$work/line" "$work/rss" >> "$out"
}
for d in iforest ecod hbos; do
    measure "$bin" speed "$work/table.parquet" "$d"
    measure "$py" "$repo/bench/anomaly_peers.py" speed "$work/table.parquet" "$d"
done
"$py" - "$out" "$repo/bench/results/anomaly_peers.md" <<'PY'
import json, sys
from collections import defaultdict
out, md = sys.argv[1:]
lines = [json.loads(l) for l in open(out)]
auc = defaultdict(list)
for d in lines:
    if "dataset" in d:
        auc[(d["tool"], d["dataset"], d["detector"])].append(d["auc"])
mean = {k: sum(v) / len(v) for k, v in auc.items()}
datasets = sorted({k[1] for k in mean})
dets = ["iforest", "ecod", "hbos"]
text = ["ODDS tables, PyOD's protocol: 10 random 60/40 splits (the same files on both sides), standardised on the",
        "training part, fitted on it outliers included, ROC-AUC on the test part; mean over the splits.", "",
        "| dataset | " + " | ".join(f"{d} riskpipe / PyOD" for d in dets) + " | riskpipe ensemble |",
        "|---|" + "---|" * (len(dets) + 1)]
worst = 1.0
for ds in datasets:
    cells = []
    for d in dets:
        a, b = mean[("riskpipe", ds, d)], mean[("pyod", ds, d)]
        worst = min(worst, a - b)
        cells.append(f"{a:.4f} / {b:.4f}")
    text.append(f"| {ds} | " + " | ".join(cells) + f" | {mean[('riskpipe', ds, 'ensemble')]:.4f} |")
over = lambda tool, d: sum(mean[(tool, ds, d)] for ds in datasets) / len(datasets)
best_pyod = max(dets, key=lambda d: over("pyod", d))
text += ["", "| mean over the tables | " + " | ".join(f"{over('riskpipe', d):.4f} / {over('pyod', d):.4f}" for d in dets)
         + f" | {over('riskpipe', 'ensemble'):.4f} |", "",
         f"Largest shortfall of a riskpipe detector against PyOD's same detector on one table: {worst:+.4f} (bar: -0.02).",
         f"riskpipe ensemble mean {over('riskpipe', 'ensemble'):.4f} against the best single PyOD detector ({best_pyod}) "
         f"{over('pyod', best_pyod):.4f}.", ""]
sp = {(d["tool"], d["detector"]): d for d in lines if "fit_score_secs" in d}
if sp:
    r0 = next(iter(sp.values()))
    text += [f"Speed: fit and score of all {r0['rows']:,} rows x {r0['features']} columns, 2 cores each, each run in a process of its own.", "",
             "| detector | seconds riskpipe / PyOD | ratio | peak RSS MiB riskpipe / PyOD |", "|---|---|---|---|"]
    for d in dets:
        a, b = sp[("riskpipe", d)], sp[("pyod", d)]
        text.append(f"| {d} | {a['fit_score_secs']:.2f} / {b['fit_score_secs']:.2f} | "
                    f"{a['fit_score_secs'] / b['fit_score_secs']:.2f}x | {a['peak_rss_mib']} / {b['peak_rss_mib']} |")
open(md, "w").write("\n".join(text) + "\n")
PY
cat "$repo/bench/results/anomaly_peers.md"
