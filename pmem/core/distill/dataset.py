"""Training examples for the adapter: questions about the user, answered from the profile and memories.

Each fact becomes several short chats (a question in a few paraphrases, the answer in the second person);
each recent memory becomes "what did I tell you about <topic>?". Every example carries the ids of the facts
and turns it came from, so forgetting can tell exactly which adapters learned what. (A fact's own source
turns need no entry: forgetting the turns a fact came from deletes the fact, which is recorded.)

The paraphrases here are the *training* ones. :data:`HELD_OUT` holds different phrasings of the same
questions, which the benchmark asks and training never sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pmem.core.memory.episodes import Episode
from pmem.core.profile.model import Fact

#: (category, attribute) -> training questions; ``{x}`` is the attribute in words.
QUESTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("identity", "name"): ("What is my name?", "What's my name?", "Do you know who I am?", "What am I called?"),
    ("identity", "age"): ("How old am I?", "What is my age?", "Do you know my age?"),
    ("identity", "birthday"): ("When is my birthday?", "When was I born?"),
    ("identity", "hometown"): ("Where am I from?", "What is my hometown?"),
    ("identity", "nationality"): ("What is my nationality?", "Which country am I a citizen of?"),
    ("location", "city"): ("Where do I live?", "Which city do I live in?", "What city am I based in?"),
    ("location", "country"): ("Which country do I live in?", "What country am I in?"),
    ("work", "employer"): ("Where do I work?", "Which company do I work for?", "Who is my employer?"),
    ("work", "job"): ("What do I do for a living?", "What is my job?", "What's my profession?"),
    ("work", "school"): ("Where do I study?", "Which school do I go to?"),
    ("health", "diet"): ("What is my diet?", "Do I follow a particular diet?"),
    ("health", "allergy"): ("Am I allergic to anything?", "What am I allergic to?"),
    ("preferences", "likes"): ("What is something I like?", "Name one thing I enjoy."),
    ("preferences", "dislikes"): ("What is something I dislike?", "Name one thing I don't like."),
    ("goals", "goal"): ("What is one of my goals?", "What do I want to do?"),
    ("goals", "training_for"): ("What am I training for?", "What event am I preparing for?"),
    ("projects", "project"): ("What am I working on?", "What project am I building?", "Which project keeps me busy these days?"),
    ("style", "reply_length"): ("How long should your replies to me be?", "What length of answer do I prefer?"),
}
GENERIC: tuple[str, ...] = ("What is my {x}?", "What do you know about my {x}?", "Tell me my {x}.")
PEOPLE: tuple[str, ...] = ("Who is my {x}?", "What is my {x}'s name?", "Tell me who my {x} is.")
PETS: tuple[str, ...] = ("What is my {x} called?", "What's the name of my {x}?", "Do I have a {x}?")
FAVOURITE: tuple[str, ...] = ("What is my favourite {x}?", "Which {x} do I like best?")

#: Phrasings the benchmark asks and training never uses.
HELD_OUT: dict[tuple[str, str], str] = {
    ("identity", "name"): "Remind me, what name do I go by?",
    ("identity", "age"): "Remind me how many years old I am.",
    ("location", "city"): "Remind me, in which town is my home?",
    ("location", "country"): "Remind me which country is home for me.",
    ("work", "employer"): "Remind me which company employs me.",
    ("work", "job"): "Remind me, what kind of work do I do?",
    ("health", "allergy"): "Remind me which allergy I have.",
    ("goals", "training_for"): "Remind me which race I'm getting ready for.",
    ("projects", "project"): "Remind me what I'm building at the moment.",
}
HELD_OUT_PEOPLE = "Remind me what my {x} is called."
HELD_OUT_PETS = "Remind me of my {x}'s name."
HELD_OUT_FAVOURITE = "Remind me, which {x} is my favourite?"
HELD_OUT_GENERIC = "Remind me about my {x}."

_VERBS = {
    "is": "are", "was": "were", "has": "have", "likes": "like", "dislikes": "dislike", "lives": "live",
    "works": "work", "wants": "want", "studies": "study", "prefers": "prefer", "loves": "love", "hates": "hate",
    "owns": "own", "plays": "play", "speaks": "speak", "enjoys": "enjoy", "uses": "use",
}
_STOP = set(
    "a an and are as at be been but by can could did do does for from had has have how i i'm if in into is it its "
    "just me my of on or our so that the their them then there these they this to too us was we were what when "
    "where which who why will with would you your yes no not about really very also been get got like".split()
)


@dataclass(frozen=True)
class Example:
    """One training chat: the question, the answer to learn, and where they came from."""

    question: str
    answer: str
    fact_ids: tuple[str, ...] = ()
    turn_ids: tuple[int, ...] = ()
    kind: str = "fact"


@dataclass
class Dataset:
    examples: list[Example] = field(default_factory=list)
    facts: int = 0
    episodes: int = 0

    @property
    def fact_ids(self) -> set[str]:
        return {f for e in self.examples for f in e.fact_ids}

    @property
    def turn_ids(self) -> set[int]:
        return {t for e in self.examples for t in e.turn_ids}


def answer_for(fact: Fact) -> str:
    """The fact said back to the user: "is called Ada" -> "You are called Ada."."""
    statement = fact.statement.strip().rstrip(".")
    if fact.category == "people" and ":" in statement:
        return f"Your {_words(fact.attribute)} is {fact.value}."
    first, _, rest = statement.partition(" ")
    if first in _VERBS:
        return f"You {_VERBS[first]} {rest}."
    if first == "favourite" or ":" in statement:
        return f"Your {statement.replace(':', ' is', 1)}."
    return f"You {statement}." if statement else f"Your {_words(fact.attribute)} is {fact.value}."


def questions_for(fact: Fact) -> tuple[str, ...]:
    key = (fact.category, fact.attribute)
    x = _words(fact.attribute)
    if key in QUESTIONS:
        asked = QUESTIONS[key]
    elif fact.attribute.startswith("favourite_"):
        asked = tuple(q.format(x=_words(fact.attribute.removeprefix("favourite_"))) for q in FAVOURITE)
    elif fact.category == "people":
        asked = tuple(q.format(x=x) for q in PEOPLE)
    elif fact.category == "pets" and fact.attribute not in ("pet", "note"):
        asked = tuple(q.format(x=x) for q in PETS)
    elif fact.attribute == "note":
        asked = ("What is something you know about me?", "Tell me one thing you remember about me.")
    else:
        asked = tuple(q.format(x=x) for q in GENERIC)
    if fact.category == "preferences" and fact.attribute in ("likes", "dislikes"):
        asked = (*asked, f"Do I like {fact.value}?")
    return asked


def held_out_question(fact: Fact) -> str:
    """A phrasing of the question about ``fact`` that training never uses (for the benchmark)."""
    key = (fact.category, fact.attribute)
    if key in HELD_OUT:
        return HELD_OUT[key]
    x = _words(fact.attribute)
    if fact.attribute.startswith("favourite_"):
        return HELD_OUT_FAVOURITE.format(x=_words(fact.attribute.removeprefix("favourite_")))
    if fact.category == "people":
        return HELD_OUT_PEOPLE.format(x=x)
    if fact.category == "pets" and fact.attribute not in ("pet", "note"):
        return HELD_OUT_PETS.format(x=x)
    return HELD_OUT_GENERIC.format(x=x)


def build_dataset(facts: Sequence[Fact], episodes: Iterable[Episode], *, max_examples: int = 400) -> Dataset:
    """Examples from the current facts (all their paraphrases), then from the newest memories while room remains."""
    data = Dataset()
    current = [f for f in facts if f.current]
    for fact in current:
        answer = answer_for(fact)
        for question in questions_for(fact):
            reply = answer
            if question.startswith("Do I like "):
                reply = f"{'Yes' if fact.attribute == 'likes' else 'No'}, {answer[0].lower()}{answer[1:]}"
            data.examples.append(Example(question, reply, (fact.id,), (), "fact"))
    data.facts = len(current)
    if len(current) > 1:
        summary = _summary(current)
        data.examples.append(
            Example("What do you know about me?", summary, tuple(f.id for f in current[:8]), (), "fact")
        )
    room = max_examples - len(data.examples)
    if room <= 0:
        data.examples = data.examples[:max_examples]
        return data
    for episode in sorted(episodes, key=lambda e: e.created_at, reverse=True):
        if room <= 0:
            break
        example = _episode_example(episode)
        if example is not None:
            data.examples.append(example)
            data.episodes += 1
            room -= 1
    return data


def _episode_example(episode: Episode) -> Example | None:
    said = " ".join(t.content for t in episode.turns if t.role == "user").strip()
    topic = topic_of(said)
    if not topic or len(said) < 12:
        return None
    said = said if len(said) <= 240 else said[:239].rstrip() + "…"
    return Example(f"What did I tell you about {topic}?", f"You told me: \"{said}\"", (), tuple(t.id for t in episode.turns), "memory")


def topic_of(text: str, words: int = 3) -> str:
    """A few content words of a message, in order: what a user would ask about it by."""
    seen: list[str] = []
    for word in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", text):
        low = word.lower()
        if low in _STOP or low in (w.lower() for w in seen):
            continue
        seen.append(word)
    ranked = sorted(seen, key=lambda w: (-(w[0].isupper()), -len(w)))[:words]
    return " ".join(w for w in seen if w in ranked)


def _summary(facts: Sequence[Fact]) -> str:
    parts = [answer_for(f).rstrip(".") for f in facts[:8]]
    return ". ".join(parts) + "."


def _words(attribute: str) -> str:
    return attribute.replace("_", " ")
