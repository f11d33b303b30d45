# newsie: `make demo` runs the embedded model over the seeds; `make test` runs the offline suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARCH := $(shell uname -m)
LLAMA_VERSION := 0.3.36
# llama.cpp's default -march=native build picks AMX kernels on CPUs that advertise AMX, and
# those crashed (SIGSEGV on the first batched decode) on the virtual machines here. So on
# x86-64 we build a portable AVX2 wheel once and keep it in the user cache.
ifeq ($(ARCH),x86_64)
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
else
LLAMA_CMAKE :=
endif
WHEELS := $(HOME)/.cache/newsie/wheels/$(ARCH)-portable

.PHONY: demo test test-ray record lint check-cassettes bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

$(WHEELS)/.llama-$(LLAMA_VERSION): | $(BIN)/python
	mkdir -p $(WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip wheel --no-deps --no-cache-dir -w $(WHEELS) \
		"llama-cpp-python==$(LLAMA_VERSION)"
	touch $@

$(VENV)/.local: $(BIN)/python pyproject.toml $(WHEELS)/.llama-$(LLAMA_VERSION)
	$(BIN)/pip install -q --find-links $(WHEELS) \
		"llama-cpp-python[server]==$(LLAMA_VERSION)" -e ".[local]"
	touch $@

demo: $(VENV)/.local
	$(BIN)/newsie extract seeds/ --format table

test: $(VENV)/.dev check-cassettes
	$(BIN)/pytest -q

# newsie.ray on a local Ray cluster: slow to start, so kept out of `make test` (CI runs both).
test-ray: $(VENV)/.dev
	$(BIN)/pytest -q -m ray

# Re-record every cassette from the real embedded model (needs `make demo`'s install).
record: $(VENV)/.dev $(VENV)/.local
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
