# The two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-machine test-fast lint format bench clean portal backup restore fuzz faults authz-matrix lock

# The portal (portal/, Vue + Vite), built to portal/dist for the gateway: `npm ci` when its lock file changed,
# `npm run build` when any of its sources did; both stamped, so nothing runs when nothing changed.
PORTAL_SOURCES := $(shell find portal -path portal/node_modules -prune -o -path portal/dist -prune -o -type f -print 2>/dev/null)
PORTAL_DEPS := portal/node_modules/.installed
PORTAL_BUILT := portal/node_modules/.built
# Swagger UI's own files for /openapi/<service>/docs (no CDN), from deploy/swagger-ui's lock file.
SWAGGER_UI := deploy/swagger-ui/node_modules/.installed
NPM_CI := npm ci --no-audit --no-fund --loglevel=error

# The dependencies exactly as locked (requirements/dev.txt: versions and hashes), then the project itself; again when
# a service package appears (setup.py finds services/<name>/<name>/, the editable install maps each by name).
$(STAMP): pyproject.toml setup.py requirements/dev.txt $(wildcard services/*/*/__init__.py)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(PORTAL_DEPS): portal/package.json portal/package-lock.json
	cd portal && $(NPM_CI)
	touch $@

$(PORTAL_BUILT): $(PORTAL_DEPS) $(PORTAL_SOURCES)
	cd portal && npm run build
	touch $@

$(SWAGGER_UI): deploy/swagger-ui/package.json deploy/swagger-ui/package-lock.json
	cd deploy/swagger-ui && $(NPM_CI) --ignore-scripts
	touch $@

## portal: build the portal (portal/dist) and fetch Swagger UI's files, when their sources changed
portal: $(PORTAL_BUILT) $(SWAGGER_UI)

## run: every service's web and worker, the nginx gateway (serving the portal at /); prints the gateway URL
run: $(STAMP) portal
	scripts/system-packages.sh
	$(PY) -m scripts.run_local

## test: prepare the machine (test tools, local servers), build the portal, then the whole suite: unit,
## integration against RabbitMQ and PostgreSQL, e2e through nginx on the embedded default and on the server, the
## portal in Chromium
test: $(STAMP) test-machine portal
	$(VENV)/bin/pytest -m "not benchmark"

## test-machine: what the suite needs beyond the venv (Debian and npm packages, checkov, PostgreSQL, RabbitMQ)
test-machine:
	scripts/prepare-test-machine.sh

test-fast: $(STAMP)
	$(VENV)/bin/pytest tests/unit -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## fuzz: the longer fuzzing run (make test runs 5 examples per operation): FUZZ_EXAMPLES per operation
FUZZ_EXAMPLES ?= 100
fuzz: $(STAMP) portal
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest tests/e2e/harness/test_fuzz_e2e.py -q

## faults: 1,000 submissions through the gateway while the broker, processes and database fail (one JSON line)
faults: $(STAMP)
	$(PY) -m bench.faults

## authz-matrix: regenerate tests/authz_matrix.yaml from a running stack, to be reviewed before committing
authz-matrix: $(STAMP)
	$(PY) -m scripts.authz_matrix

## bench: the benchmarks in bench/, each printing one JSON line
bench: $(STAMP)
	$(PY) -m bench.http
	$(PY) -m bench.bus
	$(PY) -m bench.token
	$(PY) -m bench.nominations
	$(PY) -m bench.approvals
	$(PY) -m bench.notifications
	$(PY) -m bench.deadline_day

## backup: one pg_dump per service database and a manifest, under backups/<UTC time> (BACKUP_DIR=... to choose;
## BACKUP_ARGS=--compose for the compose stack); restore: BACKUP=<that directory> into empty databases (CLEAN=1 to
## replace databases that hold tables; RESTORE_ARGS="--database-suffix _copy" to restore beside the live ones)
backup: $(STAMP)
	$(PY) -m scripts.backup $(BACKUP_ARGS) backup $(if $(BACKUP_DIR),--out "$(BACKUP_DIR)")

restore: $(STAMP)
	@test -n "$(BACKUP)" || { echo "make restore BACKUP=backups/<time> [CLEAN=1] [RESTORE_ARGS=...]"; exit 2; }
	$(PY) -m scripts.backup $(RESTORE_ARGS) restore "$(BACKUP)" $(if $(CLEAN),--clean)

## lock: resolve pyproject.toml again into requirements/*.txt (versions and hashes, for every platform)
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --no-header --quiet -o requirements/runtime.txt
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes --no-header --quiet -o requirements/dev.txt
	$(VENV)/bin/uv pip compile --group pyproject.toml:checkov --universal --python-version 3.11 --generate-hashes --no-header --quiet -o requirements/checkov.txt

clean:
	rm -rf .run var .pytest_cache .mypy_cache .ruff_cache
