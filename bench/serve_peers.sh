#!/usr/bin/env bash
# The scoring service under load on loopback, with the load generator (oha, installed into
# bench/.tools by cargo) on the same 2 cores, and MLServer (PyPI, bench/.venv-mlserver) serving
# the equivalent scikit-learn logistic regression and LightGBM models at the same loads:
#   - latency at a steady 1,000 single-row requests/s for 20 s (p50, p99; oha corrects for
#     coordinated omission): the demo scorecard bundle (pipelines/credit_scoring.yaml) and a
#     300-tree boosting bundle with TreeSHAP reason codes (bench/serve_boosting.yaml);
#   - peak single-row requests/s (32 connections, 15 s) and rows/s in 1,000-row batches;
#   - a soak (default 600 s): valid single rows and batches beside malformed bodies (broken
#     JSON, a missing input, text for a number); then the process is alive, its RSS at start and
#     end, the audit log's lines equal the rows answered 200 and `riskpipe audit verify` passes.
# riskpipe serves with its audit log on throughout. Writes bench/results/serve_peers.md and .json.
# Usage: bench/serve_peers.sh [SOAK_SECONDS]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
soak="${1:-600}"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
export RISKPIPE_MASK_KEY="${RISKPIPE_MASK_KEY:-riskpipe-demo-key-not-secret}"

cargo build --quiet --release -p riskpipe-cli
bin="$repo/target/release/riskpipe"
oha="$repo/bench/.tools/bin/oha"
if [ ! -x "$oha" ]; then
  # native-tls (Debian's libssl-dev) rather than the default rustls on aws-lc: a shorter C build.
  command -v pkg-config > /dev/null && pkg-config --exists openssl || { apt-get update -qq && apt-get install -y -qq libssl-dev pkg-config > /dev/null; }
  cargo install --quiet --locked --no-default-features --features native-tls oha --version 1.16.0 --root "$repo/bench/.tools"
fi
mls="$repo/bench/.venv-mlserver"
[ -x "$mls/bin/python" ] || python3 -m venv "$mls"
if ! "$mls/bin/python" -c "import mlserver, mlserver_sklearn, mlserver_lightgbm, pyarrow, uvloop; assert uvloop.__version__ == \"0.21.0\"" 2> /dev/null; then
  "$mls/bin/pip" install --quiet --disable-pip-version-check -r "$repo/bench/requirements-mlserver.txt"
fi

"$bin" -q run "$repo/pipelines/credit_scoring.yaml" --run-dir "$work/sc" > /dev/null
"$bin" -q run "$repo/bench/serve_boosting.yaml" --run-dir "$work/gb" > /dev/null
"$bin" -q synth loans --rows 5000 --seed 11 --out "$work/rows.parquet" > /dev/null
"$bin" -q synth loans --rows 50000 --seed 42 --out "$work/train.parquet" > /dev/null

port_rp=18181; port_ml=18282
"$bin" serve --bundle "$work/sc/deploy/bundle" --bundle "$work/gb/deploy/bundle" \
  --addr "127.0.0.1:$port_rp" --audit-log "$work/audit.jsonl" 2> "$work/serve.log" &
rp_pid=$!; pids+=("$rp_pid")
for _ in $(seq 100); do curl -sf "127.0.0.1:$port_rp/v2/health/ready" > /dev/null && break; sleep 0.1; done
curl -sf "127.0.0.1:$port_rp/v2/models/credit_scoring" > "$work/meta_sc.json"
curl -sf "127.0.0.1:$port_rp/v2/models/credit_boosting" > "$work/meta_gb.json"
"$mls/bin/python" "$repo/bench/serve_bodies.py" "$work/meta_sc.json" "$work/meta_gb.json" \
  "$work/rows.parquet" "$work/train.parquet" "$work"
printf '{"http_port": %d, "grpc_port": 18283, "metrics_port": 18284}\n' "$port_ml" > "$work/mlserver/settings.json"
(cd "$work/mlserver" && exec "$mls/bin/mlserver" start . > "$work/mlserver.log" 2>&1) &
pids+=("$!")
for _ in $(seq 600); do
  curl -sf "127.0.0.1:$port_ml/v2/models/lightgbm/ready" > /dev/null \
    && curl -sf "127.0.0.1:$port_ml/v2/models/logistic/ready" > /dev/null && break
  sleep 0.2
done

# load NAME URL BODY [oha options]: one oha run, its JSON summary kept as $work/NAME.json.
load() {
  local name="$1" url="$2" body="$3"; shift 3
  "$oha" --no-tui --output-format json -w -m POST -T application/json -D "$body" "$@" "$url" \
    > "$work/$name.json"
}
rp="http://127.0.0.1:$port_rp/v2/models"; ml="http://127.0.0.1:$port_ml/v2/models"
for target in "rp_scorecard $rp/credit_scoring/infer rp_scorecard" \
              "rp_boosting $rp/credit_boosting/infer rp_boosting" \
              "ml_logistic $ml/logistic/infer ml_logistic" \
              "ml_lightgbm $ml/lightgbm/infer ml_lightgbm"; do
  set -- $target
  load "warm_$1" "$2" "$work/${3}_1.json" -z 3s -c 8
  load "steady_$1" "$2" "$work/${3}_1.json" -z 20s -q 1000 -c 16 --latency-correction
  load "peak_$1" "$2" "$work/${3}_1.json" -z 15s -c 32
  load "batch_$1" "$2" "$work/${3}_1000.json" -z 15s -c 4
done

# The soak: the service's own memory before and after.
rss() { awk '/VmRSS/ {print $2}' "/proc/$rp_pid/status"; }
rss_start=$(rss)
"$oha" --no-tui --output-format json -w -m POST -T application/json -D "$work/rp_scorecard_1.json" -z "${soak}s" -q 300 -c 8 "$rp/credit_scoring/infer" > "$work/soak_valid.json" &
s1=$!
"$oha" --no-tui --output-format json -w -m POST -T application/json -D "$work/rp_boosting_1000.json" -z "${soak}s" -q 2 -c 1 "$rp/credit_boosting/infer" > "$work/soak_batch.json" &
s2=$!
"$oha" --no-tui --output-format json -w -m POST -T application/json -D "$work/bad_json.txt" -z "${soak}s" -q 50 -c 2 "$rp/credit_scoring/infer" > "$work/soak_bad_json.json" &
s3=$!
"$oha" --no-tui --output-format json -w -m POST -T application/json -D "$work/bad_missing.json" -z "${soak}s" -q 50 -c 2 "$rp/credit_scoring/infer" > "$work/soak_bad_missing.json" &
s4=$!
"$oha" --no-tui --output-format json -w -m POST -T application/json -D "$work/bad_type.json" -z "${soak}s" -q 50 -c 2 "$rp/credit_scoring/infer" > "$work/soak_bad_type.json" &
s5=$!
wait "$s1" "$s2" "$s3" "$s4" "$s5"
rss_end=$(rss)
alive=$(kill -0 "$rp_pid" 2>/dev/null && curl -sf "127.0.0.1:$port_rp/v2/health/live" > /dev/null && echo true || echo false)
kill -TERM "$rp_pid"; wait "$rp_pid" || true
audit_lines=$(wc -l < "$work/audit.jsonl")
verify=$("$bin" audit verify "$work/audit.jsonl" 2>&1 || true)

"$repo/bench/.venv-mlserver/bin/python" "$repo/bench/serve_report.py" "$work" "$repo/bench/results" \
  "$soak" "$rss_start" "$rss_end" "$alive" "$audit_lines" "$verify"
