"""The people in the user's life: relatives, partner, children, manager, and where they live."""

from __future__ import annotations

import re

from pmem.core.profile.casing import is_common
from pmem.core.profile.rules.engine import Reading, RuleSet
from pmem.core.profile.vocab import (
    JOB_WORDS,
    NAME,
    NOT_NAMES,
    PLACE,
    RELATIONS,
    is_when,
    listed_names,
    may_be_name,
    relation,
    with_article,
)

rules = RuleSet()


@rules.search(
    "people.manager/report-to",
    rf"\bi (?:now |directly |currently )*report (?:directly )?to {NAME}",
    examples=["I now report to Maria."],
    counterexamples=["She now reports to Maria."],
)
def _people_manager_report_to(m: re.Match[str], r: Reading) -> None:
    if may_be_name(m.group(1)):
        r.add("people", "manager", m.group(1))


@rules.search(
    "people.relation/no-longer",
    rf"\bmy ({RELATIONS}) is no longer {NAME}(?:[,;]? (?:it'?s|now it'?s|they'?re|but) {NAME})?",
    examples=["My boss is no longer Karen, it's Paolo now."],
    counterexamples=["Her boss is no longer Karen, it's Paolo now."],
)
def _people_relation_no_longer(m: re.Match[str], r: Reading) -> None:
    # "My boss is no longer Karen, it's Paolo now."
    r.put("people", relation(m.group(1)), m.group(2), kind="end")
    if m.group(3) and m.group(3)[0].isupper():
        r.add("people", relation(m.group(1)), m.group(3))


@rules.each(
    "people.relation/is-called",
    rf"\b(?:my|our) (?:new |old |little |older |younger |big )?({RELATIONS})(?:'s name)? is (?:now |still )?(?:called |named )?{NAME}",
    examples=["My boss is Helena."],
    counterexamples=["Her boss is Helena."],
)
def _people_relation_is_called(m: re.Match[str], r: Reading) -> None:
    if m.group(2)[0].isupper():
        r.add("people", relation(m.group(1)), m.group(2))


@rules.each(
    "people.relation/my-named",
    rf"\b(?:my|our) (?:little |older |younger |big |new )?({RELATIONS}),? {NAME}(?:'s)?(?: is (?:a"
    rf"|an) ((?:[a-z-]+ ){{0,2}}[a-z-]+?))?(?=[.,!;:]|$| [a-z])",
    examples=["my sister Clara is a firefighter"],
    counterexamples=["her sister Clara is a firefighter"],
)
def _people_relation_my_named(m: re.Match[str], r: Reading) -> None:
    # "my sister Clara is a firefighter": the person, and their job when one is given.
    if m.group(2)[0].isupper() and m.group(2).split()[0] not in NOT_NAMES:
        job = m.group(3)
        value = f"{m.group(2)}, {with_article(job.lower())}" if job and JOB_WORDS.search(job.lower()) else m.group(2)
        r.add("people", relation(m.group(1)), value)


@rules.search(
    "people.partner/married-dating",
    (
        rf"\b{NAME} and i (?:just )?got (engaged|married)\b|\bi (?:just )?got (engaged|married) to {NAME}|\bi married {NAME}"
        rf"|\bi(?:'ve| have)? been (?:happily )?married to {NAME}|\bi(?:'m| am) (?:happily )?married to {NAME}"
        rf"|\bi(?:'m| am) (?:now )?(?:seeing|dating) (?:someone(?: new)?|a (?:guy|girl|man|woman))\b[^.]*?\b(?:his|her|their) name is {NAME}"
        rf"|\bi(?:'m| am) (?:now )?(?:seeing|dating) {NAME}"
    ),
    examples=["I'm seeing someone new, his name is Anders."],
    counterexamples=["She's seeing someone new, his name is Anders."],
)
def _people_partner_married_dating(m: re.Match[str], r: Reading) -> None:
    name = next((g for g in (m.group(1), *m.groups()[3:]) if g and g[0].isupper()), None)
    if name and name not in NOT_NAMES:
        r.add("people", "partner", name)


@rules.each(
    "people.child/named",
    r"\b(?:i|we)(?: have|'ve got| have got| had) (?:a|an|one) (?:little |baby |young |teenage )?(son|daughter|boy"
    rf"|girl)(?:,? (?:called|named)|,)? {NAME}",
    examples=["we've got one little girl Meera she's five"],
    counterexamples=["we have a girl Friday at work"],
)
def _people_child_named(m: re.Match[str], r: Reading) -> None:
    if m.group(2)[0].isupper() and not is_when(m.group(2).split()[0]):  # not "a girl Friday"
        r.add("people", {"boy": "son", "girl": "daughter"}.get(m.group(1).lower(), m.group(1).lower()), m.group(2))


@rules.search(
    "people.children/number",
    r"(?:\b(?:i have|we have|i've got|we've got|our|with my wife and|with my husband and|with my partner and)"
    r"|(?<!has),) (two|three|four|five|\d) (?:grown-up |grown |young |little |teenage |adult )?(kids|children|boys|girls"
    r"|sons|daughters)\b",
    examples=["Wife Iryna, two sons."],
    counterexamples=["My neighbour has two sons."],
)
def _people_children_number(m: re.Match[str], r: Reading) -> None:
    r.add("people", "children", f"{m.group(1).lower()} {m.group(2).lower()}")


@rules.search(
    "people.children/one",
    r"\b(?:i have|i've got|we have) (?:a|one) (son|daughter|baby|kid)\b(?!,? (?:called|named))",
    examples=["We have a daughter."],
    counterexamples=["We have a daughter called Ava."],
    unless="people.children/number",
)
def _people_children_one(m: re.Match[str], r: Reading) -> None:
    r.add("people", "children", f"a {m.group(1).lower()}")


@rules.search(
    "people.children/mentioned",
    r"\b(?:my|our) (kids|children|sons|daughters|twins|little ones)\b",
    examples=["My kids love the beach."],
    counterexamples=["The kids next door are loud."],
    unless="people.children/one",
)
def _people_children_mentioned(m: re.Match[str], r: Reading) -> None:
    r.add("people", "children", m.group(1).lower())


@rules.search(
    "people.child/his-her-name",
    r"\b(?:our|my) (?:(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)[- ](?:year|month|week)[- ]old|newborn|baby"
    rf"|toddler|little one|eldest|youngest)\b[^.!?]*?\b(his|her) name is {NAME}",
    examples=["Our one-year-old is so cute, his name is Kyle!"],
    counterexamples=["Their one-year-old is so cute, his name is Kyle!"],
)
def _people_child_his_her_name(m: re.Match[str], r: Reading) -> None:
    # "Our one-year-old is so cute, his name is Kyle!"
    if m.group(2)[0].isupper() and m.group(2) not in NOT_NAMES:
        r.add("people", "son" if m.group(1).lower() == "his" else "daughter", m.group(2))


@rules.search(
    "people.child/listed",
    (
        r"\b(?:i|we) (?:have|'ve got|have got) (?:two|three|four|twin|\d) (?:\w+ )?(boys|girls|sons|daughters|kids|children)(?:,| called| named) "
        r"((?-i:[A-Z][\w'-]+)(?:(?:,| and)+ (?-i:[A-Z][\w'-]+))+)"
    ),
    examples=["I have twin boys, Kofi and Kwame."],
    counterexamples=["She has twin boys, Kofi and Kwame."],
)
def _people_child_listed(m: re.Match[str], r: Reading) -> None:
    # "I have twin boys, Kofi and Kwame."
    kind = {"boys": "son", "sons": "son", "girls": "daughter", "daughters": "daughter"}.get(m.group(1).lower(), "child")
    for name in listed_names(m.group(2)):
        r.add("people", kind, name)


@rules.search(
    "people.relation/lives-in",
    rf"\bmy ({RELATIONS}|parents|grandparents|in-laws) (?:both |still |now )?(?:lives?|is living|are living) in\s+(?:the )?{PLACE}",
    examples=["My mum lives in Leicester"],
    counterexamples=["Her mum lives in Leicester"],
)
def _people_relation_lives_in(m: re.Match[str], r: Reading) -> None:
    # "My mum lives in Leicester": where they live, kept with them, never as the user's own city.
    if not is_when(m.group(2)):
        r.add("people", relation(m.group(1)), f"lives in {m.group(2)}")


@rules.match(
    "people.relation/without-my",
    rf"({RELATIONS}) {NAME}(?=[.,!;:]|$| (?!(?:is|was|are|were|has|had)\b)[a-z])",
    examples=["Wife Iryna, two sons.", "Son Taras study in Kraków."],
    counterexamples=["Mum Dad and I"],
    terse=True,
    flags=0,
)
def _people_relation_without_my(m: re.Match[str], r: Reading) -> None:
    # "Wife Iryna, two sons.", "Son Taras study in Kraków.": a relation with its "my" left out (not a title,
    # "Sister Act was on", nor a list of relations, "Mum Dad and I")
    if may_be_name(m.group(2)) and not re.fullmatch(RELATIONS, m.group(2).split()[0], re.I):
        r.add("people", relation(m.group(1)), m.group(2))


@rules.search(
    "people.partner/and-i-together",
    rf"\b{NAME} and i (?:are|'re) (?:now |finally |officially )*(?:official|together|dating|a couple|an item|engaged)(?: now)?\b",
    examples=["me and Jake are official now"],
    counterexamples=["Ana and Jake are official now"],
)
def _people_partner_and_i_together(m: re.Match[str], r: Reading) -> None:
    if m.group(1)[0].isupper() and m.group(1) not in NOT_NAMES:
        r.add("people", "partner", m.group(1))  # "me and Jake are official now" (read as "Jake and I")


@rules.match(
    "people.partner/anniversary",
    rf"{NAME} (?i:and i (?:celebrated|had|marked)|(?:surprised|spoiled|spoilt|took|treated) me)\b[^.!?]*\b(?i:our (?:\w+ )?(?:wedding )?anniversary)\b",
    examples=["Chidi surprised me with tickets … for our anniversary!"],
    counterexamples=["Summer surprised me with a cake for our anniversary."],
    flags=0,
)
def _people_partner_anniversary(m: re.Match[str], r: Reading) -> None:
    # "Chidi surprised me with tickets … for our anniversary!": who shares the anniversary is the partner
    if may_be_name(m.group(1)) and " " not in m.group(1) and not is_common(m.group(1).lower()):
        r.add("people", "partner", m.group(1))

RULES = rules.rules
