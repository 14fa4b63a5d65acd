# riskpipe: `make pipeline` runs the credit-scoring pipeline on generated data; `make test` runs
# every test. `make help` lists the targets.

CARGO ?= cargo
# The masking key for the demo pipeline's `hash` actions. Production runs set their own secret.
RISKPIPE_MASK_KEY ?= riskpipe-demo-key-not-secret
export RISKPIPE_MASK_KEY

.PHONY: help build pipeline test test-deps lint fmt bench bench-scale doc clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

build: ## build the riskpipe binary (dev profile; numeric crates optimised)
	$(CARGO) build --workspace --bins

# The pipeline `make pipeline` runs: any file of pipelines/ by name (P=anomaly_detection).
P ?= credit_scoring

# Pipelines that read another's bundle run it first: loss_prediction's `loss.pd_bundle` is the
# bundle of loss_pd (a stage whose inputs are unchanged is skipped, so the rerun is cheap).
NEEDS_loss_prediction = loss_pd

pipeline: build ## run pipelines/$(P).yaml on generated data (default P=credit_scoring)
	@for p in $(NEEDS_$(P)) $(P); do $(CARGO) run --quiet --bin riskpipe -- run pipelines/$$p.yaml || exit $$?; done

test-deps: ## install what the tests use beyond Rust (Debian's chromium for the report test, the V2 client venv)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "note: chromium not installed; the report rendering test will be skipped"; }
	@command -v python3 >/dev/null 2>&1 && bash tests/clients/setup_venv.sh >/dev/null || \
	  echo "note: the V2 client venv (tests/clients/.venv) could not be made; its test will say why"

test: build test-deps ## run all tests (unit, property, end-to-end, real data, doc tests) and the doc build
	$(CARGO) test --workspace
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet

lint: ## cargo fmt --check and clippy with warnings as errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## format the code
	$(CARGO) fmt --all

bench: ## side-by-side runs against the Python peers (creates bench/.venv)
	bench/credit_peers.sh
	bench/binning_peers.sh 1000000
	bench/models_peers.sh 1000000
	bench/anomaly_peers.sh 1000000
	bench/kmeans_peers.sh 1000000
	bench/linfa_peers.sh 1000000
	bench/accounts_pipeline.sh
	bench/vasicek_peers.sh 10000 100000
	bench/loss_peers.sh
	bench/score_speed.sh
	bench/serve_peers.sh
	bench/fraud_peers.sh
	bench/fraud_models.sh
	bench/fraud_score.sh
	bench/fraud_stream.sh
	bench/fraud_extras.sh
	bench/anonymity.sh
	bench/robustness.sh

bench-scale: ## release-build wall time and peak memory on 1M-row runs and 10M-row scoring
	bench/scale.sh

doc: ## build the API docs
	$(CARGO) doc --workspace --no-deps

clean: ## remove build output and runs
	$(CARGO) clean
	rm -rf runs
