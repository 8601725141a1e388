# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check -q

.PHONY: demo test lint install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# A real (non-editable) install, so the commands run from compiled bytecode as they would in production.
# The simulator (./vio-sim) is a distribution of its own: installed next to the product for the demo and
# the tests, never part of the product's wheel.
install: $(BIN)/python
	$(PIP) install ./vio-sim .

install-test: $(BIN)/python
	$(PIP) install ./vio-sim ".[test]"

demo: install
	$(BIN)/python -m vio_sim.demo

lint: install-test
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -p no:cacheprovider

clean:
	rm -rf $(VENV) build *.egg-info vio-sim/build vio-sim/*.egg-info .pytest_cache .ruff_cache
