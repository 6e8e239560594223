"""sqlfluff stand-ins for the macros martsmith-generated models call, for a host's own linting.

sqlfluff's jinja templater does not know dbt packages: `{{ martsmith.surrogate_key([...]) }}` is an
undefined variable to it and the model fails to parse. A host adds one line to its `.sqlfluff`:

    [sqlfluff:templater:jinja]
    library_path = dbt_packages/martsmith/macros/martsmith_sqlfluff

and sqlfluff then renders `martsmith.*` and `dbt.*` (the cross-database macros generated code
uses) to plain SQL of the same shape. `martsmith init` writes that line.

The folder is a Python package on purpose: sqlfluff imports each module of a library_path and
registers it in `sys.modules` under its own name, so plain `dbt.py` / `martsmith.py` modules
would shadow the real `dbt` and `martsmith` packages in any process that lints in-process.
As a package, they register as `martsmith_sqlfluff.dbt` and `martsmith_sqlfluff.martsmith`.

Self-contained (no import of martsmith): a host's CI may run sqlfluff without martsmith installed.
dbt ignores this folder (it reads only `.sql` files under macro-paths).
"""
