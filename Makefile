# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check -q

.PHONY: demo test check lint install install-test clean deb debs docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# A real (non-editable) install, so the commands run from compiled bytecode as they would in production.
# The simulator (./vio-sim) is a distribution of its own: installed next to the product for the demo and
# the tests, never part of the product's wheel.
install: $(BIN)/python
	$(PIP) install ./vio-sim .

# Everything from PyPI is pinned for CI: the browser driver (console suite), pyVmomi (vsphere suite), the
# product's libraries and the test tools (constraints/test.txt).
install-test: $(BIN)/python
	$(PIP) install -c constraints/test.txt -c constraints/console.txt -c constraints/vsphere.txt ./vio-sim ".[test]"

demo: install
	$(BIN)/python -m vio_sim.demo

lint: install-test
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -p no:cacheprovider

# Daily work: everything but the suites that start real daemons (Icinga, Nagios, OpenStack, ...).
REAL_DAEMONS := e2e or realopenstack or distributed or console or vsphere or deb or debian13
check: lint
	$(BIN)/python -m pytest -p no:cacheprovider -m "not ($(REAL_DAEMONS))"

# The generated reference (docs/checks.md and its contents entries) from the code: tools/gendocs.py.
# tests/test_generated_docs.py fails when a committed file differs from what this writes.
docs: install
	$(BIN)/python tools/gendocs.py

clean:
	rm -rf $(VENV) build dist *.egg-info vio-sim/build vio-sim/*.egg-info .pytest_cache .ruff_cache

# The benchmark against the simulator and a real icinga2 (about 6 minutes on 2 cores, at most 10); writes BENCHMARKS.md.
.PHONY: bench
bench: install
	$(BIN)/python -m bench.run --output BENCHMARKS.md

# The Debian package (Debian 12's debhelper, dh-python, pybuild-plugin-pyproject; lintian when installed),
# built in a copy of the source under build/deb so the tree stays as it is: dist/vio-checks_<version>_all.deb.
# The system's tools and Python only: the venv stays out of PATH.
DEB_BUILD := build/deb
deb:
	rm -rf $(DEB_BUILD) dist/vio-checks_*.deb
	mkdir -p $(DEB_BUILD)/src dist
	tar -c --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist --exclude=./demo-run --exclude=./releases \
	    --exclude=__pycache__ --exclude='*.egg-info' --exclude=.pytest_cache --exclude=.ruff_cache -f - . \
	    | tar -x -C $(DEB_BUILD)/src
	cd $(DEB_BUILD)/src && env -u PYTHONPATH -u VIRTUAL_ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    dpkg-buildpackage -b -us -uc
	mv $(DEB_BUILD)/vio-checks_*_all.deb dist/
	if command -v lintian >/dev/null; then lintian --fail-on error dist/vio-checks_*_all.deb; fi
	@ls dist/vio-checks_*_all.deb

# The package for every supported Debian release (bookworm, trixie), each built the way sbuild does in a clean
# root of that release, linted by its lintian and tested with piuparts (install, remove, purge, upgrade from
# v0.1.0's package): dist/debs/<suite>/. As root, with mmdebstrap, piuparts and dpkg-dev; tools/debs says more.
debs:
	env -u PYTHONPATH -u VIRTUAL_ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin tools/debs

# The Icinga Web 2 screenshots in README (docs/img/*.png): the console suite, writing its PNGs there.
.PHONY: screenshots
screenshots: install-test
	VIO_SCREENSHOTS=$(CURDIR)/docs/img $(BIN)/python -m pytest -p no:cacheprovider -m console tests/console
