"""The embedder pmem ships built (pmem/core/memory/minilm/): the default path runs it without PyTorch and exports
nothing, its recipe rebuilds it, and the doctor notices a damaged one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_pmem

from pmem.core.config import Settings
from pmem.core.memory.embedder import embedder_from_settings
from pmem.core.memory.shipped import SHIPPED_DIR, Shipped, build, shipped

BLOCKED = ("torch", "transformers", "sentence_transformers", "safetensors", "onnx")

MESSAGES = [
    "Hi! I'm Marta, I work as a marine biologist in Bergen and I have a border collie called Pepper.",
    "What is my dog's name?",
    "We moved from Leeds to Sheffield last November, the new flat is near the station.",
    "My sister Clara is a firefighter, she's the brave one in the family.",
    "Can you help me write a short resignation letter?",
    "I've been vegan for three years now, any tips for a lasagna?",
]


def _locomo_turns(n: int) -> list[str]:
    data = ROOT.parent / "shared" / "data" / "locomo" / "locomo10.json"
    conv = json.loads(data.read_text())[5]["conversation"]
    return [t["text"] for t in conv["session_1"]][:n]


def test_the_default_settings_run_the_shipped_file(tmp_path: Path) -> None:
    settings = Settings()
    settings.embedder.export_dir = str(tmp_path / "exports")
    embedder = embedder_from_settings(settings, None)
    ready = shipped()
    assert ready is not None and ready.intact()
    assert embedder.ready and embedder.path == SHIPPED_DIR and embedder.identity == f"all-MiniLM-L6-v2+{ready.about['tuning']}+int8"
    vectors = embedder.embed(MESSAGES)
    assert embedder.runs_on == "onnx" and vectors.shape == (len(MESSAGES), 384)
    assert abs(np.linalg.norm(vectors, axis=1) - 1).max() < 1e-4
    assert not (tmp_path / "exports").exists(), "nothing is merged or exported for the shipped embedder"
    settings.embedder.precision = "float32"
    assert not embedder_from_settings(settings, None, Path("/nonexistent")).ready, "other settings make their own"


@pytest.mark.slow
def test_chat_import_and_search_run_with_pytorch_unimportable(pmem_home: Path, tmp_path: Path) -> None:
    """What a base install (no torch, transformers or sentence-transformers) runs: each of them is made to fail on
    import, and pmem imports, searches, answers and chats as before, exporting nothing."""
    blocker = tmp_path / "blocked"
    for name in BLOCKED:
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text(f"raise ImportError('{name} is not installed (blocked by the test)')\n")
    env = {"PYTHONPATH": str(blocker)}
    sessions = tmp_path / "sessions.json"
    sessions.write_text(json.dumps({"sessions": [{"started_at": "2025-03-01T10:00:00Z", "turns": [
        {"role": "user", "content": MESSAGES[0]}, {"role": "assistant", "content": "Nice to meet you, Marta."}]}]}))
    imported = run_pmem("import", str(sessions), home=pmem_home, env=env)
    assert imported.returncode == 0, imported.stderr
    found = run_pmem("memory", "search", "Which dog do I have?", "--json", home=pmem_home, env=env)
    assert found.returncode == 0, found.stderr
    assert "border collie called Pepper" in json.loads(found.stdout)[0]["text"]
    answer = run_pmem("ask", "--temperature", "0", "What is my dog's name?", home=pmem_home, env=env)
    assert answer.returncode == 0 and "Pepper" in answer.stdout, answer.stdout + answer.stderr
    chat = run_pmem("chat", "--plain", home=pmem_home, env=env, input=b"Where do I work?\n/quit\n")
    assert chat.returncode == 0 and "Traceback" not in chat.stderr, chat.stderr
    assert not list(pmem_home.rglob("model.onnx")), "the shipped embedder is run from the package, never exported"
    doctor = run_pmem("doctor", home=pmem_home, env=env)
    assert "shipped:" in doctor.stdout and "matches" in doctor.stdout


@pytest.mark.slow
def test_the_recipe_rebuilds_the_shipped_embedder(tmp_path: Path) -> None:
    """``build()`` from the packaged MiniLM and the tuning gives the shipped vectors: the file cannot drift from
    its recipe unnoticed (needs the [distill] extra: PyTorch exports the graph)."""
    from pmem.core.memory.onnx_encoder import OnnxEncoder

    rebuilt = build(tmp_path / "rebuilt", tmp_path / "work")
    texts = MESSAGES + _locomo_turns(40)
    ours, theirs = OnnxEncoder(SHIPPED_DIR).encode(texts), OnnxEncoder(rebuilt).encode(texts)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() >= 0.999, cosine.min()
    about = json.loads((rebuilt / "manifest.json").read_text())
    assert about["tuning"] == json.loads((SHIPPED_DIR / "manifest.json").read_text())["tuning"]
    assert json.loads((rebuilt / "settings.json").read_text()) == json.loads((SHIPPED_DIR / "settings.json").read_text())


def test_the_doctor_fails_a_damaged_shipped_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pmem.core.memory.shipped as shipped_module
    from pmem.core.doctor import _embedder_row

    copy = tmp_path / "minilm"
    shutil.copytree(SHIPPED_DIR, copy)
    ready = shipped()
    assert ready is not None
    monkeypatch.setattr(shipped_module, "shipped", lambda: Shipped(copy, ready.sha256, ready.about))
    embedder = embedder_from_settings(Settings(), None)
    assert _embedder_row(embedder, "x")[1] is True
    data = bytearray((copy / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.onnx").write_bytes(bytes(data))
    check, ok, detail = _embedder_row(embedder, "x")
    assert ok is False and "does not match its shipped sha-256; reinstall pmem" in detail
