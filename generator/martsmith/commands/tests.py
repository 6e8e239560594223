"""`martsmith tests`: infer data tests that fit the data (and rules in plain words), check them
against the data, merge them into the project's YAML and run `dbt test`."""

from __future__ import annotations


import click

from martsmith.commands.options import ask_to_write, emit_json, format_option, llm_option, progress, project_options
from martsmith.commands.output import line, preview, safe

MAX_SHOWN = 50  # tests, findings and notes shown per node


def _value(v) -> str:
    """An argument's value: a list shows its first values and how many more."""
    from martsmith.commands.output import items

    if isinstance(v, (list, tuple)):
        return "[" + items(v, what="values", render=repr) + "]"
    return line(v, 200)


def _test_label(t) -> str:
    # Names, columns and values (accepted values: data; rules: the user or an LLM) made safe.
    args = ""
    if t.arguments:
        args = " " + ", ".join(f"{line(k, 80)}={_value(v)}" for k, v in t.arguments.items())
    where = f"({line(t.column, 200)})" if t.column else ""
    sev = " [warn]" if t.severity == "warn" else ""
    return f"{line(t.name, 200)}{where}{args}{sev}"


def _capped(values: list, what: str) -> tuple[list, str | None]:
    if len(values) <= MAX_SHOWN:
        return values, None
    return values[:MAX_SHOWN], f"  … and {len(values) - MAX_SHOWN:,} more {what}"


def describe_plan(plan, *, explain: bool) -> str:
    from martsmith.inference.merge import spec_identity

    from martsmith.commands.output import items

    lines = []
    for node in plan.nodes:
        lines.append(click.style(line(node.table.label, 200), bold=True) + f"  ({node.profile.row_count:,} rows)")
        notes, more = _capped(node.notes, "notes")
        lines += [f"  {line(note)}" for note in notes] + ([more] if more else [])
        written = {spec_identity(t) for t in node.written}
        shown, more = _capped(node.written, "tests")
        for t in shown:
            lines.append(click.style("  + ", fg="green") + _test_label(t))
            if explain and t.reason:
                lines.append(f"      {line(t.reason)}")
        lines += [more] if more else []
        if node.present:
            lines.append(f"  = {len(node.present)} already declared: "
                         + items(node.present, what="tests", render=_test_label, limit=MAX_SHOWN, each=400))
        shown, more = _capped(node.findings, "findings")
        for c in shown:
            kept = " (written as warn)" if spec_identity(c.test) in written else ""
            lines.append(click.style("  ! ", fg="yellow") + line(c.message) + kept)
            if explain:
                lines.append(f"      from {_test_label(c.test)}: {line(c.test.reason)}")
        lines += [more] if more else []
        shown, more = _capped([c for c in node.checks if c.dropped], "dropped candidates")
        for c in shown:
            lines.append(click.style("  - ", fg="cyan") + line(c.dropped))
        lines += [more] if more else []
        if node.profile.row_count and not node.written and not node.present:
            lines.append("  no tests to add")
    if plan.nodes and any(n.findings for n in plan.nodes) and not plan.include_failing:
        lines.append("Failing candidates are not written; pass --include-failing to write them with severity warn.")
    return "\n".join(lines)


@click.command()
@click.argument("nodes", nargs=-1, required=True)
@click.option("--rules", default=None, metavar="TEXT", help='Rules in plain words, separated by ";" '
              '(e.g. "amount is never negative; every order has a customer").')
@llm_option
@click.option("--explain", is_flag=True, help="Print each test with the evidence behind it.")
@click.option("--dry-run", is_flag=True, help="Show the tests, the findings and the YAML diff; write nothing.")
@click.option("--yes", "-y", is_flag=True, help="Write without asking (required when not in a terminal).")
@click.option("--include-failing", is_flag=True, help="Also write the tests the data fails today, with severity warn.")
@format_option
@project_options
def tests(nodes, rules, llm_model, explain, dry_run, yes, include_failing, output_format, project) -> None:
    """Infer data tests for NODES (as dbt selects them) from their data and merge them into YAML.

    Every candidate (keys, not_null, accepted values, relationships, ranges, recency...) is run
    against the data first: what the data violates is reported as a finding with example keys,
    not written as a passing test. The YAML keeps your comments and order; then `dbt test`
    runs, and the YAML is rolled back if a new test fails.

    \b
    Examples:
      martsmith tests source:shop.orders --yes
      martsmith tests stg_orders --explain --dry-run
      martsmith tests source:shop.orders --rules "amount is never negative; every order has a customer"
    """
    from martsmith.errors import WriteRefused
    from martsmith.inference.suite import apply_tests, plan_tests
    from martsmith.context.load import load_context

    proj = project(writes=not dry_run)
    quiet = output_format == "json"
    say = lambda m: progress(m, quiet=quiet)  # noqa: E731
    ctx = load_context(proj, say)
    plan = plan_tests(ctx, list(nodes), rules=rules, llm_model=llm_model, include_failing=include_failing, progress=say)
    if not dry_run and plan.changed:
        if not quiet:
            click.echo(describe_plan(plan, explain=explain), err=not yes)
        if not ask_to_write("Write these tests and run dbt test?", yes=yes, action="write the tests"):
            raise WriteRefused("Nothing was written.")
        apply_tests(plan, ctx, progress=say)
    if output_format == "json":
        data = plan.as_dict()
        if dry_run:
            data["diff"] = plan.diff()
        emit_json(data)
        return
    if dry_run:
        click.echo(describe_plan(plan, explain=explain))
        diff = plan.diff()
        click.echo(click.style("\n-- YAML changes (not written)", fg="cyan"))
        click.echo(preview(diff) if diff else "(none)", nl=not diff)
        return
    if not plan.changed:
        click.echo(describe_plan(plan, explain=explain))
        click.echo("Nothing written.")
        return
    files = ", ".join(safe(p.relative_to(proj.root)) for p in plan.changed)
    warned = f", {plan.tests_warned} warned" if plan.tests_warned else ""
    click.echo(f"Wrote {files}; dbt test: {plan.tests_passed} passed{warned}.")
