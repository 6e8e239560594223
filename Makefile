# Two set-up commands: `make demo` and `make test`. Both bootstrap .venv on a fresh machine
# (uv when it can be installed, ~15 s; pip otherwise, 1-2 min).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# loadgroup: the Spark tests share one worker (a process has one SparkSession).
PYTEST_ARGS ?= -n 2 --dist loadgroup

export LITELLM_LOCAL_MODEL_COST_MAP := True
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: install demo test test-fast bench eval clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if command -v uv >/dev/null 2>&1; then UV=uv; \
	elif $(BIN)/python -m pip install -q uv >/dev/null 2>&1; then UV="$(BIN)/python -m uv"; \
	else UV=; fi; \
	if [ -n "$$UV" ]; then \
		echo "installing with uv"; VIRTUAL_ENV=$(VENV) $$UV pip install -q -e ".[dev]"; \
	else \
		echo "uv unavailable; installing with pip"; $(BIN)/python -m ensurepip -q >/dev/null 2>&1; \
		$(BIN)/python -m pip install -q -e ".[dev]"; \
	fi
	@touch $(STAMP)

# Scaffold demo/ (git-ignored) with the sample shop data and generate from plain words: models,
# inferred tests on the raw source, a star schema and a dbt unit test.
M := ../$(BIN)/martsmith
demo: install
	@rm -rf demo
	$(BIN)/martsmith init demo --sample
	cd demo && $(M) model "total revenue by customer country per month" --yes
	cd demo && $(M) model "number of orders per status, excluding cancelled orders" --yes
	cd demo && $(M) model "top 10 products by quantity sold in 2025" --yes
	cd demo && $(M) model "average order amount by customer city" --yes
	cd demo && $(M) tests source:shop.orders source:shop.order_items source:shop.payments --yes
	cd demo && $(M) star "sales star schema: order lines as the fact, with customers, products and dates as dimensions" --yes
	cd demo && $(M) model "total quantity by product category" --yes
	cd demo && $(M) unit-test total_revenue_by_customer_country_order_month --yes
	@echo
	@echo "Demo project: demo/ (warehouse demo/demo.duckdb). What was made:"
	@cd demo && $(M) status
	@echo "Try: cd demo && $(M) model \"number of payments per method\" --dry-run"
	@# The review of a change: the demo committed to git, one model regenerated with another filter
	@# (compiled, not built: the base's relations stay as they are), then reviewed against main.
	@cd demo && git init -q -b main && git add -A && \
		git -c user.name=demo -c user.email=demo@example.com commit -qm "demo: generated models"
	cd demo && $(M) model "number of orders per status, excluding cancelled and returned orders" \
		--name order_count_by_status --force --yes --no-build
	cd demo && $(M) review --base main --fail-on never

test: install
	$(BIN)/ruff check generator tests bench
	$(BIN)/ruff format --check generator tests bench
	$(BIN)/mypy
	$(BIN)/sqlfluff lint macros models
	@# PostgreSQL for tests/engines (Debian's package, installed when missing; each pytest
	@# session starts its own throwaway cluster on a private port and stops it at the end).
	@scripts/postgres.sh install || echo "PostgreSQL unavailable: tests/engines will be skipped"
	@# Java 17 for the Spark tests (pyspark runs Spark inside the test process; Debian's
	@# openjdk-17-jre-headless, installed when missing).
	@scripts/spark.sh install || echo "Java 17 unavailable: the Spark tests will be skipped"
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The quick loop: everything but the tests that run dbt on a real project (about 40 s).
test-fast: install
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "not integration"

bench: install
	$(BIN)/python bench/run.py

# The repository's evaluation sets (bench/eval/) through `martsmith eval`; accuracy per set into
# BENCHMARKS.md (about a minute each, offline planner). LLM=openai/... for the llm planner.
eval: install
	$(BIN)/python bench/eval/run.py $(if $(LLM),--llm $(LLM))

clean:
	rm -rf demo target logs dbt_packages .pytest_cache
