"""sqlfluff as the host runs it: its dialect and rules, fixes kept only when they keep the SQL's
meaning, and the package's stand-ins for the host's own sqlfluff."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from martsmith.render.jinja_static import macro_namespaces
from martsmith.scaffold.package import package_path
from martsmith.validate.lint import DEFAULT_SQLFLUFF, lint_sql, same_meaning

MODEL = """with

orders as (

    select * from {{ source('shop', 'orders') }}

),

final as (

    select
        extract(isodow from orders.ordered_at) as order_weekday,
        {{ dbt.date_trunc('month', 'orders.ordered_at') }} as order_month,
        {{ martsmith.surrogate_key(['orders.id']) }} as order_key,
        count(*) as order_count
    from orders
    group by 1, 2, 3

)

select * from final
"""


def _host(tmp_path: Path, sqlfluff: str) -> Path:
    (tmp_path / ".sqlfluff").write_text(sqlfluff)
    return tmp_path


def test_generated_sql_lints_clean_under_the_init_config(tmp_path):
    result = lint_sql(MODEL, _host(tmp_path, DEFAULT_SQLFLUFF))
    assert (result.findings, result.fixed, result.sql) == ([], False, MODEL)


def test_a_fix_that_changes_the_meaning_is_not_applied_and_names_the_rule(tmp_path):
    """With `dialect = ansi`, RF03 'qualifies' the date part isodow as if it were a column:
    `extract(orders.isodow from ...)`, which no longer parses. The SQL stays as it was and the
    violation is a finding that names the rule and the line sqlfluff would have written."""
    root = _host(tmp_path, DEFAULT_SQLFLUFF.replace("dialect = duckdb", "dialect = ansi"))
    result = lint_sql(MODEL, root)
    assert result.sql == MODEL
    assert result.findings
    assert {f.message.split(":")[0] for f in result.findings} == {"RF03"}
    assert (
        "would change what the SQL means: `extract(orders.isodow from orders.ordered_at)" in result.findings[0].message
    )


def test_fixes_that_keep_the_meaning_are_applied(tmp_path):
    sql = MODEL.replace("count(*) as order_count", "COUNT(*) order_count")
    result = lint_sql(sql, _host(tmp_path, DEFAULT_SQLFLUFF))
    assert result.findings == []
    assert result.fixed and result.sql == MODEL


def test_the_hosts_rules_are_the_ones_applied(tmp_path):
    """A host that wants upper-case keywords gets them (and martsmith's lower-case ones fixed)."""
    config = DEFAULT_SQLFLUFF.replace(
        "[sqlfluff:rules:capitalisation.keywords]\ncapitalisation_policy = lower",
        "[sqlfluff:rules:capitalisation.keywords]\ncapitalisation_policy = upper",
    )
    result = lint_sql(MODEL, _host(tmp_path, config))
    assert result.findings == []
    assert "    SELECT\n" in result.sql and "GROUP BY 1, 2, 3" in result.sql


def test_a_host_on_the_dbt_templater_is_linted_with_the_jinja_one(tmp_path):
    """sqlfluff-templater-dbt is not installed (it pins sqlfluff): the host's dialect and rules
    still apply, through the jinja templater with dbt's builtins."""
    root = _host(tmp_path, "[sqlfluff]\ntemplater = dbt\ndialect = duckdb\nmax_line_length = 40\n")
    result = lint_sql(MODEL, root)
    assert {f.message.split(":")[0] for f in result.findings} == {"LT05"}


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        ("select a from t join u on t.x = u.x", "select a from t inner join u on t.x = u.x", True),
        ("select count(*) as n from t", "select count(1) as n from t", True),
        ("select a <> b as c from t", "select a != b as c from t", True),
        ("select a from t", "select a as a from t as t", True),
        ("select a, b from t", "select b, a from t", False),
        ("select a from t where b = 1", "select a from t where b = 2", False),
        ("select 1 as x from {{ ref('m') }}", "select 1 as x from {{ ref('n') }}", False),
        ("select 1 as x from {{ ref('m') }}", "SELECT 1 AS x FROM {{ ref('m') }}", True),
    ],
)
def test_same_meaning(before, after, same):
    assert same_meaning(before, after) is same


def _library_module(name: str):
    path = package_path() / "macros" / "martsmith_sqlfluff" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"martsmith_sqlfluff_test.{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_hosts_sqlfluff_stand_ins_render_what_martsmiths_checks_render():
    """macros/martsmith_sqlfluff (for the host's own sqlfluff, without martsmith installed) and
    render/jinja_static (for martsmith's checks) must agree, or a file clean for one fails the other."""
    ours = macro_namespaces()
    library = {"martsmith": _library_module("martsmith"), "dbt": _library_module("dbt")}
    cases = [
        ("martsmith", "surrogate_key", (["a", "b.c"],)),
        ("martsmith", "surrogate_key", ([],)),
        ("martsmith", "date_spine", ("2024-01-01", "current_date")),
        ("dbt", "date_trunc", ("month", "orders.ordered_at")),
    ]
    for namespace, macro, args in cases:
        assert getattr(library[namespace], macro)(*args) == getattr(ours[namespace], macro)(*args)


def test_the_hosts_own_sqlfluff_lints_a_generated_model_with_the_one_line(tmp_path):
    """The host's sqlfluff, with nothing of martsmith but the library_path line init writes
    (dbt_packages/martsmith as `dbt deps` installs it), renders martsmith.* and dbt.* calls."""
    from sqlfluff.core import FluffConfig, Linter

    assert "library_path = dbt_packages/martsmith/macros/martsmith_sqlfluff" in DEFAULT_SQLFLUFF

    def host_lint(name: str, sqlfluff: str) -> list[str]:
        root = tmp_path / name  # one folder each: sqlfluff caches every config file it read
        (root / "dbt_packages").mkdir(parents=True)
        (root / "dbt_packages" / "martsmith").symlink_to(package_path())
        (root / ".sqlfluff").write_text(sqlfluff)
        result = Linter(config=FluffConfig.from_path(str(root))).lint_string(MODEL, fname="m.sql")
        return [v.desc() for v in result.violations]

    assert host_lint("with_line", DEFAULT_SQLFLUFF) == []
    without = host_lint("without_line", DEFAULT_SQLFLUFF.replace("library_path", "# library_path"))
    assert "Undefined jinja template variable: 'martsmith'" in without
