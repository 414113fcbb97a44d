"""The headless core of pmem: config, model engine and memory layers.

Nothing under this package may import a face (``pmem.cli``, ``pmem.tui``) or a UI
toolkit (Textual, Typer); ``tests/test_architecture.py`` and import-linter enforce it.
"""
