# Kehu — the two commands: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# The demo keeps its database in ./var unless KEHU_DATA_DIR says otherwise.
export KEHU_DATA_DIR ?= $(CURDIR)/var

.PHONY: install demo serve test test-sqlite test-postgres lint typecheck messages bench-import bench-pages bench-credit bench-snapshot openapi constraints clean

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Kehu needs Python 3.11, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

install: $(BIN)/.installed

## make demo — set up, build the demo company and serve it on http://127.0.0.1:8000
demo: install
	$(BIN)/kehu demo $(DEMO_ARGS)

serve: install
	$(BIN)/kehu serve

## make test — set up and run every check and test (SQLite; PostgreSQL too when
## KEHU_TEST_DATABASE_URL is set, e.g. postgres://postgres@127.0.0.1:5432/test)
test: install lint test-sqlite
	@if [ -n "$$KEHU_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "KEHU_TEST_DATABASE_URL is not set: the PostgreSQL run is left out."; fi

test-sqlite: install
	env -u KEHU_TEST_DATABASE_URL $(BIN)/pytest -n 2 --dist loadfile

test-postgres: install
	$(BIN)/pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check src bench
	$(BIN)/ruff format --check src bench
	$(BIN)/lint-imports
	env -u KEHU_TEST_DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run --settings=kehu.config.settings.test

typecheck: install
	$(BIN)/mypy src

messages: install
	cd src/kehu && PYTHONPATH=.. ../../$(BIN)/django-admin makemessages -l zh_Hans --settings=kehu.config.settings.test --ignore='*/tests/*'
	cd src/kehu && PYTHONPATH=.. ../../$(BIN)/django-admin compilemessages --settings=kehu.config.settings.test

openapi: install
	$(BIN)/python manage.py export_openapi --settings=kehu.config.settings.test

# Benchmarks keep their data in bench/data (gitignored); BENCH_POSTGRES adds a PostgreSQL run.
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432/kehu_bench
bench-import: install
	$(BIN)/python bench/bench_import.py --data bench/data/import --postgres $(BENCH_POSTGRES)_import

bench-credit: install
	$(BIN)/python bench/bench_credit_check.py --database-url $(BENCH_POSTGRES)_credit

bench-pages: install
	$(BIN)/python bench/bench_customer_pages.py --data bench/data/pages

# SNAPSHOT_ARGS="--customers 100000 --rows 2000000" for a quicker run than 1M customers / 20M orders.
bench-snapshot: install
	$(BIN)/python bench/bench_snapshot.py --data-dir bench/data/snapshot $(SNAPSHOT_ARGS)

constraints:
	$(BIN)/pip freeze --exclude-editable | grep -v '^kehu' > constraints.txt.new
	(echo "# Pinned versions the project is tested with (pip install -c constraints.txt)."; \
	 echo "# Refresh with: make constraints"; cat constraints.txt.new) > constraints.txt
	rm constraints.txt.new

clean:
	rm -rf $(VENV) var build *.egg-info
