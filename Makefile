# make demo : the main job on the embedded default (local files)
# make test : install everything (Python deps, Azurite, fake-gcs-server) and run all checks
#             (lint, types, Terraform, the docs site, the package build, pytest)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
# The DIR adapter's tests (dir-core needs Python >= 3.12) run in a second venv.
# python3.12 on PATH, else pyenv's 3.12 (set PYTHON312 to choose another).
PYTHON312  ?= $(shell for p in python3.12 $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV312    := .venv312
DIR_DEPS_STAMP := $(VENV312)/.deps-installed
DIR_STAMP  := $(VENV312)/.installed
DIR_SDIST  := .cache/dir-core
NODE_STAMP := node_modules/.installed
# Two pytest workers (pytest-xdist): each starts its own emulators on free ports.
PYTEST_WORKERS ?= 2

.PHONY: demo test install checkov lint typecheck terraform-check docs package pytest bench clean
.PHONY: pytest-dir

demo: $(PY_STAMP)
	$(BIN)/python examples/demo.py

# The installs download at once (-j3). The package is built first (tests/test_packaging.py
# builds from the same tree: setuptools' egg-info must not be written by both at once);
# then pytest (its workers) runs beside the other checks, which take one core for about
# a minute one after another, and then the DIR adapter's 3.12 job (-j2; each target's
# output is printed whole when it ends).
test:
	$(MAKE) --no-print-directory -j3 install
	$(MAKE) --no-print-directory package
	$(MAKE) --no-print-directory -j2 --output-sync=target pytest lint typecheck terraform-check docs pytest-dir

install: $(PY_STAMP) $(NODE_STAMP) checkov
install: $(DIR_STAMP)

checkov:
	bash scripts/terraform_checks.sh --install-only

# --no-compile: no bytecode for the venv's ~14,000 files up front (~50 s of CPU here);
# Python compiles the modules it imports when it first imports them.
$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile --prefer-binary -e '.[all,dev]'
	touch $@

# The 3.12 venv: third-party requirements (read from pyproject.toml, no build) and
# dir-core's sdist (its own test suite) in parallel with the other installs; then our
# package, editable, once the 3.11 install has finished writing src/*.egg-info.
$(DIR_DEPS_STAMP): pyproject.toml
	@test -n "$(PYTHON312)" || { echo "make: no Python 3.12 found (set PYTHON312=...)"; exit 1; }
	$(PYTHON312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV312)/bin/python scripts/extra_requirements.py all test dir > $(VENV312)/requirements.txt
	$(VENV312)/bin/python -m pip install --quiet --disable-pip-version-check --no-compile --prefer-binary -r $(VENV312)/requirements.txt
	rm -rf $(DIR_SDIST) && mkdir -p $(DIR_SDIST)
	$(VENV312)/bin/python -m pip download --quiet --disable-pip-version-check --no-deps \
		--no-binary :all: dir-core==0.4.0 -d $(DIR_SDIST)
	tar -xzf $(DIR_SDIST)/dir_core-0.4.0.tar.gz -C $(DIR_SDIST)
	touch $@

$(DIR_STAMP): $(DIR_DEPS_STAMP) | $(PY_STAMP)
	$(VENV312)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
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

# The DIR adapter's tests, alone, on Python 3.12 (the 3.11 run skips them): they must all
# run and pass (tests/adapters/dir_core/conftest.py fails the run on a skip or on none).
pytest-dir: install
	CLOUDSTORES_DIR_JOB=1 $(VENV312)/bin/python -m pytest -q -rs -p no:cacheprovider \
		--durations=5 -n $(PYTEST_WORKERS) tests/adapters/dir_core

bench: install
	$(BIN)/python benchmarks/bucket_overhead.py

clean:
	rm -rf $(VENV) $(VENV312) $(DIR_SDIST) .venv-checkov node_modules .demo .pytest_cache .mypy_cache .ruff_cache site dist build
