# Two commands for a newcomer (README.md):
#   make run    set up, migrate, seed demo data and serve on http://127.0.0.1:8000
#   make test   set up and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test setup lint schema client-check bench bench-tools bench-small chaos messages clean console-vendor

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "API:      http://$(HOST):$(PORT)/api/v1/"
	@echo "API docs: http://$(HOST):$(PORT)/api/v1/docs/"
	@echo "Admin:    http://$(HOST):$(PORT)/admin/   (log in with the admin login above)"
	@echo "Console:  http://$(HOST):$(PORT)/console/ (log in with the leader or admin login above)"
	@echo "Log in:   curl -X POST http://$(HOST):$(PORT)/api/v1/auth/login -H 'Content-Type: application/json' -d '{\"email\": \"employee@demo.example\", \"password\": \"demo-password-2026\"}'"
	@echo ""
	$(PY) -m server.serve --host $(HOST) --port $(PORT) --workers 1

test: setup
	$(PY) -m pytest -n 2 --dist load $(PYTEST_ARGS)

# Outage runs (slow, not in CI): Redis killed under load, a worker SIGKILLed mid fan-out,
# FCM failing half the time, PostgreSQL stopped, backup/restore, a rolling deploy (old and new
# release side by side). Starts its own Redis on port 6391 and uses PostgreSQL
# (CHAOS_DATABASE_URL); figures go to tests/chaos/last_run.json and docs/reliability.md.
chaos: setup
	$(PY) -m tests.chaos.run all

lint: setup
	$(PY) -m ruff check .

schema: setup
	$(PY) manage.py spectacular --fail-on-warn --validate --file /tmp/openapi-schema.yml

# The TypeScript client an app developer generates (openapi-typescript, default options), and a
# typed phone session (clients/typescript/session.ts) checked against it with tsc --strict, and the
# WebSocket frames from the AsyncAPI document with a typed handler (stream.ts).
# Needs Node.js 20+ and npm; calls no server.
client-check: schema
	$(PY) manage.py asyncapi --file /tmp/asyncapi.json
	clients/typescript/check.sh /tmp/openapi-schema.yml /tmp/asyncapi.json

# Benchmarks (bench/README.md): seed or reuse a company-scale data set in PostgreSQL, run every
# scenario of the performance issue, write docs/benchmarks.md. Needs PostgreSQL and Redis.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/feedapp_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/5
BENCH_SCALE ?= 1.0
BENCH_ARGS ?=

# wrk (Debian package) generates the throughput load (F3, F5) from C, leaving the cores to the
# server; without it api_bench falls back to httpx and says so in the report.
bench-tools:
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null 2>&1 || sudo apt-get install -y -q wrk >/dev/null 2>&1 || echo "wrk not installed: throughput runs fall back to httpx"

bench: setup bench-tools
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) $(PY) bench/run_all.py --scale $(BENCH_SCALE) $(BENCH_ARGS)

# Minutes, not an hour: scale 0.01, few sockets and devices. Checks the scripts, measures little.
bench-small: setup bench-tools
	mkdir -p bench/.data/small
	DATABASE_URL=$(BENCH_DATABASE_URL)small REDIS_URL=$(BENCH_REDIS_URL) BENCH_DATA_DIR=bench/.data/small \
		BENCH_REPORT=bench/.data/small/benchmarks.md $(PY) bench/run_all.py --scale 0.01 --small $(BENCH_ARGS)

# Translations: one catalogue, locale/, for every text of every app (API messages, labels,
# and the push texts each app declares with its events). The compiled .mo file is
# committed, so a checkout works without this step; run it after adding or changing a
# translatable string, translate the new (empty or fuzzy) entries in the .po file, and run
# it again to compile them. tests/test_i18n.py fails until the catalogue is complete.
messages: setup
	$(PY) manage.py makemessages -l nl --no-obsolete --ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=clients --ignore=console/node_modules
	$(PY) manage.py compilemessages -l nl --ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=clients --ignore=console/node_modules

# The console's front-end libraries (console/package.json, pinned) copied into its static files;
# the copies are committed, so `make run` needs no Node.js. Run after changing a version.
console-vendor:
	cd console && npm ci --no-audit --no-fund --ignore-scripts
	rm -f console/static/console/vendor/chart-*.js console/static/console/vendor/htmx-*.js
	cp console/node_modules/chart.js/dist/chart.umd.min.js console/static/console/vendor/chart-$$(node -p "require('./console/node_modules/chart.js/package.json').version").umd.min.js
	cp console/node_modules/chart.js/LICENSE.md console/static/console/vendor/chart.js.LICENSE.md
	cp console/node_modules/htmx.org/dist/htmx.min.js console/static/console/vendor/htmx-$$(node -p "require('./console/node_modules/htmx.org/package.json').version").min.js
	cp console/node_modules/htmx.org/LICENSE console/static/console/vendor/htmx.LICENSE
	@echo "Update the file names in console/templates/console/base.html if a version changed."

clean:
	rm -rf $(VENV) db.sqlite3 uploads
