# Marktplatz — `make run` serves the demo city, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
# npm writes nothing we can date reliably, so a stamp inside node_modules: gone with it, older than a new lock.
NODE_STAMP := node_modules/.installed

.PHONY: install node run test test-slow test-postgres lint typecheck messages clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# Browser-side code from npm: jsQR (the till's camera scanner) and Leaflet (the visitor map),
# copied into the git-ignored static/vendor/, the service worker of the offline wallet (built
# there with workbox-build) and axe-core (tests). Without npm: a note; cashiers type codes, the
# map page shows its list only, the wallet needs a network, a11y tests skip.
VENDOR := src/marktplatz/web/static/vendor
$(NODE_STAMP): package.json package-lock.json frontend/build-sw.mjs
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --ignore-scripts --no-audit --no-fund \
	  && mkdir -p $(VENDOR)/leaflet && cp node_modules/jsqr/dist/jsQR.js $(VENDOR)/jsQR.js \
	  && cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
	     node_modules/leaflet/dist/images $(VENDOR)/leaflet/ \
	  && node frontend/build-sw.mjs \
	  && touch $(NODE_STAMP); \
	else \
	  echo "note: npm not found, node_modules/ not installed; the till has no camera scanner and the accessibility tests skip (apt-get install nodejs npm)"; \
	fi

node: $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

run: $(STAMP) $(NODE_STAMP)
	$(PY) -m marktplatz demo
	$(PY) -m marktplatz serve

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy

test: lint typecheck
	$(VENV)/bin/pytest -q -p no:cacheprovider -m "not slow"

# Minutes, not seconds: SIGKILL crash safety of ingest, erasure in a large store.
test-slow: install
	$(VENV)/bin/pytest -q -p no:cacheprovider -m slow tests/slow

test-postgres: install
	MARKTPLATZ_TEST_BACKEND=postgresql $(VENV)/bin/pytest -q -p no:cacheprovider -m "not slow" tests/integration tests/api

messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o src/marktplatz/locale/messages.pot src
	$(VENV)/bin/pybabel update -i src/marktplatz/locale/messages.pot -d src/marktplatz/locale --no-fuzzy-matching

clean:
	rm -rf $(VENV) var node_modules $(VENDOR) .mypy_cache .ruff_cache
