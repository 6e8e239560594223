"""Single-pass data profiles of sources and models (see profiler.py) and their types."""
