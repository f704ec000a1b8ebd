# make demo : the main job on the embedded default (local files)
# make test : install everything (Python deps, Azurite, fake-gcs-server) and run all checks
#             (lint, types, Terraform, the docs site, the package build, pytest)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# Two pytest workers (pytest-xdist): each starts its own emulators on free ports.
PYTEST_WORKERS ?= 2

.PHONY: demo test install checkov lint typecheck terraform-check docs package pytest bench clean

demo: $(PY_STAMP)
	$(BIN)/python examples/demo.py

# The installs download at once (-j3). The package is built first (tests/test_packaging.py
# builds from the same tree: setuptools' egg-info must not be written by both at once);
# then pytest (its workers) runs beside the other checks, which take one core for about
# a minute one after another (-j2; each target's output is printed whole when it ends).
test:
	$(MAKE) --no-print-directory -j3 install
	$(MAKE) --no-print-directory package
	$(MAKE) --no-print-directory -j2 --output-sync=target pytest lint typecheck terraform-check docs

install: $(PY_STAMP) $(NODE_STAMP) checkov

checkov:
	bash scripts/terraform_checks.sh --install-only

# --no-compile: no bytecode for the venv's ~14,000 files up front (~50 s of CPU here);
# Python compiles the modules it imports when it first imports them.
$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile --prefer-binary -e '.[all,dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(PY_STAMP)
	$(BIN)/ruff check src tests benchmarks examples scripts
	$(BIN)/ruff format --check src tests benchmarks examples scripts

typecheck: $(PY_STAMP)
	$(BIN)/mypy src

terraform-check:
	bash scripts/terraform_checks.sh

# The docs site, into site/ (git-ignored); --strict turns every broken link, missing page
# and docstring the API reference cannot parse into a failure.
docs: $(PY_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# sdist and wheel into dist/ (git-ignored), checked as an index would check them. Built
# without isolation from the venv's setuptools (the dev extra pins the same floor as
# [build-system]), so it needs no download and takes seconds.
package: $(PY_STAMP)
	rm -rf dist && mkdir dist
	$(BIN)/python -m build --no-isolation --outdir dist . > dist/build.log 2>&1 || { cat dist/build.log; exit 1; }
	$(BIN)/twine check --strict dist/*.whl dist/*.tar.gz

pytest: install
	$(BIN)/python -m pytest -q -rs -p no:cacheprovider --durations=15 -n $(PYTEST_WORKERS)

bench: install
	$(BIN)/python benchmarks/bucket_overhead.py

clean:
	rm -rf $(VENV) .venv-checkov node_modules .demo .pytest_cache .mypy_cache .ruff_cache site dist build
