# Two commands: `make demo` and `make test`. Both set up everything they need first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# GraphiQL is served by the BFF itself (the contact centre has no internet): fetched once from npm.
VENDOR        := gateway/static/vendor
VENDOR_STAMP  := $(VENDOR)/.installed-stamp
GRAPHIQL_NPM  := .cache/graphiql
GRAPHIQL_PKGS := graphiql@3.8.3 react@18.3.1 react-dom@18.3.1
GRAPHIQL_FILES := graphiql/graphiql.min.js graphiql/graphiql.min.css \
	react/umd/react.production.min.js react-dom/umd/react-dom.production.min.js
# The federation test's real Apollo gateway and Node subgraph (tests/federation): installed once from npm.
FEDERATION_NPM   := tests/federation
FEDERATION_STAMP := $(FEDERATION_NPM)/node_modules/.installed-stamp

.PHONY: demo test install graphiql federation-gateway lint typecheck pytest bench clean redis-server promtool alert-rules

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(VENDOR_STAMP):
	@command -v npm >/dev/null || { echo "npm is needed once, to fetch the GraphiQL assets"; exit 1; }
	npm install --no-audit --no-fund --prefix $(GRAPHIQL_NPM) $(GRAPHIQL_PKGS)
	mkdir -p $(VENDOR)
	cd $(GRAPHIQL_NPM)/node_modules && cp $(GRAPHIQL_FILES) $(CURDIR)/$(VENDOR)/
	touch $@

graphiql: $(VENDOR_STAMP)

$(FEDERATION_STAMP): $(FEDERATION_NPM)/package.json $(FEDERATION_NPM)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed once, for the federation test's gateway"; exit 1; }
	npm install --no-audit --no-fund --prefix $(FEDERATION_NPM)
	touch $@

federation-gateway: $(FEDERATION_STAMP)

install: $(STAMP) $(VENDOR_STAMP)

demo: install
	$(VENV)/bin/tidegate demo

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: install
	$(PY) -m mypy

# Integration tests use a real redis-server (the audit stream today; limits and caches next).
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "installing redis-server (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v redis-server >/dev/null 2>&1 || { echo "redis-server is required for make test"; exit 1; }

pytest: install redis-server $(FEDERATION_STAMP)
	$(PY) -m pytest

# The Prometheus alert rules (deploy/prometheus) are checked and unit-tested with promtool, which
# Debian ships in its `prometheus` package (installed without the server's recommends when missing).
promtool:
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "installing promtool (apt: prometheus)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	@command -v promtool >/dev/null 2>&1 || { echo "promtool is required for make test"; exit 1; }

alert-rules: promtool
	promtool check rules deploy/prometheus/alerts.yml
	cd deploy/prometheus && promtool test rules alerts_test.yml

test: lint typecheck alert-rules pytest

bench: install
	$(PY) -m bench.sim_pool

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(GRAPHIQL_NPM) $(VENDOR) $(FEDERATION_NPM)/node_modules
