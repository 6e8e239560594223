"""The dbt package: every macro and generic test, run by real dbt on DuckDB.

Two projects are exercised, both in-process with dbtRunner and with every artifact (DuckDB file,
target/, logs/, profiles.yml, dbt_packages/) under pytest's tmp_path, so the repository tree is
left as it was:

- the repository itself, with the `martsmith` profile from profiles.example.yml: the default
  `dbt build` must be green, and every test tagged `expect_fail` must fail when run on its own;
- a throwaway host project that installs the package with `local:`: none of the package's own
  models, seeds or tests may appear there, while its macros and generic tests work.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERIC_TESTS = sorted(p.stem for p in (REPO_ROOT / "macros" / "generic_tests").glob("*.sql"))
NULL_SENTINEL = "_martsmith_null_"
# What running dbt could leave in the repository if an artifact path were not redirected.
ARTIFACTS = ("target", "logs", "dbt_packages", "martsmith.duckdb", "package-lock.yml")


def invoke_dbt(args: list[str], *, project_dir: Path, profiles_dir: Path, work_dir: Path) -> Any:
    """Run one dbt command in this process, artifacts under work_dir; return dbtRunnerResult."""
    from dbt.cli.main import dbtRunner

    paths = ["--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir)]
    if args[0] != "deps":  # deps writes only dbt_packages/ (in the host) and takes no such flags
        paths += ["--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")]
    return dbtRunner().invoke([*args, *paths])


def node_results(result: Any) -> dict[str, Any]:
    """Node name -> RunResult of a build/test invocation."""
    assert result.result is not None, f"dbt did not run: {result.exception}"
    return {r.node.name: r for r in result.result.results}


@pytest.fixture(scope="module")
def dbt_env() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        mp.setenv("DO_NOT_TRACK", "1")
        yield mp


@dataclass
class PackageRun:
    build: Any  # dbtRunnerResult of the default `dbt build`
    expect_fail: Any  # dbtRunnerResult of `dbt test --selector expect_fail`
    manifest: Any  # the parsed Manifest
    artifacts_before: dict[str, bool]


@pytest.fixture(scope="module")
def package_run(tmp_path_factory: pytest.TempPathFactory, dbt_env: pytest.MonkeyPatch) -> PackageRun:
    work = tmp_path_factory.mktemp("package")
    # The example profile verbatim: it is what a user copies, so it must work as written.
    (work / "profiles.yml").write_text((REPO_ROOT / "profiles.example.yml").read_text())
    dbt_env.setenv("MARTSMITH_DUCKDB", str(work / "package.duckdb"))
    artifacts_before = {name: (REPO_ROOT / name).exists() for name in ARTIFACTS}

    def dbt(*args: str) -> Any:
        return invoke_dbt(list(args), project_dir=REPO_ROOT, profiles_dir=work, work_dir=work)

    build = dbt("build")
    # `test`, not `build`: build would skip the tests downstream of the first failing ones.
    expect_fail = dbt("test", "--selector", "expect_fail")
    manifest = dbt("parse").result
    return PackageRun(build, expect_fail, manifest, artifacts_before)


def martsmith_tests(manifest: Any, generic_test: str) -> tuple[list[str], list[str]]:
    """(must-pass, must-fail) names of this repository's tests of one martsmith generic test."""
    must_pass, must_fail = [], []
    for node in manifest.nodes.values():
        meta = getattr(node, "test_metadata", None)
        if node.package_name != "martsmith" or meta is None:
            continue
        if meta.namespace == "martsmith" and meta.name == generic_test:
            (must_fail if "expect_fail" in node.tags else must_pass).append(node.name)
    return sorted(must_pass), sorted(must_fail)


@pytest.mark.integration
def test_default_build_is_green_and_runs_no_expected_failure(package_run: PackageRun) -> None:
    results = node_results(package_run.build)
    assert package_run.build.success, {n: (r.status, r.message) for n, r in results.items()}
    assert all(r.status in ("success", "pass") for r in results.values())
    assert not [n for n, r in results.items() if "expect_fail" in r.node.tags]
    # Everything else in the project ran: seeds, models, generic and singular tests.
    enabled = {
        n.name
        for n in package_run.manifest.nodes.values()
        if n.resource_type in ("seed", "model", "test") and "expect_fail" not in n.tags
    }
    assert enabled == set(results)


@pytest.mark.integration
def test_expect_fail_selection_is_exactly_the_tagged_tests(package_run: PackageRun) -> None:
    results = node_results(package_run.expect_fail)
    tagged = {n.name for n in package_run.manifest.nodes.values() if "expect_fail" in n.tags}
    assert tagged and set(results) == tagged
    assert not package_run.expect_fail.success


def test_every_generic_test_file_defines_the_test_it_is_named_after() -> None:
    assert len(GENERIC_TESTS) >= 7
    for name in GENERIC_TESTS:
        text = (REPO_ROOT / "macros" / "generic_tests" / f"{name}.sql").read_text()
        assert f"{{% test {name}(" in text
        assert f"adapter.dispatch('test_{name}', 'martsmith')" in text
        assert f"{{% macro default__test_{name}(" in text


@pytest.mark.integration
@pytest.mark.parametrize("generic_test", GENERIC_TESTS)
def test_generic_test_passes_on_good_data_and_fails_on_bad(package_run: PackageRun, generic_test: str) -> None:
    must_pass, must_fail = martsmith_tests(package_run.manifest, generic_test)
    assert must_pass, f"no test of martsmith.{generic_test} on good data"
    assert must_fail, f"no expect_fail test of martsmith.{generic_test}: it is not shown to fail"

    built = node_results(package_run.build)
    for name in must_pass:
        assert built[name].status == "pass", (name, built[name].status, built[name].message)
        assert built[name].failures == 0, name

    failed = node_results(package_run.expect_fail)
    for name in must_fail:
        # 'fail' (rows returned), not 'error' (SQL that does not compile or run).
        assert failed[name].status == "fail", (name, failed[name].status, failed[name].message)
        assert failed[name].failures and failed[name].failures > 0, name


@pytest.mark.integration
@pytest.mark.parametrize(
    "check",
    [
        "surrogate_key__matches_expected_one_field",
        "surrogate_key__matches_expected_three_fields",
        "unique_martsmith_surrogate_key_cases_surrogate_key_three_fields",
        "assert_date_spine_matches_expected",
        "date_spine__one_row_per_implementation_case_and_day",
    ],
)
def test_macro_output_matches_expected(package_run: PackageRun, check: str) -> None:
    result = node_results(package_run.build)[check]
    assert result.status == "pass", (check, result.message)


def test_expected_surrogate_keys_are_the_md5_of_the_documented_recipe() -> None:
    """The expected keys in the seed are recomputed here, outside any warehouse."""
    seed = REPO_ROOT / "seeds" / "package_tests" / "martsmith_surrogate_key_expected.csv"
    rows = list(csv.DictReader(seed.open(encoding="utf-8")))
    assert len(rows) >= 5
    md5 = lambda text: hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: E731
    for row in rows:
        fields = [row[c] or NULL_SENTINEL for c in ("text_value", "int_value", "date_value")]
        assert row["expected_key_one_field"] == md5(fields[0]), row["case_id"]
        assert row["expected_key_three_fields"] == md5("-".join(fields)), row["case_id"]


@pytest.mark.integration
def test_runs_leave_no_artifacts_in_the_repository(package_run: PackageRun) -> None:
    after = {name: (REPO_ROOT / name).exists() for name in ARTIFACTS}
    assert after == package_run.artifacts_before


# --- installed in a host project -------------------------------------------------------------

HOST_MODEL = """\
with source as (
    select 1 as a, 'x' as b
    union all
    select 2 as a, null as b
)

select
    a,
    b,
    {{ martsmith.surrogate_key(['a', 'b']) }} as row_key
from source
"""

HOST_DAYS = """\
{{ martsmith.date_spine('2024-01-01', '2025-01-01') }}
"""

HOST_YAML = {
    "version": 2,
    "models": [
        {
            "name": "host_keys",
            "columns": [
                {"name": "a", "data_tests": ["martsmith.not_negative"]},
                {"name": "row_key", "data_tests": ["unique", "not_null"]},
            ],
        },
        {
            "name": "host_days",
            "data_tests": [
                {
                    "martsmith.expression_is_true": {
                        "arguments": {"expression": "date_day >= cast('2024-01-01' as date)"}
                    }
                },
                "martsmith.not_empty",
            ],
        },
    ],
}


@dataclass
class HostRun:
    deps: Any
    build: Any
    listed: list[str]
    keys: Any  # dbtRunnerResult of `dbt show` on host_keys
    listed_opted_in: list[str]


@pytest.fixture(scope="module")
def host_run(tmp_path_factory: pytest.TempPathFactory, dbt_env: pytest.MonkeyPatch) -> HostRun:
    host = tmp_path_factory.mktemp("host")
    (host / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": "host",
                "version": "1.0.0",
                "config-version": 2,
                "profile": "host_profile",
                "model-paths": ["models"],
                "models": {"host": {"+materialized": "table"}},
            }
        )
    )
    (host / "packages.yml").write_text(yaml.safe_dump({"packages": [{"local": str(REPO_ROOT)}]}))
    (host / "profiles.yml").write_text(
        yaml.safe_dump(
            {
                "host_profile": {
                    "target": "dev",
                    "outputs": {
                        "dev": {
                            "type": "duckdb",
                            "path": str(host / "host.duckdb"),
                            "schema": "main",
                            "threads": 1,
                        }
                    },
                }
            }
        )
    )
    (host / "models").mkdir()
    (host / "models" / "host_keys.sql").write_text(HOST_MODEL)
    (host / "models" / "host_days.sql").write_text(HOST_DAYS)
    (host / "models" / "host.yml").write_text(yaml.safe_dump(HOST_YAML, sort_keys=False))

    def dbt(*args: str) -> Any:
        return invoke_dbt(list(args), project_dir=host, profiles_dir=host, work_dir=host)

    deps = dbt("deps")
    build = dbt("build")
    listed = dbt("ls", "--resource-type", "all", "--output", "name").result or []
    keys = dbt("show", "--select", "host_keys", "--limit", "10")
    dbt_env.setenv("MARTSMITH_EXAMPLES", "true")
    # A full parse: partial parsing does not notice an env var read by a package's project file.
    opted_in = dbt("ls", "--resource-type", "all", "--no-partial-parse").result or []
    dbt_env.delenv("MARTSMITH_EXAMPLES")
    return HostRun(deps, build, listed, keys, opted_in)


@pytest.mark.integration
def test_host_builds_with_the_package_installed(host_run: HostRun) -> None:
    assert host_run.deps.success, host_run.deps.exception
    results = node_results(host_run.build)
    assert host_run.build.success, {n: (r.status, r.message) for n, r in results.items()}
    assert {"host_keys", "host_days"} <= set(results)
    # The package's generic tests run as the host's own tests.
    assert any(n.startswith("martsmith_not_negative_host_keys") for n in results)


@pytest.mark.integration
def test_host_builds_none_of_the_package_nodes(host_run: HostRun) -> None:
    results = node_results(host_run.build)
    assert not [r.node.unique_id for r in results.values() if r.node.package_name == "martsmith"]
    own_names = {p.stem for p in (REPO_ROOT / "models").rglob("*.sql")}
    own_names |= {p.stem for p in (REPO_ROOT / "seeds").rglob("*.csv")}
    assert own_names, "the package has no example nodes to look for"
    assert not own_names & set(results)
    assert not own_names & set(host_run.listed)


@pytest.mark.integration
def test_host_can_opt_in_to_the_package_examples(host_run: HostRun) -> None:
    assert any(line.startswith("martsmith.") for line in host_run.listed_opted_in)


@pytest.mark.integration
def test_host_surrogate_keys_are_md5_of_the_fields(host_run: HostRun) -> None:
    assert host_run.keys.success, host_run.keys.exception
    table = host_run.keys.result.results[0].agate_table
    keys = {row["a"]: row["row_key"] for row in table.rows}
    md5 = lambda text: hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: E731
    assert keys == {1: md5("1-x"), 2: md5(f"2-{NULL_SENTINEL}")}
