# The two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format bench clean backup restore

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: every service's web and worker, the nginx gateway; prints the gateway URL
run: $(STAMP)
	scripts/system-packages.sh
	$(PY) scripts/run_local.py

## test: prepare the machine (test tools, local servers), then the whole suite: unit, integration against
## RabbitMQ and PostgreSQL, e2e through nginx on the embedded default and on the server
test: $(STAMP)
	scripts/prepare-test-machine.sh
	$(VENV)/bin/pytest -m "not benchmark"

test-fast: $(STAMP)
	$(VENV)/bin/pytest tests/unit -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## bench: the benchmarks in bench/, each printing one JSON line
bench: $(STAMP)
	$(PY) bench/http.py
	$(PY) bench/bus.py
	$(PY) bench/token.py
	$(PY) bench/nominations.py
	$(PY) bench/approvals.py
	$(PY) bench/notifications.py

## backup: one pg_dump per service database and a manifest, under backups/<UTC time> (BACKUP_DIR=... to choose;
## BACKUP_ARGS=--compose for the compose stack); restore: BACKUP=<that directory> into empty databases (CLEAN=1 to
## replace databases that hold tables; RESTORE_ARGS="--database-suffix _copy" to restore beside the live ones)
backup: $(STAMP)
	$(PY) scripts/backup.py $(BACKUP_ARGS) backup $(if $(BACKUP_DIR),--out "$(BACKUP_DIR)")

restore: $(STAMP)
	@test -n "$(BACKUP)" || { echo "make restore BACKUP=backups/<time> [CLEAN=1] [RESTORE_ARGS=...]"; exit 2; }
	$(PY) scripts/backup.py $(RESTORE_ARGS) restore "$(BACKUP)" $(if $(CLEAN),--clean)

clean:
	rm -rf .run var .pytest_cache .mypy_cache .ruff_cache
