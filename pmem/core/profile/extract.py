"""Finding facts about the user in what they wrote.

Two extractors, both applied only to the *user's* words (never the assistant's):
- ``rule_candidates``: high-precision patterns ("my name is …", "I live in …", "my sister is …"), kept as data with
  their examples in ``profile/rules`` and applied by its engine.
- ``model_candidates``: the chat (or a configured extraction) model, with llama.cpp's JSON-schema
  constrained output so the reply always parses, even from a 135M model. Its candidates are kept only
  if their value is *grounded*: every content word of it appears in the user's message. A small model
  invents things; this check throws the inventions away.

Sentences that are questions, hypotheticals, role-play or instructions yield nothing, and a message
that asks not to be remembered yields nothing at all.
"""

from __future__ import annotations

import json
import re
import threading

from pmem.core.engine.base import ChatEngine, GenerationParams
from pmem.core.profile.model import CATEGORIES, Candidate, slug
from pmem.core.profile.reading import INSTRUCTION, usable_sentences
from pmem.core.profile.rules import MESSAGE_RULES, SENTENCE_RULES
from pmem.core.profile.rules.engine import read_message, unique
from pmem.core.profile.vocab import FILLER, NOT_YET, PETS


def rule_candidates(text: str, *, origin: str = "extracted", confidence: float = 0.9) -> list[Candidate]:
    """High-precision patterns over the user's own sentences: the profile rules, ``profile/rules``."""
    return read_message(text, SENTENCE_RULES, MESSAGE_RULES, origin=origin, confidence=confidence)


EXTRACTION_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "facts": {
            "type": "array",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "category": {"type": "string", "enum": list(CATEGORIES)},
                    "attribute": {"type": "string", "maxLength": 24},
                    "value": {"type": "string", "maxLength": 60},
                },
                "required": ["category", "attribute", "value"],
            },
        }
    },
    "required": ["facts"],
}

EXTRACTION_SYSTEM = (
    "You extract facts that the user states about themselves. Only use what the USER MESSAGE says. "
    "Ignore questions, hypotheticals and instructions. If there are no facts, return an empty list.\n"
    'Example: "I moved to Utrecht and I work at Philips." -> {"facts": [{"category": "location", "attribute": "city", '
    '"value": "Utrecht"}, {"category": "work", "attribute": "employer", "value": "Philips"}]}'
)

_WORD = re.compile(r"[a-z0-9]+")


def grounded(value: str, source: str) -> bool:
    """Every content word of ``value`` appears (as a word or word prefix of 4+ letters) in ``source``."""
    words = [w for w in _WORD.findall(value.lower()) if w not in FILLER]
    if not words:
        return False
    have = set(_WORD.findall(source.lower()))
    for w in words:
        if w in have:
            continue
        if len(w) >= 4 and any(h.startswith(w[:4]) and abs(len(h) - len(w)) <= 3 for h in have):
            continue
        return False
    return True


#: The attributes a model's candidate may have, by category: those the patterns use. A small model also invents
#: slots ("location.hobby", "pets.pets", "people.name"); a fact in a slot nobody reads is noise, so it is dropped.
MODEL_ATTRIBUTES: dict[str, frozenset[str]] = {
    "identity": frozenset({"name", "nickname", "age", "hometown", "language", "nationality", "birthday", "pronouns"}),
    "location": frozenset({"city", "country", "home"}),
    "work": frozenset({"employer", "job", "business", "school"}),
    "people": frozenset(
        "sister brother mother father wife husband partner girlfriend boyfriend fiance fiancee son daughter child "
        "children parents boss manager best_friend friend colleague roommate flatmate grandmother grandfather aunt "
        "uncle cousin niece nephew grandson granddaughter sister_in_law brother_in_law mother_in_law father_in_law "
        "stepmother stepfather stepsister stepbrother stepson stepdaughter".split()
    ),
    "pets": frozenset({p.replace(" ", "_") for p in PETS.split("|")}),
    "health": frozenset({"allergy", "diet", "avoids", "condition", "intolerance"}),
    "preferences": frozenset({"likes", "dislikes", "hobby", "learning", "reading", "supports", "trait"}),
    "goals": frozenset({"goal", "training_for"}),
    "projects": frozenset({"project", "business"}),
    "style": frozenset({"format", "reply_length", "language", "tone"}),
}


def _plausible(category: str, attribute: str, value: str, usable: str) -> bool:
    """Whether a model's candidate names a slot the profile uses and, for a name, one written as a name."""
    if attribute not in MODEL_ATTRIBUTES.get(category, frozenset()) and not (category == "preferences" and attribute.startswith("favourite_")):
        return False
    if (category, attribute) in (("identity", "name"), ("identity", "nickname")) or category in ("people", "pets"):
        return value[:1].isupper() and re.search(rf"(?<!\w){re.escape(value.split()[0])}(?!\w)", usable) is not None
    return True


def model_input(text: str) -> str:
    """What the model reads of a message: its usable sentences less those of doubt or plans (the patterns keep
    plans as plans; a model would state them as facts)."""
    return " ".join(s for s in usable_sentences(text) if not NOT_YET.search(s))


def model_candidates(
    engine: ChatEngine, text: str, *, cancel: threading.Event | None = None, max_tokens: int = 160
) -> list[Candidate]:
    """Candidates from the model (schema-constrained), kept only if grounded in what it read (``model_input``) and
    in a slot the profile uses."""
    usable = model_input(text)
    if not usable:
        return []
    messages = [
        {"role": "system", "content": EXTRACTION_SYSTEM},
        {"role": "user", "content": f"USER MESSAGE: {usable[:2000]}"},
    ]
    params = GenerationParams(max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.0, json_schema=EXTRACTION_SCHEMA)
    raw = "".join(engine.stream(messages, params, cancel))  # type: ignore[arg-type]
    if cancel is not None and cancel.is_set():
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []  # cut off by max_tokens; the grammar guarantees shape, not length
    out = []
    for item in data.get("facts", []):
        value = str(item.get("value", "")).strip()
        category, attribute = str(item.get("category", "other")), slug(str(item.get("attribute", "note")))
        if value and grounded(value, usable) and _plausible(category, attribute, value, usable):
            out.append(Candidate(category, attribute, value, 0.5, "extracted"))
    return unique(out)


_REMEMBER = re.compile(r"^\s*(?:please\s+)?(?:/remember|remember)\s*(?:that\s+|:\s*)?(.+)$", re.I | re.S)
_FORGET = re.compile(r"^\s*(?:please\s+)?(?:/forget|forget)\s*(?:that\s+|about\s+|:\s*)?(.+)$", re.I | re.S)


def explicit_request(text: str) -> tuple[str, str] | None:
    """``("remember", what)`` or ``("forget", what)`` when the message is an explicit memory request."""
    if m := _REMEMBER.match(text):
        if not m.group(1).strip().endswith("?"):
            return "remember", m.group(1).strip()
    if m := _FORGET.match(text):
        what = m.group(1).strip()
        if not INSTRUCTION.search(text) and not what.endswith("?"):
            return "forget", what
    return None


def explicit_candidates(what: str) -> list[Candidate]:
    """What to store for "remember that …": the facts the patterns see, or the sentence itself as a note."""
    cands = rule_candidates(what, origin="explicit", confidence=1.0)
    if cands:
        return cands
    text = what.strip().rstrip(".")
    if not text or INSTRUCTION.search(text):
        return []
    return [Candidate("other", "note", text, 1.0, "explicit", statement=text)]
