# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check -q

.PHONY: demo test check lint install install-test clean

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

# Daily work: everything but the suites that start real daemons (Icinga, Nagios, OpenStack, ...).
REAL_DAEMONS := e2e or realopenstack or distributed or console or vsphere or deb
check: lint
	$(BIN)/python -m pytest -p no:cacheprovider -m "not ($(REAL_DAEMONS))"

clean:
	rm -rf $(VENV) build *.egg-info vio-sim/build vio-sim/*.egg-info .pytest_cache .ruff_cache

# The benchmark against the simulator and a real icinga2 (about 6 minutes on 2 cores, at most 10); writes BENCHMARKS.md.
.PHONY: bench
bench: install
	$(BIN)/python bench/run.py --output BENCHMARKS.md
