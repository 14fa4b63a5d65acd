#!/usr/bin/env bash
# riskpipe's models against their Python peers, side by side on the same Parquet matrices and 2
# cores each: boosting against LightGBM, and the random forest, decision tree, logistic
# regression (standardised raw features, and WoE features) and MLP against scikit-learn.
#
# The book is generated (ROWS rows, 14 loan + 16 bureau attributes = 30; 34 model columns after
# missing-value flags) and goes through riskpipe's ingest, privacy and features stages with a
# 20% test split; both sides then read features/{train,test}.parquet. Each model runs in a
# process of its own, riskpipe's and the peer's back to back, so both see the same machine
# state; wall seconds, prediction rows per second, test AUC and peak RSS go to
# bench/results/models_peers.{jsonl,md}.
# Usage: bench/models_peers.sh [ROWS]   (default 1000000)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-1000000}"
py="$("$repo/bench/setup_venv.sh" | tail -1)"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --quiet --release -p riskpipe-cli
cargo build --quiet --release -p riskpipe-models --example fit_bench
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export RISKPIPE_MASK_KEY="${RISKPIPE_MASK_KEY:-riskpipe-demo-key-not-secret}"
rp="$repo/target/release/riskpipe"
"$rp" -q synth loans --rows "$rows" --seed 7 --bureau 16 --out "$work/book.parquet" > /dev/null
sed -e "s|^  synth: loans.*|  path: $work/book.parquet|" -e '/^  rows: /d' \
    -e 's/^  test_fraction: .*/  test_fraction: 0.2/' "$repo/pipelines/credit_scoring.yaml" > "$work/p.yaml"
for s in ingest privacy features; do "$rp" -q run "$work/p.yaml" --run-dir "$work/run" --stage "$s"; done
out="$repo/bench/results/models_peers.jsonl"
: > "$out"
# One model, one tool, one process: its JSON line with the peak RSS added.
measure() {
    /usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/line"
    "$py" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); d["peak_rss_mib"]=int(open(sys.argv[2]).read().split()[-1])//1024; print(json.dumps(d))' \
        "$work/line" "$work/rss" | tee -a "$out"
}
for model in boosting forest tree logistic logistic_woe mlp mlp_10_epochs; do
    measure "$repo/target/release/examples/fit_bench" "$work/run" "$model"
    measure "$py" "$repo/bench/models_peers.py" "$work/run" "$model"
done
"$py" - "$out" "$repo/bench/results/models_peers.md" "$rows" <<'PY'
import json, sys
out, md, rows = sys.argv[1:]
lines = [json.loads(l) for l in open(out)]
rp = {d["model"]: d for d in lines if d["tool"] == "riskpipe"}
peer = {d["model"]: d for d in lines if d["tool"] != "riskpipe"}
b = rp["boosting"]
text = [f"Generated book of {int(rows):,} rows: {b['train_rows']:,} training rows x {b['features']} columns, 2 cores each,",
        "each model in its own process, riskpipe's and the peer's back to back.", "",
        "| model | peer | fit s (riskpipe / peer) | fit ratio | predict rows/s (riskpipe / peer) | test AUC (riskpipe / peer) | AUC diff | peak RSS MiB (riskpipe / peer) |",
        "|---|---|---|---|---|---|---|---|"]
for m in ["boosting", "forest", "tree", "logistic", "logistic_woe", "mlp", "mlp_10_epochs"]:
    a, p = rp[m], peer[m]
    text.append(f"| {m} | {p['tool']} | {a['fit_secs']:.2f} / {p['fit_secs']:.2f} | {a['fit_secs'] / p['fit_secs']:.2f}x | "
                f"{a['predict_rows_per_sec']:,} / {p['predict_rows_per_sec']:,} | {a['test_auc']:.4f} / {p['test_auc']:.4f} | "
                f"{a['test_auc'] - p['test_auc']:+.4f} | {a['peak_rss_mib']} / {p['peak_rss_mib']} |")
text += ["", f"Boosting: {b['trees']} trees, mean depth {b['mean_tree_depth']}, mean path {b['mean_path_steps']} steps, "
         f"TreeSHAP {b['treeshap_rows_per_sec']:,} rows/s.",
         f"MLP (32-16, batch 256, Adam 1e-3) with early stopping: riskpipe ran {rp['mlp']['epochs']} epochs (validation log loss), "
         f"scikit-learn {peer['mlp']['epochs']} (validation accuracy); mlp_10_epochs is the same ten epochs on both sides."]
open(md, "w").write("\n".join(text) + "\n")
print("\n".join(text))
PY
