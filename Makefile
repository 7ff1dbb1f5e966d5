# Two commands: `make run` sets up and serves the app; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench i18n screenshot clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/cnn-playground serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	sh scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -ra

bench: $(STAMP)
	$(BIN)/cnn-playground bench

# Re-extract the message catalog and merge it into both languages.
i18n: $(STAMP)
	$(BIN)/python scripts/i18n_sync.py

clean:
	rm -rf $(VENV) .pytest_cache
