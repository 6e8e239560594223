"""`martsmith review`: what a change to a dbt project does, with the evidence a reviewer needs.

changes (base vs working tree) -> rules (static findings) -> provenance (re-render generated
models) -> build (changed models and children in an isolated schema) -> datadiff (against the
base's relations) -> impact (downstream, Mermaid) -> report (Markdown, JSON, text).
"""
