"""Recall that knows what is current (issue #40): of two memories of the same thing, a question about the present
gets the later one first, and a memory whose fact the profile has since replaced says so in the prompt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_pmem

from pmem.core.memory.questions import about_the_present, about_the_user, asks_before, asks_now
from pmem.core.memory.retrieval import WEIGHTS_TUNED

HANNAH = {"sessions": [
    {"started_at": "2024-03-02T18:00:00Z", "turns": [
        {"role": "user", "content": "Hi, I'm Hannah. I teach maths at a secondary school in Leeds."},
        {"role": "assistant", "content": "Nice to meet you, Hannah."},
        {"role": "user", "content": "My brother Sam works in a bakery in York."},
        {"role": "assistant", "content": "That must smell wonderful."}]},
    {"started_at": "2024-06-10T19:30:00Z", "turns": [
        {"role": "user", "content": "Any ideas for a rainy weekend?"},
        {"role": "assistant", "content": "A film marathon, or a museum."}]},
    {"started_at": "2024-09-15T17:45:00Z", "turns": [
        {"role": "user", "content": "Big change: I'm a librarian at the city library now, I left the classroom over the summer."},
        {"role": "assistant", "content": "That sounds like a calmer job."}]},
]}


COLLECTOR = {"sessions": [
    {"started_at": "2024-08-11T18:00:00Z", "turns": [
        {"role": "user", "content": "I started collecting postcards again this summer. So far I've added 10 new postcards to my collection."},
        {"role": "assistant", "content": "That's a lovely hobby to come back to."}]},
    {"started_at": "2024-09-02T19:30:00Z", "turns": [
        {"role": "user", "content": "Any ideas for a rainy weekend?"},
        {"role": "assistant", "content": "A film marathon, or a museum."}]},
    {"started_at": "2024-03-02T18:00:00Z", "turns": [
        {"role": "user", "content": "I work as a maths teacher at a secondary school in Leeds."},
        {"role": "assistant", "content": "A demanding job."}]},
    {"started_at": "2024-10-02T18:00:00Z", "turns": [
        {"role": "user", "content": "My sister Ana works as a nurse at the hospital, she loves her job."},
        {"role": "assistant", "content": "Nursing is hard work."}]},
    {"started_at": "2024-11-30T17:45:00Z", "turns": [
        {"role": "user", "content": "I'm hosting a collectors' gathering next month. By the way, I've now added 25 postcards since I started again!"},
        {"role": "assistant", "content": "Great progress, and a gathering sounds fun."}]},
]}
"""A count that grows (no profile fact records it, and the question does not say "now"), and a later memory of
someone else's job beside the user's own."""


@pytest.mark.parametrize(("question", "present"), [
    ("What do I do for work now?", True),
    ("Am I still teaching maths?", True),
    ("What car do I have?", True),
    ("Where do I live these days?", True),
    ("What did I do for work before?", False),
    ("Where did I live in 2023?", False),
    ("When did Melanie paint a sunrise?", False),  # about someone else (LoCoMo's questions): left alone
    ("What does Caroline do for fun?", False),
])
def test_which_questions_are_about_the_present(question: str, present: bool) -> None:
    assert about_the_present(question) is present


@pytest.mark.parametrize(("question", "now"), [
    ("What do I do for work now?", True),
    ("Am I still teaching maths?", True),
    ("Which language am I learning these days?", True),
    ("What is my job?", False),  # present, but says nothing of time: only the profile's known changes reorder it
    ("What car do I have?", False),
    ("What did I do last week?", False),
])
def test_only_a_question_that_says_now_is_reordered_by_time(question: str, now: bool) -> None:
    assert asks_now(question) is now


@pytest.mark.parametrize(("question", "before"), [
    ("How many postcards have I added to my collection?", False),
    ("Where did I get my guitar serviced?", False),
    ("What was my previous personal best?", True),
    ("Where did I initially keep my old sneakers?", True),
    ("What did I do at my old job?", True),
    ("Before I moved, where did I live?", True),
])
def test_a_question_about_how_things_were_before(question: str, before: bool) -> None:
    assert asks_before(question) is before
    assert about_the_user(question)


def test_of_two_memories_of_one_subject_the_later_comes_first(pmem_home: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    from pmem.core.runtime import Runtime

    source = tmp_path / "collector.json"
    source.write_text(json.dumps(COLLECTOR))
    assert run_pmem("import", str(source), home=pmem_home).returncode == 0
    with Runtime.load() as rt:
        retriever = rt.memory.retriever
        assert retriever.weights.later > 0

        def first(question: str) -> str:
            return rt.memory.search(question, 4)[0].episode.text()

        for question in ("How many postcards have I added to my collection?", "How many new postcards did I add since I started?"):
            assert "25 postcards" in first(question), question
        # Only a question about how things were before keeps the earlier memory first.
        assert "10 new postcards" in first("How many postcards had I added at first?")
        # The subjects must be one: the sister's later job does not displace the user's own.
        assert "maths teacher" in first("Where do I work?")
        # Without the step, the earlier count ranks first: the step is what reorders it.
        retriever.weights = replace(retriever.weights, later=0.0)
        assert "10 new postcards" in first("How many postcards have I added to my collection?")


@pytest.fixture()
def hannah(pmem_home: Path, tmp_path: Path) -> Path:
    source = tmp_path / "hannah.json"
    source.write_text(json.dumps(HANNAH))
    assert run_pmem("import", str(source), home=pmem_home).returncode == 0
    return pmem_home


def _texts(home: Path, question: str) -> list[str]:
    proc = run_pmem("memory", "search", question, "--json", "-k", "4", home=home)
    assert proc.returncode == 0, proc.stderr
    return [hit["text"] for hit in json.loads(proc.stdout)]


def test_a_question_about_the_present_gets_the_later_memory_first(hannah: Path) -> None:
    assert WEIGHTS_TUNED.current > 0 and WEIGHTS_TUNED.superseded > 0
    for question in ("What do I do for work now?", "Am I still teaching maths?"):
        texts = _texts(hannah, question)
        assert "librarian" in texts[0], (question, texts)
        assert any("maths" in t for t in texts[1:]), "the earlier memory is still recalled, below"


def test_a_replaced_fact_is_marked_as_the_past_in_the_prompt(hannah: Path) -> None:
    from pmem.core.chat import ChatService
    from pmem.core.runtime import Runtime

    with Runtime.load() as rt:
        history = {f.statement: f.valid_to for f in rt.profile.store.history()}
        assert history.get("works as maths teacher") and history.get("works as librarian", "x") is None
        service = ChatService(settings=rt.settings, paths=rt.paths, engine=rt.engine, journal=None, recall=rt.layers)
        block = service.build("What do I do for work now?").messages[-1]["content"]
    said = next(line for line in block.splitlines() if "I teach maths" in line)
    assert said.endswith("(that has changed: since 15 September 2024, you work as librarian)"), said
    assert block.rstrip().endswith("What do I do for work now?")
    assert block.index("I teach maths") < block.index("I'm a librarian"), "the current memory nearest the question"


def test_a_later_memory_that_barely_matches_is_not_taken_for_an_update(pmem_home: Path, tmp_path: Path) -> None:
    """Two one-line exchanges with the same reply look alike by that shared context alone (cosine over
    ``same_subject``); the later, which does not match the question, must not be lifted over the one that does."""
    source = tmp_path / "two.json"
    source.write_text(json.dumps({"sessions": [
        {"started_at": "2024-03-01T10:00:00Z", "turns": [
            {"role": "user", "content": "My grandmother taught me to bake rye bread."}, {"role": "assistant", "content": "Noted."}]},
        {"started_at": "2024-03-02T10:00:00Z", "turns": [
            {"role": "user", "content": "The train to Leeds was late again."}, {"role": "assistant", "content": "Noted."}]},
    ]}))
    assert run_pmem("import", str(source), home=pmem_home).returncode == 0
    texts = _texts(pmem_home, "baking bread with my grandma")
    assert "rye bread" in texts[0], texts
