# secpipe — developer entry points. `make run` and `make test` work from a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-slow check lint typecheck bench bench-1g bench-formats clean

# the native accelerators (setup.py) build where cargo / a C compiler exist; rustup installs cargo here
export PATH := $(HOME)/.cargo/bin:$(PATH)

$(STAMP): pyproject.toml constraints.txt setup.py native/Cargo.toml native/Cargo.lock $(wildcard native/src/*.rs) \
          src/secpipe/transforms/protect/_rewrite.c
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run secpipe on its embedded default (HTTP ingest on 127.0.0.1:8088, lake in ./secpipe-data).
run: $(STAMP)
	$(BIN)/secpipe up

## The default test suite (CI runs this).
test: $(STAMP)
	$(BIN)/pytest -q

## Slow suites: soak, scale, browser.
test-slow: $(STAMP)
	$(BIN)/pytest -q -m "slow or soak or browser" -o addopts="-ra"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

check: lint typecheck test

## Benchmarks print JSON lines; SIZE_MB=1024 for the 1 GB run.
bench: $(STAMP)
	$(BIN)/python bench/ingest_bench.py --size-mb $${SIZE_MB:-200}

bench-1g: $(STAMP)
	$(BIN)/python bench/ingest_bench.py --size-mb 1024

bench-formats: $(STAMP)
	$(BIN)/python bench/formats_all.py

clean:
	rm -rf $(VENV) secpipe-data bench/out
