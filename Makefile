# Two commands: `make run` sets up and serves the app; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP := $(VENV)/.installed-app
TOOLS := $(VENV)/.installed-test

.PHONY: run test lint smoke bench i18n screenshots clean

# The app alone: what `make run` needs.
$(APP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(APP)

# The app with its test tools (pytest, Playwright, SciPy, ruff, import-linter).
$(TOOLS): $(APP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TOOLS)

run: $(APP)
	$(BIN)/cnn-playground serve --host 127.0.0.1 --port 8000

lint: $(TOOLS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	sh scripts/ensure-chromium
	sh scripts/ensure-redis
	$(BIN)/pytest -ra

# The wheel, installed into a fresh virtual environment, serving every page from elsewhere.
smoke: $(TOOLS)
	$(BIN)/python scripts/smoke_wheel.py

bench: $(TOOLS)
	$(BIN)/cnn-playground bench

# Re-extract the message catalog and merge it into both languages.
i18n: $(APP)
	$(BIN)/python scripts/i18n_sync.py

# The browser tests save a screenshot of every page they drive, in tests/browser/screenshots/.
screenshots: $(TOOLS)
	sh scripts/ensure-chromium
	$(BIN)/pytest -q -m browser

clean:
	rm -rf $(VENV) .pytest_cache
