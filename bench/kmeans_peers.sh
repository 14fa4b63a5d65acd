#!/usr/bin/env bash
# riskpipe's k-means distance beside scikit-learn's KMeans (k = 8, k-means++ seeds, one init),
# fit and score of a generated ROWS x 30 table (default 1,000,000), 2 cores each, each in a
# process of its own; the inertia of both fits is recorded, so the times compare equal work.
# Writes bench/results/kmeans_peers.{jsonl,md}.
# Usage: bench/kmeans_peers.sh [ROWS]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-1000000}"
py="$("$repo/bench/setup_venv.sh" | tail -1)"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --quiet --release -p riskpipe-models --example detect_bench
bin="$repo/target/release/examples/detect_bench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$repo/bench/results/kmeans_peers.jsonl"
: > "$out"
"$py" "$repo/bench/anomaly_peers.py" table "$rows" 30 "$work/table.parquet"
measure() {
    /usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/line" 2> "$work/err"
    "$py" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); d.update(json.loads([l for l in open(sys.argv[3]) if l.startswith("{")][0])); d["peak_rss_mib"]=int(open(sys.argv[2]).read().split()[-1])//1024; print(json.dumps(d))' \
        "$work/line" "$work/rss" "$work/err" >> "$out"
}
measure "$bin" speed "$work/table.parquet" kmeans
measure env OMP_NUM_THREADS=2 "$py" "$repo/bench/anomaly_peers.py" speed "$work/table.parquet" kmeans
"$py" - "$out" "$repo/bench/results/kmeans_peers.md" <<'PY'
import json, sys
out, md = sys.argv[1:]
r = {d["tool"]: d for d in map(json.loads, open(out))}
a, b = r["riskpipe"], r["pyod"]
text = [f"k-means distance, k = 8, k-means++ seeds, one init: fit and score of all {a['rows']:,} rows x {a['features']} columns, 2 cores each.", "",
        "| | riskpipe | scikit-learn |", "|---|---|---|",
        f"| seconds | {a['fit_score_secs']:.2f} | {b['fit_score_secs']:.2f} |",
        f"| inertia | {a['inertia']:.6g} | {b['inertia']:.6g} |",
        f"| Lloyd iterations | {a['iterations']} | {b['iterations']} |",
        f"| peak RSS MiB | {a['peak_rss_mib']} | {b['peak_rss_mib']} |", "",
        f"Time ratio riskpipe / scikit-learn: {a['fit_score_secs'] / b['fit_score_secs']:.2f}x; inertia ratio: {a['inertia'] / b['inertia']:.4f}.", ""]
open(md, "w").write("\n".join(text) + "\n")
PY
cat "$repo/bench/results/kmeans_peers.md"
