# Two entry points for a newcomer: `make run` (the main job) and `make test` (the suite).
# Each builds the virtual environment it needs on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-slow test-notebooks test-science test-dashboard dashboard lint browser bench bench-sweep ab peer firstresult clean

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

# The default suite, on two processes (pytest-xdist; a module's tests stay in one). The stage
# conformance suite compiles about 200 small programs and runs in a process of its own: late in
# one long process XLA's CPU compiler has crashed on it (docs/decisions.md, "The stage
# conformance suite").
test: lint browser
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --ignore=tests/test_stages.py
	$(BIN)/python -m pytest -q tests/test_stages.py

# Heavy cases (marked slow): more presets in the stage conformance suite.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

# The notebooks in examples/notebooks, executed in a Jupyter kernel of this environment.
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest -q -m notebooks tests/test_example_notebooks.py

# The reputation-science validation cases at full size (docs/science.md; about as long as
# `socialcredit science`).
test-science: $(STAMP)
	$(BIN)/python -m pytest -q -m science tests/test_science.py

# The dashboard in Debian's Chromium: start the server, move a control, run, pause, stop, open a
# credit file and an audit's forest plot (about a minute; screenshots in tests/artifacts/dashboard/).
test-dashboard: $(STAMP) browser
	$(BIN)/python -m pytest -q -m dashboard tests/test_dashboard.py tests/test_dashboard_browser.py

# The dashboard on http://127.0.0.1 (the address is printed; RUNS=folder, PORT=number).
RUNS ?= runs
PORT ?= 5006
dashboard: $(STAMP)
	$(BIN)/socialcredit dashboard $(RUNS) --port $(PORT)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_engine.py

# The engine at two revisions side by side (BEFORE=REV, default the previous commit).
BEFORE ?= HEAD~1
ab: $(STAMP)
	$(BIN)/python benchmarks/ab_engine.py --before $(BEFORE)

# socialcredit against its Mesa peer on the rongcheng rules: agreement and speed ratio.
# The peer has its own environment (benchmarks/peers/.venv, Mesa pinned in requirements.txt).
peer: $(STAMP)
	PYTHON=$(PYTHON) bash benchmarks/peers/setup.sh
	$(BIN)/python benchmarks/peers/compare.py

# Sweeps (issue 13): a 64-experiment sweep against one run and against 64 separate commands,
# and a 16-point design driven by EMA Workbench over the Mesa peer (its environment, setup.sh).
# About 15 minutes on the 2-core machine; QUICK=1 for a smoke size (about 30 s of CPU, under a minute when the machine is quiet).
bench-sweep: $(STAMP)
	PYTHON=$(PYTHON) bash benchmarks/peers/setup.sh
	$(BIN)/python benchmarks/bench_sweep.py $(if $(QUICK),--quick) --json bench-sweep.json

# Time to first result of the README's main job (socialcredit run rongcheng).
firstresult: $(STAMP)
	$(BIN)/python benchmarks/first_result.py

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
