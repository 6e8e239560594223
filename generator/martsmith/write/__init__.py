"""The write stage: all or nothing, even across a crash.

- `transaction` — `write_and_run`: files written, dbt run, everything undone on any failure
  (`FileTransaction` for the tree, `RelationGuard` for the warehouse);
- `journal` — the undo record of a run on disk, its recovery after a crash, the project lock;
- `digest` — the warehouse before and after dbt, to catch changes outside what a run may make.
"""

from martsmith.write.journal import (
    BACKUP_PREFIX,
    Journal,
    Recovery,
    pause_point,
    project_lock,
    recover_if_stale,
    recover_journal,
    write_atomic,
)
from martsmith.write.transaction import FileTransaction, RelationGuard, count_tests, refuse_unsafe_jinja, write_and_run

__all__ = [
    "BACKUP_PREFIX",
    "FileTransaction",
    "Journal",
    "Recovery",
    "RelationGuard",
    "count_tests",
    "pause_point",
    "project_lock",
    "recover_if_stale",
    "recover_journal",
    "refuse_unsafe_jinja",
    "write_and_run",
    "write_atomic",
]
