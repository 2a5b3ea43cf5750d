# Everything a developer or CI needs; `make sandbox` and `make test` work on a fresh clone.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PO := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: help install sandbox test lint typecheck run eval bench locales extract-messages clean

help:
	@echo "make sandbox   chat with the bot in this terminal (no token needed)"
	@echo "make test      ruff, mypy and pytest"
	@echo "make run       run the bot for real (needs BOT_TOKEN)"
	@echo "make eval      search accuracy on tests/eval/questions.yaml"
	@echo "make bench     search latency (real guide, synthetic 5,000 x 3); digest time at 10k-1M"
	@echo "make extract-messages   refresh the catalogs after changing user-facing strings"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) locales

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
	$(BIN)/python bench/digest_speed.py
	$(BIN)/python bench/throughput.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/pytest -q

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k __ -k lazy_gettext -k ngettext:1,2 \
		--no-location --sort-output -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --ignore-obsolete \
		--width=99

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(MO)
