#!/usr/bin/env bash
# Side by side on the same matrices: riskpipe's random forest, boosting, tree, logistic
# regression and MLP against scikit-learn's and LightGBM (2 cores). Usage: bench/models_peers.sh [ROWS] (default 200000).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rows="${1:-200000}"
py="$("$repo/bench/setup_venv.sh" | tail -1)"
cargo build --quiet --release -p riskpipe-cli
cargo build --quiet --release -p riskpipe-models --example fit_bench
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export RISKPIPE_MASK_KEY="${RISKPIPE_MASK_KEY:-riskpipe-demo-key-not-secret}"
sed "s/^  rows: .*/  rows: $rows/" "$repo/pipelines/credit_scoring.yaml" > "$work/p.yaml"
"$repo/target/release/riskpipe" -q run "$work/p.yaml" --run-dir "$work/run" --stage ingest
for s in privacy features; do "$repo/target/release/riskpipe" -q run "$work/p.yaml" --run-dir "$work/run" --stage "$s"; done
"$repo/target/release/examples/fit_bench" "$work/run" forest 20 8 1
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
# Boosting and LightGBM each in a process of its own, back to back: fit seconds, prediction
# rows per second and peak memory (the process reads the same Parquet matrices).
/usr/bin/time -f "%M" -o "$work/rss_rp" "$repo/target/release/examples/fit_bench" "$work/run" boosting 300
echo "{\"model\": \"boosting\", \"peak_rss_mib\": $(( $(tail -1 "$work/rss_rp") / 1024 ))}"
cat > "$work/lgb.py" <<'PY'
import json, sys, time
import pandas as pd, lightgbm as lgb
from sklearn.metrics import roc_auc_score
run = sys.argv[1]
t = json.load(open(f"{run}/features/transform.json"))
tr = pd.read_parquet(f"{run}/features/train.parquet"); te = pd.read_parquet(f"{run}/features/test.parquet")
cols = t["raw_features"]
m = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=31, subsample=0.8, subsample_freq=1,
                       colsample_bytree=0.8, n_jobs=2, verbose=-1, random_state=42)
t0 = time.perf_counter(); m.fit(tr[cols], tr[t["target"]]); fit = time.perf_counter() - t0
x = te[cols]
t0 = time.perf_counter(); p = m.predict_proba(x)[:, 1]; pred = time.perf_counter() - t0
print(json.dumps({"model": "lightgbm_alone", "fit_secs": round(fit, 3), "predict_rows_per_sec": round(len(x) / pred),
                  "test_auc": round(roc_auc_score(te[t["target"]], p), 4)}))
PY
/usr/bin/time -f "%M" -o "$work/rss_lgb" "$py" "$work/lgb.py" "$work/run"
echo "{\"model\": \"lightgbm_alone\", \"peak_rss_mib\": $(( $(tail -1 "$work/rss_lgb") / 1024 ))}"
"$repo/target/release/examples/fit_bench" "$work/run" tree 1 8 1
"$repo/target/release/examples/fit_bench" "$work/run" logistic
"$repo/target/release/examples/fit_bench" "$work/run" mlp
"$py" - "$work/run" <<'PY'
import json, sys, time
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
import lightgbm as lgb
run = sys.argv[1]
t = json.load(open(f"{run}/features/transform.json"))
tr = pd.read_parquet(f"{run}/features/train.parquet"); te = pd.read_parquet(f"{run}/features/test.parquet")
y, yt = tr[t["target"]], te[t["target"]]
for name, cols, m in [
    ("sklearn_forest", t["raw_features"], RandomForestClassifier(n_estimators=20, max_depth=8, n_jobs=2, random_state=42)),
    ("lightgbm", t["raw_features"], lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=31, subsample=0.8, subsample_freq=1, colsample_bytree=0.8, n_jobs=2, verbose=-1, random_state=42)),
    ("sklearn_tree", t["raw_features"], DecisionTreeClassifier(max_depth=8, random_state=42)),
    ("sklearn_logistic", t["woe_features"], LogisticRegression(max_iter=1000)),
    ("sklearn_mlp", t["raw_features"], make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32, 16), alpha=1e-4, batch_size=256, learning_rate_init=1e-3, max_iter=100, early_stopping=True, validation_fraction=0.1, n_iter_no_change=5, random_state=42))),
]:
    t0 = time.perf_counter(); m.fit(tr[cols], y); p = m.predict_proba(te[cols])[:, 1]
    print(json.dumps({"model": name, "train_rows": len(tr), "fit_predict_secs": round(time.perf_counter() - t0, 3), "test_auc": round(roc_auc_score(yt, p), 4)}))
PY
