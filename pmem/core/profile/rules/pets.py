"""The user's animals, named by kind or by breed, alone or in a list."""

from __future__ import annotations

import re

from pmem.core.profile.rules.engine import Reading, RuleSet
from pmem.core.profile.vocab import BREEDS, NAME, NOT_NAMES, PETS, listed_names

rules = RuleSet()


@rules.each(
    "pets.name/is-called",
    rf"\bmy ({PETS})(?:'s name)? is (?:called |named )?{NAME}",
    examples=["My dog is called Biscuit."],
    counterexamples=["Her dog is called Biscuit."],
)
def _pets_name_is_called(m: re.Match[str], r: Reading) -> None:
    if m.group(2)[0].isupper():
        r.add("pets", m.group(1).lower().replace(" ", "_"), m.group(2))


@rules.each(
    "pets.name/have-called",
    rf"\bi(?: have|'ve got| have got) an? ({PETS}) (?:called|named) {NAME}",
    examples=["I have a dog called Pixel."],
    counterexamples=["She has a dog called Pixel."],
)
def _pets_name_have_called(m: re.Match[str], r: Reading) -> None:
    if m.group(2)[0].isupper():
        r.add("pets", m.group(1).lower().replace(" ", "_"), m.group(2))


@rules.each(
    "pets.name/among-others",
    rf"\b(?:a|an|our|my|two|second) (?:[\w-]+ ){{0,3}}?({PETS})(?: (?:called|named)|,) {NAME}",
    examples=["I have a dog called Pixel."],
    counterexamples=["She has a dog called Pixel."],
    when=lambda r: re.search(r"\b(?:i|we)(?:'ve| have)? (?:also |just |finally |recently )?(?:have|has|got|adopted|rescued|own|bought|brought home)\b"
                     r"|\b(?:i|we) (?:now |still )?(?:live|am living|'m living|share (?:a|my|the|our) (?:flat|house|home|place))\b[^.!?]*\bwith\b", r.s, re.I),
)
def _pets_name_among_others(m: re.Match[str], r: Reading) -> None:
    if m.group(2)[0].isupper() and m.group(2) not in NOT_NAMES:
        r.add("pets", m.group(1).lower().replace(" ", "_"), m.group(2))


@rules.each(
    "pets.name/my-named",
    rf"\b(?:my|our) (?:[\w-]+ )?({PETS}),? (?:(?:a|an) [\w-]+ (?:called|named) )?{NAME}(?=[.,!;:]|$| [a-z])|\b{NAME}, (?:my|our) ({PETS})\b",
    examples=["My cat Pepper knocked…", "Oscar, my guinea pig."],
    counterexamples=["Her cat Pepper knocked…"],
)
def _pets_name_my_named(m: re.Match[str], r: Reading) -> None:
    # "My cat Pepper knocked…", "Oscar, my guinea pig."
    kind, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    if name[0].isupper() and name not in NOT_NAMES:
        r.add("pets", kind.lower().replace(" ", "_"), name)


@rules.search(
    "pets.name/listed",
    r"\b(?:i|we) (?:have|'ve got|have got|got|adopted|rescued|own) (?:two|three|four|five"
    rf"|\d) (?:\w+ )?({PETS})s?,? (?:called |named )?((?-i:[A-Z][\w'-]+)(?:(?:,| and)+ (?-i:[A-Z][\w'-]+))+)",
    examples=["I have two rabbits, Kuro and Shiro."],
    counterexamples=["She has two rabbits, Kuro and Shiro."],
)
def _pets_name_listed(m: re.Match[str], r: Reading) -> None:
    for name in listed_names(m.group(2)):
        r.add("pets", m.group(1).lower().replace(" ", "_"), name)


@rules.search(
    "pets.name/breed",
    rf"\b(?:i|we)(?:'ve| have)? (?:also |just |now )?(?:have|got|adopted|rescued|own) (?:a|an) (?:\w+ )?({'|'.join(BREEDS)}) (?:called|named) {NAME}",
    examples=["I've got a corgi named Waffles"],
    counterexamples=["She's got a corgi named Waffles"],
)
def _pets_name_breed(m: re.Match[str], r: Reading) -> None:
    # "I've got a corgi named Waffles" (unless the animal itself was named too: "a puppy, a beagle called …").
    if m.group(2)[0].isupper() and not any(c.category == "pets" and c.value == m.group(2) for c in r.found):
        r.add("pets", BREEDS[m.group(1).lower()], m.group(2))

RULES = rules.rules
