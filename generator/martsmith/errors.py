"""The error tree. Every error the CLI turns into one readable line (or, with --format json, one
JSON document) and an exit code.

A `MartsmithError` carries a message that says what went wrong, a hint that says what to do next,
an exit code, and `findings`: the typed details behind the message (`validate.findings.Finding`:
check, message, line), empty when the message says it all. Anything else that escapes a command
is a bug and is shown as such.

    MartsmithError (1)
    ├── UsageError (2) ── RulesError, UnknownSchemaError
    ├── PlanError (2) ── UnplacedWordsError, LLMError (5)
    ├── ProjectError (3) ── YamlMergeError
    ├── WarehouseError (4)
    ├── ValidationFailed (6), JinjaCheckError (6)
    ├── WriteRefused (7)
    └── WarehouseChanged (8)

>>> ValidationFailed("bad SQL", [Finding("safety", "reads a file", 3)]).as_dict()
{'error': 'bad SQL', 'hint': None, 'exit_code': 6, 'findings': [{'check': 'safety', 'message': 'reads a file', 'line': 3}]}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from martsmith.commands.output import shorten
from martsmith.validate.findings import Finding

__all__ = [
    "Finding",
    "JinjaCheckError",
    "LLMError",
    "MartsmithError",
    "PlanError",
    "ProjectError",
    "RulesError",
    "UnknownSchemaError",
    "UnplacedWordsError",
    "UsageError",
    "ValidationFailed",
    "WarehouseChanged",
    "WarehouseError",
    "WriteRefused",
    "YamlMergeError",
    "filesystem_error",
]


class MartsmithError(Exception):
    """Base class: a known failure with a readable message."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, findings: Iterable[Finding] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.findings: list[Finding] = list(findings)

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"

    def as_dict(self) -> dict[str, Any]:
        """The error as `--format json` prints it."""
        return {
            "error": self.message,
            "hint": self.hint,
            "exit_code": self.exit_code,
            "findings": [{"check": f.check, "message": f.message, "line": f.line} for f in self.findings],
        }


class UsageError(MartsmithError):
    """The command line or the request itself is not usable (empty request, bad name...)."""

    exit_code = 2


class RulesError(UsageError):
    """A rule (`martsmith tests --rules`) that the grammar cannot read, or whose words match no
    column. `forms` are the forms the grammar accepts (inference/rules.FORMS), listed in the hint."""

    def __init__(self, rule: str, problem: str, *, forms: Sequence[str] = ()) -> None:
        super().__init__(
            f"Cannot read the rule '{rule}': {problem}",
            hint=("Accepted forms: " + "; ".join(forms) + ". " if forms else "") + "Separate rules with ';'.",
            findings=[Finding("rules", problem)],
        )
        self.rule = rule


class UnknownSchemaError(UsageError):
    """The warehouse has no schema (or no such tables) by that name. `schemas` lists those it has."""

    def __init__(self, message: str, schemas: list[str], *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.schemas = schemas


class ProjectError(MartsmithError):
    """No dbt project, no profile, a broken YAML file, a missing package."""

    exit_code = 3


class YamlMergeError(ProjectError):
    """A properties file that can't be merged into: invalid YAML or an unexpected shape."""

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(
            f"{where}: {problem}",
            hint="Fix the file (nothing was written), then run the command again.",
            findings=[Finding("yaml", problem, line)],
        )
        self.path = path
        self.line = line


class WarehouseError(MartsmithError):
    """The warehouse can't be reached or read (e.g. a DuckDB file locked by another process)."""

    exit_code = 4


class PlanError(MartsmithError):
    """The planner could not turn the request into a spec."""

    exit_code = 2


class UnplacedWordsError(PlanError):
    """The offline planner met words it cannot link to the schema.

    `unplaced` maps each word to the closest candidates (table or column names); `findings` has
    one per word listed in the message.
    """

    MAX_WORDS = 10  # words listed; a huge request has hundreds
    MAX_REQUEST = 200  # characters of the request quoted back

    def __init__(self, unplaced: dict[str, list[str]], request: str) -> None:
        parts = []
        for word, candidates in list(unplaced.items())[: self.MAX_WORDS]:
            near = f" (closest: {', '.join(candidates[:5])})" if candidates else ""
            parts.append(f"'{shorten(word, 60)}'{near}")
        findings = [Finding("plan", f"cannot place {part}") for part in parts]
        if len(unplaced) > self.MAX_WORDS:
            parts.append(f"and {len(unplaced) - self.MAX_WORDS:,} more words")
        super().__init__(
            "The offline planner could not place " + "; ".join(parts) + f" in: {shorten(request, self.MAX_REQUEST)!r}",
            hint="Rephrase with table or column names, describe the column in its YAML, or use --llm MODEL.",
            findings=findings,
        )
        self.unplaced = unplaced


class LLMError(PlanError):
    """The LLM could not be reached or never produced a valid answer (`findings`: the problems
    of its last answer, if it gave one)."""

    exit_code = 5


class ValidationFailed(MartsmithError):
    """Generated code failed a check (safety, columns, lint, dbt). Carries the findings."""

    exit_code = 6

    def __init__(self, message: str, findings: Iterable[Finding] | None = None, *, hint: str | None = None):
        super().__init__(message, hint=hint, findings=findings or ())


class JinjaCheckError(MartsmithError):
    """A model's Jinja names a relation that does not exist, or cannot be rendered statically
    (render/jinja_static.py); the static checks turn it into a finding."""

    exit_code = 6

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, findings=[Finding("jinja", message)])


class WriteRefused(MartsmithError):
    """Writing was refused: the model exists without --force, no --yes off a terminal, or
    another martsmith run holds the project's lock for too long."""

    exit_code = 7


class WarehouseChanged(MartsmithError):
    """A run changed the warehouse outside the relations it was allowed to create or replace
    (e.g. injected SQL dropped a schema). `changes` lists each difference found."""

    exit_code = 8

    def __init__(self, changes: list[str], *, hint: str | None = None) -> None:
        super().__init__(
            "The warehouse changed outside this run: " + "; ".join(changes) + ".",
            hint=hint,
            findings=[Finding("warehouse", c) for c in changes],
        )
        self.changes = changes


# --- the file system -------------------------------------------------------------------------

_REASONS = {
    "EACCES": "permission denied",
    "EPERM": "permission denied",  # e.g. an immutable file, or a folder of another user
    "EROFS": "read-only file system",
    "ENOSPC": "no space left on device",
    "EDQUOT": "disk quota exceeded",
    "EFBIG": "file too large",
    "ENOENT": "no such file or directory",
    "EISDIR": "is a directory",
    "ENOTDIR": "not a directory",
    "ENAMETOOLONG": "file name too long",
    "EMFILE": "too many open files",
    "EIO": "input/output error",
}
_WRITE_ONLY = {"EROFS", "ENOSPC", "EDQUOT", "EFBIG"}  # errors that only writing meets
_WRITE_CALLS = (
    "write",
    "mkdir",
    "makedirs",
    "mkstemp",
    "replace",
    "rename",
    "unlink",
    "rmdir",
    "touch",
    "copy",
    "move",
    "symlink",
    "chmod",
    "dump",
    "save",
    "truncate",
    "flush",
)
_READ_CALLS = ("read", "load", "iterdir", "glob", "scandir", "listdir", "walk", "stat", "exists")


def _errno_name(exc: OSError) -> str:
    import errno

    return errno.errorcode.get(exc.errno or -1, "")


def _was_writing(exc: OSError) -> bool | None:
    """Whether `exc` was raised while writing, reading, or neither is clear (None): the name of
    the innermost function on its traceback that says (write_text, mkdir, read_text, ...)."""
    if _errno_name(exc) in _WRITE_ONLY:
        return True
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name.lower())
        tb = tb.tb_next
    for name in reversed(frames):
        if any(w in name for w in _WRITE_CALLS):
            return True
        if any(r in name for r in _READ_CALLS):
            return False
    return None


def filesystem_error(exc: OSError, *, writing: bool | None = None, path: object = None) -> MartsmithError:
    """One readable error for a failed file operation: `cannot write <path>: permission denied`
    (WriteRefused, exit 7) or `cannot read <path>: ...` (ProjectError, exit 3), with what to do.

    >>> filesystem_error(PermissionError(13, "Permission denied", "/p/models/marts/x.sql"), writing=True).message
    'cannot write /p/models/marts/x.sql: permission denied'
    """
    name = _errno_name(exc)
    reason = _REASONS.get(name) or (exc.strerror or str(exc) or type(exc).__name__).lower()
    where = path if path is not None else (exc.filename if exc.filename is not None else "a file")
    if writing is None:
        writing = _was_writing(exc)
    folder = Path(str(where)).parent if where != "a file" else None
    if writing:
        if name == "ENOSPC" or name == "EDQUOT":
            hint = "Free some disk space, then run the command again."
        elif name == "EROFS":
            hint = "The file system is mounted read-only: work in a writable copy of the project."
        elif name in ("EACCES", "EPERM"):
            hint = f"Make {folder or 'the folder'} and the file writable for this user, then run the command again."
        else:
            hint = "Check the path, then run the command again."
        return WriteRefused(f"cannot write {where}: {reason}", hint=hint + " A failed run keeps none of its changes.")
    hint = (
        f"Make {where} readable for this user, then run the command again."
        if name in ("EACCES", "EPERM")
        else "Check the path, then run the command again."
    )
    return ProjectError(f"cannot {'read' if writing is False else 'access'} {where}: {reason}", hint=hint)
