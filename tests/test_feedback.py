"""Feedback on replies in the plain chat (/good, /bad, /edit, /retry), the preference pairs derived from it, and
forgetting: one pair, and every pair of a forgotten conversation (real model, SQLite, Chroma)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_pmem

pytestmark = pytest.mark.slow
EDIT = "Green tea is steamed or pan-fired soon after picking, zesty and grassy."


def _rows(home: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(home / "data" / "pmem.sqlite3")
    try:
        return [tuple(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_feedback_becomes_preference_pairs_and_is_forgotten_with_its_turns(pmem_home: Path) -> None:
    script = f"Tell me about green tea.\n/good\n/retry\n/bad\n/retry\nThanks.\n/edit {EDIT}\n/good\n".encode()
    proc = run_pmem("chat", "--plain", home=pmem_home, input=script, env={"PMEM_CHAT_MAX_TOKENS": "12", "PMEM_CHAT_TEMPERATURE": "0"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("noted:") == 4
    turns = _rows(pmem_home, "SELECT id, uid, role FROM turns ORDER BY id")
    assert [t[2] for t in turns] == ["user", "assistant", "assistant", "assistant", "user", "assistant"]
    u1, r1, r2, r3, _u2, r4 = turns
    feedback = _rows(pmem_home, "SELECT turn_id, kind FROM feedback ORDER BY id")
    assert feedback == [(r1[0], "up"), (r1[0], "retry"), (r2[0], "down"), (r2[0], "retry"), (r4[0], "edit"), (r4[0], "up")]

    pairs = json.loads(run_pmem("feedback", "list", "--json", home=pmem_home).stdout)
    by_kind = {p["kind"]: p for p in pairs}
    assert sorted(by_kind) == ["edit", "retry"] and len(pairs) == 2
    # The kept regeneration is preferred (the user went on from it) to the one thumbed down; not to the one
    # thumbed up, whatever it was replaced for.
    assert by_kind["retry"]["turns"] == {"prompt": u1[1], "chosen": r3[1], "rejected": r2[1]}
    assert by_kind["edit"]["chosen"] == EDIT and by_kind["edit"]["turns"]["rejected"] == r4[1]

    # Regenerated replies leave the conversation and its memory, not the journal.
    memories = json.loads(run_pmem("memory", "list", "--json", home=pmem_home).stdout)
    first = next(m for m in memories if u1[1] in m["turns"])
    assert first["turns"] == [u1[1], r3[1]]

    # An export carries the feedback; importing it elsewhere derives the same pairs.
    exported = pmem_home.parent / "export.json"
    assert run_pmem("export", str(exported), home=pmem_home).returncode == 0
    assert len(json.loads(exported.read_text())["feedback"]) == 6
    other = pmem_home.parent / "other-home"
    imported = run_pmem("import", str(exported), home=other)
    assert imported.returncode == 0, imported.stderr
    moved = json.loads(run_pmem("feedback", "list", "--json", home=other).stdout)
    assert sorted((p["kind"], p["chosen"], p["rejected"]) for p in moved) == sorted((p["kind"], p["chosen"], p["rejected"]) for p in pairs)

    forgot = run_pmem("feedback", "forget", by_kind["retry"]["id"], home=pmem_home)
    assert forgot.returncode == 0, forgot.stderr
    again = run_pmem("chat", "--plain", home=pmem_home, input=b"One more thing.\n", env={"PMEM_CHAT_MAX_TOKENS": "4"})
    assert again.returncode == 0
    assert [p["kind"] for p in json.loads(run_pmem("feedback", "list", "--json", home=pmem_home).stdout)] == ["edit"]

    session = _rows(pmem_home, f"SELECT session_id FROM turns WHERE id = {u1[0]}")[0][0]
    assert run_pmem("memory", "forget", "--session", session, "--yes", home=pmem_home).returncode == 0
    assert json.loads(run_pmem("feedback", "list", "--json", home=pmem_home).stdout) == []
    assert _rows(pmem_home, "SELECT COUNT(*) FROM feedback") == [(0,)]
    leaked = [str(p) for p in (pmem_home / "data").rglob("*") if p.is_file() and b"pan-fired soon after" in p.read_bytes()]
    assert leaked == []


def test_feedback_without_a_reply_is_a_one_line_answer(pmem_home: Path) -> None:
    proc = run_pmem("chat", "--plain", home=pmem_home, input=b"/good\n/retry\n/edit\n", env={"PMEM_CHAT_MAX_TOKENS": "4"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("error: there is no reply") == 3  # /edit without a reply says so before asking for text
