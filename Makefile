# Two set-up commands: `make demo` and `make test`. Both bootstrap .venv on a fresh machine
# (uv when it can be installed, ~15 s; pip otherwise, 1-2 min).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

export LITELLM_LOCAL_MODEL_COST_MAP := True
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if $(BIN)/python -m pip install -q uv >/dev/null 2>&1; then \
		echo "installing with uv"; VIRTUAL_ENV=$(VENV) $(BIN)/python -m uv pip install -q -e ".[dev]"; \
	else \
		echo "uv unavailable; installing with pip"; $(BIN)/python -m pip install -q -e ".[dev]"; \
	fi
	@touch $(STAMP)

# Scaffold demo/ (git-ignored) with the sample shop data and generate models from plain words.
demo: install
	@rm -rf demo
	$(BIN)/martsmith init demo --sample
	cd demo && ../$(BIN)/martsmith model "total revenue by customer country per month" --yes
	cd demo && ../$(BIN)/martsmith model "number of orders per status" --yes
	cd demo && ../$(BIN)/martsmith model "top 10 products by quantity sold" --yes
	cd demo && ../$(BIN)/martsmith model "average order amount by customer city, completed orders only" --yes
	@echo
	@echo "Demo project: demo/ (warehouse demo/demo.duckdb). Models written:"
	@find demo/models/marts -name '*.sql' | sort | sed 's/^/  /'
	@echo "Try: cd demo && ../$(BIN)/martsmith model \"monthly revenue by product category\" --dry-run"

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf demo target logs dbt_packages .pytest_cache
