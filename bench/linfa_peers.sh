#!/usr/bin/env bash
# linfa-clustering's KMeans, GaussianMixtureModel and Dbscan beside riskpipe's own k-means and
# Gaussian mixture and scikit-learn's three, on the same generated tables, 2 cores each, each
# tool in a process of its own with its peak RSS: k-means (k = 8) on ROWS x 30 (default
# 1,000,000), the Gaussian mixture (4 full-covariance components) on ROWS / 10 x 30, DBSCAN on
# ROWS / 50 x 30. The objective of each fit is recorded (inertia; mean log-likelihood per row,
# linfa's and riskpipe's mixtures scored by the same code; DBSCAN's clusters and noise rows).
# linfa builds in a package of its own (bench/linfa_clustering), outside the workspace.
# Writes bench/results/linfa_peers.{jsonl,md}.
# Usage: bench/linfa_peers.sh [ROWS]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-1000000}"
py="$("$repo/bench/setup_venv.sh" | tail -1)"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --quiet --release --manifest-path "$repo/bench/linfa_clustering/Cargo.toml"
bin="$repo/bench/linfa_clustering/target/release/riskpipe-linfa-bench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$repo/bench/results/linfa_peers.jsonl"
: > "$out"
"$py" "$repo/bench/anomaly_peers.py" table "$rows" 30 "$work/km.parquet"
"$py" "$repo/bench/anomaly_peers.py" table "$((rows / 10))" 30 "$work/gmm.parquet"
"$py" "$repo/bench/anomaly_peers.py" table "$((rows / 50))" 30 "$work/db.parquet"
measure() {
    /usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/lines"
    "$py" -c 'import json,sys; rss=int(open(sys.argv[2]).read().split()[-1])//1024
for l in open(sys.argv[1]):
    d=json.loads(l); d["peak_rss_mib_process"]=rss; print(json.dumps(d))' "$work/lines" "$work/rss" >> "$out"
}
measure "$bin" kmeans "$work/km.parquet" 8
measure env OMP_NUM_THREADS=2 "$py" "$repo/bench/linfa_peers.py" kmeans "$work/km.parquet" 8
measure "$bin" gmm "$work/gmm.parquet" 4
measure env OMP_NUM_THREADS=2 "$py" "$repo/bench/linfa_peers.py" gmm "$work/gmm.parquet" 4
measure "$bin" dbscan "$work/db.parquet" 3.0 10
measure env OMP_NUM_THREADS=2 "$py" "$repo/bench/linfa_peers.py" dbscan "$work/db.parquet" 3.0 10
"$py" - "$out" "$repo/bench/results/linfa_peers.md" <<'PY'
import json, sys
out, md = sys.argv[1:]
rows = [json.loads(l) for l in open(out)]
text = ["linfa-clustering beside riskpipe and scikit-learn on the same generated tables (30 columns), 2 cores each.",
        "Seconds are each fit alone; linfa and riskpipe share one process (peak RSS is the process's), scikit-learn runs in its own.", "",
        "| algorithm | rows | tool | seconds | objective | peak RSS MiB (process) |", "|---|---|---|---|---|---|"]
for r in rows:
    obj = (f"inertia {r['inertia']:.6g}" if "inertia" in r else
           f"mean log-likelihood {r['log_likelihood']:.5f}" if "log_likelihood" in r else
           f"{r['clusters']} clusters, {r['noise']} noise rows")
    text.append(f"| {r['algorithm']} | {r['rows']:,} | {r['tool']} | {r['secs']:.2f} | {obj} | {r['peak_rss_mib_process']} |")
def ratio(alg, a, b):
    x = {r["tool"]: r for r in rows if r["algorithm"] == alg}
    return x[a]["secs"] / x[b]["secs"] if a in x and b in x else float("nan")
text += ["", f"Time ratios to scikit-learn: k-means linfa {ratio('kmeans', 'linfa', 'scikit-learn'):.2f}x, riskpipe {ratio('kmeans', 'riskpipe', 'scikit-learn'):.2f}x; "
         f"Gaussian mixture linfa {ratio('gmm', 'linfa', 'scikit-learn'):.2f}x, riskpipe {ratio('gmm', 'riskpipe', 'scikit-learn'):.2f}x; "
         f"DBSCAN linfa {ratio('dbscan', 'linfa', 'scikit-learn'):.2f}x.", ""]
open(md, "w").write("\n".join(text) + "\n")
PY
cat "$repo/bench/results/linfa_peers.md"
