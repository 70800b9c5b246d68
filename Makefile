# `make run`: the app on embedded PostgreSQL + Redis with demo data, on http://127.0.0.1:5000
# `make test`: the whole test suite (real PostgreSQL, Redis and Chromium)
# `make lint`: ruff's checks (pyproject.toml); `make format`: ruff's formatter; `make lock`: refresh the hashed lock files
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CATALOGS := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test lint format lock worker translations chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs come from the locks, every file checked against its hash (requirements*.txt say what
# the project asks for; `make lock` resolves them into requirements.lock / requirements-dev.lock).
$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

# The development set: the runtime plus the embedded servers, the emulators' helpers and the
# test tools, which `make run` and `make test` need and production never installs.
$(VENV)/.dev: requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

%.mo: %.po | $(VENV)/.runtime
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

run: $(VENV)/.dev $(CATALOGS)
	$(BIN)/python -m app.launcher

# pytest's settings (per-test timeout, warnings as errors) are in pyproject.toml; the lint runs
# inside the suite too (tests/test_packaging.py).
test: $(VENV)/.dev $(CATALOGS) chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff format .

# After changing requirements.txt or requirements-dev.txt. The development lock starts from the
# runtime lock's pins, so both install the same version of every package they share.
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(VENV)/.dev
	$(PIP_COMPILE) -o requirements.lock requirements.txt
	cp requirements.lock requirements-dev.lock
	$(PIP_COMPILE) -o requirements-dev.lock requirements-dev.txt

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
