"""martsmith: natural-language requests to linted, built and tested dbt models."""

__version__ = "0.1.0"
