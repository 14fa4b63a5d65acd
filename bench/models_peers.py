"""The Python peers of crates/models/examples/fit_bench.rs, on the same Parquet matrices.

Usage: models_peers.py RUN_DIR MODEL, MODEL one of boosting (LightGBM), forest, tree, logistic,
logistic_woe, mlp, mlp_10_epochs (scikit-learn). Prints one JSON line like fit_bench: fit seconds, prediction
rows per second and test AUC, with the same parameters as riskpipe's side.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

run, model = sys.argv[1], sys.argv[2]
t = json.load(open(f"{run}/features/transform.json"))
cols = t["woe_features" if model == "logistic_woe" else "raw_features"]
tr = pd.read_parquet(f"{run}/features/train.parquet")
te = pd.read_parquet(f"{run}/features/test.parquet")
y, yt = tr[t["target"]].to_numpy(), te[t["target"]].to_numpy()
x, xt = tr[cols].to_numpy(dtype=np.float64), te[cols].to_numpy(dtype=np.float64)

if model == "logistic":
    # As fit_bench: train mean and population standard deviation, missing values at the mean.
    mean = np.nanmean(x, axis=0)
    sd = np.nanstd(x, axis=0)
    sd[sd == 0] = 1.0
    x = np.nan_to_num((x - mean) / sd, nan=0.0)
    xt = np.nan_to_num((xt - mean) / sd, nan=0.0)

if model == "boosting":
    import lightgbm as lgb

    m = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=31, subsample=0.8, subsample_freq=1,
                           colsample_bytree=0.8, n_jobs=2, verbose=-1, random_state=42)
    tool = "lightgbm"
elif model == "forest":
    from sklearn.ensemble import RandomForestClassifier

    m = RandomForestClassifier(n_estimators=100, max_depth=8, n_jobs=2, random_state=42)
    tool = "scikit-learn"
elif model == "tree":
    from sklearn.tree import DecisionTreeClassifier

    m = DecisionTreeClassifier(max_depth=8, random_state=42)
    tool = "scikit-learn"
elif model in ("logistic", "logistic_woe"):
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(max_iter=1000)
    tool = "scikit-learn"
elif model in ("mlp", "mlp_10_epochs"):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if model == "mlp":
        # Early stopping on a 10% validation split, as riskpipe's default (scikit-learn judges
        # the epochs by validation accuracy, riskpipe by validation log loss).
        net = MLPClassifier(hidden_layer_sizes=(32, 16), alpha=1e-4, batch_size=256, learning_rate_init=1e-3,
                            max_iter=100, early_stopping=True, validation_fraction=0.1, n_iter_no_change=5,
                            random_state=42)
    else:
        # Ten epochs on every training row: the same work as riskpipe's mlp_10_epochs.
        net = MLPClassifier(hidden_layer_sizes=(32, 16), alpha=1e-4, batch_size=256, learning_rate_init=1e-3,
                            max_iter=10, early_stopping=False, n_iter_no_change=1000, tol=0.0, random_state=42)
    m = make_pipeline(StandardScaler(), net)
    tool = "scikit-learn"
else:
    sys.exit(f"unknown model {model}")

t0 = time.perf_counter()
m.fit(x, y)
fit = time.perf_counter() - t0
best = float("inf")
for _ in range(5 if model == "boosting" else 1):
    t0 = time.perf_counter()
    p = m.predict_proba(xt)[:, 1]
    best = min(best, time.perf_counter() - t0)
line = {"tool": tool, "model": model, "train_rows": len(y), "features": len(cols), "fit_secs": round(fit, 3),
        "predict_rows_per_sec": round(len(yt) / best), "test_auc": round(roc_auc_score(yt, p), 4)}
if model.startswith("mlp"):
    line["epochs"] = int(m[-1].n_iter_)
print(json.dumps(line))
