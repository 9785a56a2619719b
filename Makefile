# The two set-up commands: `make run` (the embedded stack) and `make test` (the whole suite);
# `make bench` measures (docs/benchmarks.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/microdemand up

# The browser tests open the console and the reports in Debian's headless Chromium (with a font for
# the Chinese pages): installed here when missing and we may (root), so a fresh machine runs them.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium and a CJK font for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  else echo "chromium is missing: the browser tests will skip (apt-get install chromium fonts-wqy-microhei)"; fi; \
	fi

test: install browser
	$(BIN)/pytest -n 2

# The benchmark suite (docs/benchmarks.md): a quick run by default, `make bench ARGS=--full` for 1M events.
bench: install
	$(BIN)/python -m bench $(ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
