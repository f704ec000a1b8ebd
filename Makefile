# make demo : the main job on the embedded default (local files)
# make test : install everything (Python deps, Azurite, fake-gcs-server) and run all checks
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# Two pytest workers (pytest-xdist): each starts its own emulators on free ports.
PYTEST_WORKERS ?= 2

.PHONY: demo test install lint typecheck terraform-check pytest bench clean

demo: $(PY_STAMP)
	$(BIN)/python examples/demo.py

test: install lint typecheck terraform-check pytest

install: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[all,dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(PY_STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(PY_STAMP)
	$(BIN)/mypy src

terraform-check:
	bash scripts/terraform_checks.sh

pytest: install
	$(BIN)/python -m pytest -q -rs -p no:cacheprovider --durations=15 -n $(PYTEST_WORKERS)

bench: install
	$(BIN)/python benchmarks/bucket_overhead.py

clean:
	rm -rf $(VENV) .venv-checkov node_modules .demo .pytest_cache .mypy_cache .ruff_cache
