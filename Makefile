# The two commands of the README: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.jupyter-clerk-installed

.PHONY: demo test lint format bench env

env: $(STAMP)

$(STAMP): pyproject.toml
	@echo "==> Setting up the virtual environment in $(VENV) (first run takes a minute or two)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[lab,test,bench]"
	$(VENV)/bin/jupyter server extension enable --sys-prefix jupyter_clerk
	@touch $(STAMP)

demo: env
	$(PY) -m jupyter_clerk.devinstance.demo

test: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

bench: env
	$(PY) -m bench.verify
	$(PY) -m bench.http

format: env
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
