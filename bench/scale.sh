#!/usr/bin/env bash
# Scale report: per-stage wall time and peak RSS of `riskpipe run` (release build) on a generated
# 1,000,000-row loan book, then `riskpipe score` on 10,000,000 rows with the memory it held.
# The report, and the model cross-validation selected, also go to bench/results/scale.md.
# Usage: bench/scale.sh [ROWS] [SCORE_COPIES]   (defaults 1000000 and 10)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
exec > >(tee "$repo/bench/results/scale.md")
rows="${1:-1000000}"
copies="${2:-10}"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --quiet --release -p riskpipe-cli
bin="$repo/target/release/riskpipe"
work="${RISKPIPE_SCALE_DIR:-$(mktemp -d)}"
export RISKPIPE_MASK_KEY="${RISKPIPE_MASK_KEY:-riskpipe-demo-key-not-secret}"
sed "s/^  rows: .*/  rows: $rows/" "$repo/pipelines/credit_scoring.yaml" > "$work/scale.yaml"
measure() { # label, command...
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > /dev/null 2> "$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
  read -r secs kb < "$work/time.txt"
  printf "| %-28s | %8.2f | %8.0f |\n" "$label" "$secs" "$((kb / 1024))"
}
echo "| step ($rows rows) | wall s | peak RSS MiB |"
echo "|---|---|---|"
for stage in ingest privacy features train evaluate deploy; do
  measure "run --stage $stage" "$bin" -q run "$work/scale.yaml" --run-dir "$work/run" --stage "$stage"
done
selected=$(python3 - "$work/run/train/selection.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
aucs = ", ".join(f"{m} {a:.4f}" for m, a in sorted(s["cv_auc"].items(), key=lambda kv: -kv[1]))
print(f"Cross-validation selected `{s['selected']}` (CV AUC: {aucs}).")
PY
)
"$bin" -q synth loans --rows "$rows" --seed 7 --out "$work/new.csv" > /dev/null
{ cat "$work/new.csv"; for _ in $(seq 2 "$copies"); do tail -n +2 "$work/new.csv"; done; } > "$work/big.csv"
total=$(( rows * copies ))
size=$(du -m "$work/big.csv" | cut -f1)
measure "score $total rows (${size} MiB CSV), no reasons" "$bin" -q score --bundle "$work/run/deploy/bundle" --input "$work/big.csv" --output "$work/scored.parquet" --no-reasons
head -n 100001 "$work/new.csv" > "$work/small.csv"
measure "score 100000 rows with reason codes" "$bin" -q score --bundle "$work/run/deploy/bundle" --input "$work/small.csv" --output "$work/small.parquet"
rm -f "$work/big.csv"
printf "\n%s\n" "$selected"
