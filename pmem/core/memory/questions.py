"""Reading a question: its content words for the full-text search, and what it says about time (whether it asks
about the user's present, whether it says "now", and whether it asks how things were before).

Recall reorders what it found only for such questions (``currency.py``): a question about the past,
or about someone else (LoCoMo's are), is left as the other signals ranked it.
"""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers herself him
    himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other
    our ours ourselves out over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves tell know remember think like did does s t don""".split()
)


def fts_query(text: str) -> str:
    """An FTS5 OR-query of the text's content words, each quoted (so no user text is FTS syntax)."""
    words = []
    for word in re.findall(r"\w+", text.lower()):
        if len(word) > 1 and word not in STOPWORDS and word not in words:
            words.append(word)
    return " OR ".join(f'"{w}"' for w in words[:32])


_PRESENT = re.compile(r"\b(now|nowadays|currently|current|these days|at the moment|at present|still|any ?more|today)\b", re.I)
_PAST = re.compile(
    r"\b(used to|before|previous(ly)?|former(ly)?|old|originally|first|ago|last (year|month|week|time)|back then|"
    r"did|was|were|had|when)\b", re.I)
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|my|me|mine)\b", re.I)
_PRESENT_FORM = re.compile(r"^\s*(\w+\s+){0,3}(is|are|am|do|does|what's|who's|where's)\b", re.I)


def asks_now(text: str) -> bool:
    """A question about the user's present that says so ("now", "these days", "still", "currently")."""
    return bool(_FIRST_PERSON.search(text) and not _PAST.search(text) and _PRESENT.search(text))


def about_the_present(text: str) -> bool:
    """Whether a message asks about the user's present: first person, no word of the past, and "now"-like words or
    a present-tense question ("What car do I have?"). Questions about others (LoCoMo's) and the past are left alone."""
    if not _FIRST_PERSON.search(text) or _PAST.search(text):
        return False
    return bool(_PRESENT.search(text) or _PRESENT_FORM.search(text))


_BEFORE = re.compile(
    r"\b(previous(ly)?|initial(ly)?|original(ly)?|former(ly)?|used to|before|at first|first|earlier|back then|"
    r"my old (job|place|home|house|flat|apartment|school|team|boss|manager|company|car|city|town))\b", re.I)


def about_the_user(text: str) -> bool:
    """Whether a message is in the first person (about the user's own life, not someone else's)."""
    return bool(_FIRST_PERSON.search(text))


def asks_before(text: str) -> bool:
    """Whether a question asks how things were before ("What was my previous goal?", "Where did I initially keep
    them?", "at my old job"): there the earlier memory is the answer, and recall does not favour the later one."""
    return bool(_BEFORE.search(text))
