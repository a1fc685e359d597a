# The two commands: `make demo` and `make test`. Everything else is what they build on.
.PHONY: setup demo demo-nodes test lint test-sqlite test-postgres format clean

VENV := .venv/bin
PYTEST_ARGS ?=

setup:
	@bash scripts/bootstrap.sh

# The region group: 北京 http://127.0.0.1:8000, 天津 :8001, 河北 :8002 (one node alone: xietong demo).
demo: setup
	$(VENV)/python -m xietong.demo.regiongroup

demo-nodes: demo

test: setup lint test-sqlite test-postgres

lint:
	@echo "==> ruff"
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	@echo "==> mypy"
	$(VENV)/mypy xietong
	@echo "==> import-linter (layers, ARCHITECTURE.md §3.12)"
	$(VENV)/lint-imports

test-sqlite:
	@echo "==> tests on SQLite (with the browser tests)"
	$(VENV)/pytest $(PYTEST_ARGS)

test-postgres:
	@echo "==> tests on PostgreSQL"
	bash scripts/with-postgres.sh $(VENV)/pytest -m "not e2e and not spark" $(PYTEST_ARGS)

format:
	$(VENV)/ruff check --fix .
	$(VENV)/ruff format .

clean:
	rm -rf .venv node_modules var .pytest_cache .mypy_cache .ruff_cache
