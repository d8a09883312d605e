# One entry point: setup, run, test, services, bench, lint.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
# Where `make run` listens: this machine only. HOST=0.0.0.0 serves every interface (the local store has no sign-in).
HOST ?= 127.0.0.1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast screenshots services services-stop bench lint browser-deps slurm-deps clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# The runtime install: the dashboard and its eight mandated packages.
$(VENV)/.run-stamp: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

# Everything the tests need: dev tools, real Swift + Keystone, Playwright.
$(VENV)/.dev-stamp: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,services]'
	touch $(VENV)/.run-stamp $@

## make run [PORT=9000] [HOST=0.0.0.0]: the dashboard on 127.0.0.1 unless HOST says otherwise (embedded local store with demo data unless .env names Swift)
run: $(VENV)/.run-stamp
	$(VENV)/bin/streamlit run dashboard/serve.py --server.port $(PORT) --server.address $(HOST)

## make test: install what the tests need, then run every test (unit, real Swift + Keystone, browser)
test: $(VENV)/.dev-stamp browser-deps slurm-deps
	@HYPOTHESIS_PROFILE=ci $(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here"; fi; \
	exit $$rc

## make screenshots: run the browser tests and keep their pictures in docs/screenshots (the README shows them)
screenshots: $(VENV)/.dev-stamp browser-deps
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -m browser tests/browser

## make test-fast: every test that starts no real service, drives no browser and is not slow by design, on all CPUs
# One worker more than CPUs: a fifth of these tests' time is spent waiting (a ledger's settle, a process it started,
# a loopback receiver), and the extra worker runs meanwhile (a median of 53 s instead of 58 s on 2 CPUs).
# Compiled modules are kept in the venv, even where the environment turns bytecode files off: otherwise each worker,
# and each process a test starts, compiles the project and rewrites the tests' asserts again (seconds each).
test-fast: $(VENV)/.dev-stamp
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/$(VENV)/pycache HYPOTHESIS_PROFILE=fast $(PY) -m pytest -n $(TEST_WORKERS) -m "not swift and not browser and not slow and not slurm"

# Debian's chromium for the Playwright tests (Playwright cannot download its own browser here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: sudo apt-get install chromium"; exit 1; fi; }

# Debian's Slurm, its accounting daemon and MariaDB for the real-Slurm tests (the suite starts them itself, on
# loopback). policy-rc.d keeps the packages from starting their own services while they install.
slurm-deps:
	@command -v slurmctld >/dev/null 2>&1 && command -v slurmdbd >/dev/null 2>&1 && command -v mariadbd >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    made=; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
	      chmod +x /usr/sbin/policy-rc.d; made=1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm slurmdbd mariadb-server; \
	    rc=$$?; [ -n "$$made" ] && rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	  else echo "Slurm is missing: sudo apt-get install slurm-wlm slurmdbd mariadb-server"; exit 1; fi; }

## make services: real Keystone + Swift on loopback in the background; writes .services/credentials.env
services: $(VENV)/.dev-stamp
	$(PY) -m stack start --dir .services

services-stop:
	-$(PY) -m stack stop --dir .services

## make bench: benchmarks with baselines measured in the same run; writes bench/results.json
bench: $(VENV)/.dev-stamp
	$(PY) -m bench

## make lint: style (ruff), types (mypy --strict), the layers of docs/ARCHITECTURE.md (import-linter), dead code (vulture)
lint: $(VENV)/.dev-stamp
	$(VENV)/bin/ruff check core dashboard tests bench stack
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/vulture

clean:
	rm -rf $(VENV) .services .data
