# Two commands do everything on a fresh machine with Python 3.11+ and make:
#   make run   start footfall on the embedded default (chdb + its own Redis)
#   make test  install what the tests need and run them
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint screenshot bench-collector clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[embedded,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/footfall serve --demo

# The browser tests drive Debian's Chromium; the benchmarks use wrk.
/usr/bin/chromium:
	@command -v apt-get >/dev/null || { echo "install Chromium at /usr/bin/chromium"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

/usr/bin/wrk:
	@command -v apt-get >/dev/null || { echo "install wrk"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null

# The tests run on every core (at most four: each worker holds its own chdb, ~1 GB).
test: $(STAMP) /usr/bin/chromium
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n auto --maxprocesses 4

# README's picture of the dashboard, taken by the browser test that fills a site page.
screenshot: $(STAMP) /usr/bin/chromium
	SCREENSHOT_TO=docs/dashboard.png $(BIN)/pytest -q tests/test_dashboard_browser.py -k screenshot

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-collector: $(STAMP) /usr/bin/wrk
	$(BIN)/python bench/collector.py

clean:
	rm -rf $(VENV) data build *.egg-info
