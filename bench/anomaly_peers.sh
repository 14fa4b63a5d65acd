#!/usr/bin/env bash
# riskpipe's anomaly detectors beside PyOD's, on the same splits and the same tables, 2 cores each.
#
# Quality: the ten ODDS tables in ../shared/data/odds_anomaly under PyOD's benchmark protocol (10
# random 60/40 splits, standardised on the training part, fitted on it outliers included,
# ROC-AUC on the test part, mean over splits); both sides read the same split files.
# Speed: a generated ROWS x 30 table (default 1,000,000) for isolation forest, ECOD and HBOS, and
# one of ROWS / 10 rows for the exact-neighbour detectors (LOF, kNN); fit and score of every row,
# each detector in a process of its own, riskpipe's and PyOD's back to back, peak RSS measured.
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
"$py" "$repo/bench/anomaly_peers.py" table "$((rows / 10))" 30 "$work/small.parquet"
measure() {
    /usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/line"
    "$py" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); d["peak_rss_mib"]=int(open(sys.argv[2]).read().split()[-1])//1024; print(json.dumps(d))' \
        "$work/line" "$work/rss" >> "$out"
}
for d in iforest ecod hbos; do
    measure "$bin" speed "$work/table.parquet" "$d"
    measure "$py" "$repo/bench/anomaly_peers.py" speed "$work/table.parquet" "$d"
done
for d in lof knn; do
    measure "$bin" speed "$work/small.parquet" "$d"
    measure "$py" "$repo/bench/anomaly_peers.py" speed "$work/small.parquet" "$d"
done
"$py" - "$out" "$repo/bench/results/anomaly_peers.md" <<'PY'
import json, sys
from collections import defaultdict
out, md = sys.argv[1:]
lines = [json.loads(l) for l in open(out)]
auc = defaultdict(list)
failed = defaultdict(int)
for d in lines:
    if "dataset" in d:
        if d["auc"] is None:
            failed[(d["tool"], d["dataset"], d["detector"])] += 1
        else:
            auc[(d["tool"], d["dataset"], d["detector"])].append(d["auc"])
mean = {k: sum(v) / len(v) for k, v in auc.items() if not failed.get(k)}
datasets = sorted({k[1] for k in auc} | {k[1] for k in failed})
dets = ["iforest", "ecod", "hbos", "gmm", "knn", "lof", "pca", "pca_distance"]
# A riskpipe variant and the PyOD detector it is compared with.
peer = {"pca_distance": "pca"}
cell = lambda tool, ds, d: f"{mean[(tool, ds, d)]:.4f}" if (tool, ds, d) in mean else "failed"
text = ["ODDS tables, PyOD's protocol: 10 random 60/40 splits (the same files on both sides), standardised on the",
        "training part, fitted on it outliers included, ROC-AUC on the test part; mean over the splits.",
        "Cells are riskpipe / PyOD; `failed` means the detector raised an error on at least one split.",
        "`pca` is riskpipe's default PCA score (reconstruction error, `score: reconstruction`); `pca_distance` is",
        "`score: component_distance`, PyOD's PCA scoring; both are set beside PyOD's `pca`.", "",
        "| dataset | " + " | ".join(dets) + " | ensemble | ensemble_all |",
        "|---|" + "---|" * (len(dets) + 2)]
short = {}
for ds in datasets:
    cells = []
    for d in dets:
        p = peer.get(d, d)
        if ("riskpipe", ds, d) in mean and ("pyod", ds, p) in mean:
            short[(ds, d)] = mean[("riskpipe", ds, d)] - mean[("pyod", ds, p)]
        cells.append(f"{cell('riskpipe', ds, d)} / {cell('pyod', ds, p)}")
    text.append(f"| {ds} | " + " | ".join(cells) + f" | {cell('riskpipe', ds, 'ensemble')} | {cell('riskpipe', ds, 'ensemble_all')} |")
def over(tool, d):
    v = [mean.get((tool, ds, d)) for ds in datasets]
    return None if None in v else sum(v) / len(v)
fmt = lambda v: "n/a" if v is None else f"{v:.4f}"
text += ["", "| mean over the tables | " + " | ".join(f"{fmt(over('riskpipe', d))} / {fmt(over('pyod', peer.get(d, d)))}" for d in dets)
         + f" | {fmt(over('riskpipe', 'ensemble'))} | {fmt(over('riskpipe', 'ensemble_all'))} |", ""]
for d in dets:
    worst = min(((v, ds) for (ds, dd), v in short.items() if dd == d), default=None)
    below = sorted(ds for (ds, dd), v in short.items() if dd == d and v < -0.02)
    if worst:
        text.append(f"- {d}: largest shortfall against PyOD's {peer.get(d, d)} {worst[0]:+.4f} ({worst[1]}); "
                    + (f"below the -0.02 bar on {', '.join(below)}." if below else "within the -0.02 bar on every table compared."))
pyod_means = {d: over("pyod", d) for d in dets if d not in peer and over("pyod", d) is not None}
best_pyod = max(pyod_means, key=pyod_means.get)
text += ["", f"riskpipe ensemble (iforest + hbos + gmm, train's default) mean {fmt(over('riskpipe', 'ensemble'))}, "
         f"every detector {fmt(over('riskpipe', 'ensemble_all'))}, against the best single PyOD detector "
         f"({best_pyod}) {pyod_means[best_pyod]:.4f}.", ""]
sp = {(d["tool"], d["detector"]): d for d in lines if "fit_score_secs" in d}
if sp:
    text += ["Speed: fit and score of every row of a generated table, 30 columns, 2 cores each, each run in a process of its own.", "",
             "| detector | rows | seconds riskpipe / PyOD | ratio PyOD / riskpipe | peak RSS MiB riskpipe / PyOD |", "|---|---|---|---|---|"]
    for d in ["iforest", "ecod", "hbos", "lof", "knn"]:
        if ("riskpipe", d) not in sp:
            continue
        a, b = sp[("riskpipe", d)], sp[("pyod", d)]
        text.append(f"| {d} | {a['rows']:,} | {a['fit_score_secs']:.2f} / {b['fit_score_secs']:.2f} | "
                    f"{b['fit_score_secs'] / a['fit_score_secs']:.2f}x | {a['peak_rss_mib']} / {b['peak_rss_mib']} |")
open(md, "w").write("\n".join(text) + "\n")
PY
cat "$repo/bench/results/anomaly_peers.md"
