# The two quickstart commands: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint benchmark docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: a CPU build that lies on disk; anything looser pulls CUDA.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## set up and run the main job on the embedded zoo: check case 3's model, run ACDC on it
	$(BIN)/interpbench eval --case 3
	$(BIN)/interpbench run --case 3 --method acdc --loader siit

test: $(STAMP)  ## set up and run the test suite (what CI runs)
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)  ## the exhaustive checks only: every case compiled and checked
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)  ## ruff (lint, format), import-linter (the layering), mypy (types): what CI runs
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

benchmark: $(STAMP)  ## speed against auto-circuit (see benchmarks/README.md for installing it)
	$(BIN)/python benchmarks/bench_methods.py

docs: $(STAMP)  ## regenerate the generated parts of docs/ and schemas/
	$(BIN)/interpbench schema --write schemas
	$(BIN)/python tools/docs_gen.py

clean:
	rm -rf $(VENV) build *.egg-info
