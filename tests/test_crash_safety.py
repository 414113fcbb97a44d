"""Crash safety: a child process chats, imports or reindexes with the real model and stores, and is killed
with SIGKILL at a random moment (seeded, reproducible). After every kill the data dir must reopen, every
acknowledged user turn must be in the journal, and the derived indexes must agree with the journal once
the next start has reconciled them.

PMEM_CRASH_KILLS sets the number of kills (default 50, the CI figure); PMEM_CRASH_SEED the seed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

KILLS = int(os.environ.get("PMEM_CRASH_KILLS", "50"))
SEED = int(os.environ.get("PMEM_CRASH_SEED", "20261122"))

CHILD = r"""
import json, os, random, sys
mode, ack_path, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
from pmem.core.runtime import Runtime

ack = open(ack_path, "a")

def acknowledge(kind, *values):
    # What the user was shown as done: written and fsynced before anything else happens.
    ack.write(json.dumps([kind, *values]) + "\n")
    ack.flush()
    os.fsync(ack.fileno())

rt = Runtime.load()
rt.settings.chat.max_tokens = 24
rt.settings.profile.use_model = "always" if seed % 3 == 0 else "never"
rng = random.Random(seed)
if mode == "chat":
    from pmem.core.chat import ChatService

    rt.layers.episodic.never_wait_for_embedder = True  # as in the TUI: the embedder loads in the background
    service = ChatService(settings=rt.settings, paths=rt.paths, engine=rt.engine, journal=rt.journal, recall=rt.layers)
    service.new_session()
    for i in range(10_000):
        text = f"crash {seed}-{i}: my friend {rng.choice(['Ana', 'Bo', 'Cy'])} lives in {rng.choice(['Oslo', 'Lima', 'Pune'])}."
        reply = service.send(text)
        next(reply, None)  # the user's turn is committed before the first token is shown
        acknowledge("turn", service.last.user_turn.uid, text)
        for _ in reply:
            pass
        if i % 4 == 3:
            service.new_session()
elif mode == "import":
    from pmem.core.transfer import import_sessions, parse

    for round_ in range(10_000):
        data = {"sessions": [
            {"id": f"imp-{seed}-{round_}-{k}", "started_at": "2024-02-0%dT10:00:00Z" % (1 + k % 9), "turns": [
                {"role": "user", "content": f"imported {seed}-{round_}-{k}-{j} about gardening"} if j % 2 == 0
                else {"role": "assistant", "content": f"reply {j} on soil and seeds"} for j in range(20)]}
            for k in range(25)]}
        kind, sessions = parse(data)
        summary = import_sessions(rt.journal, kind, sessions)
        acknowledge("import", [s.external_id for s in sessions])
        rt.memory.reconcile()
        rt.memory.index_pending()
elif mode == "reindex":
    while True:
        rt.memory.reindex()
        acknowledge("reindex")
"""


def _verify(home: Path, acks: list[list], embedder) -> None:  # type: ignore[no-untyped-def]
    from pmem.core.config import Settings, resolve_paths
    from pmem.core.memory.service import MemoryService
    from pmem.core.profile.store import ProfileStore
    from pmem.core.store.db import connect

    paths = resolve_paths({"PMEM_HOME": str(home)})
    conn = connect(paths.database)  # reopens (and migrates) without error
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO turns_fts(turns_fts, rank) VALUES ('integrity-check', 1)")  # raises if the index disagrees
        for ack in acks:
            if ack[0] == "turn":
                row = conn.execute("SELECT content FROM turns WHERE uid = ?", (ack[1],)).fetchone()
                assert row is not None and row[0] == ack[2], f"acknowledged turn lost: {ack}"
            elif ack[0] == "import":
                for external in ack[1]:
                    n = conn.execute(
                        "SELECT count(*) FROM turns t JOIN sessions s ON s.id = t.session_id WHERE s.external_id = ?", (external,)
                    ).fetchone()[0]
                    assert n == 20, f"imported session {external} has {n} of 20 turns"
        ProfileStore(conn).current()
        memory = MemoryService(Settings(), paths, conn, embedder=embedder)
        memory.reconcile()  # what the next start does
        memory.index_pending()
        assert memory.episodes.stale_sessions() == []
        assert memory.vectors.ids() == memory.episodes.all_ids()
        assert memory.episodes.count(indexed=False) == 0
        memory.close()
    finally:
        conn.close()


def test_sigkill_at_random_points_loses_nothing_acknowledged(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(SEED)
    home = tmp_path / "home"
    ack_path = tmp_path / "acks.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_")}
    env["PMEM_HOME"] = str(home)
    modes = ["chat"] * 6 + ["import"] * 2 + ["reindex"] * 2
    survived = 0
    for kill in range(KILLS):
        mode = modes[kill % len(modes)]
        delay = rng.uniform(0.3, 7.0)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, mode, str(ack_path), str(SEED + kill)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            child.wait()
        else:
            pytest.fail(f"kill {kill} ({mode}): the child exited by itself: {child.stderr.read().decode()[-2000:]}")
        finally:
            child.stderr.close()
        acks = [json.loads(line) for line in ack_path.read_text().splitlines()] if ack_path.exists() else []
        _verify(home, acks, embedder)
        survived += 1
    assert survived == KILLS
    acks = [json.loads(line) for line in ack_path.read_text().splitlines()]
    assert sum(1 for a in acks if a[0] == "turn") >= max(1, KILLS // 5), "kills should land after some turns were acknowledged"
    print(f"\n{survived} kills survived; {len(acks)} acknowledgements checked")
    conn = sqlite3.connect(home / "data" / "pmem.sqlite3")
    print("turns in journal:", conn.execute("SELECT count(*) FROM turns").fetchone()[0])
    conn.close()
