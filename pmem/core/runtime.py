"""Wiring: turn settings and paths into open stores and engines, in one place for every face."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pmem.core.config import Paths, Settings, load_settings, resolve_paths
from pmem.core.engine import ChatEngine, create_engine
from pmem.core.store.db import connect
from pmem.core.store.journal import Journal

if TYPE_CHECKING:
    from types import TracebackType

    from pmem.core.distill.service import DistillService
    from pmem.core.forget import Forgetter
    from pmem.core.layers import MemoryLayers
    from pmem.core.memory.service import MemoryService
    from pmem.core.profile.service import ProfileService
    from pmem.core.store.backup import Backup


@dataclass
class Runtime:
    """Settings, paths and lazily opened stores for one pmem process. Use it as a context manager (or call
    ``close()``): closing lets background work finish and releases the model and the stores.

    Deferred imports in this module are there so that a command pays only for the layers it opens (``pmem
    --help`` and ``pmem profile show`` never import the embedder, Chroma or llama.cpp)."""

    settings: Settings
    paths: Paths
    model_override: str | None = None
    chat_engine: ChatEngine | None = None
    """An engine to use instead of one made from the settings (tests inject a scripted one; a face may share one)."""
    use_adapter: bool = True
    """Apply the distilled LoRA adapter (``--no-adapter`` turns it off for one run)."""
    adapter_note: str = ""
    """Why no adapter is applied although one exists (trained on another model, unreadable)."""
    private: bool = False
    """A private session (``--no-memory``): no profile, no recall, nothing written."""
    distill_on_close: bool = False
    """Whether ``close()`` should start a background distillation if enough is new (chat sessions, imports,
    forgetting do; one-off commands do not)."""
    _journal: Journal | None = field(default=None, repr=False)
    _engine: ChatEngine | None = field(default=None, repr=False)
    _memory: MemoryService | None = field(default=None, repr=False)
    _profile: ProfileService | None = field(default=None, repr=False)
    _layers: MemoryLayers | None = field(default=None, repr=False)
    _distill: DistillService | None = field(default=None, repr=False)
    _forget: Forgetter | None = field(default=None, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)
    _threads_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _closed: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.chat_engine is not None:
            self._engine = self.chat_engine

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        # After an error or Ctrl+C nothing is flushed that the user did not see finish; what is committed stays.
        self.close(flush=kind is None)

    def in_background(self, name: str, job: Callable[[], None]) -> None:
        """Run ``job`` on a thread that ``close()`` waits for. Not a daemon: a thread still inside PyTorch or
        llama.cpp when the interpreter shuts down can abort the process."""
        with self._threads_lock:  # started and listed at once: close() never joins a thread not yet started
            if self._closed:
                return  # closing already: the job would meet closed stores
            thread = threading.Thread(target=job, name=name)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)

    @classmethod
    def load(cls, *, engine: ChatEngine | None = None, environ: dict[str, str] | None = None) -> Runtime:
        """The runtime the environment describes (``environ``: these variables instead of the process's own)."""
        paths = resolve_paths(environ)
        return cls(load_settings(paths, environ), paths, chat_engine=engine)

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self.paths.ensure_data_dir()
            self._journal = Journal(connect(self.paths.database))
            if not self.private:
                self._daily_backup()
        return self._journal

    def backup_now(self, reason: str, target: Path | None = None) -> Backup | None:
        """Back the journal up now (``target``: a folder or ``.sqlite3`` file of the user's, kept out of the
        rotation); None when backups are off and no target was named, or there is nothing to back up yet."""
        from pmem.core.store import backup

        if target is None and not self.settings.backup.enabled:
            return None
        self.journal  # noqa: B018 - opened (and migrated) first
        made = backup.take(self.paths.database, target or self.paths.backups_dir, reason)
        if target is None:
            backup.rotate(self.paths.backups_dir, daily=self.settings.backup.keep_daily, weekly=self.settings.backup.keep_weekly,
                          keep_also=made.path)
        return made

    def _daily_backup(self) -> None:
        """At most once a day, when pmem is used and the journal holds something; by one process of several
        started at once (the others find it taken, or being taken, and go on)."""
        from filelock import FileLock, Timeout

        from pmem.core.store import backup

        if not (self.settings.backup.enabled and backup.due(self.paths.backups_dir)):
            return
        self.paths.backups_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            with FileLock(str(self.paths.backups_dir / ".daily.lock"), timeout=0):
                if backup.due(self.paths.backups_dir):
                    self.backup_if_data("daily")
        except Timeout:
            pass

    def _backup_quietly(self) -> None:
        """The daily backup at close too (the first one right after a first import or chat); a failure here is
        left for the next command's own backup to report."""
        from pmem.core.errors import PmemError

        try:
            self._daily_backup()
        except PmemError:
            pass

    def backup_if_data(self, reason: str) -> Backup | None:
        """An automatic backup (daily, before an import or a rebuild): skipped while the journal holds nothing."""
        if self.journal.conn.execute("SELECT 1 FROM turns LIMIT 1").fetchone() is None:
            return None
        return self.backup_now(reason)

    @property
    def engine(self) -> ChatEngine:
        """The chat engine (constructed, not loaded: call ``load()`` or let the chat service do it)."""
        if self._engine is None:
            adapter = self._adapter()
            self._engine = create_engine(self.settings, self.model_override, adapter)
            model_path = getattr(self._engine, "model_path", None)
            if model_path is not None and self._adapters_wanted():
                from pmem.core.models import model_fingerprint

                # Adapters trained while this process runs (a background run) are picked up live.
                self._engine.adapter_base = self._distill.fingerprint if self._distill is not None else model_fingerprint(model_path)
        return self._engine

    @property
    def chosen_model(self) -> str:
        """The chat model as the user named it (a path or a short name; empty: the embedded one)."""
        return self.model_override if self.model_override is not None else self.settings.model.path

    @property
    def on_embedded_model(self) -> bool:
        """Chatting with the 135M fallback because no other model is configured or chosen: the faces then name
        ``pmem models pull`` (decided from the settings alone: no file is read)."""
        from pmem.core.discovery import EMBEDDED_NAME

        return self.settings.model.backend == "llama_cpp" and self.chosen_model in ("", EMBEDDED_NAME)

    def reset_model(self) -> None:
        """Forget the engine and the parametric memory tied to the current model (after the configured model
        changed); both are made again for the new one on first use."""
        if self._engine is not None:
            self._engine.close()
        self._engine, self._distill, self.adapter_note = None, None, ""

    def switch_model(self, chosen: str) -> ChatEngine:
        """Chat with another model from now on (a path or a short name), with its own adapter if one was trained
        for it. The current model is let go before the new one loads (two may not fit in memory together);
        if the new one cannot load, the current one is loaded again and the error raised."""
        from pmem.core.discovery import resolve_model
        from pmem.core.errors import PmemError
        from pmem.core.models import read_gguf_info

        read_gguf_info(resolve_model(chosen, self.settings.model.search_paths))  # a bad name or file fails here, first
        before = (self.model_override, self._engine, self._distill, self.adapter_note)
        if self._engine is not None:
            self._engine.close()
        self.model_override, self._engine, self._distill, self.adapter_note = chosen, None, None, ""
        try:
            engine = self.engine
            engine.load()
        except PmemError:
            if self._engine is not None:
                self._engine.close()
            self.model_override, self._engine, self._distill, self.adapter_note = before
            if self._engine is not None:
                self._engine.load()
            raise
        return engine

    def _adapters_wanted(self) -> bool:
        return self.use_adapter and self.settings.distill.use_adapter and self.settings.model.backend == "llama_cpp"

    @property
    def distill(self) -> DistillService:
        """Parametric memory for the current base model (training itself needs ``pmem[distill]``)."""
        if self._distill is None:
            from pmem.core.discovery import resolve_model
            from pmem.core.distill.service import DistillService

            model = resolve_model(self.chosen_model, self.settings.model.search_paths)
            self._distill = DistillService(self.settings, self.paths, self.journal.conn, model)
        return self._distill

    def _adapter(self) -> tuple[Path, str] | None:
        """The newest live adapter for the chat model, when adapters are wanted and one exists."""
        if not self._adapters_wanted():
            return None
        if not self.paths.database.exists():
            return None
        adapter = self.distill.active()
        if adapter is None:
            foreign = self.distill.foreign()
            if foreign:
                self.adapter_note = (
                    f"adapter {foreign[0].id} was trained on another model ({foreign[0].base_name}); not used with this one"
                )
            return None
        if self.distill.store.intact(adapter) is False:
            self.adapter_note = (
                f"adapter {adapter.id} is damaged (its file no longer matches the SHA-256 written with it): chatting "
                "without it; pmem distill --clear, then pmem distill, trains a new one"
            )
            return None
        return self.distill.store.path(adapter), adapter.id

    @property
    def memory(self) -> MemoryService:
        """Episodic memory over the journal (the embedder and Chroma load on first use)."""
        if self._memory is None:
            from pmem.core.memory.service import MemoryService

            self._memory = MemoryService(self.settings, self.paths, self.journal.conn)
        return self._memory

    @property
    def profile(self) -> ProfileService:
        """The profile; its extraction engine (a separate llama.cpp context) loads on first use."""
        if self._profile is None:
            from pmem.core.profile.service import ProfileService

            self._profile = ProfileService(
                self.journal.conn, self._extraction_engine, use_model=self._use_extraction_model(), database=self.paths.database
            )
        return self._profile

    @property
    def extraction_model(self) -> str:
        """The model the profile's model pass reads with, as the user named it (empty: the embedded one)."""
        return self.settings.profile.extraction_model or self.chosen_model

    def _use_extraction_model(self) -> bool:
        choice = self.settings.profile.use_model
        if choice != "auto":
            return choice == "always"
        from pmem.core.models import EMBEDDED_CHAT_FILE

        from pmem.core.discovery import EMBEDDED_NAME

        chosen = self.extraction_model
        return bool(chosen) and chosen != EMBEDDED_NAME and not chosen.endswith(EMBEDDED_CHAT_FILE)

    def _extraction_engine(self) -> ChatEngine:
        path = self.settings.profile.extraction_model or self.model_override
        engine = create_engine(self.settings, path)
        if hasattr(engine, "n_ctx") and self.settings.model.backend == "llama_cpp":
            engine.n_ctx = min(engine.n_ctx, 2048)
        return engine

    @property
    def forget(self) -> Forgetter:
        """Every erasure, across all layers, with the purge that follows it."""
        if self._forget is None:
            from pmem.core.forget import Forgetter

            self._forget = Forgetter(self.journal, self.memory, self.paths)
        return self._forget

    @property
    def layers(self) -> MemoryLayers:
        """Every memory layer, as the chat service uses them."""
        if self._layers is None:
            from pmem.core.layers import MemoryLayers

            self._layers = MemoryLayers(self.settings, self.memory, self.profile, self.forget)
        return self._layers

    @property
    def layers_open(self) -> MemoryLayers | None:
        """The memory layers if this process has opened them (for a status line: never opens anything)."""
        return self._layers

    @property
    def engine_open(self) -> ChatEngine | None:
        """The chat engine if one has been made (never makes one)."""
        return self._engine

    def start_distill_if_due(self) -> bool:
        """Start a background distillation when enough is new since the last adapter; never raises."""
        import sqlite3

        from pmem.core.errors import PmemError

        try:
            if self.distill.due():
                return self.distill.start_background()
        except (PmemError, OSError, sqlite3.Error):
            pass
        return False

    def close(self, *, flush: bool = True) -> None:
        """Stop background work (letting it finish when ``flush``), then release the model and stores.

        Closing explicitly matters: a daemon thread still inside PyTorch or llama.cpp while the interpreter
        shuts down can abort the process. Closing twice does nothing."""
        with self._threads_lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=120)
        if self._profile is not None:
            if flush:
                self._profile.flush()
            self._profile.close()
        if self._memory is not None:
            if flush:
                self._memory.flush()
            self._memory.close()
        if flush and self.distill_on_close and not self.private:
            self.start_distill_if_due()
        if flush and self._journal is not None and not self.private:
            self._backup_quietly()
        if self._engine is not None:
            self._engine.close()
        if self._journal is not None:
            self._journal.conn.close()
