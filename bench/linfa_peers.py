"""scikit-learn's KMeans, GaussianMixture and DBSCAN on the table riskpipe and linfa-clustering
read (bench/linfa_peers.sh); one JSON line, as bench/linfa_clustering prints.

Usage: linfa_peers.py kmeans|gmm TABLE K | dbscan TABLE EPS MIN_SAMPLES
"""
import json
import sys
import time

import numpy as np
import pandas as pd


def main():
    what, table = sys.argv[1], sys.argv[2]
    x = pd.read_parquet(table).to_numpy(dtype=np.float64)
    out = {"tool": "scikit-learn", "algorithm": what, "rows": x.shape[0], "features": x.shape[1]}
    t0 = time.perf_counter()
    if what == "kmeans":
        from sklearn.cluster import KMeans
        m = KMeans(n_clusters=int(sys.argv[3]), n_init=1, max_iter=100, random_state=0).fit(x)
        out["secs"] = round(time.perf_counter() - t0, 3)
        out["inertia"] = float(m.inertia_)
    elif what == "gmm":
        from sklearn.mixture import GaussianMixture
        m = GaussianMixture(n_components=int(sys.argv[3]), covariance_type="full", max_iter=100, tol=1e-3,
                            n_init=1, random_state=0).fit(x)
        out["secs"] = round(time.perf_counter() - t0, 3)
        out["log_likelihood"] = float(m.score(x))
    elif what == "dbscan":
        from sklearn.cluster import DBSCAN
        labels = DBSCAN(eps=float(sys.argv[3]), min_samples=int(sys.argv[4]), n_jobs=2).fit(x).labels_
        out["secs"] = round(time.perf_counter() - t0, 3)
        out["clusters"] = int(labels.max() + 1)
        out["noise"] = int((labels == -1).sum())
    else:
        raise SystemExit(f"unknown algorithm {what}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
