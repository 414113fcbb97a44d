"""Files the user edits in their editor: written in pmem's private cache folder (never the shared temp folder) and
deleted afterwards, whatever happens."""

from __future__ import annotations

import os
import shlex
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def private_draft(directory: Path, prefix: str, suffix: str, text: str) -> Iterator[Path]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=str(directory))
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        yield path
    finally:
        path.unlink(missing_ok=True)


def editor_command(path: Path) -> list[str]:
    """$VISUAL, else $EDITOR, else vi, on ``path`` (the variable may carry arguments: "code --wait")."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return [*shlex.split(editor), str(path)]
