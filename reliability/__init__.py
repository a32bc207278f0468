"""Reliability suites (``invoke reliability``): see ``reliability.harness`` and docs/reliability.md."""
