# Two entry points (see README): `make run` runs the main job, `make test` the whole test suite.
# Each creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
NOTEBOOK ?= notebooks/00_quickstart.ipynb
ARGS ?=
# nbval compares the committed outputs of cells marked NBVAL_CHECK_OUTPUT; the papermill smoke
# test (tests/test_notebooks.py) already executes every notebook.
NBVAL_NOTEBOOKS := $(shell grep -l NBVAL_CHECK_OUTPUT notebooks/*.ipynb)

.PHONY: run test unit-tests report clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

## The main job: the quick-start notebook on the embedded sample, logged into logs/.
## Full data: make run ARGS="-p sample False"
run: $(VENV)/.installed
	$(BIN)/cnn-course run $(NOTEBOOK) $(ARGS)

## Unit tests under TensorFlow (default) and JAX, then notebook smoke runs and nbval.
test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q -m "not notebook" tests
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -m "not notebook" tests
	$(BIN)/python -m pytest -q -m notebook tests
	$(BIN)/python -m pytest -q -p no:warnings --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg $(NBVAL_NOTEBOOKS)

## Rebuild the README's results section from logs/*/summary.json.
report: $(VENV)/.installed
	$(BIN)/cnn-course report
