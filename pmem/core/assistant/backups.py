"""The journal's backups: list and check them, take one, put one back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pmem.core.errors import InputError, PmemError
from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.memory.service import Progress
    from pmem.core.store.backup import Backup


class BackupActions:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def checked(self) -> list[tuple[Backup, str]]:
        """The journal's backups, newest first, each with its integrity check (``"ok"`` or why not)."""
        from pmem.core.store import backup

        return [(b, backup.check(b.path)) for b in backup.list_backups(self.runtime.paths.backups_dir)]

    def make(self, target: Path | None = None) -> Backup:
        """A backup now: into the rotation, or to ``target`` (a folder or a ``.sqlite3`` file, kept as it is)."""
        made = self.runtime.backup_now("manual", target.expanduser() if target else None)
        if made is None:
            raise InputError("backups are off (backup.enabled = false): name a folder with --to")
        return made

    def restore(self, which: str, progress: Progress | None = None) -> tuple[Path, Path | None, int]:
        """Put a backup (a name from ``checked()`` or a path) in place of the journal after checking it, keeping the
        current one aside; then rebuild the vector index from it. Returns (restored from, kept aside at, memories)."""
        from pmem.core.store import backup

        paths = self.runtime.paths
        source = Path(which).expanduser()
        if not source.is_file():
            source = paths.backups_dir / which
        if not source.is_file():
            raise InputError(f"no backup named {which!r}: `pmem restore` lists them")
        if self.runtime._journal is not None:  # noqa: SLF001 - a restore must come before anything opens the journal
            raise PmemError("the journal is open in this process: restore before opening it")
        aside = backup.restore(paths.database, source)
        for state in paths.kv_dir.glob("*.kv") if paths.kv_dir.exists() else []:
            state.unlink(missing_ok=True)  # saved prompt states of the replaced profile
        return source, aside, self.runtime.memory.reindex(progress=progress)
