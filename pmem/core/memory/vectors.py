"""The vector store: Chroma, on this disk (``PersistentClient``) or on a server (``HttpClient``), same code path.

Only ids, vectors and small metadata go to Chroma; the text stays in the journal. That keeps one
copy of what the user said, which is what makes forgetting complete and the index rebuildable.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pmem.core.config import Paths, Settings
from pmem.core.errors import StorageError

COLLECTION = "pmem_episodes"


class EmbedderMismatch(StorageError):
    """The index was built by another embedder: its vectors cannot be compared with new ones."""


class VectorStore:
    def __init__(self, settings: Settings, paths: Paths, embedder_name: str) -> None:
        self.settings = settings
        self.paths = paths
        self.embedder_name = embedder_name
        self._client: Any = None
        self._collection: Any = None
        self.rebuilt = False
        """Set when the on-disk store was missing or unreadable and was started afresh (re-index needed)."""
        self._seen_generation: str | None = None

    # ------------------------------------------------------------------ connection

    @property
    def client(self) -> Any:
        if self._client is None:
            import chromadb
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
                    self._client = chromadb.PersistentClient(path=str(self.paths.chroma_dir), settings=chroma_settings)
            except Exception as exc:  # noqa: BLE001 - chromadb raises many types; the user needs one line
                if self.settings.memory.chroma_mode == "http":
                    raise StorageError(f"cannot open the vector store ({self.where}): {exc}") from None
                self._start_afresh()
        return self._client

    def _start_afresh(self) -> None:
        """The embedded store is unreadable: it is derived data, so remove it and start an empty one."""
        import shutil

        import chromadb
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

    def _bump_generation(self) -> None:
        import secrets

        tmp = self._generation_file.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(8))
        os.replace(tmp, self._generation_file)
        self._seen_generation = self._read_generation()

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
            for attempt in (1, 2):
                try:
                    self._collection = self.client.get_or_create_collection(
                        COLLECTION,
                        metadata={"hnsw:space": "cosine", "embedder": self.embedder_name},
                        embedding_function=None,
                    )
                    break
                except Exception as exc:  # noqa: BLE001
                    if attempt == 2 or self.settings.memory.chroma_mode == "http":
                        raise StorageError(f"cannot open the vector store ({self.where}): {exc}") from None
                    self._client = None
                    self._start_afresh()
            built_with = (self._collection.metadata or {}).get("embedder")
            if built_with and built_with != self.embedder_name:
                raise EmbedderMismatch(
                    f"the memory index was built with the embedder '{built_with}' but '{self.embedder_name}' is configured; "
                    "run 'pmem memory reindex' to rebuild it"
                )
        return self._collection

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time across processes: Chroma's embedded store is not built for concurrent writers."""
        if self.settings.memory.chroma_mode == "http":
            yield
            return
        lock_path = Path(self.paths.data_dir) / "chroma.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._refresh_if_changed()  # write on top of what other processes wrote
            try:
                yield
            finally:
                self._bump_generation()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # ------------------------------------------------------------------ data

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        if not ids:
            return
        with self.write_lock():
            self.collection.upsert(ids=list(ids), embeddings=vectors.astype(np.float32), metadatas=list(metadatas))

    def query(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Nearest episodes as (id, cosine similarity), best first."""
        # Chroma caps n_results at the collection's size itself (no count() round trip: it costs ~3 ms).
        try:
            result = self.collection.query(
                query_embeddings=[vector.astype(np.float32)], n_results=n, where=where, include=["distances"]
            )
        except Exception:  # noqa: BLE001 - a stale in-memory index (another process wrote): reload once
            self.reopen()
            result = self.collection.query(
                query_embeddings=[vector.astype(np.float32)], n_results=n, where=where, include=["distances"]
            )
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            with self.write_lock():
                self.collection.delete(ids=list(ids))

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            batch = self.collection.get(include=[], limit=5000, offset=offset)["ids"]
            out.update(batch)
            if len(batch) < 5000:
                return out
            offset += len(batch)

    def count(self) -> int:
        return int(self.collection.count())

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
