# Everything a developer or CI needs; `make sandbox` and `make test` work on a fresh clone.
# Another interpreter gets its own venv: make test PYTHON=python3.13 VENV=.venv-3.13
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
PO := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)
PYTHON_BUILD = import sys; print(sys.hexversion, sys.base_prefix)

WANTED_BUILD := $(shell $(PYTHON) -c '$(PYTHON_BUILD)' 2>/dev/null)

# A venv made by another interpreter, or whose interpreter is gone, is made again.
ifneq ($(shell $(BIN)/python -c '$(PYTHON_BUILD)' 2>/dev/null),$(WANTED_BUILD))
REMAKE_VENV := yes
$(STAMP): FORCE
endif

.PHONY: help install servers sandbox test lint typecheck run eval bench soak locales extract-messages lock wheel \
	clean FORCE

help:
	@echo "make sandbox   chat with the bot in this terminal (no token needed)"
	@echo "make test      ruff, mypy and pytest"
	@echo "make run       run the bot for real (needs BOT_TOKEN)"
	@echo "make eval      search accuracy per language and kind (tuning sets, then every blind holdout)"
	@echo "make bench     search latency; /stats, digest and storage at 10k-1M respondents (SQLite and"
	@echo "              PostgreSQL); throughput (SQLite, PostgreSQL with 1 and 2 instances)"
	@echo "make soak      memory idle, after a burst of 20,000 new people, over 100,000 updates"
	@echo "make extract-messages   refresh the catalogs after changing user-facing strings"
	@echo "make lock      refresh requirements*.lock from pyproject.toml's ranges"
	@echo "make wheel     build dist/vyraj-*.whl (catalogs compiled inside)"

# Dependencies come from the lock (hashes checked), the project itself without them.
$(STAMP): $(DEV_LOCK) pyproject.toml
	@[ -n "$(WANTED_BUILD)" ] || { echo "$(PYTHON) does not run: set PYTHON=/path/to/python3.11 (or 3.12, 3.13)"; exit 1; }
ifdef REMAKE_VENV
	@if [ -d $(VENV) ]; then echo "$(VENV) is broken or not made by $(PYTHON): making it again"; fi
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
endif
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) locales

# Debian's postgresql and redis-server for the tests against real servers (see .ci/install-servers).
servers:
	@bash .ci/install-servers

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BIN)/pybabel compile -d locales -D messages -l $* >/dev/null

locales: $(MO)

sandbox: install
	$(BIN)/vyraj sandbox

run: install
	$(BIN)/vyraj run

eval: install
	$(BIN)/python bench/eval_search.py

bench: install
	$(BIN)/python bench/search_latency.py
	$(BIN)/python bench/stats_speed.py
	$(BIN)/python bench/stats_speed.py --backend postgres
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/backends_throughput.py
	$(BIN)/python bench/storage_backends.py
	$(BIN)/python bench/redis_shared.py

soak: install
	$(BIN)/python bench/soak.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: install lint typecheck servers
	$(BIN)/pytest -q

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k __ -k lazy_gettext -k ngettext:1,2 \
		--no-location --sort-output -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --ignore-obsolete \
		--width=99

# uv is needed only here; the locks hold every supported Python (3.11+) and platform.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
		--upgrade --quiet --custom-compile-command "make lock" -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra dev --group build --constraint $(LOCK) \
		--universal --python-version 3.11 --generate-hashes --upgrade --quiet \
		--custom-compile-command "make lock" -o $(DEV_LOCK)

wheel: install
	rm -rf build dist
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

clean:
	rm -rf .venv .venv-* build dist .mypy_cache .ruff_cache .pytest_cache $(MO)
