"""The llm planner: request -> `ModelSpec` through any litellm model, with a bounded repair loop.

The model gets a pruned schema context and the JSON contract (see `martsmith.plan.prompt`); its
answer is parsed (fences and prose around the JSON are tolerated), validated into a strict
`ModelSpec` and checked; every problem is sent back so the model can fix it, at most
`max_attempts` calls in all. litellm is imported only when a plan is made: importing it takes
seconds and `martsmith --help` must not pay for it.

The planner keeps its conversation (`SpecConversation`): the checks that run after planning
(sqlfluff, the warehouse compiling the SQL, dbt's build and tests) send what they find back with
`repair(findings, sql)`, each finding with the line of SQL it is about, within the same budget of
attempts (MARTSMITH_LLM_MAX_ATTEMPTS). The call itself, its settings and the repair loop are
`martsmith.llm.client.Conversation`, shared with the other planners.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from martsmith.context.catalog import Catalog
from martsmith.errors import UsageError
from martsmith.llm.client import (  # noqa: F401 - re-exported: the settings and helpers of this planner
    API_BASE_ENV,
    API_KEY_ENV,
    RATE_LIMIT_BACKOFF,
    Conversation,
    Provider,
    validation_errors,
)
from martsmith.llm.client import parse_json_object as parse_answer
from martsmith.plan.prompt import TOOL_FIELDS, answer_schema, build_messages, repair_message
from martsmith.spec import ModelSpec, check_identifier
from martsmith.validate.findings import Finding

Check = Callable[[ModelSpec], "list[Finding]"]


MAX_FEEDBACK = 20  # findings of one check sent back in one repair turn
MAX_LINE_CHARS = 160  # a line of SQL quoted in a finding


class SpecConversation:
    """The llm planner's conversation about one request: `spec` is the answer accepted so far;
    `repair(findings, sql)` sends what a later check found and returns the next accepted spec."""

    def __init__(self, conversation: Conversation[ModelSpec], spec: ModelSpec) -> None:
        self.conversation = conversation
        self.spec = spec

    @property
    def model(self) -> str:
        return self.conversation.model

    @property
    def prompt_sha256(self) -> str:
        """SHA-256 of the first prompt (system + user), recorded in `meta.martsmith`."""
        return self.conversation.prompt_sha256

    @property
    def calls(self) -> int:
        return self.conversation.calls

    @property
    def can_repair(self) -> bool:
        return self.conversation.attempts_left > 0

    def repair(self, findings: list[Finding], sql: str | None = None) -> ModelSpec:
        """The next spec, once the model has seen `findings` (about `sql`, the SQL rendered from
        the last spec); raises `LLMError` when no attempt is left or no answer validates."""
        self.spec = _noted(self.conversation.reject(feedback(findings, sql, self.spec)), self.conversation.calls)
        return self.spec


def _noted(spec: ModelSpec, calls: int) -> ModelSpec:
    if calls > 1:
        spec.notes.append(f"llm answer accepted after {calls} calls")
    return spec


def start_llm_plan(
    request: str,
    catalog: Catalog,
    *,
    model: str,
    name: str | None = None,
    check: Check | None = None,
    max_attempts: int | None = None,
    timeout: float | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    mock_response: str | None = None,
    dialect: str = "duckdb",
) -> SpecConversation:
    """Ask `model` for a spec of `request` over `catalog`; the conversation holds the first
    answer that validates and passes `check`, and can be continued with `repair`.

    Raises `LLMError` when the model cannot be reached (no key, timeout, auth, rate limit...) or
    gives no acceptable answer within `max_attempts` calls (default MARTSMITH_LLM_MAX_ATTEMPTS);
    the message says why and what to do. `mock_response` answers every call with that text,
    offline (litellm's own mock).
    """
    if not request.strip():
        raise UsageError("The request is empty.", hint="Describe the model you want, e.g. 'revenue by country'.")
    if name is not None:
        try:
            check_identifier(name, "model name")
        except ValueError as exc:
            raise UsageError(str(exc), hint="Pass --name with a name like 'revenue_by_country'.") from None

    def parse(text: str) -> ModelSpec:
        data = parse_answer(text)
        for field in TOOL_FIELDS:  # ours to fill: an answer that sets them is not wrong, just ignored
            data.pop(field, None)
        if name is not None:
            data["name"] = name
        data["request"], data["planner"] = request, f"llm:{model}"
        return ModelSpec.model_validate(data)

    def accept(spec: ModelSpec) -> list[str]:
        return [f.message for f in [*sql_body_findings(spec), *(check(spec) if check else [])]]

    provider = Provider(model=model, timeout=timeout, api_base=api_base, api_key=api_key, mock_response=mock_response)
    conversation = Conversation(
        build_messages(request, catalog, name=name, dialect=dialect),
        parse=parse,
        check=accept,
        max_attempts=max_attempts,
        **provider,
        what="model spec",
        repair=repair_message,
        backoff=RATE_LIMIT_BACKOFF,  # read now: tests shorten it
        schema=answer_schema(),
        schema_name="model_spec",
        hint="Rephrase the request with table or column names, use a stronger model, "
        "or raise MARTSMITH_LLM_MAX_ATTEMPTS.",
    )
    first = conversation.answer()
    return SpecConversation(conversation, _noted(first, conversation.calls))


def plan_with_llm(request: str, catalog: Catalog, **options) -> ModelSpec:
    """The first spec `start_llm_plan(request, catalog, **options)` accepts."""
    return start_llm_plan(request, catalog, **options).spec


def feedback(findings: list[Finding], sql: str | None, spec: ModelSpec | None = None) -> list[str]:
    """Findings as the model reads them: the check, what it found and the offending line of SQL.

    >>> feedback([Finding("lint", "AL03: Column expression without alias.", 2)], "select\\n    count(*)\\nfrom t")
    ['lint, line 2 `count(*)`: AL03: Column expression without alias.']
    """
    lines = sql.splitlines() if sql else []
    out: list[str] = []
    for f in findings[:MAX_FEEDBACK]:
        where = f.check
        if f.line and 0 < f.line <= len(lines):
            code = " ".join(lines[f.line - 1].split())
            code = code if len(code) <= MAX_LINE_CHARS else code[: MAX_LINE_CHARS - 1] + "…"
            where += f", line {f.line} `{code}`"
        elif f.line:
            where += f", line {f.line}"
        out.append(f"{where}: {f.message}")
    if len(findings) > MAX_FEEDBACK:
        out.append(f"(and {len(findings) - MAX_FEEDBACK} more findings of the same checks)")
    if spec is not None and spec.sql_body is None and out:
        out.append(
            "These lines are in the SQL martsmith rendered from your structured spec: change the spec "
            "(or, if the structure cannot express the request, write `sql_body`)."
        )
    return out


_JINJA = re.compile(r"\{\{(.*?)\}\}|\{%|\{#", re.DOTALL)
_REF_OR_SOURCE = re.compile(r"^\s*(ref\(\s*'[^']+'\s*\)|source\(\s*'[^']+'\s*,\s*'[^']+'\s*\))\s*$")


def sql_body_findings(spec: ModelSpec) -> list[Finding]:
    """The shape the prompt asks of `sql_body`: one SELECT, Jinja only for ref()/source().
    (The validate stage checks the SQL itself; this catches what the model can fix cheaply.)"""
    if spec.sql_body is None:
        return []
    body = spec.sql_body.strip()
    found: list[Finding] = []
    if not re.match(r"(?is)^\s*(select|with)\b", body):
        found.append(Finding("spec", "sql_body must be a single SELECT statement (it may start with WITH)"))
    if ";" in body.rstrip(";") or body.endswith(";"):
        found.append(Finding("spec", "sql_body must be one statement without semicolons"))
    for m in _JINJA.finditer(body):
        if m.group(1) is None or not _REF_OR_SOURCE.match(m.group(1).replace('"', "'")):
            found.append(
                Finding(
                    "spec",
                    f"sql_body may use Jinja only as {{{{ ref('x') }}}} or "
                    f"{{{{ source('s', 't') }}}}; found {m.group(0)[:60]!r}",
                )
            )
    return found
