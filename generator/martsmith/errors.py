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
        from martsmith.output import shorten

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
    """Writing was refused: the model exists without --force, or no --yes off a terminal."""

    exit_code = 7
