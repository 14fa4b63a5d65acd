"""optbinning's side of bench/binning_peers.sh: BinningProcess + LogisticRegression on the same
Parquet book and the same train rows (the first TRAIN_SHARE), with the same constraints as
riskpipe's defaults (at most 10 bins, 5% smallest bin, `auto` trend, -999 special, IV >= 0.02).
Prints one JSON line."""
import json, sys, time

import pandas as pd
from optbinning import BinningProcess
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

SKIP = {"id", "name", "national_id", "email", "phone", "postcode", "application_date", "date_of_birth"}

path, target, share = sys.argv[1], sys.argv[2], float(sys.argv[3])
t_read = time.perf_counter()
df = pd.read_parquet(path)
read_secs = time.perf_counter() - t_read
cols = [c for c in df.columns if c not in SKIP and c != target]
cat = [c for c in cols if df[c].dtype == object]
cut = int(len(df) * share)
tr, te = df.iloc[:cut], df.iloc[cut:]
params = {c: {"max_n_bins": 10, "min_bin_size": 0.05} for c in cols}
t0 = time.perf_counter()
bp = BinningProcess(variable_names=cols, categorical_variables=cat, special_codes=[-999],
                    binning_fit_params=params, selection_criteria={"iv": {"min": 0.02}}, n_jobs=2)
xtr = bp.fit_transform(tr[cols], tr[target].values, metric="woe")
t_bin = time.perf_counter() - t0
lr = LogisticRegression(max_iter=1000).fit(xtr, tr[target].values)
fit_secs = time.perf_counter() - t0
p = lr.predict_proba(bp.transform(te[cols], metric="woe"))[:, 1]
summary = bp.summary()
iv = {r["name"]: round(float(r["iv"]), 6) for _, r in summary.iterrows()}
print(json.dumps({"tool": "optbinning", "train_rows": cut, "features": len(cols),
                  "kept": int(summary["selected"].sum()), "read_secs": round(read_secs, 3),
                  "binning_secs": round(t_bin, 3), "fit_secs": round(fit_secs, 3),
                  "test_auc": round(roc_auc_score(te[target].values, p), 4), "iv": iv}))
