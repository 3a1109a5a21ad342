# The two commands a new user runs: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin

.PHONY: demo test check bench bench-quick install dev compile clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev,gpu]'
	touch $@ $(VENV)/.installed

# The balancer's per-request modules compiled to C by mypyc (setup.py): about half the proxy's
# Python CPU per request. Rebuilt whenever a balancer source changes; without a C compiler the
# pure-Python modules stay in use (the build says so) and everything still works.
DATA_PLANE_SRC := setup.py $(wildcard src/vigil/balancer/*.py src/vigil/balancer/policies/*.py)

$(VENV)/.compiled: $(VENV)/.installed $(DATA_PLANE_SRC)
	@echo "compiling the balancer's data plane with mypyc (about a minute; log: $(VENV)/compile.log)"
	@$(PY) -m pip install -q 'mypy>=1.10' 'setuptools>=77' >$(VENV)/compile.log 2>&1 \
	  || echo "vigil: cannot install mypyc (see $(VENV)/compile.log)" >&2  # setuptools: PEP 639
	@VIGIL_MYPYC=1 $(PY) setup.py -q build_ext --inplace >>$(VENV)/compile.log 2>&1 \
	  && find src -name '*.so' -exec touch {} + && touch $@ \
	  || echo "vigil: the data plane could not be compiled (see $(VENV)/compile.log); it runs as pure Python" >&2

install: $(VENV)/.installed $(VENV)/.compiled
dev: $(VENV)/.installed-dev $(VENV)/.compiled
compile: $(VENV)/.compiled

demo: install
	$(BIN)/vigil demo

# The whole suite on the compiled build, then the balancer's tests again from source.
test: dev
	$(PY) -m pytest -q -p no:cacheprovider
	VIGIL_PURE_PYTHON=1 $(PY) -m pytest -q -p no:cacheprovider tests/balancer

check: dev
	$(BIN)/ruff check src tests bench setup.py
	$(BIN)/ruff format --check src tests bench setup.py
	$(BIN)/mypy
	$(BIN)/lint-imports

BENCHES := heal agent_cost agent_memory agent_http_cost nab rules logparse logwire ingest balance_sim balance_overhead balance_rounds balance_stream stream_trace stream_setup balance_faults alert_burst log_stall fence_cost scrape_stall burst_memory dashboard overview_304 crowded_bucket crowded_accuracy miner_merges fenced_action_cost controller_gc sweep_stall balance_exact_cost slow_controller

bench: dev
	for b in $(BENCHES); do $(PY) bench/$$b.py || exit 1; done

bench-quick: dev
	for b in $(BENCHES) families; do $(PY) bench/$$b.py --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache src/*.egg-info build
	find src -name '*.so' -delete
