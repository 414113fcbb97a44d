"""The one small engine that applies the profile rules to a message.

A rule is data: a name, a pattern, what it emits and the sentences it is shown on (examples it must read,
counterexamples it must leave alone). The topic modules beside this one hold the rules; this module reads a
message into sentences (each also read with its dropped "I" put back and its present perfect as the simple past,
and clause by clause) and gives each sentence to every rule, in the order ``rules.ORDER`` fixes: a few rules read
what an earlier one found or matched, so the order is part of their meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partialmethod
from typing import Literal

from pmem.core.profile.casing import restored
from pmem.core.profile.model import Candidate, is_single_valued, slot_of
from pmem.core.profile.reading import INTRO_LIST, clauses, tidied, usable_sentences
from pmem.core.profile.vocab import FILLER, HELLO, OPENERS

Emit = Callable[[re.Match[str], "Reading"], None]
How = Literal["search", "match", "fullmatch", "finditer"]

_STOP_VALUE = re.compile(
    r"\s+(and|but|because|since|so|who|which|where|with|for|when|while|although|though|more than|rather than|every|"
    r"before(?!-)|after(?!-)|until|unless|if|"
    r"each|on (?:mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays|weekends)|"
    r"in the (?:mornings?|evenings?|afternoons?|summers?|winters?)|at (?:night|weekends|the weekend)|after work|before work)\b.*$|"
    r"\s+[-\u2013\u2014]+\s.*$",
    re.I,
)
_TRAILING = re.compile(
    r"\s+(anymore|any more|now|again|these days|nowadays|lately|on (the )?weekends|at weekends|every day|"
    r"a lot|so much|too|as well|by the way|on the side|last (week|month|year)|this (week|month|year)|"
    r"next (week|month|year|summer|spring|autumn|winter)|for now|at all|lol|haha|rn|atm|tbh|ngl)$",
    re.I,
)


def clean(value: str) -> str:
    """A value without what follows it in the sentence ("in Leeds because …") or trails it ("… these days")."""
    value = _STOP_VALUE.sub("", value.strip()).strip(" .,;:!\"'()")
    while (shorter := _TRAILING.sub("", value)) != value:
        value = shorter.strip(" .,;:!\"'()")
    return value


@dataclass
class Message:
    """One message being read: as typed, as read, and what its sentences have given so far."""

    typed: str
    text: str
    origin: str = "extracted"
    confidence: float = 0.9
    found: list[Candidate] = field(default_factory=list)

    def as_typed(self, name: str) -> bool:
        """Whether the user wrote this name with its capital: after "I'm", a word given one by ``restored`` is as
        likely a mood ("im hangry") as a name, so those introductions take only names typed as names."""
        return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", self.typed) is not None

    def add(self, category: str, attribute: str, value: str) -> None:
        """A fact, its value cleaned; nothing when nothing is left or it is too long to be one."""
        value = clean(value)
        if value and len(value) <= 80 and value.lower() not in FILLER:
            self.found.append(Candidate(category, attribute, value, self.confidence, self.origin))

    def put(self, category: str, attribute: str, value: str, kind: str = "fact", replaces: str = "") -> None:
        """A candidate as given, of any kind (an ending, a plan, a correction), with the message's origin."""
        self.found.append(Candidate(category, attribute, value, self.confidence, self.origin, kind=kind, replaces=replaces))

    def change(self, kind: str, category: str, attribute: str, value: str) -> None:
        """A change of the profile (an ending, a plan, a confirmation): always a pattern's, whatever the origin."""
        value = value.strip(" .,;:!\"'")
        if value and len(value) <= 60:
            self.found.append(Candidate(category, attribute, value, 0.9, "extracted", kind=kind))


@dataclass
class Reading:
    """One sentence of a message as the rules see it."""

    message: Message
    s: str
    opening: bool = True
    greeted: bool = False
    index: int = 0
    matched: set[str] = field(default_factory=set)

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def found(self) -> list[Candidate]:
        return self.message.found

    @property
    def terse(self) -> str:
        """The sentence with its capital dropped unless it opens a capitalised word ("SRE at Zalando")."""
        s = self.s
        return s[:1].lower() + s[1:] if s[1:2].islower() else s

    def add(self, category: str, attribute: str, value: str) -> None:
        self.message.add(category, attribute, value)

    def put(self, category: str, attribute: str, value: str, kind: str = "fact", replaces: str = "") -> None:
        self.message.put(category, attribute, value, kind, replaces)

    def change(self, kind: str, category: str, attribute: str, value: str) -> None:
        self.message.change(kind, category, attribute, value)

    def as_typed(self, name: str) -> bool:
        return self.message.as_typed(name)


@dataclass(frozen=True)
class Rule:
    """A named pattern, what it emits when it matches, and the sentences that show what it reads and what not."""

    name: str
    pattern: re.Pattern[str]
    emit: Emit
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]
    how: How = "search"
    when: Callable[[Reading], bool] | None = None
    unless: str = ""  # skipped when this rule's pattern matched the sentence first (an "else")
    terse: bool = False  # read ``Reading.terse`` rather than the sentence

    def apply(self, r: Reading) -> None:
        if (self.when is not None and not self.when(r)) or (self.unless and self.unless in r.matched):
            return
        subject = r.terse if self.terse else r.s
        if self.how == "finditer":
            for m in self.pattern.finditer(subject):
                r.matched.add(self.name)
                self.emit(m, r)
        elif m := getattr(self.pattern, self.how)(subject):
            r.matched.add(self.name)
            self.emit(m, r)


@dataclass(frozen=True)
class MessageRule:
    """A rule over the whole message rather than one sentence: a signature, a list of goals, a pet named later."""

    name: str
    pattern: re.Pattern[str]
    emit: Callable[[re.Match[str], Message], None]
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]
    usable: bool = False  # read the message's usable sentences joined, not the message itself


class RuleSet:
    """The rules of one topic module, in the order written; ``@rules.search(name, pattern, …)`` adds one."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.message_rules: list[MessageRule] = []

    def _rule(self, how: How, name: str, pattern: str, examples: Sequence[str], counterexamples: Sequence[str], *,
              flags: int = re.I, when: Callable[[Reading], bool] | None = None, unless: str = "",
              terse: bool = False) -> Callable[[Emit], Emit]:
        def register(emit: Emit) -> Emit:
            compiled = re.compile(pattern, flags)
            self.rules.append(Rule(name, compiled, emit, tuple(examples), tuple(counterexamples), how, when, unless, terse))
            return emit
        return register

    search = partialmethod(_rule, "search")
    match = partialmethod(_rule, "match")
    fullmatch = partialmethod(_rule, "fullmatch")
    each = partialmethod(_rule, "finditer")
    """A rule applied to every match in the sentence, not only the first."""

    def message(self, name: str, pattern: str, examples: Sequence[str], counterexamples: Sequence[str], *,
                flags: int = re.I, usable: bool = False) -> Callable[[Callable[[re.Match[str], Message], None]], Callable[[re.Match[str], Message], None]]:
        def register(emit: Callable[[re.Match[str], Message], None]) -> Callable[[re.Match[str], Message], None]:
            self.message_rules.append(MessageRule(name, re.compile(pattern, flags), emit, tuple(examples), tuple(counterexamples), usable))
            return emit
        return register


#: A chat sentence often drops its "I": "Left Monzo last month.", "Turned 38 on Saturday.", "Been married for six
#: years." Such an opening verb gets its subject back before the rules run. Verbs that are also common nouns at
#: the start of a sentence ("Love is…", "Work is…", "Live music…") are not in the list, but "live in" is ("live in
#: Stockholm with my partner", an item of a list about oneself).
_DROPPED_I = re.compile(
    rf"^(?:{OPENERS}[,:!]?\s+)?"
    r"(?:(left|quit|moved|relocated|started|turned|finished|got|joined|adopted|sold|retired|switched|went|took|scrapped"
    r"|dropped|ditched|shelved|abandoned|stopped|live(?= in\b)|signed(?= up\b)|want(?= to\b))|(been)|"
    r"(just|finally|recently)|(working|living|learning|training|moving|starting|trying|reading|eating|leaving|joining"
    r"|studying|obsessed(?= with\b)))\b",
    re.I,
)


def with_subject(sentence: str) -> str:
    """The sentence with the "I" a chat message left out put back (see ``_DROPPED_I``)."""
    m = _DROPPED_I.match(sentence)
    if m is None:
        return sentence
    if m.group(4) and re.match(r"\w+ing\b[^,.;]*?\b(?:is|was|are|were|can|could|makes|made|feels|felt|has been|seems|takes)\b", sentence[m.start(4):], re.I):
        return sentence  # a gerund as the subject: "Learning another language is tough."
    rest = sentence[m.start(1) if m.group(1) else m.start(2) if m.group(2) else m.start(3) if m.group(3) else m.start(4):]
    lead = "I " if m.group(1) or m.group(3) else "I've " if m.group(2) else "I'm "
    return lead + rest[0].lower() + rest[1:]


#: "I've" or "we've" before a verb that is not "been", "got" or "had": the rules read the simple past, so the
#: sentence is read a second time in it ("I've cut out sugar" as "I cut out sugar").
_PERFECT = re.compile(
    r"\b(i|we)(?:'ve| have) (?:(just|finally|recently|also|now|already) )?(?!been\b|got\b|had\b|to\b|no\b|not\b|never\b)"
    r"((?!(?:need|used|finished|achieved|completed|reached)\b)[a-z]+ed|cut|put|set|quit|left|made|found|bought|sold|taken"
    r"|given|gone|begun|seen|written|eaten|driven|become|"
    r"run|won|lost|kept|met|built|split|broken)\b",
    re.I,
)
_PARTICIPLES = {"taken": "took", "given": "gave", "gone": "went", "begun": "began", "seen": "saw", "written": "wrote",
                "eaten": "ate", "driven": "drove", "become": "became", "broken": "broke"}
#: "Lotte and me are not together", "me and Tom broke up": "me" as a subject, read as "I".
_ME_AND = re.compile(r"\b((?-i:[A-Z][\w'-]+)) and me\b(?= (?:are|were|have|had|got|broke|split|went|moved|live|lived|'re|'ve|aren't)\b)|^me and ((?-i:[A-Z][\w'-]+))\b", re.I)


def in_simple_past(sentence: str) -> str:
    """The sentence with its present perfect as the simple past and a subject "me" as "I" (see ``_PERFECT``)."""
    out = _PERFECT.sub(lambda m: f"{m.group(1)} {m.group(2) + ' ' if m.group(2) else ''}{_PARTICIPLES.get(m.group(3).lower(), m.group(3))}", sentence)
    return _ME_AND.sub(lambda m: f"{m.group(1) or m.group(2)} and I", out)


def _greeted(text: str, sentence: str) -> bool:
    """Whether the message opens with a greeting of its own just before this sentence ("Hello! I'm Hana.")."""
    return re.match(rf"\s*{HELLO}[!.,]*\s*$", text[: max(text.find(sentence), 0)], re.I) is not None


def _scan(rules: Iterable[Rule], reading: Reading) -> None:
    for rule in rules:
        rule.apply(reading)


def read_message(text: str, rules: Sequence[Rule], message_rules: Sequence[MessageRule], *,
                 origin: str = "extracted", confidence: float = 0.9) -> list[Candidate]:
    """What the rules find in a message: each usable sentence read whole, in the simple past, and clause by clause;
    then the rules over the whole message."""
    message = Message(text, tidied(restored(text)), origin, confidence)  # "my wife ola" is read as "my wife Ola"
    text, found = message.text, message.found
    introduced = INTRO_LIST.search(text)  # "About me:\n- Hana Sato, 31\n- …": the first item opens like a message
    sentences = usable_sentences(text)
    for index, said in enumerate(sentences):
        greeted = _greeted(text, said)
        whole = with_subject(said)
        opening = index == 0 or (index == 1 and greeted) or (introduced is not None and said == introduced.group(1).strip())
        _scan(rules, Reading(message, whole, opening, greeted, index))
        if (plain := in_simple_past(whole)) != whole:
            _scan(rules, Reading(message, plain, opening, greeted, index))  # "I've cut out sugar" read also as "I cut out sugar"
        base = len(found)
        mine = re.match(rf"(?:{OPENERS}[,:!]?\s+)*(?:i|i'm|i've|i'd|we|we're|we've)\b", whole, re.I)
        for clause in clauses(said):
            part = with_subject(clause)
            if part != clause and not mine:
                continue  # "Giulia graduated and moved to Milan": the clause's missing subject is Giulia, not "I"
            if part != whole:
                _scan(rules, Reading(message, part, False, False, index))
        # A clause adds what the whole sentence missed; it does not overrule it on a one-value slot ("I'm no
        # longer vegetarian, I eat meat again" is "eats meat", not the first clause's "no longer vegetarian").
        filled = {slot for c in found[:base] if c.kind == "fact" and is_single_valued(c.category, c.attribute) for slot in slot_of(c.category, c.attribute)}
        found[base:] = [c for c in found[base:] if c.kind != "fact" or (c.category, c.attribute) not in filled]
    usable = " ".join(sentences)
    for rule in message_rules:
        if m := rule.pattern.search(usable if rule.usable else text):
            rule.emit(m, message)
    # A message that ends something ("we rehomed our rabbit Mochi") does not also state it as current.
    ended = {c.value.lower() for c in found if c.kind == "end"}
    return unique(c for c in found if c.kind != "fact" or c.value.lower() not in ended)


def unique(cands: Iterable[Candidate]) -> list[Candidate]:
    """The candidates without repeats (same kind, slot and value, whatever the case)."""
    seen: set[tuple[str, str, str, str]] = set()
    out = []
    for c in cands:
        key = (c.kind, c.category, c.attribute, c.value.lower())
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
