"""Rules over a whole message rather than one sentence: a list of goals, a letter's signature, children named with
their ages, a pet named in the sentence after its adoption."""

from __future__ import annotations

import re

from pmem.core.profile.reading import SIGNED, listed_goals
from pmem.core.profile.rules.engine import Message, RuleSet
from pmem.core.profile.vocab import (
    BREEDS,
    NAME,
    PETS,
    RELATIONS,
    SMALL_NUMBERS,
    is_when,
    may_be_name,
)

rules = RuleSet()


@rules.message(
    "goals.goal/listed",
    r"(?:goals?|resolutions?|targets?|aims?)\b[^\n]*:",
    examples=["Goals for spring: 1) run a 5k 2) pass N3"],
    counterexamples=["Goals: 1) what now? 2) why?"],
)
def _listed_goals(m: re.Match[str], message: Message) -> None:
    for goal in listed_goals(message.text):
        message.add("goals", "goal", goal)


@rules.message(
    "identity.name/signed",
    SIGNED.pattern,
    examples=["Dear assistant, could you help me with a letter?\nKind regards,\nIngrid"],
    counterexamples=["Thanks for the help.\nCheers,\nMum"],
)
def _signed(m: re.Match[str], message: Message) -> None:
    # A letter signed with a name: "Dear assistant, … Kind regards,\nIngrid"
    if may_be_name(m.group(1)) and message.as_typed(m.group(1)) and not re.fullmatch(RELATIONS, m.group(1), re.I) and m.group(1) not in ("Me", "Us", "All"):
        message.add("identity", "name", m.group(1))


_CHILD_AGED = re.compile(
    rf"(?:^|[.,;:!]\s+|\band (?:baby )?|\bbaby ){NAME} is (?:only |just |nearly |almost )?(?:\d{{1,2}}|{SMALL_NUMBERS})"
    r"(?: (?:years? old|months?(?: old)?|weeks? old|and a half))?(?=[.,!;]|$| and\b)"
)


@rules.message(
    "people.child/aged",
    r"\b(?:kids|children|boys|girls|sons|daughters|twins|little ones)\b",
    examples=["Three kids under seven. Cian is six, Niamh is four and baby Rory is ten months."],
    counterexamples=["Three kids under seven and the house is chaos."],
    usable=True,
)
def _children_aged(m: re.Match[str], message: Message) -> None:
    # "Three kids under seven. Cian is six, Niamh is four and baby Rory is ten months."
    for n in _CHILD_AGED.finditer(m.string):
        if may_be_name(n.group(1)) and " " not in n.group(1) and message.as_typed(n.group(1)) and not is_when(n.group(1)):
            message.add("people", "child", n.group(1))


@rules.message(
    "pets.x/named-after-adoption",
    r"\b(?:i|we)(?:'ve| have)? (?:just |finally |also |recently )?(?:adopted|got|rescued|bought) (?:a"
    rf"|an) (?:\w+ ){{0,2}}?({PETS}|{'|'.join(BREEDS)})\b",
    examples=["I adopted a cat today! I named her Mochi."],
    counterexamples=["I adopted a cat today! She is lovely."],
    usable=True,
)
def _named_after_adoption(m: re.Match[str], message: Message) -> None:
    # A pet named in the sentence after its adoption: "I adopted a cat today! I named her Mochi."
    after = m.string[m.end():]
    if n := (re.match(rf"(?:[^.!?]*[.!?]+\s+)?[^.!?]*?\b(?:called|named) (?:(?:him|her|it|them) )?{NAME}", after)
             or re.search(rf"\b(?:i|we) (?:named|called) (?:him|her|it|them) {NAME}|\b(?:his|her|its) name(?: is|'s) {NAME}", message.text, re.I)):
        name = next(g for g in n.groups() if g)
        if name[0].isupper():
            kind = m.group(1).lower()
            message.add("pets", BREEDS.get(kind, kind).replace(" ", "_"), name)


MESSAGE_RULES = tuple(rules.message_rules)
