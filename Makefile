# CivicMark: `make demo` serves the demo city, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo totp gallery test test-pg test-browser test-api bench lint messages vendor clean help

help:
	@echo "make demo   - load the demo city and serve it on http://127.0.0.1:8000"
	@echo "              then '. .venv/bin/activate' puts the civicmark command on the PATH"
	@echo "make test   - lint, type-check and run the whole test suite (SQLite)"
	@echo "make test-pg / test-browser - the suite on PostgreSQL / the browser tests alone"
	@echo "make gallery - screenshots of every role's main pages, desktop and phone, in var/gallery/"
	@echo "make test-api - schemathesis against the JSON API (every operation, a fresh demo city)"
	@echo "make bench  - the benchmarks (N=10000; DATABASE_URL=postgres://... adds PostgreSQL)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

var/secret_key:
	mkdir -p var
	$(BIN)/python -c "import secrets; print(secrets.token_urlsafe(64))" > $@
	chmod 600 $@

# The settings the demo runs with, which `civicmark` reads from var/env when started here: so
# after `make demo` every `civicmark ...` command works with nothing typed by hand. The demo runs
# as production does (gunicorn, whitenoise, DEBUG off); HTTPS is off because it answers on
# 127.0.0.1 only (the settings know that from ALLOWED_HOSTS).
var/env: var/secret_key
	@printf '# Written by make demo; read by civicmark when started in this directory.\n' > $@.tmp
	@printf 'SECRET_KEY=%s\nDEBUG=false\n' "$$(cat var/secret_key)" >> $@.tmp
	@chmod 600 $@.tmp && mv $@.tmp $@

demo: $(VENV)/.installed var/env
	$(BIN)/civicmark demo

# The current TOTP code of a demo account (`make totp U=city`), with the demo's own secret key.
totp: $(VENV)/.installed var/env
	@$(BIN)/civicmark totp $(U)

# Screenshots of the main pages of each demo role at 1366x900 and 390x844, for reviewers: loads
# the demo into a temporary home, serves it, and writes var/gallery/ (git-ignored).
gallery: $(VENV)/.installed
	CHROMIUM=$(CHROMIUM) $(BIN)/python scripts/gallery.py

lint: $(VENV)/.installed
	$(BIN)/ruff check civicmark tests
	$(BIN)/mypy civicmark

# The suite runs on every core (pytest-xdist; each worker has its own test database); the
# browser tests, which start a live server each, run after it in one process.
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

test: lint
	$(BIN)/pytest -n $(WORKERS) -m "not browser"
	@if [ -x "$(CHROMIUM)" ] && [ "$$CIVICMARK_BROWSER" != "separate" ]; then \
	  echo "== browser tests ($(CHROMIUM)) =="; \
	  DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest -m browser; \
	elif [ "$$CIVICMARK_BROWSER" = "separate" ]; then echo "== browser tests run in their own step =="; \
	else echo "== $(CHROMIUM) not found: the browser tests are SKIPPED (apt-get install chromium) =="; fi

# The same suite on PostgreSQL; it fails (never skips) when the server cannot be reached.
test-pg: $(VENV)/.installed
	@$(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=5).close()" \
	  || { echo "PostgreSQL at $(PG_URL) is unreachable"; exit 1; }
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n $(WORKERS) -m "not browser"

# schemathesis against the JSON API on a fresh demo city in a temporary home (ADR 24): every
# operation, no server error, every response as the OpenAPI document says. EXAMPLES=N per operation.
test-api: $(VENV)/.installed
	BIN=$(BIN) ./scripts/api_fuzz.sh

# Benchmarks print figures; they never run in `make test`. N=10000 by default; BENCH_ARGS passes
# more (for example BENCH_ARGS="--only results,pages"). PostgreSQL too when DATABASE_URL names it.
N ?= 10000
bench: $(VENV)/.installed
	$(BIN)/python -m civicmark.bench --communities $(N) $(BENCH_ARGS)

test-browser: $(VENV)/.installed
	@[ -x "$(CHROMIUM)" ] || { echo "$(CHROMIUM) is missing: apt-get install chromium"; exit 1; }
	DJANGO_ALLOW_ASYNC_UNSAFE=true CIVICMARK_REQUIRE_BROWSER=1 $(BIN)/pytest -m browser

# Regenerate the message catalogs after changing translatable text (needs gettext).
# (The test settings: the catalogue needs no secret key and no database.)
messages: $(VENV)/.installed
	cd civicmark && CIVICMARK_TESTING=1 ../$(BIN)/civicmark makemessages -l zh_Hans --no-obsolete --ignore 'static/*'
	cd civicmark && CIVICMARK_TESTING=1 ../$(BIN)/civicmark compilemessages -l zh_Hans

vendor:
	./scripts/vendor-static.sh
	./scripts/vendor-test-assets.sh

clean:
	rm -rf $(VENV) var build *.egg-info
