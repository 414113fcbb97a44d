"""Import and export: pmem's own lossless export, a documented generic format, and ChatGPT's data export.

Every import is parsed and validated completely before anything is written, then written in one
transaction: a bad file changes nothing. Files are read as a stream of sessions (ijson), twice: once to
validate, once to write, so memory stays bounded whatever the file's size. Imports are idempotent: a session already imported (same
source and id) is skipped, so importing a file twice adds nothing.
"""

from __future__ import annotations

from pmem.core.transfer.pmem_export import EXPORT_FORMAT, EXPORT_VERSION
from pmem.core.transfer.reading import FORMATS, UNKNOWN_FORMAT, StreamedImport, classify, detect, parse, read_import
from pmem.core.transfer.records import ROLES, ImportSession, ImportSummary, ImportTurn
from pmem.core.transfer.writing import export_all, import_sessions, session_markdown

__all__ = [
    "EXPORT_FORMAT", "EXPORT_VERSION", "FORMATS", "ROLES", "UNKNOWN_FORMAT", "ImportSession", "ImportSummary", "ImportTurn",
    "StreamedImport", "classify", "detect", "export_all", "import_sessions", "parse", "read_import", "session_markdown",
]
