# Concord: build, run and test harness (GNU make, Debian 12).
#
#   make setup   Debian packages, .venv with the project and its dev extras, translations
#   make run     setup, migrate, load the demo data, serve on http://127.0.0.1:5000
#   make test    setup, pytest on SQLite, then pytest on PostgreSQL (both must pass)
#   make clean   remove .venv and instance/
#
# Works on a fresh Debian machine that has only python3: whatever is missing is
# installed with apt-get when we are root, or named in a sudo command otherwise.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PY          ?= python3
VENV        ?= .venv
VBIN        := $(VENV)/bin
STAMP       := $(VENV)/.installed
FLASK       := $(VBIN)/flask --app app
SHARED      ?= ../shared
RUN_HOST    ?= 127.0.0.1
RUN_PORT    ?= 5000
PYTEST_ARGS ?=

# Fonts for CJK PDFs, WeasyPrint's libraries, poppler for PDF checks, and the
# browser for the browser tests (optional: those tests skip without it).
DEB_PACKAGES     := fonts-noto-cjk fonts-wqy-zenhei chromium libpango-1.0-0 \
                    libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils
OPTIONAL_PACKAGES := chromium
APT_INSTALL      := DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends

.DEFAULT_GOAL := help
.PHONY: help setup system-packages translations run test postgres-server clean

# List the targets.
help:
	@sed -n 's/^#   make /make /p' $(firstword $(MAKEFILE_LIST))

# Everything run and test need.
setup: translations

# Debian packages that are missing (dpkg -s); apt-get as root, else print the sudo command.
system-packages:
	@if ! command -v dpkg >/dev/null 2>&1; then \
	  echo "warning: no dpkg (not Debian?); install by hand: $(DEB_PACKAGES)" >&2; exit 0; \
	fi; \
	required=""; optional=""; \
	if [ ! -x $(VBIN)/python ] && ! $(PY) -c 'import ensurepip' >/dev/null 2>&1; then \
	  required=" python3-venv"; \
	fi; \
	for pkg in $(DEB_PACKAGES); do \
	  dpkg -s "$$pkg" >/dev/null 2>&1 && continue; \
	  case " $(OPTIONAL_PACKAGES) " in \
	    *" $$pkg "*) optional="$$optional $$pkg" ;; \
	    *) required="$$required $$pkg" ;; \
	  esac; \
	done; \
	[ -z "$$required$$optional" ] && exit 0; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "Missing Debian packages; run:" >&2; \
	  echo "  sudo apt-get install -y --no-install-recommends$$required$$optional" >&2; \
	  if [ -n "$$required" ]; then exit 1; fi; \
	  echo "warning: continuing without$$optional (browser tests will skip)" >&2; exit 0; \
	fi; \
	echo "Installing Debian packages:$$required$$optional"; \
	apt-get update -q; \
	if [ -n "$$required" ]; then $(APT_INSTALL)$$required; fi; \
	if [ -n "$$optional" ] && ! $(APT_INSTALL)$$optional; then \
	  echo "warning: could not install$$optional (browser tests will skip)" >&2; \
	fi

# The virtualenv (recreated only when its python is missing or broken).
$(VBIN)/python: | system-packages
	rm -rf $(VENV)
	$(PY) -m venv $(VENV)

# The project and its dev extras, reinstalled whenever pyproject.toml changes.
$(STAMP): pyproject.toml | system-packages $(VBIN)/python
	$(VBIN)/pip install -e '.[dev]'
	touch $@

# Compile the .po catalogues, if there are any yet.
translations: $(STAMP)
	@if [ -d app/translations ] && find app/translations -name '*.po' | grep -q .; then \
	  $(VBIN)/pybabel compile -d app/translations; \
	fi

# Migrate, load the demo data on first run (it prints the demo logins either way), import
# the statutes (unchanged files are skipped; changed laws are indexed for search), give the
# core laws' articles their meaning vectors in the background (minutes, the first time only;
# search works by words meanwhile), serve.
run: setup
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	@if [ -d $(SHARED)/statutes ]; then \
	  echo "$(FLASK) statutes import --no-embed $(SHARED)/statutes"; \
	  $(FLASK) statutes import --no-embed $(SHARED)/statutes; \
	  echo "$(FLASK) statutes embed, in the background (log: instance/statutes-embed.log)"; \
	  nohup $(FLASK) statutes embed > instance/statutes-embed.log 2>&1 & \
	fi
	@echo "Concord is starting on http://$(RUN_HOST):$(RUN_PORT) (demo logins above; Ctrl+C stops it)"
	$(FLASK) run --host $(RUN_HOST) --port $(RUN_PORT)

# pytest on SQLite, then on PostgreSQL (server found or started by tests/pgserver.py).
# Both runs always run; the target fails if either failed. Exit 5 ("no tests
# selected", e.g. by PYTEST_ARGS="-k ...") counts as passed.
test: setup postgres-server
	@status=0; \
	run() { \
	  echo "== pytest, CONCORD_TEST_DB=$$1 =="; \
	  rc=0; CONCORD_TEST_DB=$$1 $(VBIN)/python -m pytest $(PYTEST_ARGS) || rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "(no tests selected on $$1)"; rc=0; fi; \
	  if [ $$rc -ne 0 ]; then echo "!! pytest on $$1 failed (exit $$rc)" >&2; status=1; fi; \
	}; \
	run sqlite; \
	run postgresql; \
	exit $$status

# PostgreSQL for the tests: a server on 127.0.0.1:5432, or initdb to start one;
# otherwise install the Debian package postgresql.
postgres-server: | system-packages
	@if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi; \
	if $(PY) -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2).close()' \
	     >/dev/null 2>&1; then exit 0; fi; \
	if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "No PostgreSQL server on 127.0.0.1:5432 and no initdb; run:" >&2; \
	  echo "  sudo apt-get install -y --no-install-recommends postgresql" >&2; \
	  exit 1; \
	fi; \
	echo "Installing Debian package: postgresql"; \
	apt-get update -q; \
	$(APT_INSTALL) postgresql

# Remove the virtualenv and the instance folder (local database, uploads).
clean:
	rm -rf $(VENV) instance
