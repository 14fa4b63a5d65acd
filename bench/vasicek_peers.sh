#!/usr/bin/env bash
# The one-factor Gaussian portfolio Monte Carlo: riskpipe's (crates/portfolio) beside a
# straightforward NumPy implementation (bench/vasicek_peers.py) on the same generated portfolio
# of LOANS loans (default 10,000) and SCENARIOS scenarios (default 100,000), 2 cores available
# to each, one process each, peak RSS measured. The two use different random streams, so their
# VaR and ES agree within the Monte Carlo error, not to the bit.
# Writes bench/results/vasicek_peers.{jsonl,md}.
# Usage: bench/vasicek_peers.sh [LOANS] [SCENARIOS]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
loans="${1:-10000}"
scenarios="${2:-100000}"
py="$("$repo/bench/setup_venv.sh" | tail -1)"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --quiet --release -p riskpipe-portfolio --example vasicek_bench
bin="$repo/target/release/examples/vasicek_bench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$repo/bench/results/vasicek_peers.jsonl"
: > "$out"
"$py" "$repo/bench/vasicek_peers.py" portfolio "$loans" 7 "$work/portfolio.csv"
measure() {
    /usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/line"
    "$py" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); d["peak_rss_mib"]=int(open(sys.argv[2]).read().split()[-1])//1024; print(json.dumps(d))' \
        "$work/line" "$work/rss" >> "$out"
}
measure "$bin" "$work/portfolio.csv" "$scenarios" 11
measure env OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 "$py" "$repo/bench/vasicek_peers.py" simulate "$work/portfolio.csv" "$scenarios" 11
"$py" - "$out" "$repo/bench/results/vasicek_peers.md" <<'PY'
import json, sys
out, md = sys.argv[1:]
r = {d["tool"]: d for d in map(json.loads, open(out))}
a, b = r["riskpipe"], r["numpy"]
e = a["exposure"]
pct = lambda v: f"{100 * v / e:.3f} %"
text = [f"One-factor Gaussian Monte Carlo, {a['loans']:,} loans x {a['scenarios']:,} scenarios "
        f"({a['loans'] * a['scenarios']:.2e} loan-scenarios), 2 cores available to each, one process each.", "",
        "| | seconds | loan-scenarios / s | peak RSS MiB | mean loss | VaR 99 % | VaR 99.9 % | ES 99 % | ES 99.9 % |",
        "|---|---|---|---|---|---|---|---|---|"]
for name, d in [("riskpipe", a), ("NumPy", b)]:
    text.append(f"| {name} | {d['secs']:.2f} | {d['rate']:.3e} | {d['peak_rss_mib']} | {pct(d['mean'])} | {pct(d['var99'])} | "
                f"{pct(d['var999'])} | {pct(d['es99'])} | {pct(d['es999'])} |")
text += ["", f"NumPy / riskpipe time: {b['secs'] / a['secs']:.1f}x. Losses as a share of the exposure "
         f"({e:,.0f}); the analytic expected loss is {pct(a['expected_loss'])}.",
         f"riskpipe's Monte Carlo standard errors: mean {pct(a['mean_se'])}, VaR 99 % {pct(a['var99_se'])}, "
         f"VaR 99.9 % {pct(a['var999_se'])}, ES 99 % {pct(a['es99_se'])}, ES 99.9 % {pct(a['es999_se'])}.",
         "Differences between the rows beyond about two standard errors would point to a fault in one of them."]
open(md, "w").write("\n".join(text) + "\n")
PY
cat "$repo/bench/results/vasicek_peers.md"
