"""Side-by-side: riskpipe's logistic WoE model against the Python peers on riskpipe's own split.

For each credit dataset, riskpipe has already run (bench/credit_peers.sh) and written
`features/split.parquet` (row id + train/test) and `evaluate/metrics.json`. This script refits
the peers on exactly the same training rows and scores the same test rows:
  - scikit-learn LogisticRegression (median imputation, scaling, one-hot),
  - optbinning BinningProcess (defaults, text columns categorical) + LogisticRegression,
  - LightGBM (300 trees, learning rate 0.05, 31 leaves, subsample 0.8, colsample 0.8, 2 threads).
It prints a Markdown table and writes it, with a JSON copy, to bench/results/.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def load(spec, data_dir):
    df = pd.read_csv(data_dir / spec["file"], na_values=spec.get("na", []), keep_default_na=True)
    df.columns = [c if c and not c.startswith("Unnamed: 0") else "unnamed_0" for c in df.columns]
    y_raw = df.pop(spec["target"])
    if "positive" in spec:
        y = (y_raw.astype(str) == spec["positive"]).astype(int).to_numpy()
    else:
        y = y_raw.astype(int).to_numpy()
    if spec.get("id"):
        key = df[spec["id"]].astype(str).to_numpy()
        df = df.drop(columns=[spec["id"]])
    else:
        key = np.arange(len(df)).astype(str)
    return df, y, key


def split_mask(run_dir, key):
    s = pd.read_parquet(run_dir / "features" / "split.parquet")
    rows = s["row"]
    if rows.dtype.kind == "f":
        rows = rows.astype(np.int64)
    m = dict(zip(rows.astype(str), s["split"]))
    return np.array([m[k] == "test" for k in key])


def sklearn_lr(Xtr, ytr, Xte):
    cat = [c for c in Xtr.columns if not pd.api.types.is_numeric_dtype(Xtr[c])]
    num = [c for c in Xtr.columns if c not in cat]
    pre = ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())]), num),
        ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")), ("oh", OneHotEncoder(handle_unknown="ignore"))]), cat),
    ])
    m = Pipeline([("pre", pre), ("lr", LogisticRegression(max_iter=2000))])
    m.fit(Xtr, ytr)
    return m.predict_proba(Xte)[:, 1]


def optbinning_lr(Xtr, ytr, Xte):
    from optbinning import BinningProcess
    cat = [c for c in Xtr.columns if not pd.api.types.is_numeric_dtype(Xtr[c])]
    bp = BinningProcess(variable_names=list(Xtr.columns), categorical_variables=cat, n_jobs=2)
    bp.fit(Xtr, ytr)
    lr = LogisticRegression(max_iter=2000)
    lr.fit(bp.transform(Xtr, metric="woe"), ytr)
    return lr.predict_proba(bp.transform(Xte, metric="woe"))[:, 1]


def riskpipe_iv(run_dir):
    """IV per feature of riskpipe's binning, without smoothing (as optbinning reports it)."""
    t = json.loads((run_dir / "features" / "transform.json").read_text())
    out = {}
    for f in t["features"]:
        b = f["binning"]
        bins = b["bins"] + ([b["missing"]] if b.get("missing") else []) + [s["bin"] for s in b.get("specials", []) if s.get("bin")]
        te = sum(x["events"] for x in bins)
        tn = sum(x["count"] - x["events"] for x in bins)
        iv = 0.0
        for x in bins:
            e, n = x["events"], x["count"] - x["events"]
            if e > 0 and n > 0:
                g, d = n / tn, e / te
                iv += (g - d) * np.log(g / d)
        out[f["name"]] = iv
    return out


def optbinning_iv(Xtr, ytr, names, missing, trend):
    """IV per feature of optbinning's OptimalBinning under riskpipe's default constraints: at
    most 10 bins, 5% smallest bin, the event-rate `trend`, categories under 5% pooled."""
    from optbinning import OptimalBinning
    out = {}
    for c in names:
        x = Xtr[c]
        if pd.api.types.is_numeric_dtype(x):
            x = x.where(~x.isin(missing)) if missing else x
            ob = OptimalBinning(name=c, dtype="numerical", max_n_bins=10, min_bin_size=0.05, monotonic_trend=trend)
        else:
            ob = OptimalBinning(name=c, dtype="categorical", max_n_bins=10, min_bin_size=0.05, cat_cutoff=0.05)
        ob.fit(x.to_numpy(), ytr)
        out[c] = float(ob.binning_table.build().loc["Totals", "IV"])
    return out


def lightgbm(Xtr, ytr, Xte):
    import lightgbm as lgb
    Xtr = Xtr.copy()
    Xte = Xte.copy()
    for c in Xtr.columns:
        if not pd.api.types.is_numeric_dtype(Xtr[c]):
            cats = pd.CategoricalDtype(sorted(Xtr[c].dropna().unique()))
            Xtr[c] = Xtr[c].astype(cats)
            Xte[c] = Xte[c].astype(cats)
    m = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=31, subsample=0.8,
                           subsample_freq=1, colsample_bytree=0.8, n_jobs=2, verbose=-1, random_state=42)
    m.fit(Xtr, ytr)
    return m.predict_proba(Xte)[:, 1]


def main():
    data_dir = Path(sys.argv[1])
    runs = Path(sys.argv[2])
    specs = json.loads(Path(sys.argv[3]).read_text())
    out_dir = Path(sys.argv[4])
    rows = []
    for spec in specs:
        run_dir = runs / spec["name"]
        df, y, key = load(spec, data_dir)
        test = split_mask(run_dir, key)
        Xtr, Xte, ytr, yte = df[~test], df[test], y[~test], y[test]
        res = {"dataset": spec["name"], "train_rows": int((~test).sum()), "test_rows": int(test.sum())}
        for name, f in [("sklearn_lr", sklearn_lr), ("optbinning_lr", optbinning_lr), ("lightgbm", lightgbm)]:
            t0 = time.perf_counter()
            p = f(Xtr, ytr, Xte)
            res[name] = round(float(roc_auc_score(yte, p)), 4)
            res[name + "_secs"] = round(time.perf_counter() - t0, 2)
        metrics = json.loads((run_dir / "evaluate" / "metrics.json").read_text())
        res["riskpipe_woe_lr"] = round(metrics["models"]["logistic"]["test"]["auc"], 4)
        if "tree" in metrics["models"]:
            res["riskpipe_tree"] = round(metrics["models"]["tree"]["test"]["auc"], 4)
        if "boosting" in metrics["models"]:
            res["riskpipe_boosting"] = round(metrics["models"]["boosting"]["test"]["auc"], 4)
        res["riskpipe_secs"] = spec.get("riskpipe_secs")
        res["floor"] = round(max(res["sklearn_lr"], res["optbinning_lr"]) - 0.02, 4)
        missing = [float(v) for v in spec.get("missing", [])]
        res["iv"], res["iv_below"] = {}, {}
        for trend in ["auto_asc_desc", "peak", "valley"]:
            ours = riskpipe_iv(runs / f"{spec['name']}_{trend}")
            theirs = optbinning_iv(Xtr, ytr, list(ours), missing, trend)
            res["iv"][trend] = {k: [round(ours[k], 6), round(theirs[k], 6)] for k in ours}
            res["iv_below"][trend] = sorted(k for k in ours if ours[k] < theirs[k] - 1e-6)
        rows.append(res)
        print(json.dumps(res), flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "credit_peers.json").write_text(json.dumps(rows, indent=2) + "\n")
    iv_lines = ["", "IV per feature of the training rows' binning under the same constraints (at most 10 bins, 5% smallest bin, the trend named), riskpipe against optbinning:", "",
                "| dataset | trend | features | riskpipe IV >= optbinning IV | below (riskpipe, optbinning) |", "|---|---|---|---|---|"]
    for r in rows:
        for trend, iv in r["iv"].items():
            below = ", ".join(f"{k} ({iv[k][0]:.4f}, {iv[k][1]:.4f})" for k in r["iv_below"][trend]) or "none"
            iv_lines.append(f"| {r['dataset']} | {trend} | {len(iv)} | {len(iv) - len(r['iv_below'][trend])} | {below} |")
    lines = ["| dataset | train/test rows | riskpipe WoE+LR | riskpipe tree | riskpipe boosting | sklearn LR | optbinning+LR | LightGBM | floor |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['train_rows']}/{r['test_rows']} | {r['riskpipe_woe_lr']:.4f} | {r.get('riskpipe_tree', float('nan')):.4f} | {r.get('riskpipe_boosting', float('nan')):.4f} | "
                     f"{r['sklearn_lr']:.4f} | {r['optbinning_lr']:.4f} | {r['lightgbm']:.4f} | {r['floor']:.4f} |")
    lines += iv_lines
    (out_dir / "credit_peers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
