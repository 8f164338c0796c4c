"""Helpers shared by the test folders (tests/ is on pytest's path: pyproject's `pythonpath`)."""
