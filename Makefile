# The two commands of the README: `make run` (start; `make run PORT=8001` elsewhere) and
# `make test` (the whole suite).
UV_VERSION := 0.13.9
UV := .tools/bin/uv
PYTEST_ARGS ?=
# Test files run in parallel, one per worker at a time (fixtures per file are built once).
TEST_WORKERS ?= 2
PORT ?= 8000

.PHONY: run test lint assets schema mutation mutation-lock
run: .venv/.synced assets
	$(UV) run todo-api serve --port $(PORT)

test: .venv/.synced assets
	$(UV) run pytest -n $(TEST_WORKERS) --dist loadfile --cov --cov-report=term $(PYTEST_ARGS)
	$(UV) run coverage report --include='resolvers/*,auth/*' --fail-under=95

lint: .venv/.synced
	$(UV) run ruff check .
	$(UV) run mypy app auth persistence plumbing resolvers rest_compat schema
	$(UV) run lint-imports

# Mutation testing of auth/, resolvers/ and persistence/ (not part of CI): kill rate per folder and
# every surviving mutant in mutation-report.md. Survivors of code run at import are then checked
# one by one in a fresh process (tests/mutation_fresh.py). MUTANTS='auth.*' limits the run to
# those mutants; MUTATION_DATABASES=postgresql judges the PostgreSQL-only code (slower). Results
# are kept in mutants/ (git-ignored): a second run tests only new or changed functions (name
# survivors in MUTANTS to retry them after adding tests).
MUTANTS ?=
MUTATION_DATABASES ?= sqlite
# One more worker than cores: some tests wait (a subprocess, a clock, a timeout) while others run.
MUTATION_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
mutation: .venv/.synced
	HYPOTHESIS_PROFILE=mutation TEST_DATABASES=$(MUTATION_DATABASES) \
	  $(UV) run python -P tests/mutation_run.py run --max-children $(MUTATION_WORKERS) $(foreach m,$(MUTANTS),'$(m)')
	TEST_DATABASES=$(MUTATION_DATABASES) $(UV) run python -m tests.mutation_fresh
	$(UV) run python -m tests.mutation_report > mutation-report.md
	@head -n 20 mutation-report.md

# After reading mutation-report.md against tests/mutation_equivalents.md: the justified survivors,
# with their diffs' fingerprints, so later runs leave them out while their diffs stay the same.
mutation-lock: .venv/.synced
	$(UV) run python -m tests.mutation_report --lock

schema: .venv/.synced
	$(UV) run todo-api export-schema

# GraphiQL and Swagger UI are served from pinned npm packages; without npm the API still runs.
assets:
	@bash web/build.sh || echo "warning: npm unavailable, /graphql and /docs will lack their assets" >&2

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch $@

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)
