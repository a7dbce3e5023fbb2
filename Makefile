# Quick start: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export MUJOCO_GL := egl
export PYOPENGL_PLATFORM := egl

.PHONY: run test browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-install only when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/realitygap run

test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest -q

# The report's browser tests (tests/browser.py) drive Debian's chromium + chromium-driver. Installed here when
# missing and this runs as root (or with passwordless sudo) where apt-get exists; otherwise, or when the
# install fails, the build goes on and those tests skip with the reason. Already installed: two file tests.
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
APT := env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=120

browser:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else \
	  echo "make: no chromium, and not root nor passwordless sudo: the browser tests will skip"; exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "make: no chromium and no apt-get: the browser tests will skip"; exit 0; fi; \
	echo "make: installing Debian's chromium and chromium-driver for the browser tests"; \
	log=$$(mktemp); \
	if ! { $$sudo $(APT) update && $$sudo $(APT) install -y chromium chromium-driver; } >$$log 2>&1; then \
	  tail -n 5 $$log; echo "make: chromium could not be installed: the browser tests will skip"; fi; \
	rm -f $$log

bench: $(VENV)/.installed-run
	$(BIN)/python benchmarks/simulate.py
	$(BIN)/python benchmarks/measure.py
	$(BIN)/python benchmarks/predict.py
	$(BIN)/python benchmarks/downstream.py

clean:
	rm -rf $(VENV) realitygap-out benchmarks/results test-artifacts
