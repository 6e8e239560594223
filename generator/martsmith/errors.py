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

    def __init__(self, unplaced: dict[str, list[str]], request: str) -> None:
        parts = []
        for word, candidates in unplaced.items():
            near = f" (closest: {', '.join(candidates)})" if candidates else ""
            parts.append(f"'{word}'{near}")
        super().__init__(
            "The offline planner could not place " + "; ".join(parts) + f" in: {request!r}",
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
