"""The checks behind ``pmem doctor``: can pmem run here (model, embedder, data dir, config, versions)?

Each check is one row: a name, whether it passed, and a detail line. Nothing here loads a model; the GGUF's
header is read, not its weights.
"""

from __future__ import annotations

import os
import platform
import stat
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from pmem import __version__
from pmem.core.config import Paths, Settings, load_settings, resolve_paths
from pmem.core.discovery import best_chat_model, discover, resolve_model
from pmem.core.errors import PmemError
from pmem.core.models import embedded_chat_model, read_gguf_info
from pmem.core.templates import ARCHITECTURE_TEMPLATES

PACKAGES = ("llama-cpp-python", "chromadb", "onnxruntime", "textual", "typer")
OPTIONAL_PACKAGES = ("torch", "sentence-transformers", "peft")
"""Only for distillation, or an embedder pmem does not ship: listed when installed, never a failure."""

Check = tuple[str, "bool | None", str]
"""A row: the check, True (ok), False (a failure: doctor exits 1) or None (a warning), and a detail line."""


def checks() -> list[Check]:
    rows: list[tuple[str, bool, str]] = []
    rows.append(("pmem", True, f"{__version__} on Python {platform.python_version()} ({sys.platform})"))
    paths = resolve_paths()
    settings = None
    try:
        settings = load_settings(paths)
        where = paths.config_file if paths.config_file.exists() else f"{paths.config_file} (absent: defaults)"
        rows.append(("config", True, str(where)))
    except PmemError as exc:
        rows.append(("config", False, str(exc)))
    try:
        paths.ensure_data_dir()
        mode = stat.S_IMODE(paths.data_dir.stat().st_mode)
        rows.append(("data dir", mode & 0o077 == 0, f"{paths.data_dir} (mode {mode:o}, writable)"))
    except PmemError as exc:
        rows.append(("data dir", False, str(exc)))
    rows.extend(_integrity_rows(paths, settings))
    if settings is not None:
        try:
            model = resolve_model(settings.model.path, settings.model.search_paths)
            info = read_gguf_info(model)
            if settings.model.chat_format:
                template = f"template {settings.model.chat_format} (configured)"
            elif info.chat_template:
                template = "template from the GGUF"
            elif info.architecture in ARCHITECTURE_TEMPLATES:
                template = f"template {ARCHITECTURE_TEMPLATES[info.architecture]} (by architecture)"
            else:
                raise PmemError("no chat template: set model.chat_format")
            size = model.stat().st_size / 1e6
            rows.append(("chat model", True, f"{model} ({size:.0f} MB, {info.architecture}, {template})"))
            rows.append(_grounding_row(settings, model))
            if model == embedded_chat_model():
                rows.append(("bigger model", None, _fallback_warning(settings)))
        except PmemError as exc:
            rows.append(("chat model", False, str(exc)))
        try:
            from pmem.core.memory.embedder import embedder_from_settings

            wanted = embedder_from_settings(settings, paths)  # as the memory layer decides it; loads nothing
            runs = f"{settings.embedder.backend}, {wanted.precision}" if settings.embedder.backend == "onnx" else settings.embedder.backend
            tuned = f", {wanted.tuning.tag}" if wanted.tuning else ""
            rows.append(_embedder_row(wanted, f"{settings.embedder.name} ({runs}{tuned})"))
            if (index := _index_row(settings, paths, wanted.identity)) is not None:
                rows.append(index)
        except PmemError as exc:
            rows.append(("embedder", False, str(exc)))
        rows.append(_query_adapter_row(settings))
        rows.append(("parametric memory", True, _distill_line(settings)))
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} missing")
    ok = all("missing" not in v for v in versions)
    for name in OPTIONAL_PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    rows.append(("packages", ok, ", ".join(versions)))
    rows.append(_network_row())
    rows.append(_freed_memory_row())

    return rows


def _integrity_rows(paths: Paths, settings: Settings | None) -> list[Check]:
    """The journal's and its full-text index's integrity, the adapters' files, and the backups: each failure with
    its fix. Changes nothing (the full-text check is a read, though SQLite spells it as an INSERT)."""
    import sqlite3
    from datetime import datetime, timezone

    from pmem.core.store import backup

    rows: list[Check] = []
    db = paths.database
    if db.exists():
        try:
            conn = sqlite3.connect(str(db), timeout=10)
            try:
                verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
                turns = int(conn.execute("SELECT count(*) FROM turns").fetchone()[0]) if verdict == "ok" else 0
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            verdict, turns = str(exc), 0
        if verdict != "ok":
            good = backup.newest_good(paths.backups_dir)
            fix = f"pmem restore {good.name}" if good else "no backup exists: move it aside to start afresh"
            rows.append(("journal", False, f"damaged ({verdict}); fix: {fix}"))
        else:
            rows.append(("journal", True, f"{db.name}: {turns} turns, integrity ok"))
            rows.append(_fts_row(db))
            if settings is not None and (vectors := _vector_row(db, paths, settings)) is not None:
                rows.append(vectors)
            rows.extend(_adapter_rows(db, paths))
    rows.extend(_kv_rows(paths))
    newest = backup.list_backups(paths.backups_dir)
    if settings is not None and not settings.backup.enabled:
        rows.append(("backups", None, "off (backup.enabled = false): `pmem backup --to FOLDER` makes one by hand"))
    elif not newest:
        rows.append(("backups", None if db.exists() else True, "none yet (one is made daily when pmem is used; `pmem backup` makes one now)"))
    else:
        age = datetime.now(timezone.utc) - newest[0].taken_at
        verdict = backup.check(newest[0].path)
        hours = age.total_seconds() / 3600
        when = f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
        if verdict != "ok":
            rows.append(("backups", False, f"the newest ({newest[0].name}) is {verdict}; fix: pmem backup"))
        else:
            rows.append(("backups", hours < 24 * 8 or None, f"{len(newest)} kept in {paths.backups_dir}, the newest {when} old"))
    return rows


def _vector_row(db: Path, paths: Paths, settings: Settings) -> Check | None:
    """The embedded vector store opens, and holds what the journal last agreed with it (changes nothing: a damaged
    store is reported here, and rebuilt by the next search)."""
    import sqlite3

    if settings.memory.chroma_mode == "http" or not paths.chroma_dir.exists():
        return None
    from pmem.core.memory.chroma_compat import import_chromadb
    from pmem.core.memory.vectors import COLLECTION, held_stderr

    from pmem.core.store import meta

    fix = "fix: pmem memory reindex (any search also rebuilds it from the journal)"
    try:
        chromadb = import_chromadb()
        from chromadb.config import Settings as ChromaSettings

        with held_stderr():
            client = chromadb.PersistentClient(path=str(paths.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False))
            names = {getattr(c, "name", c) for c in client.list_collections()}
            count = int(client.get_collection(COLLECTION).count()) if COLLECTION in names else 0
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - Chroma's errors and Rust panics alike mean a damaged store
        return ("vector store", False, f"damaged ({' '.join(str(exc).split())[:120] or type(exc).__name__}); {fix}")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        value = meta.get(conn, "vectors_agreed")
    except sqlite3.DatabaseError:
        value = None
    finally:
        conn.close()
    agreed = int(value.split(":")[1]) if value and value.count(":") == 2 and value.split(":")[1].isdigit() else None
    if agreed is not None and agreed != count:
        return ("vector store", None, f"{count} vectors where the journal agreed on {agreed}; the next search reconciles them")
    return ("vector store", True, f"{count} vectors, opens")


def _kv_rows(paths: Paths) -> list[Check]:
    """Saved KV states whose values no longer match the digest written with them (pmem recomputes such a state when
    it next meets it; reported so that a damaged disk is noticed)."""
    from pmem.core.engine.llama import saved_state_intact

    saved = sorted(paths.kv_dir.glob("*.kv")) if paths.kv_dir.is_dir() else []
    damaged = [p.name for p in saved if not saved_state_intact(p)]
    if damaged:
        return [("saved KV state", False, f"{len(damaged)} damaged ({damaged[0]}); fix: none needed, pmem computes it again "
                 f"at the next chat (or delete {paths.kv_dir})")]
    return [("saved KV state", True, f"{len(saved)} saved, whole")] if saved else []


def _fts_row(db: Path) -> Check:
    import sqlite3

    from pmem.core.store import fts

    try:
        conn = sqlite3.connect(str(db), timeout=10, isolation_level=None)
        try:
            fts.integrity_check(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return ("full-text index", False, f"damaged ({exc}); fix: pmem memory reindex (rebuilds it from the journal)")
    return ("full-text index", True, "integrity ok")


def _adapter_rows(db: Path, paths: Paths) -> list[Check]:
    """Each live adapter's file is there, has the size it was written with, and hashes to the SHA-256 written beside it."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        live = conn.execute("SELECT id, file, bytes FROM adapters WHERE status = 'active'").fetchall()
    except sqlite3.DatabaseError:
        return []
    finally:
        conn.close()
    from pmem.core.distill.store import digest_matches

    bad = []
    for adapter_id, name, size in live:
        path = paths.adapters_dir / name
        if not path.is_file() or (size and path.stat().st_size != size):
            bad.append(adapter_id)
        elif digest_matches(path) is False:
            bad.append(adapter_id)
    if bad:
        return [("adapters", False, f"{', '.join(bad)} missing or damaged; fix: pmem distill --clear, then pmem distill")]
    return [("adapters", True, f"{len(live)} live, files whole")] if live else []


def _grounding_row(settings: Settings, model: Path) -> Check:
    """Whether the chat model gets pmem's grounding adapter (it was made for the embedded 135M model alone)."""
    from pmem.core.engine.grounding import grounding_for, shipped

    adapter = shipped()
    if adapter is None:
        return ("grounding", None, "the grounding adapter's files are missing from this install: reinstall pmem")
    if grounding_for(model) is None:
        return ("grounding", True, "not used: the grounding adapter is made for the embedded SmolLM2-135M only")
    if not settings.model.grounding_adapter:
        return ("grounding", None, "off (model.grounding_adapter = false): the 135M model invents answers without it")
    return ("grounding", True, f"on: {adapter.path.name} ({adapter.path.stat().st_size / 1e6:.1f} MB), answers from memory")


def _network_row() -> Check:
    """Which telemetry switches are set: a library missing from the list could phone home."""
    from pmem.core.offline import TELEMETRY_SWITCHES, telemetry_off

    off = telemetry_off()
    missing = [what for what, _ in TELEMETRY_SWITCHES if what not in off]
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    if missing or not offline:
        return ("network", False, f"telemetry not disabled for {', '.join(missing) or 'the HF hub (HF_HUB_OFFLINE)'}")
    return ("network", True, f"offline: telemetry off for {', '.join(off)}; nothing is sent except by 'pmem models pull', which you start")


def _freed_memory_row() -> Check:
    """A warning, never a failure: whether forgotten words could survive in index padding (pmem/core/heap.py)."""
    from pmem.core.heap import glibc, small_blocks_scrubbed

    if not glibc():
        return ("freed memory", None, "not glibc: Chroma's index files may hold bytes pmem freed (chroma-core/chroma#7688)")
    if small_blocks_scrubbed():
        return ("freed memory", True, "overwritten before reuse, small blocks too (glibc M_PERTURB, per-thread cache off)")
    return ("freed memory", None, "blocks of 1 KB or less are not overwritten before reuse: start pmem with its own command")


def _embedder_row(wanted: Any, label: str) -> Check:
    """Which file embeds, and for the shipped one whether it is still the file that was built (a damaged or swapped
    graph would embed differently from the index)."""
    if not wanted.ready:
        return ("embedder", True, f"{label}: {wanted.path} (made from it at first use)")
    from pmem.core.memory.shipped import shipped

    ready = shipped()
    if ready is None or not ready.intact():
        return ("embedder", False, f"{label}: {wanted.path / 'model.onnx'} does not match its shipped sha-256; reinstall pmem")
    return ("embedder", True, f"{label}, shipped: {ready.model} (sha-256 {ready.sha256[:12]}… matches)")


def _index_row(settings: Settings, paths: Paths, wanted: str) -> Check | None:
    """A warning when the memory index is searched otherwise than the configured embedder would build it (an
    upgrade: it keeps how it was built until a reindex, as the memory layer decides it); None before there is an
    index. Read-only: the doctor changes nothing."""
    import sqlite3

    from pmem.core.memory.embedder import embedder_from_settings
    from pmem.core.memory.service import MemoryService

    if not paths.database.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{paths.database}?mode=ro", uri=True)
        try:
            built = MemoryService.built_with(conn, settings.embedder.name)
        finally:
            conn.close()
    except sqlite3.Error:
        return None  # a data dir of a version without the tables: the next start migrates it
    if built is None:
        return None
    try:
        searched = embedder_from_settings(settings, paths, precision=built.precision, tuned=built.tuned).identity
    except PmemError as exc:
        return ("memory index", False, f"built with another embedder than the configured one, which cannot be made here: {exc}")
    if searched == wanted:
        return None
    return ("memory index", None, f"built with {searched}, so searched with it; 'pmem memory reindex' rebuilds it with {wanted}")


def _query_adapter_row(settings: Settings) -> Check:
    from pmem.core.memory.query_adapter import PACKAGED, query_adapter_for

    if not settings.memory.query_adapter:
        return ("query adapter", True, "off (memory.query_adapter = false)")
    try:
        adapter = query_adapter_for(settings)
    except PmemError as exc:
        return ("query adapter", False, f"{exc}; reinstall pmem, or set memory.query_adapter = false")
    if adapter is None:
        return ("query adapter", True, "none for a configured embedder (the packaged one fits all-MiniLM-L6-v2 only)")
    if settings.embedder.tuned:
        return ("query adapter", True, "not needed by the tuned embedder (used only for an index built before the tuning)")
    return ("query adapter", True, f"{PACKAGED.name}, {adapter.about.get('trained_on', 'provenance unknown')}")


def _fallback_warning(settings: Settings) -> str:
    """One line: the 135M model is a fallback, and the best one found here instead (if any)."""
    from pmem.core.catalog import machine, recommend

    best = best_chat_model(discover(settings.model.search_paths))
    if best is None:
        pick = recommend(*machine())
        if pick is None:
            return "chatting with the embedded 135M fallback model; this computer has too little memory for a bigger one"
        return f"chatting with the embedded 135M fallback model; get a capable one ({pick.name} fits here): pmem models pull"
    size = f"{best.parameters / 1e9:.1f}B" if best.parameters else f"{best.size / 1e9:.1f} GB"
    return f"chatting with the embedded 135M fallback model; {best.name} ({size}) is here: pmem models use {best.name}"


def _distill_line(settings: Settings) -> str:
    """Optional, so never a failure: whether training is possible and which adapter is applied."""
    from pmem.core.distill.service import INSTALL_HINT, missing_extra

    parts = ["training available" if not missing_extra() else f"training needs {INSTALL_HINT}"]
    if not settings.distill.use_adapter:
        parts.append("adapters off")
    else:
        try:
            from pmem.core.runtime import (
                Runtime,  # deferred: the runtime sits above this module
            )

            with Runtime.load() as rt:
                if rt.paths.database.exists():
                    live = rt.distill.active()
                    parts.append(f"adapter {live.id} applied" if live else "no adapter yet")
                else:
                    parts.append("no adapter yet")
        except PmemError as exc:
            parts.append(str(exc))
    return "; ".join(parts)
