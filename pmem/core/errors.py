"""User-facing errors.

A ``PmemError`` carries one line that the faces print as-is and exit non-zero with; anything
else reaching a face is a bug. Keeping the message a single line is part of the contract.
"""

from __future__ import annotations


class PmemError(Exception):
    """An error the user can act on; ``str(err)`` is a complete, single-line explanation."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class ConfigError(PmemError):
    """The config file or a ``PMEM_*`` variable is invalid."""

    exit_code = 2


class ModelError(PmemError):
    """The model file is missing, not a GGUF, or cannot be used."""


class InputError(PmemError):
    """Input given on the command line or stdin cannot be used."""

    exit_code = 2


class StorageError(PmemError):
    """The data directory or a store in it cannot be opened or written."""


class Interrupted(PmemError):
    """The user pressed Ctrl+C; what was already written is kept."""

    exit_code = 130

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's way of saying a write did not fit: SQLITE_FULL, or an I/O error on write (EFBIG, quotas)."""
    text = str(exc).lower()
    return "disk is full" in text or "disk i/o error" in text or getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_FULL", "SQLITE_IOERR"))
