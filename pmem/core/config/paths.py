"""Where pmem keeps things: under ``PMEM_HOME`` when it is set, else the platform's per-user folders."""

from __future__ import annotations

import dataclasses
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from pmem.core.config.settings import APP_NAME
from pmem.core.errors import StorageError



@dataclass(frozen=True)
class Paths:
    """Every location pmem reads or writes."""

    config_file: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def database(self) -> Path:
        """SQLite: journal (source of truth), lexical index and profile."""
        return self.data_dir / "pmem.sqlite3"

    @property
    def chroma_dir(self) -> Path:
        """Chroma's on-disk vector store, derived from the journal."""
        return self.data_dir / "chroma"

    @property
    def adapters_dir(self) -> Path:
        """LoRA adapters distilled from the profile and memories."""
        return self.data_dir / "adapters"

    @property
    def distill_cache_dir(self) -> Path:
        """Dense (dequantized) copies of base models for training; derived, holds no personal data."""
        return self.cache_dir / "distill"

    @property
    def kv_dir(self) -> Path:
        """Saved llama.cpp KV state of the stable prompt prefix."""
        return self.cache_dir / "kv"

    @property
    def backups_dir(self) -> Path:
        """Rolling backups of the journal (the one store that cannot be rebuilt)."""
        return self.data_dir / "backups"

    @property
    def model_checks(self) -> Path:
        """``pmem models check`` results, one per model file (by fingerprint), shown by ``pmem models``."""
        return self.data_dir / "model_checks.json"

    @property
    def api_token(self) -> Path:
        """The bearer token ``pmem serve`` requires (0600, made on first use)."""
        return self.data_dir / "api-token"

    @property
    def runtime_dir(self) -> Path:
        """Per user account, whatever the data dir: the lock that lets one background distillation run at a time
        across every pmem home of this user."""
        return user_runtime_dir()

    def as_dict(self) -> dict[str, Path]:
        return {
            "config file": self.config_file,
            "data dir": self.data_dir,
            "database": self.database,
            "vector store": self.chroma_dir,
            "adapters": self.adapters_dir,
            "backups": self.backups_dir,
            "cache dir": self.cache_dir,
            "kv cache": self.kv_dir,
            "log dir": self.log_dir,
            "runtime dir": self.runtime_dir,
        }

    def ensure_data_dir(self) -> Path:
        """Create the private data dir (0700) and check that it is writable; files pmem creates are 0600."""
        os.umask(0o077)
        for directory in (self.data_dir, self.cache_dir):
            _make_private_dir(directory)
        return self.data_dir


def user_runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/pmem`` when the session has one, else a private ``pmem-<uid>`` in the temp dir."""
    import tempfile

    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and Path(base).is_dir():
        return Path(base) / APP_NAME
    return Path(tempfile.gettempdir()) / f"{APP_NAME}-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def _make_private_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if stat.S_IMODE(directory.stat().st_mode) & 0o077:
            directory.chmod(0o700)
    except OSError as exc:
        raise StorageError(f"cannot create data directory {directory}: {exc.strerror or exc}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StorageError(f"data directory {directory} is not writable; fix its permissions or set PMEM_HOME")


def resolve_paths(environ: dict[str, str] | None = None) -> Paths:
    """Where things live: under ``PMEM_HOME`` when set, else platformdirs' per-user dirs."""
    env = os.environ if environ is None else environ
    home = env.get("PMEM_HOME")
    if home:
        root = Path(home).expanduser().absolute()
        paths = Paths(
            config_file=root / "config.toml",
            data_dir=root / "data",
            cache_dir=root / "cache",
            log_dir=root / "logs",
        )
    else:
        import platformdirs

        paths = Paths(
            config_file=platformdirs.user_config_path(APP_NAME) / "config.toml",
            data_dir=platformdirs.user_data_path(APP_NAME),
            cache_dir=platformdirs.user_cache_path(APP_NAME),
            log_dir=platformdirs.user_log_path(APP_NAME),
        )
    if env.get("PMEM_CONFIG"):
        paths = dataclasses.replace(paths, config_file=Path(env["PMEM_CONFIG"]).expanduser().absolute())
    return paths
