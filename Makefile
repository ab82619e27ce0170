# The two commands from the README, and what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
export PORT

.PHONY: run test lint venv clean

# Reinstall only when a dependency list changed: later runs start in seconds.
$(STAMP): platform/pyproject.toml plugins/*/pyproject.toml requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e platform -e plugins/b2c -e plugins/b2b -e plugins/example -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/twofold dev --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check platform plugins tests benchmarks wsgi.py

clean:
	rm -rf $(VENV) instance .pytest_cache
