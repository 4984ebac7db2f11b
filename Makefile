# The README's two commands: `make run` runs the main job, `make test` the whole test suite.
# Each creates .venv and installs what it needs on first use. `make` alone lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
NOTEBOOK ?= notebooks/00_quickstart.ipynb
# Your own runs go to runs/ (git-ignored); the committed results live in logs/.
RUNS_DIR ?= runs
ARGS ?=
# PYTHONWARNINGS: setuptools prints an informational box on every editable install.
PIP := PYTHONWARNINGS=ignore $(BIN)/python -m pip install --disable-pip-version-check --progress-bar on
# The Keras range pyproject.toml states is tested at both ends: the newest release (what pip
# installs) and the oldest allowed, installed beside the environment and put first on the path.
KERAS_OLDEST := $(shell sed -n 's/^ *"keras>=\([0-9.]*\)",.*/\1/p' pyproject.toml)
# nbval executes the lessons that keep checked outputs (cells marked NBVAL_CHECK_OUTPUT) and
# compares them; the papermill smoke test (tests/test_notebooks.py) executes every other notebook.
NBVAL_NOTEBOOKS := $(shell grep -l NBVAL_CHECK_OUTPUT notebooks/*.ipynb)

.PHONY: help run test report clean-venv
.DEFAULT_GOAL := help

## List the targets.
help:
	@echo "make run     the quick start (MNIST sample, ~1 min) as a logged run in $(RUNS_DIR)/quickstart/"
	@echo "             (again: replaces your own earlier quick start; full data: ARGS=\"-p sample False\")"
	@echo "make test    every test (about 12 min on 2 cores): unit tests and notebooks, nbval, report check"
	@echo "make report  rebuild README.md's results from logs/"
	@echo "make clean-venv  remove $(VENV)"
	@echo "First use installs $(VENV) (TensorFlow, JAX, Jupyter: about 3 GB, a few minutes)."

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml setup.py
	@echo "Installing cnn-course and TensorFlow into $(VENV) (about 2.8 GB; a few minutes)..."
	$(PIP) -r requirements.txt -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	@echo "Installing the test tools and JAX into $(VENV)..."
	$(PIP) -r requirements-test.txt
	touch $@

$(VENV)/keras-oldest/.installed: $(VENV)/.test-installed pyproject.toml
	@echo "Installing Keras $(KERAS_OLDEST) (the oldest pyproject.toml allows) for one more unit-test run..."
	$(PIP) -q --no-deps --upgrade --target $(VENV)/keras-oldest "keras==$(KERAS_OLDEST).*"
	touch $@

## The main job: the quick-start notebook on the embedded sample, logged into runs/.
run: $(VENV)/.installed
	$(BIN)/cnn-course run $(NOTEBOOK) --logs-dir $(RUNS_DIR) --overwrite $(ARGS)

## Every unit test once under TensorFlow; the backend-dependent ones (marked `backend`) again
## under JAX; those and the Keras-version-dependent ones (`keras_version`) on the oldest Keras;
## every notebook once under TensorFlow (nbval runs the lessons it checks), two again under
## JAX; nbval (its logs folder links the committed runs, which the lessons' comparisons read,
## and takes the runs they train, checked complete after it: tests/after_nbval.py); the README's
## results against logs/.
## Two pytest workers (-n 2) where tests are independent: they wait on kernels, files and
## subprocesses much of the time.
test: $(VENV)/.test-installed $(VENV)/keras-oldest/.installed
	$(BIN)/python -m pytest -q -n 2 -m "not notebook" tests
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -n 2 -m "backend and not notebook" tests
	PYTHONPATH=$(VENV)/keras-oldest $(BIN)/python -c "import keras; assert keras.__version__.startswith('$(KERAS_OLDEST).'), keras.__version__; print('unit tests on Keras', keras.__version__)"
	PYTHONPATH=$(VENV)/keras-oldest $(BIN)/python -m pytest -q -n 2 -m "(backend or keras_version) and not notebook" tests
	$(BIN)/python -m pytest -q -n 2 -m notebook tests
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -n 2 -m "notebook and backend" tests
	logs=$$(mktemp -d) && for run in $(CURDIR)/logs/*/; do ln -s "$$run" "$$logs/"; done && \
	CNN_COURSE_LOGS_DIR=$$logs $(BIN)/python -m pytest -q -n 2 --dist loadfile -p no:warnings --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg $(NBVAL_NOTEBOOKS) && \
	CNN_COURSE_LOGS_DIR=$$logs $(BIN)/python -m pytest -q -p no:cacheprovider tests/after_nbval.py
	$(BIN)/python scripts/report.py --check

## Rebuild the README's results section, logs/README.md and the plots from logs/*/summary.json.
report: $(VENV)/.installed
	$(BIN)/python scripts/report.py

clean-venv:
	rm -rf $(VENV)
