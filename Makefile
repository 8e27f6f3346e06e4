# citytwin: `make demo` and `make test` do all the set-up on a fresh Debian/Ubuntu machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_MAJOR ?= 15
# System packages: PostgreSQL + PostGIS for the local cluster; Chromium, a CJK font and Node for
# the viewer's browser tests.
APT_PACKAGES := postgresql-$(PG_MAJOR) postgresql-$(PG_MAJOR)-postgis-3 postgresql-contrib \
  chromium fonts-noto-cjk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help install system-deps python-deps web-deps demo test lint types pytest serve clean db-up db-down

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

system-deps:  ## Install the system packages that are missing (apt).
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "system packages: present"; fi
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  echo "installing Node.js"; $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

python-deps: $(VENV)/.installed  ## Install the Python packages into .venv.

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The viewer: esbuild bundles web/src with CesiumJS into web/dist (served at /viewer/).
web/dist/.built: web/node_modules/.installed web/build.mjs $(wildcard web/src/* web/src/app/*)
	cd web && npm run --silent build
	touch $@

web-deps: web/node_modules/.installed web/dist/.built  ## npm ci in web/, then build the viewer into web/dist.

install: system-deps python-deps web-deps  ## Install everything.

lint: install  ## ruff check and format check.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install  ## mypy --strict on every package.
	$(BIN)/mypy

pytest: install  ## The whole test suite (starts and stops its own PostGIS).
	TWIN_STRICT_SKIPS=1 $(BIN)/pytest -q

test: lint types pytest  ## Install, then lint, types and the whole test suite.

db-up: install  ## Start the local PostGIS and migrate.
	$(BIN)/twin db up

db-down:  ## Stop the local PostGIS.
	$(BIN)/twin db down

demo: install  ## Start PostGIS, load the demo district, serve the API and viewer on :8000.
	$(BIN)/twin db up
	$(BIN)/twin demo
	$(BIN)/twin 3d build
	@key=$$($(BIN)/twin keys create --role admin --name "make demo" --days 7 2>/dev/null); \
	echo "serving the API on http://127.0.0.1:8000 (health: /healthz, tiles: /tiles, docs: /docs,"; \
	echo "3D Tiles: /3dtiles). An admin API key for a week (send it as 'Authorization: Bearer'):"; \
	echo "  $$key"; \
	echo "the twin's viewer: http://127.0.0.1:8000/?api_key=$$key"; \
	echo "the 3D Tiles viewer: http://127.0.0.1:8000/viewer/threed/threed.html?api_key=$$key"
	$(BIN)/twin serve

clean:  ## Stop the local PostGIS and remove the virtual environment and caches.
	-$(BIN)/twin db down
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
