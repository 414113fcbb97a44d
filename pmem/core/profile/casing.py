"""Capital letters a chat message left out, put back before the patterns read it.

The patterns find names, places and employers by their capital letters ("my wife Ola", "in Sopot"). Many people
type in lower case ("my wife ola works nights"), and then every name is missed. In a message typed in lower case
(no capital at the start of a sentence, "i" for "I"), a word that is not a common English word ("ola", "zosia",
"sopot") is given its capital; a common word stays as it is, so "my wife works nights" still has no name in it. The
list of common words leaves out what a dictionary has only as a name ("lena", "leeds"; see its header). A word that
is also a name ("anna", "nice", "reading") is missed rather than guessed: a wrong fact is worse than a missing one. Apostrophes left out of the first person ("im", "ive", "dont") are put back in any message.

A message typed wholly in capitals ("MY NAME IS HAROLD AND I LIVE IN SWANSEA") is read as if typed in lower case,
so the same rule gives its names their capitals back and leaves its common words alone.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pmem.core.profile.vocab import BREEDS, FOODS, PASTIMES, PETS

#: First-person contractions typed without their apostrophe, and what they stand for. Only forms that are not
#: words of their own ("ill", "id", "were", "well", "its" are left alone).
_CONTRACTIONS = {
    "i": "I", "im": "I'm", "ive": "I've", "dont": "don't", "didnt": "didn't", "doesnt": "doesn't", "cant": "can't",
    "isnt": "isn't", "wasnt": "wasn't", "havent": "haven't", "hasnt": "hasn't", "couldnt": "couldn't",
    "wouldnt": "wouldn't", "shouldnt": "shouldn't", "thats": "that's", "whats": "what's", "youre": "you're",
    "theyre": "they're", "weve": "we've", "theres": "there's",
    "wanna": "want to", "gonna": "going to",  # chat forms the patterns read in full
}
#: Rare in books, common in chat, never a name.
_CHAT_WORDS = frozenset(
    "lol lmao rofl btw omg tbh idk ngl imo imho brb thx ty pls plz ok okay gonna wanna gotta kinda sorta dunno ya yea "
    "yeah nah yep yup nope haha hahaha hehe lmk irl fyi asap rn af smh jk bc cuz coz tho thru ur gf bf bday hubby wifey "
    "mins hrs uni convo vibe vibes meh ugh hmm hm ooh aww yay woohoo bro sis fam mate ppl tmrw tmr tonite cos".split()
)
#: Words the profile itself reads in lower case (diets, foods, pets, pastimes): never taken for a name.
_PROFILE_WORDS = frozenset(
    {w for alternation in (PETS, FOODS) for w in re.findall(r"[a-z]+", alternation)}
    | set(BREEDS) | set(PASTIMES) | set(PASTIMES.values())
    | set("vegan vegetarian pescatarian keto paleo coeliac celiac gluten lactose dairy diabetic asthmatic".split())
    | set("midwife midwives paramedic physio physiotherapist barista sommelier phlebotomist radiographer sonographer dietitian "
          "dietician orthodontist podiatrist chiropodist osteopath chiropractor anaesthetist anesthetist paralegal courier "
          "carer caregiver".split())
)
#: After these a noun follows, not a name ("a physio", "my commute").
_DETERMINERS = frozenset("a an the my your our his her their this that these those some any every no".split())
_SUFFIXES = ("ies", "ied", "ing", "ers", "est", "ness", "ment", "ments", "ful", "less", "able", "es", "ed", "er", "ly", "s", "d")


@cache
def _common() -> frozenset[str]:
    path = Path(__file__).with_name("common_words.txt")
    return frozenset(line for line in path.read_text(encoding="utf-8").split() if not line.startswith("#") and line.isalpha())


def is_common(word: str) -> bool:
    """Whether a lower-case word is an English word (or a form of one) rather than a name."""
    common = _common()
    if word in common or word in _CHAT_WORDS or word in _PROFILE_WORDS or len(word) < 3:
        return True
    return a_form_of(word, common)


def a_form_of(word: str, words: frozenset[str] | set[str]) -> bool:
    """Whether a lower-case word is an inflected form of one of ``words`` ("bakers" of "baker", "tidied" of "tidy"),
    or long and ending like a form of some word ("procrastinating"): never a name. ``bench/common_words.py`` asks the
    same of the list it makes, so the list and this reading agree."""
    if len(word) > 4 and word.endswith(("ing", "ed", "ly")):
        return True  # "procrastinating", "overbooked": a form of a word, never a name
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if stem in words or stem + "e" in words or (suffix in ("ies", "ied") and stem + "y" in words):
                return True
    return False


_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s|\n)[^\w]*([A-Za-z])")  # after an emoji or a quote, too


def _typed_in_lower_case(text: str) -> bool:
    """Whether the writer leaves out capitals: every sentence starts in lower case and "I" is written "i". A capital
    elsewhere ("im a nurse at St Luke's") is a name they did capitalise, not a sign that they capitalise names."""
    starts = [m.group(1) for m in _SENTENCE_START.finditer(text)]
    return bool(starts) and all(c.islower() for c in starts) and re.search(r"\bI\b", text) is None


def _typed_in_capitals(text: str) -> bool:
    """Whether the message is shouted: at least three words and four in five of its words of two letters or more
    written in capitals (an acronym or two, "I work at IBM", is not that)."""
    words = [w for w in re.findall(r"[A-Za-z]{2,}", text)]
    return len(words) >= 3 and sum(w.isupper() for w in words) >= 0.8 * len(words)


def restored(text: str) -> str:
    """The message with the apostrophes of "im"/"ive"/"dont" put back, and, when it was typed wholly in lower case
    (or wholly in capitals, read as lower case), its uncommon words capitalised (see the module's docstring)."""
    if _typed_in_capitals(text):
        text = text.lower()
    lower = _typed_in_lower_case(text)
    out: list[str] = []
    last = 0
    previous = ""
    for m in _WORD.finditer(text):
        word = m.group(0)
        new = word
        if word.lower() in _CONTRACTIONS and (lower or word.islower() or word in ("Im", "Ive", "Dont")):
            new = _CONTRACTIONS[word.lower()]
        elif lower and previous not in _DETERMINERS and not is_common(word.split("'")[0]):
            new = word.capitalize()  # "zosia's" -> "Zosia's"
        out.append(text[last:m.start()] + new)
        last = m.end()
        previous = word.lower()
    out.append(text[last:])
    return "".join(out)
