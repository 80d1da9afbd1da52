# Two entry points for a newcomer: `make run` (the main job) and `make test` (the suite).
# Each builds the virtual environment it needs on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint browser bench peer firstresult clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The Rongcheng points system at full size (714,355 people) for a year.
run: $(STAMP)
	$(BIN)/socialcredit run rongcheng

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

# The report test renders pages in Debian's Chromium (Playwright drives /usr/bin/chromium).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: /usr/bin/chromium is missing and this is not root: the browser test will skip"; \
	  fi; \
	fi

test: lint browser
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

# socialcredit against its Mesa peer on the rongcheng rules: agreement and speed ratio.
# The peer has its own environment (benchmarks/peers/.venv, Mesa pinned in requirements.txt).
peer: $(STAMP)
	PYTHON=$(PYTHON) bash benchmarks/peers/setup.sh
	$(BIN)/python benchmarks/peers/compare.py

# Time to first result of the README's main job (socialcredit run rongcheng).
firstresult: $(STAMP)
	$(BIN)/python benchmarks/first_result.py

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
