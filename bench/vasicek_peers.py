"""The one-factor Gaussian (Vasicek) portfolio Monte Carlo in straightforward NumPy, beside
riskpipe's (crates/portfolio/examples/vasicek_bench.rs), for bench/vasicek_peers.sh.

- vasicek_peers.py portfolio N SEED OUT.csv: writes N loans (pd, lgd, ead, rho): PD
  log-uniform between 0.1 % and 10 %, LGD uniform in [0.1, 0.9], EAD log-normal, rho from the
  Basel corporate formula.
- vasicek_peers.py simulate PORTFOLIO.csv SCENARIOS SEED: simulates the losses in chunks of
  scenarios (a normal factor per scenario, a normal draw per loan and scenario, defaults where
  sqrt(rho) Z + sqrt(1 - rho) e < G(PD), losses as a matrix product), then prints one JSON
  line like riskpipe's: time, rate, mean, VaR and ES at 99 % and 99.9 %.
"""
import json
import math
import sys
import time

import numpy as np
from scipy.stats import norm


def portfolio(n, seed, out):
    rng = np.random.default_rng(seed)
    pd = np.exp(rng.uniform(np.log(0.001), np.log(0.10), n))
    lgd = rng.uniform(0.1, 0.9, n)
    ead = np.round(np.exp(rng.normal(11.0, 1.0, n)), 2)
    w = (1 - np.exp(-50 * pd)) / (1 - math.exp(-50))
    rho = 0.12 * w + 0.24 * (1 - w)
    with open(out, "w") as f:
        f.write("pd,lgd,ead,rho\n")
        for row in zip(pd, lgd, ead, rho):
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def simulate(path, scenarios, seed):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    pd, lgd, ead, rho = data.T
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    alpha = norm.ppf(pd) / np.sqrt(1 - rho)
    beta = np.sqrt(rho / (1 - rho))
    weight = ead * lgd
    losses = np.empty(scenarios)
    chunk = 200
    for s in range(0, scenarios, chunk):
        m = min(chunk, scenarios - s)
        z = rng.standard_normal((m, 1))
        e = rng.standard_normal((m, len(pd)))
        losses[s:s + m] = (e < alpha - beta * z) @ weight
    losses.sort()
    secs = time.perf_counter() - t0
    n = scenarios

    def var(level):
        return float(losses[max(math.ceil(level * n), 1) - 1])

    def es(level):
        tail = max(round((1 - level) * n), 1)
        return float(losses[n - tail:].mean())

    print(json.dumps({"tool": "numpy", "loans": len(pd), "scenarios": n, "secs": round(secs, 3),
                      "rate": len(pd) * n / secs, "exposure": float(ead.sum()),
                      "expected_loss": float((pd * lgd * ead).sum()), "mean": float(losses.mean()),
                      "var99": var(0.99), "var999": var(0.999), "es99": es(0.99), "es999": es(0.999)}))


if __name__ == "__main__":
    if sys.argv[1] == "portfolio":
        portfolio(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "simulate":
        simulate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
