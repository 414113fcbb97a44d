"""What a fact is, which attributes hold one value at a time, and how facts read as sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CATEGORIES: tuple[str, ...] = (
    "identity", "location", "work", "people", "pets", "health", "preferences", "goals", "projects", "style", "other",
)

#: Attributes that hold one value at a time: a new value supersedes the old one (moved city, new job).
#: Anything not listed is multi-valued (you can like jazz and like tea; have two cats).
SINGLE_VALUED: set[tuple[str, str]] = {
    ("identity", "name"), ("identity", "age"), ("identity", "birthday"), ("identity", "pronouns"),
    ("identity", "nationality"), ("identity", "hometown"),
    ("location", "city"), ("location", "country"), ("location", "home"),
    ("work", "employer"), ("work", "job"), ("work", "manager"), ("work", "school"),
    ("people", "partner"), ("people", "wife"), ("people", "husband"), ("people", "manager"), ("people", "boss"),
    ("health", "diet"),
    ("style", "reply_length"), ("style", "tone"), ("style", "language"),
    ("people", "girlfriend"), ("people", "boyfriend"), ("people", "fiance"), ("people", "fiancee"),
    ("goals", "training_for"),
}

#: Attributes that name one slot between them: a girlfriend introduced after a husband replaces him, "my boss is
#: Ana" replaces "my manager is Karen".
SLOT_GROUPS: tuple[frozenset[tuple[str, str]], ...] = (
    frozenset({("people", a) for a in ("partner", "wife", "husband", "girlfriend", "boyfriend", "fiance", "fiancee")}),
    frozenset({("people", "manager"), ("people", "boss"), ("work", "manager")}),
)


def slot_of(category: str, attribute: str) -> frozenset[tuple[str, str]]:
    """Every (category, attribute) that shares this one's slot (itself included)."""
    return next((g for g in SLOT_GROUPS if (category, attribute) in g), frozenset({(category, attribute)}))

#: Preference polarity pairs: "dislikes X" supersedes "likes X" and vice versa.
OPPOSITES = {"likes": "dislikes", "dislikes": "likes"}

TEMPLATES: dict[tuple[str, str], str] = {
    ("identity", "name"): "is called {value}",
    ("identity", "age"): "is {value} years old",
    ("identity", "birthday"): "was born on {value}",
    ("identity", "nationality"): "is {value}",
    ("identity", "hometown"): "is from {value}",
    ("location", "city"): "lives in {value}",
    ("location", "country"): "lives in {value}",
    ("work", "employer"): "works at {value}",
    ("work", "job"): "works as {value}",
    ("work", "manager"): "has {value} as manager",
    ("work", "school"): "studies at {value}",
    ("health", "diet"): "is {value}",
    ("health", "allergy"): "is allergic to {value}",
    ("preferences", "likes"): "likes {value}",
    ("preferences", "dislikes"): "dislikes {value}",
    ("preferences", "reading"): "is reading {value}",
    ("goals", "goal"): "wants to {value}",
    ("goals", "training_for"): "is training for {value}",
    ("projects", "project"): "is working on {value}",
    ("style", "reply_length"): "prefers {value} replies",
    ("style", "language"): "wants replies in {value}",
    ("style", "wording"): "wants {value}",
    ("style", "tone"): "wants a {value} tone",
    ("work", "field"): "works in {value}",
    ("work", "subject"): "studies {value}",
    ("identity", "language"): "speaks {value}",
    ("preferences", "supports"): "supports {value}",
    ("preferences", "trait"): "is {value}",
}


def slug(text: str) -> str:
    """A normalised attribute name: lower case, words joined by underscores."""
    return "_".join(re.findall(r"[a-z0-9]+", text.lower()))[:40] or "note"


def statement_for(category: str, attribute: str, value: str) -> str:
    template = TEMPLATES.get((category, attribute))
    if (category, attribute) == ("style", "reply_length") and value.startswith("under "):
        return f"prefers replies {value}"  # "under 100 words"
    if template:
        return template.format(value=value)
    if attribute.startswith("favourite_"):
        return f"favourite {attribute.removeprefix('favourite_').replace('_', ' ')} is {value}"
    if category == "people":
        return f"{attribute.replace('_', ' ')}: {value}"
    if category == "pets":
        return f"has a {attribute.replace('_', ' ')} called {value}" if attribute not in ("pet", "note") else f"has {value}"
    if attribute == "note":
        return value
    return f"{attribute.replace('_', ' ')}: {value}"


#: Third-person verbs that open a statement, and their second-person form ("lives in X" -> "You live in X").
_SECOND_PERSON = {
    "is": "are", "was": "were", "has": "have", "lives": "live", "works": "work", "studies": "study", "likes": "like",
    "dislikes": "dislike", "loves": "love", "hates": "hate", "wants": "want", "prefers": "prefer", "enjoys": "enjoy",
    "plays": "play", "speaks": "speak", "owns": "own", "eats": "eat", "drinks": "drink", "uses": "use",
    "runs": "run", "reads": "read", "does": "do", "goes": "go", "visits": "visit", "moved": "moved",
    "supports": "support",
}


def second_person(statement: str, category: str = "", attribute: str = "") -> str:
    """A fact as said to the user: "lives in Utrecht" -> "You live in Utrecht"; "sister: Elena" -> "Your sister is
    Elena". Statements that are not a bare predicate (a note in the user's own words) are left as they are."""
    text = statement.strip()
    if not text:
        return text
    first, _, rest = text.partition(" ")
    if first.lower() in _SECOND_PERSON:
        return f"You {_SECOND_PERSON[first.lower()]} {rest}".strip()
    if first.lower() in ("favourite", "favorite"):
        return f"Your {text}"
    if category == "people" and ":" in text:
        who, _, name = text.partition(":")
        verb = name.strip().partition(" ")[0]
        if verb in ("lives", "works", "studies"):  # "mother: lives in Leicester" -> "Your mother lives in Leicester"
            return f"Your {who.strip()} {name.strip()}"
        return f"Your {who.strip()} is {name.strip()}"
    if ":" in text and category not in ("other",) and attribute != "note":
        what, _, value = text.partition(":")
        return f"Your {what.strip()}: {value.strip()}"
    return text


def is_single_valued(category: str, attribute: str) -> bool:
    return (category, attribute) in SINGLE_VALUED or attribute.startswith("favourite_")


#: What a candidate says about its slot. ``fact``: it holds now. ``end``: it no longer holds ("I left Asda", "Bento
#: passed away"; value ``*``: whatever the slot holds). ``plan``: it will hold ("we're moving to Leeds next month"),
#: kept as a plan until confirmed. ``confirm``: a plan of this category came true ("we've moved", "the new job is
#: great"). ``done``: a goal or plan whose words the value shares was reached or dropped. ``correct``: the user
#: corrects a value they gave ("Bristol not Brighton, autocorrect hates me"): the fact holding ``replaces`` now holds
#: ``value``, in its own slot.
KINDS = ("fact", "end", "plan", "confirm", "done", "correct")

#: How a plan reads in the profile, by the slot it will change.
PLAN_TEMPLATES: dict[tuple[str, str], str] = {
    ("location", "city"): "is about to move to {value}",
    ("work", "employer"): "is about to start at {value}",
    ("work", "job"): "is about to start as {value}",
}


def plan_attribute(category: str, attribute: str) -> str:
    """A plan is kept under goals, named after the slot it will change: ``plan_location_city``."""
    return f"plan_{category}_{attribute}"


@dataclass(frozen=True)
class Candidate:
    """A fact proposed by an extractor, before consolidation."""

    category: str
    attribute: str
    value: str
    confidence: float = 0.5
    origin: str = "extracted"
    statement: str = ""
    kind: str = "fact"
    #: For a correction: the value it replaces.
    replaces: str = ""

    def normalised(self) -> Candidate:
        category = self.category if self.category in CATEGORIES else "other"
        attribute = slug(self.attribute)
        value = " ".join(self.value.split()).strip(" .,;:!\"'")
        statement = self.statement.strip() or statement_for(category, attribute, value)
        kind = self.kind if self.kind in KINDS else "fact"
        return Candidate(category, attribute, value, self.confidence, self.origin, statement, kind, self.replaces.strip(" .,;:!\"'"))


@dataclass(frozen=True)
class Fact:
    id: str
    category: str
    attribute: str
    value: str
    statement: str
    confidence: float
    origin: str
    learned_at: str
    valid_from: str
    valid_to: str | None
    superseded_by: str | None
    sources: tuple[str, ...] = field(default=())
    """Turn ids (t-…) the fact came from."""
    ended_by: tuple[str, ...] = field(default=())
    """Turn ids (t-…) that ended the fact ("we broke up"), when it ended without a successor."""

    @property
    def current(self) -> bool:
        return self.valid_to is None

    @property
    def key(self) -> str:
        return f"{self.category}.{self.attribute}"
