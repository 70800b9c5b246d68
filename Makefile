# `make run`: the app on embedded PostgreSQL + Redis with demo data, on http://127.0.0.1:5000
# `make test`: the whole test suite (real PostgreSQL, Redis and Chromium)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CATALOGS := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test worker translations chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

%.mo: %.po | $(VENV)/.runtime
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

run: $(VENV)/.runtime $(CATALOGS)
	$(BIN)/python -m app.launcher

test: $(VENV)/.dev $(CATALOGS) chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: install Debian's 'chromium' package (browser tests need /usr/bin/chromium)"; exit 1; fi; }

worker: $(VENV)/.runtime
	$(BIN)/dramatiq worker --processes 1 --threads 4

# Extract the messages and merge them into the catalogs; then translate app/translations/fr.
translations: $(VENV)/.runtime
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project "Campaign CMS" --no-location -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --ignore-obsolete

clean:
	rm -rf $(VENV) .cache .pytest_cache
