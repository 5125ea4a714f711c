# make demo: the main job on the bundled demo.  make test: the whole suite.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
# Newest python3.1x that actually runs (pyenv shims exist for versions that fail unless selected).
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3.11; do \
            if $$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1; then echo $$p; break; fi; done)

REDOCLY_VERSION := 2.25.3
REDOCLY := .tools/redocly/node_modules/.bin/redocly
MERMAID_VERSION := 11.17.2
MERMAID := .tools/mermaid/mermaid.min.js
SARIF_VERSION := 5.7.0
SARIF_TOOL := .tools/sarif/Sarif.Multitool

.PHONY: demo test bench clean bytecode redocly mermaid sarif

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "no python >= 3.11 found" >&2; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

# pip compiles an installed package's bytecode, not an editable one's; where PYTHONDONTWRITEBYTECODE is
# set (as on this machine) every command would compile portalspec's sources again (about 60 ms a process).
bytecode: $(VENV)/.installed
	@$(PY) -m compileall -q portalspec addons

demo: bytecode
	$(VENV)/bin/portalspec demo

# nodoc's CI linter, for the spec-update tests: installed here (ignored folder) where npm is, before the
# tests run without a network. Without npm the tests that need it say so and skip.
redocly:
	@if [ ! -x $(REDOCLY) ] && command -v npm >/dev/null 2>&1; then \
	  npm install --prefix .tools/redocly --no-audit --no-fund --silent @redocly/cli@$(REDOCLY_VERSION) >/dev/null \
	    || echo "could not install @redocly/cli: its tests will be skipped" >&2; \
	fi

# Mermaid's own bundle, for the test that draws the Markdown report's diagrams in Chromium as Markdown
# viewers do: only dist/mermaid.min.js is kept from the package (npm pack, no dependencies installed).
mermaid:
	@if [ ! -f $(MERMAID) ] && command -v npm >/dev/null 2>&1; then \
	  ( mkdir -p .tools/mermaid && cd .tools/mermaid && npm pack --silent mermaid@$(MERMAID_VERSION) >/dev/null \
	    && tar -xzf mermaid-$(MERMAID_VERSION).tgz package/dist/mermaid.min.js \
	    && mv package/dist/mermaid.min.js . && rm -rf package mermaid-$(MERMAID_VERSION).tgz ) \
	    || echo "could not fetch mermaid: the Markdown diagram test will be skipped" >&2; \
	fi

# Microsoft's SARIF validator (Sarif.Multitool, one self-contained x86_64 Linux binary), for the test that
# checks report.sarif against GitHub code scanning's ingestion rules: only the binary is kept (npm pack).
sarif:
	@if [ ! -x $(SARIF_TOOL) ] && [ "$$(uname -m)" = x86_64 ] && command -v npm >/dev/null 2>&1; then \
	  ( mkdir -p .tools/sarif && cd .tools/sarif && npm pack --silent @microsoft/sarif-multitool-linux@$(SARIF_VERSION) >/dev/null \
	    && tar -xzf microsoft-sarif-multitool-linux-$(SARIF_VERSION).tgz package/Sarif.Multitool \
	    && mv package/Sarif.Multitool . && chmod +x Sarif.Multitool && rm -rf package microsoft-sarif-multitool-linux-$(SARIF_VERSION).tgz ) \
	    || echo "could not fetch the SARIF validator: its test will be skipped" >&2; \
	fi

# Proxy and browser tests need a loopback-only network namespace: pytest runs under `unshare -n`.
test: bytecode redocly mermaid sarif
	@if unshare -n true 2>/dev/null; then \
	  unshare -n sh -c 'ip link set lo up && exec $(PY) -m pytest -n auto -q'; \
	else \
	  echo "unshare -n not permitted: proxy and browser tests will be skipped" >&2; \
	  $(PY) -m pytest -n auto -q; \
	fi

bench: bytecode
	$(PY) benchmarks/run.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
