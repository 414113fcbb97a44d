"""The token that guards pmem's network faces: made on first use, kept 0600 in the data dir, compared in
constant time. One token per data dir: whoever can read the data dir can read the memory anyway."""

from __future__ import annotations

import hmac
import os
import secrets
import tempfile

from pmem.core.config import Paths
from pmem.core.errors import StorageError


def api_token(paths: Paths) -> str:
    """The data dir's API token, created (URL-safe, 256 bits) the first time it is asked for."""
    path = paths.api_token
    try:
        token = path.read_text(encoding="ascii").strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageError(f"cannot read the API token {path}: {exc}") from None
    paths.ensure_data_dir()
    # Written whole to a private temporary file, then linked into place: the first of two processes to start
    # wins and the other reads its token, so no reader ever sees a half-written or second token.
    fd, tmp = tempfile.mkstemp(prefix=".api-token-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    return path.read_text(encoding="ascii").strip()


def token_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
