# The two commands: `make generate` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The pinned programs the tools step builds come before anything else on PATH.
export PATH := $(CURDIR)/.tools/bin:$(PATH)

.PHONY: generate test check lint tools venv clean bench verify verify-scale

generate: $(STAMP)
	$(BIN)/stackgen generate
	$(BIN)/python -m stackgen.check.documentation docs/finding-codes.md
	if [ -d ../shared/corpus ]; then $(BIN)/python -m stackgen.check.corpus_report ../shared/corpus docs/corpus-findings.md; fi

test: $(STAMP) tools
	$(BIN)/ruff check stackgen specs agent_service tests bench
	$(BIN)/ruff format --check stackgen specs agent_service tests bench
	$(BIN)/mypy
	$(BIN)/stackgen generate --check
	$(BIN)/stackgen check
	$(BIN)/pytest

# The generated stack, live: real agent service, Prometheus and Alertmanager on 127.0.0.1,
# every expression evaluated and every fault scenario run (bounded: about 11 minutes).
verify: $(STAMP) tools
	$(BIN)/stackgen verify

# Past one machine, live: three agent replicas, two Prometheus replicas, two Alertmanagers
# in a gossip cluster and a Thanos store on 127.0.0.1; expressions compared on every source,
# four faults on every replica, each alert counted through kills, a storage node restarted
# (bounded: about 31 minutes).
verify-scale: $(STAMP) tools
	$(BIN)/stackgen verify-scale

check: $(STAMP)
	$(BIN)/stackgen check

lint: $(STAMP)
	$(BIN)/ruff check stackgen specs agent_service tests bench
	$(BIN)/ruff format --check stackgen specs agent_service tests bench
	$(BIN)/mypy

venv: $(STAMP)

# Figures, not assertions: telemetry on vs off, audit ingest, stackgen wall time,
# tracing shutdown with the collector down (BENCHMARKS.md). Needs PostgreSQL (tools).
bench: $(STAMP) tools
	$(BIN)/python -m bench

# The virtual environment is created when missing and reinstalled when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# What the tests need from outside PyPI: the stack's programs built from their Go modules
# (prometheus, promtool, alertmanager, amtool, otelcol, jaeger in .tools/bin, cached by
# version in ~/.cache/stackgen-tools), a PostgreSQL on 127.0.0.1:5432 and chromium.
tools:
	@bash scripts/ensure-test-tools.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
