# Two commands on a fresh machine: `make run` serves the demo store, `make test` runs everything.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# PORT first: `:=` expands DEV_ENV right here, so PORT must already have its value.
PORT ?= 8000
DEV_ENV := DEBUG=True STOREFRONT_URL=http://localhost:$(PORT)

.PHONY: run test screenshots lint format install install-test pdf-libs browser worker clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet ".[test]"
	touch $@

install: pdf-libs $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Debian packages, through apt-get: as root (CI) directly; otherwise through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) apt-get update -qq && \
  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq

# Debian's Pango, HarfBuzz and a font, which WeasyPrint loads to make the tax invoice's PDF.
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
pdf-libs:
	@dpkg -s $(PDF_LIBS) >/dev/null 2>&1 || { \
	  echo "Installing Debian's Pango and a font for the invoice PDFs"; \
	  $(APT_INSTALL) $(PDF_LIBS) >/dev/null; }

# Debian's Chromium for the browser tests (a test tool's own browser download fails offline),
# axe-core from the npm registry (package.json) for their accessibility checks, and the Nu HTML
# Checker (npm's vnu-jar) with Debian's Java for tests/test_html.py.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(APT_INSTALL) chromium >/dev/null; }
	@command -v java >/dev/null 2>&1 || { \
	  echo "Installing Debian's Java for the HTML checker"; \
	  $(APT_INSTALL) default-jre-headless >/dev/null; }
	@test -f node_modules/axe-core/axe.min.js -a -f node_modules/vnu-jar/build/dist/vnu.jar || \
	  npm install --no-audit --no-fund --silent  # axe-core, vnu-jar (package.json)

# Quiet: emails go to the admin's Notifications (rendered there), not to the terminal;
# reconciliation runs every minute beside the server (an abandoned checkout's stone returns to
# sale on its own); the store's address is printed last, after the server's own banner.
EMAIL_URL ?= memorymail://
run: install
	@$(DEV_ENV) EMAIL_URL=$(EMAIL_URL) LOG_LEVEL=ERROR $(PY) manage.py migrate --noinput -v 0
	@$(DEV_ENV) EMAIL_URL=$(EMAIL_URL) LOG_LEVEL=ERROR $(PY) manage.py seed_demo >/dev/null
	@$(DEV_ENV) EMAIL_URL=$(EMAIL_URL) LOG_LEVEL=WARNING $(PY) manage.py reconcile_payments --every 60 & \
	  reconciler=$$!; trap 'kill $$reconciler 2>/dev/null' EXIT INT TERM; \
	  ( until $(PY) -c "import socket; socket.create_connection(('localhost', $(PORT)), 1)" 2>/dev/null; \
	    do sleep 1; done; sleep 1; echo; \
	    echo "Ops: http://localhost:$(PORT)/admin/ (staff / staff-demo-pass); README.md says what to try"; \
	    echo "The store: http://localhost:$(PORT)/ (log in as shopper / shopper-demo-pass)" ) & \
	  $(DEV_ENV) EMAIL_URL=$(EMAIL_URL) $(PY) manage.py runserver localhost:$(PORT)

worker: install
	$(PY) manage.py db_worker

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=True DATABASE_URL=sqlite:// $(PY) manage.py makemigrations --check --dry-run  # every model change has its migration

format: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The browser tests save their screenshots outside the tree, so `make test` leaves it clean;
# `make screenshots` runs them saving into docs/screenshots (the README's pictures).
test: install-test pdf-libs browser lint
	$(VENV)/bin/pytest

screenshots: install-test browser
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(VENV)/bin/pytest -q tests/browser

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .ruff_cache
