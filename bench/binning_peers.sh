#!/usr/bin/env bash
# Scorecard fit at scale, side by side: riskpipe (optimal binning + WoE + selection + logistic
# regression) against optbinning BinningProcess + scikit-learn LogisticRegression, both on 2
# cores, on the same generated Parquet book (ROWS rows, 14 loan + 16 bureau features = 30), the
# first 80% as training rows. Wall seconds of the fit, peak RSS of each process, test AUC and IV
# per feature go to bench/results/binning_peers.{md,jsonl}.
# Usage: bench/binning_peers.sh [ROWS]   (default 1000000)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-1000000}"
py="$("$repo/bench/setup_venv.sh" | tail -1)"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --quiet --release -p riskpipe-cli
cargo build --quiet --release -p riskpipe-features --example scorecard_bench
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$repo/target/release/riskpipe" -q synth loans --rows "$rows" --seed 7 --bureau 16 --out "$work/book.parquet" > /dev/null
out="$repo/bench/results/binning_peers.jsonl"
: > "$out"
/usr/bin/time -f "%M" -o "$work/rss_rp" "$repo/target/release/examples/scorecard_bench" "$work/book.parquet" default_flag 0.8 > "$work/rp.json"
/usr/bin/time -f "%M" -o "$work/rss_ob" "$py" "$repo/bench/binning_peers.py" "$work/book.parquet" default_flag 0.8 > "$work/ob.json"
"$py" - "$work" "$out" "$repo/bench/results/binning_peers.md" <<'PY'
import json, sys
work, out, md = sys.argv[1:]
rp = json.load(open(f"{work}/rp.json")); ob = json.load(open(f"{work}/ob.json"))
rp["peak_rss_mib"] = int(open(f"{work}/rss_rp").read().split()[-1]) // 1024
ob["peak_rss_mib"] = int(open(f"{work}/rss_ob").read().split()[-1]) // 1024
with open(out, "w") as f:
    f.write(json.dumps(rp) + "\n" + json.dumps(ob) + "\n")
lines = [f"Scorecard fit on {rp['train_rows']} training rows x {rp['features']} features (2 cores).", "",
         "| tool | binning s | binning + WoE + selection + LR s | peak RSS MiB | kept | test AUC |", "|---|---|---|---|---|---|"]
for r in (rp, ob):
    lines.append(f"| {r['tool']} | {r['binning_secs']:.2f} | {r['fit_secs']:.2f} | {r['peak_rss_mib']} | {r['kept']} | {r['test_auc']:.4f} |")
lines += ["", f"Speed-up: {ob['fit_secs'] / rp['fit_secs']:.1f}x (fit), {ob['binning_secs'] / rp['binning_secs']:.1f}x (binning).", "",
          "| feature | riskpipe IV | optbinning IV | difference |", "|---|---|---|---|"]
worse = 0
for name in sorted(rp["iv"], key=lambda n: -rp["iv"][n]):
    a, b = rp["iv"][name], ob["iv"].get(name, float("nan"))
    worse += a < b - 1e-6
    lines.append(f"| {name} | {a:.4f} | {b:.4f} | {a - b:+.4f} |")
lines += ["", f"Features where riskpipe's IV is below optbinning's: {worse} of {len(rp['iv'])}."]
open(md, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
