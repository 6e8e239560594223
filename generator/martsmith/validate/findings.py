"""A finding: one thing a check found wrong with generated code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    check: str  # "safety", "columns", "lint", "compile", "build", "test", "spec"
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"[{self.check}] {self.message}{where}"
