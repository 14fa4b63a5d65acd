"""Turns bench/serve_peers.sh's oha summaries into bench/results/serve_peers.md and .json.

argv: work folder, results folder, soak seconds, RSS at the soak's start and end (KiB), whether
the service was alive after it, audit-log lines, `riskpipe audit verify`'s output.
"""
import json
import sys
from pathlib import Path

work, out, soak, rss0, rss1, alive, audit_lines, verify = sys.argv[1:]
work, out = Path(work), Path(out)


def run(name):
    return json.load(open(work / f"{name}.json"))


def ok(r):
    return int(r.get("statusCodeDistribution", {}).get("200", 0))


def pct(r, p):
    v = r["latencyPercentiles"][p]
    return float("nan") if v is None else v * 1000.0  # ms (nan: no request finished)


systems = {
    "rp_scorecard": "riskpipe, demo scorecard",
    "rp_boosting": "riskpipe, 300-tree boosting + 3 TreeSHAP reasons",
    "ml_logistic": "MLServer, scikit-learn logistic (predict_proba)",
    "ml_lightgbm": "MLServer, LightGBM 300 trees",
}
res = {"soak_seconds": int(soak), "systems": {}}
for key, label in systems.items():
    steady, peak, batch = run(f"steady_{key}"), run(f"peak_{key}"), run(f"batch_{key}")
    res["systems"][key] = {
        "label": label,
        "steady_rps": steady["summary"]["requestsPerSec"],
        "steady_ok": ok(steady),
        "steady_total": sum(int(v) for v in steady.get("statusCodeDistribution", {}).values()),
        "p50_ms": pct(steady, "p50"),
        "p99_ms": pct(steady, "p99"),
        "peak_rps": peak["summary"]["requestsPerSec"],
        "peak_p99_ms": pct(peak, "p99"),
        "batch_rows_per_sec": batch["summary"]["requestsPerSec"] * 1000.0,
        "batch_p50_ms": pct(batch, "p50"),
    }
# Every riskpipe request answered 200 wrote one audit line per row.
rows_answered = 0
for key, rows in [("rp_scorecard", 1), ("rp_boosting", 1)]:
    for phase in ("warm", "steady", "peak"):
        rows_answered += ok(run(f"{phase}_{key}")) * rows
    rows_answered += ok(run(f"batch_{key}")) * 1000
soak_runs = {n: run(f"soak_{n}") for n in ("valid", "batch", "bad_json", "bad_missing", "bad_type")}
rows_answered += ok(soak_runs["valid"]) + ok(soak_runs["batch"]) * 1000
res["soak"] = {
    "requests": {n: r.get("statusCodeDistribution", {}) for n, r in soak_runs.items()},
    "errors": {n: r.get("errorDistribution", {}) for n, r in soak_runs.items()},
    "valid_p99_ms": pct(soak_runs["valid"], "p99"),
    "rss_start_kib": int(rss0),
    "rss_end_kib": int(rss1),
    "alive": alive == "true",
    "audit_lines": int(audit_lines),
    "rows_answered_200": rows_answered,
    "audit_verify": verify.strip(),
}
json.dump(res, open(out / "serve_peers.json", "w"), indent=2)

s = res["systems"]
lines = [
    "# Scoring service on loopback (2 cores shared with the load generator, oha)",
    "",
    "Single-row V2 requests at a steady 1,000/s for 20 s (latency corrected for coordinated omission), "
    "peak single-row requests/s with 32 connections, and rows/s in 1,000-row batches with 4 connections. "
    "riskpipe writes its hash-chained audit log throughout.",
    "",
    "| service | steady req/s | p50 ms | p99 ms | peak req/s | batch rows/s |",
    "|---|---|---|---|---|---|",
]
for key in systems:
    r = s[key]
    lines.append(f"| {r['label']} | {r['steady_rps']:,.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
                 f"{r['peak_rps']:,.0f} | {r['batch_rows_per_sec']:,.0f} |")
lines += ["", "Ratios (riskpipe / MLServer; latency: MLServer / riskpipe):", ""]
for rp, ml, what in [("rp_scorecard", "ml_logistic", "scorecard vs logistic"),
                     ("rp_boosting", "ml_lightgbm", "boosting with reasons vs LightGBM")]:
    a, b = s[rp], s[ml]
    lines.append(f"- {what}: p99 {b['p99_ms'] / a['p99_ms']:.1f}x lower, peak {a['peak_rps'] / b['peak_rps']:.1f}x, "
                 f"batch rows/s {a['batch_rows_per_sec'] / b['batch_rows_per_sec']:.1f}x")
k = res["soak"]
lines += [
    "",
    f"## Soak: {int(soak)} s of mixed valid and malformed requests",
    "",
    "| stream | answers |",
    "|---|---|",
]
for n, codes in k["requests"].items():
    lines.append(f"| {n} | {', '.join(f'{c}: {v:,}' for c, v in sorted(codes.items()))} |")
lines += [
    "",
    f"- alive afterwards: {k['alive']}; RSS {k['rss_start_kib'] / 1024:.1f} MiB at the start, "
    f"{k['rss_end_kib'] / 1024:.1f} MiB at the end",
    f"- audit lines: {k['audit_lines']:,}; rows answered 200 over the whole run: {k['rows_answered_200']:,}; "
    f"`riskpipe audit verify`: {k['audit_verify']}",
    f"- p99 of the valid single-row stream during the soak: {k['valid_p99_ms']:.3f} ms",
]
(out / "serve_peers.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
