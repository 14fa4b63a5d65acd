"""PyOD beside riskpipe's anomaly detectors (crates/models/examples/detect_bench.rs).

Usage:
- anomaly_peers.py splits DATA_DIR OUT_DIR: for each ODDS table, the 10 random 60/40 splits of
  PyOD's benchmark protocol (numpy RandomState(k) permutations, k = 0..9), written as
  OUT_DIR/<table>.splits.json (lists of training-row indices) for both sides to use.
- anomaly_peers.py odds TABLE.csv SPLITS.json: PyOD's IForest, ECOD, HBOS, GMM, KNN, LOF and PCA
  on those splits
  (standardised on the training rows, fitted on them outliers included, ROC-AUC on the rest);
  one JSON line per split and detector, as detect_bench prints.
- anomaly_peers.py table ROWS COLS OUT.parquet: a generated numeric table for the speed runs.
- anomaly_peers.py speed TABLE.parquet DETECTOR: fit and score every row once, 2 jobs.
"""
import glob
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


DETECTORS = ["iforest", "ecod", "hbos", "gmm", "knn", "lof", "pca"]


def detector(name, seed=0):
    if name == "iforest":
        from pyod.models.iforest import IForest
        return IForest(n_estimators=100, max_samples=256, random_state=seed, n_jobs=2)
    if name == "ecod":
        from pyod.models.ecod import ECOD
        return ECOD(n_jobs=2)
    if name == "hbos":
        from pyod.models.hbos import HBOS
        return HBOS(n_bins=10, alpha=0.1, tol=0.5)
    if name == "gmm":
        from pyod.models.gmm import GMM
        return GMM(n_components=1, covariance_type="full", random_state=seed)
    if name == "knn":
        from pyod.models.knn import KNN
        return KNN(n_neighbors=5, method="largest", n_jobs=2)
    if name == "lof":
        from pyod.models.lof import LOF
        return LOF(n_neighbors=20, n_jobs=2)
    if name == "pca":
        from pyod.models.pca import PCA
        return PCA(random_state=seed)
    if name == "kmeans":
        return KMeansDistance(seed)
    raise SystemExit(f"unknown detector {name}")


class KMeansDistance:
    """scikit-learn's KMeans (k = 8, k-means++ seeds, one init) as a detector: the distance to
    the nearest centre."""

    def __init__(self, seed):
        from sklearn.cluster import KMeans
        self.m = KMeans(n_clusters=8, n_init=1, random_state=seed)

    def fit(self, x):
        self.m.fit(x)
        import sys
        print(json.dumps({"inertia": float(self.m.inertia_), "iterations": int(self.m.n_iter_)}), file=sys.stderr)
        return self

    def decision_function(self, x):
        return self.m.transform(x).min(axis=1)


def splits(data_dir, out_dir):
    for path in sorted(glob.glob(f"{data_dir}/*.csv")):
        n = len(pd.read_csv(path))
        cut = int(round(0.6 * n))
        lists = [sorted(np.random.RandomState(k).permutation(n)[:cut].tolist()) for k in range(10)]
        name = os.path.splitext(os.path.basename(path))[0]
        json.dump(lists, open(f"{out_dir}/{name}.splits.json", "w"))


def odds(table, split_file):
    df = pd.read_csv(table)
    y = df["y"].to_numpy()
    x = df.drop(columns=["y"]).to_numpy(dtype=np.float64)
    name = os.path.splitext(os.path.basename(table))[0]
    for k, train in enumerate(json.load(open(split_file))):
        is_train = np.zeros(len(y), dtype=bool)
        is_train[train] = True
        mean = x[is_train].mean(axis=0)
        sd = x[is_train].std(axis=0)
        sd[sd == 0] = 1.0
        z = (x - mean) / sd
        for d in DETECTORS:
            t0 = time.perf_counter()
            try:
                m = detector(d, seed=k)
                m.fit(z[is_train])
                s = m.decision_function(z[~is_train])
                auc = round(roc_auc_score(y[~is_train], s), 6)
                error = None
            except Exception as e:  # a detector that fails on a table is reported as failed
                auc, error = None, f"{type(e).__name__}: {e}"
            secs = time.perf_counter() - t0
            print(json.dumps({"tool": "pyod", "dataset": name, "split": k, "detector": d, "auc": auc,
                              "secs": round(secs, 4), "error": error}))


def table(rows, cols, out):
    # Inliers from a correlated Gaussian, 1 % of rows shifted far out in a few columns.
    rng = np.random.RandomState(7)
    a = rng.normal(size=(cols, cols)) / np.sqrt(cols)
    x = rng.normal(size=(rows, cols)) @ a
    out_rows = rng.rand(rows) < 0.01
    x[out_rows, : max(1, cols // 10)] += 6.0
    pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(cols)]).to_parquet(out, index=False)


def speed(path, name):
    x = pd.read_parquet(path).to_numpy(dtype=np.float64)
    t0 = time.perf_counter()
    m = detector(name)
    m.fit(x)
    s = m.decision_function(x)
    secs = time.perf_counter() - t0
    print(json.dumps({"tool": "pyod", "detector": name, "rows": x.shape[0], "features": x.shape[1],
                      "fit_score_secs": round(secs, 3), "mean_score": float(np.mean(s))}))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "splits":
        splits(sys.argv[2], sys.argv[3])
    elif cmd == "odds":
        odds(sys.argv[2], sys.argv[3])
    elif cmd == "table":
        table(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif cmd == "speed":
        speed(sys.argv[2], sys.argv[3])
