# The README's two commands: `make run` and `make test`. Each creates its own virtualenv.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:12])")

.PHONY: run example test lint typecheck layers pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

## run: the demo ecosystem: three community nodes on 127.0.0.1, seeded, following and
## witnessing each other (Ctrl-C stops them)
run: $(STAMP)
	$(BIN)/rdh demo

## example: build a small signed example bundle without any node, then audit it offline
example: $(STAMP)
	$(BIN)/rdh example out/example-bundle --force
	$(BIN)/rdh audit out/example-bundle

## test: format check, lint, strict typing, import layers, then the test suite
test: lint typecheck layers pytest

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

## bench: the performance benchmarks (not part of the tests; see benchmarks/RESULTS.md)
bench: $(STAMP)
	$(BIN)/python benchmarks/audit_bench.py

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache .hypothesis
