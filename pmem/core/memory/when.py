"""The times a question names ("in May 2023", "on 13 October, 2023", "in June", "last week"), as intervals that
retrieval favours. Relative phrases are read relative to the moment of asking.

Why: a question about a time is about what was said around then; lexical and dense similarity do not see that
"in July" matches a conversation held on 2023-07-14, or one held a few days after (people tell of things after
they happen, hence a short slack after each interval).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

MONTHS = {
    name: i
    for i, names in enumerate(
        (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")),
        start=1,
    )
    for name in names
}
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:19|20)\d\d)"
SLACK = timedelta(days=14)
"""How long after an interval a conversation still counts as being about it."""


@dataclass(frozen=True)
class Interval:
    start: datetime | None = None
    end: datetime | None = None
    """Half-open [start, end); both None with ``month`` set: that month in any year."""
    month: int | None = None

    def holds(self, when: datetime) -> bool:
        if self.start is not None and self.end is not None:
            return self.start <= when < self.end + SLACK
        if self.month is not None:
            early = when - SLACK  # a conversation early in the next month may tell of this one
            return when.month == self.month or early.month == self.month
        return False


def _utc(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=timezone.utc)


def _next_month(year: int, month: int) -> datetime:
    return _utc(year + (month == 12), month % 12 + 1)


def question_dates(text: str, now: datetime | None = None) -> list[Interval]:
    """The intervals ``text`` names, most specific readings first; overlapping phrases are read once."""
    now = now or datetime.now(timezone.utc)
    lowered = text.lower()
    taken: list[tuple[int, int]] = []
    found: list[Interval] = []

    def free(m: re.Match[str]) -> bool:
        if any(m.start() < b and a < m.end() for a, b in taken):
            return False
        taken.append(m.span())
        return True

    def day(year: str, month: str, d: str) -> None:
        try:
            start = _utc(int(year), MONTHS[month], int(d))
        except ValueError:
            return
        found.append(Interval(start, start + timedelta(days=1)))

    for m in re.finditer(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", lowered):
        if free(m):
            day(m.group(3), m.group(2), m.group(1))
    for m in re.finditer(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", lowered):
        if free(m):
            day(m.group(3), m.group(1), m.group(2))
    for m in re.finditer(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b", lowered):
        if free(m):
            year, month = int(m.group(2)), MONTHS[m.group(1)]
            found.append(Interval(_utc(year, month), _next_month(year, month)))
    # A month alone must read as a time ("in June", "during May"), not as a word ("may I ask").
    for m in re.finditer(rf"\b(?:in|during|since|early|late|mid|last|this|of)\s+{_MONTH}\b", lowered):
        if free(m) and (m.group(1) != "may" or not re.match(r"\s+(?:i|we|you|he|she|they)\b", lowered[m.end():])):
            found.append(Interval(month=MONTHS[m.group(1)]))
    for m in re.finditer(rf"\b(?:in|during|since|of)\s+{_YEAR}\b", lowered):
        if free(m):
            year = int(m.group(1))
            found.append(Interval(_utc(year, 1), _utc(year + 1, 1)))
    today = datetime(now.year, now.month, now.day, tzinfo=now.tzinfo or timezone.utc)
    relative = {
        r"\byesterday\b": (timedelta(days=1), timedelta(days=1)),
        r"\blast\s+weekend\b": (timedelta(days=today.weekday() + 3), timedelta(days=3)),
        r"\blast\s+week\b": (timedelta(days=today.weekday() + 7), timedelta(days=7)),
        r"\blast\s+month\b": (timedelta(days=today.day - 1 + 31), timedelta(days=31)),
        r"\blast\s+year\b": (timedelta(days=366 + today.timetuple().tm_yday - 1), timedelta(days=366)),
    }
    for pattern, (back, length) in relative.items():
        for m in re.finditer(pattern, lowered):
            if free(m):
                start = today - back
                found.append(Interval(start, start + length))
    for m in re.finditer(r"\b(\d{1,2}|a|one|two|three|four|few)\s+(day|week|month)s?\s+ago\b", lowered):
        if free(m):
            count = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "few": 3}.get(m.group(1)) or int(m.group(1))
            unit = {"day": 1, "week": 7, "month": 30}[m.group(2)]
            centre = today - timedelta(days=count * unit)
            found.append(Interval(centre - timedelta(days=unit), centre + timedelta(days=unit)))
    return found


__all__ = ["Interval", "question_dates"]
