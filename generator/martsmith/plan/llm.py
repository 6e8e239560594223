"""The llm planner: request -> `ModelSpec` through any litellm model, with a bounded repair loop.

The model gets a pruned schema context and the JSON contract (see `martsmith.plan.prompt`); its
answer is parsed (fences and prose around the JSON are tolerated), validated into a strict
`ModelSpec` and checked; every problem is sent back so the model can fix it, at most
`max_attempts` calls in all. litellm is imported only when a plan is made: importing it takes
seconds and `martsmith --help` must not pay for it.

The call itself, its settings (MARTSMITH_LLM_API_BASE, MARTSMITH_LLM_API_KEY, provider variables)
and the repair loop are `martsmith.llm.client.complete_structured`, shared with the other planners.
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
    Provider,
    complete_structured,
    validation_errors,
)
from martsmith.llm.client import parse_json_object as parse_answer
from martsmith.plan.prompt import TOOL_FIELDS, build_messages, repair_message
from martsmith.spec import ModelSpec, check_identifier
from martsmith.validate.findings import Finding

Check = Callable[[ModelSpec], "list[Finding]"]


def plan_with_llm(
    request: str,
    catalog: Catalog,
    *,
    model: str,
    name: str | None = None,
    check: Check | None = None,
    max_attempts: int = 3,
    timeout: float = 60,
    api_base: str | None = None,
    api_key: str | None = None,
    mock_response: str | None = None,
) -> ModelSpec:
    """Ask `model` for a spec of `request` over `catalog`; return the first answer that validates
    and passes `check`.

    Raises `LLMError` when the model cannot be reached (no key, timeout, auth, rate limit...) or
    gives no acceptable answer within `max_attempts` calls; the message says why and what to do.
    `mock_response` answers every call with that text, offline (litellm's own mock).
    """
    if not request.strip():
        raise UsageError("The request is empty.", hint="Describe the model you want, e.g. 'revenue by country'.")
    if name is not None:
        try:
            check_identifier(name, "model name")
        except ValueError as exc:
            raise UsageError(str(exc), hint="Pass --name with a name like 'revenue_by_country'.") from None
    answers = 0

    def parse(text: str) -> ModelSpec:
        nonlocal answers
        answers += 1
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
    spec = complete_structured(
        build_messages(request, catalog, name=name),
        parse=parse,
        check=accept,
        max_attempts=max_attempts,
        **provider,
        what="model spec",
        repair=repair_message,
        backoff=RATE_LIMIT_BACKOFF,  # read now: tests shorten it
        hint="Rephrase the request with table or column names, use a stronger model, or raise the number of attempts.",
    )
    if answers > 1:
        spec.notes.append(f"llm answer accepted after {answers} calls")
    return spec


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
