"""Asking a model: `client` (structured JSON answers from any litellm model, with a bounded
repair loop) is shared by every planner that asks one (plan/llm.py, star/plan_llm.py,
inference/rules_llm.py)."""
