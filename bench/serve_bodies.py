"""Request bodies and peer models for bench/serve_peers.sh.

argv: riskpipe bundle metadata (scorecard), the same for the boosting bundle, the generated
scoring rows (Parquet), the generated training rows (Parquet), the work folder.

Writes to the work folder:
  - rp_<model>_1.json / rp_<model>_1000.json: V2 bodies of 1 and 1,000 complete rows for each
    riskpipe bundle, one tensor per input column as its metadata says;
  - bad_json.txt, bad_missing.json, bad_type.json: malformed requests for the soak;
  - mlserver/: an MLServer model repository with the equivalent peers fitted on the same
    training rows: `logistic` (scikit-learn: median imputation, scaling, one-hot, logistic
    regression, `predict_proba` asked for) and `lightgbm` (300 trees, 31 leaves, learning rate
    0.05), and ml_<model>_1.json / ml_<model>_1000.json, their V2 bodies of the same rows.
"""
import json
import sys
from pathlib import Path

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

meta_sc, meta_gb, rows_path, train_path, work = sys.argv[1:]
work = Path(work)
rows = pd.read_parquet(rows_path)
train = pd.read_parquet(train_path)


def complete(meta):
    names = [i["name"] for i in meta["inputs"]]
    return rows.dropna(subset=names).reset_index(drop=True)


def cell(v, datatype):
    if datatype == "FP64":
        return float(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10]
    return str(v)


def v2_body(meta, frame):
    return {"inputs": [
        {"name": i["name"], "datatype": i["datatype"], "shape": [len(frame)],
         "data": [cell(v, i["datatype"]) for v in frame[i["name"]]]}
        for i in meta["inputs"]
    ]}


for name, meta_path in [("scorecard", meta_sc), ("boosting", meta_gb)]:
    meta = json.load(open(meta_path))
    ok = complete(meta)
    for n in (1, 1000):
        (work / f"rp_{name}_{n}.json").write_text(json.dumps(v2_body(meta, ok.iloc[:n])))
    if name == "scorecard":
        body = v2_body(meta, ok.iloc[:1])
        (work / "bad_json.txt").write_text(json.dumps(body)[:-7])
        missing = {"inputs": body["inputs"][1:]}
        (work / "bad_missing.json").write_text(json.dumps(missing))
        wrong = json.loads(json.dumps(body))
        for t in wrong["inputs"]:
            if t["datatype"] == "FP64":
                t["data"] = ["lots"]
                break
        (work / "bad_type.json").write_text(json.dumps(wrong))

# The peers: the same raw columns the riskpipe bundles read (dates out), fitted on the training rows.
meta = json.load(open(meta_sc))
numeric = [i["name"] for i in meta["inputs"] if i["datatype"] == "FP64"]
text = [i["name"] for i in meta["inputs"] if i["datatype"] == "BYTES" and i["name"] not in ("id", "date_of_birth")]
y = train["default_flag"].astype(int).to_numpy()
logistic = Pipeline([
    ("prep", ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), list(range(len(numeric)))),
        ("cat", OneHotEncoder(handle_unknown="ignore"), list(range(len(numeric), len(numeric) + len(text)))),
    ])),
    ("model", LogisticRegression(max_iter=1000)),
])
codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
codes.fit(train[text].astype(str))


def matrix(frame):
    return np.column_stack([frame[numeric].to_numpy(dtype=float), codes.transform(frame[text].astype(str))])


x_train = matrix(train)
logistic.fit(x_train, y)
booster = lgb.train(
    {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "verbose": -1, "num_threads": 2, "seed": 7},
    lgb.Dataset(x_train, label=y), num_boost_round=300)
repo = work / "mlserver"
for name, impl, uri in [("logistic", "mlserver_sklearn.SKLearnModel", "model.joblib"),
                        ("lightgbm", "mlserver_lightgbm.LightGBMModel", "model.bst")]:
    d = repo / name
    d.mkdir(parents=True, exist_ok=True)
    if name == "logistic":
        joblib.dump(logistic, d / uri)
    else:
        booster.save_model(str(d / uri))
    (d / "model-settings.json").write_text(json.dumps(
        {"name": name, "implementation": impl, "parameters": {"uri": f"./{uri}", "version": "v1"}}))
ok = complete(meta)
x = matrix(ok.iloc[:1000])
for name in ("logistic", "lightgbm"):
    for n in (1, 1000):
        body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [n, x.shape[1]], "data": x[:n].ravel().tolist()}]}
        if name == "logistic":
            body["outputs"] = [{"name": "predict_proba"}]
        (work / f"ml_{name}_{n}.json").write_text(json.dumps(body))
print(f"bodies and peers written to {work}")
