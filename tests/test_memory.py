"""The memory core with real SQLite, real Chroma on disk and the real embedder."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pmem.core.errors import InputError
from pmem.core.transfer import export_all, import_sessions, parse, read_import
from tests.conftest import ROOT, Home, assert_one_line_error, run_pmem

pytestmark = pytest.mark.slow

FILLER = [
    ("What's a good way to learn Rust?", "Start with the official book and small projects."),
    ("Can you suggest a pasta recipe?", "Try spaghetti aglio e olio: garlic, olive oil, chili."),
    ("How do I fix a flat bicycle tyre?", "Remove the tube, find the puncture, patch it and reinflate."),
    ("Recommend a science fiction novel.", "The Left Hand of Darkness by Ursula K. Le Guin."),
    ("What's the weather like on Mars?", "Cold and dusty, averaging about minus 60 degrees Celsius."),
    ("How many hours should I sleep?", "Most adults need seven to nine hours."),
]


def _populate(home: Home) -> list[str]:
    sessions = []
    s1 = home.journal.new_session("first")
    home.say(s1.id, "My sister Priya lives in Vancouver and works as a marine biologist.", "That sounds like a fascinating job!")
    sessions.append(s1.id)
    for i in range(3):
        s = home.journal.new_session(f"filler {i}")
        for user, reply in FILLER[i * 2 : i * 2 + 2]:
            home.say(s.id, user, reply)
        sessions.append(s.id)
    home.memory.flush(timeout=120)
    return sessions


def test_a_fact_from_session_one_comes_back_for_a_paraphrase_in_session_five(home: Home, engine) -> None:  # type: ignore[no-untyped-def]
    from pmem.core.chat import ChatService

    _populate(home)
    assert home.memory.stats()["pending"] == 0
    hits = home.memory.search("Which city does my sibling live in?", k=3)
    assert "Vancouver" in hits[0].episode.text()
    assert hits[0].dense_rank == 1
    # In a fifth session the chat service puts that memory, dated and quoted, into the prompt.
    home.settings.chat.temperature = 0.0
    home.settings.chat.max_tokens = 8
    service = ChatService(settings=home.settings, paths=home.paths, engine=engine, journal=home.journal, recall=home.memory)
    service.new_session("fifth")
    "".join(service.send("Remind me where my sibling is based?"))
    prompt = service.last.prompt
    assert prompt is not None and prompt.memories
    assert "Vancouver" in prompt.memories[0].text
    last = prompt.messages[-1]["content"]
    # Said back as the user's own dated words, in quotes, with the question last.
    assert re.search(r'On \d{1,2} [A-Z][a-z]+ \d{4} you said: "My sister Priya lives in Vancouver', last), last
    assert last.endswith("Remind me where my sibling is based?")
    from pmem.core.prompt import long_date

    assert f"On {long_date(hits[0].date)} you said" in last
    assert prompt.messages[0]["role"] == "system" and "Vancouver" not in prompt.messages[0]["content"]


def test_a_question_that_got_only_i_dont_know_is_not_recalled(home: Home) -> None:
    """Recalled, the earlier "I don't know" is the nearest match and the model repeats it, even once the answer
    has been told since. It stays in the journal and in search; only the prompt's recall skips it."""
    _populate(home)
    s = home.journal.new_session("asked")
    home.say(s.id, "What is my favourite film?", "I don't know — you haven't told me your favourite film.")
    home.say(s.id, "Do you know which films I like?", "I'm not sure — you haven't mentioned it. I'd suggest Arrival, a quiet "
             "science fiction film about language and time, or Paddington 2 if you want something warm and funny to watch.")
    t = home.journal.new_session("told")
    home.say(t.id, "I watched Alien again last night, it is still my favourite film.", "A classic!")
    home.memory.flush(timeout=120)
    searched = [h.episode.text() for h in home.memory.search("What is my favourite film?", k=8)]
    assert any(text.startswith("What is my favourite film?") for text in searched)  # still kept and searchable
    recalled = [m.text for m in home.memory.recall("What is my favourite film?", k=8)]
    assert any("Alien" in text for text in recalled), recalled
    assert not any("What is my favourite film?" in text for text in recalled), recalled
    # A long reply that starts unsure says more than that: it stays a memory.
    assert any("Paddington" in text for text in recalled), recalled


def test_hits_carry_provenance(home: Home) -> None:
    _populate(home)
    hit = home.memory.search("marine biologist", k=1)[0]
    prov = hit.provenance()
    assert prov["session"] == hit.episode.session_id and prov["turns"] == hit.episode.turn_uids
    assert prov["lexical_rank"] == 1 and prov["dense_rank"] is not None and prov["date"]


def test_new_exchange_is_found_lexically_before_it_is_indexed(home: Home) -> None:
    s = home.journal.new_session()
    u = home.journal.add_turn(s.id, "user", "My locker code is quetzal-7731.")
    a = home.journal.add_turn(s.id, "assistant", "Noted.")
    home.memory.episodes.sync_sessions([s.id])  # derived, but not yet embedded
    hits = home.memory.retriever.search("quetzal", 3)
    assert hits and hits[0].episode.turn_uids == [u.uid, a.uid] and hits[0].dense_rank is None


def test_forgetting_a_turn_removes_it_everywhere(home: Home) -> None:
    from pmem.core.memory.episodes import passages
    from pmem.core.memory.service import passage_vectors

    sessions = _populate(home)
    # An exchange after the secret in the same session: its vectors embed the secret as neighbouring context.
    home.say(sessions[0], "Anything else to plan?", "Maybe a whale-watching trip.")
    home.memory.flush(timeout=120)
    secret = home.memory.search("Priya Vancouver", k=1)[0]
    every = home.memory.episodes.load(sorted(home.memory.episodes.all_ids())).values()
    forgotten = ("Priya", "fascinating job")  # the secret exchange: the user's turn and the reply
    leaking = [p for p in passages(home.conn, list(every)) if any(f in p.text for f in forgotten)]
    assert len(leaking) == 3, "the secret's two turns, and the next turn, which has the reply as context"
    vectors = [v.tobytes()[:48] for v in passage_vectors(home.memory.embedder, leaking)]

    def files_with(needle: bytes) -> list[str]:
        return [str(p) for p in home.paths.data_dir.rglob("*") if p.is_file() and needle in p.read_bytes()]

    assert all(files_with(v) for v in vectors), "the vectors' bytes are on disk before forgetting (so the check below means something)"
    report = home.forget.episode(secret.id)
    assert report.turns == 2 and report.vectors == 2
    assert home.conn.execute("SELECT count(*) FROM turns WHERE content LIKE '%Priya%'").fetchone()[0] == 0
    assert home.conn.execute("SELECT count(*) FROM turns_fts WHERE turns_fts MATCH 'priya'").fetchone()[0] == 0
    assert secret.id not in home.memory.vectors.episode_ids()
    assert all("Priya" not in h.episode.text() for h in home.memory.search("Which city does my sister live in?", k=8))
    assert home.journal.session(sessions[0]) is not None, "the session keeps its other exchange"
    assert files_with(b"Priya") == [] and files_with(b"Vancouver") == [] and files_with(b"fascinating") == []
    assert [v for v in vectors if files_with(v)] == [], "no vector made from the forgotten text is left on disk"
    home.memory.flush(timeout=120)  # the neighbour is embedded again, without the secret
    assert home.memory.vectors.episode_ids() == home.memory.episodes.all_ids(), "the other memories survive the compaction"
    assert home.memory.vectors.count() == home.conn.execute("SELECT count(*) FROM turns").fetchone()[0]
    assert home.forget.session(sessions[0]).sessions == 1
    assert home.journal.session(sessions[0]) is None, "a session left with no turns is removed"


_HEAP_CHILD = r"""
import ctypes, ctypes.util, sys

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "pmem":
    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.memory.vectors import VectorStore

    paths = resolve_paths({"PMEM_HOME": sys.argv[2]})
    paths.ensure_data_dir()
    VectorStore(load_settings(paths), paths, "all-MiniLM-L6-v2").client  # pmem opens its vector store
words = b"FORGOTTEN-WORDS-" * 8192
recycled = []
for size in (400, 1000, 4096, 65536, 100000):  # Chroma's first index buffers: 400 bytes (length.bin), 167,600 bytes
    block = libc.malloc(size)
    ctypes.memmove(block, words, size)
    libc.free(block)
    again = libc.malloc(size)  # glibc hands the same block out again
    if b"FORGOTTEN-WORDS" in ctypes.string_at(again, size):
        recycled.append(size)
    libc.free(again)
print(recycled)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the scrub is glibc's (pmem/core/heap.py)")
def test_memory_freed_after_the_vector_store_opens_is_never_handed_out_with_its_words(tmp_path: Path) -> None:
    """Chroma writes its HNSW buffers whole, unused slots included, and those slots hold whatever the process freed
    there before (chroma-core/chroma#7688): once, a full suite found a forgotten turn's word in data_level0.bin.
    Opening pmem's vector store has freed memory overwritten, so a block handed out again holds no old words; blocks
    of 1 KB or less too, in the environment the ``pmem`` command restarts itself with (glibc's per-thread cache off)."""
    import ast
    import os

    from pmem.core.heap import restart_environment

    def recycled(arm: str) -> list[int]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if arm == "pmem":
            env = restart_environment(env) or env
        out = subprocess.run([sys.executable, "-c", _HEAP_CHILD, arm, str(tmp_path / arm)], capture_output=True, text=True,
                             timeout=300, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
        return ast.literal_eval(out.stdout.strip().splitlines()[-1])

    if not recycled("control"):
        pytest.skip("this allocator does not hand a freed block out again as it was: the check below would mean nothing")
    assert recycled("pmem") == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the restart is for glibc (pmem/cli/entry.py)")
def test_the_pmem_command_runs_with_small_freed_blocks_overwritten_too(pmem_home: Path) -> None:
    """glibc's per-thread cache can only be turned off at start-up, so ``pmem`` restarts itself once with it off;
    the doctor, run through the command, reads the process it runs in. Started as it is, the same check warns."""
    from pmem.core.doctor import checks
    from pmem.core.heap import glibc, small_blocks_scrubbed

    if not glibc():
        pytest.skip("not glibc")
    proc = run_pmem("doctor", home=pmem_home)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("freed memory"))
    assert row.split()[2] == "ok" and "small blocks too" in row, proc.stdout
    here = {name: (ok, detail) for name, ok, detail in checks()}["freed memory"]
    assert here[0] is (True if small_blocks_scrubbed() else None), here  # pytest's process: as it was started


def test_forget_by_match_and_session(home: Home) -> None:
    sessions = _populate(home)
    report = home.forget.matching("SPAGHETTI")
    assert report.turns == 1
    assert home.conn.execute("SELECT count(*) FROM turns WHERE content LIKE '%spaghetti%'").fetchone()[0] == 0
    before = home.journal.count_turns()
    report = home.forget.session(sessions[3])
    assert report.sessions == 1 and home.journal.count_turns() == before - report.turns
    home.memory.flush(timeout=60)
    assert home.memory.reconcile()["orphan_vectors"] == 0


def test_reindex_reproduces_search_results(home: Home) -> None:
    _populate(home)
    queries = ["sister's job", "bicycle repair", "book recommendation", "sleep"]
    before = [{h.id: h.score for h in home.memory.search(q, 8)} for q in queries]
    assert home.memory.reindex() == home.memory.episodes.count()
    after = [{h.id: h.score for h in home.memory.search(q, 8)} for q in queries]
    # The same memories with the same scores. Vectors are equal only to float rounding (the background indexer
    # batched them differently, so with other padding), which may swap two hits whose scores tie.
    for q, b, a in zip(queries, before, after):
        for first, second in ((b, a), (a, b)):
            for memory_id in list(first)[:4]:
                assert memory_id in second and abs(second[memory_id] - first[memory_id]) < 1e-4, (q, b, a)
        order_b, order_a = list(b)[:4], list(a)[:4]
        swapped = [(x, y) for x, y in zip(order_b, order_a) if x != y]
        assert all(abs(b[x] - b[y]) < 1e-4 for x, y in swapped), (q, b, a)


def test_a_turn_written_while_its_neighbour_is_embedded_is_not_left_out_of_that_vector(home: Home) -> None:
    """A turn's vector holds its neighbours. The background indexer, stopped just before it embeds an exchange
    (a failpoint), sees the next exchange arrive meanwhile: the vector it stores for the earlier reply misses its
    new neighbour, so that reply is indexed again, not marked done (CI once caught the race by chance)."""
    import threading

    from pmem.core import failpoints
    from pmem.core.memory.episodes import passages
    from pmem.core.memory.service import passage_vectors

    reached, go = threading.Event(), threading.Event()

    def hold_first_embed(point: str) -> None:
        if point == "embed" and threading.current_thread().name == "pmem-indexer" and not reached.is_set():
            reached.set()
            assert go.wait(60)

    session = home.journal.new_session("race").id
    failpoints.install(hold_first_embed)
    try:
        home.say(session, "I repair old bicycles at the weekend.", "A good way to spend a Saturday.")
        assert reached.wait(60), "the indexer reached the point where it embeds"
        home.say(session, "Mostly Italian steel frames from the seventies.", "Those are beautiful to restore.")
    finally:
        go.set()
        failpoints.install(None)
    home.memory.flush(timeout=120)
    assert home.memory.stats()["pending"] == 0
    every = home.memory.episodes.load(sorted(home.memory.episodes.all_ids())).values()
    chunks = passages(home.conn, list(every))
    assert len(chunks) == 4 and chunks[1].after.startswith("Mostly Italian"), "the first reply's neighbour is the next turn"
    wanted = passage_vectors(home.memory.embedder, chunks)
    stored = home.memory.vectors.vectors([c.turn_uid for c in chunks])
    for chunk, vector in zip(chunks, wanted):
        assert float(np.dot(stored[chunk.turn_uid], vector)) > 0.9999, chunk


def test_export_import_round_trip_is_lossless(home: Home, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Every store filled first (journal, episodes, a profile learned from the turns, with a superseded fact in
    its history), exported, imported into an empty home, exported again: the two exports are equal."""
    from pmem.core.profile.service import ProfileService
    from pmem.core.profile.store import ProfileStore

    sessions_made = _populate(home)
    home.say(sessions_made[1], "By the way, my name is Ada and I work as a nurse.", "Nice to meet you, Ada!")
    home.memory.flush(timeout=120)
    learned = ProfileService(home.conn, None, use_model=False).learn_history(sessions_made)
    store = ProfileStore(home.conn)
    store.set("location.city", "Rotterdam", when="2024-01-01T00:00:00+00:00")
    store.set("location.city", "Utrecht", when="2024-06-01T00:00:00+00:00")
    exported = export_all(home.conn, embedder="all-MiniLM-L6-v2")
    facts = exported["profile"]["facts"]
    assert learned and any(f["sources"] for f in facts), "facts learned from the turns, with their sources"
    assert any(f["superseded_by"] for f in facts), "history: the replaced city is exported too"
    other = Home(tmp_path / "other", embedder)
    try:
        kind, sessions = parse(json.loads(json.dumps(exported)))
        summary = import_sessions(other.journal, kind, sessions)
        assert summary.sessions_added == 4 and summary.turns_added == 16
        assert ProfileStore(other.conn).restore_facts(json.loads(json.dumps(facts))) == len(facts)
        other.memory.reconcile()
        again = export_all(other.conn, embedder="all-MiniLM-L6-v2")
        for data in (exported, again):
            data.pop("exported_at")
            for e in data["memory"]["episodes"]:
                e.pop("indexed")
        assert again == exported
        assert import_sessions(other.journal, *parse(exported)).sessions_added == 0, "idempotent"
    finally:
        other.close()


def test_generic_and_chatgpt_formats(home: Home) -> None:
    generic = {
        "sessions": [
            {"started_at": "2024-03-01T10:00:00Z", "title": "trip", "turns": [
                {"role": "user", "content": "I'm flying to Lisbon in May."},
                {"role": "assistant", "content": "Enjoy the pastéis de nata!"},
            ]}
        ]
    }
    kind, sessions = parse(generic)
    assert kind == "generic" and sessions[0].started_at == "2024-03-01T10:00:00+00:00"
    assert import_sessions(home.journal, kind, sessions).turns_added == 2
    assert import_sessions(home.journal, *parse(generic)).sessions_added == 0
    chatgpt = [{
        "id": "conv-1", "title": "Plants", "create_time": 1700000000.0, "current_node": "c",
        "mapping": {
            "root": {"message": None, "parent": None, "children": ["a"]},
            "a": {"message": {"author": {"role": "user"}, "content": {"content_type": "text", "parts": ["How often to water a cactus?"]}, "create_time": 1700000001.0}, "parent": "root", "children": ["b", "x"]},
            "x": {"message": {"author": {"role": "assistant"}, "content": {"content_type": "text", "parts": ["(abandoned branch)"]}}, "parent": "a", "children": []},
            "b": {"message": {"author": {"role": "assistant"}, "content": {"content_type": "text", "parts": ["Every 2-3 weeks."]}}, "parent": "a", "children": ["c"]},
            "c": {"message": {"author": {"role": "system"}, "content": {"content_type": "text", "parts": [""]}}, "parent": "b", "children": []},
        },
    }]
    kind, sessions = parse(chatgpt)
    assert kind == "chatgpt"
    assert [(t.role, t.content) for t in sessions[0].turns] == [("user", "How often to water a cactus?"), ("assistant", "Every 2-3 weeks.")]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"{not json", "is not valid JSON (line 1"),
        (b'{"hello": "world"}', "unrecognised import format"),
        (b'{"sessions": [{"started_at": "2024-01-01T00:00:00", "turns": [{"role": "user", "content": "ok"}]}, '
         b'{"started_at": "yesterday", "turns": []}]}', "sessions[1].started_at is not an ISO 8601"),
        (b'{"sessions": [{"started_at": "2024-01-01T00:00:00", "turns": [{"role": "robot", "content": "x"}]}]}', "sessions[0].turns[0].role"),
    ],
)
def test_bad_import_is_refused_and_nothing_is_written(pmem_home: Path, tmp_path: Path, payload: bytes, fragment: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(payload)
    proc = run_pmem("import", str(bad), home=pmem_home)
    assert_one_line_error(proc, fragment)
    db = pmem_home / "data" / "pmem.sqlite3"
    if db.exists():
        assert sqlite3.connect(db).execute("SELECT count(*) FROM turns").fetchone()[0] == 0


def test_cli_import_search_forget_transcript(pmem_home: Path, tmp_path: Path) -> None:
    data = {"sessions": [{"id": "trip", "started_at": "2024-05-02T09:00:00Z", "turns": [
        {"role": "user", "content": "My passport number is ZX-448812, keep it handy."},
        {"role": "assistant", "content": "Got it."},
    ]}, {"id": "cook", "started_at": "2024-05-03T09:00:00Z", "turns": [
        {"role": "user", "content": "I am allergic to peanuts."},
        {"role": "assistant", "content": "I'll remember to avoid peanut recipes."},
    ]}]}
    f = tmp_path / "sessions.json"
    f.write_text(json.dumps(data))
    first = run_pmem("import", str(f), home=pmem_home)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "imported 2 session(s) with 4 turn(s) from a generic file; learned 1 profile fact(s)\n"
    second = run_pmem("import", str(f), home=pmem_home)
    assert second.stdout == "imported 0 session(s) with 0 turn(s) from a generic file; 2 already present, skipped\n"
    found = run_pmem("memory", "search", "--json", "-k", "1", "food allergy", home=pmem_home)
    hits = json.loads(found.stdout)
    assert len(hits) == 1 and "peanuts" in hits[0]["text"] and hits[0]["date"].startswith("2024-05-03")
    listed = run_pmem("memory", "list", "--json", home=pmem_home)
    assert [m["date"][:10] for m in json.loads(listed.stdout)] == ["2024-05-03", "2024-05-02"]
    shown = run_pmem("memory", "show", hits[0]["id"], home=pmem_home)
    assert "User: I am allergic to peanuts." in shown.stdout
    gone = run_pmem("memory", "forget", "--match", "ZX-448812", "--yes", home=pmem_home)
    assert gone.stdout == "forgot 1 turn(s), 1 memory(ies) and 1 vector(s)\n"
    stats = json.loads(run_pmem("memory", "stats", "--json", home=pmem_home).stdout)
    assert stats["turns"] == 3 and stats["memories"] == 2 and stats["vectors"] == 3  # one per turn
    missing = run_pmem("memory", "forget", "m-doesnotexist", home=pmem_home)
    assert_one_line_error(missing, "no memory with id m-doesnotexist")


def test_doctor_says_an_upgraded_index_runs_as_it_was_built_until_a_reindex(pmem_home: Path, tmp_path: Path) -> None:
    """A data dir indexed in float32 by the untuned model (as before either was the default) keeps both, so the
    doctor says what ``pmem memory reindex`` would change; after it the warning is gone and stats name the tuned
    int8 embedder."""
    from pmem.core.memory.tuning import packaged

    data = {"sessions": [{"id": "s", "started_at": "2024-05-02T09:00:00Z", "turns": [
        {"role": "user", "content": "I am allergic to peanuts."}, {"role": "assistant", "content": "Noted."}]}]}
    f = tmp_path / "sessions.json"
    f.write_text(json.dumps(data))
    old_version = {"PMEM_EMBEDDER_PRECISION": "float32", "PMEM_EMBEDDER_TUNED": "false"}
    assert run_pmem("import", str(f), home=pmem_home, env=old_version).returncode == 0
    before = run_pmem("doctor", home=pmem_home)
    lines = before.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("memory index"))
    row = " ".join(" ".join(lines[at:at + 1] + list(itertools.takewhile(lambda line: line.startswith(" "), lines[at + 1:]))).split())
    wanted = f"all-MiniLM-L6-v2+{packaged().tag}+int8"
    assert row.startswith("memory index warn built with all-MiniLM-L6-v2, so searched with it") and wanted in row, before.stdout
    assert json.loads(run_pmem("memory", "stats", "--json", home=pmem_home).stdout)["embedder"] == "all-MiniLM-L6-v2"
    reindexed = run_pmem("memory", "reindex", home=pmem_home)
    assert reindexed.returncode == 0, reindexed.stderr
    assert reindexed.stdout.splitlines()[-1] == "reindexed 1 memory with all-MiniLM-L6-v2 (tuned, int8)", reindexed.stdout
    after = run_pmem("doctor", home=pmem_home)
    assert "memory index" not in after.stdout, after.stdout
    assert json.loads(run_pmem("memory", "stats", "--json", home=pmem_home).stdout)["embedder"] == wanted
    found = json.loads(run_pmem("memory", "search", "--json", "-k", "1", "food allergy", home=pmem_home).stdout)
    assert "peanuts" in found[0]["text"]


def test_embedder_mismatch_is_reported(home: Home) -> None:
    from pmem.core.errors import StorageError
    from pmem.core.memory.vectors import VectorStore

    _populate(home)
    other = VectorStore(home.settings, home.paths, "some-other-embedder")
    with pytest.raises(StorageError, match="run 'pmem memory reindex'"):
        other.count()


def test_migrations_are_named_ordered_and_applied_once(home: Home) -> None:
    from pmem.core.store.db import migrate
    from pmem.core.store.migrations import MIGRATIONS

    names = [r[0] for r in home.conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [n for n, _ in MIGRATIONS] and names == sorted(names)
    assert migrate(home.conn) == []


def test_read_import_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_import(tmp_path / "missing.json")


def test_anticipated_memories_are_prefilled_and_never_repeated(home: Home, engine) -> None:  # type: ignore[no-untyped-def]
    from pmem.core.chat import ChatService

    _populate(home)
    home.settings.chat.temperature = 0.0
    home.settings.chat.max_tokens = 8
    home.settings.memory.fresh_per_turn = 0
    home.settings.memory.retrieve_k = 2
    home.settings.memory.min_similarity = 0.0
    service = ChatService(settings=home.settings, paths=home.paths, engine=engine, journal=home.journal, recall=home.memory)
    service.new_session()
    "".join(service.send("Tell me about my sister Priya."))
    first = {m.id for m in service.last.prompt.memories}  # type: ignore[union-attr]
    assert first
    evaluated = service.anticipate()
    anticipated = {m.id for m in service._anticipated}
    assert evaluated > 0 and anticipated and not (anticipated & first), "memories already shown are not sent again"
    "".join(service.send("And what about bicycles?"))
    prompt, stats = service.last.prompt, service.last.stats
    assert {m.id for m in prompt.memories} == anticipated  # type: ignore[union-attr]
    # Everything up to the new message was already in the KV cache.
    assert stats.prompt_eval_tokens < 40, stats
    from pmem.core.prompt import DEFAULT_FRAMING

    assert service.history[0]["content"].startswith(DEFAULT_FRAMING.memory_intro), "history keeps what was sent"


def test_memories_for_a_draft_are_read_while_the_user_types(home: Home, engine) -> None:  # type: ignore[no-untyped-def]
    from pmem.core.chat import ChatService

    _populate(home)
    home.settings.chat.temperature = 0.0
    home.settings.memory.min_similarity = 0.0  # default fresh_per_turn (3) and retrieve_k (6)
    service = ChatService(settings=home.settings, paths=home.paths, engine=engine, journal=home.journal, recall=home.memory)
    service.new_session()
    question = "What do you remember about my sister Priya?"
    cold = service.build(question)
    assert len(cold.memories) >= 3
    evaluated = service.anticipate(draft=question)
    assert evaluated > 100  # the memories were read into the KV cache while "typing"
    "".join(service.send(question, max_tokens=4))
    prompt, stats = service.last.prompt, service.last.stats
    assert {m.id for m in prompt.memories} == {m.id for m in cold.memories}  # type: ignore[union-attr]
    assert stats.prompt_eval_tokens < 40, stats  # only the message itself was left to read

    # Mid-conversation: the reply was anticipated first (what the last exchange points to), then the draft.
    home.settings.memory.retrieve_k, home.settings.memory.fresh_per_turn = 3, 1  # a small store: leave some unshown
    service.new_session()
    "".join(service.send("Any tips for fixing a bicycle?", max_tokens=4))
    service.anticipate()
    follow_up = "Which city does my sister live in?"
    service.anticipate(draft=follow_up)  # may read nothing new, when the reply already recalled the same
    "".join(service.send(follow_up, max_tokens=4))
    assert any("Priya" in m.text for m in service.last.prompt.memories)  # type: ignore[union-attr]
    # Only the message is read (16 tokens here); with the reply's memories first, a memory was read too (39).
    assert service.last.stats.prompt_eval_tokens < 25, service.last.stats


def test_an_index_from_before_turn_vectors_is_dropped_and_remade(home: Home) -> None:
    """Upgrading from per-episode vectors: the old collection goes (with its files) and every memory is re-embedded."""
    import numpy as np

    from pmem.core.memory.vectors import VectorStore

    _populate(home)
    old = home.memory.vectors.client.get_or_create_collection("pmem_episodes", metadata={"hnsw:space": "cosine"}, embedding_function=None)
    old.add(ids=["m-legacy"], embeddings=np.ones((1, 384), dtype=np.float32), metadatas=[{"session": "s"}])
    home.conn.execute("UPDATE episodes SET indexed = 1")  # what an upgraded database looks like before 0006 ran
    home.conn.execute("DELETE FROM _migrations WHERE name = '0006_turn_vectors'")
    from pmem.core.store.db import migrate

    assert migrate(home.conn) == ["0006_turn_vectors"]
    assert home.memory.episodes.count(indexed=False) == home.memory.episodes.count()
    fresh = VectorStore(home.settings, home.paths, "all-MiniLM-L6-v2")
    assert fresh.count() > 0
    assert "pmem_episodes" not in {c.name for c in fresh.client.list_collections()}
    home.memory.index_pending()
    assert home.memory.vectors.episode_ids() == home.memory.episodes.all_ids()


@pytest.mark.slow
def test_onnx_embedder_gives_sentence_transformers_vectors(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The ONNX path is the default only because it changes nothing but speed: on real dialogue (the frozen
    profile set's messages), empty and one-letter texts, accents and emoji, and a text past the 256-token limit,
    every vector matches sentence-transformers' to cosine ≥ 0.999."""
    from pmem.core.memory.embedder import Embedder

    frozen = json.loads((Path(__file__).resolve().parent.parent / "bench" / "data" / "profile_frozen.json").read_text())
    texts = [m for u in frozen["users"] for s in u["sessions"] for m in s["messages"]]
    texts += ["", "a", "Ça va? 🙂 Møller, São Paulo, 東京", "word " * 600]
    assert len(texts) > 100
    reference = Embedder("all-MiniLM-L6-v2", embedder.path, threads=2, backend="sentence-transformers")
    expected = reference.embed(texts)
    assert reference.runs_on == "sentence-transformers"
    got = embedder.embed(texts)
    assert embedder.runs_on == "onnx" and got.shape == expected.shape == (len(texts), 384)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= 0.999, (cosines.min(), texts[int(cosines.argmin())][:80])
    assert abs(np.linalg.norm(got, axis=1) - 1).max() < 1e-4


def test_the_int8_embedder_stays_close_to_float32(embedder) -> None:  # type: ignore[no-untyped-def]
    """int8 (the default) is made once beside the float32 export, weights quantised per channel: on real dialogue
    its vectors stay at cosine 0.95 or more to float32's (0.99 on average; one scale per tensor gave 0.95 and cost
    recall). sentence-transformers has no int8 here: asked for it, it stays float32 and says so."""
    from pmem.core.memory import onnx_encoder
    from pmem.core.memory.embedder import Embedder

    frozen = json.loads((Path(__file__).resolve().parent.parent / "bench" / "data" / "profile_frozen.json").read_text())
    texts = [m for u in frozen["users"] for s in u["sessions"] for m in s["messages"]] + ["", "a", "Ça va? 🙂 Møller", "word " * 600]
    int8 = Embedder("all-MiniLM-L6-v2", embedder.path, threads=2, export_dir=embedder.export_dir, precision="int8")
    got, expected = int8.embed(texts), embedder.embed(texts)
    assert int8.runs_on == "onnx" and int8.identity == "all-MiniLM-L6-v2+int8" and embedder.identity == "all-MiniLM-L6-v2"
    assert (onnx_encoder.export_dir(embedder.path, embedder.export_dir).with_name(
        onnx_encoder.export_dir(embedder.path, embedder.export_dir).name + "-int8") / "model.onnx").is_file()
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= 0.95 and cosines.mean() >= 0.98, (cosines.min(), cosines.mean())  # 0.97 / 0.99 here; int8 kernels differ by CPU
    assert not np.allclose(got, expected, atol=1e-4)  # it is another network, not the same one under another name
    torch_side = Embedder("all-MiniLM-L6-v2", embedder.path, backend="sentence-transformers", precision="int8")
    assert torch_side.precision == "float32" and torch_side.identity == "all-MiniLM-L6-v2"


def test_the_tuned_embedder_is_the_packaged_model_with_its_tuning_merged_once(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The tuning ships as LoRA factors and is merged into a copy of the packaged model: every changed matrix is
    W + scale * B @ A, nothing else moves, the copy is made once (a second call finds it), and it runs through the
    same ONNX path in int8, as the identity an index records says. A damaged file is one line, not a traceback."""
    from safetensors.numpy import load_file

    from pmem.core.config import Settings
    from pmem.core.errors import ModelError
    from pmem.core.memory.embedder import embedder_from_settings
    from pmem.core.memory.tuning import PACKAGED, Tuning, packaged

    tuning = packaged()
    assert tuning.about["trained_on"].startswith("LoCoMo conversations 0-4") and len(tuning.pairs) == 36  # 6 layers x 6 matrices
    merged = tuning.merged(embedder.path, tmp_path / "exports")
    base, tuned = load_file(str(embedder.path / "model.safetensors")), load_file(str(merged / "model.safetensors"))
    assert base.keys() == tuned.keys()
    changed = {k for k in base if not np.array_equal(base[k], tuned[k])}
    assert changed == {f"{name}.weight" for name in tuning.pairs}
    name, (a, b) = next(iter(tuning.pairs.items()))
    assert np.allclose(tuned[f"{name}.weight"], base[f"{name}.weight"] + tuning.scale * (b @ a), atol=1e-6)
    made = (merged / "model.safetensors").stat().st_mtime_ns
    assert tuning.merged(embedder.path, tmp_path / "exports") == merged and (merged / "model.safetensors").stat().st_mtime_ns == made
    assert json.loads((merged / "pmem_tuning.json").read_text())["script"] == "bench/locomo_embedder_tuning.py"

    settings = Settings()
    settings.embedder.export_dir = str(embedder.export_dir)
    default = embedder_from_settings(settings, None, embedder.path)
    assert default.identity == f"all-MiniLM-L6-v2+{tuning.tag}+int8" and tuning.tag == f"tuned-{tuning.digest[:8]}"
    texts = ["What instrument am I learning?", "My cello teacher says my bowing is getting better."]
    got, plain = default.embed(texts), embedder.embed(texts)
    assert default.runs_on == "onnx" and not np.allclose(got, plain, atol=0.05)
    assert abs(np.linalg.norm(got, axis=1) - 1).max() < 1e-4
    settings.embedder.tuned = False
    assert embedder_from_settings(settings, None, embedder.path).identity == "all-MiniLM-L6-v2+int8"
    settings.embedder.tuned, settings.embedder.path = True, str(embedder.path)
    assert embedder_from_settings(settings, None, embedder.path).tuning is None  # a configured model never gets it

    broken = tmp_path / "broken.npz"
    broken.write_bytes(PACKAGED.read_bytes()[:1000])
    with pytest.raises(ModelError, match="cannot read the embedder tuning"):
        Tuning.load(broken)
    misfit = Tuning({"encoder.layer.0.attention.self.query": (np.zeros((2, 5), np.float32), np.zeros((384, 2), np.float32))}, 1.0, {}, "0" * 64)
    with pytest.raises(ModelError, match="does not fit the model"):
        misfit.merged(embedder.path, tmp_path / "misfit")


def test_the_tuned_embedder_finds_more_evidence_on_a_conversation_it_never_saw(embedder) -> None:  # type: ignore[no-untyped-def]
    """What the tuning is for, on LoCoMo conversation 5 (held out: the tuning saw 0-4 only; shared/ holds the data):
    dense search alone, each turn's vector made by pmem's own ``passage_vectors`` (its own plus half of each
    neighbour's), finds
    every evidence turn of a question among the 20 nearest turns for clearly more questions tuned than untuned.
    A tuning merged wrongly (a sign, a transpose, the wrong matrix) loses this; bench/README.md has the figures."""
    from pmem.core.config import Settings
    from pmem.core.memory.embedder import embedder_from_settings
    from pmem.core.memory.episodes import Passage
    from pmem.core.memory.service import passage_vectors

    data = ROOT.parent / "shared" / "data" / "locomo" / "locomo10.json"
    assert data.is_file(), f"LoCoMo is read from the project's shared/ folder beside the repository: {data} is missing"
    sample = json.loads(data.read_text())[5]
    conv = sample["conversation"]
    turns, dia, session = [], [], []
    for n in sorted(int(k.split("_")[1]) for k in conv if re.fullmatch(r"session_\d+", k)):
        for t in conv[f"session_{n}"]:
            caption = f" [shares a photo of {t['blip_caption']}]" if t.get("blip_caption") else ""
            turns.append(f"{t['speaker']}: {t['text']}{caption}")
            dia.append(t["dia_id"])
            session.append(n)
    questions = [(qa["question"], {dia.index(e) for e in qa.get("evidence", []) if e in dia}) for qa in sample["qa"] if str(qa["category"]) in "1234"]
    questions = [(q, need) for q, need in questions if need]

    def near(i: int, j: int) -> str:
        return turns[j] if 0 <= j < len(turns) and session[j] == session[i] else ""

    chunks = [Passage(str(i), "", str(session[i]), "", text, near(i, i - 1), near(i, i + 1)) for i, text in enumerate(turns)]

    def recall(model) -> float:  # type: ignore[no-untyped-def]
        vectors = passage_vectors(model, chunks)
        nearest = np.argsort(-(model.embed([q for q, _ in questions]) @ vectors.T), axis=1)[:, :20]
        return float(np.mean([need <= set(row.tolist()) for (_, need), row in zip(questions, nearest)]))

    settings = Settings()
    settings.embedder.export_dir = str(embedder.export_dir)
    tuned, plain = recall(embedder_from_settings(settings, None, embedder.path)), recall(embedder)
    assert len(questions) > 100 and tuned >= plain + 0.10, (tuned, plain)


def test_an_index_keeps_how_it_was_built_until_it_is_reindexed_as_configured(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """A data dir indexed in float32 by the model as shipped, before either choice was recorded, is searched that way
    (with the query adapter made for that model), not refused as built by another embedder; ``reindex`` rebuilds it
    with the configured tuned int8 embedder, records that, and it stays so."""
    from pmem.core.config import Settings, resolve_paths
    from pmem.core.memory.retrieval import WEIGHTS, WEIGHTS_TUNED
    from pmem.core.memory.service import MemoryService
    from pmem.core.memory.tuning import packaged
    from pmem.core.store.db import connect
    from pmem.core.store.journal import Journal

    paths = resolve_paths({"PMEM_HOME": str(tmp_path / "home")})
    paths.ensure_data_dir()

    def opened(precision: str, tuned: bool) -> tuple[sqlite3.Connection, MemoryService]:
        settings = Settings()
        settings.embedder.export_dir = str(embedder.export_dir)
        settings.embedder.precision = precision  # type: ignore[assignment]
        settings.embedder.tuned = tuned
        conn = connect(paths.database)
        return conn, MemoryService(settings, paths, conn)

    def recorded(conn: sqlite3.Connection) -> str:
        return conn.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()[0]

    def found(memory: MemoryService) -> bool:  # by meaning alone: no word of the question is in the memory
        hit = memory.search("fixing bikes", 3)[0]
        return hit.episode.text().startswith("I repair old bicycles") and (hit.dense_similarity or 0) > 0.3

    conn, memory = opened("float32", False)
    journal = Journal(conn)
    session = journal.new_session("precision").id
    memory.remember_exchange(journal.add_turn(session, "user", "I repair old bicycles at the weekend."),
                             journal.add_turn(session, "assistant", "A good way to spend a Saturday."))
    memory.flush(timeout=120)
    assert memory.embedder.identity == recorded(conn) == "all-MiniLM-L6-v2"
    conn.execute("DELETE FROM meta WHERE key = 'embedder'")  # as a data dir of an earlier version has it
    conn.commit()
    memory.close()
    conn.close()

    conn, memory = opened("int8", True)
    assert memory.embedder.precision == "float32" and memory.embedder.tuning is None, "an index made before the choices is as shipped"
    assert memory.retriever.query_adapter is not None and memory.retriever.weights == WEIGHTS
    assert found(memory)
    assert memory.reindex() == 1
    wanted = f"all-MiniLM-L6-v2+{packaged().tag}+int8"
    assert memory.embedder.identity == recorded(conn) == memory.vectors.collection.metadata["embedder"] == wanted
    assert memory.retriever.query_adapter is None and memory.retriever.weights == WEIGHTS_TUNED
    assert found(memory)
    memory.close()
    conn.close()

    conn, memory = opened("int8", True)
    assert memory.embedder.identity == wanted and memory.retriever.weights == WEIGHTS_TUNED and found(memory)
    memory.close()
    conn.close()

def test_a_damaged_onnx_export_is_one_clear_error(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from pmem.core.errors import ModelError
    from pmem.core.memory import onnx_encoder
    from pmem.core.memory.embedder import Embedder

    exports = tmp_path / "exports"
    target = onnx_encoder.export_dir(embedder.path, exports)
    shutil.copytree(onnx_encoder.export_dir(embedder.path, embedder.export_dir), target)
    (target / "model.onnx").write_bytes(b"not a model")
    broken = Embedder("all-MiniLM-L6-v2", embedder.path, export_dir=exports)
    with pytest.raises(ModelError, match="delete it to export again"):
        broken.embed(["hello"])


def test_closing_waits_for_a_background_embedder_load(embedder) -> None:  # type: ignore[no-untyped-def]
    """A load started in the background is not a daemon left running: the process would abort at exit
    ("terminate called without an active exception") with it inside ONNX Runtime, as CI once saw after a
    one-line error. ``close()`` returns only once it has finished, and the embedder then works."""
    from pmem.core.memory.embedder import Embedder

    fresh = Embedder("all-MiniLM-L6-v2", embedder.path, threads=1, export_dir=embedder.export_dir)
    fresh.load_in_background()
    loader = fresh._loader  # the thread itself: it may already have finished on a fast machine
    assert loader is not None and loader.name == "pmem-embedder-load" and not loader.daemon
    fresh.close()
    assert fresh.loaded and not loader.is_alive() and fresh._loader is None
    assert fresh.embed(["hello"]).shape == (1, 384)


def test_a_time_named_in_the_question_favours_what_was_said_then(home: Home) -> None:
    """Two exchanges match the words equally; the one held in the month the question names comes first, and the
    search's score parts say why."""
    from datetime import datetime, timezone

    for started, band in (("2024-03-09T19:00:00+00:00", "the Lumineers"), ("2024-07-13T19:00:00+00:00", "Fleetwood Mac")):
        session = home.journal.new_session(started_at=started)
        u = home.journal.add_turn(session.id, "user", f"I went to a concert tonight: {band}.", created_at=started)
        a = home.journal.add_turn(session.id, "assistant", "Sounds like a great night!", created_at=started)
        home.memory.remember_exchange(u, a)
    home.memory.flush(timeout=120)
    asked = datetime(2024, 9, 1, tzinfo=timezone.utc)
    for month, band in (("March 2024", "Lumineers"), ("July", "Fleetwood")):
        hits = home.memory.search(f"Which concert did I go to in {month}?", k=2, now=asked)
        assert band in hits[0].episode.text() and "date" in hits[0].parts, (month, [h.episode.text() for h in hits])
        assert "date" not in hits[1].parts


def test_the_speaker_a_question_is_about_comes_first(home: Home) -> None:
    """"I/my" favours the user's own turns, and a question naming a speaker favours what that speaker said
    (imported "Name: ..." turns), even where another turn matches the words more often."""
    session = home.journal.new_session("pets")
    home.say(session.id, "I adopted a cat called Miso last spring.", "Lovely!")
    other = home.journal.new_session("stories")
    home.say(other.id, "Write me a short story.", "People adopt cats all the time; in my story the old sailor adopted a cat called Pixel, the cat that adopted him.")
    group = home.journal.new_session("imported")
    home.say(group.id, "Caroline: I went to a pride parade last week.", "Melanie: Caroline, we went to the parade too, the kids loved the parade!")
    home.memory.flush(timeout=120)

    hits = home.memory.search("Which cat did I adopt?", k=3)
    assert "Miso" in hits[0].episode.text() and "speaker" in hits[0].parts, [h.episode.text() for h in hits]
    assert hits[0].matched[0] == hits[0].episode.turns[0].id  # the user's turn is the one that matched best

    hits = home.memory.search("What parade did Caroline go to?", k=1)
    best = next(t for t in hits[0].episode.turns if t.id == hits[0].matched[0])
    assert best.content.startswith("Caroline:") and "speaker" in hits[0].parts


def test_dense_search_takes_its_own_number_of_candidates(home: Home) -> None:
    """The tuned embedder's weights take more turns from dense search than from BM25 (chosen on LoCoMo 3-4); an
    explicit ``candidates`` sets both, as the latency benchmark's comparison does."""
    from dataclasses import replace

    from pmem.core.memory.retrieval import WEIGHTS_TUNED

    _populate(home)
    retriever = home.memory.retriever
    asked: list[tuple[str, int]] = []
    dense, lexical = retriever.dense, retriever.lexical
    retriever.dense = lambda text, n, exclude_session=None: asked.append(("dense", n)) or dense(text, n, exclude_session)  # type: ignore[method-assign]
    retriever.lexical = lambda text, n, exclude_session=None: asked.append(("lexical", n)) or lexical(text, n, exclude_session)  # type: ignore[method-assign]
    retriever.weights = replace(WEIGHTS_TUNED, candidates=1, dense_candidates=6)
    hits = home.memory.search("Where does my sister live?", k=3)
    assert asked == [("dense", 6), ("lexical", 1)]
    assert "Vancouver" in hits[0].episode.text()
    assert len(retriever.last_turns) >= 6  # the six dense turns, with the BM25 turn and its neighbours
    asked.clear()
    retriever.search("Where does my sister live?", 3, candidates=2)
    assert asked == [("dense", 2), ("lexical", 2)]


def test_a_search_reads_the_whole_vector_store_only_after_a_change(home: Home) -> None:
    """The full comparison of vectors with the journal is skipped while nothing changed behind pmem's back, and
    still runs (and repairs) after vectors vanish or an episode goes without its vectors."""
    _populate(home)
    memory = home.memory
    assert memory.reconcile(full=True)["orphan_vectors"] == 0
    scans = []
    real = memory.vectors.episode_ids
    memory.vectors.episode_ids = lambda: scans.append(1) or real()  # type: ignore[method-assign]
    assert memory.reconcile() == {"sessions_resynced": 0, "episodes_changed": 0, "orphan_vectors": 0, "unindexed": 0}
    assert scans == []

    # Vectors lost behind pmem's back (a crash, another tool): found, re-indexed, found by search again.
    priya = memory.search("Where does my sister live?", k=1)[0].episode.id
    memory.vectors.delete_episodes([priya])
    assert memory.reconcile()["unindexed"] == 1 and scans == [1]
    assert memory.index_pending() == 1
    assert memory.search("Where does my sister live?", k=1)[0].episode.id == priya
    assert memory.reconcile()["unindexed"] == 0 and scans == [1]  # indexing kept the agreement

    # An exchange gone from the journal with its vectors left behind (a forget cut off half-way): dropped.
    with home.conn:
        first, last = home.conn.execute("SELECT first_turn_id, last_turn_id FROM episodes WHERE id = ?", (priya,)).fetchone()
        home.conn.execute("DELETE FROM turns WHERE id BETWEEN ? AND ?", (first, last))
        home.conn.execute("DELETE FROM episodes WHERE id = ?", (priya,))
    assert memory.reconcile()["orphan_vectors"] == 1 and scans == [1, 1]
    assert priya not in memory.vectors.episode_ids()


def test_chromadb_works_without_grpc_and_the_real_exporter_stays_importable(tmp_path: Path) -> None:
    """chromadb's tracing imports OpenTelemetry's gRPC exporter (and gRPC, 21 MB) at import time; pmem imports
    chromadb without it, in a fresh process, and the store works; the real exporter can still be imported after."""
    code = (
        "import sys\n"
        "from pmem.core.memory.chroma_compat import import_chromadb\n"
        "chromadb = import_chromadb()\n"
        "assert 'grpc' not in sys.modules, 'grpc was imported'\n"
        f"client = chromadb.PersistentClient(path={str(tmp_path)!r}, settings=chromadb.Settings(anonymized_telemetry=False))\n"
        "col = client.get_or_create_collection('probe')\n"
        "col.add(ids=['a', 'b'], embeddings=[[1.0, 0.0], [0.0, 1.0]])\n"
        "assert col.query(query_embeddings=[[0.9, 0.1]], n_results=1)['ids'] == [['a']]\n"
        "import opentelemetry.exporter.otlp.proto.grpc.trace_exporter as real\n"
        "assert real.OTLPSpanExporter.__module__.startswith('opentelemetry'), real.OTLPSpanExporter\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_chromadb_is_imported_without_signature_checks_and_the_decorator_is_put_back() -> None:
    """pmem skips the ``overrides`` package's import-time checks for chromadb only: afterwards the decorator is the
    library's own again, checks included, for any other code in the process."""
    import importlib

    from pmem.core.memory.chroma_compat import _mark_only, import_chromadb

    assert import_chromadb().PersistentClient is not None
    decorators = importlib.import_module("overrides.overrides")
    assert decorators._overrides is not _mark_only
    from overrides import override

    class Base:
        def f(self, x: int) -> int:
            return x

    with pytest.raises(TypeError):

        class Wrong(Base):
            @override
            def f(self, x: int, y: int) -> int:  # an extra required argument: the check still catches it
                return x + y


def test_the_query_adapter_moves_the_question_only_and_only_for_the_packaged_embedder(home: Home, tmp_path: Path) -> None:
    """The packaged adapter maps a question's vector (normalise(q + q @ delta)), leaves the stored vectors alone,
    changes what the dense search returns, and is absent for a configured embedder or when turned off, where the
    fusion falls back to the weights tuned without it."""
    from dataclasses import replace

    from pmem.core.config import Settings
    from pmem.core.memory.query_adapter import QueryAdapter, packaged, query_adapter_for
    from pmem.core.memory.retrieval import WEIGHTS, WEIGHTS_WITHOUT_ADAPTER

    adapter = packaged()
    assert adapter.dimension == 384 and adapter.about["trained_on"].startswith("LoCoMo conversations 0-4")
    retriever = home.memory.retriever
    assert retriever.query_adapter is adapter and retriever.weights == WEIGHTS
    question = "What pets do I have?"
    raw = home.memory.embedder.embed([question])[0]
    mapped = retriever.query_vector(question)
    expected = raw + raw @ adapter.delta
    assert np.allclose(mapped, expected / np.linalg.norm(expected), atol=1e-6)
    assert abs(float(np.linalg.norm(mapped)) - 1) < 1e-5 and float(mapped @ raw) < 0.999

    session = home.journal.new_session("s")
    for n in range(12):
        home.say(session.id, f"Note {n}: the cat chewed cable number {n}.", "Noted.")
    home.memory.flush(timeout=120)
    stored = home.memory.vectors.collection.get(include=["embeddings"])
    retriever.weights = replace(WEIGHTS, query_adapter=False)
    plain = retriever.dense(question, 12)
    retriever.weights = WEIGHTS
    adapted = retriever.dense(question, 12)
    assert [s for _, s in plain] != [s for _, s in adapted]  # the similarities are the mapped question's
    assert np.allclose(home.memory.vectors.collection.get(include=["embeddings"])["embeddings"], stored["embeddings"])
    # What a hit reports, and what memory.min_similarity is held against, is the message's own cosine.
    vectors = dict(zip(stored["ids"], np.asarray(stored["embeddings"], dtype=np.float32)))
    for hit in home.memory.search(question, 3):
        own = max(float(vectors[u] @ raw) for u in hit.episode.turn_uids if u in vectors)
        assert hit.dense_similarity is not None and abs(hit.dense_similarity - own) < 1e-5

    off = Settings()
    off.memory.query_adapter = False
    custom = Settings()
    custom.embedder.path = str(tmp_path)
    assert query_adapter_for(Settings()) is adapter and query_adapter_for(off) is None and query_adapter_for(custom) is None
    from pmem.core.memory.service import MemoryService

    bare = MemoryService(off, home.paths, home.conn, embedder=home.memory.embedder)
    assert bare.retriever.query_adapter is None and bare.retriever.weights == WEIGHTS_WITHOUT_ADAPTER
    assert np.allclose(bare.retriever.query_vector(question), raw)

    broken = tmp_path / "broken.npz"
    QueryAdapter(np.zeros((3, 4), dtype=np.float32), {}).save(broken)
    from pmem.core.errors import ModelError

    with pytest.raises(ModelError, match="not a square matrix"):
        QueryAdapter.load(broken)


def test_doctor_says_which_query_adapter_applies(pmem_home: Path) -> None:
    tuned = run_pmem("doctor", home=pmem_home)
    on = run_pmem("doctor", home=pmem_home, env={"PMEM_EMBEDDER_TUNED": "false"})
    off = run_pmem("doctor", home=pmem_home, env={"PMEM_MEMORY_QUERY_ADAPTER": "false"})
    assert tuned.returncode == 0 and on.returncode == 0 and off.returncode == 0, (tuned.stderr, on.stderr, off.stderr)
    assert "query adapter ok not needed by the tuned embedder" in " ".join(tuned.stdout.split()), tuned.stdout
    flat = " ".join(on.stdout.split())
    assert "query adapter ok query_adapter_minilm.npz, LoCoMo conversations 0-4" in flat, on.stdout
    assert "query adapter ok off (memory.query_adapter = false)" in " ".join(off.stdout.split()), off.stdout
