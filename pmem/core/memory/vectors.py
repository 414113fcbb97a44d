"""The vector store: Chroma, on this disk (``PersistentClient``) or on a server (``HttpClient``), same code path.

Only ids, vectors and small metadata go to Chroma; the text stays in the journal. That keeps one
copy of what the user said, which is what makes forgetting complete and the index rebuildable.

One vector per turn (its id is the turn's uid), embedded from the turn with its neighbours in the session;
its metadata names the episode (exchange) it belongs to, which is what retrieval returns and forgetting
deletes by. (Until 0.1 there was one vector per episode, in the collection ``pmem_episodes``: it is dropped
on first open and the journal is re-embedded in the background.)
"""

from __future__ import annotations

import fcntl
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from pmem.core import failpoints
from pmem.core.config import Paths, Settings
from pmem.core.errors import StorageError

COLLECTION = "pmem_turns"
LEGACY_COLLECTIONS = ("pmem_episodes",)
_OPENED_AT: dict[str, str] = {}
"""Per store path: the generation when this process last opened a Chroma client on it (see _forget_stale_system)."""


_T = TypeVar("_T")
_STOPS = (KeyboardInterrupt, SystemExit, GeneratorExit)
"""What a Chroma call may raise that is the user or the interpreter stopping pmem, not damage."""


class EmbedderMismatch(StorageError):
    """The index was built by another embedder: its vectors cannot be compared with new ones."""


_HELD = threading.Lock()
_held: dict[str, Any] = {"depth": 0, "saved": -1, "file": None, "failed": False}
"""fd 2 is one per process: calls that overlap (two threads in Chroma) share one redirection, made by the first and
undone by the last, or the second would restore the first's temporary file as stderr for good."""


@contextmanager
def held_stderr() -> Iterator[None]:
    """Hold what native code writes to file descriptor 2 for the length of a Chroma call. Chroma's Rust core panics
    on a damaged file (``pyo3_runtime.PanicException``, a BaseException) and its panic hook prints the panic and a
    backtrace to fd 2 before Python sees it: that text is dropped when a call fails (pmem says what happened in one
    line), and written out as it was when the calls succeed."""
    with _HELD:
        if _held["depth"] == 0:
            try:
                sys.stderr.flush()
            except (AttributeError, ValueError, OSError):
                pass
            held = tempfile.TemporaryFile()
            _held.update(saved=os.dup(2), file=held, failed=False)
            os.dup2(held.fileno(), 2)
        _held["depth"] += 1
    failed = True
    try:
        yield
        failed = False
    finally:
        with _HELD:
            _held["failed"] = _held["failed"] or failed
            _held["depth"] -= 1
            if _held["depth"] == 0:
                os.dup2(_held["saved"], 2)
                os.close(_held["saved"])
                held = _held["file"]
                if not _held["failed"]:
                    held.seek(0)
                    if text := held.read():
                        os.write(2, text)
                held.close()
                _held.update(saved=-1, file=None)


class VectorStore:
    def __init__(self, settings: Settings, paths: Paths, embedder_name: str) -> None:
        self.settings = settings
        self.paths = paths
        self.embedder_name = embedder_name
        self._client: Any = None
        self._collection: Any = None
        self.rebuilt = False
        """Set when the on-disk store was missing or unreadable and was started afresh (re-index needed)."""
        self.damage = ""
        """What Chroma said when a call on the store failed twice and it was started afresh (for the notice)."""
        self._seen_generation: str | None = None
        self._held = threading.local()  # per thread: how deep inside write_lock() this thread is
        self._opening = threading.RLock()
        self._legacy_checked = False

    # ------------------------------------------------------------------ connection

    @property
    def client(self) -> Any:
        if self._client is None:
            from pmem.core.memory.chroma_compat import import_chromadb
            from pmem.core.heap import scrub_reused_memory

            scrub_reused_memory()  # before Chroma allocates the buffers it writes to disk whole (heap.py)

            chromadb = import_chromadb()
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
            try:
                if self.settings.memory.chroma_mode == "http":
                    self._client = chromadb.HttpClient(
                        host=self.settings.memory.chroma_host, port=self.settings.memory.chroma_port, settings=chroma_settings
                    )
                else:
                    if not self.paths.chroma_dir.exists():
                        self.rebuilt = True  # nothing there (first run, or deleted): whatever was indexed is gone
                    self.paths.chroma_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                    self._forget_stale_system()
                    with held_stderr():
                        self._client = chromadb.PersistentClient(path=str(self.paths.chroma_dir), settings=chroma_settings)
                    _OPENED_AT[str(self.paths.chroma_dir)] = self._read_generation()
            except _STOPS:
                raise
            except BaseException as exc:  # noqa: BLE001 - chromadb raises many types, a Rust panic too; the user needs one line
                if self.settings.memory.chroma_mode == "http":
                    raise StorageError(f"cannot open the vector store ({self.where}): {exc}") from None
                self._start_afresh()
        return self._client

    def _start_afresh(self) -> None:
        """The embedded store is unreadable: it is derived data, so remove it and start an empty one."""
        import shutil

        from pmem.core.memory.chroma_compat import import_chromadb

        chromadb = import_chromadb()
        from chromadb.config import Settings as ChromaSettings

        shutil.rmtree(self.paths.chroma_dir, ignore_errors=True)
        self.paths.chroma_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._client = chromadb.PersistentClient(
                path=str(self.paths.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True)
            )
        except Exception as exc:  # noqa: BLE001
            raise StorageError(f"cannot create the vector store at {self.where}: {exc}") from None
        self.rebuilt = True
        self._bump_generation()  # other processes holding the old files open must reopen
        _OPENED_AT[str(self.paths.chroma_dir)] = self._read_generation()

    def _forget_stale_system(self) -> None:
        """Chroma caches one client system per path for the whole process. If another process rewrote the
        store since this process opened it (a rebuild after damage replaces its files), the cached system
        holds handles to deleted files (SQLite then says "attempt to write a readonly database"): drop it."""
        from chromadb.api.client import SharedSystemClient

        opened = _OPENED_AT.get(str(self.paths.chroma_dir))
        if opened is not None and opened != self._read_generation():
            SharedSystemClient.clear_system_cache()

    @property
    def where(self) -> str:
        if self.settings.memory.chroma_mode == "http":
            return f"Chroma server {self.settings.memory.chroma_host}:{self.settings.memory.chroma_port}"
        return str(self.paths.chroma_dir)

    # Chroma's embedded client keeps the index in memory and does not notice another process's writes
    # (a query can then fail with "Error finding id"). Every write bumps a generation file under the
    # write lock; a reader that sees a newer generation reopens its client first.

    @property
    def _generation_file(self) -> Path:
        return Path(self.paths.data_dir) / "chroma.generation"

    def _read_generation(self) -> str:
        try:
            return self._generation_file.read_text()
        except OSError:
            return ""

    def generation(self) -> str:
        """A token that changes with every write to the store (empty for a Chroma server)."""
        return "" if self.settings.memory.chroma_mode == "http" else self._read_generation()

    def _bump_generation(self) -> None:
        import secrets

        tmp = self._generation_file.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(8))
        os.replace(tmp, self._generation_file)
        self._seen_generation = self._read_generation()
        if str(self.paths.chroma_dir) in _OPENED_AT:
            _OPENED_AT[str(self.paths.chroma_dir)] = self._seen_generation  # our own write: the cache is current

    def _refresh_if_changed(self) -> None:
        if self.settings.memory.chroma_mode == "http":
            return
        current = self._read_generation()
        if self._seen_generation is None:
            self._seen_generation = current
        elif current != self._seen_generation:
            self.reopen()
            self._seen_generation = current

    def reopen(self) -> None:
        """Drop the in-memory client so the next use reads the store from disk again."""
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        self._client = None
        self._collection = None

    @property
    def collection(self) -> Any:
        self._refresh_if_changed()
        if self._collection is None:
            with self._opening:  # two threads opening at once race inside Chroma ("Failed to get segments")
                return self._open_collection()
        return self._collection

    def _open_collection(self) -> Any:
        if self._collection is None:
            for attempt in (1, 2):
                try:
                    client = self.client
                    with held_stderr():
                        self._collection = client.get_or_create_collection(
                            COLLECTION,
                            metadata={"hnsw:space": "cosine", "embedder": self.embedder_name},
                            embedding_function=None,
                        )
                    break
                except _STOPS:
                    raise
                except BaseException as exc:  # noqa: BLE001 - a Rust panic included
                    if attempt == 2 or self.settings.memory.chroma_mode == "http":
                        raise StorageError(f"cannot open the vector store ({self.where}): {exc}") from None
                    self._client = None
                    self._start_afresh()
            self._drop_legacy()
            built_with = (self._collection.metadata or {}).get("embedder")
            if built_with and built_with != self.embedder_name:
                raise EmbedderMismatch(
                    f"the memory index was built with the embedder '{built_with}' but '{self.embedder_name}' is configured; "
                    "run 'pmem memory reindex' to rebuild it"
                )
        return self._collection

    def _drop_legacy(self) -> None:
        """Remove the per-episode collection of earlier versions (its vectors are re-made per turn)."""
        if self._legacy_checked:
            return
        self._legacy_checked = True
        try:
            names = {getattr(c, "name", c) for c in self.client.list_collections()}
        except Exception:  # noqa: BLE001 - listing is best effort; nothing depends on it
            return
        stale = [name for name in LEGACY_COLLECTIONS if name in names]
        if not stale:
            return
        with self.write_lock():
            for name in stale:
                self.client.delete_collection(name)
            if self.settings.memory.chroma_mode != "http":
                self._remove_orphan_segments()
                self._vacuum()

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time across processes: Chroma's embedded store is not built for concurrent writers."""
        if self.settings.memory.chroma_mode == "http" or getattr(self._held, "depth", 0):
            yield  # a server serialises its writers; a nested use already holds the lock
            return
        lock_path = Path(self.paths.data_dir) / "chroma.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._refresh_if_changed()  # write on top of what other processes wrote
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0
                self._bump_generation()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # ------------------------------------------------------------------ data

    def _use(self, call: Callable[[], _T], empty: _T) -> _T:
        """Run a Chroma call on the embedded store. A failure is first taken for a stale in-memory index (another
        process wrote: reload once); a second one for damage (any error, a Rust panic included, its text kept off
        the terminal): the store is started afresh, ``rebuilt`` tells the memory layer to re-embed the journal,
        and the call answers as the empty store does. A server's errors are the server's: raised as they are."""
        if self.settings.memory.chroma_mode == "http":
            return call()
        for attempt in (1, 2):
            try:
                with held_stderr():
                    return call()
            except (*_STOPS, StorageError):
                raise
            except BaseException as exc:  # noqa: BLE001 - Chroma's errors and panics: damage is handled, not shown
                if attempt == 1:
                    self.reopen()
                    continue
                self.damage = " ".join(str(exc).split())[:160] or type(exc).__name__
                self._client = self._collection = None
                self._start_afresh()
        return empty

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        if not ids:
            return
        with self.write_lock():
            failpoints.reach("vectors.write")
            self._use(lambda: self.collection.upsert(ids=list(ids), embeddings=vectors.astype(np.float32), metadatas=list(metadatas)), None)

    def query(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Nearest turns as (turn uid, cosine similarity), best first."""
        # Chroma caps n_results at the collection's size itself (no count() round trip: it costs ~3 ms).
        empty: dict[str, Any] = {"ids": [[]], "distances": [[]]}
        result = self._use(lambda: self.collection.query(
            query_embeddings=[vector.astype(np.float32)], n_results=n, where=where, include=["distances"]
        ), empty)
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these turns (those that have one)."""
        if not ids:
            return {}
        got = self._use(lambda: self.collection.get(ids=list(ids), include=["embeddings"]), {"ids": [], "embeddings": []})
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            with self.write_lock():
                self._use(lambda: self.collection.delete(ids=list(ids)), None)

    def delete_episodes(self, episode_ids: Sequence[str]) -> int:
        """Delete every turn vector of these episodes; returns how many vectors went."""
        ids = list(episode_ids)
        if not ids:
            return 0
        deleted = 0
        with self.write_lock():
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                found = self._use(lambda: self.collection.get(where={"episode": {"$in": part}}, include=[])["ids"], [])
                if found:
                    self._use(lambda: self.collection.delete(ids=found), None)
                    deleted += len(found)
        return deleted

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these vector ids the store holds."""
        out: set[str] = set()
        ids = list(ids)
        for start in range(0, len(ids), 500):
            out.update(self._use(lambda: self.collection.get(ids=ids[start : start + 500], include=[])["ids"], []))
        return out

    def episode_ids(self) -> set[str]:
        """The episodes that have at least one vector."""
        out: set[str] = set()
        offset = 0
        while True:
            page = self._use(lambda: self.collection.get(include=["metadatas"], limit=5000, offset=offset), {"ids": [], "metadatas": []})
            out.update(str(m.get("episode", "")) for m in page["metadatas"] or [] if m)
            if len(page["ids"]) < 5000:
                out.discard("")
                return out
            offset += len(page["ids"])

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            batch = self._use(lambda: self.collection.get(include=[], limit=5000, offset=offset)["ids"], [])
            out.update(batch)
            if len(batch) < 5000:
                return out
            offset += len(batch)

    def count(self) -> int:
        return int(self._use(lambda: self.collection.count(), 0))

    def compact(self) -> None:
        """Rewrite the collection without the deleted vectors, drop orphaned segment files, VACUUM.

        Chroma (1.5) leaves deleted vectors in its SQLite free pages and write-ahead queue, in the HNSW
        ``data_level0.bin``, and leaves a dropped collection's segment directory on disk. Forgetting
        must not leave them there, so the collection is rebuilt from what remains.
        """
        if self.settings.memory.chroma_mode == "http":
            return  # a server owns its files; deletes are all the API offers
        with self.write_lock():
            ids, vectors, metadatas = [], [], []
            offset = 0
            while True:
                page = self.collection.get(include=["embeddings", "metadatas"], limit=5000, offset=offset)
                ids += page["ids"]
                vectors += list(page["embeddings"]) if page["embeddings"] is not None else []
                metadatas += page["metadatas"] or []
                if len(page["ids"]) < 5000:
                    break
                offset += 5000
            failpoints.reach("vectors.compact")
            self.client.delete_collection(COLLECTION)
            self._collection = None
            collection = self.collection
            for start in range(0, len(ids), 5000):
                collection.add(
                    ids=ids[start : start + 5000],
                    embeddings=np.asarray(vectors[start : start + 5000], dtype=np.float32),
                    metadatas=metadatas[start : start + 5000],
                )
            self._remove_orphan_segments()
            self._vacuum()

    def _sqlite(self) -> Path:
        return Path(self.paths.chroma_dir) / "chroma.sqlite3"

    def _remove_orphan_segments(self) -> None:
        import shutil
        import sqlite3

        conn = sqlite3.connect(self._sqlite())
        try:
            live = {r[0] for r in conn.execute("SELECT id FROM segments")}
        finally:
            conn.close()
        for entry in Path(self.paths.chroma_dir).iterdir():
            if entry.is_dir() and len(entry.name) == 36 and entry.name.count("-") == 4 and entry.name not in live:
                shutil.rmtree(entry, ignore_errors=True)

    def _vacuum(self) -> None:
        import sqlite3

        conn = sqlite3.connect(self._sqlite(), timeout=30)
        try:
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("VACUUM")
        finally:
            conn.close()

    def reset(self) -> None:
        """Drop the collection and start an empty one (its files are removed too)."""
        with self.write_lock():
            try:
                self.client.delete_collection(COLLECTION)
            except Exception:  # noqa: BLE001 - absent is fine
                pass
            self._collection = None
            self._collection = self.client.get_or_create_collection(
                COLLECTION, metadata={"hnsw:space": "cosine", "embedder": self.embedder_name}, embedding_function=None
            )
            self._remove_orphan_segments()
            self._vacuum()
