"""Independent IRB risk weights for riskpipe-portfolio's reference test.

Computes the Basel IRB capital K and risk weight (12.5 K) with scipy's normal distribution
(scipy.stats.norm.cdf and .ppf) over a grid of exposure class, PD, LGD, maturity and annual
sales, applying the rules as the Basel text states them (PD floor 0.0003, maturity capped to
[1, 5] years, SME sales below 5 million counted as 5, no adjustment from 50 million, retail
without maturity adjustment), and writes crates/portfolio/tests/irb_reference.csv.
crates/portfolio/tests/irb_reference.rs checks riskpipe's values against it to 1e-9.

Usage: python bench/irb_reference.py   (from the repository root, in the bench venv)
"""
import csv
import math
import sys

from scipy.stats import norm

FLOOR = 0.0003
PDS = [0.0, 0.0001, 0.0003, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 0.99]
LGDS = [0.1, 0.25, 0.45, 0.75, 1.0]
MATURITIES = [0.5, 1.0, 2.5, 3.7, 5.0, 7.0]
SALES = [None, 3.0, 5.0, 20.0, 49.9, 50.0, 120.0]


def correlation(cls, pd, sales):
    if cls == "corporate":
        w = (1 - math.exp(-50 * pd)) / (1 - math.exp(-50))
        r = 0.12 * w + 0.24 * (1 - w)
        if sales is not None and sales < 50:
            r -= 0.04 * (1 - (max(sales, 5.0) - 5) / 45)
        return r
    if cls == "residential_mortgage":
        return 0.15
    if cls == "qualifying_revolving":
        return 0.04
    w = (1 - math.exp(-35 * pd)) / (1 - math.exp(-35))
    return 0.03 * w + 0.16 * (1 - w)


def risk_weight(cls, pd, lgd, m, sales):
    pd = max(pd, FLOOR)
    r = correlation(cls, pd, sales)
    k = lgd * norm.cdf((norm.ppf(pd) + math.sqrt(r) * norm.ppf(0.999)) / math.sqrt(1 - r)) - pd * lgd
    if cls == "corporate":
        m = min(max(m, 1.0), 5.0)
        b = (0.11852 - 0.05478 * math.log(pd)) ** 2
        k *= (1 + (m - 2.5) * b) / (1 - 1.5 * b)
    return max(k, 0.0) * 12.5


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "crates/portfolio/tests/irb_reference.csv"
    rows = []
    for pd in PDS:
        for lgd in LGDS:
            for m in MATURITIES:
                for s in SALES:
                    rows.append(("corporate", pd, lgd, m, s))
            for cls in ["residential_mortgage", "qualifying_revolving", "other_retail"]:
                rows.append((cls, pd, lgd, 2.5, None))
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["class", "pd", "lgd", "maturity", "sales", "risk_weight"])
        for cls, pd, lgd, m, s in rows:
            w.writerow([cls, repr(pd), repr(lgd), repr(m), "" if s is None else repr(s),
                        repr(float(risk_weight(cls, pd, lgd, m, s)))])
    print(f"wrote {len(rows)} risk weights to {out}")


if __name__ == "__main__":
    main()
