"""The pipelines: each generating command's own logic, on one shared run.

- `run` — the `Run` every generating command goes through: the project lock, the context read
  once, the check worker, `timed` stages, --dry-run / --yes / the question, the write stage
  (write/) and the summary in text or JSON;
- `model`, `star`, `tests`, `unit_test` — one module per command: its own sequencing of the
  stages (context -> plan -> render -> validate -> write) and how its result reads.

Why a package beside commands/ rather than a single run module: a Click command must import
its module to show `--help`, and a pipeline imports every stage it runs (pydantic, Jinja,
sqlglot: `martsmith star --help` would take 0.7 s instead of 0.1 s). So commands/ holds only
the Click declarations, which import their pipeline when they run, and this package holds what
they run: the run, and one short module per command.
"""
