"""The error tree. Every error the CLI turns into one readable line and an exit code.

A `MartsmithError` carries a message that says what went wrong and what to do next, and an
exit code. Anything else that escapes a command is a bug and is shown as such.
"""

from __future__ import annotations


class MartsmithError(Exception):
    """Base class: a known failure with a readable message."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class UsageError(MartsmithError):
    """The command line or the request itself is not usable (empty request, bad name...)."""

    exit_code = 2


class ProjectError(MartsmithError):
    """No dbt project, no profile, a broken YAML file, a missing package."""

    exit_code = 3


class WarehouseError(MartsmithError):
    """The warehouse can't be reached or read (e.g. a DuckDB file locked by another process)."""

    exit_code = 4


class PlanError(MartsmithError):
    """The planner could not turn the request into a spec."""

    exit_code = 2


class UnplacedWordsError(PlanError):
    """The offline planner met words it cannot link to the schema.

    `unplaced` maps each word to the closest candidates (table or column names).
    """

    MAX_WORDS = 10  # words listed; a huge request has hundreds
    MAX_REQUEST = 200  # characters of the request quoted back

    def __init__(self, unplaced: dict[str, list[str]], request: str) -> None:
        from martsmith.commands.output import shorten

        parts = []
        for word, candidates in list(unplaced.items())[: self.MAX_WORDS]:
            near = f" (closest: {', '.join(candidates[:5])})" if candidates else ""
            parts.append(f"'{shorten(word, 60)}'{near}")
        if len(unplaced) > self.MAX_WORDS:
            parts.append(f"and {len(unplaced) - self.MAX_WORDS:,} more words")
        super().__init__(
            "The offline planner could not place " + "; ".join(parts) + f" in: {shorten(request, self.MAX_REQUEST)!r}",
            hint="Rephrase with table or column names, describe the column in its YAML, "
            "or use --llm MODEL.",
        )
        self.unplaced = unplaced


class LLMError(PlanError):
    """The LLM could not be reached or never produced a valid answer."""

    exit_code = 5


class ValidationFailed(MartsmithError):
    """Generated code failed a check (safety, columns, lint, dbt). Carries the findings."""

    exit_code = 6

    def __init__(self, message: str, findings: list | None = None, *, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.findings = findings or []


class WriteRefused(MartsmithError):
    """Writing was refused: the model exists without --force, no --yes off a terminal, or
    another martsmith run holds the project's lock for too long."""

    exit_code = 7


class WarehouseChanged(MartsmithError):
    """A run changed the warehouse outside the relations it was allowed to create or replace
    (e.g. injected SQL dropped a schema). `changes` lists each difference found."""

    exit_code = 8

    def __init__(self, changes: list[str], *, hint: str | None = None) -> None:
        super().__init__("The warehouse changed outside this run: " + "; ".join(changes) + ".", hint=hint)
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
_WRITE_CALLS = ("write", "mkdir", "makedirs", "mkstemp", "replace", "rename", "unlink", "rmdir", "touch",
                "copy", "move", "symlink", "chmod", "dump", "save", "truncate", "flush")
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
    from pathlib import Path

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
    hint = (f"Make {where} readable for this user, then run the command again."
            if name in ("EACCES", "EPERM") else "Check the path, then run the command again.")
    return ProjectError(f"cannot {'read' if writing is False else 'access'} {where}: {reason}", hint=hint)
