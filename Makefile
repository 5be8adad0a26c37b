# Two commands for a newcomer (README.md):
#   make run    set up, migrate, seed demo data and serve on http://127.0.0.1:8000
#   make test   set up and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test setup lint schema bench bench-small chaos messages clean

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
	@echo "Log in:   curl -X POST http://$(HOST):$(PORT)/api/v1/auth/login -H 'Content-Type: application/json' -d '{\"email\": \"employee@demo.example\", \"password\": \"demo-password-2026\"}'"
	@echo ""
	$(PY) -m uvicorn server.asgi:application --host $(HOST) --port $(PORT) --ws-per-message-deflate false

test: setup
	$(PY) -m pytest -n 2 --dist load $(PYTEST_ARGS)

# Outage runs (slow, not in CI): Redis killed under load, a worker SIGKILLed mid fan-out,
# FCM failing half the time. Starts its own Redis on port 6391 and uses PostgreSQL
# (CHAOS_DATABASE_URL); figures go to tests/chaos/last_run.json and docs/reliability.md.
chaos: setup
	$(PY) -m tests.chaos.run all

lint: setup
	$(PY) -m ruff check .

schema: setup
	$(PY) manage.py spectacular --fail-on-warn --validate --file /tmp/openapi-schema.yml

# Push texts (notifications/locale). The compiled .mo files are committed, so a checkout
# works without this step; run it after changing a translatable string.
messages: setup
	cd notifications && ../$(PY) ../manage.py makemessages -l nl -l en --no-obsolete && ../$(PY) ../manage.py compilemessages

clean:
	rm -rf $(VENV) db.sqlite3 uploads
