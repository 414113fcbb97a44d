"""Times named in a question, read as intervals (pmem/core/memory/when.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pmem.core.memory.when import question_dates

NOW = datetime(2023, 10, 20, 15, 0, tzinfo=timezone.utc)  # a Friday


def _day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("question", "inside", "outside"),
    [
        ("What did Gina find on 1 February, 2023?", _day(2023, 2, 1), _day(2023, 3, 1)),
        ("What painting did she show on October 13, 2023?", _day(2023, 10, 13), _day(2023, 11, 13)),
        ("What did Mel paint in July 2023?", _day(2023, 7, 30), _day(2023, 9, 1)),
        ("When did Melanie go camping in June?", _day(2022, 6, 5), _day(2023, 8, 20)),
        ("How many times has she gone to the beach in 2023?", _day(2023, 12, 31), _day(2024, 2, 1)),
        ("What did I say yesterday?", _day(2023, 10, 19), _day(2023, 10, 1)),
        ("What did we plan last week?", _day(2023, 10, 11), _day(2023, 9, 1)),
        ("What did I read two weeks ago?", _day(2023, 10, 6), _day(2023, 8, 1)),
    ],
)
def test_a_named_time_holds_what_was_said_then_and_shortly_after(question: str, inside: datetime, outside: datetime) -> None:
    intervals = question_dates(question, NOW)
    assert intervals, question
    assert any(i.holds(inside) for i in intervals)
    assert not any(i.holds(outside) for i in intervals)


def test_a_conversation_a_few_days_after_still_counts() -> None:
    (july,) = question_dates("What did Mel paint in July 2023?", NOW)
    assert july.holds(_day(2023, 8, 5)) and not july.holds(_day(2023, 8, 25))


@pytest.mark.parametrize("question", ["May I ask what you think?", "What is my favourite colour?", "Tell me about 42 things.", ""])
def test_no_time_is_read_where_none_is_named(question: str) -> None:
    assert question_dates(question, NOW) == []
