"""Comparing words loosely, for the few places that ask "is this about the same thing?" without a model: an
ending or a goal reached against the profile's facts, a memory's sentence against the message it answers; and
whether a reply says it does not know (the judge of ``pmem models check`` and of the recall that skips such replies)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9']+")

#: Words that say nothing about what a sentence is about.
SMALL_WORDS = frozenset(
    "the a an and or but of to in on at for with from by about is are was were be been am i you he she it we they "
    "my your his her its our their me him them what which who when where why how do did does have has had that this "
    "there".split()
)


def stem(word: str) -> str:
    """A crude stem, enough to match forms of one word: "running" -> "run", "teaching" and "teacher" -> "teach",
    "marathons" -> "marat" (five letters at most)."""
    word = re.sub(r"(?:ing|ers|er|es|s)$", "", word) if len(word) > 4 else word
    if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # "runn" -> "run"
    return word[:5]


def stems(text: str, small: Iterable[str] = SMALL_WORDS) -> set[str]:
    """The stems of the content words of ``text``."""
    skip = small if isinstance(small, (set, frozenset)) else frozenset(small)
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in skip and len(w) > 2}


DONT_KNOW = re.compile(
    r"\b(i\s+(?:do\s+not|don't|dont)\s+know|not\s+sure|(?:haven't|have\s+not|didn't|did\s+not|never)\s+(?:told|mentioned|said|shared)"
    r"|no\s+(?:record|information|mention)|(?:isn't|is\s+not|wasn't|not)\s+mentioned|(?:can't|cannot)\s+(?:recall|remember|tell)"
    r"|nothing\s+i\s+remember|i\s+(?:do\s+not|don't)\s+have\s+(?:that|any|information))",
    re.IGNORECASE,
)


def says_dont_know(reply: str) -> bool:
    """Whether a reply says it does not know (rather than giving an answer)."""
    return bool(DONT_KNOW.search(reply.replace("’", "'")))
