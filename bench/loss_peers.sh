#!/usr/bin/env bash
# The LGD model of pipelines/loss_prediction.yaml (200,000 generated loans, release build) beside
# scikit-learn's HistGradientBoostingRegressor fitted on the same training matrix and scored on the
# same test rows, and beside the generator's true LGD (the ceiling); then the same on Lending
# Club's charged-off loans (bench/lending_club_lgd.yaml on ../shared/data). The LGD pipeline's loss
# book (PD from pipelines/loss_pd.yaml's bundle, run first) is copied to
# bench/results/loss_book.json. Writes bench/results/loss_peers.{json,md} and lending_club_lgd.json.
# Usage: bench/loss_peers.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
py="$("$repo/bench/setup_venv.sh" | tail -1)"
cargo build --quiet --release -p riskpipe-cli
bin="$repo/target/release/riskpipe"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(date +%s.%N)"; }
cp "$repo/pipelines/loss_pd.yaml" "$work/loss_pd.yaml"
start=$(date +%s.%N)
(cd "$work" && "$bin" run loss_pd.yaml --run-dir pd > /dev/null)
pd_secs=$(elapsed "$start")
sed "s|../runs/loss_pd/default/deploy/bundle|pd/deploy/bundle|" "$repo/pipelines/loss_prediction.yaml" > "$work/loss.yaml"
start=$(date +%s.%N)
(cd "$work" && "$bin" run loss.yaml --run-dir run > /dev/null)
secs=$(elapsed "$start")
eval_secs=$(python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['duration_secs']:.2f}\")" "$work/run/evaluate/manifest.json")
cp "$work/run/evaluate/portfolio.json" "$repo/bench/results/loss_book.json"
"$py" "$repo/bench/loss_peers.py" "$work/run" "$repo/bench/results/loss_peers.json"
cp "$repo/pipelines/ccf_prediction.yaml" "$work/ccf.yaml"
(cd "$work" && "$bin" run ccf.yaml --run-dir ccf > /dev/null)
"$py" "$repo/bench/loss_peers.py" "$work/ccf" "$repo/bench/results/ccf_peers.json"
data="${RISKPIPE_SHARED_DATA:-$repo/../shared/data}"
[ -d "$data/lending_club_2015_5000" ] || { echo "error: $data/lending_club_2015_5000 not found (set RISKPIPE_SHARED_DATA)" >&2; exit 2; }
sed "s|DATA/|$data/|" "$repo/bench/lending_club_lgd.yaml" > "$work/lc.yaml"
(cd "$work" && "$bin" run lc.yaml --run-dir lc > /dev/null)
"$py" "$repo/bench/loss_peers.py" "$work/lc" "$repo/bench/results/lending_club_lgd.json"
python3 - "$repo/bench/results/loss_peers.json" "$repo/bench/results/loss_peers.md" "$secs" "$repo/bench/results/lending_club_lgd.json" "$repo/bench/results/ccf_peers.json" "$repo/bench/results/loss_book.json" "$pd_secs" "$eval_secs" <<'PY'
import json, sys
src, md, secs, lc, ccf, book, pd_secs, eval_secs = sys.argv[1:]
d = json.load(open(src))
c = json.load(open(lc))
f = json.load(open(ccf))
r, s, t = d["riskpipe"], d["sklearn"], d["true_lgd"]
text = [f"`pipelines/loss_prediction.yaml`, release build, whole pipeline in {secs} s: {d['train_rows']:,} training and "
        f"{d['test_rows']:,} test rows (the defaulted loans of 200,000 generated), {d['features']} feature columns.",
        "Test-set metrics of the realised LGD; scikit-learn fitted on riskpipe's training matrix with its defaults.", "",
        "| model | R2 | RMSE | MAE |", "|---|---|---|---|",
        f"| riskpipe {r['model']} (selected by CV RMSE) | {r['r2']:.4f} | {r['rmse']:.4f} | {r['mae']:.4f} |",
        f"| scikit-learn HistGradientBoostingRegressor | {s['r2']:.4f} | {s['rmse']:.4f} | {s['mae']:.4f} |",
        f"| true LGD of the generator (ceiling) | {t['r2']:.4f} | {t['rmse']:.4f} | {t['mae']:.4f} |", "",
        f"riskpipe R2 minus the true model's: {r['r2'] - t['r2']:+.4f} (bar: within 0.02); minus scikit-learn's: "
        f"{r['r2'] - s['r2']:+.4f} (bar: at least -0.005). Every riskpipe model's test R2: "
        + ", ".join(f"{k} {v:.4f}" for k, v in sorted(d["riskpipe_models"].items())) + "."]
fr, fs, ft = f["riskpipe"], f["sklearn"], f["true_lgd"]
text += ["", f"CCF, `pipelines/ccf_prediction.yaml` (the same generated book): {f['train_rows']:,} training and "
         f"{f['test_rows']:,} test rows (the defaulted cards), {f['features']} feature columns; test metrics of the realised CCF.", "",
         "| model | R2 | RMSE | MAE |", "|---|---|---|---|",
         f"| riskpipe {fr['model']} (selected by CV RMSE) | {fr['r2']:.4f} | {fr['rmse']:.4f} | {fr['mae']:.4f} |",
         f"| scikit-learn HistGradientBoostingRegressor | {fs['r2']:.4f} | {fs['rmse']:.4f} | {fs['mae']:.4f} |",
         f"| true CCF of the generator (ceiling) | {ft['r2']:.4f} | {ft['rmse']:.4f} | {ft['mae']:.4f} |", "",
         "Every riskpipe model's test R2: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(f["riskpipe_models"].items())) + "."]
cr, cs = c["riskpipe"], c["sklearn"]
near_one = sum(c["target_histogram"][17:])
text += ["", f"Lending Club, `bench/lending_club_lgd.yaml`: {c['train_rows']} training and {c['test_rows']} test rows "
         f"(the charged-off loans of 5,000), {c['features']} feature columns; realised LGD on the test rows: mean "
         f"{c['mean_lgd_test']:.4f}, {100 * near_one:.1f} % of them at 0.85 or above; {c['clipped']} realised LGDs below 0 clipped to 0.", "",
         "| model | R2 | RMSE | MAE |", "|---|---|---|---|",
         f"| riskpipe {cr['model']} (selected by CV RMSE) | {cr['r2']:.4f} | {cr['rmse']:.4f} | {cr['mae']:.4f} |",
         f"| scikit-learn HistGradientBoostingRegressor | {cs['r2']:.4f} | {cs['rmse']:.4f} | {cs['mae']:.4f} |", "",
         "Every riskpipe model's test R2: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(c["riskpipe_models"].items())) + "."]
b = json.load(open(book))
tot, dist = b["total"], b["loss_distribution"]
money = lambda v: f"{v:,.0f}"
share = lambda v: f"{100 * v / tot['ead']:.3f} %"
text += ["", f"Loss book of `pipelines/loss_prediction.yaml` (release build): the {tot['loans']:,} loans of the book, "
         f"PD from the bundle of `pipelines/loss_pd.yaml` (its whole pipeline {pd_secs} s), LGD from the selected model; "
         f"the evaluate stage, LGD metrics, book and a {dist['scenarios']:,}-scenario loss distribution included, took {eval_secs} s.", "",
         "| measure | amount | share of EAD |", "|---|---|---|",
         f"| EAD | {money(tot['ead'])} | |",
         f"| 12-month EL | {money(tot['el'])} | {share(tot['el'])} |",
         f"| EL from the generator's true PD and LGD | {money(b['true_el'])} | {share(b['true_el'])} |",
         f"| IFRS 9 ECL | {money(tot['ecl'])} | {share(tot['ecl'])} |",
         f"| IRB RWA | {money(tot['rwa'])} | {share(tot['rwa'])} |",
         f"| simulated mean loss (s.e. {money(dist['mean_std_error'])}) | {money(dist['mean'])} | {share(dist['mean'])} |"]
for t in dist["tails"]:
    lv = f"{100 * t['level']:g} %"
    text += [f"| VaR {lv} (s.e. {money(t['var_std_error'])}) | {money(t['var'])} | {share(t['var'])} |",
             f"| ES {lv} (s.e. {money(t['es_std_error'])}) | {money(t['es'])} | {share(t['es'])} |"]
text += ["", "| IFRS 9 stage | loans | EAD | ECL | coverage |", "|---|---|---|---|---|"]
for k, g in sorted(b["by_stage"].items()):
    text.append(f"| {k} | {g['loans']:,} | {money(g['ead'])} | {money(g['ecl'])} | {100 * g['ecl'] / g['ead']:.2f} % |")
text += ["", "| IRB class | loans | EAD | RWA | RWA density |", "|---|---|---|---|---|"]
for k, g in sorted(b["by_class"].items()):
    text.append(f"| {k} | {g['loans']:,} | {money(g['ead'])} | {money(g['rwa'])} | {100 * g['rwa'] / g['ead']:.2f} % |")
open(md, "w").write("\n".join(text) + "\n")
print("\n".join(text))
PY
