"""The fraud handbook's feature code and baseline, re-implemented from its published definitions,
run beside riskpipe on the same transactions (bench/fraud_peers.sh drives it).

  fraud_peers.py features IN.csv.gz OUT.parquet   pandas window features, timed (JSON on stdout)
  fraud_peers.py baseline FEATURES.parquet        depth-2 tree on the handbook's baseline week
  fraud_peers.py compare A.parquet B.parquet      largest difference per feature column
  fraud_peers.py compare-matrix PANDAS.parquet M.parquet...   riskpipe's matrices against pandas

Definitions (the handbook, chapter 3): per customer, count and mean amount over the last 1, 7 and
30 days, current transaction included; per terminal, count and fraud share over the same windows
shifted back by a 7-day delay (empty window = 0); weekend (Saturday, Sunday) and night (hour <= 6)
flags. Baseline (chapter 3): train 2018-07-25 + 7 days, delay 7 days, test 7 days, cards known
compromised removed from each test day, standard scaling, sklearn's depth-2 tree, random_state 0.
"""

import datetime
import json
import sys
import time

import numpy as np
import pandas as pd

WINDOWS = [1, 7, 30]
DELAY = 7
FEATURES = [
    "TX_AMOUNT", "TX_DURING_WEEKEND", "TX_DURING_NIGHT",
    "CUSTOMER_ID_NB_TX_1DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW",
    "CUSTOMER_ID_NB_TX_7DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW",
    "CUSTOMER_ID_NB_TX_30DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW",
    "TERMINAL_ID_NB_TX_1DAY_WINDOW", "TERMINAL_ID_RISK_1DAY_WINDOW",
    "TERMINAL_ID_NB_TX_7DAY_WINDOW", "TERMINAL_ID_RISK_7DAY_WINDOW",
    "TERMINAL_ID_NB_TX_30DAY_WINDOW", "TERMINAL_ID_RISK_30DAY_WINDOW",
]


def customer_windows(tx):
    tx = tx.sort_values("TX_DATETIME")
    tx.index = tx.TX_DATETIME
    for w in WINDOWS:
        total = tx["TX_AMOUNT"].rolling(f"{w}D").sum()
        count = tx["TX_AMOUNT"].rolling(f"{w}D").count()
        tx[f"CUSTOMER_ID_NB_TX_{w}DAY_WINDOW"] = list(count)
        tx[f"CUSTOMER_ID_AVG_AMOUNT_{w}DAY_WINDOW"] = list(total / count)
    tx.index = tx.TRANSACTION_ID
    return tx


def terminal_windows(tx):
    tx = tx.sort_values("TX_DATETIME")
    tx.index = tx.TX_DATETIME
    fraud_delay = tx["TX_FRAUD"].rolling(f"{DELAY}D").sum()
    count_delay = tx["TX_FRAUD"].rolling(f"{DELAY}D").count()
    for w in WINDOWS:
        fraud = tx["TX_FRAUD"].rolling(f"{DELAY + w}D").sum() - fraud_delay
        count = tx["TX_FRAUD"].rolling(f"{DELAY + w}D").count() - count_delay
        tx[f"TERMINAL_ID_NB_TX_{w}DAY_WINDOW"] = list(count)
        tx[f"TERMINAL_ID_RISK_{w}DAY_WINDOW"] = list(fraud / count)
    tx.index = tx.TRANSACTION_ID
    tx = tx.fillna(0)
    return tx


def features(src, out):
    t0 = time.perf_counter()
    df = pd.read_csv(src, parse_dates=["TX_DATETIME"])
    t_read = time.perf_counter() - t0
    t1 = time.perf_counter()
    df["TX_DURING_WEEKEND"] = (df.TX_DATETIME.dt.weekday >= 5).astype(int)
    df["TX_DURING_NIGHT"] = (df.TX_DATETIME.dt.hour <= 6).astype(int)
    df = df.groupby("CUSTOMER_ID", group_keys=False)[list(df.columns)].apply(customer_windows)
    df = df.sort_values("TX_DATETIME").reset_index(drop=True)
    df = df.groupby("TERMINAL_ID", group_keys=False)[list(df.columns)].apply(terminal_windows)
    df = df.sort_values("TX_DATETIME").reset_index(drop=True)
    t_features = time.perf_counter() - t1
    df.to_parquet(out, index=False)
    print(json.dumps({"rows": len(df), "read_secs": t_read, "features_secs": t_features}))


def train_test(df, start, train=7, delay=7, test=7):
    train_df = df[(df.TX_DATETIME >= start) & (df.TX_DATETIME < start + datetime.timedelta(days=train))]
    known = set(train_df[train_df.TX_FRAUD == 1].CUSTOMER_ID)
    first = train_df.TX_TIME_DAYS.min()
    parts = []
    for day in range(test):
        part = df[df.TX_TIME_DAYS == first + train + delay + day]
        before = df[df.TX_TIME_DAYS == first + train + day - 1]
        known |= set(before[before.TX_FRAUD == 1].CUSTOMER_ID)
        parts.append(part[~part.CUSTOMER_ID.isin(known)])
    return train_df.sort_values("TRANSACTION_ID"), pd.concat(parts).sort_values("TRANSACTION_ID")


def card_precision(pred, k=100, kind="quicksort"):
    detected, daily = [], []
    for day in sorted(pred.TX_TIME_DAYS.unique()):
        d = pred[pred.TX_TIME_DAYS == day][["predictions", "CUSTOMER_ID", "TX_FRAUD"]]
        d = d[~d.CUSTOMER_ID.isin(detected)]
        d = d.groupby("CUSTOMER_ID").max().sort_values(by="predictions", ascending=False, kind=kind).reset_index()
        top = d.head(k)
        found = list(top[top.TX_FRAUD == 1].CUSTOMER_ID)
        daily.append(len(found) / k)
        detected.extend(found)
    return float(np.mean(daily))


def baseline(path):
    from sklearn import metrics, preprocessing, tree

    df = pd.read_parquet(path)
    df["TX_DATETIME"] = pd.to_datetime(df.TX_DATETIME)
    train_df, test_df = train_test(df, datetime.datetime(2018, 7, 25))
    train_df, test_df = train_df.copy(), test_df.copy()
    scaler = preprocessing.StandardScaler().fit(train_df[FEATURES])
    train_df[FEATURES] = scaler.transform(train_df[FEATURES])
    test_df[FEATURES] = scaler.transform(test_df[FEATURES])
    clf = tree.DecisionTreeClassifier(max_depth=2, random_state=0).fit(train_df[FEATURES], train_df.TX_FRAUD)
    test_df["predictions"] = clf.predict_proba(test_df[FEATURES])[:, 1]
    out = {
        "train_rows": len(train_df),
        "test_rows": len(test_df),
        "auc": metrics.roc_auc_score(test_df.TX_FRAUD, test_df.predictions),
        "ap": metrics.average_precision_score(test_df.TX_FRAUD, test_df.predictions),
        "cp100": card_precision(test_df),
        "cp100_stable": card_precision(test_df, kind="stable"),
        "tree": tree.export_text(clf, feature_names=FEATURES),
    }
    print(json.dumps(out))


def compare_matrix(pandas_path, train_path, test_path):
    """riskpipe's train/test matrices (rows by TRANSACTION_ID) against pandas' features, each
    differing row put down to its cause: a card with two transactions in one second (pandas
    counts the rows up to the current one in file order, riskpipe all of that second), or a test
    value outside the training rows' range, which the transform caps (`cap_upper: 1` is the
    training maximum)."""
    p = pd.read_parquet(pandas_path)
    same_second = set(p[p.groupby(["CUSTOMER_ID", "TX_DATETIME"]).TRANSACTION_ID.transform("size") > 1].TRANSACTION_ID)
    p = p.set_index("TRANSACTION_ID")
    train = pd.read_parquet(train_path).set_index("row")
    out = {"rows": 0, "rows_differing": 0, "same_second": 0, "capped": 0, "other": 0, "max_abs_diff": 0.0}
    for r in [train, pd.read_parquet(test_path).set_index("row")]:
        q = p.loc[r.index]
        diff = np.zeros(len(r), dtype=bool)
        capped = np.zeros(len(r), dtype=bool)
        for c in FEATURES:
            a, b = r[c].to_numpy(float), q[c].to_numpy(float)
            d = np.abs(a - b) > 1e-9
            diff |= d
            lo, hi = train[c].min(), train[c].max()
            capped |= d & (((a == hi) & (b > hi)) | ((a == lo) & (b < lo)))
            out["max_abs_diff"] = max(out["max_abs_diff"], float(np.nanmax(np.abs(a - b))))
        ids = r.index.to_numpy()
        dup = np.array([i in same_second for i in ids])
        out["rows"] += len(r)
        out["rows_differing"] += int(diff.sum())
        out["same_second"] += int((diff & dup).sum())
        out["capped"] += int((diff & ~dup & capped).sum())
        out["other"] += int((diff & ~dup & ~capped).sum())
    print(json.dumps(out))


def compare(a, b):
    x, y = pd.read_parquet(a), pd.read_parquet(b)
    x = x.sort_values("TRANSACTION_ID").reset_index(drop=True)
    y = y.sort_values("TRANSACTION_ID").reset_index(drop=True)
    worst = {}
    for c in FEATURES:
        worst[c] = float(np.nanmax(np.abs(x[c].to_numpy(float) - y[c].to_numpy(float))))
    print(json.dumps(worst))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "features":
        features(sys.argv[2], sys.argv[3])
    elif cmd == "baseline":
        baseline(sys.argv[2])
    elif cmd == "compare-matrix":
        compare_matrix(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {cmd}")
