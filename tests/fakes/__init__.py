"""Test doubles for services martsmith talks to (an OpenAI-compatible LLM server)."""
