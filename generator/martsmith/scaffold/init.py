"""Scaffold an analytics dbt project on DuckDB that installs the martsmith package.

`init_project` writes dbt_project.yml, profiles.yml (a relative DuckDB path, so the folder can be
moved or copied), packages.yml, .sqlfluff, .gitignore and models/staging + models/marts, runs
`dbt deps` in-process and, with `sample=True`, loads the shop dataset into schema `raw` and
declares it as the source `shop`. All or nothing: on failure everything init created is removed
and whatever was in the folder before is left alone.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from martsmith.context.dbt import Dbt
from martsmith.context.project import Project, load_project
from martsmith.context.warehouse import Warehouse
from martsmith.errors import ProjectError, UsageError, WarehouseError, WriteRefused
from martsmith.scaffold.package import package_name, package_path
from martsmith.scaffold.sample import SOURCE_DESCRIPTION, load_sample
from martsmith.scaffold.sources import declare_source
from martsmith.spec import check_identifier

TEMPLATES = Path(__file__).resolve().parent / "templates"
SAMPLE_SCHEMA = "raw"
SAMPLE_SOURCE = "shop"

# file in the project -> template
FILES = {
    "dbt_project.yml": "dbt_project.yml.tmpl",
    "profiles.yml": "profiles.yml.tmpl",
    "packages.yml": "packages.yml.tmpl",
    ".sqlfluff": "sqlfluff.tmpl",
    ".gitignore": "gitignore.tmpl",
}
# (adapter, file) -> the template that replaces the DuckDB one
ADAPTER_FILES = {
    ("postgres", "profiles.yml"): "profiles.postgres.yml.tmpl",
    ("spark", "profiles.yml"): "profiles.spark.yml.tmpl",
}
SQLFLUFF_DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "sparksql"}
SPARK_DIR = ".spark"  # a Spark project's local metastore and tables (git-ignored)
# Spark's own logging: errors only (its default prints warnings at every start).
SPARK_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""
KEEP_DIRS = ("models/staging", "models/marts")
# What dbt deps / dbt itself may create in the project: removed on failure if init made them.
DBT_OUTPUTS = ("dbt_packages", "package-lock.yml", "target", "logs")


@dataclass
class InitResult:
    root: Path
    name: str
    files: list[str] = field(default_factory=list)  # relative to root, in the order written
    database: Path | None = None
    sources_file: str | None = None
    row_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "root": str(self.root),
            "name": self.name,
            "files": self.files,
            "database": str(self.database) if self.database else None,
            "sources_file": self.sources_file,
            "tables": self.row_counts,
        }


def project_name(directory: Path) -> str:
    """A dbt project name from a folder name: lower case, `[a-z0-9_]`, starting with a letter.

    >>> project_name(Path("/tmp/My Shop-2026"))
    'my_shop_2026'
    >>> project_name(Path("2026 analytics"))
    'p_2026_analytics'
    """
    name = re.sub(r"[^a-z0-9_]+", "_", directory.resolve().name.lower()).strip("_")
    name = re.sub(r"_+", "_", name) or "analytics"
    if not name[0].isalpha():
        name = "p_" + name
    return name[:63]


def _check_name(name: str) -> str:
    try:
        check_identifier(name, "project name")
    except ValueError as exc:
        raise UsageError(str(exc), hint="Pass a valid --name.") from exc
    if name == package_name():
        raise UsageError(
            f"The project cannot be called '{name}': that is the name of the martsmith dbt package it installs.",
            hint="Pass --name with another name (e.g. --name analytics).",
        )
    return name


class _Tracker:
    """What init created, so that a failure can remove exactly that."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root_existed = root.exists()
        self.before = {p.name for p in root.iterdir()} if self.root_existed else set()
        self.created: list[Path] = []

    def mkdir(self, path: Path) -> None:
        missing = []
        d = path
        while not d.exists():
            missing.append(d)
            d = d.parent
        path.mkdir(parents=True, exist_ok=True)
        self.created.extend(reversed(missing))

    def write(self, path: Path, text: str) -> None:
        self.mkdir(path.parent)
        path.write_text(text)
        self.created.append(path)

    def rollback(self) -> None:
        if not self.root_existed:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        extra = [self.root / n for n in (*DBT_OUTPUTS,) if n not in self.before]
        for path in [*reversed(self.created), *extra]:
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)
            elif path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob("*.duckdb*"):
            if path.name not in self.before:
                path.unlink(missing_ok=True)


def _refuse_conflicts(root: Path, name: str, sample: bool) -> None:
    if (root / "dbt_project.yml").exists():
        raise WriteRefused(
            f"{root} already holds a dbt project (dbt_project.yml); init leaves it alone.",
            hint="Pick a new folder, or run `martsmith sources` / `martsmith model` inside this one.",
        )
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder.")
    clashes = [f for f in FILES if (root / f).exists()]
    if sample:
        clashes += [p.name for p in sorted(root.glob(f"{name}.duckdb*"))]
    if clashes:
        raise WriteRefused(
            f"{root} already has {', '.join(clashes)}; init does not overwrite files.",
            hint="Move them away or pick an empty folder.",
        )


def init_project(
    directory: Path,
    *,
    sample: bool,
    scale: float = 1.0,
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
    adapter: str = "duckdb",
) -> InitResult:
    """Scaffold a dbt project in `directory` (created if needed); see the module docstring.
    `adapter="postgres"` writes a Postgres profile from the PG* variables (PGHOST, PGPORT,
    PGUSER, PGDATABASE) and loads the sample there."""
    say = progress or (lambda message: None)
    root = Path(directory).expanduser().resolve()
    name = _check_name(name or project_name(root))
    if sample and not (isinstance(scale, (int, float)) and scale > 0):
        raise UsageError(f"--scale must be a positive number, got {scale!r}.")
    _refuse_conflicts(root, name, sample)
    pkg = package_path()

    tracker = _Tracker(root)
    result = InitResult(root=root, name=name)
    try:
        tracker.mkdir(root)
        values = {"name": name, "package_path": str(pkg), **_connection(adapter, root)}
        for target, template in FILES.items():
            template = ADAPTER_FILES.get((adapter, target), template)
            text = Template((TEMPLATES / template).read_text()).substitute(values)
            if target == ".sqlfluff" and adapter != "duckdb":
                dialect = SQLFLUFF_DIALECTS[adapter]
                text = text.replace("dialect = duckdb", f"dialect = {dialect}").replace("for DuckDB", f"for {adapter}")
            tracker.write(root / target, text)
            result.files.append(target)
        if adapter == "spark":
            tracker.write(root / SPARK_DIR / "log4j2.properties", SPARK_LOG4J)
        for keep in KEEP_DIRS:
            tracker.write(root / keep / ".gitkeep", "")
            result.files.append(f"{keep}/.gitkeep")
        say(f"Wrote {len(result.files)} files to {root}")

        project = load_project(root, root)
        say(f"Installing the martsmith package from {pkg} (dbt deps)")
        Dbt(project).deps()

        if sample and adapter != "duckdb":
            say(f"Loading the sample shop data (scale {scale:g}) into {adapter}, schema {SAMPLE_SCHEMA}")
            result.row_counts = _load_into_target(project, scale)
            path = declare_source(project, SAMPLE_SCHEMA, SAMPLE_SOURCE, description=SOURCE_DESCRIPTION)
            result.sources_file = str(path.relative_to(root))
            result.files.append(result.sources_file)
        elif sample:
            database = project.duckdb_path
            if database is None:  # the profile written above targets a DuckDB file
                raise ProjectError(f"The profile of {root} does not target a DuckDB file: cannot load the sample data.")
            result.database = database
            say(f"Loading the sample shop data (scale {scale:g}) into {database.name}")
            result.row_counts = _load(database, scale)
            path = declare_source(project, SAMPLE_SCHEMA, SAMPLE_SOURCE, description=SOURCE_DESCRIPTION)
            result.sources_file = str(path.relative_to(root))
            result.files.append(result.sources_file)
            say(f"Declared schema {SAMPLE_SCHEMA} as source {SAMPLE_SOURCE} in {result.sources_file}")
    except BaseException:
        tracker.rollback()
        raise
    return result


def _connection(adapter: str, root: Path) -> dict[str, str]:
    """The profile's connection fields for `adapter`: from the libpq variables for Postgres,
    the project's own local metastore for Spark."""
    if adapter == "duckdb":
        return {}
    if adapter == "spark":
        return {"spark_dir": str(root / SPARK_DIR)}
    if adapter != "postgres":
        raise UsageError(f"--adapter {adapter}: init scaffolds duckdb, postgres or spark projects.")
    import getpass

    env = os.environ
    return {
        "host": env.get("PGHOST", "localhost"),
        "port": env.get("PGPORT", "5432"),
        "user": env.get("PGUSER", getpass.getuser()),
        "dbname": env.get("PGDATABASE", "postgres"),
    }


def _load_into_target(project: Project, scale: float) -> dict[str, int]:
    """The same deterministic shop, made in an in-memory DuckDB and copied to the target."""
    import duckdb  # the sample is generated by DuckDB SQL whatever the target

    con = duckdb.connect(":memory:")
    try:
        counts = load_sample(con, scale)
        with Warehouse(project, must_exist=False) as wh:
            wh.load_tables(SAMPLE_SCHEMA, con, tuple(counts))
        return counts
    finally:
        con.close()


def _load(database: Path, scale: float) -> dict[str, int]:
    import duckdb

    try:
        con = duckdb.connect(str(database))
    except duckdb.Error as exc:
        raise WarehouseError(f"Cannot create {database}: {exc}") from exc
    try:
        return load_sample(con, scale)
    except duckdb.Error as exc:
        raise WarehouseError(f"Loading the sample data into {database} failed: {exc}") from exc
    finally:
        con.close()


__all__ = ["InitResult", "init_project", "project_name"]
