# Two commands: `make demo` and `make test`. Both set up everything they need first, from the
# committed locks only (requirements.lock for Python, package-lock.json files for npm): nothing is
# resolved anew. `make lock` refreshes the Python lock on purpose.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
STAGE  := scripts/stage
# uv installs the locked set; it is itself installed from requirements-bootstrap.lock (pinned, hashed).
UV_VERSION := 0.13.9
UV_HOME    := .cache/uv-$(UV_VERSION)
UV         := $(UV_HOME)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS      := 1
# The one lock for runtime, dev, bench and simulators: universal, hashed, Python 3.11+. Double quotes
# inside: lock-check wraps these in sh -c '...', where single quotes ended its script early (it
# compiled to stdout and never ran its diff).
LOCK_ARGS := pyproject.toml --all-extras --generate-hashes --universal --python-version 3.11 --quiet \
	--custom-compile-command "make lock"
# The container images' locks (Dockerfile): subsets of requirements.lock, never resolved on their own.
# Its pins are the constraints, so each holds the very versions and hashes the tests ran with: the
# BFF image gets the runtime dependencies only, the simulators image those and the simulators extra.
IMAGE_LOCK_ARGS := pyproject.toml --constraints requirements.lock --generate-hashes --universal \
	--python-version 3.11 --quiet --custom-compile-command "make lock"
# $(call image-locks,DIR): write both image locks into DIR.
image-locks = $(UV) pip compile $(IMAGE_LOCK_ARGS) -o $(1)/requirements-runtime.lock && \
	$(UV) pip compile $(IMAGE_LOCK_ARGS) --extra simulators -o $(1)/requirements-simulators.lock
# GraphiQL is served by the BFF itself (the contact centre has no internet): installed from its lock.
VENDOR        := gateway/static/vendor
VENDOR_STAMP  := $(VENDOR)/.installed-stamp
GRAPHIQL_NPM  := web/graphiql
GRAPHIQL_FILES := graphiql/graphiql.min.js graphiql/graphiql.min.css \
	react/umd/react.production.min.js react-dom/umd/react-dom.production.min.js
# The supervisor's board (GET /board): web/board bundled with esbuild into gateway/static/board.
BOARD_NPM   := web/board
BOARD_OUT   := gateway/static/board
BOARD_STAMP := $(BOARD_OUT)/.built-stamp
BOARD_SRC   := $(wildcard $(BOARD_NPM)/src/*) $(BOARD_NPM)/build.mjs $(BOARD_NPM)/tsconfig.json gql/manifest.json
# The agent workbench (web/workbench: Preact, Apollo Client, graphql-ws), bundled by esbuild into
# gateway/static/workbench/ (git-ignored), which the BFF serves at /workbench.
WORKBENCH_NPM    := web/workbench
WORKBENCH_DEPS   := $(WORKBENCH_NPM)/node_modules/.installed-stamp
WORKBENCH_BUNDLE := gateway/static/workbench/.built-stamp
WORKBENCH_SRC    := $(wildcard $(WORKBENCH_NPM)/src/*.ts $(WORKBENCH_NPM)/src/*.tsx $(WORKBENCH_NPM)/src/*.css \
	$(WORKBENCH_NPM)/src/generated/*.ts) $(WORKBENCH_NPM)/build.mjs $(wildcard gql/*.graphql) gql/manifest.json
# The federation test's real Apollo gateway and Node subgraph (tests/federation).
FEDERATION_NPM   := tests/federation
FEDERATION_STAMP := $(FEDERATION_NPM)/node_modules/.installed-stamp
# Hive Gateway and The Guild's composition, in front of N replicas (deploy/router, docs/router.md).
ROUTER_NPM   := deploy/router
ROUTER_STAMP := $(ROUTER_NPM)/node_modules/.installed-stamp
ROUTER_REPLICAS ?= 2
# graphql-http's server audits (GraphQL over HTTP's MUST/SHOULD/MAY items), run against a real Tidegate
# by tests/http_audit (docs/api.md#graphql-over-http).
HTTP_AUDIT_NPM   := tests/http_audit
HTTP_AUDIT_STAMP := $(HTTP_AUDIT_NPM)/node_modules/.installed-stamp

.PHONY: demo test install lock upgrade lock-check graphiql workbench workbench-check workbench-screenshots \
	federation-gateway router-gateway router http-audit lint typecheck pytest bench clean \
	redis-server promtool chromium alert-rules board board-screenshot

$(UV): requirements-bootstrap.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ required"; exit 1; }
	@$(STAGE) "uv $(UV_VERSION)" sh -c '$(PYTHON) -m venv $(UV_HOME) && \
	  $(UV_HOME)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements-bootstrap.lock'
	@touch $@

# The project is installed editable in "compat" mode (the checkout on sys.path), because the
# simulators, bench and tests live in the checkout but not in the wheel.
$(STAMP): requirements.lock pyproject.toml $(UV)
	@$(STAGE) "lock sync" sh -c 'set -e; test -x $(PY) || $(UV) venv --quiet --python $(PYTHON) $(VENV); \
	  $(UV) pip sync --quiet --python $(PY) --require-hashes requirements.lock; \
	  $(UV) pip install --quiet --python $(PY) --no-deps --no-build-isolation -e . \
	    --config-settings editable_mode=compat'
	@touch $(STAMP)

# After editing pyproject.toml's dependencies: re-resolve, keeping every pin that still fits.
lock: $(UV)
	$(UV) pip compile $(LOCK_ARGS) -o requirements.lock
	$(call image-locks,.)

# Move every package to its newest allowed release on purpose (a security fix, a wanted feature):
# then run `make test` and commit pyproject.toml and the requirements*.lock files together.
upgrade: $(UV)
	$(UV) pip compile $(LOCK_ARGS) --upgrade -o requirements.lock
	$(call image-locks,.)

# The lock still satisfies pyproject.toml: re-resolving with the lock as preference changes nothing;
# and the image locks are still exactly what it derives.
lock-check: $(UV)
	@$(STAGE) "lock check" sh -c 'set -e; tmp=$$(mktemp -d); cp requirements.lock $$tmp/; \
	  $(UV) pip compile $(LOCK_ARGS) -o $$tmp/requirements.lock; \
	  diff -u requirements.lock $$tmp/requirements.lock || { echo "requirements.lock is stale: run make lock"; exit 1; }; \
	  $(call image-locks,$$tmp); \
	  for f in requirements-runtime.lock requirements-simulators.lock; do \
	    diff -u $$f $$tmp/$$f || { echo "$$f is stale: run make lock"; exit 1; }; done'

$(VENDOR_STAMP): $(GRAPHIQL_NPM)/package.json $(GRAPHIQL_NPM)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed once, to install the GraphiQL assets"; exit 1; }
	@$(STAGE) "graphiql assets" sh -c 'set -e; npm ci --no-audit --no-fund --prefix $(GRAPHIQL_NPM); \
	  mkdir -p $(VENDOR); cd $(GRAPHIQL_NPM)/node_modules && cp $(GRAPHIQL_FILES) $(CURDIR)/$(VENDOR)/'
	@touch $@

graphiql: $(VENDOR_STAMP)

$(WORKBENCH_DEPS): $(WORKBENCH_NPM)/package.json $(WORKBENCH_NPM)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed once, to build the workbench"; exit 1; }
	@$(STAGE) "workbench packages" npm ci --no-audit --no-fund --prefix $(WORKBENCH_NPM)
	@touch $@

$(WORKBENCH_BUNDLE): $(WORKBENCH_DEPS) $(WORKBENCH_SRC)
	@$(STAGE) "workbench bundle" sh -c 'cd $(WORKBENCH_NPM) && node build.mjs'
	@touch $@

workbench: $(WORKBENCH_BUNDLE)

# The typed operations are generated from schema/schema.graphql and gql/*.graphql: a stale file, or
# workbench code that no longer fits the schema, fails here (tests/workbench runs the same).
workbench-check: $(WORKBENCH_DEPS)
	@$(STAGE) "workbench types" sh -c 'cd $(WORKBENCH_NPM) && npx graphql-codegen --config codegen.yml --check \
	  && npx tsc --noEmit -p .'

# Screenshots of the workbench mid-call, for docs/workbench.md.
workbench-screenshots: install chromium
	$(PY) -m bench.workbench --customers 300 --screenshot docs/images/workbench-mid-call.png

$(FEDERATION_STAMP): $(FEDERATION_NPM)/package.json $(FEDERATION_NPM)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed once, for the federation test's gateway"; exit 1; }
	@$(STAGE) "federation gateway" npm ci --no-audit --no-fund --prefix $(FEDERATION_NPM)
	@touch $@

federation-gateway: $(FEDERATION_STAMP)

$(ROUTER_STAMP): $(ROUTER_NPM)/package.json $(ROUTER_NPM)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed once, for Hive Gateway"; exit 1; }
	@$(STAGE) "router (Hive Gateway)" npm ci --no-audit --no-fund --prefix $(ROUTER_NPM)
	@touch $@

router-gateway: $(ROUTER_STAMP)

$(HTTP_AUDIT_STAMP): $(HTTP_AUDIT_NPM)/package.json $(HTTP_AUDIT_NPM)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed once, for the GraphQL-over-HTTP audit"; exit 1; }
	@$(STAGE) "http audit (graphql-http)" npm ci --no-audit --no-fund --prefix $(HTTP_AUDIT_NPM)
	@touch $@

http-audit: $(HTTP_AUDIT_STAMP)

# Simulators, Redis, `tidegate serve --workers $(ROUTER_REPLICAS)` on :8000, the survey subgraph and Hive
# Gateway on :4000 in front of them, until Ctrl-C (bench/router.py; docs/router.md).
router: install redis-server $(FEDERATION_STAMP) $(ROUTER_STAMP)
	$(PY) -m bench.router --replicas $(ROUTER_REPLICAS)

$(BOARD_STAMP): $(BOARD_NPM)/package.json $(BOARD_NPM)/package-lock.json $(BOARD_SRC)
	@command -v npm >/dev/null || { echo "npm is needed once, to bundle the board"; exit 1; }
	@$(STAGE) "board bundle" sh -c 'set -e; npm ci --no-audit --no-fund --prefix $(BOARD_NPM); \
	  node $(BOARD_NPM)/build.mjs'
	@touch $@

board: $(BOARD_STAMP)

# docs/images/board.png: the board mid-call, from the browser test against real processes (with a
# CJK font from Debian, so the Chinese labels are drawn, not boxes).
board-screenshot: install chromium
	@fc-list :lang=zh | grep -q . || $(STAGE) "apt: CJK font" sh -c \
	  'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei'
	TIDEGATE_BOARD_SCREENSHOT=$(CURDIR)/docs/images/board.png $(PY) -m pytest -q \
	  tests/e2e/test_board_browser.py

install: $(STAMP) $(VENDOR_STAMP) $(BOARD_STAMP) $(WORKBENCH_BUNDLE)

demo: install
	$(VENV)/bin/tidegate demo

lint: install
	@$(STAGE) "lint (ruff)" sh -c '$(PY) -m ruff check . && $(PY) -m ruff format --check .'

typecheck: install
	@$(STAGE) "types (mypy)" $(PY) -m mypy

# Integration tests use a real redis-server; the alert rules are checked with promtool (Debian's
# `prometheus` package, without the server's recommends). Both installed with apt when missing.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || $(STAGE) "apt: redis-server" sh -c \
	  'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'
	@command -v redis-server >/dev/null 2>&1 || { echo "redis-server is required for make test"; exit 1; }

promtool:
	@command -v promtool >/dev/null 2>&1 || $(STAGE) "apt: promtool" sh -c \
	  'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus'
	@command -v promtool >/dev/null 2>&1 || { echo "promtool is required for make test"; exit 1; }

# The workbench and board tests drive Debian's chromium through Playwright (its own browser download
# cannot be reached from here).
chromium:
	@command -v chromium >/dev/null 2>&1 || $(STAGE) "apt: chromium" sh -c \
	  'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium'
	@command -v chromium >/dev/null 2>&1 || { echo "chromium is required for make test"; exit 1; }

alert-rules: promtool
	@$(STAGE) "alert rules (promtool)" sh -c 'promtool check rules deploy/prometheus/alerts.yml && \
	  cd deploy/prometheus && promtool test rules alerts_test.yml'

# One worker per core (PYTEST_WORKERS=0: in this process); a module's tests stay on one worker, in order.
# Tests marked `solo` judge how much critical work meets its 300 ms deadline under a load they make
# themselves; they run afterwards in one process, so the rest of the suite does not take their CPU.
PYTEST_WORKERS ?= auto
pytest: install redis-server chromium $(FEDERATION_STAMP) $(ROUTER_STAMP) $(HTTP_AUDIT_STAMP)
	@$(STAGE) --live "pytest" $(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile -m "not solo"
	@$(STAGE) --live "pytest (solo)" $(PY) -m pytest -q -p no:xdist -m solo

test: lock-check lint typecheck alert-rules pytest

bench: install
	$(PY) -m bench.sim_pool

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .cache $(VENDOR) $(FEDERATION_NPM)/node_modules $(ROUTER_NPM)/node_modules \
	  $(HTTP_AUDIT_NPM)/node_modules \
	  $(GRAPHIQL_NPM)/node_modules $(BOARD_OUT) $(BOARD_NPM)/node_modules $(WORKBENCH_NPM)/node_modules \
	  gateway/static/workbench
