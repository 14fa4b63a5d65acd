"""scikit-learn's HistGradientBoostingRegressor on the LGD model's own split, beside riskpipe's
selected regressor and the generator's true LGD, for bench/loss_peers.sh.

Usage: loss_peers.py RUN_DIR OUT_JSON
RUN_DIR is a run of a loss_prediction pipeline: its features/train.parquet and test.parquet
(the encoded raw features riskpipe's models read, and the realised LGD) are the peer's data, so
both sides fit the same rows and columns. The true LGD is reported when the run has one.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

run, out = sys.argv[1:]
transform = json.load(open(f"{run}/features/transform.json"))
metrics = json.load(open(f"{run}/evaluate/metrics.json"))
target, features = transform["target"], transform["raw_features"]
train = pd.read_parquet(f"{run}/features/train.parquet")
test = pd.read_parquet(f"{run}/features/test.parquet")
t0 = time.perf_counter()
model = HistGradientBoostingRegressor(random_state=0).fit(train[features], train[target])
p = model.predict(test[features])
secs = time.perf_counter() - t0
y = test[target].to_numpy()
sel = metrics["selected_model"]
result = {
    "train_rows": len(train), "test_rows": len(test), "features": len(features),
    "sklearn": {"model": "HistGradientBoostingRegressor", "r2": r2_score(y, p),
                "rmse": float(np.sqrt(mean_squared_error(y, p))), "mae": mean_absolute_error(y, p), "fit_predict_secs": secs},
    "riskpipe": {"model": sel, **{k: metrics["models"][sel]["test"][k] for k in ["r2", "rmse", "mae", "accuracy_ratio"]}},
    "riskpipe_models": {k: v["test"]["r2"] for k, v in metrics["models"].items()},
    "true_lgd": ({k: metrics["oracle"]["test"][k] for k in ["r2", "rmse", "mae", "accuracy_ratio"]}
                 if metrics.get("oracle") else None),
    "target_histogram": metrics["target_histogram"],
    "clipped": json.load(open(f"{run}/ingest/quality.json"))["target_summary"]["clipped"],
    "mean_lgd_test": float(y.mean()),
}
json.dump(result, open(out, "w"), indent=1, sort_keys=True)
