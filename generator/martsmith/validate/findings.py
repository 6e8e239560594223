"""A finding: one thing a check found wrong with generated code (or with a request, a rule, a
file): the typed payload of every error (errors.MartsmithError.findings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    # what found it: "safety", "columns", "lint", "jinja", "compile", "build", "test", "spec" (checks
    # of generated code); "plan", "rules", "llm", "yaml", "warehouse" (the other errors' details)
    check: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"[{self.check}] {self.message}{where}"
